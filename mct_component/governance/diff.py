"""What changed between two versions of a card: status, human-written content, metrics."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from mct_component.card import Card

# The parts of a card people write (the rest comes from the pipeline).
_CONTENT_FIELDS = (
    (
        "model_details",
        ("name", "version", "overview", "owners", "license", "references", "citation"),
    ),
    (
        "considerations",
        (
            "intended_use",
            "limitations",
            "tradeoffs",
            "ethical_considerations",
            "risk",
            "business_details",
            "objective_function",
            "training_observations",
            "evaluation_observations",
            "custom_details",
        ),
    ),
)


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """One field whose value differs: its path and its two values (JSON data)."""

    field: str
    old: Any
    new: Any


@dataclasses.dataclass(frozen=True)
class CardDiff:
    """The differences between an older and a newer card."""

    status: FieldChange | None
    content: tuple[FieldChange, ...]
    metrics: tuple[FieldChange, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (for `mct-card diff --json`)."""
        return dataclasses.asdict(self)

    def text(self) -> str:
        """The differences as lines a person reads; "No differences." when there are none."""
        lines = []
        if self.status is not None:
            lines.append(f"status: {self.status.old} → {self.status.new}")
        for title, changes in (("content", self.content), ("metrics", self.metrics)):
            for change in changes:
                lines.append(
                    f"{title} {change.field}: {show_value(change.old)} → {show_value(change.new)}"
                )
        return "\n".join(lines) or "No differences."


def diff_cards(old: Card, new: Card) -> CardDiff:
    """The status, content fields and overall metrics that differ from `old` to `new`."""
    before, after = old.to_dict(), new.to_dict()
    content = [
        FieldChange(f"{section}.{name}", before[section][name], after[section][name])
        for section, names in _CONTENT_FIELDS
        for name in names
        if before[section][name] != after[section][name]
    ]
    old_metrics, new_metrics = _metrics(old), _metrics(new)
    metrics = [
        FieldChange(label, old_metrics.get(label), new_metrics.get(label))
        for label in sorted(old_metrics.keys() | new_metrics.keys())
        if old_metrics.get(label) != new_metrics.get(label)
    ]
    status = FieldChange("status", old.status, new.status) if old.status != new.status else None
    return CardDiff(status, tuple(content), tuple(metrics))


def _metrics(card: Card) -> dict[str, float | None]:
    return {m.label: m.value for m in card.quantitative_analysis.overall}


def show_value(value: Any) -> str:
    """A field's value as one line of JSON ("–" for none)."""
    return "–" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
