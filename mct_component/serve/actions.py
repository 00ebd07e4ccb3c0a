"""What reviewers do in the console, made through `governance.registry` as the CLI makes it.

Each action is a new card version signed with the console's key for the signed-in
person (their login is recorded inside the signed card), under the review policy: it
names who may act in the console at all (an approver or signer with an `identity`),
and the registry applies the rest (who may approve, four eyes, how many approvers).
A form names the version it was shown; if the card moved on meanwhile the action is
refused (409) with what happened, as is the loser of two changes made at once.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mct_component import content as content_module
from mct_component.dashboard import card_pages
from mct_component.errors import ConflictError, IntegrityError, PolicyError
from mct_component.governance import registry, verify
from mct_component.serve.identity import Identity
from mct_component.serve.settings import ConsoleSettings
from mct_component.serve.state import StoreUnavailable, connect_for_change
from mct_component.text import excerpt

# One change at a time per console process: MLMD's client is not shared across threads,
# and two changes of one card from the same console would only conflict.
_CHANGING = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Permission:
    """Whether a signed-in person may act in the console, and why not."""

    allowed: bool
    reason: str = ""
    name: str = ""  # the policy's name for them


def permission(settings: ConsoleSettings, identity: Identity) -> Permission:
    """Whether `identity` may make changes here: signed in, named by the review policy,
    and the console has a key to sign with."""
    if not identity.signed_in:
        return Permission(False, "sign in to act on cards")
    if settings.key is None:
        return Permission(False, "this console has no signing key: it is read-only")
    person = settings.policy.person(settings.key.identity, identity.login)
    if person is None:
        return Permission(
            False, f"the review policy names no approver or signer with login {identity.login}"
        )
    return Permission(True, name=person.name)


def approval_refusal(
    settings: ConsoleSettings, identity: Identity, versions: list[registry.CardVersion], card: Any
) -> str:
    """Why `identity` may not approve the newest version ("" if they may), as the registry
    would decide: an approver for the card's pipeline and rating, four eyes, not twice."""
    allowed = permission(settings, identity)
    if not allowed.allowed:
        return allowed.reason
    assert settings.key is not None
    pipeline = card.model_details.pipeline_name
    rating = card.considerations.risk.rating
    approver = settings.policy.approver(settings.key.identity, pipeline, rating, identity.login)
    if approver is None:
        return f"the review policy does not name you as an approver of {pipeline or 'this pipeline'} cards with risk {rating}"
    approvals = card.governance.approvals if card.governance else ()
    if approver.name in registry.distinct_approvers(approvals, settings.policy):
        return "you have already approved this content"
    names = registry.acting_names(approver, settings.key.identity, identity.login)
    author = registry.authored_by(versions, names)
    if author is not None:
        return f"four eyes: you made or submitted this content (version {author.version}, {author.change})"
    return ""


def set_status(
    settings: ConsoleSettings,
    identity: Identity,
    model_id: int,
    seen_version: int,
    status: str,
    note: str,
) -> registry.CardVersion:
    """Submits, approves, rejects (to draft, with a note) or archives the newest version.

    Raises:
        PolicyError: the person may not (not signed in, not named, four eyes...).
        ParameterError: the lifecycle does not allow it.
        ConflictError: the card moved on from `seen_version`.
        StoreUnavailable: the store cannot be written now.
    """

    change = _signed_change(settings, identity, registry.set_status, model_id, status, note)
    return _change(settings, identity, model_id, seen_version, change)


def edit(
    settings: ConsoleSettings,
    identity: Identity,
    model_id: int,
    seen_version: int,
    content: Mapping[str, Any],
    note: str,
) -> registry.CardVersion:
    """Applies human-written content (checked like `mct-card edit`) as a new draft.

    Raises:
        CardContentError: the content does not match the content schema.
        and as `set_status`.
    """
    checked = content_module.load_card_content(dict(content))

    change = _signed_change(settings, identity, registry.edit, model_id, checked, note)
    return _change(settings, identity, model_id, seen_version, change)


def clone(
    settings: ConsoleSettings,
    identity: Identity,
    model_id: int,
    target_model_id: int,
    seen_version: int,
    note: str,
) -> registry.CardVersion:
    """Copies this card's human-written content onto another model's card, as a draft
    of that card (`seen_version` is the version of this card the person read).

    Raises:
        LineageError: the target has no card.
        and as `set_status`.
    """

    change = _signed_change(settings, identity, registry.clone, model_id, target_model_id, note)
    return _change(settings, identity, model_id, seen_version, change, (target_model_id,))


def _signed_change(
    settings: ConsoleSettings,
    identity: Identity,
    make: Callable[..., registry.CardVersion],
    model_id: int,
    value: Any,
    note: str,
) -> Callable[[Any], registry.CardVersion]:
    """The change `make(store, model_id, value, ...)` (`registry.set_status`, `edit` or
    `clone`), signed with the console's key for the signed-in person."""
    login = _login(settings, identity)

    def change(store: Any) -> registry.CardVersion:
        return make(
            store, model_id, value, None, note, None, settings.sinks, settings.key,
            settings.policy, identity=login,
        )  # fmt: skip

    return change


def _login(settings: ConsoleSettings, identity: Identity) -> str:
    """The login as the policy spells it (logins match whatever their case)."""
    key = settings.key.identity if settings.key else ""
    person = settings.policy.person(key, identity.login)
    return person.login if person is not None and person.login else identity.login


def _change(
    settings: ConsoleSettings,
    identity: Identity,
    model_id: int,
    seen_version: int,
    make: Callable[[Any], registry.CardVersion],
    also: tuple[int, ...] = (),
) -> registry.CardVersion:
    """Makes a change of `model_id`'s card (and reads those of `also`) only on cards the
    console would show whose whole history verifies now, from the version the person saw.
    """
    from ml_metadata import errors

    allowed = permission(settings, identity)
    if not allowed.allowed:
        raise PolicyError(allowed.reason)
    with _CHANGING:
        try:
            store = connect_for_change(settings.store)
            newest = registry.history(store, model_id)[-1]
            if newest.version != seen_version:
                raise ConflictError(
                    f"version {seen_version} of model {model_id}'s card is no longer the "
                    f"newest: {newest.by} made version {newest.version} ({newest.change}, "
                    f"{newest.status}) meanwhile; look at it again"
                )
            for checked in (model_id, *also):
                actionable(settings, store, checked)
            made: registry.CardVersion = make(store)
        except errors.StatusError as e:  # the store went away mid-change: nothing recorded
            raise StoreUnavailable(f"the MLMD store failed: {excerpt(str(e))}") from None
        return made


def actionable(settings: ConsoleSettings, store: Any, model_id: int) -> None:
    """Refuses to act on a card the console would not show (its newest folder outside
    the model's pipeline root and the output roots, not a folder this package wrote, or
    its JSON no valid card), or whose history does not verify as `mct-card verify`
    would now (files read and signatures checked again: nothing cached).

    Raises:
        IntegrityError: naming the version and what is wrong.
    """
    versions = registry.history(store, model_id, include_deleted=True)
    (model,) = store.get_artifacts_by_id([model_id])
    try:
        card_pages.published_card(versions[-1].uri, model.uri, settings.output_roots)
    except card_pages.Withheld as e:
        raise IntegrityError(
            f"version {versions[-1].version} of model {model_id}'s card cannot be acted on "
            f"here: {e}"
        ) from None
    checked = verify.verify_versions(model_id, versions, settings.policy)
    if not checked.holds:
        number, problem = checked.problems[0]
        raise IntegrityError(
            f"model {model_id}'s card history does not verify (version {number}: {problem}): "
            "nobody may act on it here until it is repaired; see `mct-card verify`"
        )
