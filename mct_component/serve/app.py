"""The review console as an ASGI application (Starlette), and how it runs (uvicorn).

Pages and a small JSON API (`/api/...`) over one `state.StoreWatch`. Every request is
identified first (`identity`); anything that waits on the store runs in a worker thread
under `request_timeout`, so a store that hangs or goes away answers 503, never a hung
request. Every change is a POST carrying a CSRF token issued to the same login
(`csrf`), and a POST from another site is refused before that. Errors are one line, as
a page or as `{"error": ...}`, never a traceback; each response carries a strict
Content-Security-Policy and no caching.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mct_component import content as content_module
from mct_component.dashboard import card_pages
from mct_component.errors import (
    ConflictError,
    LineageError,
    ModelCardError,
    OutputError,
    PolicyError,
)
from mct_component.governance import lifecycle, signing, verify
from mct_component.serve import actions, forms
from mct_component.serve.csrf import CsrfTokens
from mct_component.serve.identity import AuthenticationError, Identity
from mct_component.serve.pages import Page, Pages
from mct_component.serve.settings import ConsoleSettings
from mct_component.serve.state import IndexQuery, StoreUnavailable, StoreWatch, View
from mct_component.text import excerpt

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = content_module.MAX_FILE_BYTES + 64 * 1024  # an upload and its form
MAX_FORM_FIELDS = 40
API_JSON_TYPE = "application/json"
# What each action form posts becomes: (status, whether a note is required).
STATUS_ACTIONS = {
    "submit": (lifecycle.PENDING_REVIEW, False),
    "approve": (lifecycle.APPROVED, False),
    "reject": (lifecycle.DRAFT, True),
    "archive": (lifecycle.ARCHIVED, False),
}
# What a page says after an action, by the code its redirect carries.
NOTICES = {
    "submit": "submitted for review",
    "approve": "approved",
    "approval": "approval recorded; more approvers are needed",
    "reject": "rejected: back to draft",
    "archive": "archived",
    "edit": "saved as a new draft",
    "clone": "cloned onto model",
}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class _Refused(Exception):
    """A request the console answers with an error status and one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Console:
    """The console's state shared by its requests: settings, the store view, pages."""

    def __init__(self, settings: ConsoleSettings, store_name: str) -> None:
        self.settings = settings
        self.watch = StoreWatch(
            settings.store,
            settings.policy,
            settings.completeness_gate,
            settings.check_seconds,
            settings.rebuild_seconds,
        )
        self.pages = Pages(settings, store_name)
        self.csrf = CsrfTokens()

    def identify(self, request: Request) -> Identity:
        client = request.client.host if request.client else None
        try:
            identity = self.settings.authenticator.identify(request.headers, client)
        except AuthenticationError as e:
            raise _Refused(401, str(e)) from None
        if not identity.signed_in and self.settings.policy.require_login:
            raise _Refused(401, "sign in first: the review policy asks every reader to")
        return identity

    async def blocking(self, work: Callable[[], Any]) -> Any:
        """Runs `work` in a worker thread, answering 503 past the request timeout (the
        thread may finish later; a change it makes is recorded whole or not at all)."""
        try:
            with anyio.fail_after(self.settings.request_timeout):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            raise _Refused(
                503,
                f"the MLMD store did not answer within {self.settings.request_timeout:g} s; "
                "try again (a change may still have been recorded: look before retrying)",
            ) from None

    def view(self) -> View:
        return self.watch.view()

    def warm_up(self) -> None:
        """Loads the signing library and reads the store once, before serving."""
        signing.load_library()
        with contextlib.suppress(StoreUnavailable):
            self.watch.view()


def create_app(settings: ConsoleSettings, store_name: str = "the MLMD store") -> Starlette:
    """The console as an ASGI application, for uvicorn or any ASGI server."""
    console = Console(settings, store_name)
    page = functools.partial(_endpoint, console, api=False)
    api = functools.partial(_endpoint, console, api=True)
    routes = [
        Route("/", page(_index)),
        Route("/models/{model_id:int}", page(_model)),
        Route("/models/{model_id:int}/versions/{version:int}", page(_version)),
        Route("/models/{model_id:int}/diff", page(_diff)),
        Route("/models/{model_id:int}/{action:str}", page(_action), methods=["POST"]),
        Route("/healthz", api(_health)),
        Route("/api/session", api(_session)),
        Route("/api/models", api(_api_models)),
        Route("/api/models/{model_id:int}", api(_api_model)),
        Route("/api/models/{model_id:int}/verify", api(_api_verify)),
        Route("/api/models/{model_id:int}/status", api(_api_status), methods=["POST"]),
        Route("/api/models/{model_id:int}/content", api(_api_content), methods=["POST"]),
    ]

    async def not_routed(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        message = {404: "no such page", 405: "this page does not take that method"}.get(
            status, "the request was too large" if status == 413 else "the request failed"
        )
        if status == 500:
            logger.error("Unexpected error on %s", request.url.path, exc_info=error)
            message = "internal error: the console's log has the details"
        wants_json = request.url.path.startswith("/api/")
        return _error(console, Identity(), status, message, wants_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Before the first request: the signing library and the first read of the store
        # (seconds on a large store; a store that is away is tried again on requests).
        await anyio.to_thread.run_sync(console.warm_up)
        yield

    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_routed, Exception: not_routed},
        max_body_size=MAX_BODY_BYTES,
        lifespan=lifespan,
    )


Handler = Callable[[Console, Request, Identity], Awaitable[Response]]


def _endpoint(
    console: Console, handler: Handler, *, api: bool
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that identifies the caller, refuses cross-site posts, and answers
    every failure in one line with the right status."""

    async def endpoint(request: Request) -> Response:
        identity = Identity()
        try:
            identity = console.identify(request)
            if request.method == "POST":
                _same_site(request)
            response = await handler(console, request, identity)
        except _Refused as e:
            return _error(console, identity, e.status, str(e), api)
        except StoreUnavailable as e:
            response = _error(console, identity, 503, str(e), api)
            response.headers["Retry-After"] = "5"
            return response
        except ModelCardError as e:
            return _error(console, identity, _status_of(e), str(e), api)
        except Exception:
            reference = secrets.token_hex(4)
            logger.exception(
                "Internal error %s on %s %s", reference, request.method, request.url.path
            )
            return _error(
                console, identity, 500, f"internal error {reference}: the console's log has it", api
            )
        return _secured(response)

    return endpoint


def _status_of(error: ModelCardError) -> int:
    if isinstance(error, PolicyError):
        return 403
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, LineageError):
        return 404
    if isinstance(error, OutputError):
        return 503
    return 400  # ParameterError, CardContentError and the other input errors


def _same_site(request: Request) -> None:
    """Refuses a POST another site's page made a browser send."""
    fetched = request.headers.get("sec-fetch-site")
    if fetched is not None and fetched not in ("same-origin", "none"):
        raise _Refused(403, "a change must come from the console's own pages")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if urllib.parse.urlsplit(origin).netloc != host:
            raise _Refused(403, "a change must come from the console's own pages")


def _secured(response: Response, policy: str = _API_POLICY) -> Response:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


def _html(page: Page, status: int = 200) -> Response:
    response = HTMLResponse(page.html, status_code=status)
    return _secured(response, page.policy + "; frame-ancestors 'none'")


def _error(console: Console, identity: Identity, status: int, message: str, api: bool) -> Response:
    line = " ".join(message.split())[:1000]
    if api:
        return _secured(JSONResponse({"error": line}, status_code=status))
    title = {
        400: "Not accepted",
        401: "Sign in first",
        403: "Not allowed",
        404: "Not found",
        409: "Changed meanwhile",
        413: "Too large",
        503: "The store is unavailable",
    }.get(status, "Something went wrong")
    return _html(console.pages.error(status, title, line, identity), status)


# Pages.


async def _index(console: Console, request: Request, identity: Identity) -> Response:
    query = IndexQuery.parse(request.query_params, console.settings.per_page)
    view = await console.blocking(console.view)
    return _html(console.pages.index(view, query, identity))


async def _model(console: Console, request: Request, identity: Identity) -> Response:
    model_id = request.path_params["model_id"]
    view = await console.blocking(console.view)
    row = _row(view, model_id)
    notice = _notice(request.query_params, row.card.version if row.card else 0)
    token = console.csrf.issue(identity.login) if identity.signed_in else ""
    page = await console.blocking(lambda: console.pages.model(view, row, identity, token, notice))
    return _html(page)


async def _version(console: Console, request: Request, identity: Identity) -> Response:
    model_id, number = request.path_params["model_id"], request.path_params["version"]
    view = await console.blocking(console.view)
    row = _row(view, model_id)
    if number not in {v.version for v in row.versions}:
        raise _Refused(404, f"model {model_id}'s card has no version {number}")
    try:
        page = await console.blocking(lambda: console.pages.version(view, row, number, identity))
    except card_pages.Withheld as e:
        raise _Refused(404, f"version {number} cannot be shown: {e}") from None
    return _html(page)


async def _diff(console: Console, request: Request, identity: Identity) -> Response:
    model_id = request.path_params["model_id"]
    old = _whole(request.query_params.get("from"), "from")
    new = _whole(request.query_params.get("to"), "to")
    view = await console.blocking(console.view)
    row = _row(view, model_id)
    numbers = {v.version for v in row.versions}
    for number in (old, new):
        if number not in numbers:
            raise _Refused(404, f"model {model_id}'s card has no version {number}")
    if old == new:
        raise _Refused(400, "choose two different versions to compare")
    try:
        page = await console.blocking(lambda: console.pages.diff(view, row, old, new, identity))
    except card_pages.Withheld as e:
        raise _Refused(404, f"a version cannot be shown: {e}") from None
    return _html(page)


async def _action(console: Console, request: Request, identity: Identity) -> Response:
    model_id, action = request.path_params["model_id"], request.path_params["action"]
    if action not in (*STATUS_ACTIONS, "edit", "clone"):
        raise _Refused(404, "no such page")
    form = await _form(request)
    _check_csrf(console, identity, form.get("csrf"))
    seen = _whole(_field(form, "version"), "version")
    note = _field(form, "note")
    if action in STATUS_ACTIONS:
        status, needs_note = STATUS_ACTIONS[action]
        if needs_note and not note.strip():
            raise _Refused(400, "a rejection needs a note saying why")
        made = await console.blocking(
            lambda: actions.set_status(console.settings, identity, model_id, seen, status, note)
        )
        code = "approval" if made.change == lifecycle.APPROVAL_RECORDED else action
        target = model_id
    elif action == "clone":
        target = _whole(_field(form, "to_model"), "to_model")
        made = await console.blocking(
            lambda: actions.clone(console.settings, identity, model_id, target, seen, note)
        )
        code = "clone"
    else:
        content = await _posted_content(form)
        made = await console.blocking(
            lambda: actions.edit(console.settings, identity, model_id, seen, content, note)
        )
        code, target = "edit", model_id
    await console.blocking(console.watch.refresh)
    query = urllib.parse.urlencode({"did": code, "v": made.version})
    return RedirectResponse(f"/models/{target}?{query}", status_code=303)


async def _health(console: Console, request: Request, identity: Identity) -> Response:
    view = await console.blocking(console.view)
    return JSONResponse({"status": "ok", "models": len(view.rows), "read_at": view.read_at})


# The JSON API, for scripts (bearer tokens).


async def _session(console: Console, request: Request, identity: Identity) -> Response:
    allowed = actions.permission(console.settings, identity)
    return JSONResponse(
        {
            "identity": identity.login or None,
            "via": identity.via or None,
            "name": allowed.name or None,
            "may_change": allowed.allowed,
            "why_not": allowed.reason or None,
            "csrf": console.csrf.issue(identity.login) if identity.signed_in else None,
        }
    )


async def _api_models(console: Console, request: Request, identity: Identity) -> Response:
    query = IndexQuery.parse(request.query_params, console.settings.per_page)
    view = await console.blocking(console.view)
    result = view.index(query)
    return JSONResponse(
        {
            "total": len(view.rows),
            "matching": result.matching,
            "page": result.page,
            "pages": result.pages,
            "models": [_row_json(row) for row in result.rows],
        }
    )


async def _api_model(console: Console, request: Request, identity: Identity) -> Response:
    view = await console.blocking(console.view)
    row = _row(view, request.path_params["model_id"])
    versions = view.histories.get(row.model_id, [])
    return JSONResponse({**_row_json(row), "versions": [v.as_dict() for v in versions]})


async def _api_verify(console: Console, request: Request, identity: Identity) -> Response:
    model_id = request.path_params["model_id"]
    view = await console.blocking(console.view)
    row = _row(view, model_id)
    verification = view.verifications.get(row.model_id)
    if verification is None:
        raise _Refused(404, f"model {model_id} has no card")
    return JSONResponse({**verification.as_dict(), "summary": verify.summary_line(verification)})


async def _api_status(console: Console, request: Request, identity: Identity) -> Response:
    model_id = request.path_params["model_id"]
    body = await _json_body(console, request, identity)
    status, note = body.get("status"), body.get("note", "")
    if not isinstance(status, str) or not isinstance(note, str):
        raise _Refused(400, 'expected {"status": "...", "note": "...", "version": N}')
    seen = _whole(str(body.get("version", "")), "version")
    made = await console.blocking(
        lambda: actions.set_status(console.settings, identity, model_id, seen, status, note)
    )
    await console.blocking(console.watch.refresh)
    return JSONResponse(made.as_dict())


async def _api_content(console: Console, request: Request, identity: Identity) -> Response:
    model_id = request.path_params["model_id"]
    body = await _json_body(console, request, identity)
    content, note = body.get("content"), body.get("note", "")
    if not isinstance(content, dict) or not isinstance(note, str):
        raise _Refused(400, 'expected {"content": {...}, "note": "...", "version": N}')
    seen = _whole(str(body.get("version", "")), "version")
    made = await console.blocking(
        lambda: actions.edit(console.settings, identity, model_id, seen, content, note)
    )
    await console.blocking(console.watch.refresh)
    return JSONResponse(made.as_dict())


# Helpers.


def _row(view: View, model_id: int) -> Any:
    row = view.by_id.get(model_id)
    if row is None:
        raise _Refused(404, f"the store has no model {model_id}")
    return row


def _row_json(row: Any) -> dict[str, Any]:
    card = row.card
    headline = card.headline if card else None
    return {
        "model_id": row.model_id,
        "name": row.name,
        "pipeline": row.pipeline,
        "run": row.run,
        "created_ms": row.created_ms,
        "blessed": row.blessed,
        "pushed": row.pushed,
        "destination": row.destination,
        "card": None
        if card is None
        else {
            "version": card.version,
            "status": card.status,
            "risk_rating": card.risk_rating,
            "completeness": card.completeness,
            "record": card.trust,
            "headline": None if headline is None else headline.__dict__,
        },
        "history_holds": row.history_holds,
        "approval_verified": row.approval_verified,
        "flags": list(row.flags),
    }


def _notice(params: Mapping[str, str], newest: int) -> str:
    code, version = params.get("did"), params.get("v", "")
    if code not in NOTICES or not version.isdigit():
        return ""
    return f"Version {int(version)}: {NOTICES[code]}."


async def _form(request: Request) -> Mapping[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise _Refused(400, "a change is posted as a form")
    try:
        return await request.form(
            max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=content_module.MAX_FILE_BYTES
        )
    except HTTPException as e:
        raise _Refused(e.status_code, f"the form cannot be read: {excerpt(e.detail)}") from None


def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise _Refused(400, f"the form's field {name!r} must be text")
    return value


def _check_csrf(console: Console, identity: Identity, token: Any) -> None:
    if not identity.signed_in:
        raise _Refused(401, "sign in to act on cards")
    if not isinstance(token, str) or not console.csrf.valid(token, identity.login):
        raise _Refused(
            403, "the form's CSRF token is missing, old or not yours: reload the page and retry"
        )


async def _posted_content(form: Mapping[str, Any]) -> dict[str, Any]:
    section = _field(form, "section")
    if section != "file":
        return forms.content(section, {k: v for k, v in form.items() if isinstance(v, str)})
    upload = form.get("content")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise _Refused(400, "choose a YAML or JSON content file to upload")
    data = await upload.read(content_module.MAX_FILE_BYTES + 1)
    return content_module.parse_card_content(data, upload.filename)


async def _json_body(console: Console, request: Request, identity: Identity) -> dict[str, Any]:
    _check_csrf(console, identity, request.headers.get("x-csrf-token"))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != API_JSON_TYPE:
        raise _Refused(400, f"the body must be {API_JSON_TYPE}")
    raw = await request.body()
    try:
        body = json.loads(raw, object_pairs_hook=content_module.unique_object)
    except (ValueError, content_module.ParseError) as e:
        raise _Refused(400, f"the body is not JSON: {excerpt(str(e))}") from None
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    return body


def _whole(raw: str | None, name: str) -> int:
    if raw is None or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise _Refused(400, f"{name} must be a positive whole number, got {excerpt(raw)}")
    return int(raw)


def run(settings: ConsoleSettings, host: str, port: int, store_name: str) -> None:
    """Serves the console until interrupted (uvicorn, one process).

    The client address uvicorn reports is the connection's own: forwarded-for headers
    are not believed, so only the proxy's address can make `--user-header` count.
    """
    import uvicorn

    config = uvicorn.Config(
        create_app(settings, store_name),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once stopped
        uvicorn.Server(config).run()
