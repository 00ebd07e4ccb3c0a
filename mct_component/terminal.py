"""Text for a terminal: what the store and content files say, made visible and inert.

Anything `mct-card` prints may come from a store many hands write or from a content
file: an escape sequence could retitle the window or clear the screen, a carriage
return or a newline could forge a row, a bidirectional override could make a name read
as another. Such characters are printed as `\\uXXXX` escapes, which read the same in
plain text and inside JSON strings (where they decode back to the same value).
"""

from __future__ import annotations

import re
import unicodedata

from mct_component.text import shorten

# C0 and C1 controls (DEL too), line and paragraph separators, and the invisible format
# characters: bidirectional marks and overrides, zero-width characters, tags.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_MAYBE_UNSAFE = re.compile(r"[^\x20-\x7e\u00a0-\u00ac\u00ae-\u05ff]")


def _escape(character: str) -> str:
    code = ord(character)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # JSON spells astral characters as a pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def _replace(match: re.Match[str]) -> str:
    character = match.group()
    if unicodedata.category(character) in _UNSAFE_CATEGORIES:
        return _escape(character)
    return character


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control, format and unassigned character escaped as `\\uXXXX`.

    Args:
        text: what is about to be printed.
        keep_newlines: leave line feeds as they are (a multi-line document such as a
            card's Markdown); otherwise they are escaped too, so one record is one row.
    """
    if keep_newlines:
        return "\n".join(visible(line) for line in text.split("\n"))
    return _MAYBE_UNSAFE.sub(_replace, text)


def one_line(text: str, limit: int = 1000) -> str:
    """`visible(text)` cut to `limit` characters: for an error message."""
    shown = visible(text)
    return shorten(shown, limit)
