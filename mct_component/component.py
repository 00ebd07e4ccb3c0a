"""The `ModelCardGenerator` TFX component: its spec and construction-time validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from mct_component import constants, content, driver, executor, parameters, render
from mct_component.artifact import ModelCard


class ModelCardGeneratorSpec(types.ComponentSpec):
    """Inputs, parameters and output of `ModelCardGenerator`."""

    PARAMETERS = {
        constants.CARD_CONTENT_KEY: ExecutionParameter(type=str, optional=True),
        constants.TEMPLATES_KEY: ExecutionParameter(type=str, optional=True),
        constants.OUTPUT_FORMATS_KEY: ExecutionParameter(type=str, optional=True),
        constants.LABEL_VOCABULARY_KEY: ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {
        constants.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        constants.STATISTICS_KEY: ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True
        ),
        constants.SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema, optional=True),
        constants.EVALUATION_KEY: ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True
        ),
        constants.BLESSING_KEY: ChannelParameter(
            type=standard_artifacts.ModelBlessing, optional=True
        ),
        constants.PUSHED_MODEL_KEY: ChannelParameter(
            type=standard_artifacts.PushedModel, optional=True
        ),
        constants.TRANSFORM_GRAPH_KEY: ChannelParameter(
            type=standard_artifacts.TransformGraph, optional=True
        ),
    }
    OUTPUTS = {constants.MODEL_CARD_KEY: ChannelParameter(type=ModelCard)}


class ModelCardGenerator(base_component.BaseComponent):
    """Writes a model card for a trained model as a `ModelCard` artifact.

    Example:

        card = ModelCardGenerator(
            model=trainer.outputs["model"],
            statistics=statistics_gen.outputs["statistics"],
            evaluation=evaluator.outputs["evaluation"],
            blessing=evaluator.outputs["blessing"],
            card_content="card_content.yaml",
        )

    Only `model` is required: on LocalDagRunner and BeamDagRunner the component's driver
    walks MLMD lineage from the model to its Trainer run and config, training data, TFDV
    statistics and schema, Transform, Evaluator results and blessing, Pusher output,
    pipeline run, and the baseline model (the Evaluator's, else the previous blessed
    model of the pipeline). Inputs given explicitly win over discovered ones.

    Inputs:
        model: the `Model` the card describes (required).
        statistics: `ExampleStatistics` of the data (splits, example counts).
        schema: the `Schema` of the data.
        evaluation: the TFMA `ModelEvaluation` (overall and per-slice metrics).
        blessing: the Evaluator's `ModelBlessing` verdict.
        pushed_model: the Pusher's `PushedModel` (deployment destination).
        transform_graph: Transform's `TransformGraph` (for `label_vocabulary`).

    Parameters:
        card_content: human-written sections, as a dict or a path to a JSON/YAML file,
            validated here against `schemas/card_content.schema.json`.
        templates: format ("html" or "md") -> Jinja template path replacing the default.
        output_formats: any of "json", "html", "md" (default: all three).
        label_vocabulary: the Transform vocabulary (its `vocab_filename`) that maps the
            label's class ids to names: the confusion matrix then shows class names.

    Outputs:
        model_card: the `ModelCard` artifact (see `mct_component.artifact.ModelCard`).

    Raises:
        ParameterError: (a `ValueError`) at construction, naming the bad parameter.
        CardContentError: (a `ValueError`) at construction, naming the bad content field.
    """

    SPEC_CLASS = ModelCardGeneratorSpec
    DRIVER_CLASS = driver.LineageDriver
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        model: types.BaseChannel,
        statistics: types.BaseChannel | None = None,
        schema: types.BaseChannel | None = None,
        evaluation: types.BaseChannel | None = None,
        blessing: types.BaseChannel | None = None,
        pushed_model: types.BaseChannel | None = None,
        transform_graph: types.BaseChannel | None = None,
        card_content: content.ContentInput = None,
        templates: Mapping[str, str] | None = None,
        output_formats: Sequence[str] = render.FORMATS,
        label_vocabulary: str | None = None,
    ):
        spec = ModelCardGeneratorSpec(
            model=model,
            statistics=statistics,
            schema=schema,
            evaluation=evaluation,
            blessing=blessing,
            pushed_model=pushed_model,
            transform_graph=transform_graph,
            model_card=types.Channel(type=ModelCard),
            **parameters.encode(card_content, templates, output_formats, label_vocabulary),
        )
        super().__init__(spec=spec)
