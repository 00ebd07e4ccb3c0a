"""The console's pages, rendered with the dashboard's and the card's templates.

Every string from the store is autoescaped; a card is shown only from a folder the
dashboard would publish it from (`dashboard.card_pages.published_card`). Each page
comes with its Content-Security-Policy: nothing loaded, only its own inline styles,
forms posting only to the console.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import os
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

import markupsafe

from mct_component import card
from mct_component.dashboard import card_pages, graphs, overview, site
from mct_component.governance import diff as diffs
from mct_component.governance import verify
from mct_component.serve import actions, forms
from mct_component.serve.identity import Identity
from mct_component.serve.settings import ConsoleSettings
from mct_component.serve.state import IndexQuery, View, file_stamps

FORM_ACTION = "'self'"
TREND_MODELS = site.TREND_MODELS
COLUMNS = (
    ("model", "Model"),
    ("pipeline", "Pipeline"),
    ("run", "Run"),
    ("created", "Created"),
    ("", "Blessed"),
    ("", "Pushed"),
    ("headline", "Headline metric"),
    ("status", "Card"),
    ("risk", "Risk"),
    ("completeness", "Complete"),
    ("flags", "Flags"),
)


@dataclasses.dataclass(frozen=True)
class Page:
    """A rendered page and its Content-Security-Policy (sent as a header too)."""

    html: str
    policy: str


class Pages:
    """Renders the console's pages for one store."""

    def __init__(self, settings: ConsoleSettings, store_name: str) -> None:
        self._settings = settings
        self._store_name = store_name
        self._env = site.environment()
        self._env.filters["shown"] = diffs.show_value
        # Reading and checking a card, and rendering its page, cost milliseconds; a
        # store's recent cards are what reviewers open (about 100 KiB a page).
        self._cards = _Cache(256)
        self._card_pages = _Cache(256)

    def index(self, view: View, query: IndexQuery, identity: Identity, notice: str = "") -> Page:
        """The index: one page of the models."""

        def link(**changes: Any) -> str:
            return "/?" + urllib.parse.urlencode(query.params(**changes))

        return self._page(
            "console_index.html.jinja",
            identity,
            notice,
            result=view.index(query),
            query=query,
            total=len(view.rows),
            read_at=_moment(view.read_at),
            flag_labels=overview.FLAGS,
            flag_counts=view.flag_counts,
            choices=view.choices,
            columns=COLUMNS,
            link=link,
        )

    def model(
        self,
        view: View,
        row: overview.ModelRow,
        identity: Identity,
        csrf_token: str,
        notice: str = "",
    ) -> Page:
        """A model's page, with the actions the signed-in person may take."""
        model_id = row.model_id
        versions = view.histories.get(model_id, [])
        newest: card.Card | None = None
        withheld = ""
        if row.card is not None:
            try:
                newest = self.card(row, row.card.uri)
            except card_pages.Withheld as e:
                withheld = str(e)
        permission = actions.permission(self._settings, identity)
        # What `mct-card verify` says now: files read and signatures checked again, so
        # a file changed in place since the store was last read shows as altered.
        verification = (
            verify.verify_versions(model_id, view.histories[model_id], self._settings.policy)
            if model_id in view.histories
            else None
        )
        blocked = ""
        if withheld:
            blocked = f"its newest version cannot be shown: {withheld}"
        elif verification is not None and not verification.holds:
            number, problem = verification.problems[0]
            blocked = f"its history does not verify (version {number}: {problem})"
        refusal = ""
        if newest is not None and permission.allowed and not blocked:
            refusal = actions.approval_refusal(self._settings, identity, versions, newest)
        nodes, edges = graphs.lineage_nodes(view.snapshot, row)
        window = view.trend(row, TREND_MODELS)
        shown = {v.version for v in row.versions}

        def hidden() -> markupsafe.Markup:
            version = row.card.version if row.card else 0
            return markupsafe.Markup(
                '<input type="hidden" name="csrf" value="{}"><input type="hidden" '
                'name="version" value="{}">'
            ).format(csrf_token, version)

        return self._page(
            "console_model.html.jinja",
            identity,
            notice,
            r=row,
            flag_labels=overview.FLAGS,
            verification=verification,
            verification_line=verify.summary_line(verification) if verification else "",
            version_links={n: f"/models/{model_id}/versions/{n}" for n in shown},
            diff_links={
                v.version: f"/models/{model_id}/diff?from={prev.version}&to={v.version}"
                for prev, v in zip(row.versions, row.versions[1:], strict=False)
            },
            permission=permission,
            blocked=blocked,
            approval_refusal=refusal,
            sections=(
                forms.sections(newest)
                if newest is not None and permission.allowed and not blocked
                else []
            ),
            withheld=withheld,
            hidden=hidden,
            lineage=markupsafe.Markup(graphs.lineage_svg(nodes, edges)),
            trend=markupsafe.Markup(graphs.trend_svg(window, model_id)),
            trend_count=len(window),
        )

    def version(self, view: View, row: overview.ModelRow, number: int, identity: Identity) -> Page:
        """A card version's page: the card, with where it stands in its history.

        Raises:
            card_pages.Withheld: the version's card may not be shown.
        """
        summary = next(v for v in row.versions if v.version == number)
        model_card = self.card(row, summary.uri)
        key = (summary.uri, _stamps(summary.uri))
        page = self._card_pages.get(key, lambda: card_pages.card_page(model_card))
        banner = self._env.get_template("console_banner.html.jinja").render(
            r=row, v=summary, identity=identity, total=len(row.versions)
        )
        body = page.find("<body>")
        if body >= 0:
            page = page[: body + len("<body>")] + banner + page[body + len("<body>") :]
        return Page(*card_pages.secured(page, FORM_ACTION))

    def diff(
        self, view: View, row: overview.ModelRow, old: int, new: int, identity: Identity
    ) -> Page:
        """The differences between two versions of a model's card.

        Raises:
            card_pages.Withheld: either version's card may not be shown.
        """
        by_number = {v.version: v for v in row.versions}
        before = self.card(row, by_number[old].uri)
        after = self.card(row, by_number[new].uri)
        return self._page(
            "console_diff.html.jinja",
            identity,
            "",
            model_id=row.model_id,
            old=old,
            new=new,
            old_record=by_number[old].trust or "not checked",
            new_record=by_number[new].trust or "not checked",
            diff=diffs.diff_cards(before, after),
        )

    def error(self, status: int, title: str, message: str, identity: Identity) -> Page:
        """An error page: what went wrong, in one line."""
        return self._page(
            "console_error.html.jinja", identity, "", status=status, title=title, message=message
        )

    def card(self, row: overview.ModelRow, uri: str) -> card.Card:
        """The card in a version's folder, where it may be shown (cached while its files
        are unchanged).

        Raises:
            card_pages.Withheld: why it may not be shown.
        """
        key = (uri, row.uri, _stamps(uri))
        return self._cards.get(
            key, lambda: card_pages.published_card(uri, row.uri, self._settings.output_roots)
        )

    def _page(self, template: str, identity: Identity, notice: str, **values: Any) -> Page:
        person = self._settings.policy.person(
            self._settings.key.identity if self._settings.key else "", identity.login
        )
        html = self._env.get_template(template).render(
            store_name=self._store_name,
            identity=identity,
            person_name=person.name if person is not None and identity.signed_in else "",
            notice=notice,
            **values,
        )
        return Page(*card_pages.secured(html, FORM_ACTION))


class _Cache:
    """A small least-recently-used cache, shared by the server's threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: a slow card does not hold the others up
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def _stamps(uri: str) -> tuple[Any, ...]:
    """What changes when a version's folder or its signed files do."""
    try:
        folder = os.lstat(uri)
        stamp: Any = (folder.st_ino, folder.st_mtime_ns, folder.st_mode)
    except (OSError, ValueError):
        stamp = None
    return (stamp, *file_stamps(uri))


def _moment(epoch_seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
