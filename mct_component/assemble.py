"""Builds a `ModelCard` from the input artifacts and the human-written content."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mct_component import card, content
from mct_component.errors import SourceError
from mct_component.lineage import PREVIOUS_BLESSED, ArtifactRef, CardInputs
from mct_component.sources import deployment, evaluation, source_of, statistics, training

if TYPE_CHECKING:
    from mct_component.savedmodel import SavedModelInfo

logger = logging.getLogger(__name__)
SERVING_DIR = "Format-Serving"
NO_SAVED_MODEL = "No SavedModel found in the model artifact: signatures are unknown."
MISSING_NOTES = {
    "statistics": "No ExampleStatistics: dataset splits and feature statistics are unknown.",
    "schema": "No Schema: schema facts are unknown.",
    "evaluation": "No ModelEvaluation: the card has no quantitative analysis.",
    "blessing": "No ModelBlessing: whether the model passed validation is unknown.",
    "pushed_model": "No PushedModel: deployment status is unknown.",
    "trainer": "No Trainer execution in lineage: training configuration is unknown.",
}


def build_card(
    inputs: CardInputs,
    card_content: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    saved_model: SavedModelInfo | None = None,
    label_vocabulary: str = "",
) -> card.ModelCard:
    """Reads every available input and merges the human-written content into one card.

    Args:
        inputs: the artifacts to read; missing optional ones are listed in `card.missing`.
        card_content: validated human-written content (see `content.load_card_content`).
        notes: extra lines for `card.missing` (e.g. why lineage could not be resolved).
        saved_model: the model's SavedModel metadata (`read_saved_model`); None if it has none.
        label_vocabulary: the Transform vocabulary that names the label's classes.
    """
    overrides, considerations, status = content.parse_card_content(card_content or {})
    splits = statistics.dataset_splits(inputs.statistics) if inputs.statistics else ()
    names, names_missing = _class_names(inputs.transform_graph, label_vocabulary)
    analysis = _quantitative_analysis(inputs, names)
    return card.ModelCard(
        model_details=_model_details(inputs, overrides, saved_model),
        datasets=splits,
        schema=statistics.schema_summary(inputs.schema) if inputs.schema else None,
        training=_training(inputs),
        quantitative_analysis=analysis,
        comparison=_comparison(inputs, splits, analysis) if inputs.baseline else None,
        considerations=considerations,
        deployment=deployment.from_push(inputs.pushed_model) if inputs.pushed_model else None,
        status=status,
        missing=(
            *(note for name, note in MISSING_NOTES.items() if getattr(inputs, name) is None),
            *(() if saved_model is not None else (NO_SAVED_MODEL,)),
            *names_missing,
            *notes,
        ),
    )


def serving_dir(model: ArtifactRef) -> str:
    """Where the model's SavedModel is: Trainer output puts it under `Format-Serving`."""
    from tfx.dsl.io import fileio

    serving = os.path.join(model.uri, SERVING_DIR)
    return serving if fileio.exists(serving) else model.uri


def read_saved_model(model: ArtifactRef) -> SavedModelInfo | None:
    """The model's SavedModel metadata, or None when the model is not a SavedModel."""
    from mct_component import savedmodel

    try:
        return savedmodel.read_saved_model(serving_dir(model))
    except SourceError as e:
        logger.warning("No SavedModel metadata for %s: %s", model.uri, e)
        return None


def _class_names(
    transform_graph: ArtifactRef | None, vocabulary: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The label's class names, or a note for `card.missing` saying why there are none."""
    if not vocabulary:
        return (), ()
    fallback = "the confusion matrix shows class ids."
    if transform_graph is None:
        return (), (f"Label vocabulary {vocabulary!r} not read: no Transform graph; {fallback}",)
    try:
        return training.class_names(transform_graph, vocabulary), ()
    except SourceError as e:
        return (), (f"Label vocabulary not read: {e}; {fallback}",)


def _quantitative_analysis(
    inputs: CardInputs, class_names: tuple[str, ...] = ()
) -> card.QuantitativeAnalysis:
    artifact = inputs.evaluation
    if artifact is None:
        return evaluation.quantitative_analysis(None, inputs.blessing)
    config = evaluation.eval_config(artifact)
    analysis = evaluation.quantitative_analysis(artifact, inputs.blessing, config)
    return dataclasses.replace(
        analysis,
        thresholds=evaluation.thresholds(artifact, config),
        charts=(
            *evaluation.slice_charts(analysis.slices),
            *evaluation.plot_charts(artifact, config, class_names),
        ),
    )


def _training(inputs: CardInputs) -> card.Training | None:
    if inputs.trainer is None:
        return None
    return training.from_trainer(
        inputs.trainer, inputs.hyperparameters, inputs.transform is not None
    )


def _model_details(
    inputs: CardInputs, overrides: Mapping[str, Any], saved_model: Any
) -> card.ModelDetails:
    model = inputs.model
    versions = {}
    if "tfx_version" in model.properties:
        versions["tfx"] = str(model.properties["tfx_version"])
    if saved_model is not None and saved_model.tensorflow_version:
        versions["tensorflow"] = saved_model.tensorflow_version
    auto = {
        "name": inputs.pipeline.name if inputs.pipeline else _default_name(model),
        "version": _default_version(inputs),
        "uri": model.uri,
        "created": _iso_time(model.create_time_ms),
        "source": source_of(model),
        "pipeline_name": inputs.pipeline.name if inputs.pipeline else "",
        "run_id": inputs.run.name if inputs.run else "",
        "framework_versions": versions,
        "signatures": saved_model.signatures if saved_model is not None else (),
    }
    return card.ModelDetails(**{**auto, **overrides})


def _default_name(model: ArtifactRef) -> str:
    return f"{model.type_name} {model.id}" if model.id is not None else model.type_name


def _default_version(inputs: CardInputs) -> str:
    if inputs.run is not None:
        return inputs.run.name
    return str(inputs.model.id) if inputs.model.id is not None else "unversioned"


def _iso_time(epoch_ms: int) -> str:
    if not epoch_ms:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")


def _comparison(
    inputs: CardInputs,
    splits: tuple[card.DatasetSplit, ...],
    analysis: card.QuantitativeAnalysis,
) -> card.Comparison:
    baseline = inputs.baseline
    base_analysis = evaluation.quantitative_analysis(baseline.evaluation, None)
    base_splits = statistics.dataset_splits(baseline.statistics) if baseline.statistics else ()
    return card.Comparison(
        baseline_model=source_of(baseline.model),
        baseline_version=_default_version(baseline),
        basis=inputs.baseline_basis or PREVIOUS_BLESSED,
        metric_deltas=metric_deltas(analysis, base_analysis),
        data_changes=data_changes(splits, base_splits),
        config_changes=config_changes(inputs, baseline),
    )


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
            elif feature.mean is not None and feature.mean != previous.mean:
                changes.append(
                    card.Change(
                        f"{split.name}: {feature.name} mean",
                        f"{feature.mean:.6g}",
                        f"{previous.mean:.6g}",
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
            value, base = now.properties.get(key), before.properties.get(key)
            if value != base:
                changes.append(card.Change(f"{now.component}.{key}", _text(value), _text(base)))
    return tuple(changes)


def _text(value: Any) -> str:
    if isinstance(value, str):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except json.JSONDecodeError:
            return value
    return "" if value is None else json.dumps(value, sort_keys=True)
