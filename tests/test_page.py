"""The HTML card in a real browser (headless Chromium): self-contained, every chart reachable.

Feature blocks are closed `<details>` and their markup is kept lean for cards of
thousands of features (one chart per feature compares its splits); these tests check,
in the browser itself, that nothing was lost on the way: no script errors, no
requests, and every split's chart of every feature is drawn once its block is opened. A screenshot goes to `build/screenshots/` for people to look at.
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

pytestmark = pytest.mark.browser
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


def two_splits(base: card.Card) -> card.Card:
    """The card with its features in its second split too (the factory gives only one)."""
    first, second = base.datasets[:2]
    return base.replace(datasets=(first, second.replace(features=first.features)))


@pytest.mark.parametrize("kind", ["benign", "hostile"])
def test_every_chart_is_reachable_and_nothing_is_loaded(browser, tmp_path, kind):
    card_dict = two_splits(full_card()).to_dict()
    if kind == "hostile":
        card_dict = card.Card.from_dict(hostile(card_dict, itertools.cycle(PAYLOADS))).to_dict()
    # Free text and bytes features have no chart (their lengths are in their table).
    features = [f for f in card_dict["datasets"][0]["features"] if f["chart"]]
    assert len(features) < len(card_dict["datasets"][0]["features"])
    splits = [s["name"] for s in card_dict["datasets"]]
    outside = len(card_dict["quantitative_analysis"]["charts"])
    load = open_card(browser, card_dict, tmp_path)
    assert load.console_errors == [] and load.requests == []
    assert browser.evaluate("document.querySelectorAll('script').length") == 0
    # One chart per charted feature, comparing its splits, in the feature's closed block.
    assert browser.evaluate("document.querySelectorAll('.features details svg').length") == len(
        features
    )
    assert browser.evaluate(DRAWN_CHARTS) == outside
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert browser.evaluate(DRAWN_CHARTS) == outside + len(features)
    drawn = browser.evaluate(
        "[...document.querySelectorAll('.features details svg')].map(s => "
        "[s.querySelector('title').textContent, [...s.querySelectorAll('text')].map(t => t.textContent)])"
    )
    for feature, (title, shown) in zip(features, drawn, strict=True):
        assert title == feature["chart"]["title"]
        # Every split's chart is in it: the legend names each split, in order.
        assert shown[: len(splits)] == splits or kind == "hostile"
    if kind == "benign":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(str(SCREENSHOTS / "model_card.png"))


def test_feature_charts_draw_each_split_in_its_colour(browser, tmp_path):
    """Colours, dashes and fonts are CSS classes, stated once by the first chart's <style>."""
    open_card(browser, two_splits(make_card()).to_dict(), tmp_path)
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    looks = browser.evaluate(
        "[...document.querySelectorAll('.features details svg')].map(s => ["
        "[...s.querySelectorAll('text')].slice(0, 2).map(t => getComputedStyle(t).fill),"
        "[...s.querySelectorAll('g.o path')].map(p => getComputedStyle(p).strokeDasharray),"
        "[...s.querySelectorAll('path[class^=s]')].map(p => getComputedStyle(p).stroke),"
        "getComputedStyle(s.querySelector('text')).fontSize])"
    )
    assert len(looks) >= 2
    blue, vermilion = "rgb(0, 114, 178)", "rgb(213, 94, 0)"
    for legend, dashes, strokes, font_size in looks:
        assert legend == strokes == [blue, vermilion]
        assert dashes in ([], ["none", "6px, 3px"])  # bars or step outlines
        assert font_size == "11px"


def test_feature_statistics_survive_the_lean_markup(browser, tmp_path):
    """Optional end tags left out: each split's statistics still make one table row."""
    card_dict = two_splits(make_card()).to_dict()
    open_card(browser, card_dict, tmp_path)
    rows = browser.evaluate(
        "[...document.querySelectorAll('.features details')].map(d => "
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
