"""Rendering cards to JSON, HTML and Markdown (pure, no TensorFlow)."""

from __future__ import annotations

import json
import re
from unittest import mock

import pytest

from mct_component import card, render
from mct_component.errors import ParameterError, TemplateError, TemplateNotFoundError
from mct_component.render import formatting
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
    # The TFMA charts' aria-labelledby targets; a feature's chart of all splits needs
    # none (its <title> and <desc> children name and describe it).
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) >= 2


def test_feature_charts_css_is_in_the_first_chart_and_for_print_in_each():
    """A browser applies an inline SVG's <style> to the page; WeasyPrint to that SVG only."""
    card_dict = make_card().to_dict()
    with mock.patch.object(render, "_pdf", return_value=b"%PDF-") as pdf:
        page = render.render(card_dict, ["html", "pdf"])["model_card.html"]
    printed = pdf.call_args.args[0]
    features = len(card_dict["datasets"][0]["features"])
    assert features >= 2
    for html, styled in ((page, [True] + [False] * (features - 1)), (printed, [True] * features)):
        charts = re.findall(r'<svg class="sc".*?</svg>', html)
        assert ["<style>" in chart for chart in charts] == styled
    assert page.replace(re.search("<style>.sc{.*?</style>", page)[0], "") == printed.replace(
        re.search("<style>.sc{.*?</style>", printed)[0], ""
    )


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


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a|b\nc", "a\\|b c"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("1. first", "1\\. first"),
        ("**bold** _it_ `code` ~~gone~~", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~gone\\~\\~"),
        ("feature_name & co", "feature_name &amp; co"),
    ],
)
def test_markdown_text_escapes_markup_and_structure(value, escaped):
    assert formatting.markdown_text(value) == escaped


def test_markdown_code_shows_backticks_and_pipes():
    assert formatting.markdown_code("a`b|c") == "``a`b\\|c``"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "n/a"), (float("nan"), "n/a"), (103.0, "103"), (7, "7"), (0.123456, "0.1235")],
)
def test_format_number(value, text):
    assert formatting.format_number(value) == text


def test_selected_formats_only():
    assert list(render.render(make_card().to_dict(), ["html"])) == ["model_card.html"]


@pytest.mark.parametrize("formats", [["docx"], [], ["html", "docx"]])
def test_unknown_formats_are_rejected(formats):
    with pytest.raises(
        ParameterError, match=r"output_formats must be .*\['json', 'html', 'md', 'pdf'\]"
    ):
        render.render(make_card().to_dict(), formats)


def write_template(folder, source: str, name: str = "card.jinja") -> str:
    path = folder / name
    path.write_text(source)
    return str(path)


def test_custom_template_replaces_default(tmp_path):
    path = write_template(tmp_path, "Card {{ card.model_details.name }}")
    files = render.render(make_card().to_dict(), ["md"], {"md": path})
    assert files["model_card.md"] == "Card Penguin classifier"


def test_custom_template_can_extend_default_and_include_its_neighbours(tmp_path):
    write_template(tmp_path, "<p>by the team</p>", "footer.html")
    path = write_template(
        tmp_path,
        '{% extends "model_card.html.jinja" %}'
        "{% block style %}body{color:red}{% endblock %}"
        '{% block body %}{{ super() }}{% include "footer.html" %}{% endblock %}',
    )
    html = render.render(make_card().to_dict(), ["html"], {"html": path})["model_card.html"]
    assert "body{color:red}" in html and "sparse_categorical_accuracy" in html
    assert "<p>by the team</p>" in html


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        ("{% for x in %}", TemplateError, "html template has a syntax error at line 1"),
        ("{{ card.no_such_field }}", TemplateError, "html template uses an unknown card field"),
        ("{{ 1 / 0 }}", TemplateError, "html template failed: ZeroDivisionError"),
        (
            "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
            TemplateError,
            "html template recurses without end",
        ),
        ('{% include "missing.html" %}', TemplateNotFoundError, "loads 'missing.html'"),
        # The sandbox and the loader: no files outside, no Python internals.
        ("{% include '/etc/passwd' %}", TemplateNotFoundError, "'/etc/passwd' is not allowed"),
        ("{% include '../secret.txt' %}", TemplateNotFoundError, "is not allowed"),
        (
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            TemplateError,
            "(unsafe|unknown card field)",
        ),
        ("{{ card.__class__.__mro__ }}", TemplateError, "(unsafe|unknown card field)"),
        ("{% set x = card.update({'status': 1}) %}", TemplateError, "unsafe"),
    ],
)
def test_broken_or_hostile_custom_templates(tmp_path, source, error, message):
    (tmp_path / "secret.txt").write_text("secret")
    folder = tmp_path / "templates"
    folder.mkdir()
    path = write_template(folder, source)
    with pytest.raises(error, match=message):
        render.render(make_card().to_dict(), ["html"], {"html": path})


def test_template_that_is_a_directory_or_not_utf8(tmp_path):
    with pytest.raises(TemplateError, match="is a directory"):
        render.render(make_card().to_dict(), ["html"], {"html": str(tmp_path)})
    latin1 = tmp_path / "card.jinja"
    latin1.write_bytes("Karte für {{ card.status }}".encode("latin-1"))
    with pytest.raises(TemplateError, match="is not UTF-8 text"):
        render.render(make_card().to_dict(), ["html"], {"html": str(latin1)})


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
    shown = {"html": outputs["model_card.html"], "md": markdown_html(outputs["model_card.md"])}
    for text in shown.values():
        for value in expected:
            assert value in text
        assert "v5 (5)" not in text


def markdown_html(text: str) -> str:
    """What a Markdown renderer shows: CommonMark with tables and raw HTML enabled."""
    import html

    from markdown_it import MarkdownIt

    return html.unescape(MarkdownIt("commonmark", {"html": True}).enable("table").render(text))
