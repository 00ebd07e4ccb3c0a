"""The dashboard's two drawings: a model's lineage graph and its pipeline's metric trend.

Both are inline SVG built as strings (tens of thousands are drawn for a large store);
every text is escaped, and only URIs with a known scheme become links.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import urllib.parse
from collections.abc import Sequence

from mct_component.dashboard.overview import ModelRow
from mct_component.dashboard.snapshot import Node, Snapshot
from mct_component.render.formatting import visible_text

_LINK_SCHEMES = ("http", "https", "gs", "s3", "file")
_ROW_HEIGHT, _BOX_HEIGHT, _BOX_WIDTH, _GAP = 62, 38, 200, 16


@dataclasses.dataclass(frozen=True)
class GraphNode:
    """A box of the lineage graph: an execution or an artifact."""

    key: str  # "e<id>" or "a<id>"
    label: str
    detail: str  # "execution <id>" or "artifact <id>": no markup
    uri: str = ""
    is_execution: bool = False
    is_subject: bool = False


@functools.lru_cache(maxsize=4096)
def text(value: str) -> str:
    """Text escaped for HTML and SVG, without control or bidi characters."""
    return html.escape(visible_text(value), quote=True)


def uri_href(uri: str) -> str:
    """A link target for an artifact URI ("" when it should not be a link)."""
    if uri.startswith("/"):
        return "file://" + urllib.parse.quote(uri)
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme in _LINK_SCHEMES:
        return urllib.parse.quote(uri, safe=":/?#[]@!$&'()*+,;=%~")
    return ""


def lineage_nodes(
    snapshot: Snapshot, row: ModelRow
) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """The executions and artifacts connected to the model within its run, and their edges.

    The model's ancestors (how it was made), its descendants (what used it) and those
    descendants' other inputs, and the ExampleValidators of its ancestors' statistics.
    """
    executions: set[int] = set()
    artifacts: set[int] = {row.model_id}
    frontier = [row.model_id]
    while frontier:  # ancestors
        artifact_id = frontier.pop()
        producer = snapshot.producer(artifact_id)
        if producer is None or producer in executions:
            continue
        executions.add(producer)
        for input_id in snapshot.io(producer, True):
            if input_id not in artifacts:
                artifacts.add(input_id)
                frontier.append(input_id)
    run_of_model = row.run
    later = [row.model_id]
    while later:  # descendants in the same run, two hops of executions at most
        artifact_id = later.pop()
        for consumer in snapshot.consumers(artifact_id):
            if consumer in executions or not _same_run(snapshot, consumer, run_of_model):
                continue
            executions.add(consumer)
            artifacts.update(snapshot.io(consumer, True))
            for output_id in snapshot.io(consumer, False):
                artifacts.add(output_id)
                later.append(output_id)
    for artifact_id in list(artifacts):
        if snapshot.artifacts[artifact_id].type_name == "ExampleStatistics":
            for validator in snapshot.consumers(artifact_id, "statistics"):
                if snapshot.executions[validator].short_type == "ExampleValidator":
                    executions.add(validator)
                    artifacts.update(snapshot.io(validator, False))
    nodes = [_execution_node(snapshot.executions[e]) for e in sorted(executions)]
    nodes += [_artifact_node(snapshot.artifacts[a], a == row.model_id) for a in sorted(artifacts)]
    edges = sorted(
        {
            (f"a{edge.artifact_id}", f"e{e}")
            if edge.is_input
            else (f"e{e}", f"a{edge.artifact_id}")
            for e in executions
            for edge in snapshot.edges_by_execution.get(e, ())
            if edge.artifact_id in artifacts
        }
    )
    return nodes, edges


def _same_run(snapshot: Snapshot, execution_id: int, run: str) -> bool:
    return not run or snapshot.context(execution_id, "pipeline_run") == run


def _execution_node(execution: Node) -> GraphNode:
    return GraphNode(
        key=f"e{execution.id}",
        label=execution.short_type,
        detail=f"execution {execution.id}",
        is_execution=True,
    )


def _artifact_node(artifact: Node, is_subject: bool) -> GraphNode:
    return GraphNode(
        key=f"a{artifact.id}",
        label=artifact.short_type,
        detail=f"artifact {artifact.id}",
        uri=artifact.uri,
        is_subject=is_subject,
    )


def lineage_svg(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]]) -> str:
    """The graph top to bottom: each node one row below its deepest parent."""
    if not nodes:
        return ""
    index = {node.key: i for i, node in enumerate(nodes)}
    width, height, positions = _layout(
        len(nodes), tuple((index[source], index[target]) for source, target in edges)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 {width:.0f} {height}" '
        f'width="{width:.0f}" height="{height}" role="img" aria-label="Lineage graph">'
    ]
    for source, target in edges:
        (x1, y1), (x2, y2) = positions[index[source]], positions[index[target]]
        parts.append(
            f'<line x1="{x1 + _BOX_WIDTH / 2:.0f}" y1="{y1 + _BOX_HEIGHT:.0f}" '
            f'x2="{x2 + _BOX_WIDTH / 2:.0f}" y2="{y2:.0f}"/>'
        )
    for node, (x, y) in zip(nodes, positions, strict=True):
        kind = "exec" if node.is_execution else "art"
        subject = " subject" if node.is_subject else ""
        box = (
            f'<g class="{kind}{subject}" transform="translate({x:.0f},{y:.0f})">'
            f'<rect width="{_BOX_WIDTH}" height="{_BOX_HEIGHT}" rx="{8 if node.is_execution else 2}"/>'
            f'<text x="8" y="16">{text(node.label)}</text>'
            f'<text x="8" y="31" class="id">{node.detail}</text>'
        )
        if node.uri:
            box += f"<title>{html.escape(visible_text(node.uri))}</title>"
        box += "</g>"
        href = uri_href(node.uri) if node.uri else ""
        parts.append(f'<a href="{html.escape(href)}">{box}</a>' if href else box)
    parts.append("</svg>")
    return "".join(parts)


@functools.lru_cache(maxsize=1024)
def _layout(
    count: int, edges: tuple[tuple[int, int], ...]
) -> tuple[float, int, tuple[tuple[float, float], ...]]:
    """Width, height and each node's position of a graph of `count` nodes (by index).

    Runs of one pipeline share their graph's shape, so a store's thousands of model
    pages lay out a handful of shapes.
    """
    parents: list[list[int]] = [[] for _ in range(count)]
    for source, target in edges:
        parents[target].append(source)
    depth: dict[int, int] = {}

    def depth_of(node: int, seen: frozenset[int] = frozenset()) -> int:
        if node not in depth:
            ups = [p for p in parents[node] if p not in seen]
            depth[node] = 1 + max((depth_of(p, seen | {node}) for p in ups), default=-1)
        return depth[node]

    layers: dict[int, list[int]] = {}
    for node in range(count):
        layers.setdefault(depth_of(node), []).append(node)
    positions: dict[int, tuple[float, float]] = {}
    widest = max(len(layer) for layer in layers.values())
    width = widest * (_BOX_WIDTH + _GAP) + _GAP
    for level, layer in sorted(layers.items()):
        offset = (width - len(layer) * (_BOX_WIDTH + _GAP) + _GAP) / 2
        for i, node in enumerate(layer):
            positions[node] = (offset + i * (_BOX_WIDTH + _GAP), 8 + level * _ROW_HEIGHT)
    height = 8 + len(layers) * _ROW_HEIGHT
    return width, height, tuple(positions[node] for node in range(count))


def trend_svg(rows: Sequence[ModelRow], current: int) -> str:
    """The headline metric of a pipeline's models in time order, with CIs; `current` marked."""
    points = [
        (r, r.card.headline, r.card.headline.value)
        for r in rows
        if r.card and r.card.headline and r.card.headline.value is not None
    ]
    if not points:
        return ""
    name = points[-1][1].name
    points = [(r, h, value) for r, h, value in points if h.name == name]
    values = [v for _, h, _ in points for v in (h.value, h.lower, h.upper) if v is not None]
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    width, height, left, top, bottom = 560, 200, 52, 16, 36
    step = (width - left - 16) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return top + (hi - value) / (hi - lo) * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text(name)} across runs">',
        f'<text x="{left}" y="11" class="axis">{text(name)}</text>',
        f'<text x="4" y="{y(hi) + 4:.0f}" class="axis">{hi:.4g}</text>',
        f'<text x="4" y="{y(lo) + 4:.0f}" class="axis">{lo:.4g}</text>',
        f'<line class="frame" x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}"/>',
    ]
    line = []
    for i, (row, headline, value) in enumerate(points):
        x = left + i * step
        line.append(f"{x:.1f},{y(value):.1f}")
        if headline.lower is not None and headline.upper is not None:
            parts.append(
                f'<line class="ci" x1="{x:.1f}" y1="{y(headline.upper):.1f}" '
                f'x2="{x:.1f}" y2="{y(headline.lower):.1f}"/>'
            )
        marker = "now" if row.model_id == current else "pt"
        parts.append(
            f'<circle class="{marker}" cx="{x:.1f}" cy="{y(value):.1f}" r="4">'
            f"<title>model {row.model_id}: {value:.4g}</title></circle>"
        )
    parts.insert(5, f'<polyline points="{" ".join(line)}"/>')
    first, last = points[0][0], points[-1][0]
    parts.append(
        f'<text x="{left}" y="{height - 12}" class="axis">model {first.model_id}</text>'
        f'<text x="{width - 8}" y="{height - 12}" class="axis" text-anchor="end">'
        f"model {last.model_id}</text></svg>"
    )
    return "".join(parts)
