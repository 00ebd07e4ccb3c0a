"""Side-by-side benchmark: this component against Model Card Toolkit 2.0 (`make bench`).

Three steps (`--steps`, all by default):

- build: for each feature count it makes (or reuses) the inputs, then measures the
  tools in interleaved rounds (ours, MCT, ours, MCT), each in its own subprocess so the
  two never share a heap: imports first, one warm-up build on the smallest inputs, then
  timed builds (median reported), with the machine's load average when each started
  and ended. Memory is the process's peak RSS (`VmHWM`, imports included) and its
  growth over the RSS after imports and warm-up. Then our card is built from files in
  fresh processes (`fresh`: from the first statement to the written card, imports
  included, checking that TensorFlow, TFMA and Beam stay out), in the pipeline's
  executor (`Executor().Do`, TFX loaded as in a pipeline), and at `LARGE_FEATURES`
  features (ours only).
- browser: opens each tool's HTML card (as the build step left it in
  `build/bench/cards/`) in one headless Chromium (`tests/browser.py`), in turns, and
  reports the page's weight, its elements and the time from navigation to the load
  event (and one frame), the browser being started already.
- pdf: times our PDF (`render_card(..., ["pdf"])`) of the demo card and of the
  benchmark cards up to 200 features.
- profile: where a 2,000-feature build from files goes (`profile_breakdown`), under
  cProfile in a fresh process.

Prints tables, writes `build/bench/results.json` (or `browser.json`, `pdf.json`,
`profile.json` for those steps) and, with `--update-results-md`, the generated sections of
`bench/RESULTS.md` of the steps that ran.
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
from typing import Any, TypeVar

from bench import builders, inputs, profile_build

STEPS = ("build", "browser", "pdf", "profile")
DEFAULT_FEATURES = (10, 200, 2000)
# Ours only (MCT would take hours): built in fresh processes, and opened in the browser.
LARGE_FEATURES = 20_000
# Page loads per tool and size in the browser step (median reported), after one warm-up.
BROWSER_ROUNDS = 5
# MCT's 2,000-feature page is 240 MB of HTML: give a load this long before giving up.
PAGE_TIMEOUT_S = 600.0
# The profile step profiles the build at this many features.
PROFILE_FEATURES = 2000
# The PDF step: benchmark cards up to this many features, timed this many times each.
PDF_MAX_FEATURES = 200
PDF_RUNS = 3
# Where `make demo` leaves its cards; the PDF step times the newest.
DEMO_CARDS = pathlib.Path("build/demo/pipeline_root/ModelCardGenerator/model_card")
# Timed builds per tool, feature count and round; MCT takes 13 minutes a build at 2,000
# features, so its subprocess builds once there (one warm-up build on 10 features first).
DEFAULT_RUNS = {"ours": {10: 5, 200: 3, 2000: 3}, "mct": {10: 2, 200: 1, 2000: 1}}
# Interleaved rounds (ours, then MCT) per feature count: a change in load hits both.
DEFAULT_ROUNDS = {10: 1, 200: 2, 2000: 1}
# Fresh processes building our card from files, per feature count.
FRESH_RUNS = {10: 5, 200: 5, 2000: 5, LARGE_FEATURES: 2}
# The free-text variant of the 2,000-feature inputs: every TEXT_EVERY-th feature,
# built by this checkout and, in turns, by the code of BASELINE_COMMIT (the last commit
# before issue 20 made free text a kind of its own; "today" in that issue).
TEXT_EVERY = 10
TEXT_RUNS = 4
BASELINE_COMMIT = "ea43aba0ff0006da22e65e1531e6cebceab2231e"
# TensorFlow and what imports it: a build from local files must load none of them.
HEAVY_MODULES = ("tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx_bsl")
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

# The issues' targets (12 and 21); see `check_targets`.
SPEEDUP_TARGET = 100.0
SPEEDUP_FEATURES = (200, 2000)
HTML_RATIO_TARGET = 0.1
FRESH_TIME_TARGET_S = 2.0  # 2,000 features, from files, beyond interpreter start
FRESH_MEMORY_TARGET_BYTES = 500 * MIB
EXECUTOR_TIME_TARGET_S = 2.0
LARGE_TIME_TARGET_S = 20.0  # LARGE_FEATURES
LARGE_MEMORY_TARGET_BYTES = 2 * GIB
PAGE_LOAD_TARGET_S = 1.0
LARGE_PAGE_LOAD_TARGET_S = 2.0
PAGE_WEIGHT_TARGET_BYTES = 4_000_000


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
    round: int = 1
    # The 1-minute load average when the subprocess started and when it ended.
    load_average: tuple[float, float] = (0.0, 0.0)

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
    load_before = os.getloadavg()[0]
    job = {
        "tool": tool,
        "inputs": _inputs_to_json(bench_inputs),
        "runs": runs,
        "warmup": _inputs_to_json(warmup_inputs),
        "output_dir": output_dir,
    }
    data = run_worker(
        ["-m", "bench.run", "--worker", json.dumps(job)],
        f"{tool} at {bench_inputs.n_features} features",
    )
    data["times_s"] = tuple(data["times_s"])
    data["load_average"] = (load_before, os.getloadavg()[0])
    return Measurement(**data)


def run_worker(arguments: Sequence[str], what: str) -> dict[str, Any]:
    """Runs `python <arguments>` and returns what it printed after `RESULT_PREFIX`.

    Raises:
        RuntimeError: it failed (its stderr went to ours), naming `what`.
    """
    completed = subprocess.run(
        [sys.executable, *arguments],
        stdout=subprocess.PIPE,
        text=True,
        env=worker_environment(),
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed (exit {completed.returncode}); its stderr is above")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def worker_environment() -> dict[str, str]:
    """The environment of the measured subprocesses.

    Quiet: TF's and Google client libraries' start-up warnings drown the progress. With
    bytecode caches written, as an installed package has them (pip and uv install them
    compiled); a shell that sets PYTHONDONTWRITEBYTECODE would make every fresh process
    compile its imports from source.
    """
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


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


_M = TypeVar("_M")  # a Measurement or a PageMeasurement


def _ours_and_mct(measured: Sequence[_M]) -> list[tuple[int, _M, _M]]:
    """(feature count, ours, MCT's) for every feature count both tools were measured at."""
    by_key = {(m.tool, m.n_features): m for m in measured}
    return [
        (n, by_key[("ours", n)], by_key[("mct", n)])
        for n in sorted({m.n_features for m in measured})
        if ("ours", n) in by_key and ("mct", n) in by_key
    ]


def _rounds(
    measured: Sequence[Measurement],
) -> list[tuple[int, list[Measurement], list[Measurement]]]:
    """(feature count, our measurements, MCT's), each in round order, where both ran."""
    found = []
    for n in sorted({m.n_features for m in measured}):
        ours = sorted((m for m in measured if m.n_features == n and m.tool == "ours"), key=_round)
        mct = sorted((m for m in measured if m.n_features == n and m.tool == "mct"), key=_round)
        if ours and mct:
            found.append((n, ours, mct))
    return found


def _round(measurement: Measurement) -> int:
    return measurement.round


def _times(measured: Sequence[Measurement]) -> list[float]:
    return [t for m in measured for t in m.times_s]


def compare(measurements: Sequence[Measurement]) -> list[dict[str, Any]]:
    """Per feature count: MCT's time over ours (medians of every round's builds, and
    round by round, with the load average of each), our HTML size over MCT's, charts."""
    rows = []
    for n, ours, mct in _rounds(measurements):
        by_round = {m.round: m for m in mct}
        rows.append(
            {
                "n_features": n,
                "speedup": statistics.median(_times(mct)) / statistics.median(_times(ours)),
                "html_ratio": ours[-1].html_bytes / mct[-1].html_bytes,
                "peak_rss_ratio": max(m.peak_rss_bytes for m in ours)
                / max(m.peak_rss_bytes for m in mct),
                "charts_ours": ours[-1].charts,
                "charts_mct": mct[-1].charts,
                "rounds": [
                    {
                        "round": o.round,
                        "ours_s": o.median_s,
                        "mct_s": by_round[o.round].median_s,
                        "speedup": by_round[o.round].median_s / o.median_s,
                        "load_ours": list(o.load_average),
                        "load_mct": list(by_round[o.round].load_average),
                    }
                    for o in ours
                    if o.round in by_round
                ],
            }
        )
    return rows


@dataclasses.dataclass(frozen=True)
class FreshMeasurement:
    """Our card built from files in fresh processes (`how`: "fresh", into a folder that
    does not exist yet; "replace", over the previous card; "executor", `Executor().Do`
    in a process where TFX is imported, as in a pipeline)."""

    how: str
    n_features: int
    times_s: tuple[float, ...]
    peak_rss_bytes: int
    heavy_modules: tuple[str, ...]  # of `HEAVY_MODULES`, those any of the processes loaded
    load_average: tuple[float, float]
    html_bytes: int = 0
    text_every: int = 0  # every k-th feature free text (`inputs.ensure_inputs`)
    commit: str = ""  # the code measured, when not this checkout's

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "median_s": self.median_s}


# A card from files, timed from the process's first statement (interpreter start aside).
_FRESH = """
import time
started = time.perf_counter()
import json, sys
job = json.loads(sys.argv[1])
import mct_component as mct
card = mct.card_from_files(job["model"], statistics=job["statistics"], evaluation=job["evaluation"])
mct.write_card(card, job["output_dir"])
seconds = time.perf_counter() - started
"""
# The generator's executor, as a pipeline runs it: TFX imported, then `Do` timed.
_EXECUTOR = """
import json, sys, time
job = json.loads(sys.argv[1])
from tfx.types import artifact_utils, standard_artifacts
from mct_component.generator import parameters
from mct_component.generator.artifact import ModelCard
from mct_component.generator.executor import Executor
model, statistics, evaluation = (
    standard_artifacts.Model(), standard_artifacts.ExampleStatistics(),
    standard_artifacts.ModelEvaluation(),
)
model.uri, statistics.uri, evaluation.uri = job["model"], job["statistics"], job["evaluation"]
statistics.split_names = artifact_utils.encode_split_names(job["splits"])
card = ModelCard()
card.uri = job["output_dir"]
started = time.perf_counter()
Executor().Do(
    {"model": [model], "statistics": [statistics], "evaluation": [evaluation]},
    {"model_card": [card]},
    parameters.encode(),
)
seconds = time.perf_counter() - started
"""
_REPORT = """
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print({prefix!r} + json.dumps({{"seconds": seconds, "peak": peak, "heavy": heavy}}))
"""


def measure_fresh(
    how: str,
    bench_inputs: inputs.BenchInputs,
    runs: int,
    output_dir: str,
    baseline: tuple[str, str] | None = None,
) -> FreshMeasurement:
    """`runs` processes each building our card once (`how`: "fresh", "replace" or
    "executor"; see `FreshMeasurement`).

    An untimed process runs first: it writes the bytecode caches an installed package
    has and reads the inputs into the page cache. For "fresh" and "executor", each timed
    build writes into a folder of its own that does not exist yet; the folders are
    deleted after the timed runs and the last card is left at `output_dir`. Deleting a
    card's 2,000 files just before writing as many made this machine's disk several
    times slower for the next write (0.1 s became 0.4–0.5 s), a cost of the disk's
    state rather than of the build: "replace" measures it apart, each timed build
    writing over the card the previous one left at `output_dir`. Before each timed
    process the disk is synced (untimed). `baseline` is (commit, folder) of another
    checkout whose code builds the card instead (`baseline_tree`).
    """
    script = (_EXECUTOR if how == "executor" else _FRESH) + _REPORT.format(
        heavy=HEAVY_MODULES, prefix=RESULT_PREFIX
    )
    if baseline:  # its package ahead of the working directory's and the installed one
        script = f"import sys; sys.path.insert(0, {baseline[1]!r})\n" + script
    splits = sorted(os.listdir(bench_inputs.statistics_uri), key=lambda s: (s != "Split-train", s))
    job = {
        "model": bench_inputs.model_uri,
        "statistics": bench_inputs.statistics_uri,
        "evaluation": bench_inputs.evaluation_uri,
        "splits": [name.removeprefix("Split-") for name in splits],
        "output_dir": output_dir,
    }
    runs_dir = pathlib.Path(f"{output_dir}.runs")
    shutil.rmtree(runs_dir, ignore_errors=True)
    if how != "replace":
        shutil.rmtree(output_dir, ignore_errors=True)
    load_before = os.getloadavg()[0]
    results = []
    for k in range(runs + 1):
        if how != "replace":
            job["output_dir"] = str(runs_dir / str(k))
        os.sync()
        what = f"the {how} build at {bench_inputs.n_features} features"
        results.append(run_worker(["-c", script, json.dumps(job)], what))
    load_after = os.getloadavg()[0]
    if how != "replace":
        shutil.rmtree(output_dir, ignore_errors=True)
        os.replace(job["output_dir"], output_dir)
        shutil.rmtree(runs_dir, ignore_errors=True)
    timed = results[1:]
    html = pathlib.Path(output_dir, "model_card.html")
    return FreshMeasurement(
        how=how,
        n_features=bench_inputs.n_features,
        times_s=tuple(r["seconds"] for r in timed),
        peak_rss_bytes=max(r["peak"] for r in timed),
        heavy_modules=tuple(sorted({m for r in timed for m in r["heavy"]})),
        load_average=(load_before, load_after),
        html_bytes=html.stat().st_size if html.exists() else 0,
        text_every=bench_inputs.text_every,
        commit=baseline[0] if baseline else "",
    )


def baseline_tree(commit: str, output_dir: pathlib.Path) -> str | None:
    """The package at `commit`, extracted once under `output_dir` (`git archive`), with
    its default templates where an installed package has them; None, said, when this
    checkout's history lacks the commit."""
    folder = output_dir / f"baseline-{commit[:12]}"
    marker = folder / ".complete"
    if marker.exists():
        return str(folder.resolve())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit, "mct_component", "templates"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        _progress(f"git cannot give commit {commit[:12]} (a shallow clone?): not compared")
        shutil.rmtree(folder, ignore_errors=True)
        return None
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    (folder / "mct_component" / "templates").symlink_to("../templates")
    marker.touch()
    return str(folder.resolve())


def _target(target: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met}


def _load(load: Sequence[float]) -> str:
    return f"load {load[0]:.1f}→{load[1]:.1f}"


def check_targets(
    measurements: Sequence[Measurement],
    comparisons: Sequence[Mapping[str, Any]],
    fresh: Sequence[FreshMeasurement] = (),
) -> list[dict[str, Any]]:
    """The issues' targets, each with what was measured and whether it is met."""
    targets = []
    for row in comparisons:
        n = row["n_features"]
        if n in SPEEDUP_FEATURES:
            rounds = "; ".join(
                f"round {r['round']}: {r['speedup']:.0f}x (ours {_load(r['load_ours'])}, "
                f"MCT {_load(r['load_mct'])})"
                for r in row["rounds"]
            )
            targets.append(
                _target(
                    f"{n:,} features: >= {SPEEDUP_TARGET:g}x faster than MCT 2.0, same run, interleaved",
                    f"{row['speedup']:.0f}x ({rounds})",
                    row["speedup"] >= SPEEDUP_TARGET,
                )
            )
        if n == 200:
            targets.append(
                _target(
                    f"200 features: HTML <= {HTML_RATIO_TARGET:g} of MCT's size",
                    f"{row['html_ratio']:.3f}",
                    row["html_ratio"] <= HTML_RATIO_TARGET,
                )
            )
    before = {f.n_features: f for f in fresh if f.text_every and f.commit}
    for f in fresh:
        heavy = ", ".join(f.heavy_modules) or "none"
        measured = f"{f.median_s:.2f} s, {_mib(f.peak_rss_bytes)} MiB ({_load(f.load_average)})"
        if f.text_every and not f.commit and f.n_features in before:
            old = before[f.n_features]
            targets.append(
                _target(
                    f"{f.n_features:,} features, 1 in {f.text_every} free text: no slower than "
                    f"the code before issue 20 ({old.commit[:7]}; fresh process, same run, "
                    "in turns)",
                    f"{f.median_s:.2f} s against {old.median_s:.2f} s "
                    f"({f.median_s / old.median_s:.2f}x)",
                    f.median_s <= old.median_s,
                )
            )
        if f.text_every:
            continue
        if f.how == "fresh" and f.n_features == 2000:
            targets.append(
                _target(
                    f"2,000 features from files, fresh process: under {FRESH_TIME_TARGET_S:g} s "
                    f"beyond interpreter start and {_mib(FRESH_MEMORY_TARGET_BYTES)} MiB, "
                    "without TensorFlow, TFMA or Beam",
                    f"{measured}; loaded: {heavy}",
                    f.median_s < FRESH_TIME_TARGET_S
                    and f.peak_rss_bytes < FRESH_MEMORY_TARGET_BYTES
                    and not f.heavy_modules,
                )
            )
        if f.how == "executor" and f.n_features == 2000:
            targets.append(
                _target(
                    f"2,000 features in the pipeline's executor: under {EXECUTOR_TIME_TARGET_S:g} s",
                    f"{f.median_s:.2f} s ({_load(f.load_average)})",
                    f.median_s < EXECUTOR_TIME_TARGET_S,
                )
            )
        if f.how == "fresh" and f.n_features == LARGE_FEATURES:
            targets.append(
                _target(
                    f"{LARGE_FEATURES:,} features from files: under {LARGE_TIME_TARGET_S:g} s "
                    f"and {LARGE_MEMORY_TARGET_BYTES / GIB:g} GiB",
                    measured,
                    f.median_s < LARGE_TIME_TARGET_S
                    and f.peak_rss_bytes < LARGE_MEMORY_TARGET_BYTES,
                )
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


_FRESH_ROWS = {
    "fresh": "fresh process, beyond interpreter start",
    "replace": "fresh process, over the previous card",
    "executor": "`Executor().Do` (TFX imported)",
}


def markdown_tables(
    measurements: Sequence[Measurement],
    comparisons: Sequence[Mapping[str, Any]],
    targets: Sequence[Mapping[str, Any]],
    fresh: Sequence[FreshMeasurement] = (),
) -> str:
    """The results as Markdown tables."""
    lines = [
        "| Features | Tool | Round | Load average (start→end) | Runs | Median build (s) | Min (s) | Peak RSS (MiB) | Build RSS growth (MiB) | HTML (KiB) | Charts |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in sorted(measurements, key=lambda m: (m.n_features, m.round, m.tool != "ours")):
        lines.append(
            f"| {m.n_features:,} | {_tool_name(m.tool)} | {m.round} "
            f"| {m.load_average[0]:.1f}→{m.load_average[1]:.1f} "
            f"| {len(m.times_s)} | {m.median_s:.3f} | {min(m.times_s):.3f} "
            f"| {_mib(m.peak_rss_bytes)} | {_mib(m.build_rss_bytes)} "
            f"| {m.html_bytes / 1024:,.0f} | {m.charts:,} |"
        )
    lines += [
        "",
        "| Features | Speed-up (MCT time / ours, all rounds) | By round (load average, ours / MCT) | HTML size (ours / MCT) | Peak RSS (ours / MCT) | Charts (ours / MCT) |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for row in comparisons:
        rounds = "; ".join(
            f"{r['speedup']:.1f}x ({r['load_ours'][0]:.1f} / {r['load_mct'][0]:.1f})"
            for r in row["rounds"]
        )
        lines.append(
            f"| {row['n_features']:,} | {row['speedup']:.1f}x | {rounds} | {row['html_ratio']:.3f} "
            f"| {row['peak_rss_ratio']:.2f} | {row['charts_ours']:,} / {row['charts_mct']:,} |"
        )
    if fresh:
        lines += [
            "",
            "| Features | Our card from files | Processes | Median (s) | Min–max (s) | Peak RSS (MiB) | TensorFlow, TFMA, Beam loaded | Load average (start→end) |",
            "|---:|---|---:|---:|---:|---:|---|---|",
        ]
        for f in fresh:
            how = _FRESH_ROWS[f.how] + (
                f", 1 in {f.text_every} features free text" if f.text_every else ""
            )
            if f.commit:
                how += f", the code of {f.commit[:7]} (before issue 20)"
            lines.append(
                f"| {f.n_features:,} | {how} | {len(f.times_s)} | {f.median_s:.2f} "
                f"| {min(f.times_s):.2f}–{max(f.times_s):.2f} | {_mib(f.peak_rss_bytes)} "
                f"| {', '.join(f.heavy_modules) or 'none'} "
                f"| {f.load_average[0]:.1f}→{f.load_average[1]:.1f} |"
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


@dataclasses.dataclass(frozen=True)
class PageMeasurement:
    """One tool's HTML card opened in the browser."""

    tool: str
    n_features: int
    html_bytes: int
    elements: int
    load_times_s: tuple[float, ...]  # the page's own clock: navigation start to load end
    frame_times_s: tuple[float, ...]  # wall clock: navigation command to the next frame
    console_errors: int
    requests: int

    @property
    def median_s(self) -> float:
        return statistics.median(self.load_times_s)

    @property
    def median_frame_s(self) -> float:
        return statistics.median(self.frame_times_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "median_s": self.median_s,
            "median_frame_s": self.median_frame_s,
        }


def card_pages(
    features: Sequence[int], tools: Sequence[str], output_dir: pathlib.Path
) -> dict[tuple[str, int], pathlib.Path]:
    """The HTML card of each tool and size that the build step wrote.

    Raises:
        FileNotFoundError: a card is missing (run the build step first).
    """
    pages = {}
    for n in features:
        for tool in tools:
            path = output_dir / "cards" / f"{tool}-{n}" / builders.HTML_FILES[tool]
            if not path.is_file():
                raise FileNotFoundError(f"no {tool} card at {path}: run the build step first")
            pages[(tool, n)] = path
    return pages


def measure_pages(
    pages: Mapping[tuple[str, int], pathlib.Path], rounds: int = BROWSER_ROUNDS
) -> list[PageMeasurement]:
    """Opens every page once (warm-up), then `rounds` times in turns, in one Chromium.

    Each load starts from `about:blank`, the browser being started already. Its time is
    the page's own Navigation Timing, from navigation start to the end of the load
    event; the wall clock from the navigation command to the next frame is kept too.
    """
    from tests.browser import Browser

    times: dict[tuple[str, int], list[float]] = {key: [] for key in pages}
    frames: dict[tuple[str, int], list[float]] = {key: [] for key in pages}
    seen: dict[tuple[str, int], tuple[int, int, int]] = {}
    # Requests are counted from the page's own Resource Timing, not watched through the
    # driver: MCT's page embeds its charts as 24 MB of data: URLs at 200 features, and
    # sending each to the test process once made a 2.7 s load take 53 s of wall clock.
    with Browser(watch_requests=False) as browser:
        for round_number in range(rounds + 1):
            for key, path in pages.items():
                browser.open("about:blank")
                load = browser.open(path.resolve().as_uri(), timeout=PAGE_TIMEOUT_S)
                if round_number:
                    times[key].append(browser.evaluate(_LOAD_END_S))
                    frames[key].append(load.load_seconds)
                else:
                    elements = browser.evaluate("document.getElementsByTagName('*').length")
                    requests = browser.evaluate(_REQUESTS)
                    seen[key] = (elements, len(load.console_errors), requests)
    return [
        PageMeasurement(
            tool=tool,
            n_features=n,
            html_bytes=path.stat().st_size,
            elements=seen[(tool, n)][0],
            load_times_s=tuple(times[(tool, n)]),
            frame_times_s=tuple(frames[(tool, n)]),
            console_errors=seen[(tool, n)][1],
            requests=seen[(tool, n)][2],
        )
        for (tool, n), path in pages.items()
    ]


_LOAD_END_S = "performance.getEntriesByType('navigation')[0].loadEventEnd / 1000"
# What the page fetched beyond itself (data: URLs are part of the page).
_REQUESTS = (
    "performance.getEntriesByType('resource').filter(e => !e.name.startsWith('data:')).length"
)


def compare_pages(pages: Sequence[PageMeasurement]) -> list[dict[str, Any]]:
    """Per feature count: our page's weight and load time over MCT's."""
    return [
        {
            "n_features": n,
            "weight_ratio": ours.html_bytes / mct.html_bytes,
            "load_ratio": ours.median_s / mct.median_s,
            "elements_ratio": ours.elements / mct.elements,
        }
        for n, ours, mct in _ours_and_mct(pages)
    ]


def check_page_targets(pages: Sequence[PageMeasurement]) -> list[dict[str, Any]]:
    """The issues' targets for our page at 2,000 and at `LARGE_FEATURES` features."""
    targets = []
    for page in pages:
        if page.tool == "ours" and page.n_features == LARGE_FEATURES:
            targets.append(
                _target(
                    f"{LARGE_FEATURES:,} features: the page loads in under "
                    f"{LARGE_PAGE_LOAD_TARGET_S:g} s (beyond browser start)",
                    f"{page.median_s:.2f} s ({page.html_bytes / 1e6:.1f} MB, {page.elements:,} elements)",
                    page.median_s < LARGE_PAGE_LOAD_TARGET_S,
                )
            )
        if page.tool != "ours" or page.n_features != 2000:
            continue
        targets.append(
            {
                "target": f"2,000 features: the page loads in under {PAGE_LOAD_TARGET_S:g} s "
                "(beyond browser start)",
                "measured": f"{page.median_s:.2f} s",
                "met": page.median_s < PAGE_LOAD_TARGET_S,
            }
        )
        targets.append(
            {
                "target": f"2,000 features: the page weighs under {PAGE_WEIGHT_TARGET_BYTES / 1e6:g} MB",
                "measured": f"{page.html_bytes / 1e6:.1f} MB",
                "met": page.html_bytes < PAGE_WEIGHT_TARGET_BYTES,
            }
        )
    return targets


def page_tables(pages: Sequence[PageMeasurement]) -> str:
    """The browser step's results as Markdown tables."""
    lines = [
        f"| Features | Tool | HTML (MB) | Elements | Load event, median of {BROWSER_ROUNDS} (s) "
        "| Min–max (s) | Next frame, wall clock (s) | Console errors | Requests |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in sorted(pages, key=lambda p: (p.n_features, p.tool != "ours")):
        lines.append(
            f"| {p.n_features:,} | {_tool_name(p.tool)} | {p.html_bytes / 1e6:,.2f} "
            f"| {p.elements:,} | {p.median_s:.3f} "
            f"| {min(p.load_times_s):.3f}–{max(p.load_times_s):.3f} "
            f"| {p.median_frame_s:.3f} | {p.console_errors} | {p.requests} |"
        )
    lines += [
        "",
        "| Features | Page weight (ours / MCT) | Load time (ours / MCT) | Elements (ours / MCT) |",
        "|---:|---:|---:|---:|",
    ]
    for row in compare_pages(pages):
        lines.append(
            f"| {row['n_features']:,} | {row['weight_ratio']:.2f} | {row['load_ratio']:.2f} "
            f"| {row['elements_ratio']:.2f} |"
        )
    targets = check_page_targets(pages)
    if targets:
        lines += ["", "| Target | Measured | Met |", "|---|---|---|"]
        for t in targets:
            lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class PdfMeasurement:
    """Our PDF of one card."""

    card: str
    n_features: int
    times_s: tuple[float, ...]
    pdf_bytes: int
    pages: int

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "median_s": self.median_s}


def pdf_cards(
    features: Sequence[int], output_dir: pathlib.Path, demo_cards: pathlib.Path = DEMO_CARDS
) -> dict[str, pathlib.Path]:
    """The card directories the PDF step renders: the newest demo card, when there is
    one, and our benchmark cards of up to `PDF_MAX_FEATURES` features."""
    cards = {}
    # The generator names its folders by execution id, the registry its versions by
    # model and version: the newest card is the one written last.
    demos = sorted(demo_cards.glob("*/model_card.json"), key=lambda p: p.stat().st_mtime_ns)
    if demos:
        cards["demo"] = demos[-1].parent
    else:
        print(f"No demo card under {demo_cards} (run `make demo`): not timed", file=sys.stderr)
    for n in features:
        if n <= PDF_MAX_FEATURES:
            folder = output_dir / "cards" / f"ours-{n}"
            if not (folder / "model_card.json").is_file():
                raise FileNotFoundError(f"no card at {folder}: run the build step first")
            cards[f"benchmark, {n:,} features"] = folder
    return cards


def measure_pdfs(cards: Mapping[str, pathlib.Path], runs: int = PDF_RUNS) -> tuple[float, list]:
    """WeasyPrint's import time, and each card's PDF timed `runs` times after a warm-up.

    The time is `render_card(card, ["pdf"])`: the HTML page, then WeasyPrint's layout
    and PDF, from the card in memory (loaded and validated before timing).
    """
    import io

    import pypdf

    import mct_component as mct

    start = time.perf_counter()
    import weasyprint  # noqa: F401

    import_s = time.perf_counter() - start
    results = []
    for name, folder in cards.items():
        card = mct.Card.load(str(folder))
        mct.render_card(card, ["pdf"])  # warm-up: fonts, templates
        times, pdf = [], b""
        for _ in range(runs):
            start = time.perf_counter()
            pdf = mct.render_card(card, ["pdf"])[mct.constants.CARD_PDF_FILE]
            times.append(time.perf_counter() - start)
        assert isinstance(pdf, bytes)
        results.append(
            PdfMeasurement(
                card=name,
                n_features=len(card.datasets[0].features) if card.datasets else 0,
                times_s=tuple(times),
                pdf_bytes=len(pdf),
                pages=len(pypdf.PdfReader(io.BytesIO(pdf)).pages),
            )
        )
    return import_s, results


def pdf_table(import_s: float, measured: Sequence[PdfMeasurement]) -> str:
    """The PDF step's results as a Markdown table (this component only: MCT has no PDF)."""
    lines = [
        f"| Card | Features | Pages | PDF (KiB) | Median of {PDF_RUNS} (s) | Min (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in measured:
        lines.append(
            f"| {m.card} | {m.n_features:,} | {m.pages:,} | {m.pdf_bytes / 1024:,.0f} "
            f"| {m.median_s:.2f} | {min(m.times_s):.2f} |"
        )
    lines += [
        "",
        f"Importing WeasyPrint (once per process, not in the times above): {import_s:.2f} s.",
    ]
    return "\n".join(lines) + "\n"


def _tool_name(tool: str) -> str:
    return "this component" if tool == "ours" else "MCT 2.0.0"


def run(
    features: Sequence[int],
    runs: Mapping[str, Mapping[int, int]],
    inputs_root: pathlib.Path,
    output_dir: pathlib.Path,
    tools: Sequence[str] = ("ours", "mct"),
    rounds: Mapping[int, int] = DEFAULT_ROUNDS,
) -> list[Measurement]:
    """Measures every tool at every feature count, in interleaved rounds of subprocesses."""
    all_inputs = {n: inputs.ensure_inputs(n, inputs_root) for n in features}
    warmup = all_inputs[min(features)]
    measurements = []
    for n in features:
        for round_number in range(1, rounds.get(n, 1) + 1):
            for tool in tools:
                count = runs[tool].get(n, 1)
                _progress(f"{tool}: {n} features, round {round_number}, {count} timed build(s)...")
                measurement = measure_in_subprocess(
                    tool, all_inputs[n], count, warmup, str(output_dir / "cards" / f"{tool}-{n}")
                )
                measurement = dataclasses.replace(measurement, round=round_number)
                _progress(
                    f"  median {measurement.median_s:.3f} s, peak RSS "
                    f"{_mib(measurement.peak_rss_bytes)} MiB, load {_load(measurement.load_average)}"
                )
                measurements.append(measurement)
    return measurements


def run_fresh(
    features: Sequence[int],
    inputs_root: pathlib.Path,
    output_dir: pathlib.Path,
    large: bool = True,
    executor_features: Sequence[int] = (2000,),
) -> list[FreshMeasurement]:
    """Our card from files in fresh processes at every feature count (and at
    `LARGE_FEATURES` when `large`), and in the executor at `executor_features`."""
    sizes = [*features, LARGE_FEATURES] if large else list(features)
    measured = []
    for n in sizes:
        bench_inputs = inputs.ensure_inputs(n, inputs_root)
        # The large card is the browser step's page of this size.
        folder = output_dir / "cards" / (f"ours-{n}" if n == LARGE_FEATURES else f"fresh-{n}")
        measured.append(_measured("fresh", bench_inputs, FRESH_RUNS.get(n, 3), folder))
        if n not in executor_features:
            continue
        measured += _free_text_in_turns(n, inputs_root, output_dir)
        measured.append(_measured("replace", bench_inputs, 3, folder))
        measured.append(
            _measured("executor", bench_inputs, 3, output_dir / "cards" / f"executor-{n}")
        )
    return measured


def _free_text_in_turns(
    n: int, inputs_root: pathlib.Path, output_dir: pathlib.Path
) -> list[FreshMeasurement]:
    """The free-text inputs built by this checkout and by `BASELINE_COMMIT`'s code, in
    turns (issue 20: no slower than before free text had a kind of its own)."""
    with_text = inputs.ensure_inputs(n, inputs_root, text_every=TEXT_EVERY)
    folder = output_dir / "cards" / f"fresh-{n}-text{TEXT_EVERY}"
    tree = baseline_tree(BASELINE_COMMIT, output_dir)
    baseline = (BASELINE_COMMIT, tree) if tree else None
    ours: list[FreshMeasurement] = []
    theirs: list[FreshMeasurement] = []
    for count in (TEXT_RUNS - TEXT_RUNS // 2, TEXT_RUNS // 2):
        ours.append(_measured("fresh", with_text, count, folder))
        if baseline:
            theirs.append(_measured("fresh", with_text, count, folder, baseline))
    return [_joined(ours), *([_joined(theirs)] if theirs else [])]


def _measured(
    how: str,
    bench_inputs: inputs.BenchInputs,
    count: int,
    folder: pathlib.Path,
    baseline: tuple[str, str] | None = None,
) -> FreshMeasurement:
    text = f", 1 in {bench_inputs.text_every} free text" if bench_inputs.text_every else ""
    code = f", the code of {baseline[0][:7]}" if baseline else ""
    _progress(f"{how}: {bench_inputs.n_features} features{text}{code}, {count} processes...")
    result = measure_fresh(how, bench_inputs, count, str(folder), baseline)
    _progress(
        f"  median {result.median_s:.2f} s, peak RSS {_mib(result.peak_rss_bytes)} MiB, "
        f"load {_load(result.load_average)}"
    )
    return result


def _joined(batches: Sequence[FreshMeasurement]) -> FreshMeasurement:
    """Batches of one measurement taken in turns with another, as one."""
    return dataclasses.replace(
        batches[0],
        times_s=tuple(t for b in batches for t in b.times_s),
        peak_rss_bytes=max(b.peak_rss_bytes for b in batches),
        heavy_modules=tuple(sorted({m for b in batches for m in b.heavy_modules})),
        load_average=(batches[0].load_average[0], batches[-1].load_average[1]),
        html_bytes=batches[-1].html_bytes,
    )


def report(
    measurements: Sequence[Measurement],
    inputs_root: pathlib.Path,
    machine: Mapping[str, Any],
    fresh: Sequence[FreshMeasurement] = (),
) -> dict[str, Any]:
    """The JSON document written to `results.json`; `machine` as `machine_info()` returns."""
    comparisons = compare(measurements)
    manifests = {}
    sizes = {m.n_features for m in measurements} | {f.n_features for f in fresh}
    for n in sorted(sizes):
        marker = inputs_root / f"features-{n}" / "manifest.json"
        manifests[str(n)] = json.loads(marker.read_text()) if marker.exists() else None
    return {
        "machine": dict(machine),
        "inputs": manifests,
        "measurements": [m.to_dict() for m in measurements],
        "fresh": [f.to_dict() for f in fresh],
        "comparisons": comparisons,
        "targets": check_targets(measurements, comparisons, fresh),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--steps", nargs="+", default=list(STEPS), choices=STEPS, help="what to measure"
    )
    parser.add_argument("--features", type=int, nargs="+", default=list(DEFAULT_FEATURES))
    parser.add_argument(
        "--runs", type=int, help="timed builds per tool and size (default: per-size table)"
    )
    parser.add_argument("--tools", nargs="+", default=["ours", "mct"], choices=builders.BUILDERS)
    parser.add_argument("--inputs-root", type=pathlib.Path, default=inputs.DEFAULT_ROOT)
    parser.add_argument("--output-dir", type=pathlib.Path, default=OUTPUT_DIR)
    parser.add_argument(
        "--demo-cards",
        type=pathlib.Path,
        default=DEMO_CARDS,
        help="the demo's card versions (the pdf step times the newest)",
    )
    parser.add_argument(
        "--no-large",
        dest="large",
        action="store_false",
        help=f"leave out the {LARGE_FEATURES:,}-feature card (build and browser steps)",
    )
    parser.add_argument(
        "--update-results-md", action="store_true", help=f"rewrite the tables in {RESULTS_MD}"
    )
    parser.add_argument(
        "--saved-build",
        action="store_true",
        help="the build step's tables from the last run's results.json, without measuring",
    )
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return
    # Taken before measuring: the commit is that of the code measured.
    machine = machine_info()
    sections = {}
    if "build" in args.steps and args.saved_build:
        saved = args.output_dir / "results.json"
        try:
            results = json.loads(saved.read_text())
            saved_measurements(results)
        except (OSError, ValueError, KeyError, TypeError) as e:
            parser.error(f"--saved-build needs a results.json of a build step at {saved}: {e}")
        measurements, fresh = saved_measurements(results)
        tables = markdown_tables(measurements, results["comparisons"], results["targets"], fresh)
        sections["results"] = machine_markdown(results["machine"]) + "\n" + tables
    elif "build" in args.steps:
        runs = (
            {tool: dict.fromkeys(args.features, args.runs) for tool in builders.BUILDERS}
            if args.runs
            else DEFAULT_RUNS
        )
        measurements = run(args.features, runs, args.inputs_root, args.output_dir, args.tools)
        fresh = run_fresh(args.features, args.inputs_root, args.output_dir, large=args.large)
        results = report(measurements, args.inputs_root, machine, fresh)
        tables = markdown_tables(measurements, results["comparisons"], results["targets"], fresh)
        _write(args.output_dir / "results.json", results)
        sections["results"] = machine_markdown(machine) + "\n" + tables
    if "browser" in args.steps:
        _progress("browser: opening the cards in headless Chromium...")
        pages = measure_pages(
            {
                **card_pages(args.features, args.tools, args.output_dir),
                **(card_pages([LARGE_FEATURES], ["ours"], args.output_dir) if args.large else {}),
            }
        )
        browser_report = {
            "machine": machine,
            "pages": [p.to_dict() for p in pages],
            "comparisons": compare_pages(pages),
            "targets": check_page_targets(pages),
        }
        _write(args.output_dir / "browser.json", browser_report)
        sections["browser"] = _context_line(machine) + "\n" + page_tables(pages)
    if "pdf" in args.steps:
        _progress("pdf: timing our PDFs...")
        import_s, pdfs = measure_pdfs(pdf_cards(args.features, args.output_dir, args.demo_cards))
        pdf_report = {
            "machine": machine,
            "weasyprint_import_s": import_s,
            "pdfs": [m.to_dict() for m in pdfs],
        }
        _write(args.output_dir / "pdf.json", pdf_report)
        sections["pdf"] = _context_line(machine) + "\n" + pdf_table(import_s, pdfs)
    if "profile" in args.steps:
        _progress("profile: one 2,000-feature build under cProfile...")
        sizes = [n for n in args.features if n == PROFILE_FEATURES] or [max(args.features)]
        bench_inputs = inputs.ensure_inputs(sizes[0], args.inputs_root)
        folder = args.output_dir / "cards" / f"profile-{sizes[0]}"
        shutil.rmtree(folder, ignore_errors=True)
        profiled = profile_build.measure(
            {
                "model": bench_inputs.model_uri,
                "statistics": bench_inputs.statistics_uri,
                "evaluation": bench_inputs.evaluation_uri,
                "output_dir": str(folder),
            }
        )
        _write(args.output_dir / "profile.json", {"machine": machine, **profiled})
        sections["profile"] = f"Commit {machine['commit']}.\n\n" + profile_build.markdown(
            profiled, sizes[0], os.getloadavg()
        )
    for body in sections.values():
        print(body)
    if args.update_results_md:
        for name, body in sections.items():
            replace_marked_section(RESULTS_MD, name, body)
        print(f"Updated {RESULTS_MD}")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def saved_measurements(
    results: Mapping[str, Any],
) -> tuple[list[Measurement], list[FreshMeasurement]]:
    """The measurements of a `results.json` (`report`), as the build step made them."""

    def fields(cls: type, saved: Mapping[str, Any]) -> dict[str, Any]:
        names = {f.name for f in dataclasses.fields(cls)}
        return {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in names}

    measurements = [Measurement(**fields(Measurement, m)) for m in results["measurements"]]
    fresh = [FreshMeasurement(**fields(FreshMeasurement, f)) for f in results["fresh"]]
    return measurements, fresh


def _write(path: pathlib.Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"Wrote {path}", file=sys.stderr)


def _context_line(machine: Mapping[str, Any]) -> str:
    """Where a step's numbers come from: the machine, the commit, the load on the machine."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores; commit {machine['commit']}; "
        f"load average when measured: {load}.\n"
    )


if __name__ == "__main__":
    main()
