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
    """ "(lower – upper)" when both bounds are known, else ""."""
    lower, upper = metric["lower_bound"], metric["upper_bound"]
    if lower is None or upper is None:
        return ""
    return f"({format_number(lower)} – {format_number(upper)})"


def percent(value: float) -> str:
    """A share as a whole percentage: "83%"."""
    return f"{value:.0%}"


def signed(value: float | None) -> str:
    """A change with its sign, to 4 significant digits; "–" when unknown."""
    return "–" if value is None else f"{value:+.4g}"


def threshold_bounds(threshold: Record) -> str:
    """A threshold's gate: "≥ 0.6, ≤ 1", "change +0", "relative change -0.1"."""
    parts = []
    if threshold["lower_bound"] is not None:
        parts.append(f"≥ {format_number(threshold['lower_bound'])}")
    if threshold["upper_bound"] is not None:
        parts.append(f"≤ {format_number(threshold['upper_bound'])}")
    if threshold["absolute"] is not None:
        parts.append(f"change {threshold['absolute']:+g}")
    if threshold["relative"] is not None:
        parts.append(f"relative change {threshold['relative']:+g}")
    return ", ".join(parts)


def threshold_gate(threshold: Record) -> str:
    """ "value", or "change (higher is better)"."""
    direction = threshold["direction"].lower().replace("_", " ")
    return f"{threshold['kind']} ({direction})" if direction else threshold["kind"]


def verdict(passed: bool | None) -> str:
    """A threshold's result: "passed", "failed" or "not validated"."""
    if passed is None:
        return "not validated"
    return "passed" if passed else "failed"


def tensor_type(tensor: Record) -> str:
    """A signature tensor's type and shape, e.g. "float32[?, 1]"."""
    shape = tensor["shape"]
    if shape is None:
        return tensor["dtype"]
    return f"{tensor['dtype']}[{', '.join('?' if d is None else str(d) for d in shape)}]"


def top_values(feature: Record, limit: int = TOP_VALUES_SHOWN) -> str:
    """A categorical feature's most frequent values with their counts: "a (3), b (2)"."""
    return ", ".join(
        f"{t['value']} ({format_number(t['frequency'])})" for t in feature["top_values"][:limit]
    )


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
    return card.metric_label(metric["name"], metric["sub_key"])


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


def markdown_code(value: Any) -> str:
    """An inline code span showing the value verbatim, safe inside a table cell."""
    text = _LINE_BREAKS.sub(" ", visible_text(str(value))).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


FILTERS: dict[str, Callable[..., Any]] = {
    "num": format_number,
    "ci": confidence_interval,
    "signed": signed,
    "percent": percent,
    "threshold_bounds": threshold_bounds,
    "threshold_gate": threshold_gate,
    "verdict": verdict,
    "tensor_type": tensor_type,
    "top_values": top_values,
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
