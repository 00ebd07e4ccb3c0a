"""How complete a card is, per section of three standards.

The standards: the sections of Mitchell et al. 2019, "Model Cards for Model Reporting";
the sections of an Amazon SageMaker model card; and the items of the EU AI Act's Annex IV
(technical documentation) that a pipeline and its people can fill. Each section lists
items, each a question the card answers or not. Empty text and placeholders ("TODO",
"TBD", "n/a"...) count as missing. A standard's score is the share of its items filled;
the card's score is the lowest of the three.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from mct_component import card

_PLACEHOLDER = re.compile(
    r"(todo|tbd|tba|n/?a|none|unknown|not provided|fill me( in)?|lorem ipsum.*|[-–—.…?]*)",
    re.IGNORECASE,
)
Check = Callable[[Mapping[str, Any]], bool]


def written(value: Any) -> bool:
    """Whether a value says something: not empty, not only placeholders."""
    if isinstance(value, str):
        return not _PLACEHOLDER.fullmatch(value.strip())
    if isinstance(value, (list, tuple)):
        return any(written(v) for v in value)
    if isinstance(value, Mapping):
        return any(written(v) for v in value.values())
    return value is not None


def _field(*path: str) -> Check:
    def check(card: Mapping[str, Any]) -> bool:
        value: Any = card
        for step in path:
            if not isinstance(value, Mapping):
                return False
            value = value.get(step)
        return written(value)

    return check


def _rated(card: Mapping[str, Any]) -> bool:
    return card["considerations"]["risk"]["rating"] != "unknown"


def _owners(card: Mapping[str, Any]) -> bool:
    return any(written(o.get("name")) for o in card["model_details"]["owners"])


def _slices(card: Mapping[str, Any]) -> bool:
    return bool(card["quantitative_analysis"]["slices"])


def _training_data(card: Mapping[str, Any]) -> bool:
    return any(split["num_examples"] > 0 for split in card["datasets"])


def _evaluated(card: Mapping[str, Any]) -> bool:
    return bool(card["quantitative_analysis"]["overall"])


def _gates(card: Mapping[str, Any]) -> bool:
    return bool(card["quantitative_analysis"]["thresholds"])


def _ethics(card: Mapping[str, Any]) -> bool:
    return any(written(e.get("name")) for e in card["considerations"]["ethical_considerations"])


def _caveats(card: Mapping[str, Any]) -> bool:
    considerations = card["considerations"]
    return written(considerations["limitations"]) or written(considerations["tradeoffs"])


OVERVIEW = _field("model_details", "overview")
VERSION = _field("model_details", "version")
PRIMARY_USES = _field("considerations", "intended_use", "primary_uses")
USERS = _field("considerations", "intended_use", "primary_users")
OUT_OF_SCOPE = _field("considerations", "intended_use", "out_of_scope_uses")
TRAINING = _field("training")
SCHEMA = _field("schema")
RISK_EXPLAINED = _field("considerations", "risk", "explanation")

# standard -> section -> item -> check
STANDARDS: dict[str, dict[str, dict[str, Check]]] = {
    "Mitchell et al. 2019": {
        "Model details": {
            "name": _field("model_details", "name"),
            "version": VERSION,
            "overview": OVERVIEW,
            "owners": _owners,
            "license": _field("model_details", "license"),
            "citation or references": lambda c: (
                written(c["model_details"]["citation"]) or written(c["model_details"]["references"])
            ),
        },
        "Intended use": {
            "primary uses": PRIMARY_USES,
            "primary users": USERS,
            "out-of-scope uses": OUT_OF_SCOPE,
        },
        "Factors": {"evaluated groups (slices)": _slices},
        "Metrics": {"performance measures": _evaluated, "decision thresholds": _gates},
        "Evaluation data": {"evaluation dataset": _evaluated},
        "Training data": {"training dataset": _training_data},
        "Quantitative analyses": {"results per group": _slices},
        "Ethical considerations": {"ethical considerations": _ethics},
        "Caveats and recommendations": {"limitations or trade-offs": _caveats},
    },
    "SageMaker model card": {
        "Model overview": {
            "description": OVERVIEW,
            "owner": _owners,
            "version": VERSION,
        },
        "Intended uses": {
            "purpose": PRIMARY_USES,
            "intended users": USERS,
            "out-of-scope uses": OUT_OF_SCOPE,
            "risk rating": _rated,
            "risk explanation": RISK_EXPLAINED,
        },
        "Business details": {
            "business problem": _field("considerations", "business_details", "business_problem")
        },
        "Training details": {"training job": TRAINING, "training data": _training_data},
        "Evaluation details": {"evaluation results": _evaluated, "evaluation data": _evaluated},
        "Additional information": {
            "ethical considerations": _ethics,
            "caveats and recommendations": _caveats,
        },
    },
    "EU AI Act Annex IV": {
        "1. General description": {
            "intended purpose": PRIMARY_USES,
            "provider": _owners,
            "version": VERSION,
        },
        "2. Development": {
            "design and training method": TRAINING,
            "data requirements and provenance": lambda c: _training_data(c) and SCHEMA(c),
            "validation and testing": lambda c: _evaluated(c) and _gates(c),
        },
        "3. Monitoring and limitations": {
            "limitations of performance": _caveats,
            "accuracy for groups of persons": _slices,
            "foreseeable unintended outcomes": OUT_OF_SCOPE,
        },
        "4. Performance metrics": {"appropriateness of metrics": _evaluated},
        "5. Risk management": {"risk rating": _rated, "risk measures": RISK_EXPLAINED},
        "6. Changes": {"changes through the lifecycle": _field("comparison")},
    },
}


def assess(model_card: card.Card) -> card.Completeness:
    """The card's completeness: every standard's score by section, the lowest overall."""
    # No check reads a feature: leaving them out spares a copy of most of a large card.
    splits = tuple(dataclasses.replace(split, features=()) for split in model_card.datasets)
    data = dataclasses.replace(model_card, datasets=splits).to_dict()
    standards = []
    for name, sections in STANDARDS.items():
        scored, filled, total = [], 0, 0
        for section, items in sections.items():
            missing = tuple(item for item, check in items.items() if not check(data))
            done = len(items) - len(missing)
            filled, total = filled + done, total + len(items)
            scored.append(card.SectionCompleteness(section, round(done / len(items), 4), missing))
        standards.append(card.StandardCompleteness(name, round(filled / total, 4), tuple(scored)))
    return card.Completeness(min(s.score for s in standards), tuple(standards))
