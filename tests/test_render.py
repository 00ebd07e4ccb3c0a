"""Rendering cards to JSON, HTML and Markdown (pure, no TensorFlow)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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
    assert "change (higher is better)</td><td>Δ ≥ −1e-10</td>" in html
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
    assert re.search(
        r"<td>sex=female</td><td class=\"num\">50 \(small\)</td><td class=\"num\">50</td>"
        r"<td class=\"num\">–</td>",
        html,
    )


def test_markdown_tables(outputs):
    md = outputs["model_card.md"]
    assert md.startswith("# Model card: Penguin classifier")
    assert "| eval | 103 | 7 |" in md
    assert "| sparse_categorical_accuracy | 0.9903 (0.9699 – 1.011) | 103 |" in md
    assert "| Slice | Examples | example_count | sparse_categorical_accuracy |" in md
    assert "| island=Biscoe | unknown | – | 0.98 (0.95 – 1) |" in md


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
        "Δ ≥ −1e-10",
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


def _card_with_features_in_both_splits() -> card.Card:
    base = make_card()
    train, evaluation = base.datasets
    return base.replace(datasets=(train, evaluation.replace(features=train.features)))


def test_markdown_links_one_chart_file_per_feature_comparing_its_splits():
    """As the HTML draws it: one chart per feature, each split a series in its legend."""
    model_card = _card_with_features_in_both_splits()
    outputs = render.render(model_card.to_dict(), ["md"])
    files = sorted(name for name in outputs if name.startswith("charts/"))
    features = [f.name for f in model_card.datasets[0].features]
    assert len(files) == len(features) + len(model_card.quantitative_analysis.charts)
    markdown = outputs["model_card.md"]
    for name in features:
        (path,) = [f for f in files if name.replace("_", "-") in f]
        assert markdown.count(f"[chart]({path})") == 2  # both splits' rows link it
        drawing = outputs[path]
        assert drawing.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="sc" width="480"')
        assert "<style>.sc{" in drawing and drawing.endswith("</svg>\n")
        assert ">train</text>" in drawing and ">eval</text>" in drawing
    assert markdown_html(markdown).count("<a href=") == 2 * len(features)


def test_a_feature_chart_file_is_the_pages_chart_standalone():
    outputs = render.render(_card_with_features_in_both_splits().to_dict(), ["html", "md"])
    page = outputs["model_card.html"]
    inline = re.findall(r'<svg class="sc" viewBox="[^"]*" role="img">.*?</svg>', page)
    files = [text for name, text in outputs.items() if name.startswith("charts/")]
    for drawing in inline:
        body = re.sub("<style>.*?</style>", "", drawing).split('role="img">', 1)[1]
        assert any(body in re.sub("<style>.*?</style>", "", f) for f in files)


def test_a_card_is_turned_into_its_dictionary_once_and_its_charts_never_read_back(tmp_path):
    """Content applied (completeness assessed), then every format written."""
    from mct_component import api, content
    from mct_component.card import charts

    built = _card_with_features_in_both_splits()
    with (
        mock.patch.object(card, "_jsonable", wraps=card._jsonable) as converted,
        mock.patch.object(charts, "chart_from_dict", wraps=charts.chart_from_dict) as decoded,
    ):
        model_card = content.apply_card_content(built, {"limitations": ["Three islands."]})
        api.write_card(model_card, str(tmp_path / "card"), ["json", "html", "md", "pdf"])
    converted_cards = [c.args[0] for c in converted.call_args_list if type(c.args[0]) is card.Card]
    with_features = [c for c in converted_cards if any(s.features for s in c.datasets)]
    assert len(converted_cards) == 2 and len(with_features) == 1  # completeness reads no feature
    assert decoded.call_count == 0


def test_charts_of_a_card_dictionary_are_each_read_back_once():
    from mct_component.card import charts

    card_dict = _card_with_features_in_both_splits().to_dict()
    with mock.patch.object(charts, "chart_from_dict", wraps=charts.chart_from_dict) as decoded:
        render.render(card_dict, ["html", "md"])
    assert decoded.call_count == len(render.iter_charts(card_dict))


def test_one_jinja_environment_per_format_and_process():
    render._default_environment.cache_clear()
    with mock.patch.object(render, "_new_environment", wraps=render._new_environment) as made:
        for _ in range(3):
            render.render(make_card().to_dict(), ["html", "md"])
    assert sorted(c.args[0] for c in made.call_args_list) == ["html", "md"]


def test_a_custom_template_is_read_again_for_each_render(tmp_path):
    template = tmp_path / "card.md.jinja"
    for text in ("first {{ card.model_details.name }}", "second {{ card.model_details.name }}"):
        template.write_text(text)
        outputs = render.render(make_card().to_dict(), ["md"], {"md": str(template)})
        assert outputs["model_card.md"] == text.split()[0] + " Penguin classifier"


@pytest.mark.parametrize("seed", range(5))
def test_markdown_texts_shortcut_escapes_as_the_whole_procedure_does(seed):
    """Plain words and numbers skip the escaping; anything else takes all of it."""
    import random

    rng = random.Random(seed)
    alphabet = "ab1 ._%/-#|*`[]()<>&\\~=+\n\t\u200b"
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        with mock.patch.object(formatting, "_PLAIN", re.compile(r"(?!)")):
            expected = formatting.markdown_text(value)
        assert formatting.markdown_text(value) == expected, repr(value)


def test_dict_lookups_in_templates_find_items_attributes_and_nothing_as_jinja_does():
    env = render._default_environment("html")
    data = {"name": "x", "values": [1], "items": "shadowed by dict.items"}
    assert env.getattr(data, "name") == "x"
    assert env.getattr(data, "values") == data.values  # an attribute wins, as in Jinja
    assert callable(env.getattr(data, "items"))
    assert isinstance(env.getattr(data, "missing"), type(env.undefined()))


def test_a_card_of_very_many_features_lists_them_as_text_without_charts(monkeypatch):
    """Each feature's table and chart cost a browser dozens of elements: from
    `FEATURE_TEXT_FROM` features the page lists their statistics as lines of text."""
    model_card = _card_with_features_in_both_splits()
    hostile = model_card.datasets[0].features[1].replace(name="<b>is\u202eland\nx</b>")
    splits = tuple(s.replace(features=(s.features[0], hostile)) for s in model_card.datasets)
    monkeypatch.setattr(render, "FEATURE_TEXT_FROM", 2)
    render._default_environment.cache_clear()
    try:
        outputs = render.render(model_card.replace(datasets=splits).to_dict(), ["html", "md"])
    finally:
        render._default_environment.cache_clear()
    page = outputs["model_card.html"]
    assert '<svg class="sc"' not in page and "<details>" not in page
    text = "\n".join(re.findall(r"<pre>(.*?)</pre>", page, re.DOTALL))
    rows = [re.split(r"  +", line) for line in text.splitlines()[1:]]
    assert [row[:2] for row in rows] == [
        ["bill_length_mm", "train"],
        ["bill_length_mm", "eval"],
        ["&lt;b&gt;island x&lt;/b&gt;", "train"],
        ["&lt;b&gt;island x&lt;/b&gt;", "eval"],
    ]
    assert "43.9        5.4       32.1       59.6" in page
    assert "Biscoe (114), Dream (80)" in page and "\u202e" not in page
    # The Markdown keeps its chart per feature.
    assert len([name for name in outputs if name.startswith("charts/")]) == 3


def _render_in_a_process(cache_home: str) -> str:
    script = (
        "from mct_component import render; from tests.factories import make_card; "
        "import sys; sys.stdout.write(render.render(make_card().to_dict(), ['html'])"
        "['model_card.html'])"
    )
    environment = {**os.environ, "XDG_CACHE_HOME": cache_home}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True
    )
    return done.stdout


def test_compiled_templates_are_kept_for_the_next_process(tmp_path):
    first = _render_in_a_process(str(tmp_path))
    cached = sorted((tmp_path / "mct-component" / "templates").iterdir())
    assert cached and all(p.stat().st_mode & 0o077 == 0 for p in cached)
    assert _render_in_a_process(str(tmp_path)) == first


@pytest.mark.parametrize("damage", ["garbage", "not a folder", "others may write"])
def test_a_template_cache_that_cannot_serve_is_no_cache(tmp_path, damage):
    expected = _render_in_a_process(str(tmp_path / "fresh"))
    folder = tmp_path / "cache" / "mct-component" / "templates"
    if damage == "not a folder":
        folder.parent.mkdir(parents=True)
        folder.write_text("a file")
    else:
        _render_in_a_process(str(tmp_path / "cache"))
        if damage == "garbage":
            for entry in folder.iterdir():
                entry.write_bytes(entry.read_bytes()[:40] + b"\x00garbage")
        else:
            folder.chmod(0o777)
    assert _render_in_a_process(str(tmp_path / "cache")) == expected
