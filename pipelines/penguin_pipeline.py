"""The penguin demo pipeline: one definition shared by every runner's entry point."""

from __future__ import annotations

import os
from typing import Any

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from mct_component import ModelCardGenerator
from mct_component.constants import PUSH_BLESSING_KEY

MODULE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "penguin_module.py")
CARD_CONTENT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "card_content.yaml")
ACCURACY_THRESHOLD = 0.6
# The vocabulary penguin_module.py builds for the label (its `vocab_filename`).
LABEL_VOCABULARY = "species"
# The push gate: the card must be this complete and its risk at most this high.
COMPLETENESS_GATE = {"minimum": 0.8, "action": "warn"}
MAX_RISK_RATING = "medium"


def eval_config() -> tfma.EvalConfig:
    """Accuracy overall and per island/sex slice, with confidence intervals and gates."""
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key="species_xf",
                preprocessing_function_names=["transform_features"],
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            tfma.SlicingSpec(feature_keys=["island"]),
            tfma.SlicingSpec(feature_keys=["sex"]),
        ],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="SparseCategoricalAccuracy",
                        threshold=tfma.MetricThreshold(
                            value_threshold=tfma.GenericValueThreshold(
                                lower_bound={"value": ACCURACY_THRESHOLD}
                            ),
                            # Ignored while no blessed baseline exists (first run).
                            change_threshold=tfma.GenericChangeThreshold(
                                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                absolute={"value": -1e-10},
                            ),
                        ),
                    ),
                    tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
                ]
            )
        ],
        options=tfma.Options(compute_confidence_intervals={"value": True}),
    )


def training_components(
    data_root: str, serving_model_dir: str, train_steps: int = 200, with_pusher: bool = True
) -> dict[str, Any]:
    """The standard TFX training components, keyed by a short role name.

    With `with_pusher`, a Pusher gated by the Evaluator's blessing ends them.
    """
    example_gen = tfx.components.CsvExampleGen(input_base=data_root)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=MODULE_FILE,
    )
    trainer = tfx.components.Trainer(
        module_file=MODULE_FILE,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
        custom_config={"hidden_units": 8},
    )
    baseline = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(),
    )
    parts = {
        "example_gen": example_gen,
        "statistics_gen": statistics_gen,
        "schema_gen": schema_gen,
        "example_validator": example_validator,
        "transform": transform,
        "trainer": trainer,
        "baseline": baseline,
        "evaluator": evaluator,
    }
    if with_pusher:
        parts["pusher"] = pusher_of(trainer, evaluator.outputs["blessing"], serving_model_dir)
    return parts


def pusher_of(
    trainer: Any, blessing: tfx.dsl.Channel, serving_model_dir: str
) -> tfx.components.Pusher:
    """A Pusher of the Trainer's model to a folder, when `blessing` says so."""
    return tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=blessing,
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_model_dir)
        ),
    )


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    serving_model_dir: str,
    metadata_path: str | None = None,
    beam_pipeline_args: list[str] | None = None,
    train_steps: int = 200,
    run_id: str | None = None,
    completeness_gate: float | dict[str, Any] = COMPLETENESS_GATE,
    metadata_connection_config: Any = None,
) -> tfx.dsl.Pipeline:
    """The penguin pipeline: the card is made after the evaluation, and gates the push.

    `from_components` feeds the generator each component's output, so it runs after the
    Evaluator on any orchestrator; the Pusher pushes only what the card's push gate
    blesses (the Evaluator blessed it, the card is complete enough, its risk is at most
    medium). On Kubeflow Pipelines v2, which runs no drivers, `run_id` names the run
    (its `{{$.pipeline_job_name}}` placeholder). The MLMD store is the SQLite file
    `metadata_path`, or any `metadata_connection_config` (e.g. MySQL).
    """
    parts = training_components(data_root, serving_model_dir, train_steps, with_pusher=False)
    model_card = ModelCardGenerator.from_components(
        parts["trainer"],
        statistics_gen=parts["statistics_gen"],
        schema_gen=parts["schema_gen"],
        transform=parts["transform"],
        evaluator=parts["evaluator"],
        example_validator=parts["example_validator"],
        card_content=CARD_CONTENT_FILE,
        label_vocabulary=LABEL_VOCABULARY,
        pipeline_name=pipeline_name,
        run_id=run_id,
        completeness_gate=completeness_gate,
        max_risk_rating=MAX_RISK_RATING,
    )
    pusher = pusher_of(parts["trainer"], model_card.outputs[PUSH_BLESSING_KEY], serving_model_dir)
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[*parts.values(), model_card, pusher],
        # Kubeflow brings its own metadata store, so there is no SQLite path for it.
        metadata_connection_config=metadata_connection_config
        or (
            tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
            if metadata_path
            else None
        ),
        beam_pipeline_args=beam_pipeline_args or ["--direct_running_mode=in_memory"],
    )
