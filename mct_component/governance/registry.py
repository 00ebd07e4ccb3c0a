"""Cards as governed records in ML Metadata: every version an artifact, every change an execution.

A model's card versions are its `mct_component.ModelCard` artifacts, oldest first:
those the `ModelCardGenerator` wrote for it, and those made here by a change (a content
edit, a status change). A change is one MLMD execution of type `mct_component.CardChange`
that reads the version it starts from and writes the new one, recording who, when, what
kind of change, a note and the statuses; the new version's files go to a new folder, so
no version's files are ever overwritten.

Two reviewers acting on the same version at once: each new version is named after the
version it changes (`model-<id>-after-<artifact id>`), and MLMD keeps artifact names
unique per type within one transaction, so exactly one change wins; the other gets a
`ConflictError` and its files are removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mct_component import constants, files, terminal
from mct_component import content as content_module
from mct_component.assembly import generate
from mct_component.card import (
    Approval,
    Card,
    Deployment,
    Governance,
    Inheritance,
    StatusChange,
    VersionChange,
    completeness,
)
from mct_component.errors import (
    ConflictError,
    IntegrityError,
    LineageError,
    ModelCardError,
    OutputError,
    ParameterError,
    PolicyError,
)
from mct_component.governance import events, lifecycle, signing
from mct_component.governance.policy import Person, Policy
from mct_component.mlmd import summary
from mct_component.readers.refs import properties_of
from mct_component.text import excerpt, iso_time, now_iso, shorten

logger = logging.getLogger(__name__)

CARD_TYPE = "mct_component.ModelCard"
CHANGE_TYPE = "mct_component.CardChange"
# On a change's execution when it was signed (custom properties: older stores lack them).
_SIGNATURE_PROPERTIES = (constants.SIGNER_PROPERTY, constants.SIGNATURE_SHA256_PROPERTY)
# Recorded on a change's execution when one of its events could not be delivered.
EVENT_FAILURES = "event_delivery_failures"
# Bounds on who and why, as human content is bounded. Each version's card carries the
# whole history, so earlier notes travel as excerpts: a version's size grows with the
# number of versions, not with the sum of every note written so far.
MAX_NOTE_CHARACTERS = 10_000
MAX_BY_CHARACTERS = 200
HISTORY_NOTE_CHARACTERS = 200


@dataclasses.dataclass(frozen=True)
class CardVersion:
    """One version of a model's card, as MLMD records it."""

    model_id: int
    version: int
    artifact_id: int
    uri: str
    status: str
    change: str
    by: str
    at: str
    note: str = ""
    deleted: bool = False
    signer: str = ""  # the identity the change's execution records ("" unsigned)
    sha256: str = ""  # of model_card.json, as the artifact records it
    signature_sha256: str = ""  # of card.sig, as the change's execution records it
    identity: str = ""  # the login a review console signed the change for ("" none)

    def as_dict(self) -> dict[str, Any]:
        """The version as JSON-ready data (for `mct-card history --json`)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Deletion:
    """What `delete` did: the versions marked deleted, the folders purged, those kept (why)."""

    versions: tuple[CardVersion, ...]
    purged: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()


def default_user() -> str:
    """Who makes a change when nobody says: the operating system's user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def history(store: Any, model_id: int, include_deleted: bool = False) -> list[CardVersion]:
    """Every version of the model's card, oldest first (version 1 first).

    A deleted card (`delete`) has no versions unless `include_deleted`.

    Raises:
        LineageError: the store has no such model, or no card for it.
    """
    models = store.get_artifacts_by_id([model_id])
    if not models or models[0].type != "Model":
        raise LineageError(f"MLMD has no Model artifact with id {model_id}")
    cards = {a.id: a for a in _generated_cards(store, model_id)}
    cards.update((a.id, a) for a in _changed_cards(store, model_id))
    if not cards:
        raise LineageError(
            f"model {model_id} has no card in MLMD yet: run the ModelCardGenerator on it"
        )
    ordered = sorted(cards.values(), key=lambda a: a.id)
    if not include_deleted and all(a.state == a.MARKED_FOR_DELETION for a in ordered):
        raise LineageError(f"model {model_id}'s card was deleted")
    producers = _producers(store, [a.id for a in ordered])
    versions = []
    for number, artifact in enumerate(ordered, start=1):
        execution = producers.get(artifact.id)
        versions.append(
            card_version(
                model_id,
                number,
                VersionRecord(
                    artifact.id,
                    artifact.uri,
                    artifact.state == artifact.MARKED_FOR_DELETION,
                    properties_of(artifact),
                    execution.type if execution is not None else "",
                    properties_of(execution) if execution is not None else {},
                    execution.create_time_since_epoch if execution is not None else 0,
                ),
            )
        )
    return versions


@dataclasses.dataclass(frozen=True)
class VersionRecord:
    """What MLMD holds about one card version: its artifact and the execution that made it
    (read through the MLMD API, or from the dashboard's snapshot)."""

    artifact_id: int
    uri: str
    deleted: bool
    properties: Mapping[str, Any]
    made_by_type: str  # the producing execution's type ("" if none)
    made: Mapping[str, Any]  # its properties
    made_ms: int


def card_version(model_id: int, number: int, record: VersionRecord) -> CardVersion:
    """The `number`th version of the model's card, from what MLMD says of it."""
    properties, made = record.properties, record.made
    generated = record.made_by_type != CHANGE_TYPE
    # The generator records its signature on the card artifact (it cannot write its own
    # execution); a change records it on its execution.
    signed = properties if generated else made
    return CardVersion(
        model_id=model_id,
        version=number,
        artifact_id=record.artifact_id,
        uri=record.uri,
        status=str(properties.get(constants.STATUS_PROPERTY) or lifecycle.DRAFT),
        change=lifecycle.GENERATED if generated else str(made.get("change", "")),
        by="ModelCardGenerator" if generated else str(made.get("by", "")),
        at=str(made.get("at") or iso_time(record.made_ms)),
        note=str(made.get("note", "")),
        deleted=record.deleted,
        signer=str(signed.get(constants.SIGNER_PROPERTY, "")),
        sha256=str(properties.get(constants.SHA256_PROPERTY, "")),
        signature_sha256=str(signed.get(constants.SIGNATURE_SHA256_PROPERTY, "")),
        identity="" if generated else str(made.get(constants.IDENTITY_PROPERTY, "")),
    )


def newest_approved(store: Any, pipeline_name: str) -> Inheritance | None:
    """The newest approved (and not deleted) card of a pipeline, if any."""
    from mct_component.mlmd import lineage

    approved = (
        f"custom_properties.{constants.STATUS_PROPERTY}.string_value = '{lifecycle.APPROVED}'"
    )
    found = lineage.newest_in_pipeline(
        store, CARD_TYPE, pipeline_name, f"state = LIVE AND {approved}"
    )
    if not found:
        return None
    properties = properties_of(found[0])
    model_id = properties.get(constants.MODEL_ID_PROPERTY)
    if not isinstance(model_id, int):
        return None
    versions = history(store, model_id)
    (version,) = [v for v in versions if v.artifact_id == found[0].id]
    return Inheritance(model_id, version.version, version.artifact_id, version.uri)


def load_version(store: Any, model_id: int, version: int | None = None) -> tuple[CardVersion, Card]:
    """A version of the model's card (the newest by default) and the card itself.

    Raises:
        LineageError: no card, or no such version.
    """
    versions = history(store, model_id)
    if version is None:
        chosen = versions[-1]
    elif 1 <= version <= len(versions):
        chosen = versions[version - 1]
    else:
        raise LineageError(
            f"model {model_id}'s card has versions 1 to {len(versions)}, not {version}"
        )
    return chosen, Card.load(chosen.uri)


def _newest_for_change(store: Any, model_id: int) -> tuple[CardVersion, Card]:
    """The newest version a change starts from, read from exactly the bytes MLMD
    recorded: a change never builds on, or approves, a file someone altered.

    Raises:
        LineageError: no card.
        IntegrityError: its model_card.json changed or is not a regular file.
    """
    newest = history(store, model_id)[-1]
    return newest, recorded_card(newest)


def recorded_card(version: CardVersion) -> Card:
    """A version's card, from exactly the `model_card.json` MLMD recorded (its SHA-256).

    Raises:
        IntegrityError: the file changed since it was recorded, or is not a regular file.
        CardValidationError: it is not a valid card.
    """
    return Card.from_json(_recorded_bytes(version))


def _recorded_bytes(version: CardVersion) -> bytes:
    from mct_component.card import MAX_CARD_BYTES
    from mct_component.errors import SourceError

    path = os.path.join(version.uri, constants.CARD_JSON_FILE)
    try:
        data = files.read_bytes(path, MAX_CARD_BYTES)
    except (SourceError, OSError) as e:
        raise IntegrityError(
            f"version {version.version} of model {version.model_id}'s model_card.json "
            f"cannot be read: {excerpt(str(e), limit=300)}"
        ) from None
    found = lifecycle.fingerprint(data)
    if version.sha256 and found != version.sha256:
        raise IntegrityError(
            f"version {version.version} of model {version.model_id}'s model_card.json "
            f"changed since it was recorded (MLMD has SHA-256 {version.sha256[:12]}…, the "
            f"file {found[:12]}…): see `mct-card verify`"
        )
    return data


def set_status(
    store: Any,
    model_id: int,
    status: str,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    sinks: events.Sinks | None = None,
    key: signing.SigningKey | None = None,
    policy: Policy | None = None,
    *,
    identity: str = "",
) -> CardVersion:
    """Moves the newest version of the model's card to `status`, as a new version.

    An approval records the reviewer, the time and the SHA-256 of the exact
    `model_card.json` approved. Under a `policy` it must be signed by an approver the
    policy names for the card's pipeline and risk rating, who neither made nor submitted
    the content; while fewer distinct approvers than the rating needs have approved,
    the new version records the approval and stays `pending_review`. `identity` is the
    login a review console (signing with its own `key`) acts for.

    Raises:
        ParameterError: the lifecycle does not allow the change.
        PolicyError: the policy does not allow it.
        ConflictError: someone changed the newest version meanwhile.
    """
    _check_change(by, note)
    current, card = _newest_for_change(store, model_id)
    lifecycle.check_transition(current.status, status, note)
    at = now_iso()
    who = _who(by, key, policy, identity)
    governance = card.governance
    approval = governance.approval if governance else None
    approvals: tuple[Approval, ...] = governance.approvals if governance else ()
    kind = lifecycle.STATUS_CHANGED
    if status == lifecycle.APPROVED:
        approved = _recorded_bytes(current)
        signer = key.identity if key else ""
        new = Approval(current.version, who, at, lifecycle.fingerprint(approved), signer, identity)
        if policy is not None:
            _check_approval(store, current, card, key, policy, approvals, identity)
        approvals = (*approvals, new)
        needed = policy.needed(card.considerations.risk.rating) if policy else 1
        if len(distinct_approvers(approvals, policy)) < needed:
            status, kind = lifecycle.PENDING_REVIEW, lifecycle.APPROVAL_RECORDED
            note = note or f"approval {len(approvals)} of {needed}"
        else:
            approval = new
    else:
        approvals = ()
        if status == lifecycle.DRAFT:
            approval = None
    changed = dataclasses.replace(card, status=status)
    change = _Change(current, changed, kind, who, at, note, approval, key, approvals, identity)
    return _record(store, change, output_root, sinks, policy)


def distinct_approvers(approvals: Sequence[Approval], policy: Policy | None) -> set[str]:
    """Who approved, once each: the policy's name for them where it has one (a person
    approving by key and through a console is one approver), else their login, signer
    or name."""
    found = set()
    for approval in approvals:
        named = policy.name_of(approval.signer, approval.identity) if policy else None
        found.add(named or approval.identity or approval.signer or approval.by)
    return found


def _who(
    by: str | None, key: signing.SigningKey | None, policy: Policy | None, identity: str = ""
) -> str:
    """Who a change is by: `--by`, else the name the policy gives the signer (or the
    console's login), else the login or the signer's identity, else the operating
    system's user."""
    if by:
        return by
    if key is not None:
        named = policy.name_of(key.identity, identity) if policy else None
        return named or identity or signing.short_identity(key.identity)
    return identity or default_user()


def _check_signed(change: _Change, policy: Policy | None) -> None:
    """Refuses an unsigned change where the policy requires signatures, and a signer
    the policy does not name.

    Raises:
        PolicyError: naming the policy and what it asks for.
    """
    if policy is None or not policy.require_signatures:
        return
    if change.key is None:
        raise PolicyError(
            f"policy {policy.path!r} requires signed changes: give --signing-key "
            "(and --signing-certificate with a certificate)"
        )
    if not policy.vouches_for(change.key.identity):
        raise PolicyError(
            f"policy {policy.path!r} names no signer "
            f"{signing.short_identity(change.key.identity)}: add it to approvers or signers"
        )


def _check_approval(
    store: Any,
    current: CardVersion,
    card: Card,
    key: signing.SigningKey | None,
    policy: Policy,
    approvals: Sequence[Approval],
    identity: str = "",
) -> None:
    """An approval under a policy: signed, by an approver the policy names for the
    card's pipeline and risk rating (through a console: the login it signs for), who
    made or submitted none of the content under review, and not twice.

    Raises:
        PolicyError: naming who and why.
    """
    pipeline = card.model_details.pipeline_name
    rating = card.considerations.risk.rating
    if key is None:
        raise PolicyError(
            f"an approval under policy {policy.path!r} must be signed: give --signing-key"
        )
    if policy.is_console(key.identity) and not identity:
        raise PolicyError(
            f"the key of console {policy.name_of(key.identity)!r} approves only for a "
            "signed-in person"
        )
    approver = policy.approver(key.identity, pipeline, rating, identity)
    if approver is None:
        who = policy.name_of(key.identity, identity) or identity
        who = who or signing.short_identity(key.identity)
        raise PolicyError(
            f"{who} may not approve cards of pipeline "
            f"{pipeline or '(none)'!r} with risk {rating!r}: policy {policy.path!r} names "
            "no such approver"
        )
    if approver.name in distinct_approvers(approvals, policy):
        raise PolicyError(f"{approver.name} has already approved this content")
    versions = history(store, current.model_id)
    author = authored_by(
        versions[: current.version], acting_names(approver, key.identity, identity)
    )
    if author is not None:
        raise PolicyError(
            f"four eyes: {approver.name} made or submitted the content under review "
            f"(version {author.version}, {author.change}) and may not approve it"
        )


def authored_by(versions: Sequence[CardVersion], names: set[str]) -> CardVersion | None:
    """The first version under review (`under_review`) that one of `names` (people's
    names, logins or signer identities) made or submitted, if any: four eyes."""
    return next(
        (v for v in under_review(versions) if names & ({v.by, v.signer, v.identity} - {""})),
        None,
    )


def acting_names(person: Person, signer: str, identity: str) -> set[str]:
    """The names someone acting by `signer` (or as `identity` through a console) goes by
    in a history: the policy's name, their own key or certificate and their login;
    never a console's key, which signs for everyone."""
    names = {person.name, person.identity, person.login, identity}
    if not identity:
        names.add(signer)
    return names - {""}


def under_review(versions: Sequence[CardVersion]) -> list[CardVersion]:
    """The versions that made or submitted the content under review: every version since
    the newest approval, approvals being collected excepted."""
    made: list[CardVersion] = []
    for version in versions:
        if version.status == lifecycle.APPROVED:
            made = []
        elif version.change != lifecycle.APPROVAL_RECORDED:
            made.append(version)
    return made


def edit(
    store: Any,
    model_id: int,
    content: Mapping[str, Any],
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    sinks: events.Sinks | None = None,
    key: signing.SigningKey | None = None,
    policy: Policy | None = None,
    *,
    identity: str = "",
) -> CardVersion:
    """Applies human-written content to the newest version, as a new draft version
    (`identity`: the login a review console acts for).

    Raises:
        CardContentError: the content does not match the card content schema.
        ParameterError: the card is archived.
        ConflictError: someone changed the newest version meanwhile.
    """
    _check_change(by, note)
    current, card = _newest_for_change(store, model_id)
    status = lifecycle.status_after_edit(current.status)
    human = content_module.load_card_content(dict(content))
    human.pop("status", None)  # the lifecycle, not the content, sets the status
    changed = dataclasses.replace(content_module.apply_card_content(card, human), status=status)
    who = _who(by, key, policy, identity)
    change = _Change(
        current, changed, lifecycle.EDITED, who, now_iso(), note, key=key, identity=identity
    )
    return _record(store, change, output_root, sinks, policy)


def record_push(
    store: Any,
    model_id: int,
    deployment: Deployment,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    sinks: events.Sinks | None = None,
    key: signing.SigningKey | None = None,
    policy: Policy | None = None,
) -> CardVersion:
    """Records where the Pusher put the model as the next version of its card (change
    `lifecycle.PUSHED`): the card of the newest version with `deployment` set and the
    missing-PushedModel note gone; content, status and approvals unchanged. The version
    the push gate judged stays in the history as it was, and the note names it.

    On an approved card the new version stays approved: its approval is the one of the
    version it comes from, and `verify` holds it to that (a push record that changes
    anything but where the model went breaks the history).

    Raises:
        ParameterError: the newest version is archived, or records the same push already.
        ConflictError: someone changed the newest version meanwhile.
    """
    from mct_component.assembly.assemble import MISSING_NOTES

    _check_change(by, note)
    current, card = _newest_for_change(store, model_id)
    if current.status == lifecycle.ARCHIVED:
        raise ParameterError(
            f"model {model_id}'s card is archived (version {current.version}): an archived "
            "card is final"
        )
    if card.deployment == deployment:
        raise ParameterError(
            f"version {current.version} of model {model_id}'s card records this push already"
        )
    where = (
        f"pushed to {shorten(deployment.destination, 300)} (version "
        f"{shorten(deployment.version, 100)})"
        if deployment.pushed
        else "not pushed"
    )
    changed = dataclasses.replace(
        card,
        deployment=deployment,
        missing=tuple(m for m in card.missing if m != MISSING_NOTES["pushed_model"]),
    )
    note = note or (
        f"The Pusher's result: {where}. The push gate judged version {current.version}."
    )
    governance = card.governance
    change = _Change(
        current,
        changed,
        lifecycle.PUSHED,
        _who(by, key, policy),
        now_iso(),
        note,
        approval=governance.approval if governance else None,
        key=key,
        approvals=governance.approvals if governance else (),
    )
    return _record(store, change, output_root, sinks, policy)


def register(
    store: Any,
    model_id: int,
    card: Card,
    folder: str,
    render: Callable[[Card], dict[str, str | bytes]],
    by: str | None = None,
    note: str = "",
    sinks: events.Sinks | None = None,
    key: signing.SigningKey | None = None,
    policy: Policy | None = None,
    overwrite: bool = False,
) -> CardVersion:
    """Records a card made outside a pipeline (`mct-card generate --record`) as the
    model's version 1, written to `folder` (signed with `key`), so that a store whose
    pipeline never ran the generator can be governed. A model whose card was deleted
    gets it as the next version, its hash chain going on from the deletion.

    Raises:
        LineageError: no such model.
        ParameterError: the model has a card already.
        PolicyError: the policy requires a signature this change lacks.
    """
    _check_change(by, note)
    models = store.get_artifacts_by_id([int(model_id)])
    if not models or models[0].type != "Model":
        raise LineageError(f"MLMD has no Model artifact with id {model_id}")
    try:
        versions = history(store, model_id, include_deleted=True)
    except LineageError:
        versions = []
    if versions and not versions[-1].deleted:
        newest = versions[-1]
        raise ParameterError(
            f"model {model_id} has a card already (version {newest.version}, "
            f"{newest.status}): change it with `mct-card edit` or `status`"
        )
    base = versions[-1] if versions else CardVersion(
        model_id=model_id, version=0, artifact_id=model_id, uri=models[0].uri,
        status="", change="", by="", at="",
    )  # fmt: skip
    made = dataclasses.replace(card, status=lifecycle.DRAFT, governance=None)
    change = _Change(
        base, made, lifecycle.GENERATED, _who(by, key, policy), now_iso(), note, key=key
    )
    return _record(store, change, None, sinks, policy, _Destination(folder, render, overwrite))


def clone(
    store: Any,
    source_model_id: int,
    target_model_id: int,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    sinks: events.Sinks | None = None,
    key: signing.SigningKey | None = None,
    policy: Policy | None = None,
    *,
    identity: str = "",
) -> CardVersion:
    """Copies the human-written content of one model's card onto another's, as a draft
    (`identity`: the login a review console acts for).

    The target keeps its own name, version and everything the pipeline wrote; it takes
    the source's overview, owners, license, references, citation and considerations.

    Raises:
        LineageError: either model has no card.
        ParameterError: the target is the source, or its card is archived.
        ConflictError: someone changed the target's card meanwhile.
    """
    _check_change(by, note)
    if source_model_id == target_model_id:
        raise ParameterError(
            f"cannot clone model {source_model_id}'s card onto itself: --to-model must name "
            "another model"
        )
    _, source = _newest_for_change(store, source_model_id)
    current, target = _newest_for_change(store, target_model_id)
    status = lifecycle.status_after_edit(current.status)
    human = {
        name: getattr(source.model_details, name)
        for name in ("overview", "owners", "license", "references", "citation")
    }
    cloned = dataclasses.replace(
        target,
        model_details=target.model_details.replace(**human),
        considerations=source.considerations,
        status=status,
    )
    why = note or f"cloned from model {source_model_id}"
    who = _who(by, key, policy, identity)
    change = _Change(
        current, cloned, lifecycle.CLONED, who, now_iso(), why, key=key, identity=identity
    )
    return _record(store, change, output_root, sinks, policy)


def delete(
    store: Any,
    model_id: int,
    purge: bool = False,
    roots: tuple[str, ...] = (),
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    sinks: events.Sinks | None = None,
    key: signing.SigningKey | None = None,
    policy: Policy | None = None,
) -> Deletion:
    """Deletes a model's card as a change: a last version records who deleted it, when
    and why (signed like any change), then every version is marked
    `MARKED_FOR_DELETION` (hidden from listings; `history --all` shows them).

    An archived card is final: it is deleted only where the policy allows it. Files are
    kept unless `purge`. Even then, what the store points to is removed only if it is a
    card folder this package wrote (`generate.not_a_card_folder`) inside the folder the
    generator wrote the card to or one of `roots` (the `output_root`s of changes): the
    store may point anywhere, and nothing else is ever deleted. The deletion's own
    version is kept, as the record of it.

    Raises:
        LineageError: the model has no card, or it is deleted already.
        ParameterError: no note says why.
        PolicyError: the card is archived, or the policy asks for a signature.
    """
    _check_change(by, note)
    if not note.strip():
        raise ParameterError("deleting a card needs a note saying why (--note)")
    if all(v.deleted for v in history(store, model_id, include_deleted=True)):
        if not purge:
            raise LineageError(f"model {model_id}'s card was deleted already")
    else:
        _record_deletion(store, model_id, by, note, output_root, sinks, key, policy)
    versions = history(store, model_id, include_deleted=True)
    records = {v.artifact_id for v in versions if v.change == lifecycle.DELETED}
    purged, kept = [], []
    if purge:
        allowed = [_folder(os.path.dirname(v.uri.rstrip("/"))) for v in versions[:1]]
        allowed += [_folder(root) for root in roots]
        for version in versions:
            if version.artifact_id in records:
                continue  # the record of the deletion stays
            reason = _not_purgeable(version.uri, allowed)
            if reason:
                kept.append((version.uri, reason))
                logger.warning("Card folder %r kept: %s", version.uri, reason)
            else:
                files.remove_directory(version.uri)
                purged.append(version.uri)
    return Deletion(
        tuple(history(store, model_id, include_deleted=True)), tuple(purged), tuple(kept)
    )


def _record_deletion(
    store: Any,
    model_id: int,
    by: str | None,
    note: str,
    output_root: str | None,
    sinks: events.Sinks | None,
    key: signing.SigningKey | None,
    policy: Policy | None,
) -> None:
    """Records the deletion as a last version, then marks every version deleted."""
    current, card = _newest_for_change(store, model_id)
    if current.status == lifecycle.ARCHIVED and not (policy and policy.allow_delete_archived):
        raise PolicyError(
            f"model {model_id}'s card is archived, which is final: it may be deleted only "
            "under a policy with allow_delete_archived: true"
        )
    who = _who(by, key, policy)
    approval = card.governance.approval if card.governance else None
    change = _Change(current, card, lifecycle.DELETED, who, now_iso(), note, approval, key)
    _record(store, change, output_root, sinks, policy)
    versions = history(store, model_id, include_deleted=True)
    artifacts = store.get_artifacts_by_id([v.artifact_id for v in versions])
    for artifact in artifacts:
        artifact.state = artifact.MARKED_FOR_DELETION
    with _recording():
        store.put_artifacts(artifacts)


def _not_purgeable(uri: str, allowed: list[str]) -> str:
    """Why a version's folder may not be purged ("" if it may)."""
    if not any(_folder(uri).startswith(os.path.join(root, "")) for root in allowed if root):
        return "outside the generator's card folder and every --output-root"
    return generate.not_a_card_folder(uri)


def _folder(path: str) -> str:
    """A path made comparable: absolute and without `..` or symbolic links (local disks)."""
    return path.rstrip("/") if "://" in path else os.path.realpath(path)


@dataclasses.dataclass(frozen=True)
class _Change:
    """A change about to become a version: the version it starts from, the changed card,
    and what kind of change it is, who made it, when and why."""

    base: CardVersion
    card: Card
    kind: str
    by: str
    at: str
    note: str
    approval: Approval | None = None
    key: signing.SigningKey | None = None
    approvals: tuple[Approval, ...] = ()
    identity: str = ""  # the login a review console acts for

    @property
    def version(self) -> int:
        return self.base.version + 1

    @property
    def signer(self) -> str:
        return self.key.identity if self.key else ""


@dataclasses.dataclass(frozen=True)
class _Destination:
    """A folder the caller chose for the new version (`generate --record`), and how the
    stamped card becomes its files."""

    uri: str
    render: Callable[[Card], dict[str, str | bytes]]
    overwrite: bool = False


def _record(
    store: Any,
    change: _Change,
    output_root: str | None,
    sinks: events.Sinks | None,
    policy: Policy | None,
    destination: _Destination | None = None,
) -> CardVersion:
    """Checks the change is signed as `policy` asks, writes the new version's files (and
    signs them), records the change in one MLMD transaction, then emits its events (a
    failed delivery is recorded on the change's execution).

    The folder is written under a `files.WriterLock`; what writers killed before their
    MLMD commit left behind (folders, staging folders) is removed first.
    """
    from ml_metadata.proto import metadata_store_pb2 as pb

    _check_signed(change, policy)
    base = change.base
    earlier = (
        history(store, base.model_id, include_deleted=True)[: base.version] if base.version else []
    )
    card = _stamped(change, earlier)
    root: str | None = None
    if destination is None:
        root = _version_root(output_root, base.uri)
        name = f"model-{base.model_id}-card-v{change.version}-{uuid.uuid4().hex[:8]}"
        uri = os.path.join(root, name)
        outputs = _version_files(card, base.uri)
    else:
        uri, outputs = destination.uri, destination.render(card)
        _version_root(None, uri)  # the folder's parents, made as `write_card` makes them
    with _recording():  # a store that cannot be written fails before any file is
        card_type = store.put_artifact_type(pb.ArtifactType(name=CARD_TYPE))
        change_type = _change_type(store)
    artifact = _card_artifact(card_type, uri, change, card, outputs)
    execution = _change_execution(change_type, change)
    with _writing(uri):
        if root is not None:
            _remove_abandoned_versions(store, root, base.model_id)
        generate.write_directory(
            uri, outputs, overwrite=bool(destination and destination.overwrite)
        )
        if change.key is not None:
            try:
                digest = signing.sign(uri, change.key)
            except BaseException:
                files.remove_directory(uri)
                raise
            execution.custom_properties[constants.SIGNER_PROPERTY].string_value = change.signer
            execution.custom_properties[constants.SIGNATURE_SHA256_PROPERTY].string_value = digest
        artifact_id, execution.id = _commit(store, change, uri, artifact, execution)
    made = CardVersion(
        model_id=base.model_id,
        version=change.version,
        artifact_id=artifact_id,
        uri=uri,
        status=card.status,
        change=change.kind,
        by=change.by,
        at=change.at,
        note=change.note,
        signer=change.signer,
        identity=change.identity,
    )
    if sinks:
        _publish(store, sinks, base, made, execution, policy)
    return made


def _stamped(change: _Change, earlier: Sequence[CardVersion]) -> Card:
    """The changed card with its completeness assessed and its governance record: the
    version, every earlier version's entry and this change's."""
    step = StatusChange(
        change.version, change.card.status, change.kind, change.by, change.at, change.note
    )
    base = change.base
    parent_sha256 = ""
    if base.version:  # version 1 (`register`) has no parent
        parent_sha256 = lifecycle.fingerprint(_recorded_bytes(base))
    return dataclasses.replace(
        change.card,
        completeness=completeness.assess(change.card),
        governance=Governance(
            version=change.version,
            history=(*(_history_entry(v) for v in earlier), step),
            approval=change.approval,
            parent_version=base.version,
            parent_sha256=parent_sha256,
            change=VersionChange(
                kind=change.kind,
                by=change.by,
                at=change.at,
                note=change.note,
                from_status=base.status,
                to_status=change.card.status,
                signer=change.signer,
                signer_key=_public_key_text(change.key),
                identity=change.identity,
            ),
            approvals=change.approvals,
        ),
    )


def _public_key_text(key: signing.SigningKey | None) -> str:
    if key is None or key.certificate:
        return ""
    return key.public_key_pem.decode("ascii")


# Vertex explanation metadata is a few kilobytes; a version carries it over up to this.
MAX_EXPLANATION_BYTES = 1024 * 1024


def _version_files(card: Card, base_uri: str) -> dict[str, str | bytes]:
    """The new version's files: the card's, and the explanation metadata it carries over
    (a regular file of the last version's folder, never what a link points to).

    Raises:
        IntegrityError: the metadata is a link, not a regular file, too large or not text.
    """
    outputs = generate.card_files(card)
    explanation = os.path.join(base_uri, constants.EXPLANATION_METADATA_FILE)
    if "://" not in explanation:
        if not os.path.lexists(explanation):
            return outputs
        if os.path.islink(explanation):
            raise IntegrityError(
                f"{explanation!r} is a symbolic link: it is not carried into a new version"
            )
    elif not files.filesystem(explanation).exists(explanation):
        return outputs
    try:
        data = files.read_bytes(explanation, MAX_EXPLANATION_BYTES)
        outputs[constants.EXPLANATION_METADATA_FILE] = data.decode("utf-8")
    except (ModelCardError, OSError, UnicodeDecodeError) as e:
        raise IntegrityError(
            f"{explanation!r} is not carried into a new version: {excerpt(str(e), limit=200)}"
        ) from None
    return outputs


def _card_artifact(
    type_id: int, uri: str, change: _Change, card: Card, outputs: Mapping[str, str | bytes]
) -> Any:
    """The new version's `ModelCard` artifact, named so that only one change of a version
    can be recorded, with the card's facts as custom properties."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    base = change.base
    artifact = pb.Artifact(
        type_id=type_id,
        uri=uri,
        name=f"model-{base.model_id}-after-{base.artifact_id}",
        state=pb.Artifact.LIVE,
    )
    card_json = outputs[constants.CARD_JSON_FILE]
    assert isinstance(card_json, str)  # every file but the PDF is text
    facts: dict[str, Any] = {
        constants.MODEL_ID_PROPERTY: base.model_id,
        constants.STATUS_PROPERTY: card.status,
        constants.MODEL_NAME_PROPERTY: card.model_details.name,
        constants.MODEL_VERSION_PROPERTY: card.model_details.version,
        constants.MODEL_URI_PROPERTY: card.model_details.uri,
        constants.CARD_VERSION_PROPERTY: change.version,
    }
    if card.completeness is not None:
        facts[constants.COMPLETENESS_PROPERTY] = repr(card.completeness.score)
    facts.update(summary.summary_properties(card))
    facts[constants.SHA256_PROPERTY] = lifecycle.fingerprint(card_json.encode("utf-8"))
    for name, value in facts.items():
        _set(artifact.custom_properties, name, value)
    return artifact


def _change_execution(type_id: int, change: _Change) -> Any:
    """The `CardChange` execution that records who changed the card, how, when and why."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    execution = pb.Execution(type_id=type_id, last_known_state=pb.Execution.COMPLETE)
    recorded = {
        "change": change.kind,
        "by": change.by,
        "note": change.note,
        "from_status": change.base.status,
        "to_status": change.card.status,
        "at": change.at,
    }
    for key, value in recorded.items():
        execution.properties[key].string_value = value
    if change.identity:
        execution.custom_properties[constants.IDENTITY_PROPERTY].string_value = change.identity
    return execution


def _commit(
    store: Any, change: _Change, uri: str, artifact: Any, execution: Any
) -> tuple[int, int]:
    """Records the change in one MLMD transaction: (the new artifact's id, the
    execution's). On any failure the version's folder is removed.

    Raises:
        ConflictError: another change of the same version was recorded first.
        OutputError: the store refuses the write.
    """
    from ml_metadata.proto import metadata_store_pb2 as pb

    base = change.base
    role = "previous" if base.version else constants.MODEL_KEY  # version 1 follows the model
    links = [
        (_base_artifact(store, base.artifact_id), _event(pb.Event.INPUT, role)),
        (artifact, _event(pb.Event.OUTPUT, "card")),
    ]
    contexts = _contexts_of(store, base.artifact_id)
    try:
        with _recording():
            execution_id, (_, artifact_id), _ = store.put_execution(
                execution, links, contexts, reuse_context_if_already_exist=True
            )
    except ConflictError:
        files.remove_directory(uri)
        newest = history(store, base.model_id)[-1]
        raise ConflictError(
            f"version {base.version} of model {base.model_id}'s card was changed meanwhile "
            f"by {newest.by} ({newest.change}, now version {newest.version}, "
            f"{newest.status}); look at it again and retry"
        ) from None
    except BaseException:
        files.remove_directory(uri)
        raise
    return artifact_id, execution_id


def _check_change(by: str | None, note: str) -> None:
    """Refuses a name or a note that is too long, not text, or (a name) holds controls.

    Raises:
        ParameterError: naming the option and the limit.
    """
    for option, value, limit in (
        ("--by", by or "", MAX_BY_CHARACTERS),
        ("--note", note, MAX_NOTE_CHARACTERS),
    ):
        if len(value) > limit:
            raise ParameterError(
                f"{option} is {len(value):,} characters long; at most {limit:,} are allowed"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ParameterError(
                f"{option} must be text, got U+{ord(value[e.start]):04X} (a lone surrogate) "
                f"at position {e.start}"
            ) from None
    if by and terminal.visible(by) != by:
        raise ParameterError(
            f"--by must be a name without control or invisible characters, got {excerpt(by)}"
        )


def _version_root(output_root: str | None, base_uri: str) -> str:
    """Where a new version's folder goes: `output_root` (absolute), or beside the last."""
    root = output_root or os.path.dirname(base_uri.rstrip("/"))
    if "://" in root:
        return root
    root = os.path.abspath(root)
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write to {root!r}: {e.strerror or e}") from None
    return root


@contextlib.contextmanager
def _writing(uri: str) -> Iterator[None]:
    """Holds the new version's `files.WriterLock` (local disks; a no-op elsewhere)."""
    if "://" in uri:
        yield
        return
    try:
        lock = files.WriterLock(uri)
        lock.__enter__()
    except OSError as e:
        raise OutputError(f"cannot write to {os.path.dirname(uri)!r}: {e.strerror or e}") from None
    try:
        yield
    finally:
        lock.__exit__()


@contextlib.contextmanager
def _recording() -> Iterator[None]:
    """Turns MLMD's errors on a write into ours: a conflict, or a store that refuses."""
    from ml_metadata import errors

    try:
        yield
    except errors.AlreadyExistsError:
        raise ConflictError("someone else changed the card first") from None
    except errors.StatusError as e:
        reason = " ".join(str(e).split())[:200]
        raise OutputError(f"the MLMD store cannot record the change: {reason}") from None


def _remove_abandoned_versions(store: Any, root: str, model_id: int) -> None:
    """Deletes the version folders of `model_id` in `root` that MLMD never recorded and
    whose writer died (its lock is free), with their staging folders and lock files."""
    if "://" in root:
        return
    pattern = re.compile(rf"model-{int(model_id)}-card-v\d+-[0-9a-f]{{8}}")
    entries = os.listdir(root)
    names = {_version_name(entry) for entry in entries} - {""}
    names = {name for name in names if pattern.fullmatch(name)}
    if not names:
        return
    free = []
    for name in sorted(names):
        lock = files.lock_path(root, name)
        if os.path.lexists(lock) and not files.remove_abandoned(lock):
            continue  # its writer is still at work
        free.append(name)
    if not free:
        return
    # Read after each lock was seen free: a writer commits to MLMD before it lets go of
    # its lock, so a version that a writer finished meanwhile is in this history.
    folders = {_folder(v.uri) for v in history(store, model_id, include_deleted=True)}
    for name in free:
        folder = os.path.join(root, name)
        orphan = os.path.lexists(folder) and _folder(folder) not in folders
        if orphan and not generate.not_a_card_folder(folder):
            logger.warning("Removing %r, left by a change that was never recorded", folder)
            files.remove_directory(folder)
        prefix = files.staging_prefix(name)
        for entry in entries:
            if entry.startswith(prefix):
                files.remove_abandoned(os.path.join(root, entry))


def _version_name(entry: str) -> str:
    """The version folder a directory entry belongs to: itself, its lock or its staging."""
    if not entry.startswith("."):
        return entry
    entry = entry[1:]
    if entry.endswith(".lock"):
        return entry[: -len(".lock")]
    return entry.split(".staging-", 1)[0] if ".staging-" in entry else ""


def _publish(
    store: Any,
    sinks: events.Sinks,
    base: CardVersion,
    made: CardVersion,
    execution: Any,
    policy: Policy | None,
) -> None:
    """Emits the events of a new version; deliveries that failed are recorded on the
    change's execution (the change itself stands). An event says `verified` only when
    the change was signed by someone the review policy names (and so passed its checks)."""
    from ml_metadata import errors

    data = {
        "model_id": made.model_id,
        "version": made.version,
        "change": made.change,
        "old_status": base.status,
        "new_status": made.status,
        "by": made.by,
        "note": made.note,
        "at": made.at,
        "card_uri": made.uri,
        "signer": made.signer,
        "identity": made.identity,
        "verified": bool(made.signer) and policy is not None and policy.vouches_for(made.signer),
    }
    emitted = [events.cloud_event(events.VERSION_CREATED, made.model_id, data)]
    if made.status != base.status:
        emitted.append(events.cloud_event(events.STATUS_CHANGED, made.model_id, data))
    failures = events.deliver(emitted, sinks)  # one budget per sink for the whole change
    if failures:
        execution.custom_properties[EVENT_FAILURES].string_value = "; ".join(failures)
        with contextlib.suppress(errors.StatusError):
            store.put_executions([execution])


def _history_entry(version: CardVersion) -> StatusChange:
    """An earlier version as the new version's history lists it, its note as an excerpt."""
    note = shorten(version.note, HISTORY_NOTE_CHARACTERS)
    return StatusChange(
        version.version, version.status, version.change, version.by, version.at, note
    )


def _generated_cards(store: Any, model_id: int) -> list[Any]:
    """Cards the ModelCardGenerator wrote for the model: outputs of runs that read it."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    runs = {
        e.execution_id
        for e in store.get_events_by_artifact_ids([model_id])
        if e.type == pb.Event.INPUT
    }
    generators = [
        e.id
        for e in store.get_executions_by_id(sorted(runs))
        if e.type.endswith("ModelCardGenerator")
    ]
    outputs = {
        e.artifact_id
        for e in store.get_events_by_execution_ids(generators)
        if e.type == pb.Event.OUTPUT
    }
    return [a for a in store.get_artifacts_by_id(sorted(outputs)) if a.type == CARD_TYPE]


def _changed_cards(store: Any, model_id: int) -> list[Any]:
    """Cards made by changes, which record the model's id."""
    from ml_metadata.metadata_store import metadata_store

    options = metadata_store.ListOptions(
        filter_query=(
            f"type = '{CARD_TYPE}' AND "
            f"custom_properties.{constants.MODEL_ID_PROPERTY}.int_value = {int(model_id)}"
        )
    )
    return list(store.get_artifacts(list_options=options))


def _producers(store: Any, artifact_ids: list[int]) -> dict[int, Any]:
    from ml_metadata.proto import metadata_store_pb2 as pb

    made = {
        e.artifact_id: e.execution_id
        for e in store.get_events_by_artifact_ids(artifact_ids)
        if e.type == pb.Event.OUTPUT
    }
    executions = {e.id: e for e in store.get_executions_by_id(sorted(set(made.values())))}
    return {artifact: executions[execution] for artifact, execution in made.items()}


def _contexts_of(store: Any, artifact_id: int) -> list[Any]:
    """The contexts (pipeline, run) of an artifact; none when the store links it to none."""
    from ml_metadata import errors

    try:
        return list(store.get_contexts_by_artifact(artifact_id))
    except errors.NotFoundError:
        return []


def _base_artifact(store: Any, artifact_id: int) -> Any:
    (artifact,) = store.get_artifacts_by_id([artifact_id])
    return artifact


def _change_type(store: Any) -> int:
    from ml_metadata.proto import metadata_store_pb2 as pb

    change_type = pb.ExecutionType(name=CHANGE_TYPE)
    for name in constants.CHANGE_PROPERTIES:
        change_type.properties[name] = pb.STRING
    return int(store.put_execution_type(change_type))


def _event(kind: int, role: str) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    event = pb.Event(type=kind)
    event.path.steps.add().key = role
    event.path.steps.add().index = 0
    return event


def _set(properties: Any, key: str, value: str | int) -> None:
    if isinstance(value, int):
        properties[key].int_value = value
    else:
        properties[key].string_value = value
