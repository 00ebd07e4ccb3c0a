"""Writes the dashboard's static site: `index.html`, `models/<id>.html`, `cards/<id>.html`."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import jinja2
import markupsafe

from mct_component import constants, files, formatting
from mct_component.dashboard import graphs, overview, snapshot
from mct_component.errors import OutputError, SourceError

# Marks a folder as a dashboard, which a new build may replace.
MARKER_FILE = ".mct-dashboard"
# A model page shows its pipeline's headline metric for at most this many models.
TREND_MODELS = 30
# Index rows per <tbody>: the browser lays out only the chunks in view.
INDEX_CHUNK = 200
TEMPLATE_PACKAGE = "mct_component.templates"


@dataclasses.dataclass(frozen=True)
class DashboardSummary:
    """What a build wrote: the index, how many models, and how many carry each flag."""

    index: str
    models: int
    flag_counts: Mapping[str, int]


def build_dashboard(
    store: Any,
    output_dir: str,
    *,
    completeness_gate: float | None = None,
    overwrite: bool = False,
) -> DashboardSummary:
    """Writes a static site over every model of an MLMD store.

    Args:
        store: an MLMD SQLite file's path, or a `ConnectionConfig` (SQLite or MySQL).
        output_dir: the site's folder (local or any `fileio` filesystem), replaced whole.
        completeness_gate: the minimum completeness for cards whose generator set none.
        overwrite: replace `output_dir` even if it holds something else than a dashboard.

    Raises:
        LineageError: the store cannot be read.
        OutputError: `output_dir` holds something else, or cannot be written.
    """
    if not output_dir:
        raise OutputError("the dashboard needs an output folder, got an empty path")
    if not overwrite:
        _refuse_foreign_folder(output_dir)
    state = snapshot.read_snapshot(store)
    rows = overview.model_rows(state, completeness_gate)
    site = render_site(state, rows, _store_name(store))
    files.replace_directory(output_dir, site)
    counts = _flag_counts(rows)
    return DashboardSummary(os.path.join(output_dir, "index.html"), len(rows), counts)


def render_site(
    state: snapshot.Snapshot, rows: Sequence[overview.ModelRow], store_name: str
) -> dict[str, str | bytes]:
    """Every file of the site, by relative path."""
    env = _environment()
    card_pages = _card_pages(rows)
    site: dict[str, str | bytes] = {MARKER_FILE: "mct-component dashboard\n"}
    site.update((f"cards/{model_id}.html", page) for model_id, page in card_pages.items())
    site["index.html"] = env.get_template("dashboard_index.html.jinja").render(
        rows=rows,
        store=store_name,
        generated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        flag_labels=overview.FLAGS,
        flag_counts=_flag_counts(rows),
        pipelines=sorted({r.pipeline for r in rows if r.pipeline}),
        statuses=sorted({r.card.status if r.card else "none" for r in rows}),
        risks=sorted({(r.card.risk_rating if r.card else "") or "unrated" for r in rows}),
        card_pages=card_pages,
        chunk=INDEX_CHUNK,
    )
    model_page = env.get_template("dashboard_model.html.jinja")
    by_pipeline: dict[str, list[overview.ModelRow]] = collections.defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.created_ms, r.model_id)):
        by_pipeline[row.pipeline].append(row)
    for pipeline_rows in by_pipeline.values():
        carded: list[overview.ModelRow] = []
        for row in pipeline_rows:
            if row.card is not None and row.card.headline is not None:
                carded.append(row)
            window = carded[-TREND_MODELS:]
            nodes, edges = graphs.lineage_nodes(state, row)
            site[f"models/{row.model_id}.html"] = model_page.render(
                r=row,
                flag_labels=overview.FLAGS,
                lineage=markupsafe.Markup(graphs.lineage_svg(nodes, edges)),
                trend=markupsafe.Markup(graphs.trend_svg(window, row.model_id)),
                trend_count=len(window),
                has_card_page=row.model_id in card_pages,
            )
    return site


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_package_template),
        autoescape=True,
        finalize=_visible,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    env.filters.update(
        when=_when,
        yes_no=_yes_no,
        pct=formatting.percent,
        uri_href=graphs.uri_href,
    )
    return env


def _visible(value: Any) -> Any:
    """Printed text without control or bidi characters; markup we built stays markup."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return formatting.visible_text(value)
    return value


def _package_template(name: str) -> str | None:
    try:
        return resources.files(TEMPLATE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _card_pages(rows: Sequence[overview.ModelRow]) -> dict[int, bytes]:
    """The newest card's HTML of each model that has one, to ship inside the site."""
    pages = {}
    for row in rows:
        if row.card is None:
            continue
        path = os.path.join(row.card.uri, constants.CARD_HTML_FILE)
        try:
            pages[row.model_id] = files.read_bytes(path)
        except (OSError, SourceError):
            continue  # a card rendered without HTML, or moved: the index says so
    return pages


def _flag_counts(rows: Sequence[overview.ModelRow]) -> dict[str, int]:
    counts = dict.fromkeys(overview.FLAGS, 0)
    for row in rows:
        for flag in row.flags:
            counts[flag] += 1
    return counts


def _refuse_foreign_folder(output_dir: str) -> None:
    fs = files.filesystem(output_dir)
    if not fs.isdir(output_dir) or not fs.listdir(output_dir):
        return
    if not fs.exists(os.path.join(output_dir, MARKER_FILE)):
        raise OutputError(
            f"{output_dir!r} holds files and is not a dashboard: choose an empty or new "
            "folder, or pass --overwrite to replace it"
        )


def _store_name(store: Any) -> str:
    if isinstance(store, (str, os.PathLike)):
        return os.path.basename(os.fspath(store))
    kind = store.WhichOneof("config") if hasattr(store, "WhichOneof") else ""
    if kind == "mysql":
        return f"MySQL {store.mysql.database} on {store.mysql.host or 'localhost'}"
    return kind or "the MLMD store"


def _when(epoch_ms: int | None) -> str:
    if not epoch_ms:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M")


def _yes_no(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "no")
