"""The PDF format: the HTML card laid out for print by WeasyPrint (pure, no TensorFlow).

The PDF is read back with Debian's `pdftotext` (poppler-utils) for its text, and with
pypdf for its pages, their size and whether anything was drawn as a raster image.
"""

from __future__ import annotations

import http.server
import io
import itertools
import re
import shutil
import subprocess
import threading

import pypdf
import pytest

import mct_component as mct
from mct_component import card, render
from mct_component.render import formatting
from tests.factories import make_card
from tests.test_hostile import PAYLOADS, full_card, hostile

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="needs pdftotext: scripts/ensure_debian_packages.sh installs poppler-utils",
)

A4_POINTS = (595.28, 841.89)


def pdf_text(pdf: bytes, page: int | None = None) -> str:
    """The PDF's text (or one page's) as poppler lays it out, whitespace runs made one space.

    In layout mode a table row stays on one line: "example_count 0.9903 (...)".
    """
    pages = ["-f", str(page), "-l", str(page)] if page else []
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", *pages, "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return " ".join(text.split())


def reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


@pytest.fixture(scope="module")
def demo() -> tuple[dict, bytes]:
    model_card = make_card()
    files = mct.render_card(model_card, ["pdf"])
    return model_card.to_dict(), files["model_card.pdf"]


def test_pdf_is_bytes_and_the_other_formats_text():
    files = mct.render_card(make_card(), ["json", "pdf", "md", "html"])
    assert isinstance(files["model_card.pdf"], bytes)
    assert files["model_card.pdf"].startswith(b"%PDF-")
    assert all(isinstance(v, str) for k, v in files.items() if k != "model_card.pdf")


def test_pdf_is_not_a_default_format():
    assert "pdf" in mct.FORMATS and "pdf" not in mct.DEFAULT_FORMATS
    assert "model_card.pdf" not in mct.render_card(make_card())


def assert_pdf_shows_the_card(card_dict, pdf: bytes) -> None:
    """The PDF's text holds the model name, the status and every overall metric."""
    text = pdf_text(pdf)
    assert card_dict["model_details"]["name"] in text
    assert f"status: {formatting.status_label(card_dict['status'])}" in text
    overall = card_dict["quantitative_analysis"]["overall"]
    assert overall
    for metric in overall:
        shown = f"{formatting.metric_label(metric)} {formatting.format_number(metric['value'])}"
        assert shown in text, shown


def test_text_has_name_status_and_every_overall_metric(demo):
    card_dict, pdf = demo
    assert_pdf_shows_the_card(card_dict, pdf)


def test_pages_are_a4_numbered_and_headed_with_name_and_version(demo):
    card_dict, pdf = demo
    pages = reader(pdf).pages
    count = len(pages)
    assert 1 < count < 20  # the small test card: a few pages, not one per element
    for page in pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx(A4_POINTS, abs=0.5)
    name, version = card_dict["model_details"]["name"], card_dict["model_details"]["version"]
    for number in range(1, count + 1):
        text = pdf_text(pdf, number)
        assert text.startswith(f"{name} version {version}"), text[:80]
        assert f"Page {number} of {count}" in text


def test_charts_are_vectors_with_their_text(demo):
    card_dict, pdf = demo
    text = pdf_text(pdf)
    for chart in render.iter_charts(card_dict):
        assert chart["title"] in text
    assert not any(page.images for page in reader(pdf).pages)


def test_feature_charts_print_in_their_splits_colours():
    """WeasyPrint styles inline SVG from its own <style> only: each printed chart has it."""
    base = make_card()
    first, second = base.datasets[:2]
    card_dict = base.replace(datasets=(first, second.replace(features=first.features))).to_dict()
    card_dict["quantitative_analysis"]["charts"] = []  # their curves have the same colours
    pdf = render.render(card_dict, ["pdf"])["model_card.pdf"]
    drawn = b"".join(page.get_contents().get_data() for page in reader(pdf).pages)
    charts = len(first.features)
    vermilion = b"0.835294 0.368627 0"  # the second split's colour
    assert drawn.count(vermilion + b" rg") == charts  # its name in the legend
    assert drawn.count(vermilion + b" RG") == charts  # its outline or bars
    features = card_dict["datasets"][0]["features"]
    histograms = sum(f["chart"]["kind"] == "histogram" for f in features if f.get("chart"))
    assert histograms and drawn.count(b"[6 3] 0 d") == histograms  # outlines: dashed


def test_feature_details_are_open_in_print(demo):
    """Feature tables and charts sit in closed <details> on screen; the PDF shows them."""
    card_dict, pdf = demo
    text = pdf_text(pdf)
    for feature in card_dict["datasets"][0]["features"]:
        row = f"{card_dict['datasets'][0]['name']} {formatting.format_number(feature['missing_pct'])}%"
        assert row in text
    stats = card_dict["datasets"][0]["features"][0]
    assert (
        f"{formatting.format_number(stats['mean'])} {formatting.format_number(stats['std_dev'])}"
        in text
    )


def test_free_text_bytes_and_label_print_as_on_screen():
    """The PDF is laid out from the HTML: free text by its lengths and one-line examples
    (no frequency chart), bytes by their sizes, the label marked with its class balance."""
    card_dict = full_card().to_dict()
    text = pdf_text(mct.render_card(card.Card.from_dict(card_dict), ["pdf"])["model_card.pdf"])
    # Text only between the free-text and the bytes feature's names: no chart.
    free_text = text[text.index("review STRING free text") : text.index("image BYTES bytes")]
    assert "% of the split" not in free_text
    assert "950 95% 1144" in free_text  # unique values, unique share, average length
    assert "A fine film." in free_text and "<br" not in free_text  # one line, no markup
    assert "1.5% 40 2048 100 4096" in text  # the image's missing, unique and byte sizes
    assert "island STRING label" in text and "Label: island" in text
    assert "Biscoe: 114 (59%), Dream: 80 (41%)" in text


def test_same_card_same_bytes(demo):
    _, pdf = demo
    assert mct.render_card(make_card(), ["pdf"])["model_card.pdf"] == pdf


def test_write_card_writes_the_pdf(tmp_path):
    mct.write_card(make_card(), str(tmp_path / "card"), ["html", "pdf"])
    assert sorted(p.name for p in (tmp_path / "card").iterdir()) == [
        ".mct-card",
        "model_card.html",
        "model_card.pdf",
    ]
    # A card directory with a PDF is still a card directory: rewritten without --overwrite.
    mct.write_card(make_card(), str(tmp_path / "card"), ["json"])
    assert sorted(p.name for p in (tmp_path / "card").iterdir()) == [".mct-card", "model_card.json"]


def test_hostile_strings_print_as_text():
    evil = card.Card.from_dict(hostile(full_card().to_dict(), itertools.cycle(PAYLOADS)))
    text = pdf_text(mct.render_card(evil, ["pdf"])["model_card.pdf"])
    # Shown literally (control and bidi characters removed), never interpreted.
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(1)>" in text


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_nothing_is_fetched_even_when_a_template_asks(server, tmp_path):
    """A custom template may point at URLs: WeasyPrint refuses every one of them."""
    template = tmp_path / "card.html.jinja"
    template.write_text(
        '{% extends "model_card.html.jinja" %}\n'
        "{% block style %}{{ super() }}\n"
        f'@font-face{{font-family:remote;src:url("{server}/font.woff")}}\n'
        f'body{{background:url("{server}/background.png");font-family:remote}}\n'
        "{% endblock %}\n"
        "{% block body %}"
        f'<style>@import url("{server}/import.css");</style>'
        f'<link rel="stylesheet" href="{server}/link.css">'
        f'<img src="{server}/image.png" alt="remote image">'
        f'<img src="file:///etc/hostname" alt="local file">'
        f'<object data="{server}/object.svg"></object>'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<image href="{server}/svg-image.png" width="10" height="10"/>'
        f'<image xlink:href="{server}/svg-xlink.png" width="10" height="10"/></svg>'
        f'<a rel="attachment" href="{server}/attachment.bin">attachment</a>'
        "{{ super() }}{% endblock %}\n",
        encoding="utf-8",
    )
    model_card = make_card()
    files = mct.render_card(model_card, ["html", "pdf"], {"html": str(template)})
    assert _Recorder.requests == []
    text = pdf_text(files["model_card.pdf"])
    assert model_card.model_details.name in text
    assert "attachment" in text
    # The control: the same page, with WeasyPrint's own fetcher, does reach the server.
    import weasyprint

    weasyprint.HTML(string=files["model_card.html"]).write_pdf()
    assert sorted(_Recorder.requests) == sorted(
        f"/{name}"
        for name in (
            "import.css",
            "font.woff",
            "background.png",
            "link.css",
            "image.png",
            "object.svg",
            "svg-image.png",
            "svg-xlink.png",
            "attachment.bin",
        )
    )


def test_default_template_loads_nothing(server):
    """The default page holds no URL at all: a card whose strings are URLs fetches none."""
    urls = itertools.cycle([f"{server}/a.png", f"url({server}/b.css)", f'<img src="{server}/c">'])
    evil = card.Card.from_dict(hostile(full_card().to_dict(), urls))
    html = mct.render_card(evil, ["html"])["model_card.html"]
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    mct.render_card(evil, ["pdf"])
    assert _Recorder.requests == []


@pytest.mark.slow
@pytest.mark.tf
def test_cli_writes_the_pdf_of_a_pipeline_card(penguin_run, tmp_path, capsys):
    """`mct-card generate --format json,pdf` on the demo pipeline's store."""
    import json

    from mct_component import cli

    code = cli.main(
        [
            "generate",
            "--metadata",
            penguin_run.metadata_path,
            "--pipeline",
            penguin_run.pipeline_name,
            "--output-dir",
            str(tmp_path),
            "--format",
            "json,pdf",
            "--label-vocabulary",
            "species",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".mct-card",
        "explanation_metadata.json",
        "model_card.json",
        "model_card.pdf",
    ]
    card_dict = json.loads((tmp_path / "model_card.json").read_text())
    pdf = (tmp_path / "model_card.pdf").read_bytes()
    assert_pdf_shows_the_card(card_dict, pdf)
    features = card_dict["datasets"][0]["features"]
    pages = len(reader(pdf).pages)
    # Sane: more than the title page, and not a page per chart (one per feature and split).
    assert 2 < pages < len(render.iter_charts(card_dict))
    text = pdf_text(pdf)
    assert all(f["name"] in text for f in features)
