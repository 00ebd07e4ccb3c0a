"""CloudEvents 1.0 about card changes, delivered to sinks: a JSON-lines file, a webhook, a command.

Every new version of a card emits `mct_component.card.version_created`; a change of
status also emits `mct_component.card.status_changed`. The MLMD record is written
first: a sink that is down never loses or blocks a change. A delivery that fails (after
the webhook's retries) is logged, and `deliver` returns it so the change records it.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import json
import logging
import os
import shlex
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from mct_component.errors import ParameterError

logger = logging.getLogger(__name__)

VERSION_CREATED = "mct_component.card.version_created"
STATUS_CHANGED = "mct_component.card.status_changed"
SOURCE = "mct_component"
# Environment variables naming the sinks when no option does.
FILE_VARIABLE = "MCT_EVENTS_FILE"
URL_VARIABLE = "MCT_EVENTS_URL"
COMMAND_VARIABLE = "MCT_EVENTS_COMMAND"

WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_ATTEMPTS = 3
COMMAND_TIMEOUT_S = 30.0


def cloud_event(kind: str, model_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudEvents 1.0 event (structured JSON form) about a model's card."""
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": SOURCE,
        "type": kind,
        "subject": f"models/{model_id}",
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "datacontenttype": "application/json",
        "data": dict(data),
    }


@dataclasses.dataclass(frozen=True)
class Sinks:
    """Where card events go; any of them, or none."""

    file: str = ""
    url: str = ""
    command: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ParameterError(f"an events URL must be http:// or https://, got {self.url!r}")

    @classmethod
    def configured(
        cls,
        file: str | None = None,
        url: str | None = None,
        command: str | None = None,
        config: str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> Sinks:
        """The sinks from options, else a JSON config file (`{"file", "url", "command"}`),
        else the `MCT_EVENTS_FILE`, `MCT_EVENTS_URL`, `MCT_EVENTS_COMMAND` variables.

        Raises:
            ParameterError: the config file is unreadable or not such an object, or a
                URL is not http(s).
        """
        settings: dict[str, Any] = {}
        if config:
            settings = _read_config(config)
        file = file or settings.get("file") or environ.get(FILE_VARIABLE, "")
        url = url or settings.get("url") or environ.get(URL_VARIABLE, "")
        command = command or settings.get("command") or environ.get(COMMAND_VARIABLE, "")
        return cls(file=file, url=url, command=tuple(shlex.split(command)) if command else ())

    def __bool__(self) -> bool:
        return bool(self.file or self.url or self.command)


def deliver(event: Mapping[str, Any], sinks: Sinks) -> list[str]:
    """Sends an event to every sink; never raises.

    Returns:
        One line per failed delivery ("webhook http://…: HTTP 503"), already logged.
    """
    failures = []
    body = json.dumps(event, sort_keys=True)
    for name, target, send in (
        ("file", sinks.file, _append),
        ("webhook", sinks.url, _post),
        ("command", " ".join(sinks.command), lambda _, text: _run(sinks.command, text)),
    ):
        if not target:
            continue
        try:
            send(target, body)
        except Exception as e:  # a sink's failure must not undo or block the change
            failure = f"{name} {target}: {' '.join(str(e).split())[:200]}"
            logger.warning("Card event %s not delivered to %s", event.get("id"), failure)
            failures.append(failure)
    return failures


def _append(path: str, body: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # one whole line per event, whoever else appends
        f.write(body + "\n")


def _post(url: str, body: str) -> None:
    """POSTs the event (CloudEvents structured mode), retrying with a growing pause."""
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/cloudevents+json; charset=utf-8"},
        method="POST",
    )
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
                response.read()
            return
        except urllib.error.HTTPError as e:
            error: Exception = RuntimeError(f"HTTP {e.code} {e.reason}")
            if e.code < 500 and e.code != 429:  # the request itself is refused
                raise error from None
        except (urllib.error.URLError, OSError) as e:
            error = RuntimeError(str(getattr(e, "reason", e)))
        if attempt < WEBHOOK_ATTEMPTS:
            time.sleep(0.2 * 2**attempt)
    raise RuntimeError(f"{error} after {WEBHOOK_ATTEMPTS} attempts")


def _run(command: Sequence[str], body: str) -> None:
    result = subprocess.run(
        list(command),
        input=body,
        text=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(f"exit status {result.returncode}: {result.stderr.strip()[:200]}")


def _read_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.loads(f.read(64 * 1024))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ParameterError(f"events config {path!r} is not readable JSON: {e}") from None
    allowed = {"file", "url", "command"}
    if not isinstance(settings, dict) or not set(settings) <= allowed:
        raise ParameterError(
            f"events config {path!r} must be a JSON object with keys among {sorted(allowed)}"
        )
    if not all(isinstance(v, str) for v in settings.values()):
        raise ParameterError(f"events config {path!r}: every value must be a string")
    return settings
