"""The card data model and its JSON Schema (pure, no TensorFlow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mct_component import card
from mct_component.card import charts, validation
from mct_component.errors import CardContentError, CardValidationError, SourceError
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


def test_metric_label_includes_sub_key():
    assert card.Metric("precision", 0.5, sub_key="class_id=1").label == "precision [class_id=1]"
    assert card.Metric("auc", 0.5).label == "auc"


def test_from_dict_reads_back_every_field_and_chart():
    original = make_card()
    assert card.Card.from_dict(original.to_dict()) == original
    assert card.Card.from_json(original.to_json()) == original
    assert card.Card.from_json(original.to_json(indent=2)) == original
    chart = card.Card.from_dict(original.to_dict()).datasets[0].features[0].chart
    assert isinstance(chart, charts.Histogram) and chart.buckets[0] == charts.Bucket(
        32.1, 45.0, 120
    )


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "a card must be JSON"),
        ("[1, 2]", "a card must be a JSON object, got list"),
        (
            '{"schema_version": "1.1"}',
            'the card does not match its schema at <card>: "model_details" is a required',
        ),
    ],
)
def test_from_json_rejects_what_is_not_a_card(text, match):
    with pytest.raises(CardValidationError, match=match):
        card.Card.from_json(text)


def test_from_dict_names_the_invalid_field():
    data = make_card().to_dict()
    data["datasets"][0]["features"][0]["chart"]["buckets"][0]["count"] = "many"
    with pytest.raises(CardValidationError, match=r"datasets\[0\]\.features\[0\]\.chart"):
        card.Card.from_dict(data)


def test_save_and_load_by_file_or_folder(tmp_path):
    original = make_card()
    original.save(str(tmp_path / "model_card.json"))
    assert card.Card.load(str(tmp_path / "model_card.json")) == original
    assert card.Card.load(str(tmp_path)) == original
    assert os.listdir(tmp_path) == ["model_card.json"]  # no temporary file left


def test_load_of_a_folder_without_a_card(tmp_path):
    with pytest.raises(SourceError, match=r"expected model_card\.json or a folder holding it"):
        card.Card.load(str(tmp_path))


def test_replace_is_checked_against_the_schema():
    assert make_card().replace(status="approved").status == "approved"
    with pytest.raises(CardValidationError, match=r'at status: "shipped" is not one of \["draft"'):
        make_card().replace(status="shipped")


def test_with_content_changes_only_the_sections_given():
    original = make_card()
    edited = original.with_content({"intended_use": {"primary_uses": ["Teaching."]}})
    assert edited.considerations.intended_use.primary_uses == ("Teaching.",)
    assert edited.considerations.limitations == original.considerations.limitations
    assert edited.datasets == original.datasets  # charts are data: nothing is recomputed
    restored = edited.replace(considerations=original.considerations, completeness=None)
    assert restored == original
    assert edited.completeness is not None  # assessed anew with the content


def test_with_content_is_validated():
    with pytest.raises(CardContentError, match="unknown field 'intended_uses'"):
        make_card().with_content({"intended_uses": {}})


def test_card_shows_itself_as_html_in_a_notebook():
    html = make_card().with_content({"limitations": ["<b>not bold</b>"]})._repr_html_()
    assert html.startswith("<!DOCTYPE html>") and "Penguin classifier" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold" not in html


def test_loading_and_saving_a_local_card_does_not_import_tensorflow(tmp_path):
    make_card().save(str(tmp_path / "model_card.json"))
    script = (
        "import sys, mct_component as mct\n"
        f"card = mct.Card.load({str(tmp_path)!r}).with_content({{'tradeoffs': ['x']}})\n"
        f"mct.write_card(card, {str(tmp_path / 'out')!r})\n"
        "print(sorted(m for m in ('tensorflow', 'tfx.dsl.io.fileio') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert card.Card.load(str(tmp_path / "out")).considerations.tradeoffs == ("x",)


def test_loading_something_huge_or_deep_is_refused(tmp_path):
    with pytest.raises(CardValidationError, match="nested as the card schema says"):
        card.Card.from_json("[" * 100_000 + "]" * 100_000)
    link = tmp_path / "model_card.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(SourceError, match="is not a regular file"):
        card.Card.load(str(tmp_path))  # a device is never read, however long it would run
    link.unlink()
    with open(link, "wb") as sparse:  # 300 MB that take no disk space
        sparse.truncate(300 * 1024 * 1024)
    with pytest.raises(SourceError, match="is larger than 268,435,456 bytes"):
        card.Card.load(str(tmp_path))
