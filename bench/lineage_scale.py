"""Lineage resolution at scale: real MLMD SQLite stores holding 10, 1,000 and 10,000 runs.

Each store is populated through the MLMD Python API with runs shaped like a TFX run
(contexts of type `pipeline`, `pipeline_run` and `node`; executions of the TFX component
types; artifacts with TFX's type properties; INPUT/OUTPUT events keyed by role):

    CsvExampleGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer -> Evaluator -> Pusher

Then it times `mct_component.lineage.resolve_lineage(store, model_id)` for the model of
the newest run, counting store calls through a proxy, and checks that what it resolved
is that run's statistics, schema, evaluation, blessing and push. Model Card Toolkit
2.0's own lineage functions are timed on the same stores for reference. Stores are
cached under `build/bench/lineage/` (delete it to rebuild; 10,000 runs take minutes).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import importlib
import json
import pathlib
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

STORE_VERSION = 1
RUN_COUNTS = (10, 1_000, 10_000)
DEFAULT_DIR = pathlib.Path("build/bench/lineage")
PIPELINE = "bench-lineage"
PIPELINE_ROOT = "/bench/pipeline_root"
TFX_VERSION = "1.16.0"
# Every fifth run's model is not blessed (so not pushed): the resolver must skip them
# when it looks for the previous blessed model.
UNBLESSED_EVERY = 5
REPEATS = 20
# "Flat": the newest-model resolution at 10,000 runs takes at most this multiple of the
# time at 10 runs, with the same number of store calls.
FLAT_RATIO = 1.25

# Artifact type -> its TFX properties (name -> MLMD PropertyType name).
ARTIFACT_TYPES = {
    "Examples": {"span": "INT", "version": "INT", "split_names": "STRING"},
    "ExampleStatistics": {"span": "INT", "split_names": "STRING"},
    "ExampleAnomalies": {"span": "INT", "split_names": "STRING"},
    "Schema": {},
    "TransformGraph": {},
    "Model": {},
    "ModelRun": {},
    "ModelEvaluation": {},
    "ModelBlessing": {},
    "PushedModel": {},
}


@dataclasses.dataclass(frozen=True)
class Node:
    """A pipeline node: its TFX execution type, inputs (role -> producer node and role), outputs."""

    id: str
    execution_type: str
    inputs: Mapping[str, tuple[str, str]]
    outputs: Mapping[str, str]


NODES = (
    Node(
        "CsvExampleGen",
        "tfx.components.example_gen.csv_example_gen.component.CsvExampleGen",
        {},
        {"examples": "Examples"},
    ),
    Node(
        "StatisticsGen",
        "tfx.components.statistics_gen.component.StatisticsGen",
        {"examples": ("CsvExampleGen", "examples")},
        {"statistics": "ExampleStatistics"},
    ),
    Node(
        "SchemaGen",
        "tfx.components.schema_gen.component.SchemaGen",
        {"statistics": ("StatisticsGen", "statistics")},
        {"schema": "Schema"},
    ),
    Node(
        "Transform",
        "tfx.components.transform.component.Transform",
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
        "tfx.components.trainer.component.Trainer",
        {
            "examples": ("Transform", "transformed_examples"),
            "transform_graph": ("Transform", "transform_graph"),
            "schema": ("SchemaGen", "schema"),
        },
        {"model": "Model", "model_run": "ModelRun"},
    ),
    Node(
        "Evaluator",
        "tfx.components.evaluator.component.Evaluator",
        {"examples": ("CsvExampleGen", "examples"), "model": ("Trainer", "model")},
        {"evaluation": "ModelEvaluation", "blessing": "ModelBlessing"},
    ),
    Node(
        "Pusher",
        "tfx.components.pusher.component.Pusher",
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
}


def open_store(path: pathlib.Path) -> Any:
    """A read-write MLMD store on a SQLite file (created if missing)."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    return metadata_store.MetadataStore(config)


def _register_types(store: Any) -> dict[str, dict[str, int]]:
    from ml_metadata.proto import metadata_store_pb2 as pb

    ids: dict[str, dict[str, int]] = {"artifact": {}, "execution": {}, "context": {}}
    for name, properties in ARTIFACT_TYPES.items():
        artifact_type = pb.ArtifactType(name=name)
        for key, kind in properties.items():
            artifact_type.properties[key] = pb.PropertyType.Value(kind)
        ids["artifact"][name] = store.put_artifact_type(artifact_type)
    for node in NODES:
        ids["execution"][node.id] = store.put_execution_type(
            pb.ExecutionType(name=node.execution_type)
        )
    for name in ("pipeline", "pipeline_run", "node"):
        ids["context"][name] = store.put_context_type(pb.ContextType(name=name))
    return ids


def _event(kind: int, role: str) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    event = pb.Event(type=kind)
    event.path.steps.add().key = role
    event.path.steps.add().index = 0
    return event


def _artifact(type_id: int, type_name: str, node: str, role: str, execution_seq: int) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    artifact = pb.Artifact(
        type_id=type_id,
        uri=f"{PIPELINE_ROOT}/{node}/{role}/{execution_seq}",
        state=pb.Artifact.LIVE,
    )
    if type_name in ("Examples", "ExampleStatistics", "ExampleAnomalies"):
        artifact.properties["span"].int_value = 0
        if role not in ("pre_transform_stats", "post_transform_stats"):
            artifact.properties["split_names"].string_value = '["train", "eval"]'
    if type_name == "Examples":
        artifact.properties["version"].int_value = 0
    custom = artifact.custom_properties
    custom["tfx_version"].string_value = TFX_VERSION
    custom["producer_component"].string_value = node
    custom["state"].string_value = "published"
    return artifact


def _put_run(
    store: Any, types: Mapping[str, Mapping[str, int]], contexts: Mapping[str, Any], run: int
) -> dict[tuple[str, str], int]:
    """Records one pipeline run; returns (node, output role) -> artifact id."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    run_context = pb.Context(type_id=types["context"]["pipeline_run"], name=f"run-{run:06d}")
    [run_context.id] = store.put_contexts([run_context])
    blessed = run % UNBLESSED_EVERY != UNBLESSED_EVERY - 1
    outputs: dict[tuple[str, str], Any] = {}
    for index, node in enumerate(NODES):
        seq = run * len(NODES) + index + 1
        execution = pb.Execution(
            type_id=types["execution"][node.id],
            name=f"{PIPELINE}:run-{run:06d}:{node.id}",
            last_known_state=pb.Execution.COMPLETE,
        )
        execution.custom_properties["pipeline_name"].string_value = PIPELINE
        pairs = [
            (outputs[source], _event(pb.Event.INPUT, role)) for role, source in node.inputs.items()
        ]
        new = []
        for role, type_name in node.outputs.items():
            artifact = _artifact(types["artifact"][type_name], type_name, node.id, role, seq)
            if type_name == "ModelBlessing":
                model = outputs[("Trainer", "model")]
                artifact.custom_properties["blessed"].int_value = int(blessed)
                artifact.custom_properties["current_model"].string_value = model.uri
                artifact.custom_properties["current_model_id"].int_value = model.id
            if type_name == "PushedModel":
                artifact.custom_properties["pushed"].int_value = int(blessed)
                if blessed:
                    artifact.custom_properties[
                        "pushed_destination"
                    ].string_value = f"/serving/{seq}"
                    artifact.custom_properties["pushed_version"].string_value = str(seq)
            pairs.append((artifact, _event(pb.Event.OUTPUT, role)))
            new.append((role, artifact))
        _, artifact_ids, _ = store.put_execution(
            execution, pairs, [contexts["pipeline"], run_context, contexts[node.id]]
        )
        for (role, artifact), artifact_id in zip(
            new, artifact_ids[len(node.inputs) :], strict=True
        ):
            artifact.id = artifact_id
            outputs[(node.id, role)] = artifact
    return {key: artifact.id for key, artifact in outputs.items()}


def ensure_store(
    runs: int, directory: pathlib.Path = DEFAULT_DIR
) -> tuple[pathlib.Path, dict[str, Any]]:
    """Returns a store holding `runs` runs and its manifest, building it unless cached.

    The manifest (written last, next to the store) records the newest run's artifact ids.
    """
    from ml_metadata.proto import metadata_store_pb2 as pb

    path = directory / f"runs-{runs}.sqlite"
    manifest_path = path.with_suffix(".json")
    if path.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("store_version") == STORE_VERSION and manifest.get("runs") == runs:
            return path, manifest
    directory.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{path.name}.tmp")
    staging.unlink(missing_ok=True)
    store = open_store(staging)
    types = _register_types(store)
    contexts = {"pipeline": pb.Context(type_id=types["context"]["pipeline"], name=PIPELINE)}
    for node in NODES:
        contexts[node.id] = pb.Context(
            type_id=types["context"]["node"], name=f"{PIPELINE}.{node.id}"
        )
    ids = store.put_contexts(list(contexts.values()))
    for context, context_id in zip(contexts.values(), ids, strict=True):
        context.id = context_id
    start = time.perf_counter()
    newest: dict[tuple[str, str], int] = {}
    for run in range(runs):
        newest = _put_run(store, types, contexts, run)
        if run and run % 1000 == 0:
            print(f"  {run:,} runs written ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    del store
    staging.rename(path)
    manifest = {
        "store_version": STORE_VERSION,
        "runs": runs,
        "build_s": round(time.perf_counter() - start, 1),
        "newest_run": {
            f"{node}.{role}": artifact_id for (node, role), artifact_id in newest.items()
        },
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


def find_resolver() -> Callable[[Any, int], Any] | None:
    """`mct_component.lineage.resolve_lineage`, or None while it does not exist."""
    return getattr(importlib.import_module("mct_component.lineage"), "resolve_lineage", None)


def mct_lineage(store: Any, model_id: int) -> Any:
    """What MCT 2.0 asks MLMD for a model: its statistics and evaluation artifacts."""
    from model_card_toolkit.utils import tfx_util

    return (
        tfx_util.get_stats_artifacts_for_model(store, model_id),
        tfx_util.get_metrics_artifacts_for_model(store, model_id),
    )


def check_resolved(resolved: Any, manifest: Mapping[str, Any]) -> list[str]:
    """Differences between what the resolver returned and the newest run's artifacts."""
    problems = []
    for field, (node, role) in EXPECTED.items():
        expected = manifest["newest_run"][f"{node}.{role}"]
        ref = getattr(resolved, field, None)
        found = getattr(ref, "id", None)
        if found != expected:
            problems.append(f"{field}: expected artifact {expected}, got {found}")
    return problems


def time_calls(
    function: Callable[[Any, int], Any], store: Any, model_id: int, repeats: int
) -> dict[str, Any]:
    """Times `function(store, model_id)` after one warm-up call; counts store calls per call."""
    result = function(store, model_id)
    times = []
    store_seconds: collections.Counter[str] = collections.Counter()
    proxy = CountingStore(store)
    for _ in range(repeats):
        proxy = CountingStore(store)
        start = time.perf_counter()
        function(proxy, model_id)
        times.append(time.perf_counter() - start)
        store_seconds.update(proxy.seconds)
    return {
        "result": result,
        "median_ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "max_ms": max(times) * 1000,
        "store_calls": sum(proxy.calls.values()),
        "calls_by_method": dict(sorted(proxy.calls.items())),
        "mean_ms_by_method": {
            name: round(seconds * 1000 / repeats, 3)
            for name, seconds in sorted(store_seconds.items())
        },
    }


def measure(
    run_counts: Sequence[int], directory: pathlib.Path, repeats: int = REPEATS
) -> dict[str, Any]:
    """Builds (or reuses) each store and times both resolvers on it."""
    resolver = find_resolver()
    rows = []
    for runs in run_counts:
        print(f"store with {runs:,} runs...", file=sys.stderr, flush=True)
        path, manifest = ensure_store(runs, directory)
        store = open_store(path)
        model_id = manifest["newest_run"]["Trainer.model"]
        row: dict[str, Any] = {
            "runs": runs,
            "store_bytes": path.stat().st_size,
            "model_id": model_id,
        }
        if resolver is not None:
            ours = time_calls(resolver, store, model_id, repeats)
            row["ours"] = {k: v for k, v in ours.items() if k != "result"}
            row["ours"]["problems"] = check_resolved(ours["result"], manifest)
        reference = time_calls(mct_lineage, store, model_id, repeats)
        stats_found, metrics_found = reference["result"]
        row["mct"] = {k: v for k, v in reference.items() if k != "result"}
        row["mct"]["found"] = {"statistics": len(stats_found), "evaluations": len(metrics_found)}
        rows.append(row)
    return {
        "resolver": "mct_component.lineage.resolve_lineage" if resolver else None,
        "repeats": repeats,
        "rows": rows,
        "flat": flatness(rows),
    }


def flatness(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Compares our resolver on the smallest and largest store (see `FLAT_RATIO`)."""
    measured = [r for r in rows if "ours" in r]
    if len(measured) < 2:
        return None
    small, large = measured[0], measured[-1]
    ratio = large["ours"]["median_ms"] / small["ours"]["median_ms"]
    same_calls = large["ours"]["store_calls"] == small["ours"]["store_calls"]
    return {
        "from_runs": small["runs"],
        "to_runs": large["runs"],
        "time_ratio": ratio,
        "same_store_calls": same_calls,
        "met": ratio <= FLAT_RATIO and same_calls,
    }


def markdown(report: Mapping[str, Any]) -> str:
    """The lineage results as a Markdown table and verdict."""
    lines = []
    if report["resolver"] is None:
        lines += [
            "**`mct_component.lineage.resolve_lineage` does not exist yet: our side was not measured.**",
            "",
        ]
    lines += [
        "| Runs in store | Store size (MiB) | Ours: median (ms) | Ours: min–max (ms) | Ours: store calls | Ours: correct | MCT 2.0: median (ms) | MCT 2.0: store calls |",
        "|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in report["rows"]:
        ours = row.get("ours")
        ours_cells = (
            f"{ours['median_ms']:.2f} | {ours['min_ms']:.2f}–{ours['max_ms']:.2f} "
            f"| {ours['store_calls']} | {'yes' if not ours['problems'] else '; '.join(ours['problems'])}"
            if ours
            else "n/a | n/a | n/a | n/a"
        )
        mct = row["mct"]
        lines.append(
            f"| {row['runs']:,} | {row['store_bytes'] / 2**20:,.1f} | {ours_cells} "
            f"| {mct['median_ms']:.2f} | {mct['store_calls']} |"
        )
    measured = [r for r in report["rows"] if "ours" in r]
    if len(measured) >= 2:
        small, large = measured[0]["ours"], measured[-1]["ours"]
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
            f"Store time per resolution by method, {measured[0]['runs']:,} → "
            f"{measured[-1]['runs']:,} runs (ms, biggest growth first): {growth}.",
        ]
    flat = report["flat"]
    if flat:
        lines += [
            "",
            f"Target, lineage flat from {flat['from_runs']:,} to {flat['to_runs']:,} runs "
            f"(median within {FLAT_RATIO}x, same store calls): measured {flat['time_ratio']:.2f}x, "
            f"store calls {'unchanged' if flat['same_store_calls'] else 'changed'}: "
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
