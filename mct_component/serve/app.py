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
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mct_component import content as content_module
from mct_component.dashboard import card_pages
from mct_component.errors import (
    ConflictError,
    IntegrityError,
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
MAX_OPEN_REQUESTS = 256
_DIGITS = re.compile(r"[0-9]{1,19}")
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
            identity = self.settings.authenticator.identify(request.scope["headers"], client)
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

    async def current_view(self) -> View:
        """The store's view: at once when it is fresh, else after a probe in a thread."""
        view = self.watch.fresh()
        if view is not None:
            return view
        probed: View = await self.blocking(self.watch.view)
        return probed

    def warm_up(self) -> None:
        """Loads the signing library and reads the store once, before serving."""
        signing.load_library()
        with contextlib.suppress(StoreUnavailable):
            self.watch.view()


def create_app(settings: ConsoleSettings, store_name: str = "the MLMD store") -> Any:
    """The console as an ASGI application, for uvicorn or any ASGI server."""
    console = Console(settings, store_name)
    page = functools.partial(_endpoint, console, api=False)
    api = functools.partial(_endpoint, console, api=True)
    routes = [
        Route("/", page(_index)),
        Route("/models/{model_id}", page(_model)),
        Route("/models/{model_id}/versions/{version}", page(_version)),
        Route("/models/{model_id}/diff", page(_diff)),
        Route("/models/{model_id}/{action}", page(_action), methods=["POST"]),
        Route("/healthz", functools.partial(_health, console)),
        Route("/api/session", api(_session)),
        Route("/api/models", api(_api_models)),
        Route("/api/models/{model_id}", api(_api_model)),
        Route("/api/models/{model_id}/verify", api(_api_verify)),
        Route("/api/models/{model_id}/status", api(_api_status), methods=["POST"]),
        Route("/api/models/{model_id}/content", api(_api_content), methods=["POST"]),
    ]

    async def not_routed(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        message = {404: "no such page", 405: "this page does not take that method"}.get(
            status,
            f"the request is larger than {MAX_BODY_BYTES:,} bytes, the limit"
            if status == 413
            else "the request failed",
        )
        if status == 500:
            logger.error("Unexpected error on %s", request.url.path, exc_info=error)
            message = "internal error: the console's log has the details"
        wants_json = request.url.path.startswith("/api/")
        response = _error(console, Identity(), status, message, wants_json)
        if isinstance(error, HTTPException) and error.headers:  # 405's Allow
            response.headers.update(error.headers)
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Before the first request: the signing library and the first read of the store
        # (seconds on a large store; a store that is away is tried again on requests).
        await anyio.to_thread.run_sync(console.warm_up)
        yield

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_routed, Exception: not_routed},
        lifespan=lifespan,
    )
    return _SecurityHeaders(app)


class _SecurityHeaders:
    """ASGI middleware: every response leaves with the security headers, those built by
    Starlette's own layers (a body over the limit) included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in (*_HEADERS.items(), ("Content-Security-Policy", _API_POLICY))
                    if name.lower().encode("latin-1") not in present
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


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
                _same_site(console, request)
                _bounded(request)
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
    if isinstance(error, (ConflictError, IntegrityError)):
        return 409
    if isinstance(error, LineageError):
        return 404
    if isinstance(error, OutputError):
        return 503
    return 400  # ParameterError, CardContentError and the other input errors


def _same_site(console: Console, request: Request) -> None:
    """Refuses a POST another site's page made a browser send: by the browser's own
    `Sec-Fetch-Site` (no page can forge it), else by `Origin` against the host the
    request was sent to (as the trusted proxy received it, when it rewrote `Host`)."""
    fetched = request.headers.get("sec-fetch-site")
    if fetched is not None:
        if fetched not in ("same-origin", "none"):
            raise _Refused(403, "a change must come from the console's own pages")
        return
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    hosts = {request.headers.get("host", "")}
    client = request.client.host if request.client else None
    if console.settings.authenticator.from_proxy(client):
        hosts.add(request.headers.get("x-forwarded-host", ""))
    if urllib.parse.urlsplit(origin).netloc not in hosts - {""}:
        raise _Refused(403, "a change must come from the console's own pages")


def _bounded(request: Request) -> None:
    """Refuses a body that does not say its length, or is longer than the console takes."""
    length = request.headers.get("content-length")
    if length is None:
        raise _Refused(411, "a change must say its length (Content-Length)")
    if not _DIGITS.fullmatch(length.strip()) or int(length) > MAX_BODY_BYTES:
        raise _Refused(413, f"the request is larger than {MAX_BODY_BYTES:,} bytes, the limit")


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
        411: "Length required",
        413: "Too large",
        503: "The store is unavailable",
    }.get(status, "Something went wrong")
    return _html(console.pages.error(status, title, line, identity), status)


# Pages.


async def _index(console: Console, request: Request, identity: Identity) -> Response:
    query = IndexQuery.parse(request.query_params, console.settings.per_page)
    view = await console.current_view()
    return _html(console.pages.index(view, query, identity))


async def _model(console: Console, request: Request, identity: Identity) -> Response:
    model_id = _model_id(request)
    view = await console.current_view()
    row = _row(view, model_id)
    notice = _notice(request.query_params, row.card.version if row.card else 0)
    token = console.csrf.issue(identity.login) if identity.signed_in else ""
    page = await console.blocking(lambda: console.pages.model(view, row, identity, token, notice))
    return _html(page)


async def _version(console: Console, request: Request, identity: Identity) -> Response:
    model_id, number = _model_id(request), _whole(request.path_params["version"], "version")
    view = await console.current_view()
    row = _row(view, model_id)
    if number not in {v.version for v in row.versions}:
        raise _Refused(404, f"model {model_id}'s card has no version {number}")
    try:
        page = await console.blocking(lambda: console.pages.version(view, row, number, identity))
    except card_pages.Withheld as e:
        raise _Refused(404, f"version {number} cannot be shown: {e}") from None
    return _html(page)


async def _diff(console: Console, request: Request, identity: Identity) -> Response:
    model_id = _model_id(request)
    old = _whole(request.query_params.get("from"), "from")
    new = _whole(request.query_params.get("to"), "to")
    view = await console.current_view()
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
    model_id, action = _model_id(request), request.path_params["action"]
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


async def _health(console: Console, request: Request) -> Response:
    """For probes (Kubernetes'): no login needed, whatever the policy; 503 while the
    store cannot be read."""
    try:
        view = await console.current_view()
    except (StoreUnavailable, _Refused) as e:
        return _secured(JSONResponse({"status": "unavailable", "error": str(e)}, status_code=503))
    return _secured(
        JSONResponse({"status": "ok", "models": len(view.rows), "read_at": view.read_at})
    )


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
    view = await console.current_view()
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
    view = await console.current_view()
    row = _row(view, _model_id(request))
    versions = view.histories.get(row.model_id, [])
    return JSONResponse({**_row_json(row), "versions": [v.as_dict() for v in versions]})


async def _api_verify(console: Console, request: Request, identity: Identity) -> Response:
    model_id = _model_id(request)
    view = await console.current_view()
    row = _row(view, model_id)
    verification = view.verifications.get(row.model_id)
    if verification is None:
        raise _Refused(404, f"model {model_id} has no card")
    return JSONResponse({**verification.as_dict(), "summary": verify.summary_line(verification)})


async def _api_status(console: Console, request: Request, identity: Identity) -> Response:
    return await _api_change(console, request, identity, "status", str, actions.set_status)


async def _api_content(console: Console, request: Request, identity: Identity) -> Response:
    return await _api_change(console, request, identity, "content", dict, actions.edit)


async def _api_change(
    console: Console,
    request: Request,
    identity: Identity,
    field: str,
    kind: type,
    act: Callable[..., Any],
) -> Response:
    """Makes a JSON change with `act(settings, identity, model_id, seen_version, value, note)`
    from `{"status": ..., "note": ..., "version": N}` or `{"content": {...}, ...}` (`field`,
    of type `kind`), and answers with the new version."""
    body = await _json_body(console, request, identity)
    value, note = body.get(field), body.get("note", "")
    if not isinstance(value, kind) or not isinstance(note, str):
        shape = '"..."' if kind is str else "{...}"
        raise _Refused(400, f'expected {{"{field}": {shape}, "note": "...", "version": N}}')
    seen = _whole(str(body.get("version", "")), "version")
    model_id = _model_id(request)
    made = await console.blocking(
        lambda: act(console.settings, identity, model_id, seen, value, note)
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
    if code not in NOTICES or not _DIGITS.fullmatch(version):
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
    except ClientDisconnect:
        raise _Refused(400, "the request ended before its body did") from None


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
    try:
        raw = await request.body()
    except HTTPException as e:
        raise _Refused(e.status_code, f"the body cannot be read: {excerpt(e.detail)}") from None
    except ClientDisconnect:
        raise _Refused(400, "the request ended before its body did") from None
    try:
        body = json.loads(raw, object_pairs_hook=content_module.unique_object)
    except RecursionError:
        raise _Refused(400, "the body is nested too deeply") from None
    except (ValueError, content_module.ParseError) as e:
        raise _Refused(400, f"the body is not JSON: {excerpt(str(e))}") from None
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    return body


def _whole(raw: str | None, name: str) -> int:
    """A positive whole number of at most 19 ASCII digits below 2**63 (an MLMD id)."""
    if raw is None or not _DIGITS.fullmatch(raw) or not 0 < int(raw) < 2**63:
        raise _Refused(400, f"{name} must be a positive whole number, got {excerpt(raw)}")
    return int(raw)


def _model_id(request: Request) -> int:
    return _whole(request.path_params["model_id"], "the model id")


def run(settings: ConsoleSettings, host: str, port: int, store_name: str) -> None:
    """Serves the console until interrupted (uvicorn, one process: CSRF tokens and the
    store's view live in it).

    The client address uvicorn reports is the connection's own: forwarded-for headers
    are not believed, so only the proxy's address can make `--user-header` count. The
    console is meant to sit behind the organisation's proxy, which buffers slow
    clients; `limit_concurrency` answers 503 beyond that many open requests.
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
        limit_concurrency=MAX_OPEN_REQUESTS,
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises Ctrl-C again once stopped
        uvicorn.Server(config).run()
