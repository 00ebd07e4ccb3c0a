"""Writes the dashboard's static site: `index.html`, `models/<id>.html`, `cards/<id>.html`."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import markupsafe

from mct_component import files, render
from mct_component.dashboard import card_pages as cards
from mct_component.dashboard import graphs, overview, snapshot, trust
from mct_component.errors import OutputError
from mct_component.render import formatting

# Marks a folder as a dashboard, which a new build may replace.
MARKER_FILE = ".mct-dashboard"
SITE_ENTRIES = frozenset({MARKER_FILE, "index.html", "models", "cards"})
# A model page shows its pipeline's headline metric for at most this many models.
TREND_MODELS = 30
# Index rows per <tbody>: the browser lays out only the chunks in view.
INDEX_CHUNK = 200
# Stores with at least this many models render their model pages in up to MAX_WORKERS
# forked processes.
PARALLEL_FROM = 2000
MAX_WORKERS = 4


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
    output_roots: Sequence[str] = (),
    policy: str | None = None,
) -> DashboardSummary:
    """Writes a static site over every model of an MLMD store.

    Args:
        store: an MLMD SQLite file's path, or a `ConnectionConfig` (SQLite or MySQL).
        output_dir: the site's folder (local or any `fileio` filesystem), replaced whole.
        completeness_gate: the minimum completeness for cards whose generator set none.
        overwrite: replace `output_dir` even if it holds something else than a dashboard.
        output_roots: folders card versions were written to with `--output-root`: card
            pages are published from them and from each model's pipeline root only.
        policy: the review policy file that approvals are verified against (default:
            `$MCT_REVIEW_POLICY`); without one no approval counts as verified.

    Raises:
        LineageError: the store cannot be read.
        OutputError: `output_dir` holds something else, or cannot be written.
        ParameterError: the policy is missing or wrong.
    """
    from mct_component.governance import policy as policies

    if not output_dir:
        raise OutputError("the dashboard needs an output folder, got an empty path")
    _refuse_replacing_the_store(store, output_dir)
    if not overwrite:
        _refuse_foreign_folder(output_dir)
    rules = policies.load(policy)
    state = snapshot.read_snapshot(store)
    rows = overview.model_rows(state, completeness_gate, trust.verify_store(state, rules))
    site = render_site(state, rows, store_name(store), output_roots)
    files.replace_directory(output_dir, site)
    counts = _flag_counts(rows)
    return DashboardSummary(os.path.join(output_dir, "index.html"), len(rows), counts)


def render_site(
    state: snapshot.Snapshot,
    rows: Sequence[overview.ModelRow],
    store_name: str,
    output_roots: Sequence[str] = (),
) -> dict[str, str | bytes]:
    """Every file of the site, by relative path."""
    env = environment()
    card_pages = cards.card_pages(rows, output_roots)
    site: dict[str, str | bytes] = {MARKER_FILE: "mct-component dashboard\n"}
    site.update((f"cards/{model_id}.html", page) for model_id, page in card_pages.pages.items())
    index = env.get_template("dashboard_index.html.jinja").render(
        rows=rows,
        store=store_name,
        generated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        flag_labels=overview.FLAGS,
        flag_counts=_flag_counts(rows),
        pipelines=sorted({r.pipeline for r in rows if r.pipeline}),
        statuses=sorted({r.card.status if r.card else "none" for r in rows}),
        risks=sorted({(r.card.risk_rating if r.card else "") or "unrated" for r in rows}),
        card_pages=card_pages.pages,
        withheld=card_pages.withheld,
        chunk=INDEX_CHUNK,
    )
    site["index.html"] = cards.with_content_security_policy(index)
    pages = _ModelPages(state, _trend_windows(rows), card_pages)
    site.update(pages.render_all())
    return site


def _trend_windows(
    rows: Sequence[overview.ModelRow],
) -> list[tuple[overview.ModelRow, list[overview.ModelRow]]]:
    """Each model with the carded models of its pipeline up to it (at most TREND_MODELS)."""
    by_pipeline: dict[str, list[overview.ModelRow]] = collections.defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.created_ms, r.model_id)):
        by_pipeline[row.pipeline].append(row)
    windows = []
    for pipeline_rows in by_pipeline.values():
        carded: list[overview.ModelRow] = []
        for row in pipeline_rows:
            if row.card is not None and row.card.headline is not None:
                carded.append(row)
            windows.append((row, carded[-TREND_MODELS:]))
    return windows


class _ModelPages:
    """Renders the model pages, split over forked worker processes for large stores.

    A page takes about half a millisecond of CPU; a 10,000-model store's pages are most
    of a build. Workers inherit the snapshot by `fork` (nothing is copied in) and send
    back only the pages.
    """

    def __init__(
        self,
        state: snapshot.Snapshot,
        windows: list[tuple[overview.ModelRow, list[overview.ModelRow]]],
        card_pages: cards.CardPages,
    ) -> None:
        self.state, self.windows, self.card_pages = state, windows, card_pages

    def render_all(self) -> dict[str, str]:
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if len(self.windows) < PARALLEL_FROM or workers < 2 or not _can_fork():
            return self.render(0, len(self.windows))
        global _PAGES
        _PAGES = self
        step = -(-len(self.windows) // workers)
        spans = [
            (start, min(start + step, len(self.windows)))
            for start in range(0, len(self.windows), step)
        ]
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.starmap(_render_span, spans)
        finally:
            _PAGES = None
        return {name: page for part in parts for name, page in part.items()}

    def render(self, start: int, stop: int) -> dict[str, str]:
        template = environment().get_template("dashboard_model.html.jinja")
        pages = {}
        for row, window in self.windows[start:stop]:
            nodes, edges = graphs.lineage_nodes(self.state, row)
            page = template.render(
                r=row,
                flag_labels=overview.FLAGS,
                lineage=markupsafe.Markup(graphs.lineage_svg(nodes, edges)),
                trend=markupsafe.Markup(graphs.trend_svg(window, row.model_id)),
                trend_count=len(window),
                has_card_page=row.model_id in self.card_pages.pages,
                withheld=self.card_pages.withheld.get(row.model_id, ""),
            )
            pages[f"models/{row.model_id}.html"] = cards.with_content_security_policy(page)
        return pages


_PAGES: _ModelPages | None = None


def _render_span(start: int, stop: int) -> dict[str, str]:
    assert _PAGES is not None  # set by the parent before it forked this worker
    return _PAGES.render(start, stop)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def environment() -> jinja2.Environment:
    """The Jinja environment of the dashboard's pages (and the review console's)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(render.package_template),
        autoescape=True,
        finalize=render.html_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    env.filters.update(
        when=when,
        yes_no=yes_no,
        pct=formatting.percent,
        uri_href=graphs.uri_href,
    )
    return env


def _flag_counts(rows: Sequence[overview.ModelRow]) -> dict[str, int]:
    counts = dict.fromkeys(overview.FLAGS, 0)
    for row in rows:
        for flag in row.flags:
            counts[flag] += 1
    return counts


def _refuse_foreign_folder(output_dir: str) -> None:
    """A folder may be replaced if it is empty or holds a dashboard and nothing else."""
    fs = files.filesystem(output_dir)
    if not fs.isdir(output_dir):
        return
    entries = {name.rstrip("/") for name in fs.listdir(output_dir)}
    if not entries or (MARKER_FILE in entries and entries <= SITE_ENTRIES):
        return
    others = sorted(entries - SITE_ENTRIES)
    what = f"holds {others[0]!r}" if MARKER_FILE in entries else "holds files"
    raise OutputError(
        f"{output_dir!r} {what} and is not a dashboard alone: choose an empty or new "
        "folder, or pass --overwrite to replace it whole"
    )


def _refuse_replacing_the_store(store: Any, output_dir: str) -> None:
    """Never replace a folder the SQLite store it reads lives in, even with overwrite."""
    path = (
        store.sqlite.filename_uri
        if hasattr(store, "sqlite") and store.HasField("sqlite")
        else store
    )
    if not isinstance(path, (str, os.PathLike)) or "://" in output_dir:
        return
    folder = os.path.join(os.path.realpath(output_dir), "")
    if os.path.realpath(os.fspath(path)).startswith(folder):
        raise OutputError(
            f"the MLMD store {os.fspath(path)!r} is inside {output_dir!r}, which the "
            "dashboard replaces whole: choose an output folder outside it"
        )


def store_name(store: Any) -> str:
    """How pages name a store: a SQLite file's name, or MySQL's database and host."""
    if isinstance(store, (str, os.PathLike)):
        return os.path.basename(os.fspath(store))
    kind = store.WhichOneof("config") if hasattr(store, "WhichOneof") else ""
    if kind == "mysql":
        return f"MySQL {store.mysql.database} on {store.mysql.host or 'localhost'}"
    return kind or "the MLMD store"


def when(epoch_ms: int | None) -> str:
    """A time in MLMD's milliseconds as "YYYY-MM-DD HH:MM" (UTC); "" for none."""
    if not epoch_ms:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M")


def yes_no(value: bool | None) -> str:
    """yes, no, or a dash for unknown."""
    return "–" if value is None else ("yes" if value else "no")
