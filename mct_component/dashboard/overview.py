"""Every model of a store as one row: its facts, its card and what needs attention.

Built from a `snapshot.Snapshot` (the whole store in memory), never per-model queries.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mct_component import constants
from mct_component.dashboard.snapshot import MARKED_FOR_DELETION, Node, Snapshot
from mct_component.governance import lifecycle

if TYPE_CHECKING:
    from mct_component.governance.verify import Verification

CARD_TYPE = "mct_component.ModelCard"
GENERATOR_SUFFIX = "ModelCardGenerator"

# Flags, in the order the dashboard shows them, with their labels.
NO_CARD = "no_card"
PUSHED_UNAPPROVED = "pushed_unapproved"
PUSHED_UNBLESSED = "pushed_unblessed"
NO_EVALUATION = "no_evaluation"
STALE_CARD = "stale_card"
HIGH_RISK = "high_risk"
NOT_BLESSED = "not_blessed"
METRIC_WORSE = "metric_worse"
INCOMPLETE = "incomplete"
HISTORY_ALTERED = "history_altered"
APPROVAL_UNVERIFIED = "approval_unverified"
DATA_ANOMALIES = "data_anomalies"
NO_DATA_VALIDATION = "no_data_validation"
FLAGS: Mapping[str, str] = {
    NO_CARD: "No card",
    PUSHED_UNAPPROVED: "Pushed without an approved card",
    HISTORY_ALTERED: "History altered",
    APPROVAL_UNVERIFIED: "Approval not verified",
    PUSHED_UNBLESSED: "Pushed but not blessed",
    NOT_BLESSED: "Not blessed by the Evaluator",
    METRIC_WORSE: "Headline metric worse than the baseline",
    NO_EVALUATION: "No evaluation",
    STALE_CARD: "Card older than the latest evaluation",
    HIGH_RISK: "High risk",
    INCOMPLETE: "Completeness under the gate",
    DATA_ANOMALIES: "Data anomalies",
    NO_DATA_VALIDATION: "No data validation",
}


@dataclasses.dataclass(frozen=True)
class Headline:
    """The card's headline metric: value, confidence interval, change against the baseline."""

    name: str
    value: float | None  # None: the store's value is not a finite number
    lower: float | None = None
    upper: float | None = None
    delta: float | None = None


@dataclasses.dataclass(frozen=True)
class CardVersionSummary:
    """One version of a model's card, as its MLMD artifact summarises it."""

    version: int
    artifact_id: int
    uri: str
    status: str
    created_ms: int
    completeness: float | None = None
    risk_rating: str = ""
    headline: Headline | None = None
    trust: str = ""  # "verified", "unverified" or "altered" ("" not checked)
    change: str = ""  # how it came to be (`lifecycle`), who, when and why
    by: str = ""
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ModelRow:
    """One model of the store and everything the dashboard says about it."""

    model_id: int
    uri: str
    name: str
    pipeline: str
    run: str
    created_ms: int
    producer: str  # the component that made it: "Trainer", "Importer", ...
    producer_id: int | None
    blessed: bool | None
    pushed: bool
    destination: str
    evaluated_ms: int | None  # when its newest evaluation was made
    validated: bool
    anomalous_splits: tuple[str, ...]
    versions: tuple[CardVersionSummary, ...]
    completeness_gate: float | None
    history_holds: bool | None = None  # None: not checked
    approval_verified: bool = False  # the newest version is an approval `verify` accepts
    flags: tuple[str, ...] = ()

    @property
    def card(self) -> CardVersionSummary | None:
        """The newest version of the card."""
        return self.versions[-1] if self.versions else None

    @property
    def approved(self) -> bool:
        """Whether the newest version of the card is approved (an approval does not carry
        over to a later, unreviewed version)."""
        return self.card is not None and self.card.status == lifecycle.APPROVED


def model_rows(
    snapshot: Snapshot,
    completeness_gate: float | None = None,
    verifications: Mapping[int, Verification] | None = None,
) -> list[ModelRow]:
    """A row per live `Model` artifact, newest first.

    Args:
        snapshot: the store.
        completeness_gate: the minimum completeness for models whose generator set none.
        verifications: each carded model's verified history (`dashboard.trust`); without
            them no history is checked and no approval counts as verified.
    """
    cards = cards_by_model(snapshot)
    checked = verifications or {}
    rows = [
        _row(snapshot, model, cards.get(model.id, []), completeness_gate, checked.get(model.id))
        for model in snapshot.artifacts_of_type("Model")
        if model.state != MARKED_FOR_DELETION
    ]
    return sorted(rows, key=lambda r: (-r.created_ms, -r.model_id))


def cards_by_model(snapshot: Snapshot) -> dict[int, list[Node]]:
    """Each model's card artifacts (deleted ones too), oldest first."""
    found: dict[int, dict[int, Node]] = {}
    for card in snapshot.artifacts_of_type(CARD_TYPE):
        model_id = _int(card.properties.get(constants.MODEL_ID_PROPERTY))
        producer = snapshot.producer(card.id)
        if model_id is None and producer is not None:
            models = snapshot.io(producer, True, constants.MODEL_KEY)
            model_id = models[0] if models else None
        if model_id is not None:
            found.setdefault(model_id, {})[card.id] = card
    return {m: [cards[i] for i in sorted(cards)] for m, cards in found.items()}


def _row(
    snapshot: Snapshot,
    model: Node,
    cards: Sequence[Node],
    default_gate: float | None,
    verification: Verification | None,
) -> ModelRow:
    producer_id = snapshot.producer(model.id)
    producer = snapshot.executions[producer_id].short_type if producer_id else ""
    context_of = producer_id or next(iter(snapshot.consumers(model.id)), None)
    consumers = [snapshot.executions[c] for c in snapshot.consumers(model.id, constants.MODEL_KEY)]
    evaluations = _outputs_of(snapshot, consumers, "Evaluator", constants.EVALUATION_KEY)
    blessings = _outputs_of(snapshot, consumers, "Evaluator", constants.BLESSING_KEY)
    pushes = _outputs_of(snapshot, consumers, "Pusher", constants.PUSHED_MODEL_KEY)
    pushed = [p for p in pushes if _int(p.properties.get("pushed")) == 1]
    blessed = (
        _int(blessings[-1].properties.get(constants.BLESSED_PROPERTY)) == 1 if blessings else None
    )
    validations = _validations(snapshot, producer_id)
    trust = _trust(verification)
    versions = tuple(
        _version(snapshot, number, card, trust.get(number, ""))
        for number, card in enumerate(cards, start=1)
        if card.state != MARKED_FOR_DELETION
    )
    generators = [
        snapshot.executions[p]
        for p in (snapshot.producer(c.id) for c in cards)
        if p is not None and snapshot.executions[p].type_name.endswith(GENERATOR_SUFFIX)
    ]
    gate = _gate(generators[-1].properties if generators else {}, default_gate)
    name = next(
        (
            str(c.properties.get(constants.MODEL_NAME_PROPERTY))
            for c in cards[::-1]
            if c.properties.get(constants.MODEL_NAME_PROPERTY)
        ),
        "",
    )
    row = ModelRow(
        model_id=model.id,
        uri=model.uri,
        name=name or _default_name(model),
        pipeline=snapshot.context(context_of, "pipeline") if context_of else "",
        run=snapshot.context(context_of, "pipeline_run") if context_of else "",
        created_ms=model.create_time_ms,
        producer=producer,
        producer_id=producer_id,
        blessed=blessed,
        pushed=bool(pushed),
        destination=str(pushed[-1].properties.get("pushed_destination") or "") if pushed else "",
        evaluated_ms=evaluations[-1].create_time_ms if evaluations else None,
        validated=bool(validations),
        anomalous_splits=tuple(
            sorted({split for v in validations for split in _anomalous_splits(v)})
        ),
        versions=versions,
        completeness_gate=gate,
        history_holds=verification.holds if verification is not None else None,
        approval_verified=verification is not None and verification.verified_approval,
    )
    return dataclasses.replace(row, flags=flags(row))


def flags(row: ModelRow) -> tuple[str, ...]:
    """What needs attention about a model, in `FLAGS` order."""
    card = row.card
    raised = {
        NO_CARD: card is None,
        PUSHED_UNAPPROVED: row.pushed and not row.approved,
        HISTORY_ALTERED: card is not None and row.history_holds is False,
        APPROVAL_UNVERIFIED: row.approved and not row.approval_verified,
        PUSHED_UNBLESSED: row.pushed and row.blessed is not True,
        NOT_BLESSED: row.blessed is False,
        METRIC_WORSE: card is not None and card.headline is not None and worse(card.headline),
        NO_EVALUATION: row.evaluated_ms is None,
        STALE_CARD: card is not None
        and row.evaluated_ms is not None
        and card.created_ms < row.evaluated_ms,
        HIGH_RISK: card is not None and card.risk_rating == "high",
        INCOMPLETE: card is not None
        and card.completeness is not None
        and row.completeness_gate is not None
        and card.completeness < row.completeness_gate,
        DATA_ANOMALIES: bool(row.anomalous_splits),
        NO_DATA_VALIDATION: not row.validated and row.producer != "Importer",
    }
    return tuple(flag for flag in FLAGS if raised[flag])


def _outputs_of(
    snapshot: Snapshot, executions: Sequence[Node], component: str, role: str
) -> list[Node]:
    """The `role` outputs of those executions of a component, oldest first."""
    ids = sorted(
        artifact_id
        for e in executions
        if e.short_type == component
        for artifact_id in snapshot.io(e.id, False, role)
    )
    return [snapshot.artifacts[i] for i in ids]


def _validations(snapshot: Snapshot, trainer_id: int | None) -> list[Node]:
    """ExampleValidator outputs on the statistics of the data the model was trained on."""
    if trainer_id is None:
        return []
    examples = snapshot.io(trainer_id, True, "examples")
    raw: list[int] = []
    for example_id in examples:
        producer = snapshot.producer(example_id)
        transformed = (
            producer is not None and snapshot.executions[producer].short_type == "Transform"
        )
        raw.extend(
            snapshot.io(producer, True, "examples") if transformed and producer else [example_id]
        )
    found: list[Node] = []
    for example_id in raw:
        for stats_reader in snapshot.consumers(example_id, "examples"):
            for statistics_id in snapshot.io(stats_reader, False, "statistics"):
                for validator in snapshot.consumers(statistics_id, "statistics"):
                    found.extend(
                        snapshot.artifacts[a] for a in snapshot.io(validator, False, "anomalies")
                    )
    return found


def _anomalous_splits(anomalies: Node) -> list[str]:
    """The splits ExampleValidator did not bless (its `blessed` property: split -> 0/1)."""
    raw = anomalies.properties.get("blessed")
    try:
        blessed = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return []
    if isinstance(blessed, Mapping):
        return [str(split) for split, value in blessed.items() if value == 0]
    return []


def _trust(verification: Verification | None) -> dict[int, str]:
    """Each version's standing in its verified history, by version number."""
    if verification is None:
        return {}
    return {
        v.version: "altered" if v.broken else "verified" if v.verified else "unverified"
        for v in verification.versions
    }


def worse(headline: Headline) -> bool:
    """Whether the headline metric moved the wrong way against the baseline: down for a
    metric where higher is better (accuracy, AUC...), up for one where lower is (loss,
    error...); a metric of neither kind is not judged."""
    if headline.delta is None or headline.delta == 0:
        return False
    name = headline.name.lower()
    if any(word in name for word in _LOWER_IS_BETTER):
        return headline.delta > 0
    if any(word in name for word in _HIGHER_IS_BETTER):
        return headline.delta < 0
    return False


_LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape", "brier", "perplexity")
_HIGHER_IS_BETTER = (
    "accuracy", "auc", "precision", "recall", "f1", "auprc", "r2", "r_squared", "ndcg",
    "specificity", "sensitivity", "fairness",
)  # fmt: skip


def _version(snapshot: Snapshot, number: int, card: Node, trust: str) -> CardVersionSummary:
    properties = card.properties
    producer = snapshot.producer(card.id)
    made = snapshot.executions[producer] if producer is not None else None
    changed = made is not None and not made.type_name.endswith(GENERATOR_SUFFIX)
    recorded = made.properties if made is not None and changed else {}
    return CardVersionSummary(
        version=number,
        artifact_id=card.id,
        uri=card.uri,
        status=str(properties.get(constants.STATUS_PROPERTY) or lifecycle.DRAFT),
        created_ms=card.create_time_ms,
        completeness=_float(properties.get(constants.COMPLETENESS_PROPERTY)),
        risk_rating=str(properties.get(constants.RISK_RATING_PROPERTY) or ""),
        headline=_headline(properties.get(constants.HEADLINE_METRIC_PROPERTY)),
        trust=trust,
        change=str(recorded.get("change") or lifecycle.GENERATED),
        by=str(recorded.get("by") or ("ModelCardGenerator" if not changed else "")),
        note=str(recorded.get("note") or ""),
    )


def _headline(raw: Any) -> Headline | None:
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else None
    except json.JSONDecodeError:
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("value"), (int, float)):
        return None
    return Headline(
        name=str(data.get("name", "")),
        value=_float(data["value"]),
        lower=_float(data.get("lower")),
        upper=_float(data.get("upper")),
        delta=_float(data.get("delta")),
    )


def _gate(properties: Mapping[str, Any], default: float | None) -> float | None:
    raw = properties.get(constants.COMPLETENESS_GATE_KEY)
    try:
        gate = json.loads(raw) if isinstance(raw, str) and raw else None
    except json.JSONDecodeError:
        gate = None
    if isinstance(gate, Mapping):
        gate = gate.get("minimum")
    return _float(gate) if gate is not None else default


def _default_name(model: Node) -> str:
    return f"model {model.id}"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None
