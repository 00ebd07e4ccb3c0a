"""The card data model and its JSON Schema (pure, no TensorFlow)."""

from __future__ import annotations

import json

import fastjsonschema
import pytest

from mct_component import card, charts, validation
from mct_component.errors import CardValidationError
from tests.factories import make_card


def test_full_card_matches_schema():
    validation.validate_card_dict(make_card().to_dict())


def test_minimal_card_matches_schema():
    minimal = card.Card(model_details=card.ModelDetails(name="m", version="1", uri="/m"))
    validation.validate_card_dict(minimal.to_dict())


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


def _with_curve(data):
    curve = charts.Curve(
        title="ROC",
        description="True against false positive rate.",
        x_label="FPR",
        y_label="TPR",
        series=(charts.Series("model", ((0.0, 0.0), (0.5, 0.8), (1.0, 1.0))),),
    )
    data["quantitative_analysis"]["charts"].append(charts.chart_to_dict(curve))
    return data


def _points(data):
    return data["quantitative_analysis"]["charts"][-1]["series"][0]["points"]


INVALID = [
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
    (lambda d: _points(d)[1].append(0.3), r"charts\[1\]"),
    (lambda d: _points(d)[1].pop(), r"charts\[1\]"),
    (lambda d: d["comparison"].update(basis="latest"), r"comparison"),
]


@pytest.mark.parametrize(("mutate", "where"), INVALID)
def test_invalid_cards_are_rejected_naming_the_field(mutate, where):
    data = _with_curve(make_card().to_dict())
    validation.validate_card_dict(data)
    mutate(data)
    with pytest.raises(CardValidationError, match=where):
        validation.validate_card_dict(data)


@pytest.mark.parametrize(("mutate", "where"), INVALID)
def test_compiled_check_rejects_what_the_reference_rejects(mutate, where):
    # The compiled check is a draft-07 translation: if it let a fault through, the
    # reference validator (which only runs after a fault) would never see it.
    data = _with_curve(make_card().to_dict())
    validation._compiled_card_check()(data)
    mutate(data)
    with pytest.raises(fastjsonschema.JsonSchemaException):
        validation._compiled_card_check()(data)


def test_draft7_translation_refuses_keywords_it_does_not_know():
    with pytest.raises(ValueError, match=r"not translated to draft 7: \['unevaluatedProperties'\]"):
        validation._as_draft7({"type": "object", "unevaluatedProperties": False}, {})


def test_metric_label_includes_sub_key():
    assert card.Metric("precision", 0.5, sub_key="class_id=1").label == "precision [class_id=1]"
    assert card.Metric("auc", 0.5).label == "auc"
