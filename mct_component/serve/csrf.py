"""Tokens that tie each change to a page the console served to the same person.

A proxy's sign-in travels with every request the browser sends, including one another
site makes it send (cross-site request forgery). Every change is therefore a POST
carrying a token the console issued for that login: an HMAC of the login and the time
of issue under a secret only this console process holds, valid for `LIFETIME` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

LIFETIME = 8 * 3600  # a working day: a page left open for hours can still be used


class CsrfTokens:
    """Issues and checks the tokens of one console process."""

    def __init__(self, secret: bytes | None = None, lifetime: int = LIFETIME) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._lifetime = lifetime

    def issue(self, login: str, now: float | None = None) -> str:
        """A token for pages shown to `login`."""
        issued = int(time.time() if now is None else now)
        return f"{issued}.{self._mac(login, issued)}"

    def valid(self, token: str, login: str, now: float | None = None) -> bool:
        """Whether `token` was issued by this console for `login`, and is still fresh."""
        issued_text, _, mac = token.partition(".")
        if not re.fullmatch(r"[0-9]{1,12}", issued_text) or not mac or not login:
            return False
        issued = int(issued_text)
        age = (time.time() if now is None else now) - issued
        if not 0 <= age <= self._lifetime:
            return False
        return hmac.compare_digest(mac, self._mac(login, issued))

    def _mac(self, login: str, issued: int) -> str:
        message = f"{issued}\n{login}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
