"""A card whose every string is hostile renders as text: no script, no link, no structure.

Human content and what MLMD and the pipeline outputs say (feature names, category values,
slice keys, paths, tensor names) all reach the card; the Markdown is read back with
markdown-it-py (CommonMark with tables and raw HTML enabled, as common renderers are) and
the HTML with Python's HTML parser.
"""

from __future__ import annotations

import html.parser
import itertools
from collections import Counter

import pytest
from markdown_it import MarkdownIt

from mct_component import card, render
from tests.factories import make_card

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "a\n## Fake heading",
    "<script>alert(1)</script>",
    "| a | b |\n|---|---|\n| c | d |",
    "- item\n- item\n1. one",
    "<a href='javascript:alert(1)'>x</a>",
    "![i](javascript:alert(1))",
    "<javascript:alert(1)>",
    "`code` **bold** ~~gone~~",
    "line\r\n\r\n# heading\u2028---",
    "\u202eevil\u202c &lt;b&gt; &amp;",
)
# Schema enums and the chart kind: the schema allows nothing but their values.
ENUM_KEYS = {
    "status",
    "rating",
    "basis",
    "kind",
    "schema_version",
    "direction",
    "change",
    "sha256",
    "parent_sha256",
    "function",
    "role",
}


def hostile(data, payloads):
    """The card's JSON form with every free string replaced by the next payload."""
    if isinstance(data, dict):
        return {
            k: v if k in ENUM_KEYS and isinstance(v, str) else hostile(v, payloads)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [hostile(v, payloads) for v in data]
    if isinstance(data, str):
        return next(payloads)
    return data


# Features of every kind the feature tables show differently (see `FeatureSummary.kind`).
KINDS_FEATURES = (
    card.FeatureSummary(
        name="review",
        type="STRING",
        missing_pct=0.0,
        unique=950,
        top_values=(card.TopValue("A fine film.<br />Really.", 1.0), card.TopValue("Bad", 1.0)),
        kind="free_text",
        unique_ratio=0.95,
        avg_length=1143.6,
    ),
    card.FeatureSummary(
        name="image",
        type="BYTES",
        missing_pct=1.5,
        unique=40,
        kind="bytes",
        avg_length=2048.0,
        min_length=100.0,
        max_length=4096.0,
    ),
)


def full_card() -> card.Card:
    base = make_card()
    train, *rest = base.datasets
    labelled = tuple(
        f.replace(role="label", kind="categorical") if f.name == "island" else f
        for f in train.features
    )
    return base.replace(
        datasets=(train.replace(features=labelled + KINDS_FEATURES), *rest),
        model_details=base.model_details.replace(
            references=("https://example.com/paper",),
            pipeline_name="penguins",
            run_id="run-1",
            license="CC0",
            citation="Someone 2020",
            framework_versions={"tfx": "1.16.0"},
            signatures=(
                card.Signature(
                    "serving_default",
                    "tensorflow/serving/predict",
                    inputs=(card.TensorInfo("examples", "serving_default_examples:0", "string"),),
                ),
            ),
        ),
        considerations=base.considerations.replace(
            intended_use=card.IntendedUse(("use",), ("users",), ("not this",)),
            tradeoffs=("speed",),
            business_details=card.BusinessDetails("problem", "stakeholders", "research"),
            objective_function=card.ObjectiveFunction("minimize", "loss", "< 1", "notes"),
            training_observations="converged",
            evaluation_observations="fine",
            custom_details={"team": "penguins", "region": "south"},
        ),
        governance=card.Governance(
            version=2,
            history=(
                card.StatusChange(1, "pending_review", "generated", "ann", "2026-12-01", "n"),
                card.StatusChange(2, "approved", "status_changed", "bob", "2026-12-02", "ok"),
            ),
            approval=card.Approval(1, "bob", "2026-12-02", "0" * 64),
        ),
    )


@pytest.fixture(scope="module")
def cards():
    benign = full_card().to_dict()
    evil = card.Card.from_dict(hostile(benign, itertools.cycle(PAYLOADS))).to_dict()
    return benign, evil


def structure(markdown: str) -> Counter:
    tokens = (
        MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).parse(markdown)
    )
    found = Counter()
    for token in tokens:
        found[token.type] += 1
        for child in token.children or ():
            found[child.type] += 1
    return found


def links(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown)
    return [
        child.attrGet("href") or child.attrGet("src")
        for token in tokens
        for child in token.children or ()
        if child.type in ("link_open", "image")
    ]


def test_markdown_of_hostile_content_has_the_benign_structure(cards):
    benign, evil = cards
    before = structure(render.render(benign, ["md"])["model_card.md"])
    after = structure(render.render(evil, ["md"])["model_card.md"])
    for kind in (
        "heading_open",
        "table_open",
        "tr_open",
        "td_open",
        "bullet_list_open",
        "ordered_list_open",
        "list_item_open",
        "blockquote_open",
        "hr",
        "html_block",
        "html_inline",
        "link_open",
        "image",
        "s_open",
        "strong_open",
        "em_open",
    ):
        assert after[kind] == before[kind], kind
    assert before["html_block"] == before["html_inline"] == 0


def test_markdown_of_hostile_content_runs_nothing(cards):
    _, evil = cards
    markdown = render.render(evil, ["md"])["model_card.md"]
    shown = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "<script" not in shown and "<img src=x" not in shown
    assert not Attributes.of(shown).event_handlers
    assert all(link.startswith("charts/") for link in links(markdown)), links(markdown)
    assert "\u202e" not in markdown


def test_html_of_hostile_content_runs_nothing(cards):
    _, evil = cards
    page = render.render(evil, ["html"])["model_card.html"]
    attributes = Attributes.of(page)
    assert attributes.tags.isdisjoint({"script", "iframe", "object", "embed", "img", "a"})
    assert not attributes.event_handlers
    assert not [v for v in attributes.urls if "javascript:" in v.lower()]
    assert "\u202e" not in page


class Attributes(html.parser.HTMLParser):
    """The tags, event-handler attributes and URL attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.event_handlers: list[str] = []
        self.urls: list[str] = []

    @classmethod
    def of(cls, page: str) -> Attributes:
        parser = cls()
        parser.feed(page)
        return parser

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.event_handlers.append(name)
            if name in ("href", "src", "xlink:href", "action", "formaction"):
                self.urls.append(value or "")
