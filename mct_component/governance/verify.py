"""Checks a card's whole history without trusting the store: `mct-card verify`.

Every version is read from its folder and held against three things: its own signed
record (`governance.change`, inside `model_card.json`, covered by `card.sig`), the hash
chain (each version names its parent and the SHA-256 of the parent's `model_card.json`)
and what MLMD says (the artifact's and the change execution's properties). A review
policy adds who may sign and approve, four eyes, and how many approvers. Each break
names the version and what broke; a version that holds but is not vouched for by a
policy (unsigned, or a key the policy does not name) is *unverified*, not broken.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from mct_component import constants, files
from mct_component.card import MAX_CARD_BYTES, Card
from mct_component.errors import CardValidationError, ModelCardError, ParameterError, SignatureError
from mct_component.governance import lifecycle, registry, signing
from mct_component.governance.policy import Policy


@dataclasses.dataclass(frozen=True)
class VersionCheck:
    """One version as verification found it."""

    version: int
    status: str
    change: str
    by: str
    signer: str = ""  # the identity whose signature holds ("" unsigned or broken)
    vouched: bool = False  # the policy names that signer
    broken: bool = False

    @property
    def verified(self) -> bool:
        """Signed, the signature holds, and a policy vouches for the signer."""
        return bool(self.signer) and self.vouched and not self.broken


@dataclasses.dataclass(frozen=True)
class Verification:
    """A model's whole history, checked: each version, and every break found."""

    model_id: int
    versions: tuple[VersionCheck, ...]
    problems: tuple[tuple[int, str], ...]  # (version, what broke)
    policy: str | None = None

    @property
    def holds(self) -> bool:
        """No break anywhere in the history."""
        return not self.problems

    @property
    def verified_approval(self) -> bool:
        """The newest version is an approval that verifies (signed, vouched, unbroken,
        and the whole history holds), or a push record on one (see `approval_of`)."""
        return self.holds and bool(self.versions) and self.approval_of(len(self.versions)) > 0

    def approval_of(self, version: int) -> int:
        """The approval `version` stands on: itself if it is an approval that verifies;
        through push records (which only say where the model went: their approval is
        their parent's), the approval they carry; 0 if none."""
        index = version - 1
        while 0 <= index < len(self.versions):
            check = self.versions[index]
            if check.broken or check.status != lifecycle.APPROVED:
                return 0
            if check.change != lifecycle.PUSHED:
                return check.version if check.verified else 0
            index -= 1
        return 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (`mct-card verify --json`)."""
        return {
            "model_id": self.model_id,
            "policy": self.policy,
            "holds": self.holds,
            "verified_approval": self.verified_approval,
            "approved_version": self.approval_of(len(self.versions)) if self.holds else 0,
            "versions": [{**dataclasses.asdict(v), "verified": v.verified} for v in self.versions],
            "problems": [{"version": n, "problem": what} for n, what in self.problems],
        }


def verify_history(store: Any, model_id: int, policy: Policy | None = None) -> Verification:
    """Walks every version of the model's card (deleted ones too) and names each break.

    Raises:
        LineageError: the model has no card.
    """
    versions = registry.history(store, model_id, include_deleted=True)
    return verify_versions(model_id, versions, policy)


def verify_versions(
    model_id: int, versions: Sequence[registry.CardVersion], policy: Policy | None = None
) -> Verification:
    """`verify_history` over versions already read from MLMD (oldest first, deleted too)."""
    problems: list[tuple[int, str]] = []
    checks: list[VersionCheck] = []
    parent_sha: str | None = None
    parent_card: Card | None = None
    for index, version in enumerate(versions):
        found: list[str] = []
        number = version.version
        raw = _card_bytes(version.uri, found)
        sha = lifecycle.fingerprint(raw) if raw is not None else None
        if sha and version.sha256 and version.sha256 != sha:
            found.append(
                f"model_card.json changed since it was recorded (MLMD has SHA-256 "
                f"{version.sha256[:12]}…, the file {sha[:12]}…)"
            )
        card = _card(raw, found)
        record = card.governance.change if card and card.governance else None
        if card is not None:
            _check_chain(index, versions, card, parent_sha, found)
            _check_record(index, versions, card, found)
            if record is not None and record.kind == lifecycle.PUSHED:
                _check_push_record(card, parent_card, found)
        signer, vouched = _check_signature(version, record, policy, found)
        if card is not None and policy is not None:
            _check_policy(index, versions, card, signer, policy, found)
        problems += [(number, what) for what in found]
        checks.append(
            VersionCheck(
                number,
                version.status,
                version.change,
                version.by,
                signer,
                vouched,
                broken=bool(found),
            )
        )
        parent_sha, parent_card = sha, card
    return Verification(model_id, tuple(checks), tuple(problems), policy.path if policy else None)


def approval_problem(store: Any, model_id: int, version: int, policy: Policy | None) -> str:
    """Why version `version` of the model's card is not a verified approval under
    `policy` ("" if it is): the whole history must hold and the version be an approval
    signed by an approver the policy names. Without a policy no approval verifies.
    """
    where = f"model {model_id}'s approved version {version}"
    if policy is None:
        return f"{where} cannot be verified without a review policy"
    try:
        result = verify_history(store, model_id, policy)
    except ModelCardError as e:
        return f"{where} could not be verified: {e}"
    if not result.holds:
        number, problem = result.problems[0]
        return f"{where} does not verify: version {number}: {problem}"
    if not 1 <= version <= len(result.versions):
        return f"{where} is not in its history"
    if not result.approval_of(version):
        return f"{where} is not an approval signed by someone the review policy names"
    return ""


def _card_bytes(uri: str, found: list[str]) -> bytes | None:
    path = os.path.join(uri, constants.CARD_JSON_FILE)
    try:
        if "://" not in path and (os.path.islink(path) or not os.path.isfile(path)):
            found.append(f"model_card.json is missing from its folder {uri!r}")
            return None
        return files.read_bytes(path, MAX_CARD_BYTES)
    except (ModelCardError, OSError) as e:
        found.append(f"model_card.json cannot be read: {_line(e)}")
        return None


def _card(raw: bytes | None, found: list[str]) -> Card | None:
    if raw is None:
        return None
    try:
        return Card.from_json(raw)
    except CardValidationError as e:
        found.append(f"model_card.json is not a valid card: {_line(e)}")
        return None


def _check_chain(
    index: int,
    versions: Sequence[registry.CardVersion],
    card: Card,
    parent_sha: str | None,
    found: list[str],
) -> None:
    """The version's place in the hash chain: its number, its parent and the parent's
    digest, as its signed record states them."""
    number, governance = versions[index].version, card.governance
    if index == 0:
        if governance is not None and governance.version != 1:
            found.append(
                f"MLMD's first version is version {governance.version} of the signed "
                "record: earlier versions are missing"
            )
        return
    if governance is None:
        found.append("it has no governance record: no change made it")
        return
    if governance.version != number:
        found.append(
            f"MLMD's version {number} is version {governance.version} of the signed "
            "record: a version is missing or out of order"
        )
    if not governance.parent_sha256:
        found.append("it names no parent digest: made before tamper-evident history")
    elif governance.parent_version != number - 1:
        found.append(
            f"its signed record names version {governance.parent_version} as its parent, "
            f"not version {number - 1}"
        )
    elif parent_sha is not None and governance.parent_sha256 != parent_sha:
        found.append(
            f"version {number - 1}'s model_card.json is not the one it was made from "
            f"(SHA-256 {parent_sha[:12]}… now, {governance.parent_sha256[:12]}… then)"
        )


def _check_record(
    index: int, versions: Sequence[registry.CardVersion], card: Card, found: list[str]
) -> None:
    """What MLMD says about the version against its signed record and the lifecycle."""
    version = versions[index]
    if card.status != version.status:
        found.append(f"MLMD says status {version.status!r}, the card says {card.status!r}")
    record = card.governance.change if card.governance else None
    if record is None:  # the generator's version 1 carries none
        return
    said = {
        "change": (version.change, record.kind),
        "by": (version.by, record.by),
        "at": (version.at, record.at),
        "note": (version.note, record.note),
        "status": (version.status, record.to_status),
        "previous status": (versions[index - 1].status if index else "", record.from_status),
        "signer": (version.signer, record.signer),
        "login": (version.identity, record.identity),
    }
    for name, (in_mlmd, signed) in said.items():
        if in_mlmd != signed:
            found.append(f"MLMD says {name} {in_mlmd!r}, the signed record says {signed!r}")
    reason = _lifecycle_break(record)
    if reason:
        found.append(reason)


# What a push record may change: where the model went, the missing-PushedModel note
# (dropped), the completeness that follows, and its own governance record.
_PUSH_MAY_CHANGE = frozenset({"deployment", "missing", "completeness", "governance"})


def _check_push_record(card: Card, parent: Card | None, found: list[str]) -> None:
    """A push record changes nothing but where the model went: its content, status and
    approvals are its parent's (so an approval carries over to it)."""
    if parent is None:
        found.append("a push record without a parent version to compare with")
        return
    now, before = card.to_dict(), parent.to_dict()
    changed = sorted(k for k in now.keys() | before.keys() if now.get(k) != before.get(k))
    changed = [k for k in changed if k not in _PUSH_MAY_CHANGE]
    if not set(card.missing) <= set(parent.missing):
        changed.append("missing")
    approvals = [
        (g.approval, g.approvals) if g else (None, ()) for g in (card.governance, parent.governance)
    ]
    if approvals[0] != approvals[1]:
        changed.append("governance.approvals")
    if changed:
        found.append(f"a push record changed more than where the model went: {', '.join(changed)}")


def _lifecycle_break(record: Any) -> str:
    """Why a signed change is one the lifecycle cannot make ("" if it can)."""
    kind, before, after = record.kind, record.from_status, record.to_status
    if kind in (lifecycle.EDITED, lifecycle.CLONED) and after != lifecycle.DRAFT:
        return f"a {kind} change cannot make a {after} version"
    if kind == lifecycle.APPROVAL_RECORDED and (before, after) != (
        lifecycle.PENDING_REVIEW,
        lifecycle.PENDING_REVIEW,
    ):
        return f"an approval cannot be recorded on a {before} version"
    if kind == lifecycle.DELETED and before != after:
        return "a deletion cannot change the status"
    if kind == lifecycle.PUSHED and before != after:
        return "a push record cannot change the status"
    if kind == lifecycle.STATUS_CHANGED:
        try:
            lifecycle.check_transition(before, after, record.note)
        except ParameterError as e:
            return f"the lifecycle forbids it: {e}"
    return ""


def _check_signature(
    version: registry.CardVersion,
    record: Any,
    policy: Policy | None,
    found: list[str],
) -> tuple[str, bool]:
    """The identity whose signature holds ("" if none) and whether the policy names it."""
    path = os.path.join(version.uri, signing.SIGNATURE_FILE)
    claimed = record.signer if record is not None else version.signer
    if not os.path.lexists(path):
        if claimed:
            found.append(
                f"it was signed by {signing.short_identity(claimed)}, but card.sig is missing"
            )
        return "", False
    if version.signature_sha256 and signing.bundle_digest(version.uri) != version.signature_sha256:
        found.append("card.sig is not the bundle recorded for this change (swapped)")
    keys = list(policy.public_keys()) if policy else []
    if record is not None and record.signer_key:
        keys.append(record.signer_key.encode("ascii", "replace"))
    roots = policy.trust_roots if policy else ()
    try:
        verified = signing.verify(version.uri, keys, roots)
    except SignatureError as e:
        found.append(f"its signature does not hold: {e}")
        return "", False
    if claimed and verified.identity != claimed:
        found.append(
            f"signed by {signing.short_identity(verified.identity)}, but its record says "
            f"{signing.short_identity(claimed)}"
        )
        return "", False
    vouched = policy is not None and policy.vouches_for(verified.identity)
    return verified.identity, vouched


def _check_policy(
    index: int,
    versions: Sequence[registry.CardVersion],
    card: Card,
    signer: str,
    policy: Policy,
    found: list[str],
) -> None:
    """Signatures required, approvals by named approvers, four eyes, enough approvers."""
    version = versions[index]
    if policy.require_signatures and not signer and index > 0:
        found.append("unsigned, but the policy requires signed changes")
    approving = version.change == lifecycle.APPROVAL_RECORDED or (
        version.change == lifecycle.STATUS_CHANGED and version.status == lifecycle.APPROVED
    )
    if not approving:
        return
    pipeline = card.model_details.pipeline_name
    rating = card.considerations.risk.rating
    if not signer:
        found.append("an approval without a signature that holds")
        return
    record = card.governance.change if card.governance else None
    login = record.identity if record is not None else ""
    if policy.is_console(signer) and not login:
        found.append(
            f"approved with the key of console {policy.name_of(signer)!r} for nobody signed in"
        )
        return
    approver = policy.approver(signer, pipeline, rating, login)
    if approver is None:
        who = login or signing.short_identity(signer)
        found.append(
            f"approved by {who}, whom the policy does not name "
            f"as an approver of pipeline {pipeline or '(none)'!r} with risk {rating!r}"
        )
        return
    names = registry.acting_names(approver, signer, login)
    author = registry.authored_by(versions[:index], names)
    if author is not None:
        found.append(
            f"approved by {approver.name}, who made or submitted the content under review "
            f"(version {author.version}): four eyes"
        )
    if version.status == lifecycle.APPROVED:
        governance = card.governance
        approvals = governance.approvals if governance else ()
        distinct = registry.distinct_approvers(approvals, policy)
        if len(distinct) < policy.needed(rating):
            found.append(
                f"approved by {len(distinct)} distinct approver(s); risk {rating!r} needs "
                f"{policy.needed(rating)}"
            )


def _line(error: BaseException) -> str:
    return " ".join(str(error).split())[:200]


def summary_line(result: Verification) -> str:
    """One line for people: whether the history holds and the newest version's state."""
    newest = result.versions[-1] if result.versions else None
    if not result.holds:
        return f"model {result.model_id}: history altered ({len(result.problems)} problem(s))"
    if newest is not None and result.verified_approval:
        approved = result.approval_of(newest.version)
        pushed = (
            f"; push recorded in version {newest.version}" if approved != newest.version else ""
        )
        return f"model {result.model_id}: verified approved (version {approved}{pushed})"
    state = "verified" if newest is not None and newest.verified else "unverified"
    status = newest.status if newest is not None else "none"
    return f"model {result.model_id}: history holds; newest version {status}, {state}"
