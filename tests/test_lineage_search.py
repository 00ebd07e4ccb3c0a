"""The searches that keep lineage resolution flat, on small MLMD stores written by hand.

Each store records runs the way TFX 1.16 does, through `tests/mlmd_writer.py` (a
`pipeline_run` context that is a child of its `pipeline` context, INPUT/OUTPUT events
keyed by role), in an order chosen to trip the searches: runs that start while another
is going, a pipeline sharing the store, unblessed models, stores without parent
contexts. No TensorFlow is imported.
"""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from mct_component.mlmd import lineage
from mct_component.readers import refs
from tests import mlmd_writer

NODES = {node: mlmd_writer.COMPONENT_TYPES[node] for node in ("Trainer", "Evaluator")}


@pytest.fixture
def writer(tmp_path):
    return mlmd_writer.Writer.open(tmp_path / "metadata.sqlite")


def train_and_evaluate(writer, run, blessed: bool, baseline=None):
    """A Trainer and an Evaluator run; returns the model and its blessing."""
    prefix = f"/{run.pipeline.context.name}/{run.context.name}"
    model = writer.artifact("Model", f"{prefix}/Trainer/model")
    writer.execute(run, "Trainer", outputs={"model": model})
    blessing = writer.artifact(
        "ModelBlessing",
        f"{prefix}/Evaluator/blessing",
        custom_properties={"blessed": int(blessed), "current_model_id": model.id},
    )
    writer.execute(
        run,
        "Evaluator",
        inputs={"model": model, **({"baseline_model": baseline} if baseline else {})},
        outputs={
            "evaluation": writer.artifact("ModelEvaluation", f"{prefix}/Evaluator/evaluation"),
            "blessing": blessing,
        },
    )
    return model, blessing


def test_run_started_in_between_is_skipped(writer):
    p = writer.pipeline("p", NODES)
    first = writer.run(p, "run-1")
    second = writer.run(p, "run-2")  # created later, newest before the Trainer below
    model, _ = train_and_evaluate(writer, first, blessed=True)
    train_and_evaluate(writer, second, blessed=True)

    store = Spy(writer.store)
    inputs = lineage.resolve_lineage(store, model.id)
    assert (inputs.run.name, inputs.pipeline.name) == ("run-1", "p")
    assert "get_contexts_by_execution" not in store.called


def test_run_without_a_parent_pipeline_is_found_by_mlmd(writer):
    run = writer.run(writer.pipeline("p", NODES), "run-1", with_parent=False)
    model, _ = train_and_evaluate(writer, run, blessed=True)

    store = Spy(writer.store)
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
def test_run_is_searched_then_asked_of_mlmd(writer, monkeypatch, page, pages, candidates, searched):
    monkeypatch.setattr(lineage, "RECENT_CONTEXT_PAGE", page)
    monkeypatch.setattr(lineage, "RECENT_CONTEXT_PAGES", pages)
    monkeypatch.setattr(lineage, "RUN_CANDIDATES", candidates)
    p = writer.pipeline("p", NODES)
    first = writer.run(p, "run-1")
    writer.run(p, "run-2")
    model, _ = train_and_evaluate(writer, first, blessed=True)

    store = Spy(writer.store)
    inputs = lineage.resolve_lineage(store, model.id)
    assert (inputs.run.name, inputs.pipeline.name) == ("run-1", "p")
    assert ("get_contexts_by_execution" not in store.called) == searched


@pytest.fixture
def history(writer):
    """Pipeline "p" blesses m1, pipeline "q" blesses its own model later, "p" rejects m2.

    Returns pipeline "p", m1 and m2.
    """
    p = writer.pipeline("p", NODES)
    q = writer.pipeline("q", NODES)
    m1, _ = train_and_evaluate(writer, writer.run(p, "p-1"), blessed=True)
    train_and_evaluate(writer, writer.run(q, "q-1"), blessed=True)
    m2, _ = train_and_evaluate(writer, writer.run(p, "p-2"), blessed=False)
    return p, m1, m2


@pytest.mark.parametrize(
    ("page", "pages", "searched"),
    [(32, 16, True), (1, 50, True), (1, 1, False)],
    ids=["one-page", "many-pages", "query-fallback"],
)
def test_previous_blessed_model_of_the_same_pipeline(
    writer, history, monkeypatch, page, pages, searched
):
    monkeypatch.setattr(lineage, "RECENT_ARTIFACT_PAGE", page)
    monkeypatch.setattr(lineage, "RECENT_ARTIFACT_PAGES", pages)
    queried = []
    query = lineage._previous_blessed_model_by_query
    monkeypatch.setattr(
        lineage,
        "_previous_blessed_model_by_query",
        lambda *args: queried.append(args) or query(*args),
    )
    p, m1, m2 = history
    m3, _ = train_and_evaluate(writer, writer.run(p, "p-3"), blessed=True)
    pipeline = refs.ContextRef("pipeline", "p", p.context.id)

    assert lineage.previous_blessed_model(writer.store, pipeline, m3.id) == m1.id
    assert lineage.previous_blessed_model(writer.store, pipeline, m2.id) == m1.id
    assert lineage.previous_blessed_model(writer.store, pipeline, m1.id) is None
    assert bool(queried) != searched


def test_baseline_is_the_evaluators_else_the_previous_blessed(writer, history):
    p, m1, m2 = history
    m3, _ = train_and_evaluate(writer, writer.run(p, "p-3"), blessed=True)
    m4, _ = train_and_evaluate(writer, writer.run(p, "p-4"), blessed=True, baseline=m2)

    searched = lineage.resolve_lineage(writer.store, m3.id)
    assert (searched.baseline.model.id, searched.baseline_basis) == (m1.id, "previous_blessed")
    assert searched.baseline.run.name == "p-1"
    compared = lineage.resolve_lineage(writer.store, m4.id)
    assert (compared.baseline.model.id, compared.baseline_basis) == (m2.id, "evaluator_baseline")
    assert refs.CardInputs.from_json(compared.to_json()) == compared


def test_event_kinds_match_mlmd():
    assert set(lineage._INPUT_TYPES) == {pb.Event.INPUT, pb.Event.DECLARED_INPUT}
    assert set(lineage._OUTPUT_TYPES) == {pb.Event.OUTPUT, pb.Event.DECLARED_OUTPUT}
