"""The console's view of the store: the dashboard's rows, verified, kept current.

Reading a whole store takes a second or more at 10,000 models, so pages are served
from one `View` built from a `snapshot` and rebuilt when the store changes. Every
`check_seconds` a request probes the store (a SQLite file's size and modification
time, or on MySQL the newest ids and update times) and rebuilds the view when it
changed, or at least every `rebuild_seconds` (a probe cannot see every SQL update).
Other requests keep the view they have meanwhile. A store that cannot be reached makes
the console unavailable (503) until a probe reaches it again.

Verification reads every card version's files; a model's result is reused while its
versions in MLMD and the size and modification time of their files are unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mct_component import constants
from mct_component.dashboard import overview, snapshot, trust
from mct_component.errors import LineageError, ModelCardError, ParameterError
from mct_component.governance import registry, verify
from mct_component.governance.policy import Policy
from mct_component.mlmd import store as stores
from mct_component.text import excerpt

logger = logging.getLogger(__name__)

_RISK_ORDER = {"low": 1, "medium": 2, "high": 3, "unknown": 0}
# Index columns people can sort by, and the key of each (rows with no value sort last).
SORTS: Mapping[str, Callable[[overview.ModelRow], Any]] = {
    "created": lambda r: (r.created_ms, r.model_id),
    "model": lambda r: r.model_id,
    "name": lambda r: (r.name.lower(), r.model_id),
    "pipeline": lambda r: (r.pipeline.lower(), r.model_id),
    "run": lambda r: (r.run.lower(), r.model_id),
    "status": lambda r: (r.card.status if r.card else "", r.model_id),
    "risk": lambda r: (_RISK_ORDER.get(r.card.risk_rating if r.card else "", 0), r.model_id),
    "completeness": lambda r: (
        r.card.completeness if r.card and r.card.completeness is not None else -1.0,
        r.model_id,
    ),
    "headline": lambda r: (
        r.card.headline.value
        if r.card and r.card.headline and r.card.headline.value is not None
        else float("-inf"),
        r.model_id,
    ),
    "flags": lambda r: (len(r.flags), r.model_id),
}
MAX_PER_PAGE = 200


class StoreUnavailable(ModelCardError):
    """The store cannot be reached or read now (503); the console retries."""


@dataclasses.dataclass(frozen=True)
class IndexQuery:
    """What the index shows: one page of the models, sorted and filtered."""

    page: int = 1
    per_page: int = 50
    sort: str = "created"
    descending: bool = True
    pipeline: str = ""
    status: str = ""
    risk: str = ""
    flag: str = ""
    search: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str], per_page: int = 50) -> IndexQuery:
        """The query of an index URL (`?page=2&sort=risk&dir=asc&flag=high_risk`).

        Raises:
            ParameterError: naming the parameter and what it may be.
        """
        sort = params.get("sort") or "created"
        if sort not in SORTS:
            raise ParameterError(f"sort must be one of {', '.join(SORTS)}, got {excerpt(sort)}")
        direction = params.get("dir") or ("desc" if sort in ("created", "flags") else "asc")
        if direction not in ("asc", "desc"):
            raise ParameterError(f"dir must be asc or desc, got {excerpt(direction)}")
        flag = params.get("flag") or ""
        if flag and flag not in overview.FLAGS:
            raise ParameterError(
                f"flag must be one of {', '.join(overview.FLAGS)}, got {excerpt(flag)}"
            )
        return cls(
            page=_whole(params.get("page"), "page", 1, 1, 10**9),
            per_page=_whole(params.get("per_page"), "per_page", per_page, 1, MAX_PER_PAGE),
            sort=sort,
            descending=direction == "desc",
            pipeline=_text(params.get("pipeline")),
            status=_text(params.get("status")),
            risk=_text(params.get("risk")),
            flag=flag,
            search=_text(params.get("q")).lower(),
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """This query (changed) as URL parameters, defaults left out."""
        query = dataclasses.replace(self, **changes)
        values = {
            "page": str(query.page) if query.page != 1 else "",
            "per_page": str(query.per_page) if query.per_page != self.per_page else "",
            "sort": query.sort if query.sort != "created" else "",
            "dir": "desc" if query.descending else "asc",
            "pipeline": query.pipeline,
            "status": query.status,
            "risk": query.risk,
            "flag": query.flag,
            "q": query.search,
        }
        return {k: v for k, v in values.items() if v}


@dataclasses.dataclass(frozen=True)
class IndexPage:
    """One page of the index."""

    rows: tuple[overview.ModelRow, ...]
    matching: int  # rows that pass the filters
    page: int
    pages: int


@dataclasses.dataclass(frozen=True)
class View:
    """The store as the console shows it, read at `read_at` (epoch seconds)."""

    generation: int
    read_at: float
    snapshot: snapshot.Snapshot
    rows: tuple[overview.ModelRow, ...]  # newest first
    histories: Mapping[int, list[registry.CardVersion]]
    verifications: Mapping[int, verify.Verification]
    # Computed on first use (a view is read by many requests and never changes).
    _orders: dict[tuple[str, bool], tuple[overview.ModelRow, ...]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    _carded: dict[str, tuple[overview.ModelRow, ...]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    @functools.cached_property
    def by_id(self) -> Mapping[int, overview.ModelRow]:
        """Each row by model id."""
        return {row.model_id: row for row in self.rows}

    @functools.cached_property
    def flag_counts(self) -> Mapping[str, int]:
        """How many models carry each flag."""
        counts = dict.fromkeys(overview.FLAGS, 0)
        for row in self.rows:
            for flag in row.flags:
                counts[flag] += 1
        return counts

    @functools.cached_property
    def choices(self) -> Mapping[str, list[str]]:
        """The values the index's filters offer."""
        return {
            "pipeline": sorted({r.pipeline for r in self.rows if r.pipeline}),
            "status": sorted({r.card.status if r.card else "none" for r in self.rows}),
            "risk": sorted(
                {(r.card.risk_rating if r.card else "") or "unrated" for r in self.rows}
            ),
        }

    def index(self, query: IndexQuery) -> IndexPage:
        """The page of rows `query` asks for."""
        ordered = self._ordered(query.sort, query.descending)
        if any((query.pipeline, query.status, query.risk, query.flag, query.search)):
            ordered = tuple(row for row in ordered if _matches(row, query))
        pages = max(1, -(-len(ordered) // query.per_page))
        page = min(query.page, pages)
        start = (page - 1) * query.per_page
        return IndexPage(ordered[start : start + query.per_page], len(ordered), page, pages)

    def trend(self, row: overview.ModelRow, limit: int) -> list[overview.ModelRow]:
        """The carded models of the row's pipeline up to it (at most `limit`), oldest first."""
        if row.pipeline not in self._carded:
            carded = [
                r
                for r in self.rows
                if r.pipeline == row.pipeline and r.card is not None and r.card.headline is not None
            ]
            self._carded[row.pipeline] = tuple(
                sorted(carded, key=lambda r: (r.created_ms, r.model_id))
            )
        upto = (row.created_ms, row.model_id)
        return [r for r in self._carded[row.pipeline] if (r.created_ms, r.model_id) <= upto][
            -limit:
        ]

    def _ordered(self, sort: str, descending: bool) -> tuple[overview.ModelRow, ...]:
        key = (sort, descending)
        if key not in self._orders:
            self._orders[key] = tuple(sorted(self.rows, key=SORTS[sort], reverse=descending))
        return self._orders[key]


class StoreWatch:
    """Keeps a `View` of one store current (see the module's docstring)."""

    def __init__(
        self,
        store: Any,
        policy: Policy | None,
        completeness_gate: float | None = None,
        check_seconds: float = 2.0,
        rebuild_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._policy = policy
        self._gate = completeness_gate
        self._check_seconds = check_seconds
        self._rebuild_seconds = rebuild_seconds
        self._lock = threading.Lock()
        self._view: View | None = None
        self._fingerprint: Any = None
        self._checked_at = 0.0
        self._unavailable = ""
        self._verified: dict[int, tuple[Any, verify.Verification]] = {}
        self._probe = _Probe(store)

    def view(self) -> View:
        """The current view, probing the store when it is time to.

        Raises:
            StoreUnavailable: the store cannot be reached or read.
        """
        due = time.monotonic() - self._checked_at >= self._check_seconds or self._view is None
        # One request probes and rebuilds; the others keep the view they have.
        if due and self._lock.acquire(blocking=self._view is None):
            try:
                self._check()
            finally:
                self._lock.release()
        if self._unavailable:
            raise StoreUnavailable(self._unavailable)
        assert self._view is not None
        return self._view

    def fresh(self) -> View | None:
        """The current view when no probe is due (no waiting, no I/O), else None."""
        view = self._view
        if view is None or self._unavailable:
            return None
        if time.monotonic() - self._checked_at >= self._check_seconds:
            return None
        return view

    def refresh(self) -> View:
        """Rebuilds the view now (after a change the console made).

        Raises:
            StoreUnavailable: the store cannot be reached or read.
        """
        with self._lock:
            self._check(force=True)
        if self._unavailable:
            raise StoreUnavailable(self._unavailable)
        assert self._view is not None
        return self._view

    def _check(self, force: bool = False) -> None:
        self._checked_at = time.monotonic()
        try:
            fingerprint = self._probe.fingerprint()
            stale = (
                self._view is None
                or force
                or fingerprint != self._fingerprint
                or time.time() - self._view.read_at >= self._rebuild_seconds
            )
            if stale:
                self._view = self._build(self._view.generation + 1 if self._view else 1)
                self._fingerprint = fingerprint
        except (LineageError, StoreUnavailable) as e:
            if not self._unavailable:
                logger.warning("The MLMD store is unavailable: %s", e)
            self._unavailable = f"the MLMD store cannot be read now: {e}"
            return
        if self._unavailable:
            logger.warning("The MLMD store is available again")
        self._unavailable = ""

    def _build(self, generation: int) -> View:
        started = time.time()
        state = snapshot.read_snapshot(self._store)
        histories = trust.histories(state)
        verifications = {
            model_id: self._verify(model_id, versions) for model_id, versions in histories.items()
        }
        self._verified = {m: self._verified[m] for m in histories if m in self._verified}
        rows = overview.model_rows(state, self._gate, verifications)
        logger.info("Read %d models in %.2f s", len(rows), time.time() - started)
        return View(generation, started, state, tuple(rows), histories, verifications)

    def _verify(
        self, model_id: int, versions: Sequence[registry.CardVersion]
    ) -> verify.Verification:
        key = (tuple(versions), tuple(file_stamps(v.uri) for v in versions))
        cached = self._verified.get(model_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        result = verify.verify_versions(model_id, versions, self._policy)
        self._verified[model_id] = (key, result)
        return result


class _Probe:
    """A cheap question whose answer changes when the store does."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._path = _sqlite_path(store)
        self._connection: Any = None

    def fingerprint(self) -> Any:
        """Raises StoreUnavailable when the store cannot be reached."""
        if self._path is not None:
            try:
                found = os.stat(self._path)
            except OSError as e:
                raise StoreUnavailable(f"{self._path!r}: {e.strerror}") from None
            return (found.st_ino, found.st_size, found.st_mtime_ns)
        return self._mysql_fingerprint()

    def _mysql_fingerprint(self) -> Any:
        import pymysql

        query = (
            "SELECT (SELECT MAX(id) FROM Artifact), (SELECT MAX(id) FROM Execution), "
            "(SELECT MAX(id) FROM Event), (SELECT MAX(last_update_time_since_epoch) FROM Artifact), "
            "(SELECT MAX(last_update_time_since_epoch) FROM Execution)"
        )
        for attempt in (1, 2):  # a connection the server closed is opened again once
            try:
                if self._connection is None:
                    self._connection = snapshot.connect_mysql(self._store.mysql, timeout=3)
                    # Each probe sees the newest commit, not its transaction's snapshot.
                    self._connection.autocommit(True)
                with self._connection.cursor() as cursor:
                    cursor.execute(query)
                    return cursor.fetchone()
            except (pymysql.MySQLError, LineageError) as e:
                self._close()
                if attempt == 2:
                    raise StoreUnavailable(f"MySQL: {excerpt(str(e), limit=200)}") from None
        return None

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None


def _sqlite_path(store: Any) -> str | None:
    if isinstance(store, (str, os.PathLike)):
        return os.fspath(store)
    kind = store.WhichOneof("config") if hasattr(store, "WhichOneof") else None
    if kind == "sqlite":
        return str(store.sqlite.filename_uri)
    return None


def file_stamps(uri: str) -> tuple[Any, ...]:
    """What changes when a version's signed files do (size, time, inode)."""
    stamps: list[Any] = []
    for name in (constants.CARD_JSON_FILE, constants.SIGNATURE_FILE):
        try:
            found = os.lstat(os.path.join(uri, name))
        except (OSError, ValueError):
            stamps.append(None)
            continue
        stamps.append((found.st_ino, found.st_size, found.st_mtime_ns, found.st_mode))
    return tuple(stamps)


def _matches(row: overview.ModelRow, query: IndexQuery) -> bool:
    card = row.card
    if query.pipeline and row.pipeline != query.pipeline:
        return False
    if query.status and (card.status if card else "none") != query.status:
        return False
    if query.risk and ((card.risk_rating if card else "") or "unrated") != query.risk:
        return False
    if query.flag and query.flag not in row.flags:
        return False
    if query.search:
        haystack = f"{row.model_id} {row.name} {row.pipeline} {row.run}".lower()
        return query.search in haystack
    return True


def _whole(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    assert raw is not None
    if not re.fullmatch(r"[0-9]{1,12}", raw) or not low <= int(raw) <= high:
        raise ParameterError(
            f"{name} must be a whole number from {low} to {high}, got {excerpt(raw)}"
        )
    return int(raw)


def _text(raw: str | None) -> str:
    return (raw or "").strip()[:200]


def connect_for_change(store: Any) -> Any:
    """An MLMD connection that may write, opened for one change.

    Raises:
        StoreUnavailable: the store cannot be opened now.
    """
    try:
        return stores.connect(store, read_only=False)
    except (LineageError, sqlite3.Error) as e:
        raise StoreUnavailable(str(e)) from None
