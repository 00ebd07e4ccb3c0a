"""The `ModelCardGenerator` TFX component: its spec and construction-time validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_component, base_node, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from mct_component import constants, content, render
from mct_component.errors import ParameterError
from mct_component.generator import driver, executor, parameters
from mct_component.generator.artifact import ModelCard
from mct_component.readers.refs import ExecutionRef, PipelineFacts


class ModelCardGeneratorSpec(types.ComponentSpec):
    """Inputs, parameters and output of `ModelCardGenerator`."""

    PARAMETERS = {
        constants.CARD_CONTENT_KEY: ExecutionParameter(type=str, optional=True),
        constants.TEMPLATES_KEY: ExecutionParameter(type=str, optional=True),
        constants.OUTPUT_FORMATS_KEY: ExecutionParameter(type=str, optional=True),
        constants.LABEL_VOCABULARY_KEY: ExecutionParameter(type=str, optional=True),
        constants.COMPLETENESS_GATE_KEY: ExecutionParameter(type=str, optional=True),
        constants.MAX_RISK_RATING_KEY: ExecutionParameter(type=str, optional=True),
        constants.INHERIT_CONTENT_KEY: ExecutionParameter(type=int, optional=True),
        constants.SIGNING_KEY_KEY: ExecutionParameter(type=str, optional=True),
        constants.SIGNING_CERTIFICATE_KEY: ExecutionParameter(type=str, optional=True),
        constants.CERTIFICATE_CHAIN_KEY: ExecutionParameter(type=str, optional=True),
        constants.REVIEW_POLICY_KEY: ExecutionParameter(type=str, optional=True),
        # `pipeline_name` and `run_id`, and what `from_components` knows of the pipeline.
        constants.PIPELINE_FACTS_KEY: ExecutionParameter(type=str, optional=True),
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
        constants.ANOMALIES_KEY: ChannelParameter(
            type=standard_artifacts.ExampleAnomalies, optional=True
        ),
    }
    OUTPUTS = {
        constants.MODEL_CARD_KEY: ChannelParameter(type=ModelCard),
        constants.PUSH_BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
    }


class ModelCardGenerator(base_component.BaseComponent):
    """Writes a model card for a trained model as a `ModelCard` artifact.

    Example, after the standard components of a pipeline:

        card = ModelCardGenerator.from_components(
            trainer,
            statistics_gen=statistics_gen,
            schema_gen=schema_gen,
            transform=transform,
            evaluator=evaluator,
            pusher=pusher,
            card_content="card_content.yaml",
        )

    `from_components` wires each component's output as an input, so the orchestrator
    runs the generator after the Evaluator and the Pusher and the card describes the
    evaluated, pushed model. Given only `model`, the generator depends on the Trainer
    alone and may run before them: the card would lack the evaluation and deployment.

    On LocalDagRunner and BeamDagRunner the component's driver also walks MLMD lineage
    from the model: its Trainer run and config, training data, TFDV statistics and schema,
    Transform, Evaluator results and blessing, Pusher output, pipeline run, and the
    baseline model (the Evaluator's, else the previous blessed model of the pipeline).
    Inputs given explicitly win over discovered ones. Kubeflow Pipelines v2 runs no
    driver: there the explicit inputs and `pipeline_name`/`run_id` (which
    `from_components` completes with the Trainer's and Transform's configuration) stand
    in for lineage.

    Inputs:
        model: the `Model` the card describes (required).
        statistics: `ExampleStatistics` of the data (splits, example counts).
        schema: the `Schema` of the data.
        evaluation: the TFMA `ModelEvaluation` (overall and per-slice metrics).
        blessing: the Evaluator's `ModelBlessing` verdict.
        pushed_model: the Pusher's `PushedModel` (deployment destination).
        transform_graph: Transform's `TransformGraph` (for `label_vocabulary`).
        anomalies: ExampleValidator's `ExampleAnomalies` of the training data.

    Parameters:
        card_content: human-written sections, as a dict or a path to a JSON/YAML file,
            validated here against `schemas/card_content.schema.json`.
        templates: format ("html" or "md") -> Jinja template path replacing the default.
        output_formats: any of "json", "html", "md", "pdf" (default: the first three).
            The PDF is the HTML card laid out for print (A4, WeasyPrint).
        label_vocabulary: the Transform vocabulary (its `vocab_filename`) that maps the
            label's class ids to names: the confusion matrix then shows class names.
        pipeline_name: the pipeline's name, used where lineage cannot say it.
        run_id: the run's id where lineage cannot say it: on Kubeflow Pipelines v2, the
            placeholder `"{{$.pipeline_job_name}}"`, which it fills in.
        completeness_gate: a minimum completeness score (0 to 1, see `completeness`), or
            `{"minimum": 0.8, "action": "warn" | "fail"}`: short of it, the card notes it
            (warn) or the run fails before writing (fail), and the push gate says no.
        max_risk_rating: the highest risk rating ("low", "medium", "high") the push
            gate lets through; an unrated card does not pass.
        inherit_content: take the human-written sections `card_content` does not give
            from the newest approved card of the pipeline (found by the driver, so not
            on Kubeflow Pipelines v2); the card names the version it inherited from.
        signing_key: sign the card (its version 1) with the pipeline's EC private key:
            a PEM file's path where the pipeline runs, or "env:NAME", an environment
            variable holding the PEM or its path (e.g. a Kubernetes secret). The
            signature is `card.sig` in the card's folder; a review policy's `signers`
            name the key to make the version verified.
        signing_certificate: the key's X.509 certificate (same forms), to sign with the
            organisation's PKI; `certificate_chain`: the certificates up to its root.
        review_policy: the review policy (`governance.policy`) the push gate and the
            inherited content answer to: a file's path where the pipeline runs, or
            "env:NAME" (a variable holding its path). Under it, content is inherited
            only from an approval that verifies, a policy requiring signatures keeps
            an unsigned card (or one its signers do not name) from being pushed, and
            `push_requires_approved_content` pushes only cards whose human-written
            content comes from a verified approval.

    Outputs:
        model_card: the `ModelCard` artifact (see `mct_component.generator.artifact.ModelCard`).
        push_blessing: the push gate, a `ModelBlessing` for `Pusher(model_blessing=...)`:
            blessed only when the Evaluator blessed the model, the card meets the
            completeness gate, its risk is not above `max_risk_rating` and the card
            satisfies `review_policy`.

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
        anomalies: types.BaseChannel | None = None,
        card_content: content.ContentInput = None,
        templates: Mapping[str, str] | None = None,
        output_formats: Sequence[str] = render.DEFAULT_FORMATS,
        label_vocabulary: str | None = None,
        pipeline_name: str | None = None,
        run_id: str | None = None,
        completeness_gate: float | Mapping[str, Any] | None = None,
        max_risk_rating: str | None = None,
        inherit_content: bool = True,
        signing_key: str | None = None,
        signing_certificate: str | None = None,
        certificate_chain: Sequence[str] = (),
        review_policy: str | None = None,
    ):
        facts = PipelineFacts(pipeline_name or "", run_id or "")
        spec = ModelCardGeneratorSpec(
            model=model,
            statistics=statistics,
            schema=schema,
            evaluation=evaluation,
            blessing=blessing,
            pushed_model=pushed_model,
            transform_graph=transform_graph,
            anomalies=anomalies,
            model_card=types.Channel(type=ModelCard),
            push_blessing=types.Channel(type=standard_artifacts.ModelBlessing),
            **parameters.encode(
                card_content,
                templates,
                output_formats,
                label_vocabulary,
                facts,
                completeness_gate,
                max_risk_rating,
                inherit_content,
                parameters.SigningSources.parse(
                    signing_key or "", signing_certificate or "", list(certificate_chain)
                ),
                review_policy,
            ),
        )
        super().__init__(spec=spec)

    @classmethod
    def from_components(
        cls,
        trainer: base_node.BaseNode,
        *,
        statistics_gen: base_node.BaseNode | None = None,
        schema_gen: base_node.BaseNode | None = None,
        transform: base_node.BaseNode | None = None,
        evaluator: base_node.BaseNode | None = None,
        pusher: base_node.BaseNode | None = None,
        example_validator: base_node.BaseNode | None = None,
        **parameters: Any,
    ) -> ModelCardGenerator:
        """A generator wired after the pipeline's components, describing their model.

        Every component given feeds its output to the generator (Trainer: `model`;
        StatisticsGen: `statistics`; SchemaGen: `schema`; Transform: `transform_graph`;
        Evaluator: `evaluation` and `blessing`; Pusher: `pushed_model`; ExampleValidator:
        `anomalies`), so the generator
        runs after all of them, on every orchestrator. The Trainer's and Transform's
        configuration is recorded too, for orchestrators that run no driver.

        Args:
            trainer: the Trainer whose model the card describes.
            statistics_gen: the StatisticsGen over the training data.
            schema_gen: the SchemaGen (or ImportSchemaGen) of that data.
            transform: the Transform the Trainer used.
            evaluator: the Evaluator of the model.
            pusher: the Pusher of the model.
            example_validator: the ExampleValidator of the training data's statistics.
            **parameters: the generator's parameters (`card_content`, `templates`,
                `output_formats`, `label_vocabulary`, `pipeline_name`, `run_id`).

        Raises:
            ParameterError: a component lacks the output the generator needs.
        """
        wiring = {
            constants.MODEL_KEY: (trainer, constants.MODEL_KEY),
            constants.STATISTICS_KEY: (statistics_gen, constants.STATISTICS_KEY),
            constants.SCHEMA_KEY: (schema_gen, constants.SCHEMA_KEY),
            constants.TRANSFORM_GRAPH_KEY: (transform, constants.TRANSFORM_GRAPH_KEY),
            constants.EVALUATION_KEY: (evaluator, constants.EVALUATION_KEY),
            constants.BLESSING_KEY: (evaluator, constants.BLESSING_KEY),
            constants.PUSHED_MODEL_KEY: (pusher, constants.PUSHED_MODEL_KEY),
            constants.ANOMALIES_KEY: (example_validator, constants.ANOMALIES_KEY),
        }
        inputs = {
            key: _output(node, output) for key, (node, output) in wiring.items() if node is not None
        }
        generator = cls(**inputs, **parameters)
        facts = PipelineFacts(
            pipeline_name=parameters.get("pipeline_name") or "",
            run_id=parameters.get("run_id") or "",
            trainer=_configuration(trainer),
            transform=_configuration(transform) if transform is not None else None,
        )
        generator.exec_properties[constants.PIPELINE_FACTS_KEY] = facts.to_json()
        return generator


def _output(node: base_node.BaseNode, key: str) -> types.BaseChannel:
    if key not in node.outputs:
        raise ParameterError(
            f"{node.id} has no output {key!r} for ModelCardGenerator; it has {sorted(node.outputs)}"
        )
    return node.outputs[key]


def _configuration(node: base_node.BaseNode) -> ExecutionRef:
    """A component's execution properties as MLMD would record them (primitives, JSON)."""
    properties = {
        key: value
        for key, value in node.exec_properties.items()
        if isinstance(value, (str, int, float, bool))
    }
    kind = type(node)
    return ExecutionRef(type_name=f"{kind.__module__}.{kind.__qualname__}", properties=properties)
