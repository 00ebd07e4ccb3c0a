"""A card's headline facts as MLMD custom properties, read without opening the card.

The generator and every new version (`registry`) record them on the `ModelCard`
artifact; the dashboard reads them for every model of a store in one query.
"""

from __future__ import annotations

import json
from typing import Any

from mct_component import card, constants

# Metrics that count examples say nothing about quality: never the headline.
_COUNT_METRICS = frozenset({"example_count", "weighted_example_count", "num_examples"})


def headline_metric(model_card: card.Card) -> card.Metric | None:
    """The overall metric a card leads with: the first one a value threshold gates, else
    the first that is not a count."""
    overall = [m for m in model_card.quantitative_analysis.overall if m.value is not None]
    gated = {t.metric for t in model_card.quantitative_analysis.thresholds if t.kind == "value"}
    for metric in overall:
        if metric.label in gated or metric.name in gated:
            return metric
    return next((m for m in overall if m.name.lower() not in _COUNT_METRICS), None)


def headline_json(model_card: card.Card) -> str:
    """The headline metric, its CI and its change against the baseline, as JSON ("" if none)."""
    metric = headline_metric(model_card)
    if metric is None:
        return ""
    delta = None
    if model_card.comparison is not None:
        delta = next(
            (
                d.delta
                for d in model_card.comparison.metric_deltas
                if d.slice == "Overall" and d.metric == metric.label
            ),
            None,
        )
    return json.dumps(
        {
            "name": metric.label,
            "value": metric.value,
            "lower": metric.lower_bound,
            "upper": metric.upper_bound,
            "delta": delta,
        },
        sort_keys=True,
    )


def summary_properties(model_card: card.Card) -> dict[str, Any]:
    """The card's risk rating and headline metric, keyed by custom property name."""
    properties: dict[str, Any] = {
        constants.RISK_RATING_PROPERTY: model_card.considerations.risk.rating
    }
    headline = headline_json(model_card)
    if headline:
        properties[constants.HEADLINE_METRIC_PROPERTY] = headline
    return properties
