"""What a console serves and how: the store, the review policy, its key, who signs in."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from mct_component.errors import ParameterError
from mct_component.governance import events, signing
from mct_component.governance.policy import Policy
from mct_component.serve.identity import Authenticator

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclasses.dataclass(frozen=True)
class ConsoleSettings:
    """A console's settings, checked (`configure`).

    Attributes:
        store: an MLMD SQLite file's path or a `ConnectionConfig` (SQLite or MySQL).
        policy: the review policy every change answers to.
        key: the console's signing key (a `consoles` entry of the policy); None: the
            console is read-only.
        authenticator: how people sign in (a proxy's header, bearer tokens).
        output_roots: folders card versions were written to with `--output-root`: card
            pages are shown from them and from each model's pipeline root only.
        completeness_gate: the minimum completeness for cards whose generator set none.
        sinks: where each change's CloudEvents go.
        check_seconds: how often a request probes the store for changes.
        rebuild_seconds: the longest the console shows a view without reading it again.
        request_timeout: seconds after which a request that waits on the store is
            answered 503.
        per_page: models per index page.
    """

    store: Any
    policy: Policy
    key: signing.SigningKey | None = None
    authenticator: Authenticator = dataclasses.field(default_factory=Authenticator)
    output_roots: tuple[str, ...] = ()
    completeness_gate: float | None = None
    sinks: events.Sinks | None = None
    check_seconds: float = 2.0
    rebuild_seconds: float = 60.0
    request_timeout: float = 15.0
    per_page: int = 50

    @classmethod
    def configure(
        cls,
        store: Any,
        *,
        policy: str | None = None,
        signing_key: str | None = None,
        signing_certificate: str | None = None,
        certificate_chain: Sequence[str] = (),
        user_header: str | None = None,
        trusted_proxies: Sequence[str] = (),
        tokens_file: str | None = None,
        output_roots: Sequence[str] = (),
        completeness_gate: float | None = None,
        sinks: events.Sinks | None = None,
        request_timeout: float = 15.0,
    ) -> ConsoleSettings:
        """Loads and checks the console's files and options.

        Raises:
            ParameterError: one line naming the option and what was expected: no
                policy (`policy` or `$MCT_REVIEW_POLICY`), a key the policy does not
                name as a console, a bad header, proxy or tokens file.
        """
        from mct_component.governance import policy as policies

        rules = policies.load(policy)
        if rules is None:
            raise ParameterError(
                "the console needs a review policy: give --policy FILE or set MCT_REVIEW_POLICY"
            )
        key = signing.optional_key(signing_key, signing_certificate, certificate_chain)
        if key is not None and not rules.is_console(key.identity):
            raise ParameterError(
                f"policy {rules.path!r} names no console with the key "
                f"{signing.short_identity(key.identity)}: add it under `consoles`"
            )
        if not 0 < request_timeout <= 600:
            raise ParameterError(
                f"--request-timeout must be from 0 to 600 seconds, got {request_timeout!r}"
            )
        return cls(
            store=store,
            policy=rules,
            key=key,
            authenticator=Authenticator.configure(user_header, trusted_proxies, tokens_file),
            output_roots=tuple(os.path.abspath(r) if "://" not in r else r for r in output_roots),
            completeness_gate=completeness_gate,
            sinks=sinks,
            request_timeout=request_timeout,
        )
