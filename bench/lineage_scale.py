"""Lineage resolution at scale: real MLMD SQLite stores holding 10, 1,000 and 10,000 runs.

Each store is written through the MLMD Python API by `tests/mlmd_writer.py` (shared with
the lineage tests) with runs recorded as TFX 1.16's LocalDagRunner records them (contexts
of type `pipeline`, `pipeline_run` as its child, and `node`; executions of the TFX
component types; artifacts with TFX's type properties; INPUT/OUTPUT events keyed by role;
the latest blessed model resolver's picks as INTERNAL_OUTPUT events):

    CsvExampleGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer -> Evaluator -> Pusher
                                    latest_blessed_model_resolver -> Evaluator (baseline_model)

Then it times `mct_component.mlmd.lineage.resolve_lineage(store, model_id)` for the model of
the newest run, counting store calls through a proxy, and checks that what it resolved
is that run's statistics, schema, evaluation, blessing, push, run and baseline model.
It also times the search for the previous blessed model on its own
(`lineage.previous_blessed_model`, what a pipeline whose Evaluator has no baseline
relies on). Model Card Toolkit 2.0's own lineage functions are timed on the same stores
for reference. Stores are cached under `build/bench/lineage/` (delete it to rebuild;
10,000 runs take minutes).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import pathlib
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests import mlmd_writer

STORE_VERSION = 2
RUN_COUNTS = (10, 1_000, 10_000)
DEFAULT_DIR = pathlib.Path("build/bench/lineage")
PIPELINE = "bench-lineage"
PIPELINE_ROOT = "/bench/pipeline_root"
# Every fifth run's model is not blessed (so not pushed): the resolvers (TFX's and ours)
# must skip them when they look for the previous blessed model.
UNBLESSED_EVERY = 5
REPEATS = 50
# "Flat": the newest-model resolution at 10,000 runs takes at most this multiple of the
# time at 10 runs, with the same number of store calls.
FLAT_RATIO = 1.25


@dataclasses.dataclass(frozen=True)
class Node:
    """A pipeline node: its TFX execution type, inputs (role -> producer node and role), outputs."""

    id: str
    execution_type: str
    inputs: Mapping[str, tuple[str, str]]
    outputs: Mapping[str, str]


RESOLVER = Node(
    "latest_blessed_model_resolver",
    mlmd_writer.COMPONENT_TYPES["Resolver"],
    {},
    {"model": "Model", "model_blessing": "ModelBlessing"},
)

NODES = (
    RESOLVER,
    Node(
        "CsvExampleGen",
        mlmd_writer.COMPONENT_TYPES["CsvExampleGen"],
        {},
        {"examples": "Examples"},
    ),
    Node(
        "StatisticsGen",
        mlmd_writer.COMPONENT_TYPES["StatisticsGen"],
        {"examples": ("CsvExampleGen", "examples")},
        {"statistics": "ExampleStatistics"},
    ),
    Node(
        "SchemaGen",
        mlmd_writer.COMPONENT_TYPES["SchemaGen"],
        {"statistics": ("StatisticsGen", "statistics")},
        {"schema": "Schema"},
    ),
    Node(
        "Transform",
        mlmd_writer.COMPONENT_TYPES["Transform"],
        {"examples": ("CsvExampleGen", "examples"), "schema": ("SchemaGen", "schema")},
        {
            "transform_graph": "TransformGraph",
            "transformed_examples": "Examples",
            "pre_transform_schema": "Schema",
            "pre_transform_stats": "ExampleStatistics",
            "post_transform_schema": "Schema",
            "post_transform_stats": "ExampleStatistics",
            "post_transform_anomalies": "ExampleAnomalies",
        },
    ),
    Node(
        "Trainer",
        mlmd_writer.COMPONENT_TYPES["Trainer"],
        {
            "examples": ("Transform", "transformed_examples"),
            "transform_graph": ("Transform", "transform_graph"),
            "schema": ("SchemaGen", "schema"),
        },
        {"model": "Model", "model_run": "ModelRun"},
    ),
    Node(
        "Evaluator",
        mlmd_writer.COMPONENT_TYPES["Evaluator"],
        {
            "examples": ("CsvExampleGen", "examples"),
            "model": ("Trainer", "model"),
            # Absent until a model has been blessed.
            "baseline_model": (RESOLVER.id, "model"),
        },
        {"evaluation": "ModelEvaluation", "blessing": "ModelBlessing"},
    ),
    Node(
        "Pusher",
        mlmd_writer.COMPONENT_TYPES["Pusher"],
        {"model": ("Trainer", "model"), "model_blessing": ("Evaluator", "blessing")},
        {"pushed_model": "PushedModel"},
    ),
)

# What the resolver must find for the newest run: CardInputs field -> (node, output role).
EXPECTED = {
    "model": ("Trainer", "model"),
    "statistics": ("StatisticsGen", "statistics"),
    "schema": ("SchemaGen", "schema"),
    "evaluation": ("Evaluator", "evaluation"),
    "blessing": ("Evaluator", "blessing"),
    "pushed_model": ("Pusher", "pushed_model"),
    "baseline.model": (RESOLVER.id, "model"),
}


def _artifact(
    writer: mlmd_writer.Writer,
    type_name: str,
    node: str,
    role: str,
    execution_seq: int,
    outputs: Mapping[tuple[str, str], Any],
    blessed: bool,
) -> Any:
    """A new output artifact with the properties TFX gives its type and role."""
    properties: dict[str, mlmd_writer.Value] = {}
    custom: dict[str, mlmd_writer.Value] = {}
    if type_name in ("Examples", "ExampleStatistics", "ExampleAnomalies"):
        properties["span"] = 0
        if role not in ("pre_transform_stats", "post_transform_stats"):
            properties["split_names"] = '["train", "eval"]'
    if type_name == "Examples":
        properties["version"] = 0
    if type_name == "ModelBlessing":
        model = outputs[("Trainer", "model")]
        custom.update(blessed=int(blessed), current_model=model.uri, current_model_id=model.id)
    if type_name == "PushedModel":
        custom["pushed"] = int(blessed)
        if blessed:
            custom.update(
                pushed_destination=f"/serving/{execution_seq}", pushed_version=str(execution_seq)
            )
    uri = f"{PIPELINE_ROOT}/{node}/{role}/{execution_seq}"
    return writer.artifact(type_name, uri, properties, custom)


def _put_run(
    writer: mlmd_writer.Writer,
    pipeline: mlmd_writer.Pipeline,
    run: int,
    last_blessed: Mapping[str, Any],
) -> dict[tuple[str, str], Any]:
    """Records one pipeline run; returns (node, output role) -> artifact.

    `last_blessed` holds the newest blessed model and its blessing so far (role ->
    artifact, empty before the first blessing): what the resolver picks for the Evaluator.
    """
    run_context = writer.run(pipeline, f"run-{run:06d}")
    blessed = run % UNBLESSED_EVERY != UNBLESSED_EVERY - 1
    outputs: dict[tuple[str, str], Any] = {}
    for index, node in enumerate(NODES):
        # TFX ends an output's URI with its execution's id: one execution per node, in order.
        seq = run * len(NODES) + index + 1
        inputs = {
            role: outputs[source] for role, source in node.inputs.items() if source in outputs
        }
        if node is RESOLVER:
            # A resolver creates nothing: it links the artifacts it picked.
            picked = {role: last_blessed[role] for role in node.outputs if role in last_blessed}
            writer.execute(run_context, node.id, inputs=inputs, internal_outputs=picked)
            written = picked
        else:
            new = {
                role: _artifact(writer, type_name, node.id, role, seq, outputs, blessed)
                for role, type_name in node.outputs.items()
            }
            written = writer.execute(run_context, node.id, inputs=inputs, outputs=new)
        outputs.update(((node.id, role), artifact) for role, artifact in written.items())
    return outputs


def _staging_path(path: pathlib.Path) -> pathlib.Path:
    """Where to write a store before moving it into place: in memory when /dev/shm exists.

    MLMD commits every call, and a commit on disk waits for fsync.
    """
    shm = pathlib.Path("/dev/shm")
    directory = shm if shm.is_dir() and os.access(shm, os.W_OK) else path.parent
    return directory / f"{path.name}.{os.getpid()}.tmp"


def ensure_store(
    runs: int, directory: pathlib.Path = DEFAULT_DIR
) -> tuple[pathlib.Path, dict[str, Any]]:
    """Returns a store holding `runs` runs and its manifest, building it unless cached.

    The manifest (written last, next to the store) records the newest run's artifact ids.
    """
    path = directory / f"runs-{runs}.sqlite"
    manifest_path = path.with_suffix(".json")
    if path.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("store_version") == STORE_VERSION and manifest.get("runs") == runs:
            return path, manifest
    directory.mkdir(parents=True, exist_ok=True)
    staging = _staging_path(path)
    staging.unlink(missing_ok=True)
    writer = mlmd_writer.Writer.open(staging, [node.execution_type for node in NODES])
    pipeline = writer.pipeline(PIPELINE, {node.id: node.execution_type for node in NODES})
    start = time.perf_counter()
    newest: dict[tuple[str, str], Any] = {}
    last_blessed: dict[str, Any] = {}
    for run in range(runs):
        newest = _put_run(writer, pipeline, run, last_blessed)
        if newest[("Evaluator", "blessing")].custom_properties["blessed"].int_value:
            last_blessed = {
                "model": newest[("Trainer", "model")],
                "model_blessing": newest[("Evaluator", "blessing")],
            }
        if run and run % 1000 == 0:
            print(f"  {run:,} runs written ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    del writer
    shutil.move(staging, path)
    manifest = {
        "store_version": STORE_VERSION,
        "runs": runs,
        "build_s": round(time.perf_counter() - start, 1),
        "newest_run": {f"{node}.{role}": artifact.id for (node, role), artifact in newest.items()},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return path, manifest


class CountingStore:
    """Forwards every attribute to an MLMD store, counting method calls and their time by name."""

    def __init__(self, store: Any):
        self._store = store
        self.calls: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._store, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            start = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return counted


def mct_lineage(store: Any, model_id: int) -> Any:
    """What MCT 2.0 asks MLMD for a model: its statistics and evaluation artifacts."""
    from model_card_toolkit.utils import tfx_util

    return (
        tfx_util.get_stats_artifacts_for_model(store, model_id),
        tfx_util.get_metrics_artifacts_for_model(store, model_id),
    )


def check_resolved(resolved: Any, manifest: Mapping[str, Any]) -> list[str]:
    """Differences between what the resolver returned and the newest run's records."""
    problems = []
    for field, (node, role) in EXPECTED.items():
        expected = manifest["newest_run"].get(f"{node}.{role}")
        ref = resolved
        for part in field.split("."):
            ref = getattr(ref, part, None)
        found = getattr(ref, "id", None)
        if found != expected:
            problems.append(f"{field}: expected artifact {expected}, got {found}")
    newest_run = f"run-{manifest['runs'] - 1:06d}"
    for field, expected in (("run", newest_run), ("pipeline", PIPELINE)):
        found = getattr(getattr(resolved, field, None), "name", None)
        if found != expected:
            problems.append(f"{field}: expected context {expected!r}, got {found!r}")
    return problems


def blessed_model_search(store: Any) -> Callable[[Any, int], Any]:
    """`lineage.previous_blessed_model` in the bench pipeline, as `function(store, model_id)`."""
    from mct_component.mlmd import lineage
    from mct_component.readers import refs

    context = store.get_context_by_type_and_name("pipeline", PIPELINE)
    pipeline = refs.ContextRef("pipeline", PIPELINE, context.id)
    return lambda s, model_id: lineage.previous_blessed_model(s, pipeline, model_id)


@dataclasses.dataclass
class Case:
    """One function timed on one store: `function(store, model_id)`."""

    function: Callable[[Any, int], Any]
    store: Any
    model_id: int
    times: list[float] = dataclasses.field(default_factory=list)
    store_seconds: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    calls: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    result: Any = None

    def run_once(self) -> None:
        proxy = CountingStore(self.store)
        start = time.perf_counter()
        self.function(proxy, self.model_id)
        self.times.append(time.perf_counter() - start)
        self.store_seconds.update(proxy.seconds)
        self.calls = proxy.calls

    def summary(self) -> dict[str, Any]:
        return {
            "median_ms": statistics.median(self.times) * 1000,
            "min_ms": min(self.times) * 1000,
            "max_ms": max(self.times) * 1000,
            "store_calls": sum(self.calls.values()),
            "calls_by_method": dict(sorted(self.calls.items())),
            "mean_ms_by_method": {
                name: round(seconds * 1000 / len(self.times), 3)
                for name, seconds in sorted(self.store_seconds.items())
            },
        }


def time_interleaved(cases: Sequence[Case], repeats: int) -> None:
    """Warms each case up (keeping its result), then times them in turns, `repeats` rounds.

    Taking turns spreads whatever else the machine does over every store alike, so
    the ratios between stores do not depend on when each store was measured.
    """
    for case in cases:
        case.result = case.function(case.store, case.model_id)
    for _ in range(repeats):
        for case in cases:
            case.run_once()


def measure(
    run_counts: Sequence[int], directory: pathlib.Path, repeats: int = REPEATS
) -> dict[str, Any]:
    """Builds (or reuses) each store, then times our resolver, our search and MCT's on all."""
    from mct_component.mlmd import lineage

    rows, cases = [], []
    for runs in run_counts:
        print(f"store with {runs:,} runs...", file=sys.stderr, flush=True)
        path, manifest = ensure_store(runs, directory)
        store = mlmd_writer.open_store(path)
        model_id = manifest["newest_run"]["Trainer.model"]
        row_cases = {
            "ours": Case(lineage.resolve_lineage, store, model_id),
            "search": Case(blessed_model_search(store), store, model_id),
            "mct": Case(mct_lineage, store, model_id),
        }
        rows.append(({"runs": runs, "store_bytes": path.stat().st_size}, manifest, row_cases))
        cases.extend(row_cases.values())
    time_interleaved(cases, repeats)

    report_rows = []
    for row, manifest, row_cases in rows:
        row.update({key: case.summary() for key, case in row_cases.items()})
        row["ours"]["problems"] = check_resolved(row_cases["ours"].result, manifest)
        expected = manifest["newest_run"].get(f"{RESOLVER.id}.model")
        found = row_cases["search"].result
        row["search"]["problems"] = (
            [] if found == expected else [f"expected {expected}, got {found}"]
        )
        stats_found, metrics_found = row_cases["mct"].result
        row["mct"]["found"] = {"statistics": len(stats_found), "evaluations": len(metrics_found)}
        report_rows.append(row)
    return {
        "repeats": repeats,
        "rows": report_rows,
        "flat": {key: flatness(report_rows, key) for key in ("ours", "search")},
    }


def flatness(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, Any] | None:
    """Compares one measurement on the smallest and largest store (see `FLAT_RATIO`)."""
    if len(rows) < 2:
        return None
    small, large = rows[0], rows[-1]
    ratio = large[key]["median_ms"] / small[key]["median_ms"]
    same_calls = large[key]["store_calls"] == small[key]["store_calls"]
    return {
        "from_runs": small["runs"],
        "to_runs": large["runs"],
        "time_ratio": ratio,
        "same_store_calls": same_calls,
        "met": ratio <= FLAT_RATIO and same_calls,
    }


def _cells(measured: Mapping[str, Any]) -> str:
    problems = measured.get("problems")
    correct = "" if problems is None else f" | {'yes' if not problems else '; '.join(problems)}"
    return (
        f"{measured['median_ms']:.2f} | {measured['min_ms']:.2f}–{measured['max_ms']:.2f} "
        f"| {measured['store_calls']}{correct}"
    )


def markdown(report: Mapping[str, Any]) -> str:
    """The lineage results as Markdown tables and verdicts."""
    lines = [
        "| Runs in store | Store (MiB) | What | Median (ms) | Min–max (ms) | Store calls | Correct |",
        "|---:|---:|---|---:|---:|---:|---|",
    ]
    labels = {
        "ours": "`resolve_lineage` (whole card lineage)",
        "search": "`previous_blessed_model` (search alone)",
        "mct": "MCT 2.0 `tfx_util` (statistics and metrics only)",
    }
    for row in report["rows"]:
        for key, label in labels.items():
            cells = _cells(row[key])
            if key == "mct":
                cells += " | n/a"
            lines.append(
                f"| {row['runs']:,} | {row['store_bytes'] / 2**20:,.1f} | {label} | {cells} |"
            )
    rows = report["rows"]
    if len(rows) >= 2:
        small, large = rows[0]["ours"], rows[-1]["ours"]
        methods = sorted(
            large["mean_ms_by_method"],
            key=lambda m: small["mean_ms_by_method"].get(m, 0) - large["mean_ms_by_method"][m],
        )
        growth = ", ".join(
            f"`{m}` ×{large['calls_by_method'][m]}: "
            f"{small['mean_ms_by_method'].get(m, 0):.2f} → {large['mean_ms_by_method'][m]:.2f}"
            for m in methods
        )
        lines += [
            "",
            f"`resolve_lineage` store time by method, {rows[0]['runs']:,} → "
            f"{rows[-1]['runs']:,} runs (ms per resolution, biggest growth first): {growth}.",
        ]
    for key, flat in report["flat"].items():
        if flat:
            lines += [
                "",
                f"Target, {labels[key]} flat from {flat['from_runs']:,} to {flat['to_runs']:,} "
                f"runs (median within {FLAT_RATIO}x, same store calls): measured "
                f"{flat['time_ratio']:.2f}x, store calls "
                f"{'unchanged' if flat['same_store_calls'] else 'changed'}: "
                f"{'met' if flat['met'] else '**missed**'}.",
            ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=list(RUN_COUNTS))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--directory", type=pathlib.Path, default=DEFAULT_DIR)
    parser.add_argument(
        "--update-results-md",
        action="store_true",
        help="rewrite the lineage table in bench/RESULTS.md",
    )
    args = parser.parse_args(argv)
    report = measure(args.runs, args.directory, args.repeats)
    text = markdown(report)
    print(text)
    results_path = args.directory.parent / "lineage.json"
    results_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"Wrote {results_path}")
    if args.update_results_md:
        from bench import run

        run.replace_marked_section(run.RESULTS_MD, "lineage", text)
        print(f"Updated {run.RESULTS_MD}")


if __name__ == "__main__":
    main()
