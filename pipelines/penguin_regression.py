"""Regression on the penguin data: body mass in grams, and a model with two outputs.

One pipeline, two models over the same examples, each evaluated and carded: `mass`
predicts body mass (one output, TFMA's regression metrics, a calibration plot), `two`
predicts body mass and flipper length (two outputs, TFMA's results keyed by output
name). The cards must be complete and correct for both.
"""

from __future__ import annotations

import json
import os
from typing import Any

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from mct_component import ModelCardGenerator

MODULE_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "penguin_regression_module.py"
)
PIPELINE_NAME = "penguin-regression"
# The body mass (grams) the calibration plot spans.
MASS_RANGE = (2500.0, 6500.0)
MAX_MASS_ERROR = 600.0


def _metrics(output_names: list[str], calibration: dict[str, Any]) -> tfma.MetricsSpec:
    return tfma.MetricsSpec(
        output_names=output_names,
        metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name="MeanSquaredError"),
            tfma.MetricConfig(
                class_name="MeanAbsoluteError",
                threshold=tfma.MetricThreshold(
                    value_threshold=tfma.GenericValueThreshold(
                        upper_bound={"value": calibration["threshold"]}
                    )
                ),
            ),
            tfma.MetricConfig(
                class_name="CalibrationPlot",
                config=json.dumps(
                    {"num_buckets": 8, "left": calibration["left"], "right": calibration["right"]}
                ),
            ),
        ],
    )


def mass_eval_config() -> tfma.EvalConfig:
    """Body mass: squared and absolute error overall and per species, a calibration plot."""
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key="body_mass_g")],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["species"])],
        metrics_specs=[
            _metrics(
                [],
                {"left": MASS_RANGE[0], "right": MASS_RANGE[1], "threshold": MAX_MASS_ERROR},
            )
        ],
        options=tfma.Options(compute_confidence_intervals={"value": True}),
    )


def two_outputs_eval_config() -> tfma.EvalConfig:
    """Both outputs, each with its own label, metrics and threshold."""
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_keys={"body_mass": "body_mass_g", "flipper": "flipper_length_mm"},
            )
        ],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["species"])],
        metrics_specs=[
            _metrics(
                ["body_mass"],
                {"left": MASS_RANGE[0], "right": MASS_RANGE[1], "threshold": MAX_MASS_ERROR},
            ),
            _metrics(["flipper"], {"left": 170.0, "right": 235.0, "threshold": 15.0}),
        ],
    )


def create_pipeline(
    pipeline_root: str, data_root: str, metadata_path: str, train_steps: int = 200
) -> tfx.dsl.Pipeline:
    """ExampleGen -> StatisticsGen -> SchemaGen -> two Trainers, each evaluated and carded."""
    example_gen = tfx.components.CsvExampleGen(input_base=data_root)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    components: list[Any] = [example_gen, statistics_gen, schema_gen]
    for name, config, two_outputs in (
        ("Mass", mass_eval_config(), False),
        ("TwoOutputs", two_outputs_eval_config(), True),
    ):
        trainer = tfx.components.Trainer(
            module_file=MODULE_FILE,
            examples=example_gen.outputs["examples"],
            schema=schema_gen.outputs["schema"],
            train_args=tfx.proto.TrainArgs(num_steps=train_steps),
            eval_args=tfx.proto.EvalArgs(num_steps=1),
            custom_config={"two_outputs": two_outputs},
        ).with_id(f"{name}Trainer")
        evaluator = tfx.components.Evaluator(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            eval_config=config,
        ).with_id(f"{name}Evaluator")
        model_card = ModelCardGenerator.from_components(
            trainer,
            statistics_gen=statistics_gen,
            schema_gen=schema_gen,
            evaluator=evaluator,
            pipeline_name=PIPELINE_NAME,
        ).with_id(f"{name}ModelCardGenerator")
        components += [trainer, evaluator, model_card]
    return tfx.dsl.Pipeline(
        pipeline_name=PIPELINE_NAME,
        pipeline_root=pipeline_root,
        components=components,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory"],
    )
