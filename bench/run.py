"""Side-by-side benchmark: this component against Model Card Toolkit 2.0 (`make bench`).

For each feature count it makes (or reuses) the inputs, then measures each tool in its
own subprocess so the two never share a heap: imports first, one warm-up build on the
smallest inputs, then timed builds (median reported). Memory is the process's peak RSS
(`VmHWM`, imports included) and its growth over the RSS after imports and warm-up.
Prints a table, writes `build/bench/results.json` and, with `--update-results-md`, the
generated part of `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import pathlib
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from bench import builders, inputs

DEFAULT_FEATURES = (10, 200, 2000)
# Timed builds per tool and feature count; MCT takes minutes at 2,000 features.
DEFAULT_RUNS = {"ours": {10: 7, 200: 5, 2000: 3}, "mct": {10: 5, 200: 3, 2000: 1}}
OUTPUT_DIR = pathlib.Path("build/bench")
RESULTS_MD = pathlib.Path(__file__).with_name("RESULTS.md")
RESULT_PREFIX = "BENCH-RESULT "
PACKAGES = (
    "tfx",
    "tensorflow",
    "tensorflow-model-analysis",
    "tensorflow-data-validation",
    "ml-metadata",
    "apache-beam",
    "model-card-toolkit",
    "matplotlib",
    "jinja2",
    "jsonschema",
)
MIB = 1024 * 1024
GIB = 1024 * MIB

# The targets; see `check_targets`.
SPEEDUP_TARGET = 30.0
HTML_RATIO_TARGET = 0.1
LARGE_TIME_TARGET_S = 10.0
LARGE_MEMORY_TARGET_BYTES = GIB


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One tool on one input size."""

    tool: str
    n_features: int
    times_s: tuple[float, ...]
    import_s: float
    rss_after_imports_bytes: int
    peak_rss_bytes: int
    html_bytes: int
    charts: int
    output_dir: str

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def build_rss_bytes(self) -> int:
        """Peak RSS growth during the timed builds."""
        return max(0, self.peak_rss_bytes - self.rss_after_imports_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "median_s": self.median_s,
            "build_rss_bytes": self.build_rss_bytes,
        }


def _peak_rss_bytes() -> int:
    """This process's peak RSS since it started (`VmHWM`).

    Not `ru_maxrss`: Linux carries it over `execve`, so a worker started by a parent
    that had just made the inputs (TFDV, about 3 GiB) reported the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux


def measure(
    tool: str,
    bench_inputs: inputs.BenchInputs,
    runs: int,
    warmup_inputs: inputs.BenchInputs | None,
    output_dir: str,
) -> Measurement:
    """Times `runs` builds of one tool in this process (imports and warm-up not timed).

    Args:
        tool: a key of `builders.BUILDERS`.
        bench_inputs: the inputs measured.
        runs: timed builds; each writes into a freshly emptied `output_dir`.
        warmup_inputs: inputs of one untimed build first (first-use costs: template
            compilation, font caches); None skips it.
        output_dir: where the card is written; the last run's card stays there.
    """
    start = time.perf_counter()
    builders.preload(tool)
    import_s = time.perf_counter() - start
    build = builders.BUILDERS[tool]
    if warmup_inputs is not None:
        warmup_dir = f"{output_dir}.warmup"
        build(warmup_inputs, warmup_dir)
        shutil.rmtree(warmup_dir, ignore_errors=True)
    gc.collect()
    rss_after_imports = _peak_rss_bytes()
    times = []
    html = ""
    for _ in range(runs):
        shutil.rmtree(output_dir, ignore_errors=True)
        gc.collect()
        start = time.perf_counter()
        html = build(bench_inputs, output_dir)
        times.append(time.perf_counter() - start)
    return Measurement(
        tool=tool,
        n_features=bench_inputs.n_features,
        times_s=tuple(times),
        import_s=import_s,
        rss_after_imports_bytes=rss_after_imports,
        peak_rss_bytes=_peak_rss_bytes(),
        html_bytes=len(html.encode("utf-8")),
        charts=builders.count_charts(html),
        output_dir=output_dir,
    )


def _inputs_to_json(bench_inputs: inputs.BenchInputs | None) -> Any:
    return dataclasses.asdict(bench_inputs) if bench_inputs else None


def _inputs_from_json(data: Any) -> inputs.BenchInputs | None:
    return inputs.BenchInputs(**data) if data else None


def measure_in_subprocess(
    tool: str,
    bench_inputs: inputs.BenchInputs,
    runs: int,
    warmup_inputs: inputs.BenchInputs | None,
    output_dir: str,
) -> Measurement:
    """`measure` in a fresh interpreter, so peak memory is this tool's alone."""
    job = {
        "tool": tool,
        "inputs": _inputs_to_json(bench_inputs),
        "runs": runs,
        "warmup": _inputs_to_json(warmup_inputs),
        "output_dir": output_dir,
    }
    # Quiet workers: TF's and Google client libraries' start-up warnings drown the progress.
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--worker", json.dumps(job)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"{tool} at {bench_inputs.n_features} features failed (exit {completed.returncode}); "
            "its stderr is above"
        )
    data = json.loads(lines[-1][len(RESULT_PREFIX) :])
    data["times_s"] = tuple(data["times_s"])
    return Measurement(**data)


def _worker(job_json: str) -> None:
    job = json.loads(job_json)
    result = measure(
        job["tool"],
        _inputs_from_json(job["inputs"]),
        job["runs"],
        _inputs_from_json(job["warmup"]),
        job["output_dir"],
    )
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    print(RESULT_PREFIX + json.dumps(fields), flush=True)


def compare(measurements: Sequence[Measurement]) -> list[dict[str, Any]]:
    """Per feature count: MCT's time over ours, our HTML size over MCT's, chart counts."""
    by_key = {(m.tool, m.n_features): m for m in measurements}
    rows = []
    for n in sorted({m.n_features for m in measurements}):
        ours, mct = by_key.get(("ours", n)), by_key.get(("mct", n))
        if ours is None or mct is None:
            continue
        rows.append(
            {
                "n_features": n,
                "speedup": mct.median_s / ours.median_s,
                "html_ratio": ours.html_bytes / mct.html_bytes,
                "peak_rss_ratio": ours.peak_rss_bytes / mct.peak_rss_bytes,
                "charts_ours": ours.charts,
                "charts_mct": mct.charts,
            }
        )
    return rows


def check_targets(
    measurements: Sequence[Measurement], comparisons: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured and whether it is met."""
    targets = []
    for row in comparisons:
        if row["n_features"] != 200:
            continue
        targets.append(
            {
                "target": f"200 features: >= {SPEEDUP_TARGET:g}x faster than MCT 2.0",
                "measured": f"{row['speedup']:.1f}x",
                "met": row["speedup"] >= SPEEDUP_TARGET,
            }
        )
        targets.append(
            {
                "target": f"200 features: HTML <= {HTML_RATIO_TARGET:g} of MCT's size",
                "measured": f"{row['html_ratio']:.3f}",
                "met": row["html_ratio"] <= HTML_RATIO_TARGET,
            }
        )
    for m in measurements:
        if m.tool != "ours" or m.n_features != 2000:
            continue
        targets.append(
            {
                "target": f"2,000 features: under {LARGE_TIME_TARGET_S:g} s",
                "measured": f"{m.median_s:.2f} s",
                "met": m.median_s < LARGE_TIME_TARGET_S,
            }
        )
        targets.append(
            {
                "target": "2,000 features: under 1 GiB peak memory (process peak RSS, imports included)",
                "measured": f"{m.peak_rss_bytes / MIB:.0f} MiB (build itself: +{m.build_rss_bytes / MIB:.0f} MiB)",
                "met": m.peak_rss_bytes < LARGE_MEMORY_TARGET_BYTES,
            }
        )
    return targets


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, Python and the versions of the packages involved."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in pathlib.Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration):
        mem_kib = 0
    versions = {}
    for name in (*PACKAGES, "mct-component"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / MIB, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (uncommitted changes)' if dirty else ''}"


def _mib(n: int) -> str:
    return f"{n / MIB:,.0f}"


def markdown_tables(
    measurements: Sequence[Measurement],
    comparisons: Sequence[Mapping[str, Any]],
    targets: Sequence[Mapping[str, Any]],
) -> str:
    """The results as Markdown tables."""
    lines = [
        "| Features | Tool | Runs | Median build (s) | Min (s) | Peak RSS (MiB) | Build RSS growth (MiB) | HTML (KiB) | Charts |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in sorted(measurements, key=lambda m: (m.n_features, m.tool != "ours")):
        lines.append(
            f"| {m.n_features:,} | {'this component' if m.tool == 'ours' else 'MCT 2.0.0'} "
            f"| {len(m.times_s)} | {m.median_s:.3f} | {min(m.times_s):.3f} "
            f"| {_mib(m.peak_rss_bytes)} | {_mib(m.build_rss_bytes)} "
            f"| {m.html_bytes / 1024:,.0f} | {m.charts:,} |"
        )
    lines += [
        "",
        "| Features | Speed-up (MCT time / ours) | HTML size (ours / MCT) | Peak RSS (ours / MCT) | Charts (ours / MCT) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in comparisons:
        lines.append(
            f"| {row['n_features']:,} | {row['speedup']:.1f}x | {row['html_ratio']:.3f} "
            f"| {row['peak_rss_ratio']:.2f} | {row['charts_ours']:,} / {row['charts_mct']:,} |"
        )
    if targets:
        lines += ["", "| Target | Measured | Met |", "|---|---|---|"]
        for t in targets:
            lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def machine_markdown(machine: Mapping[str, Any]) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM; "
        f"{machine['os']}; Python {machine['python']}; commit {machine['commit']}.\n\n"
        f"Packages: {packages}.\n"
    )


def replace_marked_section(path: pathlib.Path, name: str, body: str) -> None:
    """Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in a file."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{body}{end}{tail}", encoding="utf-8")


def run(
    features: Sequence[int],
    runs: Mapping[str, Mapping[int, int]],
    inputs_root: pathlib.Path,
    output_dir: pathlib.Path,
    tools: Sequence[str] = ("ours", "mct"),
) -> list[Measurement]:
    """Measures every tool at every feature count, each in its own subprocess."""
    all_inputs = {n: inputs.ensure_inputs(n, inputs_root) for n in features}
    warmup = all_inputs[min(features)]
    measurements = []
    for n in features:
        for tool in tools:
            count = runs[tool].get(n, 1)
            print(f"{tool}: {n} features, {count} timed build(s)...", file=sys.stderr, flush=True)
            measurement = measure_in_subprocess(
                tool, all_inputs[n], count, warmup, str(output_dir / "cards" / f"{tool}-{n}")
            )
            print(
                f"  median {measurement.median_s:.3f} s, peak RSS {_mib(measurement.peak_rss_bytes)} MiB",
                file=sys.stderr,
                flush=True,
            )
            measurements.append(measurement)
    return measurements


def report(
    measurements: Sequence[Measurement], inputs_root: pathlib.Path, machine: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON document written to `results.json`; `machine` as `machine_info()` returns."""
    comparisons = compare(measurements)
    manifests = {}
    for n in sorted({m.n_features for m in measurements}):
        marker = inputs_root / f"features-{n}" / "manifest.json"
        manifests[str(n)] = json.loads(marker.read_text()) if marker.exists() else None
    return {
        "machine": dict(machine),
        "inputs": manifests,
        "measurements": [m.to_dict() for m in measurements],
        "comparisons": comparisons,
        "targets": check_targets(measurements, comparisons),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--features", type=int, nargs="+", default=list(DEFAULT_FEATURES))
    parser.add_argument(
        "--runs", type=int, help="timed builds per tool and size (default: per-size table)"
    )
    parser.add_argument("--tools", nargs="+", default=["ours", "mct"], choices=builders.BUILDERS)
    parser.add_argument("--inputs-root", type=pathlib.Path, default=inputs.DEFAULT_ROOT)
    parser.add_argument("--output-dir", type=pathlib.Path, default=OUTPUT_DIR)
    parser.add_argument(
        "--update-results-md", action="store_true", help=f"rewrite the tables in {RESULTS_MD}"
    )
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return
    runs = (
        {tool: dict.fromkeys(args.features, args.runs) for tool in builders.BUILDERS}
        if args.runs
        else DEFAULT_RUNS
    )
    # Taken before measuring: the commit is that of the code measured.
    machine = machine_info()
    measurements = run(args.features, runs, args.inputs_root, args.output_dir, args.tools)
    results = report(measurements, args.inputs_root, machine)
    tables = markdown_tables(measurements, results["comparisons"], results["targets"])
    print(tables)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    results_path = args.output_dir / "results.json"
    results_path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"Wrote {results_path}")
    if args.update_results_md:
        replace_marked_section(
            RESULTS_MD, "results", machine_markdown(results["machine"]) + "\n" + tables
        )
        print(f"Updated {RESULTS_MD}")


if __name__ == "__main__":
    main()
