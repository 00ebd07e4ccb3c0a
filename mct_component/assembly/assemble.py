"""Builds a `Card` from its inputs: every reader, the chart builders and human-written content."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from mct_component import card, content
from mct_component.assembly import chart_builders, comparison
from mct_component.errors import SourceError
from mct_component.readers import anomalies, deployment, evaluation, source_of, statistics, training
from mct_component.readers.refs import ArtifactRef, CardInputs
from mct_component.readers.savedmodel import SavedModelInfo
from mct_component.text import iso_time

logger = logging.getLogger(__name__)
NO_SAVED_MODEL = "No SavedModel found in the model artifact: signatures are unknown."
MISSING_NOTES = {
    "statistics": "No ExampleStatistics: dataset splits and feature statistics are unknown.",
    "schema": "No Schema: schema facts are unknown.",
    "evaluation": (
        "No ModelEvaluation: the card has no quantitative analysis. In a pipeline with an "
        "Evaluator, add the generator with ModelCardGenerator.from_components(trainer, "
        "evaluator=evaluator, ...) so that it runs after the evaluation."
    ),
    "blessing": (
        "No ModelBlessing: whether the model passed validation is unknown "
        "(from_components(..., evaluator=evaluator) wires it)."
    ),
    "pushed_model": (
        "No PushedModel: deployment status is unknown "
        "(from_components(..., pusher=pusher) wires it)."
    ),
    "trainer": "No Trainer execution in lineage: training configuration is unknown.",
    "anomalies": (
        "No ExampleAnomalies: the data was not validated (add an ExampleValidator over "
        "the statistics and from_components(..., example_validator=example_validator))."
    ),
}


def build_card(
    inputs: CardInputs,
    card_content: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    saved_model: SavedModelInfo | None = None,
    label_vocabulary: str = "",
) -> card.Card:
    """Reads every available input and merges the human-written content into one card.

    Args:
        inputs: the artifacts to read; missing optional ones are listed in `card.missing`.
        card_content: validated human-written content (see `content.load_card_content`).
        notes: extra lines for `card.missing` (e.g. why lineage could not be resolved).
        saved_model: the model's SavedModel metadata (`savedmodel.read_model_artifact`);
            None if it has none.
        label_vocabulary: the Transform vocabulary that names the label's classes.
    """
    config, config_problem = (
        evaluation.read_eval_config(inputs.evaluation) if inputs.evaluation else ({}, "")
    )
    configured = evaluation.configured_eval_config(inputs.evaluator)
    schema, hints = (
        statistics.read_schema(inputs.schema)
        if inputs.schema
        else (None, statistics.FeatureHints())
    )
    hints = dataclasses.replace(hints, roles=evaluation.feature_roles(configured or config))
    split_statistics = statistics.read_splits(inputs.statistics, hints) if inputs.statistics else ()
    names, names_missing = _class_names(inputs.transform_graph, label_vocabulary)
    analysis, analysis_missing = _quantitative_analysis(
        inputs, config, config_problem, configured, names
    )
    compared, comparison_missing = (
        comparison.comparison(
            inputs,
            tuple(s.split for s in split_statistics),
            analysis,
            default_version(inputs.baseline),
        )
        if inputs.baseline
        else (None, ())
    )
    auto = card.Card(
        model_details=_model_details(inputs, saved_model),
        datasets=tuple(chart_builders.with_feature_charts(s) for s in split_statistics),
        schema=schema,
        data_validation=_data_validation(inputs),
        training=_training(inputs),
        quantitative_analysis=analysis,
        comparison=compared,
        deployment=deployment.from_push(inputs.pushed_model) if inputs.pushed_model else None,
        missing=(
            *(note for name, note in MISSING_NOTES.items() if getattr(inputs, name) is None),
            *(() if saved_model is not None else (NO_SAVED_MODEL,)),
            *names_missing,
            *analysis_missing,
            *comparison_missing,
            *notes,
        ),
    )
    return content.apply_card_content(auto, card_content or {})


def _data_validation(inputs: CardInputs) -> tuple[card.DataValidation, ...]:
    training, evaluated = inputs.anomalies, inputs.evaluation_anomalies
    if training is not None and evaluated is not None and training.id == evaluated.id:
        return (anomalies.read_data_validation(training, "training and evaluation"),)
    return tuple(
        anomalies.read_data_validation(ref, data)
        for ref, data in ((training, "training"), (evaluated, "evaluation"))
        if ref is not None
    )


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
    inputs: CardInputs,
    config: Mapping[str, Any],
    problem: str,
    configured: Mapping[str, Any] | None,
    class_names: tuple[str, ...] = (),
) -> tuple[card.QuantitativeAnalysis, tuple[str, ...]]:
    """The analysis, and notes for `card.missing` on what of it could not be read.

    `config` is the EvalConfig TFMA saved (`problem` says why it could not be read),
    `configured` the one the Evaluator was given.
    """
    artifact = inputs.evaluation
    if artifact is None:
        return evaluation.quantitative_analysis(None, inputs.blessing, {}), ()
    missing = []
    if problem:
        missing.append(f"Thresholds and plots not read: {problem}.")
    analysis = evaluation.quantitative_analysis(artifact, inputs.blessing, config)
    if not analysis.overall and not analysis.slices:
        missing.append(
            f"The ModelEvaluation at {artifact.uri} holds no metrics (empty metrics files): "
            "the card has no quantitative analysis."
        )
    for note in missing:
        logger.warning("%s", note)
    return analysis.replace(
        thresholds=evaluation.thresholds(artifact, config, configured),
        charts=(
            *chart_builders.slice_charts(analysis.slices),
            *chart_builders.plot_charts(evaluation.read_plots(artifact, config), class_names),
        ),
    ), tuple(missing)


def _training(inputs: CardInputs) -> card.Training | None:
    if inputs.trainer is None:
        return None
    return training.from_trainer(
        inputs.trainer, inputs.hyperparameters, inputs.transform is not None
    )


def _model_details(inputs: CardInputs, saved_model: SavedModelInfo | None) -> card.ModelDetails:
    model = inputs.model
    versions = {}
    if "tfx_version" in model.properties:
        versions["tfx"] = str(model.properties["tfx_version"])
    if saved_model is not None and saved_model.tensorflow_version:
        versions["tensorflow"] = saved_model.tensorflow_version
    return card.ModelDetails(
        name=inputs.pipeline.name if inputs.pipeline else _default_name(model),
        version=default_version(inputs),
        uri=model.uri,
        created=iso_time(model.create_time_ms),
        source=source_of(model),
        pipeline_name=inputs.pipeline.name if inputs.pipeline else "",
        run_id=inputs.run.name if inputs.run else "",
        framework_versions=versions,
        signatures=saved_model.signatures if saved_model is not None else (),
    )


def _default_name(model: ArtifactRef) -> str:
    return f"{model.type_name} {model.id}" if model.id is not None else model.type_name


def default_version(inputs: CardInputs) -> str:
    """A model's version when people give none: its pipeline run, else its MLMD id."""
    if inputs.run is not None:
        return inputs.run.name
    return str(inputs.model.id) if inputs.model.id is not None else "unversioned"
