"""Rendering cards to JSON, HTML and Markdown (pure, no TensorFlow)."""

from __future__ import annotations

import json
import re

import pytest

from mct_component import card, formatting, render
from mct_component.errors import ParameterError, TemplateError
from tests.factories import make_card


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    return render.render(make_card().to_dict())


def test_renders_every_format_by_default(outputs):
    documents = sorted(name for name in outputs if not name.startswith("charts/"))
    assert documents == ["model_card.html", "model_card.json", "model_card.md"]


def test_markdown_links_one_svg_file_per_chart(outputs):
    svg_files = sorted(name for name in outputs if name.startswith("charts/"))
    assert len(svg_files) == len(render.iter_charts(make_card().to_dict())) == 3
    for name in svg_files:
        assert name.endswith(".svg") and outputs[name].startswith("<svg")
        assert f"({name})" in outputs["model_card.md"]


def test_html_inlines_charts_with_unique_ids(outputs):
    html = outputs["model_card.html"]
    assert html.count("<svg") == 3
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) >= 3


def test_html_shows_training_thresholds_and_comparison(outputs):
    html = outputs["model_card.html"]
    assert "<h2>Training</h2>" in html and "hidden_units" in html
    assert '<span class="passed">passed</span>' in html
    assert "change (higher is better)</td><td>change -1e-10</td>" in html
    assert "Changes since the baseline model" in html and "+0.02" in html
    assert "the model the Evaluator compared this one with" in html


def test_json_is_the_card(outputs):
    assert json.loads(outputs["model_card.json"]) == make_card().to_dict()


def test_html_is_self_contained(outputs):
    html = outputs["model_card.html"]
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html


def test_html_shows_metrics_with_intervals_and_slices(outputs):
    html = outputs["model_card.html"]
    assert "sparse_categorical_accuracy" in html
    assert "0.9903" in html and "(0.9699 – 1.011)" in html
    assert "<td>island=Biscoe</td>" in html
    assert "blessed" in html
    # a slice lacking a metric gets a dash, not a crash
    assert re.search(r"<td>sex=female</td><td class=\"num\">50</td><td class=\"num\">–</td>", html)


def test_markdown_tables(outputs):
    md = outputs["model_card.md"]
    assert md.startswith("# Model card: Penguin classifier")
    assert "| eval | 103 | 7 |" in md
    assert "| sparse_categorical_accuracy | 0.9903 (0.9699 – 1.011) |" in md
    assert "| Slice | example_count | sparse_categorical_accuracy |" in md
    assert "| island=Biscoe | – | 0.98 (0.95 – 1) |" in md


def test_missing_inputs_are_announced():
    data = make_card(missing=("No ModelEvaluation: the card has no quantitative analysis.",))
    files = render.render(data.to_dict())
    assert "No ModelEvaluation" in files["model_card.html"]
    assert "> - No ModelEvaluation" in files["model_card.md"]


def test_empty_card_renders():
    bare = card.Card(model_details=card.ModelDetails(name="m", version="1", uri="/m"))
    files = render.render(bare.to_dict())
    assert "No evaluation was available." in files["model_card.html"]
    assert "_No dataset statistics were available._" in files["model_card.md"]


def test_user_text_is_escaped_in_html():
    details = card.ModelDetails(name="<script>alert(1)</script>", version="1", uri="/m")
    html = render.render(card.Card(model_details=details).to_dict(), ["html"])
    assert "<script>alert" not in html["model_card.html"]
    assert "&lt;script&gt;" in html["model_card.html"]


def test_markdown_cells_escape_pipes():
    assert formatting.markdown_cell("a|b\nc") == "a\\|b c"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "n/a"), (float("nan"), "n/a"), (103.0, "103"), (7, "7"), (0.123456, "0.1235")],
)
def test_format_number(value, text):
    assert formatting.format_number(value) == text


def test_selected_formats_only():
    assert list(render.render(make_card().to_dict(), ["html"])) == ["model_card.html"]


@pytest.mark.parametrize("formats", [["pdf"], [], ["html", "docx"]])
def test_unknown_formats_are_rejected(formats):
    with pytest.raises(ParameterError, match=r"output_formats must be .*\['json', 'html', 'md'\]"):
        render.render(make_card().to_dict(), formats)


def test_custom_template_replaces_default():
    files = render.render(
        make_card().to_dict(), ["md"], {"md": "Card {{ card.model_details.name }}"}
    )
    assert files["model_card.md"] == "Card Penguin classifier"


def test_custom_template_can_extend_default():
    source = '{% extends "model_card.html.jinja" %}{% block style %}body{color:red}{% endblock %}'
    html = render.render(make_card().to_dict(), ["html"], {"html": source})["model_card.html"]
    assert "body{color:red}" in html and "sparse_categorical_accuracy" in html


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{% for x in %}", "html template has a syntax error at line 1"),
        ("{{ card.no_such_field }}", "html template uses an unknown card field"),
    ],
)
def test_broken_custom_templates(source, message):
    with pytest.raises(TemplateError, match=message):
        render.render(make_card().to_dict(), ["html"], {"html": source})


def test_templates_only_for_html_and_markdown():
    with pytest.raises(ParameterError, match=r"unknown format\(s\) \['json'\]"):
        render.render(make_card().to_dict(), ["json"], {"json": "x"})


def test_html_and_markdown_format_the_same_values_alike():
    six_values = tuple(card.TopValue(f"v{i}", 10.0 - i) for i in range(6))
    feature = card.FeatureSummary("f", "STRING", 0.0, unique=6, top_values=six_values)
    base = make_card()
    model_card = base.replace(
        datasets=(base.datasets[0].replace(features=(feature,)),),
        model_details=base.model_details.replace(
            references=("https://example.com/paper",),
            signatures=(
                card.Signature(
                    "serving_default",
                    "tensorflow/serving/predict",
                    inputs=(card.TensorInfo("x", "x:0", "float32", (None, 3)),),
                ),
            ),
        ),
    )
    outputs = render.render(model_card.to_dict(), ["html", "md"])
    expected = [
        "v0 (10), v1 (9), v2 (8), v3 (7), v4 (6)",  # the five most frequent, in both
        "float32[?, 3]",
        "≥ 0.6",
        "change -1e-10",
        "change (higher is better)",
        "https://example.com/paper",
        "(0.9699 – 1.011)",
        "+0.02",
        "the model the Evaluator compared this one with",
    ]
    for name in ("model_card.html", "model_card.md"):
        text = outputs[name]
        for value in expected:
            assert value in text
        assert "v5 (5)" not in text
