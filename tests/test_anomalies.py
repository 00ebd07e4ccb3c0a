"""ExampleValidator's anomalies in the card: found through lineage, shown in every format."""

from __future__ import annotations

import csv
import os

import pytest

import mct_component as mct
from mct_component import card as card_module
from mct_component import render

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _penguins(run) -> list[dict[str, str]]:
    data_root = os.path.join(run.output_dir, "data")
    (name,) = os.listdir(data_root)
    with open(os.path.join(data_root, name), newline="") as f:
        return list(csv.DictReader(f))


def test_anomalies_of_the_training_data_are_in_the_card(minimal_run):
    """The minimal pipeline's expectations (pipelines/penguin_expectations.pbtxt) leave out
    the Torgersen island and cap body mass at 5,000 g; the data breaks both."""
    rows = _penguins(minimal_run)
    expected = set()
    if any(r["island"] == "Torgersen" for r in rows):
        expected.add("island")
    if any(r["body_mass_g"] and float(r["body_mass_g"]) > 5000 for r in rows):
        expected.add("body_mass_g")
    assert expected, "the data no longer breaks the expectations: the test would prove nothing"

    trained, _ = minimal_run.trained_and_imported_models()
    card = mct.card_from_mlmd(minimal_run.metadata_path, trained.id)

    (validation,) = card.data_validation
    (anomalies_artifact,) = minimal_run.artifacts("ExampleAnomalies")
    assert validation.source.artifact_id == anomalies_artifact.id
    assert validation.source.type_name == "ExampleAnomalies"
    assert validation.data == "training"  # nothing evaluated this model
    assert set(validation.splits) == {"train", "eval"}
    assert {a.feature for a in validation.alerts} == expected
    assert {a.split for a in validation.alerts} <= set(validation.splits)
    island = next(a for a in validation.alerts if a.feature == "island")
    assert "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in island.kind
    assert "Torgersen" in island.description
    assert not any("No ExampleAnomalies" in note for note in card.missing)

    pages = render.render(card.to_dict(), ("html", "md"))
    for page in (pages["model_card.html"], pages["model_card.md"]):
        assert "Data validation" in page
        assert "Torgersen" in page
    reloaded = card_module.Card.from_json(card.to_json())
    assert reloaded.data_validation == card.data_validation


def test_a_clean_validation_covers_training_and_evaluation_data(penguin_run):
    model = penguin_run.artifacts("Model")[0]
    card = mct.card_from_mlmd(penguin_run.metadata_path, model.id)
    (validation,) = card.data_validation
    assert validation.data == "training and evaluation"
    assert validation.alerts == ()
    first_anomalies = penguin_run.artifacts("ExampleAnomalies")[0]
    assert validation.source.artifact_id == first_anomalies.id
    assert "no anomalies" in render.render(card.to_dict(), ("html",))["model_card.html"]


def test_a_model_without_validation_says_so(minimal_run):
    _, imported = minimal_run.trained_and_imported_models()
    card = mct.card_from_mlmd(minimal_run.metadata_path, imported.id)
    assert card.data_validation == ()
    assert any("No ExampleAnomalies" in note for note in card.missing)
    assert "The data was not validated" in render.render(card.to_dict(), ("md",))["model_card.md"]


def test_the_generator_reads_the_wired_example_validator(penguin_run):
    """The pipeline's generator (wired by from_components) wrote the anomalies it read."""
    card_artifact = penguin_run.artifacts("mct_component.ModelCard")[0]
    card = mct.Card.load(card_artifact.uri)
    (validation,) = card.data_validation
    assert validation.source.artifact_id == penguin_run.artifacts("ExampleAnomalies")[0].id
