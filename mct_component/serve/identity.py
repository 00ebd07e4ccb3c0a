"""Who is asking: a login the organisation's authenticating proxy vouches for, or a bearer
token whose hash the console was given. The console never asks for passwords.

A proxy (oauth2-proxy, Kubeflow's central dashboard, an identity-aware proxy) signs
people in and passes the login in a header (`--user-header`, e.g. `X-Forwarded-Email`
or `kubeflow-userid`). Anyone can send that header, so it counts only on connections
from the proxy's own addresses (`--trusted-proxy`); from anywhere else it is ignored.
Scripts send `Authorization: Bearer <token>`; the tokens file holds only SHA-256
digests of the tokens (`mct-card token` makes one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from collections.abc import Mapping, Sequence

from mct_component import files, terminal
from mct_component.errors import ModelCardError, ParameterError
from mct_component.text import excerpt

logger = logging.getLogger(__name__)

MAX_LOGIN_CHARACTERS = 320  # an e-mail address at its longest
MAX_TOKENS_FILE_BYTES = 1024 * 1024
TOKEN_PREFIX = "sha256:"
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_DIGEST = re.compile(r"[0-9a-f]{64}")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AuthenticationError(ModelCardError):
    """A request's credentials are malformed or unknown (401)."""


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who made a request: a login and how it was vouched for ("proxy" or "token"); an
    empty login is nobody signed in."""

    login: str = ""
    via: str = ""

    @property
    def signed_in(self) -> bool:
        """Whether someone is signed in."""
        return bool(self.login)


@dataclasses.dataclass(frozen=True)
class Authenticator:
    """How the console learns who is asking."""

    user_header: str = ""  # lower case; "" when no proxy passes a login
    trusted_proxies: tuple[Network, ...] = ()
    token_logins: Mapping[str, str] = dataclasses.field(default_factory=dict)  # digest -> login

    @classmethod
    def configure(
        cls,
        user_header: str | None = None,
        trusted_proxies: Sequence[str] = (),
        tokens_file: str | None = None,
    ) -> Authenticator:
        """Checks the console's identity options.

        Raises:
            ParameterError: one line naming the option and what was expected.
        """
        header = (user_header or "").strip()
        if header and not _HEADER_NAME.fullmatch(header):
            raise ParameterError(
                f"--user-header must be an HTTP header name such as X-Forwarded-Email, "
                f"got {excerpt(header)}"
            )
        networks = tuple(_network(address) for address in trusted_proxies)
        if header and not networks:
            raise ParameterError(
                "--user-header needs --trusted-proxy: the header is honoured only on "
                "connections from the authenticating proxy's addresses"
            )
        if networks and not header:
            raise ParameterError("--trusted-proxy needs --user-header (the header it sets)")
        logins = read_tokens_file(tokens_file) if tokens_file else {}
        return cls(header.lower(), networks, logins)

    def identify(
        self, headers: Sequence[tuple[bytes, bytes]], client_address: str | None
    ) -> Identity:
        """Who sent a request with these raw headers (lower-case names, as ASGI gives
        them) from this address.

        On a connection from a trusted proxy its login header wins (a proxy may pass an
        `Authorization` of its own: Basic credentials, an ID token); a request with the
        header twice is refused. Elsewhere the header is ignored, and a bearer token
        signs a script in; other `Authorization` schemes are not ours and are ignored.

        Raises:
            AuthenticationError: the login header twice, or not a UTF-8 login; a bearer
                token that is unknown.
        """
        if self.user_header and self.from_proxy(client_address):
            name = self.user_header.encode("latin-1")
            logins = [value for key, value in headers if key == name]
            if len(logins) > 1:
                logger.warning(
                    "Refused a request with the %s header more than once", self.user_header
                )
                raise AuthenticationError(f"the {self.user_header} header came more than once")
            if logins:
                try:
                    login = logins[0].decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise AuthenticationError(
                        f"the {self.user_header} header is not UTF-8"
                    ) from None
                return Identity(check_login(login, f"the {self.user_header} header"), "proxy")
        elif self.user_header and any(
            key == self.user_header.encode("latin-1") for key, _ in headers
        ):
            logger.warning(
                "Ignored the %s header of a request from %s, which is not a trusted proxy",
                self.user_header,
                terminal.one_line(str(client_address)),
            )
        authorization = next((v for k, v in headers if k == b"authorization"), None)
        if authorization is None:
            return Identity()
        scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
        if scheme.lower() != "bearer":
            return Identity()  # Basic credentials or the like: not the console's
        digest = token_digest(token.strip())
        known_as = next(
            (
                known_login
                for known, known_login in self.token_logins.items()
                if hmac.compare_digest(known, digest)
            ),
            None,
        )
        if known_as is None:
            raise AuthenticationError("the bearer token is not one this console knows")
        return Identity(known_as, "token")

    def from_proxy(self, client_address: str | None) -> bool:
        """Whether a connection comes from one of the trusted proxies."""
        if not client_address or not self.trusted_proxies:
            return False
        try:
            address = ipaddress.ip_address(client_address)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)


def check_login(value: str, where: str) -> str:
    """A login as the console records it: text of at most 320 visible characters.

    Raises:
        AuthenticationError: naming where it came from.
    """
    if not value or len(value) > MAX_LOGIN_CHARACTERS or terminal.visible(value) != value:
        raise AuthenticationError(
            f"{where} must be a login of 1 to {MAX_LOGIN_CHARACTERS} visible characters"
        )
    return value


def token_digest(token: str) -> str:
    """The SHA-256 (hex) of a bearer token, as the tokens file holds it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(login: str) -> tuple[str, str]:
    """A fresh bearer token for `login`, and its line for the tokens file.

    Raises:
        ParameterError: `login` is not a login.
    """
    try:
        check_login(login, "--identity")
    except AuthenticationError as e:
        raise ParameterError(str(e)) from None
    token = secrets.token_urlsafe(32)
    return token, f"{TOKEN_PREFIX}{token_digest(token)} {login}\n"


def read_tokens_file(path: str) -> dict[str, str]:
    """The tokens file: one `sha256:<hex digest> <login>` per line; `#` starts a comment.

    Raises:
        ParameterError: the file is missing, too large, or a line is malformed (named).
    """
    raw = files.read_setting(path, MAX_TOKENS_FILE_BYTES, "--tokens-file", ParameterError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParameterError(f"--tokens-file {path!r} is not UTF-8 text") from None
    logins: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, login = line.partition(" ")
        digest = digest.removeprefix(TOKEN_PREFIX)
        if not _DIGEST.fullmatch(digest) or not login.strip():
            raise ParameterError(
                f"--tokens-file {path!r} line {number}: expected "
                f"'{TOKEN_PREFIX}<64 hex digits> <login>', as `mct-card token` writes"
            )
        try:
            logins[digest] = check_login(login.strip(), f"--tokens-file line {number}")
        except AuthenticationError as e:
            raise ParameterError(str(e)) from None
    return logins


def _network(address: str) -> Network:
    try:
        return ipaddress.ip_network(address.strip(), strict=False)
    except ValueError:
        raise ParameterError(
            f"--trusted-proxy must be an IP address or network such as 10.0.0.5 or "
            f"10.0.0.0/24, got {excerpt(address)}"
        ) from None
