"""Charts as card data: typed, checked, and read from / written to the card's JSON.

A chart is a frozen dataclass stored in the card JSON (`chart_to_dict`, schema in
`schemas/chart.schema.json`, read back by `chart_from_dict`). `svg.to_svg` draws it;
`chart_builders` makes charts from statistics and evaluation results.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

from mct_component.errors import CardValidationError, ParameterError


@dataclasses.dataclass(frozen=True)
class Bucket:
    """One histogram bucket: `count` (possibly weighted, so fractional) values in [low, high]."""

    low: float
    high: float
    count: float


@dataclasses.dataclass(frozen=True)
class Bar:
    """One bar; `lower`/`upper` draw an error bar, e.g. a metric's confidence interval."""

    label: str
    value: float
    lower: float | None = None
    upper: float | None = None


@dataclasses.dataclass(frozen=True)
class Series:
    """One named line of (x, y) points, drawn in the given order."""

    name: str
    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", tuple(tuple(p) for p in self.points))


@dataclasses.dataclass(frozen=True)
class Histogram:
    """Distribution of a numeric feature, e.g. a TFDV numeric histogram."""

    kind: str = dataclasses.field(default="histogram", init=False)
    title: str
    description: str
    x_label: str
    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        _check_texts(self, "title", "description", "x_label")
        buckets = _items(self, "buckets", Bucket)
        if _all_finite([v for b in buckets for v in (b.low, b.high, b.count)]):
            return
        for i, bucket in enumerate(buckets):
            for name in ("low", "high", "count"):
                _check_number(self, f"buckets[{i}].{name}", getattr(bucket, name))


@dataclasses.dataclass(frozen=True)
class BarChart:
    """Horizontal bars: a categorical feature's top values, or a metric per slice.

    `x_label` names the (horizontal) value axis, `y_label` the categories.
    """

    kind: str = dataclasses.field(default="bar_chart", init=False)
    title: str
    description: str
    x_label: str
    y_label: str
    bars: tuple[Bar, ...]

    def __post_init__(self) -> None:
        _check_texts(self, "title", "description", "x_label", "y_label")
        bars = _items(self, "bars", Bar)
        if all(type(b.label) is str for b in bars) and _all_finite(
            [v for b in bars for v in (b.value, b.lower, b.upper) if v is not None]
        ):
            return
        for i, bar in enumerate(bars):
            _check_text(self, f"bars[{i}].label", bar.label)
            _check_number(self, f"bars[{i}].value", bar.value)
            for name in ("lower", "upper"):
                if getattr(bar, name) is not None:
                    _check_number(self, f"bars[{i}].{name}", getattr(bar, name))


@dataclasses.dataclass(frozen=True)
class Matrix:
    """A heat map with the numbers in its cells, e.g. a confusion matrix (rows: actual)."""

    kind: str = dataclasses.field(default="matrix", init=False)
    title: str
    description: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    row_title: str = ""
    column_title: str = ""

    def __post_init__(self) -> None:
        _check_texts(self, "title", "description", "row_title", "column_title")
        for field in ("row_labels", "column_labels"):
            for i, label in enumerate(_items(self, field, str)):
                _check_text(self, f"{field}[{i}]", label)
        values = tuple(tuple(row) for row in self.values)
        object.__setattr__(self, "values", values)
        shape = [len(row) for row in values]
        if shape != [len(self.column_labels)] * len(self.row_labels):
            raise CardValidationError(
                f"{_name(self)}: values must be {len(self.row_labels)} rows of "
                f"{len(self.column_labels)} numbers (one per label), got row lengths {shape}"
            )
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                _check_number(self, f"values[{i}][{j}]", value)


@dataclasses.dataclass(frozen=True)
class Curve:
    """Lines in the plane: ROC, precision-recall or calibration curves."""

    kind: str = dataclasses.field(default="curve", init=False)
    title: str
    description: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]

    def __post_init__(self) -> None:
        _check_texts(self, "title", "description", "x_label", "y_label")
        for i, series in enumerate(_items(self, "series", Series)):
            _check_text(self, f"series[{i}].name", series.name)
            pairs = all(len(point) == 2 for point in series.points)
            if pairs and _all_finite([v for point in series.points for v in point]):
                continue
            for j, point in enumerate(series.points):
                if len(point) != 2:
                    raise CardValidationError(
                        f"{_name(self)}: series[{i}].points[{j}] must be an (x, y) pair, got {point!r}"
                    )
                for axis, value in zip("xy", point, strict=True):
                    _check_number(self, f"series[{i}].points[{j}].{axis}", value)


Chart = Histogram | BarChart | Matrix | Curve
KINDS: dict[str, type[Chart]] = {cls.kind: cls for cls in (Histogram, BarChart, Matrix, Curve)}
_NESTED = {"buckets": Bucket, "bars": Bar, "series": Series}


def _name(chart: Chart) -> str:
    return f"{chart.kind} chart {chart.title!r}"


def _items(chart: Chart, field: str, item_type: type) -> tuple[Any, ...]:
    """The field as a tuple (lists are accepted and frozen), checking its items' type."""
    items = tuple(getattr(chart, field))
    object.__setattr__(chart, field, items)
    for i, item in enumerate(items):
        if not isinstance(item, item_type):
            raise CardValidationError(
                f"{_name(chart)}: {field}[{i}] must be a {item_type.__name__}, got {item!r}"
            )
    return items


def _all_finite(values: list[Any]) -> bool:
    """Whether every value is a finite int or float (not a bool): a quick pass for the
    thousands of numbers of a large card's charts, before any message is worth making."""
    if not all(type(v) is float or type(v) is int for v in values):
        return False
    try:
        return math.isfinite(math.fsum(values))  # an infinity or NaN makes it not finite
    except OverflowError:  # finite values too large to add up: check them one by one
        return False


def _check_number(chart: Chart, where: str, value: Any) -> None:
    # JSON has no NaN or infinity, and the card must serialize.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CardValidationError(f"{_name(chart)}: {where} must be a finite number, got {value!r}")


def _check_text(chart: Chart, where: str, value: Any) -> None:
    if not isinstance(value, str):
        raise CardValidationError(f"{_name(chart)}: {where} must be a string, got {value!r}")


def _check_texts(chart: Chart, *fields: str) -> None:
    for field in fields:
        _check_text(chart, field, getattr(chart, field))


def chart_to_dict(chart: Chart) -> dict[str, Any]:
    """The chart as JSON-ready data: `kind` first, then its fields, lists for tuples."""
    return _jsonable(chart)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def chart_from_dict(data: Mapping[str, Any]) -> Chart:
    """Reads a chart back from its JSON form (`chart_to_dict`).

    Raises:
        CardValidationError: the kind is unknown, a field is missing or unexpected, or a
            value has the wrong type.
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in KINDS:
        raise CardValidationError(f"unknown chart kind {kind!r}; expected one of {sorted(KINDS)}")
    body = {k: v for k, v in data.items() if k != "kind"}
    return _build(KINDS[kind], body, f"{kind} chart")


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise CardValidationError(f"{where} must be an object, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
    missing, unknown = sorted(required - set(data)), sorted(set(data) - set(fields))
    if missing or unknown:
        raise CardValidationError(
            f"{where} has missing fields {missing} and unknown fields {unknown}; "
            f"expected {list(fields)}"
        )
    kwargs = {}
    for name, value in data.items():
        if name in _NESTED:
            if not isinstance(value, (list, tuple)):
                raise CardValidationError(f"{where}.{name} must be an array, got {value!r}")
            value = tuple(
                _build(_NESTED[name], item, f"{where}.{name}[{i}]") for i, item in enumerate(value)
            )
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as e:  # e.g. a number where a list of points belongs
        raise CardValidationError(f"{where} is malformed: {e}") from None


def top_k(
    pairs: Iterable[tuple[str, float]], k: int, other_label: str = "other"
) -> list[tuple[str, float]]:
    """The `k` largest (label, value) pairs, largest first, the rest summed into one pair.

    Ties are broken by label, so the result does not depend on the input order. The
    `other_label` pair comes last, and only when something was left out.

    Raises:
        ParameterError: `k` is negative.
    """
    if k < 0:
        raise ParameterError(f"top_k needs k >= 0, got {k}")
    ranked = sorted(((label, value) for label, value in pairs), key=lambda p: (-p[1], p[0]))
    kept, rest = ranked[:k], ranked[k:]
    if rest:
        kept.append((other_label, math.fsum(value for _, value in rest)))
    return kept
