"""CloudEvents 1.0 about card changes, delivered to sinks: a JSON-lines file, a webhook, a command.

Every new version of a card emits `mct_component.card.version_created`; a change of
status also emits `mct_component.card.status_changed`. The MLMD record is written
first: a sink that is down never loses or blocks a change. A delivery that fails (after
the webhook's retries) is logged, and `deliver` returns it so the change records it.

Sinks are as hostile as the network: each has a budget for all the events of one change
(`SINK_BUDGET_S`), reads at most `MAX_REPLY_BYTES` of what it is answered, follows no
redirect and never shows a secret (`redact`). A webhook's credentials come from the
URL's user info (sent as HTTP Basic) or a bearer token (`--events-token-file`, the
`token_file` of an events config, or `MCT_EVENTS_TOKEN`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import errno
import fcntl
import http.client
import json
import logging
import os
import re
import selectors
import shlex
import signal
import stat
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from mct_component import files
from mct_component.errors import ParameterError
from mct_component.text import now_iso

logger = logging.getLogger(__name__)

VERSION_CREATED = "mct_component.card.version_created"
STATUS_CHANGED = "mct_component.card.status_changed"
SOURCE = "mct_component"
# Environment variables naming the sinks when no option does.
FILE_VARIABLE = "MCT_EVENTS_FILE"
URL_VARIABLE = "MCT_EVENTS_URL"
COMMAND_VARIABLE = "MCT_EVENTS_COMMAND"
TOKEN_VARIABLE = "MCT_EVENTS_TOKEN"

# What one sink may spend on all the events of one change, retries included.
SINK_BUDGET_S = 10.0
WEBHOOK_ATTEMPTS = 3
# How much of a webhook's answer or a command's output is read (the rest is dropped).
MAX_REPLY_BYTES = 4096
MAX_TOKEN_BYTES = 4096
# Query parameters whose values are secrets, shown as *** wherever a URL is shown.
_SECRET_PARAMETER = re.compile(
    r"(?i)(token|key|password|passwd|secret|signature|sig|auth|credential)"
)


def cloud_event(kind: str, model_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudEvents 1.0 event (structured JSON form) about a model's card."""
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": SOURCE,
        "type": kind,
        "subject": f"models/{model_id}",
        "time": now_iso(),
        "datacontenttype": "application/json",
        "data": dict(data),
    }


@dataclasses.dataclass(frozen=True)
class Sinks:
    """Where card events go; any of them, or none. `token` is a webhook bearer token."""

    file: str = ""
    url: str = ""
    command: tuple[str, ...] = ()
    token: str = dataclasses.field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.url:
            _webhook_target(self.url)  # checks it
        if self.token and _userinfo(self.url)[0]:
            raise ParameterError(
                "an events URL with user info and a token: give the webhook one credential"
            )

    @classmethod
    def configured(
        cls,
        file: str | None = None,
        url: str | None = None,
        command: str | None = None,
        config: str | None = None,
        environ: Mapping[str, str] = os.environ,
        token_file: str | None = None,
    ) -> Sinks:
        """The sinks from options, else a JSON config file (`{"file", "url", "command",
        "token_file"}`), else the `MCT_EVENTS_FILE`, `MCT_EVENTS_URL`,
        `MCT_EVENTS_COMMAND` and `MCT_EVENTS_TOKEN` variables.

        Raises:
            ParameterError: the config file is unreadable or not such an object, a URL
                is not http(s), the command is not a shell-quoted command line, or the
                token file cannot be read.
        """
        settings: dict[str, Any] = {}
        if config:
            settings = _read_config(config)
        file = file or settings.get("file") or environ.get(FILE_VARIABLE, "")
        url = url or settings.get("url") or environ.get(URL_VARIABLE, "")
        command = command or settings.get("command") or environ.get(COMMAND_VARIABLE, "")
        token_file = token_file or settings.get("token_file")
        token = _read_token(token_file) if token_file else environ.get(TOKEN_VARIABLE, "")
        return cls(file=file, url=url, command=_split_command(command), token=token.strip())

    def __bool__(self) -> bool:
        return bool(self.file or self.url or self.command)


def redact(url: str) -> str:
    """The URL as it may be shown: a password and secret query values as `***`."""
    try:
        parts = urllib.parse.urlsplit(url)
        user, password = _userinfo(url)
    except ValueError:
        return "<an unreadable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    if user:
        netloc = f"{urllib.parse.quote(user, safe='')}{':***' if password else ''}@{netloc}"
    query = urllib.parse.urlencode(
        [
            (key, "***" if _SECRET_PARAMETER.search(key) else value)
            for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def deliver(
    event: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    sinks: Sinks,
    budget_s: float = SINK_BUDGET_S,
) -> list[str]:
    """Sends events (one, or all of a change's, in order) to every sink; never raises.

    Each sink has `budget_s` for all the events; what is not sent by then fails.

    Returns:
        One line per sink that failed ("webhook http://…: HTTP 503 (2 events not sent)"):
        after its first failure a sink is sent none of the later events. Already logged,
        with no secret in it.
    """
    batch = [event] if isinstance(event, Mapping) else list(event)
    bodies = [json.dumps(e, sort_keys=True) for e in batch]
    failures = []
    for name, target, shown, send in (
        ("file", sinks.file, sinks.file, _append),
        ("webhook", sinks.url, redact(sinks.url), lambda url, text, end: _post(sinks, text, end)),
        ("command", " ".join(sinks.command), _shown_command(sinks.command), _run_in(sinks)),
    ):
        if not target:
            continue
        deadline = time.monotonic() + budget_s
        for sent, body in enumerate(bodies):
            try:
                send(target, body, deadline)
            except Exception as e:  # a sink's failure must not undo or block the change
                reason = " ".join(str(e).split())[:200].replace(sinks.token or "\0", "***")
                unsent = len(bodies) - sent
                lost = f" ({unsent} events not sent)" if unsent > 1 else ""
                failure = f"{name} {shown}: {reason}{lost}"
                logger.warning("Card event not delivered to %s", failure)
                failures.append(failure)
                break  # the later events of this change would fail the same way
    return failures


def _append(path: str, body: str, deadline: float) -> None:
    """Appends one line to a regular file; a FIFO, device or socket is refused."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a FIFO with no reader
            raise RuntimeError("not a regular file (a FIFO?): events go to regular files") from None
        raise RuntimeError(e.strerror or str(e)) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise RuntimeError("not a regular file: events go to regular files")
        while True:  # one whole line per event, whoever else appends
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError("locked by another writer past the deadline") from None
                time.sleep(0.05)
        os.write(descriptor, (body + "\n").encode("utf-8"))
    finally:
        os.close(descriptor)


def _post(sinks: Sinks, body: str, deadline: float) -> None:
    """POSTs the event (CloudEvents structured mode), retrying with a growing pause.

    No redirect is followed (a 3xx fails); the whole exchange ends at `deadline`, however
    slowly the server answers, and at most `MAX_REPLY_BYTES` of its answer are read.
    """
    scheme, host, port, target = _webhook_target(sinks.url)
    headers = {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        "Connection": "close",
    }
    user, password = _userinfo(sinks.url)
    if user:
        pair = f"{user}:{password}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    elif sinks.token:
        headers["Authorization"] = f"Bearer {sinks.token}"
    error: Exception = RuntimeError("no attempt made before the deadline")
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            status, reason = _exchange(scheme, host, port, target, body, headers, deadline)
        except OSError as e:
            error = RuntimeError(_network_reason(e, deadline))
        else:
            if 200 <= status < 300:
                return
            error = RuntimeError(f"HTTP {status} {reason}")
            if 300 <= status < 400:
                raise RuntimeError(f"HTTP {status} {reason}: redirects are not followed")
            if status < 500 and status != 429:  # the request itself is refused
                raise error
        if attempt < WEBHOOK_ATTEMPTS:
            time.sleep(max(0.0, min(0.2 * 2**attempt, deadline - time.monotonic())))
    raise RuntimeError(f"{error} after {attempt} attempts")


def _exchange(
    scheme: str,
    host: str,
    port: int | None,
    target: str,
    body: str,
    headers: Mapping[str, str],
    deadline: float,
) -> tuple[int, str]:
    """One POST; a timer shuts the socket at `deadline` so no read can outlast it."""
    remaining = max(0.01, deadline - time.monotonic())
    kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    connection = kind(host, port, timeout=remaining)
    timer = threading.Timer(remaining, _shut, (connection,))
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", target, body=body.encode("utf-8"), headers=dict(headers))
        response = connection.getresponse()
        response.read(MAX_REPLY_BYTES)  # the rest is never read
        return response.status, response.reason
    finally:
        timer.cancel()
        connection.close()


def _shut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(2)


def _network_reason(error: OSError, deadline: float) -> str:
    if time.monotonic() >= deadline - 0.05:
        return "no answer within the deadline"
    return " ".join(str(getattr(error, "reason", None) or error.strerror or error).split())


def _webhook_target(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, request target) of an http(s) URL, without its user info.

    Raises:
        ParameterError: not an http(s) URL with a host.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ParameterError(
            f"an events URL must be http:// or https://, got {redact(url)!r}"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParameterError(f"an events URL must be http:// or https://, got {redact(url)!r}")
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return parts.scheme, parts.hostname, port, target


def _userinfo(url: str) -> tuple[str, str]:
    """The URL's user name and password, percent-decoded ("" where none)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return "", ""
    return (
        urllib.parse.unquote(parts.username or ""),
        urllib.parse.unquote(parts.password or ""),
    )


def _run_in(sinks: Sinks) -> Any:
    return lambda _target, body, deadline: _run(sinks.command, body, deadline)


def _run(command: Sequence[str], body: str, deadline: float) -> None:
    """Runs the command with the event on its standard input, in a process group of its
    own that is killed whole when the command ends or the deadline passes."""
    try:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as e:
        raise RuntimeError(e.strerror or str(e)) from None
    try:
        stderr = _feed_and_read(process, body.encode("utf-8"), deadline)
        if process.poll() is None:
            raise RuntimeError("still running at the deadline: stopped")
    finally:
        _kill_group(process)
    if process.returncode != 0:
        excerpt = stderr.decode("utf-8", "replace").strip()[:200]
        raise RuntimeError(f"exit status {process.returncode}: {excerpt}")


def _feed_and_read(process: subprocess.Popen[bytes], data: bytes, deadline: float) -> bytes:
    """Writes `data` to the command, keeps at most `MAX_REPLY_BYTES` of its stderr and
    drops its stdout, until it exits or the deadline passes."""
    assert process.stdin and process.stdout and process.stderr
    kept = b""
    with selectors.DefaultSelector() as selector:
        os.set_blocking(process.stdin.fileno(), False)
        selector.register(process.stdin, selectors.EVENT_WRITE)
        for stream in (process.stdout, process.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ)
        while process.poll() is None and time.monotonic() < deadline:
            if not selector.get_map():
                time.sleep(0.02)  # every pipe closed; wait for the exit
                continue
            ready = selector.select(timeout=min(0.1, max(0.0, deadline - time.monotonic())))
            for key, _ in ready:
                if key.fileobj is process.stdin:
                    try:
                        data = data[os.write(process.stdin.fileno(), data) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # it does not read its input: fine
                        data = b""
                    if not data:
                        selector.unregister(process.stdin)
                        process.stdin.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if key.fileobj is process.stderr and len(kept) < MAX_REPLY_BYTES:
                    kept += chunk[: MAX_REPLY_BYTES - len(kept)]
                if not chunk:
                    selector.unregister(key.fileobj)
    return kept


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kills what the command left behind (`sleep 1000 &`) with it, and reaps it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    process.wait()


def _split_command(command: str) -> tuple[str, ...]:
    """A command line split as a shell would.

    Raises:
        ParameterError: its quotes are unbalanced.
    """
    if not command:
        return ()
    try:
        return tuple(shlex.split(command))
    except ValueError as e:
        raise ParameterError(
            f"the events command must be a shell-quoted command line: {e} in {command[:80]!r}"
        ) from None


def _shown_command(command: Sequence[str]) -> str:
    return " ".join(command)[:200]


def _read_token(path: str) -> str:
    data = files.read_setting(path, MAX_TOKEN_BYTES, "events token file", ParameterError)
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ParameterError(f"events token file {path!r} must hold an ASCII token") from None
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise ParameterError(f"events token file {path!r} must hold one token, without spaces")
    return token


def _read_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.loads(f.read(64 * 1024))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ParameterError(f"events config {path!r} is not readable JSON: {e}") from None
    allowed = {"file", "url", "command", "token_file"}
    if not isinstance(settings, dict) or not set(settings) <= allowed:
        raise ParameterError(
            f"events config {path!r} must be a JSON object with keys among {sorted(allowed)}"
        )
    if not all(isinstance(v, str) for v in settings.values()):
        raise ParameterError(f"events config {path!r}: every value must be a string")
    return settings
