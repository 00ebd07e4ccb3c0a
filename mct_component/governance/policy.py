"""The review policy: who may approve, how many approvers, whether changes must be signed.

A YAML file (`--policy FILE`, or `MCT_REVIEW_POLICY`):

    approvers:                 # who may approve: a public key, a certificate identity,
      - {name: bob, public_key: keys/bob.pub.pem}          # or a login (the console)
      - {name: risk-office, certificate_identity: risk@example.com, pipelines: ["credit-*"]}
      - {name: carol, identity: carol@example.com}
    signers:                   # others whose signed changes are vouched for (authors)
      - {name: ann, public_key: keys/ann.pub.pem, identity: ann@example.com}
    consoles:                  # review consoles (`mct-card serve`) whose key signs on
      - {name: review-console, public_key: keys/console.pub.pem}  # behalf of a login
    trust_roots: [ca.pem]      # root certificates that certificate identities chain to
    min_approvers: {high: 2}   # distinct approvers by risk rating (default 1)
    require_signatures: true   # unsigned changes are refused
    require_login: false       # the console answers 401 to requests without an identity
    allow_delete_archived: false
    push_requires_approved_content: false  # the push gate (see below)

Paths are relative to the policy file. An approver may be limited to `pipelines` (glob
patterns) and `risk_ratings`. A person acts with their own key or certificate (the
CLI), or through a console: `identity` is the login the organisation's proxy or a
bearer token gives the console, which signs the change with its own key and records
that login inside the signed card. One entry may give a key and a login for the same
person. Under any policy an approval is signed by an approver it names, and nobody who
made or submitted the content under review may approve it (four eyes, by name).

The generator's push gate takes the policy too (its `review_policy` parameter): a card
the policy requires to be signed must be signed by a signer it names, content is
inherited only from an approval that verifies, and with `push_requires_approved_content`
a model is pushed only when its card's human-written content comes from such an approval.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from collections.abc import Mapping
from typing import Any

from mct_component import files
from mct_component.errors import ParameterError
from mct_component.text import excerpt

POLICY_ENV = "MCT_REVIEW_POLICY"
MAX_POLICY_BYTES = 256 * 1024
_KEYS = {
    "approvers",
    "signers",
    "trust_roots",
    "min_approvers",
    "require_signatures",
    "allow_delete_archived",
    "push_requires_approved_content",
    "consoles",
    "require_login",
}
_PERSON_KEYS = {
    "name",
    "public_key",
    "certificate_identity",
    "identity",
    "pipelines",
    "risk_ratings",
}
_CONSOLE_KEYS = {"name", "public_key", "certificate_identity"}


@dataclasses.dataclass(frozen=True)
class Person:
    """Someone the policy names: a display name and one identity (key or certificate)."""

    name: str
    identity: str  # `key:<hex>` or a certificate's e-mail / subject ("" login only)
    public_key_pem: bytes = b""
    login: str = ""  # the identity a console's proxy or token gives ("" none)
    pipelines: tuple[str, ...] = ()  # glob patterns; empty: every pipeline
    risk_ratings: tuple[str, ...] = ()  # empty: every rating

    def covers(self, pipeline: str, rating: str) -> bool:
        """Whether this person may act on a card of `pipeline` with risk `rating`."""
        in_pipeline = not self.pipelines or any(
            fnmatch.fnmatchcase(pipeline, p) for p in self.pipelines
        )
        return in_pipeline and (not self.risk_ratings or rating in self.risk_ratings)


@dataclasses.dataclass(frozen=True)
class Policy:
    """A loaded, checked review policy."""

    path: str
    approvers: tuple[Person, ...] = ()
    signers: tuple[Person, ...] = ()
    trust_roots: tuple[str, ...] = ()
    min_approvers: Mapping[str, int] = dataclasses.field(default_factory=dict)
    require_signatures: bool = False
    allow_delete_archived: bool = False
    push_requires_approved_content: bool = False
    consoles: tuple[Person, ...] = ()
    require_login: bool = False

    def needed(self, rating: str) -> int:
        """How many distinct approvers a card of risk `rating` needs."""
        return max(1, int(self.min_approvers.get(rating, 1)))

    def approver(self, signer: str, pipeline: str, rating: str, login: str = "") -> Person | None:
        """The approver allowed for the pipeline and rating who acted: by `signer`'s key
        or certificate, or, when `signer` is a console, as `login`."""
        person = self.person(signer, login, self.approvers)
        return person if person is not None and person.covers(pipeline, rating) else None

    def person(
        self, signer: str, login: str = "", among: tuple[Person, ...] | None = None
    ) -> Person | None:
        """The approver or signer (or one of `among`) who acted by `signer`, or as
        `login` through a console."""
        people = (*self.approvers, *self.signers) if among is None else among
        if self.is_console(signer):
            wanted = login.casefold()  # e-mail addresses and user names, as people type them
            return next((p for p in people if login and p.login.casefold() == wanted), None)
        return next((p for p in people if signer and p.identity == signer), None)

    def name_of(self, signer: str, login: str = "") -> str | None:
        """The name the policy gives whoever acted by `signer` (as `login` through a
        console), or the console's own name for a console signing without a login."""
        person = self.person(signer, login)
        if person is not None:
            return person.name
        console = self.console(signer)
        return console.name if console is not None and not login else None

    def console(self, signer: str) -> Person | None:
        """The console the policy names with this signer identity, if any."""
        return next((c for c in self.consoles if signer and c.identity == signer), None)

    def is_console(self, signer: str) -> bool:
        """Whether `signer` is a console's key or certificate."""
        return self.console(signer) is not None

    def vouches_for(self, signer: str) -> bool:
        """Whether the policy names this signer: a person's key or certificate, or a
        console's."""
        return self.is_console(signer) or self.person(signer) is not None

    def public_keys(self) -> list[bytes]:
        """Every public key the policy vouches for (PEM)."""
        everyone = (*self.approvers, *self.signers, *self.consoles)
        return [p.public_key_pem for p in everyone if p.public_key_pem]


def load(path: str | None) -> Policy | None:
    """The policy at `path`, or at `$MCT_REVIEW_POLICY`, or None when neither is set.

    Raises:
        ParameterError: one line naming the file, the field and what was expected.
    """
    import yaml

    path = path or os.environ.get(POLICY_ENV) or None
    if path is None:
        return None
    where = f"policy {path!r}"
    raw = files.read_setting(path, MAX_POLICY_BYTES, "policy", ParameterError)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as e:
        first = " ".join(str(e).split())[:160]
        raise ParameterError(f"{where} is not YAML: {first}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{where} must be a mapping with `approvers`, got {excerpt(data)}")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise ParameterError(
            f"{where}: unknown field {unknown[0]!r}; expected one of {', '.join(sorted(_KEYS))}"
        )
    base = os.path.dirname(os.path.abspath(path))
    approvers = _people(data.get("approvers"), "approvers", base, where)
    if not approvers:
        raise ParameterError(f"{where}: `approvers` must name at least one approver")
    signers = _people(data.get("signers"), "signers", base, where)
    consoles = _people(data.get("consoles"), "consoles", base, where, _CONSOLE_KEYS)
    roots = _strings(data.get("trust_roots"), "trust_roots", where)
    roots = tuple(_existing(os.path.join(base, r), f"{where}: trust_roots") for r in roots)
    everyone = (*approvers, *signers, *consoles)
    if any(p.identity and not p.public_key_pem for p in everyone) and not roots:
        raise ParameterError(
            f"{where}: a certificate_identity needs `trust_roots` (the root certificates "
            "its certificate chains to)"
        )
    return Policy(
        path=path,
        approvers=approvers,
        signers=signers,
        trust_roots=roots,
        min_approvers=_counts(data.get("min_approvers"), where),
        require_signatures=_flag(data, "require_signatures", where),
        allow_delete_archived=_flag(data, "allow_delete_archived", where),
        push_requires_approved_content=_flag(data, "push_requires_approved_content", where),
        consoles=consoles,
        require_login=_flag(data, "require_login", where),
    )


def load_source(source: str) -> Policy | None:
    """The policy a component parameter names: a file's path, or `env:NAME`, an
    environment variable holding the path (e.g. a mounted Kubernetes config map); none
    for "".

    Raises:
        ParameterError: the variable is not set, or the policy is missing or wrong.
    """
    from mct_component.governance import signing

    if not source:
        return None
    if source.startswith(signing.ENV_PREFIX):
        name = source[len(signing.ENV_PREFIX) :]
        path = os.environ.get(name)
        if not path:
            raise ParameterError(
                f"review_policy {source!r}: the environment variable {name} is not set"
            )
        return load(path)
    return load(source)


def _people(
    value: Any, field: str, base: str, where: str, allowed: set[str] = _PERSON_KEYS
) -> tuple[Person, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ParameterError(f"{where}: `{field}` must be a list, got {excerpt(value)}")
    people = []
    for i, item in enumerate(value):
        at = f"{where}: {field}[{i}]"
        if not isinstance(item, dict):
            raise ParameterError(
                f"{at} must be a mapping with name and public_key, got {excerpt(item)}"
            )
        unknown = sorted(str(k) for k in item if k not in allowed)
        if unknown:
            raise ParameterError(
                f"{at}: unknown field {unknown[0]!r}; expected {', '.join(sorted(allowed))}"
            )
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ParameterError(f"{at}.name must be a name (text), got {excerpt(name)}")
        key, subject, login = (
            item.get("public_key"),
            item.get("certificate_identity"),
            item.get("identity"),
        )
        ways = sorted(k for k in ("public_key", "certificate_identity", "identity") if k in allowed)
        if key is not None and subject is not None:
            raise ParameterError(f"{at} must give public_key or certificate_identity, not both")
        if key is None and subject is None and login is None:
            raise ParameterError(f"{at} must give one of {', '.join(ways)}")
        pem, identity = b"", ""
        if key is not None:
            pem, identity = _public_key(key, base, f"{at}.public_key")
        elif subject is not None:
            identity = _text(subject, f"{at}.certificate_identity")
        people.append(
            Person(
                name=name,
                identity=identity,
                public_key_pem=pem,
                login=_text(login, f"{at}.identity") if login is not None else "",
                pipelines=_strings(item.get("pipelines"), f"{field}[{i}].pipelines", where),
                risk_ratings=_strings(
                    item.get("risk_ratings"), f"{field}[{i}].risk_ratings", where
                ),
            )
        )
    return tuple(people)


def _text(value: Any, at: str) -> str:
    from mct_component import terminal

    if not isinstance(value, str) or not value.strip() or len(value) > 320:
        raise ParameterError(f"{at} must be text of at most 320 characters, got {excerpt(value)}")
    if terminal.visible(value) != value:
        raise ParameterError(f"{at} must not hold control or invisible characters")
    return value


def _public_key(value: Any, base: str, at: str) -> tuple[bytes, str]:
    from mct_component.governance import signing

    if not isinstance(value, str):
        raise ParameterError(f"{at} must be a file path, got {excerpt(value)}")
    path = _existing(os.path.join(base, value), at)
    pem = files.read_setting(path, signing.MAX_PEM_BYTES, at, ParameterError)
    try:
        return pem, signing.key_identity(pem)
    except (ValueError, TypeError):
        raise ParameterError(f"{at} {value!r} is not a PEM public key") from None


def _existing(path: str, at: str) -> str:
    if not os.path.isfile(path):
        raise ParameterError(f"{at}: {path!r} is not a readable file")
    return path


def _strings(value: Any, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ParameterError(f"{where}: `{field}` must be a list of text, got {excerpt(value)}")
    return tuple(value)


def _counts(value: Any, where: str) -> dict[str, int]:
    from mct_component.card import RISK_RATINGS

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParameterError(f"{where}: `min_approvers` must map risk ratings to counts")
    counts = {}
    for rating, count in value.items():
        if rating not in RISK_RATINGS:
            raise ParameterError(
                f"{where}: min_approvers: {excerpt(rating)} is not a risk rating; expected one "
                f"of {', '.join(RISK_RATINGS)}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20:
            raise ParameterError(
                f"{where}: min_approvers.{rating} must be a whole number from 1 to 20, "
                f"got {excerpt(count)}"
            )
        counts[str(rating)] = count
    return counts


def _flag(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ParameterError(f"{where}: `{key}` must be true or false, got {excerpt(value)}")
    return value
