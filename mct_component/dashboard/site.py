"""Writes the dashboard's static site: `index.html`, `models/<id>.html`, `cards/<id>.html`."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import functools
import gc
import multiprocessing
import os
import re
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
_INDEX_PAGE = re.compile(r"index-[1-9][0-9]*\.html")
# A model page shows its pipeline's headline metric for at most this many models.
TREND_MODELS = 30
# Index rows per <tbody>: the browser lays out only the chunks in view.
INDEX_CHUNK = 200
# Models per index page: a larger store's index is split over `index-<n>.html` pages,
# each opening as fast as the first.
INDEX_PAGE_ROWS = 5000
# Stores with at least this many models render their pages in up to MAX_WORKERS forked
# processes.
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
    site = _Site(state, rows, store_name(store), output_roots)
    # The model pages are written as they are rendered: a large store's do not fit in memory.
    files.replace_directory(output_dir, site.front_pages(), fill=site.write_pages)
    counts = _flag_counts(rows)
    return DashboardSummary(os.path.join(output_dir, "index.html"), len(rows), counts)


def render_site(
    state: snapshot.Snapshot,
    rows: Sequence[overview.ModelRow],
    store_name: str,
    output_roots: Sequence[str] = (),
) -> dict[str, str | bytes]:
    """Every file of the site, by relative path, in memory."""
    site = _Site(state, rows, store_name, output_roots)
    return {**site.front_pages(), **site.pages()}


def index_pages(count: int) -> list[str]:
    """The index's files for `count` models: `index.html`, then `index-2.html`, ..."""
    pages = max(1, -(-count // INDEX_PAGE_ROWS))
    return ["index.html", *(f"index-{n}.html" for n in range(2, pages + 1))]


class _Site:
    """The site's pages over a store's rows: the marker and card pages (`front_pages`),
    then the index pages and a page per model (`pages`, or `write_pages` straight to
    disk), rendered in forked workers for a large store."""

    def __init__(
        self,
        state: snapshot.Snapshot,
        rows: Sequence[overview.ModelRow],
        store_name: str,
        output_roots: Sequence[str],
    ) -> None:
        self.state, self.rows, self.store_name = state, rows, store_name
        self.generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self.card_pages = cards.card_pages(rows, output_roots)
        self.index_files = index_pages(len(rows))
        # The index page that lists each model, for its page's link back.
        self.index_of = {
            row.model_id: self.index_files[i // INDEX_PAGE_ROWS] for i, row in enumerate(rows)
        }

    def front_pages(self) -> dict[str, str | bytes]:
        site: dict[str, str | bytes] = {MARKER_FILE: "mct-component dashboard\n"}
        site.update(
            (f"cards/{model_id}.html", page) for model_id, page in self.card_pages.pages.items()
        )
        return site

    def pages(self) -> dict[str, str]:
        return _Pages(self).render_all()

    def write_pages(self, folder: str) -> None:
        _Pages(self, folder).render_all()

    def index_context(self) -> dict[str, Any]:
        """What every index page shows of the whole store."""
        rows = self.rows
        return dict(
            store=self.store_name,
            generated=self.generated,
            flag_labels=overview.FLAGS,
            flag_counts=_flag_counts(rows),
            pipelines=sorted({r.pipeline for r in rows if r.pipeline}),
            statuses=sorted({r.card.status if r.card else "none" for r in rows}),
            risks=sorted({(r.card.risk_rating if r.card else "") or "unrated" for r in rows}),
            card_pages=self.card_pages.pages,
            withheld=self.card_pages.withheld,
            chunk=INDEX_CHUNK,
            total=len(rows),
            pages=self.index_files if len(self.index_files) > 1 else [],
        )


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


class _Pages:
    """Renders the index pages and the model pages, over forked workers for large stores.

    A model page takes about half a millisecond of CPU, an index page of 5,000 rows a
    few tenths of a second: a large store's pages are most of a build. Each worker takes
    every n-th page (index pages first), so that they share the index pages too.
    Workers inherit the snapshot by `fork` (nothing is copied in). Given a `folder`,
    each page is written there as it is rendered (workers write their own); otherwise
    the pages are returned.
    """

    def __init__(self, site: _Site, folder: str | None = None) -> None:
        self.site, self.folder = site, folder
        windows = _trend_windows(site.rows)
        # A job is an index page's number, or a model's row and trend window.
        self.jobs: list[int | tuple[overview.ModelRow, list[overview.ModelRow]]] = [
            *range(1, len(site.index_files) + 1),
            *windows,
        ]

    def render_all(self) -> dict[str, str]:
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if len(self.site.rows) < PARALLEL_FROM or workers < 2 or not _can_fork():
            return self.render(0, 1)
        global _PAGES
        _PAGES = self
        # Out of the collector's sight: a collection in a worker would write to every
        # object of the snapshot, copying the whole parent's memory into each worker.
        gc.freeze()
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.starmap(_render_share, [(i, workers) for i in range(workers)])
        finally:
            _PAGES = None
            gc.unfreeze()
        return {name: page for part in parts for name, page in part.items()}

    def render(self, worker: int, workers: int) -> dict[str, str]:
        """The pages of every `workers`-th job from the `worker`-th."""
        env = environment()
        model_template = env.get_template("dashboard_model.html.jinja")
        index_template = env.get_template("dashboard_index.html.jinja")
        index_context = self.site.index_context()
        state, card_pages = self.site.state, self.site.card_pages
        pages = {}
        if self.folder is not None:
            os.makedirs(os.path.join(self.folder, "models"), exist_ok=True)
        for job in self.jobs[worker::workers]:
            if isinstance(job, int):
                first = (job - 1) * INDEX_PAGE_ROWS
                name = self.site.index_files[job - 1]
                page = index_template.render(
                    rows=self.site.rows[first : first + INDEX_PAGE_ROWS],
                    page=job,
                    first=first,
                    **index_context,
                )
            else:
                row, window = job
                nodes, edges = graphs.lineage_nodes(state, row)
                name = f"models/{row.model_id}.html"
                page = model_template.render(
                    r=row,
                    flag_labels=overview.FLAGS,
                    lineage=markupsafe.Markup(graphs.lineage_svg(nodes, edges)),
                    trend=markupsafe.Markup(graphs.trend_svg(window, row.model_id)),
                    trend_count=len(window),
                    has_card_page=row.model_id in card_pages.pages,
                    withheld=card_pages.withheld.get(row.model_id, ""),
                    index_page=self.site.index_of.get(row.model_id, "index.html"),
                )
            page = cards.with_content_security_policy(page)
            if self.folder is None:
                pages[name] = page
            else:
                with open(os.path.join(self.folder, name), "w", encoding="utf-8") as f:
                    f.write(page)
        return pages


_PAGES: _Pages | None = None


def _render_share(worker: int, workers: int) -> dict[str, str]:
    assert _PAGES is not None  # set by the parent before it forked this worker
    return _PAGES.render(worker, workers)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja environment of the dashboard's pages (and the review console's), one
    per process (its templates compile once)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(render.package_template),
        autoescape=True,
        finalize=formatting.html_finalize,
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
    others = sorted(e for e in entries - SITE_ENTRIES if not _INDEX_PAGE.fullmatch(e))
    if not entries or (MARKER_FILE in entries and not others):
        return
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
