"""Lineage resolution on real MLMD stores written by real pipeline runs."""

from __future__ import annotations

import pytest

from mct_component.errors import LineageError
from mct_component.mlmd import lineage, store
from mct_component.readers import refs

pytestmark = [pytest.mark.slow, pytest.mark.tf]


class CountingStore:
    """Forwards to a MetadataStore and records every method called on it."""

    def __init__(self, store):
        self._store = store
        self.calls: list[str] = []

    def __getattr__(self, name):
        method = getattr(self._store, name)

        def counted(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


@pytest.fixture(scope="module")
def models(penguin_run):
    first, second = penguin_run.artifacts("Model")
    return first, second


@pytest.fixture(scope="module")
def resolved(penguin_run, models):
    store = penguin_run.store()
    return [lineage.resolve_lineage(store, m.id) for m in models]


def test_everything_is_found_from_the_model_alone(resolved, models):
    inputs = resolved[1]
    assert inputs.model.id == models[1].id
    assert inputs.trainer.component == "Trainer"
    assert inputs.transform.component == "Transform"
    assert inputs.evaluator.component == "Evaluator"
    assert inputs.examples.type_name == "Examples" and "CsvExampleGen" in inputs.examples.uri
    assert "Transform" in inputs.transformed_examples.uri
    assert inputs.transform_graph.type_name == "TransformGraph"
    assert inputs.statistics.type_name == "ExampleStatistics"
    assert "StatisticsGen" in inputs.statistics.uri  # not Transform's pre/post statistics
    assert inputs.schema.type_name == "Schema" and "SchemaGen" in inputs.schema.uri
    assert inputs.evaluation.type_name == "ModelEvaluation"
    assert inputs.blessing.type_name == "ModelBlessing"
    assert inputs.pushed_model.type_name == "PushedModel"
    assert inputs.pipeline.name == "penguin-test"
    assert inputs.run.type_name == "pipeline_run"
    assert inputs.hyperparameters is None  # no Tuner in this pipeline


def test_each_model_gets_its_own_runs_artifacts(resolved, models):
    for inputs, model in zip(resolved, models, strict=True):
        assert inputs.blessing.properties["current_model_id"] == model.id
        assert inputs.trainer.id != resolved[0].trainer.id or model is models[0]
    assert resolved[0].run.name != resolved[1].run.name
    assert resolved[0].evaluation.id != resolved[1].evaluation.id
    assert (
        resolved[0].trainer.properties["train_args"] != resolved[1].trainer.properties["train_args"]
    )


def test_the_evaluators_baseline_is_the_baseline(resolved, models):
    assert resolved[0].baseline is None
    baseline = resolved[1].baseline
    assert baseline.model.id == models[0].id
    assert resolved[1].baseline_basis == refs.EVALUATOR_BASELINE
    assert baseline.evaluation.id == resolved[0].evaluation.id
    assert baseline.run == resolved[0].run
    assert baseline.baseline is None


def test_search_finds_the_same_previous_blessed_model(penguin_run, resolved, models):
    store = penguin_run.store()
    pipeline = resolved[1].pipeline
    assert lineage.previous_blessed_model(store, pipeline, models[1].id) == models[0].id
    assert lineage.previous_blessed_model(store, pipeline, models[0].id) is None


def test_contexts_are_the_ones_mlmd_associates(penguin_run, resolved):
    store = penguin_run.store()
    for inputs in resolved:
        contexts = {c.type: c.id for c in store.get_contexts_by_execution(inputs.trainer.id)}
        assert (inputs.pipeline.id, inputs.run.id) == (
            contexts["pipeline"],
            contexts["pipeline_run"],
        )


def test_store_calls_are_a_fixed_number(penguin_run, models):
    counts = []
    for model in models:
        store = CountingStore(penguin_run.store())
        lineage.resolve_lineage(store, model.id, with_baseline=False)
        counts.append(len(store.calls))
    assert counts[0] == counts[1]
    assert counts[0] <= 25


def test_round_trips_through_json(resolved):
    for inputs in resolved:
        assert refs.CardInputs.from_json(inputs.to_json()) == inputs


def test_explicit_inputs_win(resolved):
    other = refs.ArtifactRef(type_name="ExampleStatistics", uri="/elsewhere", id=999)
    merged = resolved[1].with_explicit(statistics=other, evaluation=None)
    assert merged.statistics == other
    assert merged.evaluation == resolved[1].evaluation


def test_pipeline_without_transform_or_evaluator(minimal_run):
    trained, _imported = minimal_run.trained_and_imported_models()
    inputs = lineage.resolve_lineage(minimal_run.store(), trained.id)
    assert inputs.trainer.component == "Trainer"
    assert inputs.transform is None and inputs.transformed_examples is None
    assert "CsvExampleGen" in inputs.examples.uri
    assert "StatisticsGen" in inputs.statistics.uri
    assert "SchemaGen" in inputs.schema.uri
    assert inputs.evaluation is None and inputs.blessing is None and inputs.pushed_model is None
    assert inputs.pipeline.name == "penguin-minimal"


def test_imported_model_has_no_training_lineage(minimal_run, penguin_run):
    _trained, imported = minimal_run.trained_and_imported_models()
    inputs = lineage.resolve_lineage(minimal_run.store(), imported.id)
    assert inputs.model.uri == penguin_run.artifacts("Model")[0].uri
    assert inputs.trainer is None and inputs.statistics is None and inputs.examples is None
    assert inputs.pipeline.name == "penguin-minimal"


def test_newest_model_of_a_pipeline(penguin_run, models):
    assert lineage.newest_model_id(penguin_run.store(), "penguin-test") == models[1].id


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: lineage.resolve_lineage(s, 10**6), "MLMD has no artifact with id 1000000"),
        (
            lambda s: lineage.newest_model_id(s, "nope"),
            r"no pipeline named 'nope'; pipelines: \['penguin-test'\]",
        ),
    ],
)
def test_lookup_errors(penguin_run, call, message):
    with pytest.raises(LineageError, match=message):
        call(penguin_run.store())


def test_non_model_artifact_is_rejected(penguin_run):
    schema = penguin_run.artifact("Schema")
    with pytest.raises(LineageError, match=rf"artifact {schema.id} is a Schema, expected a Model"):
        lineage.resolve_lineage(penguin_run.store(), schema.id)


def test_connect_checks_the_file(tmp_path):
    with pytest.raises(LineageError, match="MLMD store not found"):
        store.connect_sqlite(str(tmp_path / "missing.sqlite"))
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database " * 100)
    with pytest.raises(LineageError, match="is not an MLMD store: not a SQLite database"):
        store.connect_sqlite(str(text))
    import sqlite3

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(LineageError, match="is not an MLMD store: it has no MLMD schema"):
        store.connect_sqlite(str(other))
