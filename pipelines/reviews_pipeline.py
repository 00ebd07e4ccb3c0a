"""A free-text pipeline: review texts, a 0/1 label, example weights, a small categorical.

It stands for the public TFX text-classification pipelines: the card must show `text`
as free text, `stars` as a small categorical, `label` as the EvalConfig's label with its
class balance per split, and `weight` as the example weight.
"""

from __future__ import annotations

import os

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from mct_component import ModelCardGenerator

MODULE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reviews_module.py")
PIPELINE_NAME = "reviews"


def eval_config() -> tfma.EvalConfig:
    """Accuracy overall and per star rating, with intervals, a value and a change threshold."""
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default", label_key="label", example_weight_key="weight"
            )
        ],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["stars"])],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="BinaryAccuracy",
                        threshold=tfma.MetricThreshold(
                            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.3}),
                            change_threshold=tfma.GenericChangeThreshold(
                                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                absolute={"value": -0.01},
                            ),
                        ),
                    ),
                    tfma.MetricConfig(class_name="AUC"),
                ]
            )
        ],
        options=tfma.Options(compute_confidence_intervals={"value": True}),
    )


def create_pipeline(
    pipeline_root: str, data_root: str, metadata_path: str, train_steps: int = 30
) -> tfx.dsl.Pipeline:
    """ExampleGen -> StatisticsGen -> SchemaGen -> Trainer -> Evaluator -> card."""
    example_gen = tfx.components.CsvExampleGen(input_base=data_root)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    trainer = tfx.components.Trainer(
        module_file=MODULE_FILE,
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=1),
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        eval_config=eval_config(),
    )
    model_card = ModelCardGenerator.from_components(
        trainer,
        statistics_gen=statistics_gen,
        schema_gen=schema_gen,
        evaluator=evaluator,
        pipeline_name=PIPELINE_NAME,
    )
    return tfx.dsl.Pipeline(
        pipeline_name=PIPELINE_NAME,
        pipeline_root=pipeline_root,
        components=[example_gen, statistics_gen, schema_gen, trainer, evaluator, model_card],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory"],
    )
