"""How a model differs from its baseline model: metrics per slice, data, and configuration."""

from __future__ import annotations

import json
import math
from typing import Any

from mct_component import card
from mct_component.readers import evaluation, source_of, statistics
from mct_component.readers.refs import PREVIOUS_BLESSED, CardInputs


def comparison(
    inputs: CardInputs,
    splits: tuple[card.DatasetSplit, ...],
    analysis: card.QuantitativeAnalysis,
    baseline_version: str,
) -> tuple[card.Comparison, tuple[str, ...]]:
    """This model (its data `splits` and `analysis`) against `inputs.baseline`.

    Returns:
        The comparison, and notes for `card.missing` on what of the baseline could not
        be read.

    Raises:
        ValueError: `inputs` has no baseline.
    """
    baseline = inputs.baseline
    if baseline is None:
        raise ValueError("the inputs have no baseline model to compare with")
    missing: tuple[str, ...] = ()
    config: dict[str, Any] = {}
    if baseline.evaluation is not None:
        config, problem = evaluation.read_eval_config(baseline.evaluation)
        missing = (f"The baseline's EvalConfig was not read: {problem}.",) if problem else ()
    base_analysis = evaluation.quantitative_analysis(baseline.evaluation, None, config)
    base_splits = statistics.dataset_splits(baseline.statistics) if baseline.statistics else ()
    return card.Comparison(
        baseline_model=source_of(baseline.model),
        baseline_version=baseline_version,
        basis=inputs.baseline_basis or PREVIOUS_BLESSED,
        metric_deltas=metric_deltas(analysis, base_analysis),
        data_changes=data_changes(splits, base_splits),
        config_changes=config_changes(inputs, baseline),
    ), missing


def _slice_table(analysis: card.QuantitativeAnalysis) -> dict[tuple[str, str], float | None]:
    table = {("Overall", m.label): m.value for m in analysis.overall}
    for entry in analysis.slices:
        table.update({(entry.slice, m.label): m.value for m in entry.metrics})
    return table


def metric_deltas(
    current: card.QuantitativeAnalysis, baseline: card.QuantitativeAnalysis
) -> tuple[card.MetricDelta, ...]:
    """Per slice and metric, the change from the baseline (slices in either evaluation)."""
    now, before = _slice_table(current), _slice_table(baseline)
    deltas = []
    for key in sorted(now.keys() | before.keys(), key=lambda k: (k[0] != "Overall", k)):
        value, base = now.get(key), before.get(key)
        delta = value - base if value is not None and base is not None else None
        deltas.append(card.MetricDelta(key[0], key[1], value, base, delta))
    return tuple(deltas)


def data_changes(
    current: tuple[card.DatasetSplit, ...], baseline: tuple[card.DatasetSplit, ...]
) -> tuple[card.Change, ...]:
    """Split sizes, feature sets and feature means that differ from the baseline's data."""
    changes = []
    before = {s.name: s for s in baseline}
    for split in current:
        old = before.get(split.name)
        if old is None:
            changes.append(card.Change(f"{split.name}: split", "present", "absent"))
            continue
        if split.num_examples != old.num_examples:
            changes.append(
                card.Change(
                    f"{split.name}: examples", str(split.num_examples), str(old.num_examples)
                )
            )
        old_features = {f.name: f for f in old.features}
        for feature in split.features:
            previous = old_features.get(feature.name)
            if previous is None:
                changes.append(card.Change(f"{split.name}: {feature.name}", "present", "absent"))
            elif feature.mean is not None and _differ(feature.mean, previous.mean):
                changes.append(
                    card.Change(
                        f"{split.name}: {feature.name} mean",
                        _mean(feature.mean),
                        _mean(previous.mean),
                    )
                )
    return tuple(changes)


def config_changes(current: CardInputs, baseline: CardInputs) -> tuple[card.Change, ...]:
    """Trainer (and Transform) execution properties that differ from the baseline's."""
    changes = []
    for role in ("trainer", "transform"):
        now, before = getattr(current, role), getattr(baseline, role)
        if now is None or before is None:
            continue
        for key in sorted(now.properties.keys() | before.properties.keys()):
            if key == "module_path":  # embeds a content hash of the user module
                continue
            value, base = _text(now.properties.get(key)), _text(before.properties.get(key))
            if value != base:
                changes.append(card.Change(f"{now.component}.{key}", value, base))
    return tuple(changes)


def _mean(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _differ(value: float, baseline: float | None) -> bool:
    """Whether two means differ beyond floating-point noise: as shown, to 6 digits.

    Two runs over the same data may sum in another order and differ in the last bits.
    """
    if baseline is None:
        return True
    return not math.isclose(value, baseline, rel_tol=1e-9) and _mean(value) != _mean(baseline)


def _text(value: Any) -> str:
    if isinstance(value, str):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except json.JSONDecodeError:
            return value
    return "" if value is None else json.dumps(value, sort_keys=True)
