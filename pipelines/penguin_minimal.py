"""A minimal penguin pipeline without mct_component: no Transform, no Evaluator, an Importer.

It stands for "a pipeline that is not ours": `mct-card generate` must build a card for
its models from the MLMD store alone. Its Trainer reads raw examples, nothing evaluates
or pushes the model, and an Importer brings in an existing SavedModel as a Model.
"""

from __future__ import annotations

import os

from tfx import v1 as tfx

MODULE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "penguin_module_raw.py")
# Expectations the data does not meet (no Torgersen island, lighter penguins), so that
# ExampleValidator finds real anomalies for the card and the dashboard to show.
EXPECTATIONS_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "penguin_expectations.pbtxt"
)


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    metadata_path: str,
    imported_model_uri: str,
    train_steps: int = 50,
) -> tfx.dsl.Pipeline:
    """ExampleGen -> StatisticsGen -> SchemaGen -> Trainer, and an Importer of a Model.

    An ExampleValidator checks the statistics against stricter, imported expectations.
    """
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
    expectations = tfx.components.ImportSchemaGen(schema_file=EXPECTATIONS_FILE)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=expectations.outputs["schema"]
    )
    importer = tfx.dsl.Importer(
        source_uri=imported_model_uri, artifact_type=tfx.types.standard_artifacts.Model
    ).with_id("ModelImporter")
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            trainer,
            expectations,
            example_validator,
            importer,
        ],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory"],
    )
