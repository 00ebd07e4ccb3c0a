"""The dashboard at scale: sites over the lineage benchmark's stores of up to 100,000 runs.

Builds the site (`mct_component.build_dashboard`) in a fresh worker process per repeat,
timing the whole build (reading the store, rows and flags, every page, writing) and
taking the worker's peak RSS (`VmHWM`, imports included); then opens `index.html` in
headless Chromium (`tests/browser.py`) and times navigation to the load event (and a
drawn frame), median of several loads, each in a fresh browser after a warm-up load.
The stores are `bench/lineage_scale.py`'s (cached under `build/bench/lineage/`; the
100,000-run store takes about 25 minutes to write, once). A store of more than
`site.INDEX_PAGE_ROWS` models has its index in pages: the first page is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench import lineage_scale

RUN_COUNTS = (1_000, 10_000, 100_000)
BUILD_REPEATS = 3
LARGE_STORE_REPEATS = 1  # a 100,000-model build takes most of a minute
LOAD_REPEATS = 5
DEFAULT_DIR = pathlib.Path("build/bench/dashboard")
# Targets (issue 21): by store size, the build's seconds and MiB (process and each page
# worker; None: no memory target); the index opens in under LOAD_SECONDS at every size.
BUILD_TARGETS = {10_000: (5.0, None), 100_000: (60.0, 2048.0)}
LOAD_SECONDS = 1.0

_WORKER = """
import json, sys, time
started = time.perf_counter()
from mct_component import build_dashboard
summary = build_dashboard(sys.argv[1], sys.argv[2], overwrite=True)
seconds = time.perf_counter() - started
import resource
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
# The model pages' forked workers (no execve, so their maxrss is their own).
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "worker_mib": workers, "models": summary.models}))
"""


def build_once(store: pathlib.Path, site: pathlib.Path) -> dict[str, Any]:
    """One build in a fresh Python process: seconds (imports included) and peak MiB."""
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(store), str(site)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_times(index: pathlib.Path, repeats: int) -> tuple[list[float], int, int]:
    """Seconds to the load event of `index` (fresh browser each time), rows, errors+requests."""
    from tests.browser import Browser

    seconds, rows, problems = [], 0, 0
    for _ in range(repeats):
        with Browser() as browser:
            browser.open("about:blank")
            page = browser.open(index.as_uri())
            seconds.append(page.load_seconds)
            rows = browser.evaluate("document.querySelectorAll('#models tbody tr').length")
            problems = len(page.console_errors) + len(page.requests)
    return seconds, rows, problems


def measure(
    run_counts: Sequence[int],
    directory: pathlib.Path,
    stores: pathlib.Path = lineage_scale.DEFAULT_DIR,
    build_repeats: int = BUILD_REPEATS,
    load_repeats: int = LOAD_REPEATS,
) -> list[dict[str, Any]]:
    """Builds and opens a site per store size (stores cached in `stores`)."""
    report = []
    for runs in run_counts:
        store, _ = lineage_scale.ensure_store(runs, stores)
        site = directory / f"site-{runs}"
        repeats = build_repeats if runs < 100_000 else min(build_repeats, LARGE_STORE_REPEATS)
        load_before = os.getloadavg()[0]
        builds = [build_once(store, site) for _ in range(repeats)]
        load_after = os.getloadavg()[0]
        loads, rows, problems = load_times((site / "index.html").resolve(), load_repeats)
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        report.append(
            {
                "runs": runs,
                "load_average": [load_before, load_after],
                "index_pages": len(list(site.glob("index*.html"))),
                "models": builds[0]["models"],
                "build_s": statistics.median(b["seconds"] for b in builds),
                "build_range_s": [
                    min(b["seconds"] for b in builds),
                    max(b["seconds"] for b in builds),
                ],
                "peak_mib": max(b["peak_mib"] for b in builds),
                "worker_mib": max(b["worker_mib"] for b in builds),
                "index_mib": (site / "index.html").stat().st_size / 2**20,
                "site_mib": size / 2**20,
                "load_s": statistics.median(loads),
                "load_range_s": [min(loads), max(loads)],
                "rows_in_browser": rows,
                "errors_and_requests": problems,
            }
        )
    return report


def markdown(report: Sequence[dict[str, Any]]) -> str:
    """The RESULTS.md table and the targets."""
    lines = [
        "| Models in store | Build (s, median) | Load average (start→end) | Peak RSS, process / largest page worker (MiB) | Index pages | index.html (MiB) | Site (MiB) | Index load in Chromium (s, median) | Rows on index.html | Errors + requests |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report:
        load = r.get("load_average", [0.0, 0.0])
        lines.append(
            f"| {r['models']:,} | {r['build_s']:.2f} ({r['build_range_s'][0]:.2f}–{r['build_range_s'][1]:.2f}) "
            f"| {load[0]:.1f}→{load[1]:.1f} "
            f"| {r['peak_mib']:.0f} / {_workers(r)} | {r.get('index_pages', 1)} "
            f"| {r['index_mib']:.1f} | {r['site_mib']:.0f} "
            f"| {r['load_s']:.2f} ({r['load_range_s'][0]:.2f}–{r['load_range_s'][1]:.2f}) "
            f"| {r['rows_in_browser']:,} | {r['errors_and_requests']} |"
        )
    checks = []
    for r in report:
        seconds, mib = BUILD_TARGETS.get(r["runs"], (None, None))
        if seconds is not None:
            checks.append(
                (
                    f"{r['models']:,} models build in under {seconds:.0f} s",
                    f"{r['build_s']:.2f} s",
                    r["build_s"] < seconds,
                )
            )
        if mib is not None:
            peak = max(r["peak_mib"], r["worker_mib"])
            checks.append(
                (
                    f"... and under {mib / 1024:.0f} GiB (the process, and each page worker)",
                    f"{r['peak_mib']:.0f} / {r['worker_mib']:.0f} MiB",
                    peak < mib,
                )
            )
        if seconds is not None:
            checks.append(
                (
                    f"... and its index opens (load event) in under {LOAD_SECONDS:.0f} s",
                    f"{r['load_s']:.2f} s",
                    r["load_s"] < LOAD_SECONDS,
                )
            )
    lines += ["", "| Target | Measured | Met |", "|---|---|---|"]
    lines += [f"| {what} | {value} | {'yes' if met else '**no**'} |" for what, value, met in checks]
    load = os.getloadavg()
    lines += [
        "",
        f"Load average when written: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} (2 cores).",
    ]
    return "\n".join(lines) + "\n"


def _workers(row: dict[str, Any]) -> str:
    """The largest page worker's peak, or "none" (small stores render in the process)."""
    return f"{row['worker_mib']:.0f}" if row["worker_mib"] else "none"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=list(RUN_COUNTS))
    parser.add_argument("--directory", type=pathlib.Path, default=DEFAULT_DIR)
    parser.add_argument("--update-results-md", action="store_true")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = measure(args.runs, args.directory)
    text = markdown(report)
    print(text)
    (args.directory / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"Measured in {time.perf_counter() - started:.0f} s")
    if args.update_results_md:
        from bench import run

        run.replace_marked_section(run.RESULTS_MD, "dashboard", text)
        print(f"Updated {run.RESULTS_MD}")


if __name__ == "__main__":
    main()
