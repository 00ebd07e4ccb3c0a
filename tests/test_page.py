"""The HTML card in a real browser (headless Chromium): self-contained, every chart reachable.

Feature blocks are closed `<details>` and their markup is kept lean for cards of
thousands of features; these tests check, in the browser itself, that nothing was lost
on the way: no script errors, no requests, and every chart of the card is drawn once
its block is opened. A screenshot goes to `build/screenshots/` for people to look at.
"""

from __future__ import annotations

import itertools
import pathlib

import pytest

from mct_component import card, render
from tests.browser import Browser, BrowserError, find_chromium
from tests.factories import make_card
from tests.test_hostile import PAYLOADS, full_card, hostile

try:
    find_chromium()
except BrowserError as e:
    pytest.skip(str(e), allow_module_level=True)

SCREENSHOTS = pathlib.Path(__file__).parent.parent / "build" / "screenshots"

# Charts a reader can see: rendered (not in a closed <details>) and of a drawn size.
DRAWN_CHARTS = """[...document.querySelectorAll('svg')].filter(s => {
  const r = s.getBoundingClientRect();
  return s.checkVisibility() && r.width > 0 && r.height > 0;
}).length"""


def open_card(browser: Browser, card_dict: dict, folder: pathlib.Path):
    page = folder / "model_card.html"
    page.write_text(render.render(card_dict, ["html"])["model_card.html"], encoding="utf-8")
    return browser.open(page.as_uri())


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.mark.parametrize("kind", ["benign", "hostile"])
def test_every_chart_is_reachable_and_nothing_is_loaded(browser, tmp_path, kind):
    card_dict = full_card().to_dict()
    if kind == "hostile":
        card_dict = card.Card.from_dict(hostile(card_dict, itertools.cycle(PAYLOADS))).to_dict()
    charts = render.iter_charts(card_dict)
    load = open_card(browser, card_dict, tmp_path)
    assert load.console_errors == [] and load.requests == []
    assert browser.evaluate("document.querySelectorAll('script').length") == 0
    assert browser.evaluate("document.querySelectorAll('svg').length") == len(charts)
    features = browser.evaluate("document.querySelectorAll('details.feature').length")
    assert features == len(card_dict["datasets"][0]["features"])
    closed = browser.evaluate(DRAWN_CHARTS)
    assert closed == len(card_dict["quantitative_analysis"]["charts"])  # only those outside
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert browser.evaluate(DRAWN_CHARTS) == len(charts)
    # The chart's accessible title is the card's, in the page as in the data.
    titles = browser.evaluate(
        "[...document.querySelectorAll('svg > title')].map(t => t.textContent)"
    )
    assert titles == [chart["title"] for chart in charts] or kind == "hostile"
    if kind == "benign":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(str(SCREENSHOTS / "model_card.png"))


def test_feature_statistics_survive_the_lean_markup(browser, tmp_path):
    """Optional end tags left out: each split's statistics still make one table row."""
    card_dict = make_card().to_dict()
    open_card(browser, card_dict, tmp_path)
    rows = browser.evaluate(
        "[...document.querySelectorAll('details.feature')].map(d => "
        "[...d.querySelectorAll('tr')].map(r => [...r.cells].map(c => c.textContent)))"
    )
    features = card_dict["datasets"][0]["features"]
    assert len(rows) == len(features)
    for feature, table in zip(features, rows, strict=True):
        header, *splits = table
        assert header[:2] == ["Split", "Missing"]
        assert len(splits) == sum(
            any(f["name"] == feature["name"] for f in split["features"])
            for split in card_dict["datasets"]
        )
        assert all(len(row) == len(header) for row in splits)
        assert splits[0][0] == card_dict["datasets"][0]["name"]
