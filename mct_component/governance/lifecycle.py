"""A card's review lifecycle: statuses, the changes allowed between them, fingerprints.

    draft → pending_review → approved → archived
                 ↓ (rejected, with a note)
               draft

A content edit always makes a new draft: an approval never carries over to content
nobody reviewed. `archived` is final. An approval records the SHA-256 of the exact
`model_card.json` that was approved.
"""

from __future__ import annotations

import hashlib

from mct_component.errors import ParameterError

DRAFT = "draft"
PENDING_REVIEW = "pending_review"
APPROVED = "approved"
ARCHIVED = "archived"
STATUSES = (DRAFT, PENDING_REVIEW, APPROVED, ARCHIVED)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (PENDING_REVIEW,),
    PENDING_REVIEW: (APPROVED, DRAFT),
    APPROVED: (ARCHIVED,),
    ARCHIVED: (),
}

# What a new version of a card records about how it came to be.
GENERATED = "generated"
EDITED = "edited"
STATUS_CHANGED = "status_changed"
CLONED = "cloned"
# An approval collected while the policy asks for more approvers (the status stays).
APPROVAL_RECORDED = "approval_recorded"
DELETED = "deleted"
# The Pusher's result recorded on the card the push gate judged: only `deployment`
# changes, never the content or the status.
PUSHED = "pushed"


def check_transition(current: str, new: str, note: str = "") -> None:
    """Refuses a status change the lifecycle does not allow.

    Raises:
        ParameterError: `new` is not a status, not reachable from `current`, or a
            rejection (back to draft from review) comes without a note.
    """
    if new not in STATUSES:
        raise ParameterError(f"status must be one of {', '.join(STATUSES)}, got {new!r}")
    allowed = TRANSITIONS.get(current, ())
    if new not in allowed:
        options = ", ".join(allowed) if allowed else f"none: {current} is final"
        article = "an" if current[0] in "aeiou" else "a"
        raise ParameterError(
            f"{article} {current} card cannot become {new}; allowed from {current}: {options}"
        )
    if current == PENDING_REVIEW and new == DRAFT and not note.strip():
        raise ParameterError("a rejection (pending_review → draft) needs a note saying why")


def status_after_edit(current: str) -> str:
    """The status of a card's new version after its content is edited.

    Raises:
        ParameterError: the card is archived.
    """
    if current == ARCHIVED:
        raise ParameterError("an archived card is final: it cannot be edited")
    return DRAFT


def fingerprint(card_json: bytes) -> str:
    """The SHA-256 of a card's exact `model_card.json` bytes, in hex."""
    return hashlib.sha256(card_json).hexdigest()
