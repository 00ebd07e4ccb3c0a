"""Drawing charts as small, standalone SVG.

`to_svg` draws a chart (`charts.Histogram`, `BarChart`, `Matrix` or `Curve`) as inline
SVG without scripts, fonts or external references, of fixed size and byte-identical for
the same input, so cards stay small and diffable. Drawing is plain string building
because a card may hold hundreds of charts (one per feature and split).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from mct_component.card.charts import BarChart, Chart, Curve, Histogram, Matrix
from mct_component.errors import ParameterError
from mct_component.text import shorten

MIN_WIDTH = 240
LABEL_CHARS = 24  # longer labels are cut, with the full text in a hover <title>
_CHAR_W = 6.5  # generous mean glyph width of 11 px sans-serif, for layout only
_TITLE_CHAR_W = 7.4  # the same for the 13 px bold title
_ROW = 20  # height of one horizontal bar
_BAR = "#4e79a7"
_GRID = "#e4e4e4"
_AXIS = "#666"
_INK = "#333"  # text
_FAINT = "#888"  # "No data"
_ERROR_BAR = "#222"
# Okabe-Ito: distinguishable with colour-vision deficiencies; dashes for greyscale.
_PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
_DASHES = ("", "6 3", "2 2", "8 3 2 3")
_LIGHT, _DARK = (247, 251, 255), (8, 69, 148)
_SHADES = 8  # heat-map colour steps above the lightest
_ID = re.compile(r"[A-Za-z_][\w.-]*\Z")
# Characters XML 1.0 forbids (they occur in real categorical values).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Bidirectional and hiding characters: they could make a label read as something else.
_BIDI = re.compile(
    "[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
_Axis = tuple[float, float, list[float], list[str]]  # low, high, ticks, tick labels
# How parts of an x/y frame look: (class, property, value). Standalone charts state the
# property on each element; `split_comparison` gives the class, styled by `_SPLIT_CSS`.
_LOOKS = {
    "grid": ("g", "stroke", _GRID),
    "axis": ("a", "stroke", _AXIS),
    "axis title": ("y", "fill", _AXIS),
    "end": ("e", "text-anchor", "end"),
    "middle": ("m", "text-anchor", "middle"),
}
# The look of `split_comparison` charts (class "sc"), said once per page rather than on
# each of the thousands of elements of a card's feature charts: the frame, and each
# split's colour (f: fill, s: stroke) and dash pattern (d).
_SPLIT_CSS = "".join(
    [
        f".sc{{font-family:sans-serif;font-size:11px;fill:{_INK}}}",
        ".sc .o{fill:none;stroke-width:1.5}",
        *(f".sc .{name}{{{prop}:{value}}}" for name, prop, value in _LOOKS.values()),
        *(f".sc .f{i}{{fill:{c}}}.sc .s{i}{{stroke:{c}}}" for i, c in enumerate(_PALETTE)),
        *(f".sc .d{i}{{stroke-dasharray:{d}}}" for i, d in enumerate(_DASHES) if d),
    ]
)


def to_svg(chart: Chart, *, width: int = 480, chart_id: str | None = None) -> str:
    """Draws a chart as a standalone SVG document, also valid inline in HTML.

    Args:
        chart: a `Histogram`, `BarChart`, `Matrix` or `Curve`.
        width: width in px. The height follows from the chart: bar charts and matrices
            grow with their rows.
        chart_id: prefix of the element ids `aria-labelledby` refers to; give each chart
            inlined in one HTML page its own. Defaults to a hash of the drawing.

    Returns:
        SVG markup without an XML declaration (UTF-8 when written to a file).

    Raises:
        ParameterError: `width` is below `MIN_WIDTH` or `chart_id` is not an XML id.
        TypeError: `chart` is not a chart.
    """
    draw = _DRAW.get(type(chart))
    if draw is None:
        raise TypeError(f"expected one of {[c.__name__ for c in _DRAW]}, got {chart!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < MIN_WIDTH:
        raise ParameterError(f"chart width must be an integer >= {MIN_WIDTH}, got {width!r}")
    if chart_id is not None and not _ID.match(chart_id):
        raise ParameterError(f"chart_id must be a valid XML id, got {chart_id!r}")
    parts = [_title(chart.title, width)] if chart.title else []
    height = (_no_data if _is_empty(chart) else draw)(chart, width, parts)
    # No whitespace between elements: inline in HTML, each newline is a DOM text node.
    body = "".join(parts)
    title, desc = _esc(chart.title), _esc(chart.description or chart.title)
    if chart_id is None:
        digest = hashlib.sha256(f"{title}\n{desc}\n{body}".encode()).hexdigest()
        chart_id = f"chart-{digest[:10]}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'font-family="sans-serif" font-size="11" fill="{_INK}">'
        f'<title id="{chart_id}-t">{title}</title><desc id="{chart_id}-d">{desc}</desc>'
        f"{body}</svg>\n"
    )


def _is_empty(chart: Chart) -> bool:
    if isinstance(chart, Histogram):
        return not chart.buckets
    if isinstance(chart, BarChart):
        return not chart.bars
    if isinstance(chart, Matrix):
        return not chart.row_labels or not chart.column_labels
    return not any(s.points for s in chart.series)


def _no_data(chart: Chart, width: int, parts: list[str]) -> int:
    parts.append(
        f'<text x="{width // 2}" y="48" text-anchor="middle" fill="{_FAINT}">No data</text>'
    )
    return 64


def _histogram(chart: Histogram, width: int, parts: list[str]) -> int:
    height = round(width * 0.625)
    edges = [b.low for b in chart.buckets] + [b.high for b in chart.buckets]
    x_axis = _axis(min(edges), max(edges), nice=False)
    y_axis = _axis(*_with_zero(b.count for b in chart.buckets), nice=True)
    px, py, axis = _xy_frame(parts, width, height, 42, x_axis, y_axis, chart.x_label, "count")
    base = py(0)
    bars = []
    for b in chart.buckets:
        x0, x1 = sorted((px(b.low), px(b.high)))
        # A gap between neighbours; zero-width buckets (one distinct value) stay visible.
        x0, x1 = (x0 + 0.5, x1 - 0.5) if x1 - x0 > 3 else ((x0 + x1) / 2 - 1.5, (x0 + x1) / 2 + 1.5)
        top = py(b.count)
        # No per-bucket tooltip: a card holds hundreds of histograms, and the exact
        # counts are in the card's JSON.
        if abs(base - top) >= 0.05:
            bars.append(_box(x0, min(base, top), x1 - x0, abs(base - top)))
    # One path for all the bars: a card holds thousands of histograms.
    parts.append(f'<path d="{"".join(bars)}" fill="{_BAR}"/>')
    parts.append(axis)
    return height


def _bar_chart(chart: BarChart, width: int, parts: list[str]) -> int:
    bars = chart.bars
    limit = min(LABEL_CHARS, int(width * 0.4 / _CHAR_W))
    values = [_fmt(b.value) for b in bars]
    left = 10 + _CHAR_W * max(min(len(b.label), limit) for b in bars)
    right = width - 8 - _CHAR_W * max(len(v) for v in values)
    bounds = [v for b in bars for v in (b.value, b.lower, b.upper) if v is not None]
    lo, hi, ticks, tick_labels = _axis(*_with_zero(bounds), nice=True)
    px = _scale(lo, hi, left, right)
    top = 24
    if chart.y_label:
        parts.append(_text(4, top + 10, chart.y_label, limit, f' fill="{_AXIS}"'))
        top += 16
    bottom = top + 2 + len(bars) * _ROW + 2
    grid = "".join(f"M{_n(px(t))} {top}V{bottom}" for t in ticks)
    parts.append(f'<path d="{grid}" stroke="{_GRID}"/>')
    rects, boxes, labels, texts, errors = [], [], [], [], []
    for i, (bar, value) in enumerate(zip(bars, values, strict=True)):
        y = top + 2 + i * _ROW
        x0, x1 = sorted((px(0), px(bar.value)))
        tip = ""
        if bar.lower is not None or bar.upper is not None:
            low = bar.value if bar.lower is None else bar.lower
            high = bar.value if bar.upper is None else bar.upper
            tip = f"<title>{value} ({_fmt(low)} to {_fmt(high)})</title>"
            e0, e1, mid = _n(px(low)), _n(px(high)), y + _ROW // 2
            errors.append(f"M{e0} {mid}H{e1}M{e0} {mid - 4}v8M{e1} {mid - 4}v8")
        if tip:  # its own element, for the interval's hover text
            rects.append(
                f'<rect x="{_n(x0)}" y="{y + 3}" width="{_n(x1 - x0)}" height="14">{tip}</rect>'
            )
        elif x1 - x0 >= 0.05:
            boxes.append(_box(x0, y + 3, x1 - x0, 14))
        labels.append(_text(_n(left - 6), y + 14, bar.label, limit))
        texts.append(f'<text x="{_n(right + 6)}" y="{y + 14}">{value}</text>')
    if boxes:
        rects.append(f'<path d="{"".join(boxes)}"/>')
    parts += [f'<g fill="{_BAR}">', *rects, "</g>"]
    if errors:
        parts.append(f'<path class="error-bars" d="{"".join(errors)}" stroke="{_ERROR_BAR}"/>')
    parts += ['<g text-anchor="end">', *labels, "</g>", *texts]
    ticks_d = "".join(f"M{_n(px(t))} {bottom}v4" for t in ticks)
    axis_d = f"M{_n(px(0))} {top}V{bottom}M{_n(left)} {bottom}H{_n(right)}{ticks_d}"
    parts.append(f'<path d="{axis_d}" stroke="{_AXIS}"/>')
    parts.append('<g text-anchor="middle">')
    parts += [
        f'<text x="{_n(px(t))}" y="{bottom + 15}">{s}</text>'
        for t, s in zip(ticks, tick_labels, strict=True)
    ]
    height = bottom + 22
    if chart.x_label:
        chars = int((right - left) / _CHAR_W)
        parts.append(_text(_n((left + right) / 2), bottom + 31, chart.x_label, chars))
        height += 16
    parts.append("</g>")
    return height


def _matrix(chart: Matrix, width: int, parts: list[str]) -> int:
    limit = min(LABEL_CHARS, int(width * 0.35 / _CHAR_W))
    names = (*chart.row_labels, chart.row_title)
    left = 10 + _CHAR_W * max(min(len(s), limit) for s in names)
    cell_w = (width - 8 - left) / len(chart.column_labels)
    cell_h = max(16.0, min(28.0, cell_w))
    top = 24
    if chart.column_title:
        chars = int((width - 8 - left) / _CHAR_W)
        parts.append(
            _text(
                _n(left + (width - 8 - left) / 2),
                top + 10,
                chart.column_title,
                chars,
                f' text-anchor="middle" fill="{_AXIS}"',
            )
        )
        top += 16
    if chart.row_title:
        parts.append(
            _text(
                _n(left - 6), top + 10, chart.row_title, limit, f' text-anchor="end" fill="{_AXIS}"'
            )
        )
    column_chars = max(1, min(limit, int((cell_w - 4) / _CHAR_W)))
    parts.append('<g text-anchor="middle">')
    parts += [
        _text(_n(left + (j + 0.5) * cell_w), top + 10, label, column_chars)
        for j, label in enumerate(chart.column_labels)
    ]
    parts.append("</g>")
    top += 16
    flat = [v for row in chart.values for v in row]
    lo, hi = min(0.0, min(flat)), max(flat)
    # One path per shade keeps big matrices small (30 x 30 classes: 900 cells).
    shades: dict[int, list[str]] = {}
    numbers = []
    w, h = _n(cell_w), _n(cell_h)
    for i, row in enumerate(chart.values):
        y = top + i * cell_h
        for j, value in enumerate(row):
            x, text = left + j * cell_w, _fmt(value)
            level = round(_SHADES * (value - lo) / (hi - lo)) if hi > lo else 0
            shades.setdefault(level, []).append(f"M{_n(x)} {_n(y)}h{w}v{h}h-{w}z")
            if len(text) * _CHAR_W + 4 <= cell_w:
                ink = ' fill="#fff"' if level > _SHADES / 2 else ""
                numbers.append(
                    f'<text x="{_n(x + cell_w / 2)}" y="{_n(y + cell_h / 2 + 4)}"{ink}>{text}</text>'
                )
    parts.append('<g stroke="#fff">')
    parts += [
        f'<path d="{"".join(shades[level])}" fill="{_shade(level / _SHADES)}"/>'
        for level in sorted(shades)
    ]
    parts += ["</g>", '<g text-anchor="middle">', *numbers, "</g>"]
    parts.append('<g text-anchor="end">')
    parts += [
        _text(_n(left - 6), _n(top + (i + 0.5) * cell_h + 4), label, limit)
        for i, label in enumerate(chart.row_labels)
    ]
    parts.append("</g>")
    return round(top + len(chart.row_labels) * cell_h + 8)


def _curve(chart: Curve, width: int, parts: list[str]) -> int:
    top = 24
    if len(chart.series) > 1:
        x, y = 4.0, top + 8
        for i, series in enumerate(chart.series):
            name = shorten(series.name, LABEL_CHARS)
            step = 26 + len(name) * _CHAR_W + 12
            if x + step > width - 4 and x > 4:
                x, y = 4.0, y + 15
            parts.append(
                f'<path d="M{_n(x)} {y - 4}h20" stroke="{_PALETTE[i % len(_PALETTE)]}" stroke-width="2"{_dash(i)}/>'
            )
            parts.append(_text(_n(x + 26), y, series.name, LABEL_CHARS))
            x += step
        top = y + 8
    height = round(width * 0.625) + top - 24
    xs = [p[0] for s in chart.series for p in s.points]
    ys = [p[1] for s in chart.series for p in s.points]
    x_axis, y_axis = _axis(min(xs), max(xs), nice=True), _axis(min(ys), max(ys), nice=True)
    px, py, axis = _xy_frame(
        parts, width, height, top + 18, x_axis, y_axis, chart.x_label, chart.y_label
    )
    for i, series in enumerate(chart.series):
        if not series.points:
            continue
        color = _PALETTE[i % len(_PALETTE)]
        points = _simplify([(round(px(x), 1), round(py(y), 1)) for x, y in series.points])
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        tip = f"<title>{_esc(series.name)}</title>" if series.name else ""
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.5"{_dash(i)}>{tip}</polyline>'
        )
        if len(series.points) <= 25:  # sparse curves (calibration bins): mark the data
            dots = "".join(
                f'<circle cx="{_n(px(x))}" cy="{_n(py(y))}" r="2"/>' for x, y in series.points
            )
            parts.append(f'<g fill="{color}">{dots}</g>')
    parts.append(axis)
    return height


_DRAW: dict[type, Callable[[Any, int, list[str]], int]] = {
    Histogram: _histogram,
    BarChart: _bar_chart,
    Matrix: _matrix,
    Curve: _curve,
}


def _xy_frame(
    parts: list[str],
    width: int,
    height: int,
    top: float,
    x_axis: _Axis,
    y_axis: _Axis,
    x_label: str,
    y_label: str,
    classes: bool = False,
) -> tuple[Callable[[float], float], Callable[[float], float], str]:
    """Draws the grid and tick labels of an x/y plot into `parts`.

    Args:
        classes: style its parts with `_SPLIT_CSS`'s classes instead of attributes.

    Returns:
        The x and y scales (data to px) and the axis lines, to draw over the data.
    """

    def look(kind: str) -> str:
        return _look(kind, classes)

    (x_lo, x_hi, x_ticks, x_labels), (y_lo, y_hi, y_ticks, y_labels) = x_axis, y_axis
    left = 8 + _CHAR_W * max(len(s) for s in y_labels)
    right, bottom = width - 16, height - (36 if x_label else 22)
    px, py = _scale(x_lo, x_hi, left, right), _scale(y_lo, y_hi, bottom, top)
    if y_label:
        chars = int((width - 8) / _CHAR_W)
        parts.append(_text(4, _n(top - 8), y_label, chars, look("axis title")))
    grid = "".join(f"M{_n(left)} {_n(py(t))}H{_n(right)}" for t in y_ticks)
    parts.append(f'<path d="{grid}"{look("grid")}/>')
    # Tick labels in a column (or row) share one coordinate, given once by the group.
    parts.append(f'<g{look("end")} transform="translate({_n(left - 4)} 4)">')
    parts += [f'<text y="{_n(py(t))}">{s}</text>' for t, s in zip(y_ticks, y_labels, strict=True)]
    parts.append(f'</g><g{look("middle")} transform="translate(0 {_n(bottom + 15)})">')
    parts += [f'<text x="{_n(px(t))}">{s}</text>' for t, s in zip(x_ticks, x_labels, strict=True)]
    if x_label:
        chars = int((right - left) / _CHAR_W)
        parts.append(_text(_n((left + right) / 2), _n(height - bottom - 21), x_label, chars))
    parts.append("</g>")
    ticks = "".join(f"M{_n(px(t))} {_n(bottom)}v4" for t in x_ticks)
    zero = f"M{_n(left)} {_n(py(0))}H{_n(right)}" if y_lo < 0 < y_hi else ""
    axis = f'<path d="{zero}M{_n(left)} {_n(bottom)}H{_n(right)}{ticks}"{look("axis")}/>'
    return px, py, axis


def _with_zero(values: Iterable[float]) -> tuple[float, float]:
    """The range of values including zero, where bars start."""
    values = [0.0, *values]
    low, high = min(values), max(values)
    return (low, high) if low < high else (0.0, 1.0)


def _axis(lo: float, hi: float, *, nice: bool, target: int = 5) -> _Axis:
    """An axis range with ticks at round numbers, extended to them when `nice`."""
    if lo == hi:
        spread = abs(lo) * 0.1 or 1.0
        lo, hi = lo - spread, hi + spread
    raw = (hi - lo) / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if nice:
        lo = math.floor(lo / step + 1e-9) * step
        hi = math.ceil(hi / step - 1e-9) * step
    ticks = [k * step for k in range(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1)]
    return lo, hi, ticks, _tick_labels(ticks, step)


def _tick_labels(ticks: list[float], step: float) -> list[str]:
    largest = max(abs(t) for t in ticks)
    scale, suffix = next(((s, x) for s, x, at in _SUFFIXES if largest >= at), (1.0, ""))
    decimals = max(0, -math.floor(math.log10(step / scale) + 1e-9))
    return [f"{t / scale:.{decimals}f}{suffix}" if t else "0" for t in ticks]


_SUFFIXES = ((1e9, "B", 1e9), (1e6, "M", 1e6), (1e3, "k", 1e4))


def _scale(lo: float, hi: float, a: float, b: float) -> Callable[[float], float]:
    factor = (b - a) / (hi - lo)
    return lambda v: a + (v - lo) * factor


def _fmt(value: float) -> str:
    """A data value for display: integers below 10 000 as is, else 3 significant digits."""
    if float(value).is_integer() and abs(value) < 1e4:
        return str(int(value))
    rounded = float(f"{value:.3g}")
    size = abs(rounded)
    if size < 1e-3 or size >= 1e12:
        return f"{value:.3g}"
    for scale, suffix, at in _SUFFIXES:
        if size >= at:
            return _trim(f"{rounded / scale:.3g}") + suffix
    return _trim(f"{rounded:.{max(0, 2 - math.floor(math.log10(size)))}f}")


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


def _n(x: float) -> str:
    """A coordinate, to 0.1 px."""
    text = f"{x:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _box(x: float, y: float, width: float, height: float) -> str:
    """A rectangle as path data, to draw many in one <path>."""
    return f"M{_n(x)} {_n(y)}h{_n(width)}v{_n(height)}h-{_n(width)}z"


def _esc(text: str) -> str:
    if not (text.isascii() and text.isprintable()):  # printable ASCII: nothing to remove
        text = _BIDI.sub("", _NOT_XML.sub("\ufffd", text))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _text(x: float | str, y: float | str, text: str, limit: int, attrs: str = "") -> str:
    """A <text>, cut to `limit` characters with the full text in a hover <title>."""
    short = shorten(text, limit)
    tip = "" if short == text else f"<title>{_esc(text)}</title>"
    return f'<text x="{x}" y="{y}"{attrs}>{_esc(short)}{tip}</text>'


def _title(title: str, width: int) -> str:
    return _text(
        4, 16, title, int((width - 8) / _TITLE_CHAR_W), ' font-size="13" font-weight="bold"'
    )


def _look(kind: str, classes: bool) -> str:
    """The attribute that makes a part of a chart look as `_LOOKS` says."""
    name, prop, value = _LOOKS[kind]
    return f' class="{name}"' if classes else f' {prop}="{value}"'


def _split_class(i: int, paint: str) -> str:
    """The class attribute of split `i`'s colour as "fill" or "stroke" (a dashed one)."""
    if paint == "fill":
        return f' class="f{i % len(_PALETTE)}"'
    dash = i % len(_DASHES)
    return f' class="s{i % len(_PALETTE)}{f" d{dash}" if _DASHES[dash] else ""}"'


def _dash(i: int) -> str:
    dash = _DASHES[i % len(_DASHES)]
    return f' stroke-dasharray="{dash}"' if dash else ""


def _shade(t: float) -> str:
    return "#" + "".join(
        f"{round(a + (b - a) * t):02x}" for a, b in zip(_LIGHT, _DARK, strict=True)
    )


def _simplify(
    points: list[tuple[float, float]], tolerance: float = 0.3
) -> list[tuple[float, float]]:
    """Drops points within `tolerance` px of the drawn line (Ramer-Douglas-Peucker).

    TFMA curves have a point per threshold (often 1 000+); most fall on one pixel.
    """
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        length = dx * dx + dy * dy
        worst, at = tolerance, -1
        hypot = math.hypot
        # The distance to the segment, written out: this loop is most of a card's curves.
        for k, (x, y) in enumerate(points[first + 1 : last], start=first + 1):
            if length:
                t = ((x - x0) * dx + (y - y0) * dy) / length
                t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
            else:
                t = 0.0
            distance = hypot(x - x0 - t * dx, y - y0 - t * dy)
            if distance > worst:
                worst, at = distance, k
        if at >= 0:
            keep[at] = True
            stack += [(first, at), (at, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


@dataclasses.dataclass(frozen=True)
class SplitComparison:
    """One feature's distribution in every split, drawn once (`draw_split_comparison`),
    to be wrapped inline for an HTML page or as a standalone SVG file."""

    width: int
    height: int
    head: str  # <title> and <desc>
    body: str

    def inline(self, *, css: bool = True) -> str:
        """SVG markup for HTML: no `xmlns`, no size (CSS gives the width; the viewBox
        keeps the shape), with the CSS of its classes as a <style> when `css`."""
        style = f"<style>{_SPLIT_CSS}</style>" if css else ""
        return (
            f'<svg class="sc" viewBox="0 0 {self.width} {self.height}" role="img">'
            f"{self.head}{style}{self.body}</svg>"
        )

    def standalone(self) -> str:
        """A standalone SVG document (a file the Markdown card links), CSS included."""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="sc" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img">'
            f"{self.head}<style>{_SPLIT_CSS}</style>{self.body}</svg>\n"
        )


def split_comparison(
    charts: Sequence[tuple[str, Histogram | BarChart]], *, width: int = 480, css: bool = True
) -> str:
    """Draws one feature's distribution in every split as one chart, for an HTML page.

    See `draw_split_comparison`; this is its `inline` markup.

    Args:
        charts: (split name, that split's chart) pairs, all histograms or all bar charts.
        width: width in px.
        css: include the CSS of the classes, as a <style> in the chart. Leave it out
            only where the page already has it: a browser applies an inline SVG's
            <style> to the whole page, but WeasyPrint (the PDF) only to that SVG.

    Raises:
        ParameterError: no charts, or charts of different kinds or not feature charts.
    """
    return draw_split_comparison(charts, width=width).inline(css=css)


def draw_split_comparison(
    charts: Sequence[tuple[str, Histogram | BarChart]], *, width: int = 480
) -> SplitComparison:
    """Draws one feature's distribution in every split as one chart, splits side by side.

    A card has a chart per feature and split: drawn apart, 2,000 features make 6,000
    charts, each with its own axes, grid and labels. Drawn together they share them, and
    the splits can be compared at a glance. Each split is a colour (and a dash pattern
    for greyscale) named in the legend; values are shares of the split's examples, so
    splits of different sizes compare. Histograms become step outlines over the values'
    range; bar charts become grouped bars, one per split that lists the value (a value
    outside a split's top values has no bar for that split).

    Colours, dashes, fonts and the frame's look are CSS classes, stated once in a page
    of thousands of these charts rather than on each element.

    Args:
        charts: (split name, that split's chart) pairs, all histograms or all bar charts
            (the charts `chart_builders.feature_chart` makes), in split order.
        width: width in px.

    Returns:
        The drawing; its <title> is the first chart's title (not drawn), its <desc> says
        what is drawn for which splits.

    Raises:
        ParameterError: no charts, or charts of different kinds or not feature charts.
    """
    kinds = {type(chart) for _, chart in charts}
    if not charts or len(kinds) != 1 or not kinds <= {Histogram, BarChart}:
        raise ParameterError(
            "split_comparison draws histograms or bar charts of one kind, got "
            f"{sorted(k.__name__ for k in kinds) or 'none'}"
        )
    title = charts[0][1].title
    # No title drawn: the page names the feature just above (the <title> stays, for
    # screen readers and hover). The legend comes first: each split in its colour.
    parts = []
    x = 4.0
    for i, (name, _) in enumerate(charts):
        parts.append(_text(_n(x), 16, name, LABEL_CHARS, _split_class(i, "fill")))
        x += _CHAR_W * min(len(name), LABEL_CHARS) + 14
    if all(_is_empty(chart) for _, chart in charts):
        height = _no_data(charts[0][1], width, parts)
    elif kinds == {Histogram}:
        height = _step_outlines(cast(Sequence[tuple[str, Histogram]], charts), width, parts)
    else:
        height = _grouped_bars(cast(Sequence[tuple[str, BarChart]], charts), width, parts)
    what = "Distribution" if kinds == {Histogram} else "Most frequent values"
    names = ", ".join(name for name, _ in charts)
    desc = f"{what}, in % of each split's examples: {names}."
    head = f"<title>{_esc(title)}</title><desc>{_esc(desc)}</desc>"
    return SplitComparison(width, height, head, "".join(parts))


def _share(values: Iterable[float]) -> Callable[[float], float]:
    """Value to percent of the values' total (0 when the total is 0)."""
    total = math.fsum(values)
    return (lambda v: 100.0 * v / total) if total > 0 else (lambda v: 0.0)


def _step_outlines(charts: Sequence[tuple[str, Histogram]], width: int, parts: list[str]) -> int:
    height = round(width * 0.625) - 18
    edges = [e for _, c in charts for b in c.buckets for e in (b.low, b.high)]
    shares = [_share(b.count for b in c.buckets) for _, c in charts]
    peak = max(f(b.count) for f, (_, c) in zip(shares, charts, strict=True) for b in c.buckets)
    x_axis = _axis(min(edges), max(edges), nice=False)
    y_axis = _axis(*_with_zero([peak]), nice=True)
    px, py, axis = _xy_frame(
        parts, width, height, 40, x_axis, y_axis, "", "% of the split", classes=True
    )
    base = round(py(0))
    outlines = []
    for i, ((_, chart), share) in enumerate(zip(charts, shares, strict=True)):
        if not chart.buckets:
            continue
        # Whole pixels: a card has thousands of these, and outlines need no more.
        points, last = [], None
        for b in sorted(chart.buckets, key=lambda b: (b.low, b.high)):
            x0, x1 = px(b.low), px(b.high)
            if x1 - x0 < 3:  # one distinct value: a visible spike
                x0, x1 = (x0 + x1) / 2 - 1.5, (x0 + x1) / 2 + 1.5
            if last is None:
                points.append((round(x0), base))
            elif abs(x0 - last) >= 0.5:  # a gap between buckets: down to zero and across
                points += [(points[-1][0], base), (round(x0), base)]
            top = round(py(share(b.count)))
            points += [(points[-1][0], top), (round(x1), top)]
            last = x1
        points.append((points[-1][0], base))
        outlines.append(f'<path d="{_step_path(points)}"{_split_class(i, "stroke")}/>')
    parts += ['<g class="o">', *outlines, "</g>", axis]
    return height


def _merge_collinear(points: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The polyline without repeated points and points inside a straight run.

    A histogram's neighbouring buckets often have one height (empty tails above all):
    drawn point by point, that run is a row of zero-length steps. The line drawn, its
    length and so its dash pattern stay the same; a point where the line turns back
    on itself stays.
    """
    kept: list[tuple[int, int]] = []
    for p in points:
        if kept and p == kept[-1]:
            continue
        if len(kept) >= 2:
            (ax, ay), (bx, by) = kept[-2], kept[-1]
            straight = (ax == bx == p[0] and min(ay, p[1]) <= by <= max(ay, p[1])) or (
                ay == by == p[1] and min(ax, p[0]) <= bx <= max(ax, p[0])
            )
            if straight:
                kept[-1] = p
                continue
        kept.append(p)
    return kept


def _step_path(points: Sequence[tuple[int, int]]) -> str:
    """Path data of a polyline of horizontal and vertical segments (whole pixels).

    Each step is written to its end point or by its length, whichever is shorter.
    """
    (x, y), *rest = _merge_collinear(points)
    d = [f"M{x} {y}"]
    for nx, ny in rest:
        to, by = (f"H{nx}", f"h{nx - x}") if ny == y else (f"V{ny}", f"v{ny - y}")
        d.append(by if len(by) < len(to) else to)
        x, y = nx, ny
    return "".join(d)


def _grouped_bars(charts: Sequence[tuple[str, BarChart]], width: int, parts: list[str]) -> int:
    labels = list(dict.fromkeys(bar.label for _, c in charts for bar in c.bars))
    # The "other" bar top_k adds (the rest of the values) goes last, as in each chart.
    trailing = {c.bars[-1].label for _, c in charts if c.bars} & {"other"}
    labels = [label for label in labels if label not in trailing] + sorted(trailing)
    limit = min(LABEL_CHARS, int(width * 0.4 / _CHAR_W))
    left = 10 + _CHAR_W * max(min(len(label), limit) for label in labels)
    right = width - 12
    values = []
    for _, chart in charts:
        share = _share(bar.value for bar in chart.bars)
        values.append({bar.label: share(bar.value) for bar in chart.bars})
    lo, hi, ticks, tick_labels = _axis(
        *_with_zero(v for row in values for v in row.values()), nice=True
    )
    px = _scale(lo, hi, left, right)
    top = 26
    bottom = top + 2 + len(labels) * _ROW + 2
    thickness = max(1, (_ROW - 4) // len(charts))  # whole pixels: shorter path data
    grid = "".join(f"M{_n(px(t))} {top}V{bottom}" for t in ticks)
    parts.append(f'<path d="{grid}"{_look("grid", True)}/>')
    # Each bar is a line as thick as the bar (butt ends: the same rectangle), half
    # the path data of its outline.
    parts.append(f'<g stroke-width="{thickness}">')
    zero = round(px(0))
    for i, row in enumerate(values):
        bars = []
        # Twice the bar's middle y, a whole number: the y is whole or ends in .5.
        twice_y = 2 * (top + 4) + (2 * i + 1) * thickness
        for j, label in enumerate(labels):
            if label in row:
                x0, x1 = sorted((zero, round(px(row[label]))))
                w = max(x1 - x0, 1 if row[label] else 0)
                y2 = twice_y + 2 * j * _ROW
                y = str(y2 // 2) if y2 % 2 == 0 else f"{y2 // 2}.5"
                bars.append(f"M{x0} {y}h{w}")
        if bars:  # the split's colour, without its dashes
            parts.append(f'<path d="{"".join(bars)}" class="s{i % len(_PALETTE)}"/>')
    parts.append("</g>")
    # Cut labels get no hover text here (it doubled the chart of long category names);
    # the table beside it and the card's JSON have them whole.
    parts.append(f'<g{_look("end", True)} transform="translate({_n(left - 6)} {top + 16})">')
    parts += [
        f'<text y="{j * _ROW}">{_esc(shorten(label, limit))}</text>'
        for j, label in enumerate(labels)
    ]
    parts.append("</g>")
    ticks_d = "".join(f"M{_n(px(t))} {bottom}v4" for t in ticks)
    parts.append(
        f'<path d="M{_n(px(0))} {top}V{bottom}M{_n(left)} {bottom}H{_n(right)}{ticks_d}"{_look("axis", True)}/>'
    )
    parts.append(f'<g{_look("middle", True)} transform="translate(0 {bottom + 15})">')
    parts += [f'<text x="{_n(px(t))}">{s}</text>' for t, s in zip(ticks, tick_labels, strict=True)]
    parts.append(_text(_n((left + right) / 2), 16, "% of the split", 40))
    parts.append("</g>")
    return bottom + 38
