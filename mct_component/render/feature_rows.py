"""The per-feature parts of the default templates, written in Python.

A card of 2,000 features has some 140,000 values in its feature tables; printed one by
one through Jinja (each output finalized, escaped and joined) they were a third of the
card's rendering. These functions write the same markup directly: every value escaped
for its format exactly as the templates escape it (`html_text`, `markdown_value`), the
markup itself written here. The templates call them as the filters `feature_blocks`
(HTML) and `feature_rows` (Markdown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import markupsafe

from mct_component.render import formatting

Record = Mapping[str, Any]
_number = formatting.format_number
_KIND_NAMES = {"free_text": " free text", "bytes": " bytes"}


def html_text(value: Any) -> str:
    """A value as the HTML templates print it (`formatting.html_finalize`, then escaped)."""
    return str(markupsafe.escape(formatting.html_finalize(value)))


def markdown_value(value: Any) -> str:
    """A value as the Markdown templates print it (`formatting.markdown_finalize`)."""
    return str(formatting.markdown_finalize(value))


def _or_dash(value: Any) -> Any:
    return value if value is not None else "–"


def html_feature_blocks(
    splits: Sequence[Record], feature_svg: Callable[[str], Any]
) -> markupsafe.Markup:
    """Each feature of the first split as a `<details>` block: its statistics in every
    split where it appears (columns by its kind) and its chart comparing the splits.

    The blocks are lean (optional end tags left out, no classes on cells, no whitespace
    between elements): a card may hold thousands of them.
    """
    by_split = [(split["name"], {f["name"]: f for f in split["features"]}) for split in splits]
    out: list[str] = []
    write = out.append
    for f in splits[0]["features"] if splits else ():
        kind = f.get("kind", "")
        write(f"<details><summary>{html_text(f['name'])} <small>{html_text(f['type'])}")
        write(_KIND_NAMES.get(kind, ""))
        write("</small>")
        if f.get("role"):
            write(f' <span class="badge">{html_text(f["role"])}</span>')
        write("</summary><table><tr><th>Split<th>Missing")
        categorical = f["unique"] is not None
        if kind == "free_text":
            write("<th>Unique<th>Unique share<th>Average length<th>Examples")
        elif kind == "bytes":
            write("<th>Unique<th>Average bytes<th>Min bytes<th>Max bytes")
        elif categorical:
            write("<th>Unique<th>Top values")
        else:
            write("<th>Mean<th>Std dev<th>Min<th>Max")
        for split_name, features in by_split:
            g = features.get(f["name"])
            if not g:
                continue
            write(f"<tr><td>{html_text(split_name)}<td>{html_text(_number(g['missing_pct']))}%")
            if kind == "free_text":
                ratio = g["unique_ratio"]
                write(f"<td>{html_text(_or_dash(g['unique']))}")
                write(f"<td>{html_text(formatting.percent(ratio) if ratio is not None else '–')}")
                write(f'<td>{html_text(_number(g["avg_length"]))} characters<td class="text">')
                write(
                    " · ".join(
                        f'<span title="{html_text(formatting.tooltip(t["value"]))}">'
                        f"{html_text(formatting.one_line(t['value']))}</span>"
                        for t in g["top_values"][:3]
                    )
                )
            elif kind == "bytes":
                write(f"<td>{html_text(_or_dash(g['unique']))}")
                write(
                    "".join(
                        f"<td>{html_text(_number(g[key]))}"
                        for key in ("avg_length", "min_length", "max_length")
                    )
                )
            elif categorical:
                write(f"<td>{html_text(_or_dash(g['unique']))}")
                write(f"<td>{html_text(formatting.top_values(g))}")
            else:
                write(
                    "".join(
                        f"<td>{html_text(_number(g[key]))}"
                        for key in ("mean", "std_dev", "min", "max")
                    )
                )
        write(f"</table>{html_text(feature_svg(f['name']))}</details>\n")
    return markupsafe.Markup("".join(out))


def markdown_feature_rows(
    features: Iterable[Record], chart_path: Callable[[Record], str]
) -> markupsafe.Markup:
    """A split's features as rows of the Markdown feature table (see the template's
    header: feature, type, missing, mean, std dev, min, max, unique, top values, chart)."""
    md = markdown_value
    out: list[str] = []
    for f in features:
        role = f" ({md(f['role'])})" if f.get("role") else ""
        unique = f["unique"]
        chart = f"[chart]({chart_path(f['chart'])})" if f.get("chart") else ""
        out.append(
            f"| {md(f['name'])}{role} | {md(f['type'])}{_KIND_NAMES.get(f.get('kind', ''), '')}"
            f" | {md(_number(f['missing_pct']))}% | {md(_number(f['mean']))}"
            f" | {md(_number(f['std_dev']))} | {md(_number(f['min']))} | {md(_number(f['max']))}"
            f" | {md(unique if unique is not None else '')}"
            f" | {md(formatting.top_values(f))} | {chart} |\n"
        )
    return markupsafe.Markup("".join(out))
