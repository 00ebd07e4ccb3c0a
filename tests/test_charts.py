"""Charts: their JSON form and schema, `top_k`, and SVG rendering (pure, no TensorFlow)."""

from __future__ import annotations

import itertools
import json
import random
import re
import xml.etree.ElementTree as ET
from unittest import mock

import jsonschema
import pytest
from referencing import Registry, Resource

from mct_component.card import charts, validation
from mct_component.errors import CardValidationError, ParameterError
from mct_component.render import svg

SVG = "{http://www.w3.org/2000/svg}"

HISTOGRAM = charts.Histogram(
    title="body_mass_g",
    description="Distribution of body_mass_g: 10 equal-width buckets from 2700 to 6300.",
    x_label="body_mass_g",
    buckets=tuple(
        charts.Bucket(2700 + 360 * i, 3060 + 360 * i, count)
        for i, count in enumerate((3, 12, 40.5, 55, 38, 30, 28, 20, 9, 2))
    ),
)
BAR_CHART = charts.BarChart(
    title="accuracy by slice",
    description="accuracy for each of 3 slices, with confidence intervals where computed.",
    x_label="accuracy",
    y_label="slice",
    bars=(
        charts.Bar("island=Biscoe", 0.98, 0.95, 1.0),
        charts.Bar("island=Dream", 0.91, 0.85, 0.96),
        charts.Bar("island=Torgersen", 0.88),
    ),
)
MATRIX = charts.Matrix(
    title="Confusion matrix",
    description="Examples by actual (rows) and predicted (columns) class.",
    row_labels=("Adelie", "Chinstrap", "Gentoo"),
    column_labels=("Adelie", "Chinstrap", "Gentoo"),
    values=((40, 2, 0), (1, 30, 3), (0, 4, 25.5)),
    row_title="actual",
    column_title="predicted",
)
CURVE = charts.Curve(
    title="ROC curve",
    description="True positive rate against false positive rate over thresholds.",
    x_label="false positive rate",
    y_label="true positive rate",
    series=(
        charts.Series("model", tuple((i / 1000, (i / 1000) ** 0.3) for i in range(1001))),
        charts.Series("chance", ((0.0, 0.0), (1.0, 1.0))),
    ),
)
CHARTS = [HISTOGRAM, BAR_CHART, MATRIX, CURVE]
KINDS = [c.kind for c in CHARTS]


def bar_chart(bars, title="values") -> charts.BarChart:
    return charts.BarChart(title=title, description="d", x_label="count", y_label="", bars=bars)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = validation.load_schema("chart.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("chart", CHARTS, ids=KINDS)
def test_dict_round_trip(chart):
    data = charts.chart_to_dict(chart)
    assert next(iter(data)) == "kind"
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert charts.chart_from_dict(data) == chart


def test_to_dict_uses_lists():
    data = charts.chart_to_dict(MATRIX)
    assert data["values"] == [[40, 2, 0], [1, 30, 3], [0, 4, 25.5]]
    assert data["row_labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert charts.chart_to_dict(BAR_CHART)["bars"][2] == {
        "label": "island=Torgersen",
        "value": 0.88,
        "lower": None,
        "upper": None,
    }


def test_sequences_are_frozen_to_tuples():
    chart = charts.Curve(
        title="t", description="", x_label="", y_label="", series=[charts.Series("s", [[0, 1]])]
    )
    assert chart.series == (charts.Series("s", ((0, 1),)),)
    hash(chart)


@pytest.mark.parametrize("chart", CHARTS, ids=KINDS)
def test_dicts_match_schema(chart, validator):
    validator.validate(charts.chart_to_dict(chart))


@pytest.mark.parametrize(
    ("kind", "mutate"),
    [
        ("histogram", lambda d: d.update(kind="pie")),
        ("histogram", lambda d: d.update(extra=1)),
        ("histogram", lambda d: d["buckets"][0].update(count=None)),
        ("histogram", lambda d: d.pop("description")),
        ("bar_chart", lambda d: d["bars"][0].update(value="high")),
        ("matrix", lambda d: d["values"][0].append("x")),
        ("curve", lambda d: d["series"][0]["points"][0].append(1.0)),
        ("curve", lambda d: d["series"][0].update(points=[[0.5]])),
    ],
)
def test_schema_rejects_malformed_dicts(kind, mutate, validator):
    data = charts.chart_to_dict(CHARTS[KINDS.index(kind)])
    mutate(data)
    assert not validator.is_valid(data)


def test_schema_can_be_referenced_from_another_schema():
    registry = Resource.from_contents(validation.load_schema("chart.schema.json")) @ Registry()
    wrapper = {"type": "array", "items": {"$ref": "mct_component/chart.schema.json"}}
    validator = jsonschema.Draft202012Validator(wrapper, registry=registry)
    assert validator.is_valid([charts.chart_to_dict(c) for c in CHARTS])
    assert not validator.is_valid([{"kind": "histogram"}])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"kind": "pie", "title": "t"}, r"unknown chart kind 'pie'; expected one of \['bar_chart'"),
        ({"title": "t"}, r"unknown chart kind None"),
        (
            {"kind": "histogram", "title": "t", "x_label": "", "buckets": [], "colour": "red"},
            r"missing fields \['description'\] and unknown fields \['colour'\]",
        ),
        (
            {
                "kind": "bar_chart",
                "title": "t",
                "description": "",
                "x_label": "",
                "y_label": "",
                "bars": [{"label": "a"}],
            },
            r"bars\[0\] has missing fields \['value'\]",
        ),
        (
            {"kind": "histogram", "title": "t", "description": "", "x_label": "", "buckets": {}},
            r"buckets must be an array",
        ),
    ],
)
def test_chart_from_dict_rejects_malformed_data(data, match):
    with pytest.raises(CardValidationError, match=match):
        charts.chart_from_dict(data)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: charts.Histogram("h", "", "x", (charts.Bucket(0, float("inf"), 1),)),
            r"buckets\[0\]\.high must be a finite number, got inf",
        ),
        (
            lambda: bar_chart((charts.Bar("a", float("nan")),)),
            r"bars\[0\]\.value must be a finite number",
        ),
        (
            lambda: bar_chart((charts.Bar("a", 1, lower="0"),)),
            r"bars\[0\]\.lower must be a finite number",
        ),
        (lambda: bar_chart(({"label": "a", "value": 1},)), r"bars\[0\] must be a Bar"),
        (
            lambda: charts.Matrix("m", "", ("a", "b"), ("c",), ((1,),)),
            r"values must be 2 rows of 1 numbers",
        ),
        (
            lambda: charts.Curve("c", "", "", "", (charts.Series("s", ((1, 2, 3),)),)),
            r"points\[0\] must be an \(x, y\) pair",
        ),
    ],
)
def test_invalid_charts_are_rejected_naming_the_field(make, match):
    with pytest.raises(CardValidationError, match=match):
        make()


@pytest.mark.parametrize(
    ("pairs", "k", "expected"),
    [
        ([("a", 1), ("b", 5), ("c", 3), ("d", 2)], 2, [("b", 5), ("c", 3), ("other", 3)]),
        ([("b", 2), ("a", 2), ("c", 2)], 2, [("a", 2), ("b", 2), ("other", 2)]),
        ([("b", 1.5), ("a", 3)], 5, [("a", 3), ("b", 1.5)]),
        ([("a", 1), ("b", 1)], 2, [("a", 1), ("b", 1)]),
        ([("a", 1), ("b", 2)], 0, [("other", 3)]),
        ([], 3, []),
    ],
    ids=["other-sum", "ties-by-label", "fewer-than-k", "exactly-k", "k-zero", "empty"],
)
def test_top_k(pairs, k, expected):
    assert charts.top_k(pairs, k) == expected
    assert charts.top_k(reversed(pairs), k) == expected


def test_top_k_custom_other_label_and_negative_k():
    assert charts.top_k([("a", 2), ("b", 1)], 1, other_label="(rest)") == [("a", 2), ("(rest)", 1)]
    with pytest.raises(ParameterError, match="k >= 0, got -1"):
        charts.top_k([], -1)


EDGE_CASES = [
    charts.Histogram("constant", "", "x", (charts.Bucket(5, 5, 1e6),)),
    charts.Histogram("all zero", "", "x", (charts.Bucket(0, 0, 0),)),
    charts.Histogram("empty", "", "x", ()),
    bar_chart(
        (charts.Bar("a", -0.3, -0.4, -0.1), charts.Bar("b", 0.2, 0.1, None), charts.Bar("c", 0))
    ),
    bar_chart(tuple(charts.Bar(f"<v&{i}>\x00\x1f", 2.5e6 / (i + 1)) for i in range(30))),
    charts.Matrix(
        "big",
        "",
        tuple(map(str, range(30))),
        tuple(map(str, range(30))),
        tuple(tuple(float(i * j) for j in range(30)) for i in range(30)),
    ),
    charts.Curve(
        "one point", "", "", "", (charts.Series("", ((0.5, 0.5),)), charts.Series("empty", ()))
    ),
]


@pytest.mark.parametrize("chart", CHARTS + EDGE_CASES, ids=lambda c: f"{c.kind}:{c.title}")
def test_svg_is_self_contained_accessible_xml(chart):
    drawing = svg.to_svg(chart)
    root = parse(drawing)
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == chart.title
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.find(f"{SVG}desc").text == (chart.description or chart.title)
    assert root.get("viewBox") == f"0 0 480 {root.get('height')}"
    assert "<script" not in drawing and "@import" not in drawing and "<style" not in drawing
    assert not re.search(r"href|url\(|<image|<foreignObject", drawing)


@pytest.mark.parametrize("chart", CHARTS, ids=KINDS)
def test_svg_is_deterministic(chart):
    copy = charts.chart_from_dict(json.loads(json.dumps(charts.chart_to_dict(chart))))
    assert svg.to_svg(copy) == svg.to_svg(chart)


def test_chart_id_names_the_aria_targets():
    root = parse(svg.to_svg(HISTOGRAM, chart_id="feature-3"))
    assert root.get("aria-labelledby") == "feature-3-t feature-3-d"
    with pytest.raises(ParameterError, match="valid XML id"):
        svg.to_svg(HISTOGRAM, chart_id="two words")


@pytest.mark.parametrize("width", [100, 480.0, True])
def test_bad_width_is_rejected(width):
    with pytest.raises(ParameterError, match="integer >= 240"):
        svg.to_svg(HISTOGRAM, width=width)


def test_to_svg_rejects_non_charts():
    with pytest.raises(TypeError, match="expected one of"):
        svg.to_svg(charts.chart_to_dict(HISTOGRAM))


def test_long_labels_are_cut_with_the_full_text_on_hover():
    label = "island=" + "a very long slice name & more " * 3
    root = parse(svg.to_svg(bar_chart((charts.Bar(label, 1.0),))))
    [cut] = [t for t in texts(root) if t.find(f"{SVG}title") is not None]
    assert cut.text == label[:23].rstrip() + "…"
    assert cut.find(f"{SVG}title").text == label


def test_text_is_escaped_and_stripped_of_invalid_xml():
    root = parse(svg.to_svg(bar_chart((charts.Bar('<b>&"x"\x00', 1.0),), title="a < b")))
    shown = [t.text for t in texts(root)]
    assert '<b>&"x"\ufffd' in shown
    assert "a < b" in shown


def test_error_bars_only_for_bars_with_bounds():
    with_bounds = parse(svg.to_svg(BAR_CHART))
    [errors] = [p for p in with_bounds.iter(f"{SVG}path") if p.get("class") == "error-bars"]
    assert errors.get("d").count("v8") == 4  # two whiskers for each of the two bounded bars
    without = parse(svg.to_svg(bar_chart((charts.Bar("a", 1.0), charts.Bar("b", 2.0)))))
    assert not [p for p in without.iter(f"{SVG}path") if p.get("class") == "error-bars"]


def test_many_bars_grow_the_height_and_keep_every_label():
    def render(n):
        return parse(svg.to_svg(bar_chart(tuple(charts.Bar(f"v{i}", i + 1) for i in range(n)))))

    ten, thirty = render(10), render(30)
    assert int(thirty.get("height")) - int(ten.get("height")) == 20 * 20
    shown = {t.text for t in texts(thirty)}
    assert {f"v{i}" for i in range(30)} <= shown


def test_axes_have_round_ticks_and_compact_numbers():
    shown = [t.text for t in texts(parse(svg.to_svg(EDGE_CASES[4])))]
    assert {"0", "0.5M", "1.0M", "2.5M"} <= set(shown)  # value axis ticks
    assert "1.25M" in shown and "833k" in shown  # bar values, 3 significant digits
    shown = [t.text for t in texts(parse(svg.to_svg(HISTOGRAM)))]
    assert {"0", "20", "40", "60", "3000", "6000"} <= set(shown)


def test_matrix_prints_values_in_cells():
    shown = [t.text for t in texts(parse(svg.to_svg(MATRIX)))]
    assert {"40", "30", "25.5", "predicted", "actual", "Chinstrap"} <= set(shown)


def test_curves_are_simplified_and_have_a_legend():
    drawing = svg.to_svg(CURVE)
    root = parse(drawing)
    lines = list(root.iter(f"{SVG}polyline"))
    assert [line.find(f"{SVG}title").text for line in lines] == ["model", "chance"]
    assert len(lines[0].get("points").split()) < 200  # of 1001 points
    assert {"model", "chance"} <= {t.text for t in texts(root)}


@pytest.mark.parametrize(
    "chart",
    [HISTOGRAM, bar_chart(tuple(charts.Bar(f"value {i}", 100 - i) for i in range(10)))],
    ids=["histogram", "bar_chart"],
)
def test_typical_svgs_are_small(chart):
    assert len(svg.to_svg(chart).encode()) < 4000


def test_width_scales_the_drawing():
    root = parse(svg.to_svg(CURVE, width=800))
    assert root.get("width") == "800" and root.get("viewBox").startswith("0 0 800 ")


def histogram(title, counts, low=0.0, step=1.0) -> charts.Histogram:
    buckets = tuple(
        charts.Bucket(low + step * i, low + step * (i + 1), c) for i, c in enumerate(counts)
    )
    return charts.Histogram(title, f"Distribution of {title}.", title, buckets)


def comparison(pairs) -> ET.Element:
    # Inline HTML markup has no xmlns: give it one to parse it as XML.
    drawing = svg.split_comparison(pairs)
    assert drawing.startswith("<svg ") and "xmlns" not in drawing
    return parse(drawing.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def test_split_comparison_draws_each_split_on_shared_axes():
    root = comparison([("train", histogram("f", (1, 2, 1))), ("eval", histogram("f", (2, 1, 1)))])
    assert root.find(f"{SVG}title").text == "f"
    assert "train, eval" in root.find(f"{SVG}desc").text
    outlines = list(root.find(f"{SVG}g[@class='o']"))
    # Each split in its colour (s: stroke), and its dash pattern (d) but the first.
    assert [p.get("class") for p in outlines] == ["s0", "s1 d1"]
    assert outlines[0].get("d") != outlines[1].get("d")
    legend = texts(root)[:2]  # in the splits' colours (f: fill)
    assert [(t.text, t.get("class")) for t in legend] == [("train", "f0"), ("eval", "f1")]


def test_split_comparison_shows_shares_so_split_sizes_do_not_matter():
    small, large = histogram("f", (1, 3, 2)), histogram("f", (100, 300, 200))
    root = comparison([("a", small), ("b", large)])
    a, b = (p.get("d") for p in root.find(f"{SVG}g[@class='o']"))
    assert a == b


def test_split_comparison_groups_bars_by_value_across_splits():
    train = bar_chart((charts.Bar("x", 6), charts.Bar("y", 3), charts.Bar("other", 1)), "f")
    test = bar_chart((charts.Bar("z", 5), charts.Bar("x", 4), charts.Bar("other", 1)), "f")
    root = comparison([("train", train), ("test", test)])
    labels = [t.text for t in root.find(f"{SVG}g[@class='e']").iter(f"{SVG}text")]
    assert labels == ["x", "y", "z", "other"]  # first seen order, "other" last
    bars = list(root.find(f"{SVG}g[@stroke-width]"))
    assert [p.get("class") for p in bars] == ["s0", "s1"]  # colours, no dashes
    # Each split: a bar for each value it lists (3), none for the value it does not.
    assert [p.get("d").count("h") for p in bars] == [3, 3]


@pytest.mark.parametrize("kind", ["histogram", "bar_chart"])
def test_split_comparison_carries_the_css_of_its_classes_unless_told_not_to(kind):
    chart = histogram("f", (1, 2)) if kind == "histogram" else bar_chart((charts.Bar("x", 1),))
    pairs = [(f"split {i}", chart) for i in range(len(svg._PALETTE) + 1)]
    drawing = svg.split_comparison(pairs)
    root = parse(drawing.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))
    (style,) = root.iter(f"{SVG}style")
    defined = set(re.findall(r"\.([a-z]+\d?)\{", style.text))
    used = {c for e in root.iter() for c in (e.get("class") or "").split()}
    assert used <= defined and "sc" in used
    # Nothing else says how it looks: the page's stylesheet (or this one) does.
    assert not re.search(r' (stroke|fill|font-family|font-size|stroke-dasharray)="#?\w', drawing)
    bare = svg.split_comparison(pairs, css=False)
    assert "<style>" not in bare and bare == drawing.replace(style.text, "").replace(
        "<style></style>", ""
    )


def random_histogram(rng: random.Random) -> charts.Histogram:
    """Buckets as TFDV makes them and worse: runs of one count, gaps, one-value buckets."""
    buckets, low = [], rng.choice((0.0, -50.0, 1e6))
    for _ in range(rng.randint(1, 40)):
        low += rng.choice((0.0, 0.0, 0.0, 1.0, 7.5))  # mostly adjacent, some gaps
        width = rng.choice((0.0, 0.01, 1.0, 1.0, 1.0, 10.0))  # zero-width: a spike
        buckets.append(charts.Bucket(low, low + width, rng.choice((0, 0, 0, 1, 1, 2, 5, 40))))
        low += width
    rng.shuffle(buckets)  # the chart sorts them
    return charts.Histogram("f", "d", "f", tuple(buckets))


def vertices(d: str) -> list[tuple[int, int]]:
    """The points of step outline path data: one M, then H and V, absolute or relative."""
    assert re.fullmatch(r"M-?\d+ -?\d+([HVhv]-?\d+)*", d), d
    x, y = (int(v) for v in re.match(r"M(-?\d+) (-?\d+)", d).groups())
    points = [(x, y)]
    for command, value in re.findall(r"([HVhv])(-?\d+)", d):
        n = int(value)
        x = {"H": n, "h": x + n}.get(command, x)
        y = {"V": n, "v": y + n}.get(command, y)
        points.append((x, y))
    return points


def unit_moves(d: str) -> list[tuple[int, int]]:
    """The pixels a step outline passes, one by one: two paths with the same moves draw
    the same line, dashes too."""
    (x, y), *rest = vertices(d)
    moves = [(x, y)]
    for tx, ty in rest:
        while (x, y) != (tx, ty):
            x, y = x + (tx > x) - (tx < x), y + (ty > y) - (ty < y)
            moves.append((x, y))
    return moves


def outlines(drawing: str) -> list[str]:
    return re.findall(r'<path d="(M[^"]*)" class="s\d', drawing)


@pytest.mark.parametrize("seed", range(40))
def test_merging_collinear_steps_draws_the_same_outline(seed):
    rng = random.Random(seed)
    pairs = [(f"s{i}", random_histogram(rng)) for i in range(rng.randint(1, 3))]
    merged = outlines(svg.split_comparison(pairs))
    with mock.patch.object(svg, "_merge_collinear", side_effect=list):
        unmerged = outlines(svg.split_comparison(pairs))
    assert len(merged) == len(unmerged) == len(pairs)
    for short, full in zip(merged, unmerged, strict=True):
        assert unit_moves(short) == unit_moves(full)
        assert len(short) <= len(full)
        # Nothing left to merge: no zero-length step, no point inside a straight run.
        points = vertices(short)
        assert all(a != b for a, b in itertools.pairwise(points))
        for (ax, ay), (bx, by), (cx, cy) in zip(points, points[1:], points[2:], strict=False):
            assert not (ay == by == cy and min(ax, cx) <= bx <= max(ax, cx))
            assert not (ax == bx == cx and min(ay, cy) <= by <= max(ay, cy))


def test_a_run_of_one_height_is_one_step():
    flat = histogram("f", (5, 0, 0, 0, 0, 0, 0, 3, 3, 3))
    (d,) = outlines(svg.split_comparison([("train", flat)]))
    assert len(vertices(d)) == 8  # up, across, down, across the empty run, ...


@pytest.mark.parametrize(
    "pairs",
    [[], [("a", HISTOGRAM), ("b", BAR_CHART)], [("a", MATRIX)], [("a", CURVE)]],
    ids=["none", "mixed", "matrix", "curve"],
)
def test_split_comparison_takes_feature_charts_of_one_kind(pairs):
    with pytest.raises(ParameterError, match="histograms or bar charts of one kind"):
        svg.split_comparison(pairs)


def test_split_comparison_escapes_names_and_labels():
    chart = bar_chart((charts.Bar('<b>&"x"\x00', 1.0),), title="a < b")
    root = comparison([("<split>", chart), ("e&f", charts.BarChart("a < b", "", "", "", ()))])
    assert root.find(f"{SVG}title").text == "a < b"
    shown = [t.text for t in texts(root)]
    assert {"<split>", "e&f", '<b>&"x"\ufffd'} <= set(shown)
