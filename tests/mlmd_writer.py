"""Writes TFX-shaped records into an MLMD store by hand, for the lineage tests and benchmark.

`tests/test_lineage_search.py` writes small stores with it, in orders chosen to trip the
lineage searches; `bench/lineage_scale.py` writes stores of 10 to 10,000 runs with it.
It lives with the tests because what it makes is test data; the benchmark imports it as
`tests.mlmd_writer` (pytest and `python -m bench.lineage_scale` both run from the repo
root). It imports ml_metadata, never TensorFlow or TFX.

What it writes is what TFX 1.16's LocalDagRunner records: contexts of type `pipeline`,
`pipeline_run` (a child of its pipeline) and `node` (named `<pipeline>.<node id>`);
completed executions of the node's component type, in those three contexts; artifacts
with TFX's type properties, stamped as TFX publishes them; events keyed by role (path:
the role, then index 0): INPUT for what a node read, OUTPUT for what it wrote and
INTERNAL_OUTPUT for what a Resolver picked. Types are registered once, by `Writer.open`;
after that a pipeline or an execution is one store call and a run two, which keeps
stores of thousands of runs quick to write.

    writer = Writer.open(tmp_path / "metadata.sqlite")
    pipeline = writer.pipeline("p", {"Trainer": COMPONENT_TYPES["Trainer"]})
    run = writer.run(pipeline, "run-1")
    model = writer.artifact("Model", "/p/Trainer/model/1")
    writer.execute(run, "Trainer", outputs={"model": model})  # sets model.id
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Iterable, Mapping
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

TFX_VERSION = "1.16.0"

# TFX's artifact types: name -> its properties (name -> MLMD PropertyType name).
ARTIFACT_TYPES: Mapping[str, Mapping[str, str]] = {
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

# Component -> the execution type TFX records for its nodes.
COMPONENT_TYPES: Mapping[str, str] = {
    "Resolver": "tfx.dsl.components.common.resolver.Resolver",
    "CsvExampleGen": "tfx.components.example_gen.csv_example_gen.component.CsvExampleGen",
    "StatisticsGen": "tfx.components.statistics_gen.component.StatisticsGen",
    "SchemaGen": "tfx.components.schema_gen.component.SchemaGen",
    "Transform": "tfx.components.transform.component.Transform",
    "Trainer": "tfx.components.trainer.component.Trainer",
    "Evaluator": "tfx.components.evaluator.component.Evaluator",
    "Pusher": "tfx.components.pusher.component.Pusher",
}

CONTEXT_TYPES = ("pipeline", "pipeline_run", "node")

Value = int | float | str
_EMPTY: Mapping[str, Any] = types.MappingProxyType({})


def open_store(path: str | os.PathLike[str] | pb.ConnectionConfig) -> metadata_store.MetadataStore:
    """A read-write MLMD store on a SQLite file (created if missing) or a `ConnectionConfig`."""
    if isinstance(path, pb.ConnectionConfig):
        return metadata_store.MetadataStore(path)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = os.fspath(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """A recorded `pipeline` context; by node id, each node's execution type id and context."""

    context: pb.Context
    node_types: Mapping[str, int]
    node_contexts: Mapping[str, pb.Context]


@dataclasses.dataclass(frozen=True)
class Run:
    """A recorded `pipeline_run` context and the pipeline it ran."""

    pipeline: Pipeline
    context: pb.Context


@dataclasses.dataclass(frozen=True)
class Writer:
    """Records pipelines, runs, executions and artifacts into one store; make it with `open`."""

    store: metadata_store.MetadataStore
    artifact_types: Mapping[str, int]
    execution_types: Mapping[str, int]
    context_types: Mapping[str, int]

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | pb.ConnectionConfig,
        execution_types: Iterable[str] = COMPONENT_TYPES.values(),
    ) -> Writer:
        """Opens (or creates) a store and registers the types it will record, in order.

        Args:
            path: the SQLite file, or a `ConnectionConfig` (the tests' MariaDB).
            execution_types: the execution type names its pipelines' nodes may have.
        """
        store = open_store(path)
        artifact_ids = {}
        for name, properties in ARTIFACT_TYPES.items():
            artifact_type = pb.ArtifactType(name=name)
            for key, kind in properties.items():
                artifact_type.properties[key] = pb.PropertyType.Value(kind)
            artifact_ids[name] = store.put_artifact_type(artifact_type)
        execution_ids = {
            name: store.put_execution_type(pb.ExecutionType(name=name)) for name in execution_types
        }
        context_ids = {
            name: store.put_context_type(pb.ContextType(name=name)) for name in CONTEXT_TYPES
        }
        return cls(store, artifact_ids, execution_ids, context_ids)

    def pipeline(self, name: str, nodes: Mapping[str, str]) -> Pipeline:
        """Records a `pipeline` context and its nodes' `node` contexts (one store call).

        Args:
            name: the pipeline name.
            nodes: node id -> execution type name (one passed to `open`).
        """
        contexts = [pb.Context(type_id=self.context_types["pipeline"], name=name)]
        contexts += [
            pb.Context(type_id=self.context_types["node"], name=f"{name}.{node}") for node in nodes
        ]
        for context, context_id in zip(contexts, self.store.put_contexts(contexts), strict=True):
            context.id = context_id
        return Pipeline(
            context=contexts[0],
            node_types={node: self.execution_types[kind] for node, kind in nodes.items()},
            node_contexts=dict(zip(nodes, contexts[1:], strict=True)),
        )

    def run(self, pipeline: Pipeline, name: str, with_parent: bool = True) -> Run:
        """Records a `pipeline_run` context as a child of its pipeline's context.

        Args:
            pipeline: the pipeline it runs.
            name: the run id.
            with_parent: False leaves the run without a parent, as older orchestrators do.
        """
        context = pb.Context(type_id=self.context_types["pipeline_run"], name=name)
        [context.id] = self.store.put_contexts([context])
        if with_parent:
            self.store.put_parent_contexts(
                [pb.ParentContext(child_id=context.id, parent_id=pipeline.context.id)]
            )
        return Run(pipeline, context)

    def artifact(
        self,
        type_name: str,
        uri: str,
        properties: Mapping[str, Value] = _EMPTY,
        custom_properties: Mapping[str, Value] = _EMPTY,
    ) -> pb.Artifact:
        """A new live artifact, not yet recorded: pass it to `execute` as an output.

        Args:
            type_name: one of `ARTIFACT_TYPES`.
            uri: where TFX would have written it.
            properties: values of the type's properties.
            custom_properties: values of custom properties.
        """
        artifact = pb.Artifact(
            type_id=self.artifact_types[type_name], uri=uri, state=pb.Artifact.LIVE
        )
        for key, value in properties.items():
            _set(artifact.properties[key], value)
        for key, value in custom_properties.items():
            _set(artifact.custom_properties[key], value)
        return artifact

    def execute(
        self,
        run: Run,
        node: str,
        *,
        inputs: Mapping[str, pb.Artifact] = _EMPTY,
        outputs: Mapping[str, pb.Artifact] = _EMPTY,
        internal_outputs: Mapping[str, pb.Artifact] = _EMPTY,
    ) -> dict[str, pb.Artifact]:
        """Records a completed execution of a node in a run (one store call).

        Args:
            run: the run it belongs to.
            node: the node id, one of the run's pipeline's nodes.
            inputs: recorded artifacts it read, by role (INPUT events).
            outputs: new artifacts (see `artifact`) it wrote, by role (OUTPUT events);
                they get TFX's published stamps and their ids.
            internal_outputs: recorded artifacts a Resolver picked, by role
                (INTERNAL_OUTPUT events).

        Returns:
            `outputs`, recorded.
        """
        pipeline = run.pipeline
        execution = pb.Execution(
            type_id=pipeline.node_types[node],
            name=f"{pipeline.context.name}:{run.context.name}:{node}",
            last_known_state=pb.Execution.COMPLETE,
        )
        execution.custom_properties["pipeline_name"].string_value = pipeline.context.name
        pairs = [(artifact, _event(pb.Event.INPUT, role)) for role, artifact in inputs.items()]
        pairs += [
            (artifact, _event(pb.Event.INTERNAL_OUTPUT, role))
            for role, artifact in internal_outputs.items()
        ]
        for role, artifact in outputs.items():
            custom = artifact.custom_properties
            custom["tfx_version"].string_value = TFX_VERSION
            custom["producer_component"].string_value = node
            custom["state"].string_value = "published"
            pairs.append((artifact, _event(pb.Event.OUTPUT, role)))
        contexts = [pipeline.context, run.context, pipeline.node_contexts[node]]
        _, artifact_ids, _ = self.store.put_execution(execution, pairs, contexts)
        new_ids = artifact_ids[len(pairs) - len(outputs) :]
        for artifact, artifact_id in zip(outputs.values(), new_ids, strict=True):
            artifact.id = artifact_id
        return dict(outputs)


def _event(kind: int, role: str) -> pb.Event:
    event = pb.Event(type=kind)
    event.path.steps.add().key = role
    event.path.steps.add().index = 0
    return event


def _set(target: pb.Value, value: Value) -> None:
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, float):
        target.double_value = value
    else:
        target.int_value = value
