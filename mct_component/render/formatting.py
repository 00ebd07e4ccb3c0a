"""Text formatting shared by the HTML and Markdown templates (registered as Jinja filters).

Each filter takes values of the card's JSON form and returns plain text; the template
escapes it for its format (HTML autoescape, `md_cell` for Markdown), so a format never
repeats the other's logic.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import markupsafe

from mct_component import card
from mct_component.errors import CardContentError
from mct_component.text import excerpt

# How many of a categorical feature's most frequent values the tables show.
TOP_VALUES_SHOWN = 5
_BASELINE_BASES = {
    "evaluator_baseline": "the model the Evaluator compared this one with",
    "previous_blessed": "the previous blessed model of the pipeline",
}

Record = Mapping[str, Any]


@functools.lru_cache(maxsize=65536, typed=True)
def format_number(value: float | int | None, digits: int = 4) -> str:
    """A metric for display: integers as is, floats to `digits` significant digits.

    Remembered: the HTML and the Markdown show a large card's thousands of numbers each.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}g}"


def confidence_interval(metric: Record) -> str:
    """ "(lower – upper)" when both bounds are known, else ""; "(lower – 1, clipped)"
    when the interval was cut to the metric's possible range."""
    lower, upper = metric["lower_bound"], metric["upper_bound"]
    if lower is None or upper is None:
        return ""
    clipped = ", clipped" if metric.get("interval_clipped") else ""
    return f"({format_number(lower)} – {format_number(upper)}{clipped})"


def _all_metrics(analysis: Record) -> Iterable[Record]:
    yield from analysis["overall"]
    for entry in analysis["slices"]:
        yield from entry["metrics"]


def intervals_note(analysis: Record) -> str:
    """What the card says of confidence intervals: only where TFMA computed some."""
    shown = [m for m in _all_metrics(analysis) if confidence_interval(m)]
    if not shown:
        return "TFMA computed no confidence intervals for these metrics."
    note = "Values with the confidence intervals TFMA computed."
    if any(m.get("interval_clipped") for m in shown):
        note += (
            " An interval that ran past the metric's possible range (e.g. an accuracy"
            ' above 1) is cut to that range and marked "clipped".'
        )
    return note


def examples_of(metrics: Iterable[Record]) -> int | None:
    """The number of examples a slice's metrics rest on (TFMA's example_count), or None.

    A card made before schema 1.4 has no `example_count` field: its `example_count`
    metric then says it.
    """
    metrics = list(metrics)
    found = next((m["example_count"] for m in metrics if m.get("example_count") is not None), None)
    if found is None:
        found = next(
            (
                m["value"]
                for m in metrics
                if m["name"] == "example_count" and not m["sub_key"] and m["value"] is not None
            ),
            None,
        )
    return None if found is None else round(found)


def example_count(count: int | None) -> str:
    """An example count for a table: "11 (small)" under `card.SMALL_SAMPLE`, "unknown"."""
    if count is None:
        return "unknown"
    return f"{count} (small)" if count < card.SMALL_SAMPLE else str(count)


def sample_caveat(analysis: Record) -> str:
    """A caveat when metrics rest on fewer than `card.SMALL_SAMPLE` examples, else ""."""
    overall = examples_of(analysis["overall"])
    small = [
        s
        for s in analysis["slices"]
        if (examples_of(s["metrics"]) or card.SMALL_SAMPLE) < card.SMALL_SAMPLE
    ]
    parts = []
    if overall is not None and overall < card.SMALL_SAMPLE:
        parts.append(
            f"The overall metrics rest on {overall} evaluation example"
            f"{'' if overall == 1 else 's'}, fewer than {card.SMALL_SAMPLE}: "
            "they may differ widely on other data."
        )
    if small:
        parts.append(
            f"{len(small)} of {len(analysis['slices'])} slices rest on fewer than "
            f'{card.SMALL_SAMPLE} examples (marked "small"): read their metrics with care.'
        )
    if overall is None and analysis["overall"]:
        parts.append(
            "TFMA did not count the examples (no example_count metric): how many the "
            "metrics rest on is unknown."
        )
    return " ".join(parts)


def percent(value: float) -> str:
    """A share as a whole percentage: "83%"."""
    return f"{value:.0%}"


def signed(value: float | None) -> str:
    """A change with its sign, to 4 significant digits; "–" when unknown."""
    return "–" if value is None else f"{value:+.4g}"


def threshold_bounds(threshold: Record) -> str:
    """A threshold's gate: "≥ 0.6, ≤ 1"; a change against the baseline as "Δ ≥ −0.01"
    (Δ = this model's value minus the baseline's) or "Δ/baseline ≤ 0.1"."""
    parts = []
    if threshold["lower_bound"] is not None:
        parts.append(f"≥ {format_number(threshold['lower_bound'])}")
    if threshold["upper_bound"] is not None:
        parts.append(f"≤ {format_number(threshold['upper_bound'])}")
    direction = str(threshold.get("direction", ""))
    relation = "≤" if direction == "LOWER_IS_BETTER" else "≥"
    if threshold["absolute"] is not None:
        parts.append(f"Δ {relation} {_signed_value(threshold['absolute'])}")
    if threshold["relative"] is not None:
        parts.append(f"Δ/baseline {relation} {_signed_value(threshold['relative'])}")
    return ", ".join(parts)


def _signed_value(value: float) -> str:
    """A bound with a true minus sign: "−0.01", "0"."""
    text = f"{value:g}"
    return f"−{text[1:]}" if text.startswith("-") else text


def threshold_gate(threshold: Record) -> str:
    """ "value", or "change (higher is better)"; with the slices and output it is for."""
    direction = threshold["direction"].lower().replace("_", " ")
    gate = f"{threshold['kind']} ({direction})" if direction else threshold["kind"]
    where = [
        f"{label} {threshold[key]}"
        for key, label in (("slices", "slices"), ("output", "output"))
        if threshold.get(key)
    ]
    return f"{gate}, {', '.join(where)}" if where else gate


def verdict(passed: bool | None) -> str:
    """A threshold's result: "passed", "failed" or "not validated"."""
    if passed is None:
        return "not validated"
    return "passed" if passed else "failed"


def threshold_result(threshold: Record) -> str:
    """ "passed", "failed", or why it was not checked ("not checked: …")."""
    note = str(threshold.get("note", ""))
    if threshold["passed"] is None:
        return note or "not checked"
    result = verdict(threshold["passed"])
    return note if note.startswith(result) else result


def tensor_type(tensor: Record) -> str:
    """A signature tensor's type and shape, e.g. "float32[?, 1]"."""
    shape = tensor["shape"]
    if shape is None:
        return tensor["dtype"]
    return f"{tensor['dtype']}[{', '.join('?' if d is None else str(d) for d in shape)}]"


# How many examples of a free-text feature the tables show, and their length.
TEXT_EXAMPLES_SHOWN = 3
TEXT_EXAMPLE_CHARS = 40
# The longest value a tooltip holds (a review may run to thousands of characters).
TOOLTIP_CHARS = 2000
_WHITESPACE = re.compile(r"(?:\s|<br\s*/?>)+", re.IGNORECASE)


def one_line(value: Any, limit: int = TEXT_EXAMPLE_CHARS) -> str:
    """Text on one line: invisible characters removed, line breaks (and HTML `<br />`
    in the data) and runs of spaces made one space, cut to `limit` characters with "…"."""
    text = _WHITESPACE.sub(" ", visible_text(str(value))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tooltip(value: Any) -> str:
    """A value for a title attribute: one line, at most `TOOLTIP_CHARS` characters."""
    return one_line(value, TOOLTIP_CHARS)


def text_examples(feature: Record) -> list[str]:
    """A free-text feature's first example values, each cut to one short line."""
    return [one_line(t["value"]) for t in feature["top_values"][:TEXT_EXAMPLES_SHOWN]]


def top_values(feature: Record, limit: int = TOP_VALUES_SHOWN) -> str:
    """A categorical feature's most frequent values with their counts: "a (3), b (2)";
    a free-text feature's examples, each one short line: "e.g. “A fine film…”"; a bytes
    feature's sizes."""
    kind = feature.get("kind", "")
    if kind == "free_text":
        examples = ", ".join(f"“{e}”" for e in text_examples(feature))
        return (
            f"{length_summary(feature)}; e.g. {examples}" if examples else length_summary(feature)
        )
    if kind == "bytes":
        return length_summary(feature)
    return ", ".join(
        f"{t['value']} ({format_number(t['frequency'])})" for t in feature["top_values"][:limit]
    )


def length_summary(feature: Record) -> str:
    """ "average 1144 characters, 98% unique" (free text) or "average 10 bytes (3 – 40)"."""
    if feature.get("kind") == "bytes":
        sizes = ""
        if feature.get("min_length") is not None and feature.get("max_length") is not None:
            sizes = (
                f" ({format_number(feature['min_length'])} – "
                f"{format_number(feature['max_length'])})"
            )
        return f"average {format_number(feature.get('avg_length'))} bytes{sizes}"
    ratio = feature.get("unique_ratio")
    unique = f", {ratio:.0%} unique" if ratio is not None else ""
    return f"average {format_number(feature.get('avg_length'))} characters{unique}"


def class_balance(splits: Iterable[Record]) -> list[dict[str, Any]]:
    """Per label feature: its name and, per split, its classes' counts and shares.

    Returns:
        [{"name": ..., "splits": [(split name, [(class, count, share)], total)]}], for
        each feature marked `role` "label" that has counted values (a categorical label).
    """
    found: dict[str, list[Any]] = {}
    for split in splits:
        for feature in split["features"]:
            if feature.get("role") != "label" or not feature["top_values"]:
                continue
            values = feature["top_values"]
            total = sum(t["frequency"] for t in values)
            classes = [(t["value"], t["frequency"], t["frequency"] / total) for t in values]
            found.setdefault(feature["name"], []).append((split["name"], classes, total))
    return [{"name": name, "splits": rows} for name, rows in found.items()]


def baseline_basis(comparison: Record) -> str:
    """How the baseline model was chosen, as a phrase."""
    basis: str = comparison["basis"]
    return _BASELINE_BASES.get(basis, basis)


def status_label(status: str) -> str:
    """A card status for people: "pending review"."""
    return status.replace("_", " ")


def owners(details: Record) -> str:
    """ "Name (contact), Name"."""
    return ", ".join(
        f"{o['name']} ({o['contact']})" if o["contact"] else o["name"] for o in details["owners"]
    )


def framework_versions(details: Record) -> str:
    """ "tensorflow 2.16.2, tfx 1.16.0"."""
    return ", ".join(f"{k} {v}" for k, v in sorted(details["framework_versions"].items()))


def metric_label(metric: Record) -> str:
    """The display label of a metric in its JSON form."""
    return card.metric_label(metric["name"], metric["sub_key"], metric.get("output", ""))


def metric_columns(slices: Iterable[Record]) -> list[str]:
    """Sorted labels of every metric present in any of the slices."""
    return sorted({metric_label(m) for s in slices for m in s["metrics"]})


def metrics_by_label(metrics: Iterable[Record]) -> dict[str, Record]:
    """Metrics keyed by their display label."""
    return {metric_label(m): m for m in metrics}


def index_by(items: Iterable[Record], key: str) -> dict[Any, Record]:
    """Items keyed by one of their fields, e.g. features by name."""
    return {item[key]: item for item in items}


# Line breaks of any kind: a value is one line, it never starts a block.
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
# Characters that make inline structure: emphasis, code, links and images, tables,
# strikethrough, headings, escapes; `_` only where it can emphasise (not inside a word,
# as in feature_name). `<`, `>` and `&` become entities instead.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]#|~]|(?<![^\W_])_|_(?![^\W_]))")
# What starts a block when it opens a line (a list item's text included): list and
# numbered-list markers, setext underlines.
_BLOCK_START = re.compile(r"^([-+=]|\d{1,9}[.)](?=\s|$))")
# Text that `markdown_text` leaves as it is: nothing, or letters and digits joined by
# single spaces, dots, underscores, slashes or percent signs, maybe ending in "%" (no
# dot ends it: "1." would start a list; an underscore between letters or digits
# emphasises nothing).
_PLAIN = re.compile(r"(?:[A-Za-z0-9]+(?:[ .%_/][A-Za-z0-9]+)*%?)?")


# C0 and C1 control characters (but tab and line breaks), the bidirectional formatting
# characters that can make text read differently from what it is (CVE-2021-42574,
# "Trojan Source"), and characters that hide text: zero-width space, word joiner and
# invisible operators, the byte-order mark, Mongolian vowel separator, tags.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def visible_text(value: str) -> str:
    """The text without control, bidirectional or hiding characters (see `_INVISIBLE`);
    a vertical tab or form feed becomes a space."""
    if value.isascii() and value.isprintable():  # most text: nothing to remove
        return value
    return _INVISIBLE.sub("", value.translate(_PAGE_BREAKS))


_PAGE_BREAKS = {0x0B: " ", 0x0C: " "}


def markdown_text(value: Any) -> str:
    """Text that Markdown shows as written: no HTML, links, emphasis or structure.

    Raw HTML becomes entities, inline syntax is backslash-escaped, line breaks become
    spaces and a leading list or heading marker is escaped, so a value can neither run
    script nor add a heading, a list item or a table cell. Links only come from the
    templates themselves.
    """
    text = value if type(value) is str else str(value)
    if _PLAIN.fullmatch(text):  # words and numbers (most cells): nothing to escape
        return text
    text = _LINE_BREAKS.sub(" ", visible_text(text)).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _BLOCK_START.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)


def html_finalize(value: Any) -> Any:
    """What HTML templates print: text without control or bidi characters (then escaped)."""
    return visible_text(value) if type(value) is str else value


def markdown_finalize(value: Any) -> Any:
    """What Markdown templates print: markup made by the template as is, values escaped."""
    if isinstance(value, markupsafe.Markup):
        return value
    return markupsafe.Markup(markdown_text("" if value is None else value))


def markdown_code(value: Any) -> str:
    """An inline code span showing the value verbatim, safe inside a table cell."""
    text = _LINE_BREAKS.sub(" ", visible_text(str(value))).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


FILTERS: dict[str, Callable[..., Any]] = {
    "num": format_number,
    "ci": confidence_interval,
    "intervals_note": intervals_note,
    "examples_of": examples_of,
    "example_count": example_count,
    "sample_caveat": sample_caveat,
    "signed": signed,
    "percent": percent,
    "threshold_bounds": threshold_bounds,
    "threshold_gate": threshold_gate,
    "verdict": verdict,
    "threshold_result": threshold_result,
    "tensor_type": tensor_type,
    "top_values": top_values,
    "one_line": one_line,
    "tooltip": tooltip,
    "text_examples": text_examples,
    "length_summary": length_summary,
    "class_balance": class_balance,
    "baseline_basis": baseline_basis,
    "status_label": status_label,
    "owners": owners,
    "framework_versions": framework_versions,
    "metric_label": metric_label,
    "metric_columns": metric_columns,
    "by_label": metrics_by_label,
    "index_by": index_by,
    "md": markdown_text,
    "md_cell": markdown_text,
    "md_code": markdown_code,
}


def visible_strings(value: Any) -> Any:
    """A document with control and bidirectional characters removed from every string
    (keys too): what another tool shows must read as what the card says."""
    if isinstance(value, str):
        return visible_text(value)
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            shown = visible_text(str(key))
            if shown in cleaned:
                raise CardContentError(
                    f"the keys {excerpt(shown)} and {excerpt(str(key))} are the same once "
                    "invisible characters are removed: rename one of them"
                )
            cleaned[shown] = visible_strings(item)
        return cleaned
    if isinstance(value, list):
        return [visible_strings(v) for v in value]
    return value
