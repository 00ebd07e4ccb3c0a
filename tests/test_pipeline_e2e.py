"""End to end: the penguin pipeline on LocalDagRunner registers a ModelCard in MLMD."""

from __future__ import annotations

import json
import os
import re

import pytest

from mct_component.assembly import assemble
from mct_component.card import validation
from tests.conftest import assert_output_of_card_generator

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture(scope="module")
def card_artifact(penguin_run):
    from mct_component.generator.artifact import ModelCard

    return penguin_run.artifact(ModelCard.TYPE_NAME)


def test_card_is_an_output_of_the_generator_execution(penguin_run, card_artifact):
    assert_output_of_card_generator(penguin_run.store(), card_artifact.id)


def test_card_files_are_written_and_valid(penguin_run, card_artifact):
    names = sorted(n for n in os.listdir(card_artifact.uri))
    assert names == [
        ".mct-card",
        "charts",
        "explanation_metadata.json",
        "model_card.html",
        "model_card.json",
        "model_card.md",
    ]
    with open(os.path.join(card_artifact.uri, "model_card.json")) as f:
        data = json.load(f)
    validation.validate_card_dict(data)
    assert data["model_details"]["name"] == "Palmer penguins species classifier"
    assert [d["name"] for d in data["datasets"]] == ["train", "eval"]
    # The card gates the push, so it is made before it; the second run's gate is unmet.
    assert data["missing"] == [
        assemble.MISSING_NOTES["pushed_model"],
        "The card's completeness 93% is under the gate's 99% "
        "(weakest: SageMaker model card: Business details).",
    ]
    assert data["deployment"] is None
    blessing = penguin_run.artifact("ModelBlessing", producer="Evaluator")
    assert data["quantitative_analysis"]["blessed"] is (
        blessing.get_int_custom_property("blessed") == 1
    )


def test_the_push_gate_lets_through_only_the_complete_card(penguin_run):
    """Run 1's card meets the demo's gate and is pushed; run 2's, under a stricter one, not."""
    gates = penguin_run.artifacts("ModelBlessing")
    gates = [a for a in gates if "/ModelCardGenerator/" in a.uri]
    pushes = penguin_run.artifacts("PushedModel")
    assert [g.get_int_custom_property("blessed") for g in gates] == [1, 0]
    assert [p.get_int_custom_property("pushed") for p in pushes] == [1, 0]
    assert os.path.exists(os.path.join(gates[0].uri, "BLESSED"))
    assert os.path.exists(os.path.join(gates[1].uri, "NOT_BLESSED"))
    # The Evaluator may also have refused run 2's model (its accuracy must not fall below
    # run 1's, and training is not seeded): the gate then gives that reason first.
    reasons = gates[1].get_string_custom_property("push_gate_reasons")
    assert "The card's completeness 93% is under the gate's 99%" in reasons
    models = penguin_run.artifacts("Model")
    assert [g.get_int_custom_property("current_model_id") for g in gates] == [m.id for m in models]


def test_confusion_matrix_names_the_species(penguin_run, card_artifact):
    import tensorflow_transform as tft

    with open(os.path.join(card_artifact.uri, "model_card.json")) as f:
        charts = json.load(f)["quantitative_analysis"]["charts"]
    (matrix,) = [c for c in charts if c["kind"] == "matrix"]
    graph = penguin_run.artifact("TransformGraph")
    vocabulary = tft.TFTransformOutput(graph.uri).vocabulary_by_name("species")
    assert matrix["row_labels"] == matrix["column_labels"] == [t.decode() for t in vocabulary]
    assert sorted(matrix["row_labels"]) == ["Adelie", "Chinstrap", "Gentoo"]


def test_html_shows_overall_and_per_slice_metrics_offline(card_artifact):
    with open(os.path.join(card_artifact.uri, "model_card.html")) as f:
        html = f.read()
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "sparse_categorical_accuracy" in html
    for slice_name in (
        "island=Biscoe",
        "island=Dream",
        "island=Torgersen",
        "sex=female",
        "sex=male",
    ):
        assert f"<td>{slice_name}</td>" in html


def test_artifact_properties_summarise_the_card(penguin_run, card_artifact):
    import tensorflow_model_analysis as tfma

    evaluation = penguin_run.artifact("ModelEvaluation")
    overall = next(
        m for m in tfma.load_metrics(evaluation.uri) if not m.slice_key.single_slice_keys
    )
    accuracy = next(
        kv.value.double_value.value
        for kv in overall.metric_keys_and_values
        if kv.key.name == "sparse_categorical_accuracy" and not kv.key.is_diff
    )
    props = card_artifact.mlmd_artifact.custom_properties
    assert props["model_name"].string_value == "Palmer penguins species classifier"
    blessing = penguin_run.artifact("ModelBlessing", producer="Evaluator")
    assert props["blessed"].int_value == blessing.get_int_custom_property("blessed")
    assert float(props["metric:sparse_categorical_accuracy"].string_value) == accuracy
    assert props["formats"].string_value == "json,html,md"
