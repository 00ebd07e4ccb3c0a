"""The card data model and its JSON Schema (pure, no TensorFlow)."""

from __future__ import annotations

import json

import pytest

from mct_component import card
from mct_component.errors import CardValidationError
from tests.factories import make_card


def test_full_card_matches_schema():
    card.validate_card_dict(make_card().to_dict())


def test_minimal_card_matches_schema():
    minimal = card.ModelCard(model_details=card.ModelDetails(name="m", version="1", uri="/m"))
    card.validate_card_dict(minimal.to_dict())


def test_to_dict_is_json_with_lists():
    data = make_card().to_dict()
    assert data["datasets"][1] == {
        "name": "eval",
        "num_examples": 103,
        "num_features": 7,
        "source": {
            "type_name": "ExampleStatistics",
            "uri": "/root/stats/3",
            "artifact_id": 3,
            "execution_id": None,
        },
        "features": [],
    }
    assert data["datasets"][0]["features"][0]["chart"]["kind"] == "histogram"
    assert isinstance(data["quantitative_analysis"]["slices"], list)
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["model_details"].update(name=""), r"model_details\.name"),
        (lambda d: d["datasets"][0].update(num_examples=-1), r"datasets\[0\]\.num_examples"),
        (lambda d: d.update(status="shipped"), r"at status"),
        (lambda d: d.update(extra=1), r"<card>: Additional properties"),
        (
            lambda d: d["datasets"][0]["features"][0]["chart"].update(kind="pie"),
            r"datasets\[0\]\.features\[0\]\.chart",
        ),
        (lambda d: d["training"].update(train_steps="many"), r"training\.train_steps"),
        (
            lambda d: d["quantitative_analysis"]["overall"][0].update(value="high"),
            r"quantitative_analysis\.overall\[0\]\.value",
        ),
    ],
)
def test_invalid_cards_are_rejected_naming_the_field(mutate, where):
    data = make_card().to_dict()
    mutate(data)
    with pytest.raises(CardValidationError, match=where):
        card.validate_card_dict(data)


def test_metric_label_includes_sub_key():
    assert card.Metric("precision", 0.5, sub_key="class_id=1").label == "precision [class_id=1]"
    assert card.Metric("auc", 0.5).label == "auc"
