"""Small text helpers every layer shares: cutting with an ellipsis, excerpts of values for
error messages, times as ISO 8601, and documents without their empty values."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

ELLIPSIS = "…"
# An excerpt of a value quoted in an error message, in characters.
EXCERPT_CHARACTERS = 40
_EMPTY: tuple[Any, ...] = ("", None, [], {})


def shorten(text: str, limit: int) -> str:
    """`text`, or its first `limit - 1` characters and an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + ELLIPSIS


def excerpt(value: Any, limit: int = EXCERPT_CHARACTERS) -> str:
    """A value's repr, cut to a short excerpt for an error message."""
    return shorten(repr(value), limit)


def iso_time(epoch_ms: int | None) -> str:
    """An MLMD time (milliseconds since the epoch) as ISO 8601 in UTC ("" if unknown)."""
    if not epoch_ms:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")


def now_iso() -> str:
    """The current time as ISO 8601 in UTC, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def without_empty(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping without its empty values (empty text, list or object, or None)."""
    return {k: v for k, v in mapping.items() if v not in _EMPTY}
