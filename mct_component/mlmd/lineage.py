"""The MLMD queries: walks lineage from a model and returns plain, typed references (`refs`).

`resolve_lineage(store, model_id)` starts at one Model artifact and follows MLMD events
hop by hop: back to the Trainer and its inputs (examples, Transform, schema,
hyperparameters), back through Transform to the raw examples and forward to their
StatisticsGen output, forward to the Evaluator and Pusher runs that consumed the model,
and to the baseline model the Evaluator compared it with. Every hop is one batched
query by id, so the number of store calls is fixed.

Their cost is fixed too: MLMD's SQLite schema (ml-metadata 1.16) has no index from an
execution or artifact to its contexts, nor on types, so `get_contexts_by_execution` and
queries filtered by type read a table that grows with every run. The run and pipeline
contexts, and the previous blessed model when the Evaluator had no baseline, are found
among the newest records instead (indexed by creation time and id), each candidate
confirmed by an indexed lookup; the unindexed queries are only a fallback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from ml_metadata.proto import metadata_store_pb2

from mct_component import constants
from mct_component.errors import LineageError
from mct_component.readers.refs import (
    EVALUATOR_BASELINE,
    PREVIOUS_BLESSED,
    ArtifactRef,
    CardInputs,
    ContextRef,
    ExecutionRef,
    properties_of,
)

# The MLMD events that make an artifact an execution's input or output. INTERNAL_INPUT
# and INTERNAL_OUTPUT are neither: a TFX Resolver records the artifacts it picked as
# INTERNAL_OUTPUT, and it does not consume them.
_INPUT_TYPES = (metadata_store_pb2.Event.DECLARED_INPUT, metadata_store_pb2.Event.INPUT)
_OUTPUT_TYPES = (metadata_store_pb2.Event.DECLARED_OUTPUT, metadata_store_pb2.Event.OUTPUT)

# How far back the searches among the newest records go before falling back to a query
# that reads a whole table. Both read pages, newest first, and stop at the first match:
# contexts created up to an execution (a run's context is created before its first
# execution; TFX adds a node and a cache context per component), checking at most
# RUN_CANDIDATES `pipeline_run` contexts; and artifacts created before a model (a run of
# the penguin pipeline writes 17). Small pages keep a search's cost the same in a
# young store and an old one.
RECENT_CONTEXT_PAGE = 20
RECENT_CONTEXT_PAGES = 5
RUN_CANDIDATES = 5
RECENT_ARTIFACT_PAGE = 32
RECENT_ARTIFACT_PAGES = 16


class _Graph:
    """The part of the MLMD graph read so far; each method is one batched store call."""

    def __init__(self, store: Any):
        self.store = store
        self.artifacts: dict[int, Any] = {}
        self.executions: dict[int, Any] = {}
        self.type_names: dict[tuple[str, int], str] = {}
        self.events_by_artifact: dict[int, list[Any]] = {}
        self.events_by_execution: dict[int, list[Any]] = {}

    def artifact(self, artifact_id: int) -> Any:
        """The artifact with this id, loaded if need be.

        Raises:
            LineageError: MLMD has no artifact with that id.
        """
        self.load_artifacts([artifact_id])
        if artifact_id not in self.artifacts:
            raise LineageError(f"MLMD has no artifact with id {artifact_id}")
        return self.artifacts[artifact_id]

    def load_artifacts(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - set(self.artifacts))
        if missing:
            found = self.store.get_artifacts_by_id(missing)
            self.artifacts.update((a.id, a) for a in found)
            self.name_types("artifact", found)

    def load_executions(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - set(self.executions))
        if missing:
            found = self.store.get_executions_by_id(missing)
            self.executions.update((e.id, e) for e in found)
            self.name_types("execution", found)

    def name_types(self, kind: str, nodes: Iterable[Any]) -> None:
        """Records the type names of artifacts, executions or contexts.

        MLMD fills in each node's `type`; a store that does not costs one call for them.
        """
        unnamed = set()
        for node in nodes:
            if node.type:
                self.type_names[(kind, node.type_id)] = node.type
            elif (kind, node.type_id) not in self.type_names:
                unnamed.add(node.type_id)
        if unnamed:
            getter = getattr(self.store, f"get_{kind}_types_by_id")
            for t in getter(sorted(unnamed)):
                self.type_names[(kind, t.id)] = t.name

    def type_name(self, kind: str, node: Any) -> str:
        return self.type_names[(kind, node.type_id)]

    def expand_artifacts(self, ids: Iterable[int]) -> None:
        """Loads the events of these artifacts and the executions at their other end."""
        missing = sorted(set(ids) - set(self.events_by_artifact))
        if not missing:
            return
        for artifact_id in missing:
            self.events_by_artifact[artifact_id] = []
        for event in self.store.get_events_by_artifact_ids(missing):
            self.events_by_artifact[event.artifact_id].append(event)
        self.load_executions(e.execution_id for i in missing for e in self.events_by_artifact[i])

    def expand_executions(self, ids: Iterable[int]) -> None:
        """Loads the events of these executions and the artifacts at their other end."""
        missing = sorted(set(ids) - set(self.events_by_execution))
        if not missing:
            return
        for execution_id in missing:
            self.events_by_execution[execution_id] = []
        for event in self.store.get_events_by_execution_ids(missing):
            self.events_by_execution[event.execution_id].append(event)
        self.load_artifacts(e.artifact_id for i in missing for e in self.events_by_execution[i])

    def artifact_type(self, artifact_id: int) -> str:
        return self.type_name("artifact", self.artifacts[artifact_id])

    def artifact_ref(self, artifact_id: int) -> ArtifactRef:
        return ArtifactRef.from_mlmd(self.artifacts[artifact_id], self.artifact_type(artifact_id))

    def optional_artifact_ref(self, artifact_id: int | None) -> ArtifactRef | None:
        if artifact_id is None or artifact_id not in self.artifacts:
            return None
        return self.artifact_ref(artifact_id)

    def execution_ref(self, execution_id: int) -> ExecutionRef:
        execution = self.executions[execution_id]
        return ExecutionRef(
            type_name=self.type_name("execution", execution),
            id=execution.id,
            properties=properties_of(execution),
            create_time_ms=execution.create_time_since_epoch,
        )

    def optional_execution_ref(self, execution_id: int | None) -> ExecutionRef | None:
        return None if execution_id is None else self.execution_ref(execution_id)

    def producer(self, artifact_id: int) -> int | None:
        """The execution that output the artifact (its latest, if several did)."""
        ids = [
            e.execution_id for e in self.events_by_artifact[artifact_id] if e.type in _OUTPUT_TYPES
        ]
        return max(ids) if ids else None

    def consumers(self, artifact_id: int, role: str | None = None) -> list[int]:
        """Executions that took the artifact as input (under `role`, if given), oldest first."""
        return sorted(
            e.execution_id
            for e in self.events_by_artifact[artifact_id]
            if e.type in _INPUT_TYPES and (role is None or _role(e) == role)
        )

    def io(self, execution_id: int, inputs: bool, role: str) -> int | None:
        """The artifact an execution read (inputs=True) or wrote under a role name."""
        kinds = _INPUT_TYPES if inputs else _OUTPUT_TYPES
        ids = [
            e.artifact_id
            for e in self.events_by_execution[execution_id]
            if e.type in kinds and _role(e) == role
        ]
        return max(ids) if ids else None


def _role(event: Any) -> str:
    """The input/output key (e.g. "examples") TFX records as the event path's first step."""
    for step in event.path.steps:
        if step.HasField("key"):
            return step.key
    return ""


def resolve_lineage(store: Any, model_id: int, with_baseline: bool = True) -> CardInputs:
    """Resolves everything MLMD knows around one model.

    Args:
        store: an `ml_metadata.MetadataStore`.
        model_id: the MLMD id of a `Model` artifact.
        with_baseline: also resolve the model it is compared with: the Evaluator's
            baseline model, or else the previous blessed model of the same pipeline.

    Raises:
        LineageError: no artifact has that id, or it is not a Model.
    """
    return _resolve(_Graph(store), model_id, with_baseline)


def _resolve(graph: _Graph, model_id: int, with_baseline: bool) -> CardInputs:
    graph.artifact(model_id)
    if graph.artifact_type(model_id) != "Model":
        raise LineageError(
            f"artifact {model_id} is a {graph.artifact_type(model_id)}, expected a Model"
        )

    # Hop 1-2: the model's producer (Trainer) and consumers (Evaluator, Pusher), with their I/O.
    graph.expand_artifacts([model_id])
    producer_id = graph.producer(model_id)
    graph.expand_executions([*([producer_id] if producer_id else []), *graph.consumers(model_id)])
    # An imported model (tfx.dsl.Importer) has a producer but no training lineage.
    imported = producer_id is not None and graph.execution_ref(producer_id).component == "Importer"
    trainer_id = None if imported else producer_id
    evaluator_id = _latest_consumer_writing(graph, model_id, "ModelEvaluation")
    pusher_id = _latest_consumer_writing(graph, model_id, "PushedModel")

    trainer_input = (
        (lambda role: graph.io(trainer_id, True, role)) if trainer_id else (lambda r: None)
    )
    examples_id = trainer_input("examples")
    schema_id = trainer_input("schema")
    transform_graph_id = trainer_input("transform_graph")

    # Hop 3-4: through Transform (if the Trainer read its output) to the raw examples.
    transform_id = None
    raw_examples_id = examples_id
    if examples_id is not None:
        graph.expand_artifacts([examples_id])
        producer = graph.producer(examples_id)
        graph.expand_executions([producer] if producer else [])
        if (
            producer is not None
            and graph.io(producer, False, "transformed_examples") == examples_id
        ):
            transform_id = producer
            raw_examples_id = graph.io(producer, True, "examples")
            schema_id = schema_id or graph.io(producer, True, "schema")

    # Hop 5-6: the statistics StatisticsGen computed over the raw examples, and hop 7-8
    # ExampleValidator's anomalies in them; also for the Evaluator's examples if others.
    statistics_id = _newest_output(graph, raw_examples_id, "examples", "statistics")
    anomalies_id = _newest_output(graph, statistics_id, "statistics", "anomalies")
    evaluation_examples_id = evaluator_id and graph.io(evaluator_id, True, "examples")
    evaluation_anomalies_id = anomalies_id if evaluation_examples_id == raw_examples_id else None
    if evaluation_examples_id not in (None, raw_examples_id):
        evaluation_statistics_id = _newest_output(
            graph, evaluation_examples_id, "examples", "statistics"
        )
        evaluation_anomalies_id = _newest_output(
            graph, evaluation_statistics_id, "statistics", "anomalies"
        )

    contexts = _contexts(graph, producer_id, model_id)
    inputs = CardInputs(
        model=graph.artifact_ref(model_id),
        statistics=graph.optional_artifact_ref(statistics_id),
        schema=graph.optional_artifact_ref(schema_id),
        evaluation=graph.optional_artifact_ref(
            evaluator_id and graph.io(evaluator_id, False, "evaluation")
        ),
        blessing=graph.optional_artifact_ref(
            evaluator_id and graph.io(evaluator_id, False, "blessing")
        ),
        pushed_model=graph.optional_artifact_ref(
            pusher_id and graph.io(pusher_id, False, "pushed_model")
        ),
        examples=graph.optional_artifact_ref(raw_examples_id),
        transformed_examples=graph.optional_artifact_ref(examples_id) if transform_id else None,
        transform_graph=graph.optional_artifact_ref(transform_graph_id),
        anomalies=graph.optional_artifact_ref(anomalies_id),
        evaluation_anomalies=graph.optional_artifact_ref(evaluation_anomalies_id),
        hyperparameters=graph.optional_artifact_ref(trainer_input("hyperparameters")),
        trainer=graph.optional_execution_ref(trainer_id),
        transform=graph.optional_execution_ref(transform_id),
        evaluator=graph.optional_execution_ref(evaluator_id),
        pipeline=contexts.get(constants.PIPELINE_CONTEXT_TYPE),
        run=contexts.get(constants.PIPELINE_RUN_CONTEXT_TYPE),
    )
    if not with_baseline:
        return inputs
    # Hop 7: the model the Evaluator compared this one with (TFX's latest blessed model
    # resolver feeds it), else a search for the pipeline's previous blessed model.
    baseline_id = evaluator_id and graph.io(evaluator_id, True, "baseline_model")
    basis = EVALUATOR_BASELINE
    if baseline_id in (None, model_id) and inputs.pipeline is not None:
        baseline_id = _previous_blessed_model(graph, inputs.pipeline, graph.artifacts[model_id])
        basis = PREVIOUS_BLESSED
    if baseline_id in (None, model_id):
        return inputs
    return dataclasses.replace(
        inputs, baseline=_resolve(graph, baseline_id, with_baseline=False), baseline_basis=basis
    )


def _newest_output(graph: _Graph, artifact_id: int | None, role: str, output: str) -> int | None:
    """The newest `output` of the executions that read the artifact as `role`."""
    if artifact_id is None:
        return None
    graph.expand_artifacts([artifact_id])
    readers = graph.consumers(artifact_id, role=role)
    graph.expand_executions(readers)
    candidates = [o for o in (graph.io(r, False, output) for r in readers) if o is not None]
    return max(candidates) if candidates else None


def _latest_consumer_writing(graph: _Graph, model_id: int, type_name: str) -> int | None:
    """The newest execution that read the model as "model" and wrote a `type_name`."""
    matches = [
        c
        for c in graph.consumers(model_id, role="model")
        if any(
            e.type in _OUTPUT_TYPES and graph.artifact_type(e.artifact_id) == type_name
            for e in graph.events_by_execution[c]
        )
    ]
    return max(matches) if matches else None


def _contexts(graph: _Graph, execution_id: int | None, model_id: int) -> dict[str, ContextRef]:
    """The `pipeline` and `pipeline_run` contexts of the execution that produced the model."""
    found = []
    run = _run_context(graph, execution_id) if execution_id is not None else None
    if run is not None:
        found = [run, *graph.store.get_parent_contexts_by_context(run.id)]
        graph.name_types("context", found)
    if not any(graph.type_name("context", c) == constants.PIPELINE_CONTEXT_TYPE for c in found):
        # No run found among the newest contexts, or one without a parent pipeline
        # (a store written by hand or by an older orchestrator): ask MLMD, which reads
        # every association.
        found = (
            graph.store.get_contexts_by_execution(execution_id)
            if execution_id is not None
            else graph.store.get_contexts_by_artifact(model_id)
        )
        graph.name_types("context", found)
    result: dict[str, ContextRef] = {}
    for context in found:
        type_name = graph.type_name("context", context)
        if (
            type_name in (constants.PIPELINE_CONTEXT_TYPE, constants.PIPELINE_RUN_CONTEXT_TYPE)
            and type_name not in result
        ):
            result[type_name] = ContextRef(type_name, context.name, context.id)
    return result


def _run_context(graph: _Graph, execution_id: int) -> Any | None:
    """The `pipeline_run` context of an execution, if it is among the newest contexts.

    A run's context is created before its executions, so it is one of the contexts
    created up to the execution (MLMD indexes their creation time), read newest first
    in pages. Each `pipeline_run` among them is checked for the execution with one
    indexed lookup: concurrent runs of other pipelines are skipped.
    """
    from ml_metadata.metadata_store import metadata_store

    created = int(graph.executions[execution_id].create_time_since_epoch)
    condition = f"create_time_since_epoch <= {created}"
    checked = 0
    for _ in range(RECENT_CONTEXT_PAGES):
        options = metadata_store.ListOptions(
            limit=RECENT_CONTEXT_PAGE,
            order_by=metadata_store.OrderByField.ID,
            is_asc=False,
            filter_query=condition,
        )
        page = graph.store.get_contexts(list_options=options)
        graph.name_types("context", page)
        for context in page:
            if graph.type_name("context", context) != constants.PIPELINE_RUN_CONTEXT_TYPE:
                continue
            if checked == RUN_CANDIDATES:
                return None
            checked += 1
            members = graph.store.get_executions_by_context(context.id)
            if any(e.id == execution_id for e in members):
                return context
        if len(page) < RECENT_CONTEXT_PAGE:
            return None
        condition = f"create_time_since_epoch <= {created} AND id < {page[-1].id}"
    return None


def previous_blessed_model(store: Any, pipeline: ContextRef, model_id: int) -> int | None:
    """The id of the newest model of the pipeline blessed before this model was created.

    Args:
        store: an `ml_metadata.MetadataStore`.
        pipeline: the model's pipeline context.
        model_id: the MLMD id of the model.

    Raises:
        LineageError: no artifact has that id.
    """
    graph = _Graph(store)
    return _previous_blessed_model(graph, pipeline, graph.artifact(model_id))


def _previous_blessed_model(graph: _Graph, pipeline: ContextRef, model: Any) -> int | None:
    """See `previous_blessed_model`.

    MLMD numbers artifacts in the order they are created, so the artifacts created just
    before the model are the ids just below its own: they are read a page at a time, by
    id (a primary-key lookup), newest first, until a ModelBlessing that blessed another
    model of the pipeline turns up. After `RECENT_ARTIFACT_PAGES` pages, it asks MLMD
    for the pipeline's blessings instead, a query that reads all of them.
    """
    if pipeline.id is None:  # not a context read from MLMD
        return None
    before = model.id
    for _ in range(RECENT_ARTIFACT_PAGES):
        ids = range(before - 1, max(before - 1 - RECENT_ARTIFACT_PAGE, 0), -1)
        if not ids:
            return None  # the start of the store
        page = sorted(graph.store.get_artifacts_by_id(list(ids)), key=lambda a: -a.id)
        graph.name_types("artifact", page)
        for artifact in page:
            blessed = _blessed_model_id(graph, artifact)
            if blessed not in (None, model.id) and _in_context(graph.store, artifact, pipeline.id):
                return blessed
        before = ids[-1]
    return _previous_blessed_model_by_query(graph.store, pipeline.id, model)


def _blessed_model_id(graph: _Graph, artifact: Any) -> int | None:
    """The model a ModelBlessing artifact blessed; None for anything else."""
    if graph.type_name("artifact", artifact) != constants.MODEL_BLESSING_TYPE:
        return None
    properties = properties_of(artifact)
    if (
        properties.get(constants.BLESSED_PROPERTY) != 1
        or properties.get(constants.CURRENT_MODEL_ID_PROPERTY) is None
    ):
        return None
    return int(properties[constants.CURRENT_MODEL_ID_PROPERTY])


def _in_context(store: Any, artifact: Any, context_id: int) -> bool:
    """Whether the artifact is attributed to the context (one lookup by both ids)."""
    from ml_metadata.metadata_store import metadata_store

    options = metadata_store.ListOptions(
        filter_query=f"id = {int(artifact.id)} AND contexts_a.id = {int(context_id)}"
    )
    return bool(store.get_artifacts(list_options=options))


def _previous_blessed_model_by_query(store: Any, pipeline_id: int, model: Any) -> int | None:
    from ml_metadata.metadata_store import metadata_store

    options = metadata_store.ListOptions(
        limit=5,
        order_by=metadata_store.OrderByField.CREATE_TIME,
        is_asc=False,
        filter_query=(
            "type = 'ModelBlessing' AND custom_properties.blessed.int_value = 1 "
            f"AND contexts_a.id = {int(pipeline_id)} "
            f"AND create_time_since_epoch < {int(model.create_time_since_epoch)}"
        ),
    )
    for blessing in store.get_artifacts(list_options=options):
        current = blessing.custom_properties.get(constants.CURRENT_MODEL_ID_PROPERTY)
        if current is not None and current.int_value != model.id:
            return current.int_value
    return None


def newest_model_id(store: Any, pipeline_name: str) -> int:
    """The id of the newest Model artifact produced in a pipeline.

    Raises:
        LineageError: no such pipeline, or it has no model.
    """
    if store.get_context_by_type_and_name(constants.PIPELINE_CONTEXT_TYPE, pipeline_name) is None:
        names = sorted(c.name for c in store.get_contexts_by_type(constants.PIPELINE_CONTEXT_TYPE))
        raise LineageError(f"MLMD has no pipeline named {pipeline_name!r}; pipelines: {names}")
    models = newest_in_pipeline(store, "Model", pipeline_name)
    if not models:
        raise LineageError(f"pipeline {pipeline_name!r} has no Model artifact")
    return models[0].id


def newest_in_pipeline(
    store: Any, type_name: str, pipeline_name: str, condition: str = ""
) -> list[Any]:
    """The newest artifact of a type in a pipeline (meeting an MLMD filter `condition`)."""
    from ml_metadata.metadata_store import metadata_store

    options = metadata_store.ListOptions(
        limit=1,
        order_by=metadata_store.OrderByField.ID,
        is_asc=False,
        filter_query=(
            f"type = '{_quote(type_name)}' AND contexts_a.type = 'pipeline' AND "
            f"contexts_a.name = '{_quote(pipeline_name)}'"
            + (f" AND {condition}" if condition else "")
        ),
    )
    return list(store.get_artifacts(list_options=options))


def _quote(text: str) -> str:
    return text.replace("'", "''")
