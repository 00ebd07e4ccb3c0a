"""The gates a card sets: a minimum completeness, and whether the model may be pushed.

The push gate is the generator's `push_blessing` output, a standard `ModelBlessing` that a
Pusher can take: blessed only when the Evaluator blessed the model, the card meets the
completeness gate, its risk rating is not above the configured maximum, and it satisfies
the review policy (signed by a signer the policy names where it requires signatures;
content from a verified approval where it asks for that).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mct_component import card
from mct_component.errors import ModelCardError, ParameterError
from mct_component.governance.policy import Policy

RISK_ORDER = ("low", "medium", "high")


class GateError(ModelCardError):
    """A card falls short of a gate set to fail."""


@dataclasses.dataclass(frozen=True)
class CompletenessGate:
    """A minimum completeness, and what falling short does: "warn" or "fail"."""

    minimum: float
    action: str = "warn"

    def __post_init__(self) -> None:
        if isinstance(self.minimum, bool) or not isinstance(self.minimum, (int, float)):
            raise ParameterError(
                f"completeness_gate minimum must be a number, got {self.minimum!r}"
            )
        if not 0 <= self.minimum <= 1:
            raise ParameterError(
                f"completeness_gate minimum must be between 0 and 1, got {self.minimum!r}"
            )
        if self.action not in ("warn", "fail"):
            raise ParameterError(
                f"completeness_gate action must be 'warn' or 'fail', got {self.action!r}"
            )

    @classmethod
    def parse(cls, value: Any) -> CompletenessGate | None:
        """A gate from `{"minimum": 0.8, "action": "fail"}`, a bare number (warn), or None.

        Raises:
            ParameterError: naming what is wrong.
        """
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(float(value))
        if (
            isinstance(value, Mapping)
            and set(value) <= {"minimum", "action"}
            and "minimum" in value
        ):
            return cls(value["minimum"], value.get("action", "warn"))
        raise ParameterError(
            "completeness_gate must be a minimum score (0 to 1) or "
            f'{{"minimum": 0.8, "action": "warn" | "fail"}}, got {value!r}'
        )

    def as_dict(self) -> dict[str, Any]:
        """The gate as the JSON its parameter holds."""
        return {"minimum": self.minimum, "action": self.action}


def check_risk_rating(value: Any) -> str:
    """A maximum risk rating: "low", "medium", "high", or "" for none.

    Raises:
        ParameterError: anything else.
    """
    if value in (None, ""):
        return ""
    if value not in RISK_ORDER:
        raise ParameterError(f"max_risk_rating must be one of {list(RISK_ORDER)}, got {value!r}")
    return str(value)


def apply_completeness_gate(model_card: card.Card, gate: CompletenessGate | None) -> card.Card:
    """The card, with a note in `missing` if it falls short of a gate that warns.

    Raises:
        GateError: it falls short of a gate that fails (naming the weakest sections).
    """
    if gate is None or model_card.completeness is None:
        return model_card
    shortfall = _shortfall(model_card.completeness, gate.minimum)
    if not shortfall:
        return model_card
    if gate.action == "fail":
        raise GateError(shortfall)
    # Not `Card.replace`, which checks the whole schema: the caller writes through
    # `generate.card_files`, which checks it once.
    return dataclasses.replace(model_card, missing=(*model_card.missing, shortfall))


def push_verdict(
    model_card: card.Card,
    gate: CompletenessGate | None,
    max_risk_rating: str,
    policy: Policy | None = None,
    signer: str = "",
) -> tuple[bool, tuple[str, ...]]:
    """Whether the model may be pushed, and why not.

    Args:
        model_card: the card as written (its `inherited_from` names content taken from
            an approval, which the driver verified under `policy`).
        gate: the completeness gate, if any.
        max_risk_rating: the highest rating let through ("" for any).
        policy: the review policy, if any.
        signer: the identity that signed the card ("" unsigned).
    """
    reasons = []
    if model_card.quantitative_analysis.blessed is not True:
        reasons.append("the Evaluator did not bless the model")
    if gate is not None and model_card.completeness is not None:
        shortfall = _shortfall(model_card.completeness, gate.minimum)
        if shortfall:
            reasons.append(shortfall)
    rating = model_card.considerations.risk.rating
    if max_risk_rating and (
        rating not in RISK_ORDER or RISK_ORDER.index(rating) > RISK_ORDER.index(max_risk_rating)
    ):
        reasons.append(f"its risk rating is {rating}, above the maximum {max_risk_rating}")
    if policy is not None:
        reasons += _policy_shortfalls(model_card, policy, signer)
    return not reasons, tuple(reasons)


def _policy_shortfalls(model_card: card.Card, policy: Policy, signer: str) -> list[str]:
    """What keeps a card from satisfying the review policy at push time."""
    reasons = []
    if policy.require_signatures and not signer:
        reasons.append(
            f"the card is unsigned and review policy {policy.path!r} requires signatures"
        )
    elif policy.require_signatures and not policy.vouches_for(signer):
        reasons.append(f"review policy {policy.path!r} names no signer {signer}")
    if policy.push_requires_approved_content and model_card.inherited_from is None:
        reasons.append(
            f"review policy {policy.path!r} pushes only cards whose human-written content "
            "comes from a verified approval, and this card inherited none"
        )
    return reasons


def _shortfall(completeness: card.Completeness, minimum: float) -> str:
    if completeness.score >= minimum:
        return ""
    weakest = sorted(
        (section.score, f"{standard.name}: {section.name}")
        for standard in completeness.standards
        for section in standard.sections
        if section.missing
    )[:3]
    names = "; ".join(name for _, name in weakest)
    return (
        f"The card's completeness {completeness.score:.0%} is under the gate's "
        f"{minimum:.0%} (weakest: {names})."
    )
