"""The searches that keep lineage resolution flat, on small MLMD stores written by hand.

Each store records runs the way TFX 1.16 does (a `pipeline_run` context that is a child
of its `pipeline` context, INPUT/OUTPUT events keyed by role), in an order chosen to
trip the searches: runs that start while another is going, a pipeline sharing the
store, unblessed models, stores without parent contexts. No TensorFlow is imported.
"""

from __future__ import annotations

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from mct_component import lineage


class Recorder:
    """Writes contexts, executions and artifacts into a fresh SQLite MLMD store."""

    def __init__(self, path):
        config = pb.ConnectionConfig()
        config.sqlite.filename_uri = str(path)
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(config)
        self.pipelines: dict[str, pb.Context] = {}

    def pipeline(self, name: str) -> pb.Context:
        self.pipelines[name] = self._context("pipeline", name)
        return self.pipelines[name]

    def run(self, pipeline: str, name: str, with_parent: bool = True) -> pb.Context:
        run = self._context("pipeline_run", name)
        if with_parent:
            parent = self.pipelines[pipeline]
            self.store.put_parent_contexts([pb.ParentContext(child_id=run.id, parent_id=parent.id)])
        return run

    def execute(self, component: str, pipeline: str, run: pb.Context, inputs=None, outputs=None):
        """Records a component run; returns its output artifacts by role."""
        execution = pb.Execution(
            type_id=self.store.put_execution_type(pb.ExecutionType(name=f"tfx.{component}")),
            last_known_state=pb.Execution.COMPLETE,
        )
        pairs = [(a, _event(pb.Event.INPUT, role)) for role, a in (inputs or {}).items()]
        created = []
        for role, (type_name, custom) in (outputs or {}).items():
            artifact = pb.Artifact(
                type_id=self.store.put_artifact_type(pb.ArtifactType(name=type_name)),
                uri=f"/{pipeline}/{run.name}/{component}/{role}",
            )
            for key, value in custom.items():
                artifact.custom_properties[key].int_value = value
            pairs.append((artifact, _event(pb.Event.OUTPUT, role)))
            created.append((role, artifact))
        _, ids, _ = self.store.put_execution(
            execution, pairs, [self.pipelines[pipeline], run], reuse_context_if_already_exist=True
        )
        for (_role, artifact), artifact_id in zip(
            created, ids[len(pairs) - len(created) :], strict=True
        ):
            artifact.id = artifact_id
        return dict(created)

    def train_and_evaluate(self, pipeline: str, run: pb.Context, blessed: bool, baseline=None):
        """A Trainer and an Evaluator run; returns the model and its blessing."""
        model = self.execute("Trainer", pipeline, run, outputs={"model": ("Model", {})})["model"]
        inputs = {"model": model, **({"baseline_model": baseline} if baseline else {})}
        blessing = self.execute(
            "Evaluator",
            pipeline,
            run,
            inputs=inputs,
            outputs={
                "evaluation": ("ModelEvaluation", {}),
                "blessing": (
                    "ModelBlessing",
                    {"blessed": int(blessed), "current_model_id": model.id},
                ),
            },
        )["blessing"]
        return model, blessing

    def _context(self, type_name: str, name: str) -> pb.Context:
        type_id = self.store.put_context_type(pb.ContextType(name=type_name))
        context = pb.Context(type_id=type_id, name=name)
        [context.id] = self.store.put_contexts([context])
        return context


def _event(kind, role):
    event = pb.Event(type=kind)
    event.path.steps.add().key = role
    return event


@pytest.fixture
def recorder(tmp_path):
    return Recorder(tmp_path / "metadata.sqlite")


def test_run_started_in_between_is_skipped(recorder):
    recorder.pipeline("p")
    first = recorder.run("p", "run-1")
    second = recorder.run("p", "run-2")  # created later, newest before the Trainer below
    model, _ = recorder.train_and_evaluate("p", first, blessed=True)
    recorder.train_and_evaluate("p", second, blessed=True)

    store = Spy(recorder.store)
    inputs = lineage.resolve_lineage(store, model.id)
    assert (inputs.run.name, inputs.pipeline.name) == ("run-1", "p")
    assert "get_contexts_by_execution" not in store.called


def test_run_without_a_parent_pipeline_is_found_by_mlmd(recorder):
    recorder.pipeline("p")
    run = recorder.run("p", "run-1", with_parent=False)
    model, _ = recorder.train_and_evaluate("p", run, blessed=True)

    store = Spy(recorder.store)
    inputs = lineage.resolve_lineage(store, model.id)
    assert (inputs.run.name, inputs.pipeline.name) == ("run-1", "p")
    assert "get_contexts_by_execution" in store.called


class Spy:
    """Forwards to a MetadataStore and records the names of the methods called."""

    def __init__(self, store):
        self._store = store
        self.called: list[str] = []

    def __getattr__(self, name):
        self.called.append(name)
        return getattr(self._store, name)


@pytest.mark.parametrize(
    ("page", "pages", "candidates", "searched"),
    [(1, 10, 5, True), (20, 5, 1, False), (1, 1, 5, False)],
    ids=["paged", "too-many-runs", "too-many-contexts"],
)
def test_run_is_searched_then_asked_of_mlmd(
    recorder, monkeypatch, page, pages, candidates, searched
):
    monkeypatch.setattr(lineage, "RECENT_CONTEXT_PAGE", page)
    monkeypatch.setattr(lineage, "RECENT_CONTEXT_PAGES", pages)
    monkeypatch.setattr(lineage, "RUN_CANDIDATES", candidates)
    recorder.pipeline("p")
    first = recorder.run("p", "run-1")
    recorder.run("p", "run-2")
    model, _ = recorder.train_and_evaluate("p", first, blessed=True)

    store = Spy(recorder.store)
    inputs = lineage.resolve_lineage(store, model.id)
    assert (inputs.run.name, inputs.pipeline.name) == ("run-1", "p")
    assert ("get_contexts_by_execution" not in store.called) == searched


@pytest.fixture
def history(recorder):
    """Pipeline "p" blesses m1, pipeline "q" blesses its own model later, "p" rejects m2."""
    recorder.pipeline("p")
    recorder.pipeline("q")
    m1, _ = recorder.train_and_evaluate("p", recorder.run("p", "p-1"), blessed=True)
    other, _ = recorder.train_and_evaluate("q", recorder.run("q", "q-1"), blessed=True)
    m2, _ = recorder.train_and_evaluate("p", recorder.run("p", "p-2"), blessed=False)
    return recorder, m1, other, m2


@pytest.mark.parametrize(
    ("page", "pages", "searched"),
    [(32, 16, True), (1, 50, True), (1, 1, False)],
    ids=["one-page", "many-pages", "query-fallback"],
)
def test_previous_blessed_model_of_the_same_pipeline(history, monkeypatch, page, pages, searched):
    monkeypatch.setattr(lineage, "RECENT_ARTIFACT_PAGE", page)
    monkeypatch.setattr(lineage, "RECENT_ARTIFACT_PAGES", pages)
    queried = []
    query = lineage._previous_blessed_model_by_query
    monkeypatch.setattr(
        lineage,
        "_previous_blessed_model_by_query",
        lambda *args: queried.append(args) or query(*args),
    )
    recorder, m1, _other, m2 = history
    m3, _ = recorder.train_and_evaluate("p", recorder.run("p", "p-3"), blessed=True)
    pipeline = lineage.ContextRef("pipeline", "p", recorder.pipelines["p"].id)

    assert lineage.previous_blessed_model(recorder.store, pipeline, m3.id) == m1.id
    assert lineage.previous_blessed_model(recorder.store, pipeline, m2.id) == m1.id
    assert lineage.previous_blessed_model(recorder.store, pipeline, m1.id) is None
    assert bool(queried) != searched


def test_baseline_is_the_evaluators_else_the_previous_blessed(history):
    recorder, m1, _other, m2 = history
    m3, _ = recorder.train_and_evaluate("p", recorder.run("p", "p-3"), blessed=True)
    m4, _ = recorder.train_and_evaluate("p", recorder.run("p", "p-4"), blessed=True, baseline=m2)

    searched = lineage.resolve_lineage(recorder.store, m3.id)
    assert (searched.baseline.model.id, searched.baseline_basis) == (m1.id, "previous_blessed")
    assert searched.baseline.run.name == "p-1"
    compared = lineage.resolve_lineage(recorder.store, m4.id)
    assert (compared.baseline.model.id, compared.baseline_basis) == (m2.id, "evaluator_baseline")
    assert lineage.CardInputs.from_json(compared.to_json()) == compared


def test_event_kinds_match_mlmd():
    assert set(lineage._INPUT_TYPES) == {pb.Event.INPUT, pb.Event.DECLARED_INPUT}
    assert set(lineage._OUTPUT_TYPES) == {pb.Event.OUTPUT, pb.Event.DECLARED_OUTPUT}
