"""Builds a `ModelCard` from the input artifacts and the human-written content."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from mct_component import card, content, sources
from mct_component.lineage import ArtifactRef, CardInputs

MISSING_NOTES = {
    "statistics": "No ExampleStatistics: dataset splits and example counts are unknown.",
    "evaluation": "No ModelEvaluation: the card has no quantitative analysis.",
    "blessing": "No ModelBlessing: whether the model passed validation is unknown.",
    "pushed_model": "No PushedModel: deployment status is unknown.",
}


def build_card(inputs: CardInputs, card_content: Mapping[str, Any] | None = None) -> card.ModelCard:
    """Reads every available input and merges the human-written content into one card.

    Args:
        inputs: the artifacts to read; missing optional ones are listed in `card.missing`.
        card_content: validated human-written content (see `content.load_card_content`).
    """
    overrides, considerations, status = content.parse_card_content(card_content or {})
    return card.ModelCard(
        model_details=_model_details(inputs.model, overrides),
        datasets=sources.dataset_splits(inputs.statistics) if inputs.statistics else (),
        quantitative_analysis=sources.quantitative_analysis(inputs.evaluation, inputs.blessing),
        considerations=considerations,
        deployment=sources.deployment(inputs.pushed_model) if inputs.pushed_model else None,
        status=status,
        missing=tuple(
            note for name, note in MISSING_NOTES.items() if getattr(inputs, name) is None
        ),
    )


def _model_details(model: ArtifactRef, overrides: Mapping[str, Any]) -> card.ModelDetails:
    auto = {
        "name": _default_name(model),
        "version": str(model.id) if model.id is not None else "unversioned",
        "uri": model.uri,
        "created": _iso_time(model.create_time_ms),
        "source": sources.source_of(model),
    }
    return card.ModelDetails(**{**auto, **overrides})


def _default_name(model: ArtifactRef) -> str:
    return f"{model.type_name} {model.id}" if model.id is not None else model.type_name


def _iso_time(epoch_ms: int) -> str:
    if not epoch_ms:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")
