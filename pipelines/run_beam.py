"""Runs the penguin pipeline on TFX's BeamDagRunner and prints where the model card is.

Usage: python -m pipelines.run_beam [--output-dir build/demo-beam] [--train-steps 200]
           [--beam-pipeline-args "--direct_running_mode=multi_processing --direct_num_workers=2"]

The orchestration itself runs on a local Beam DirectRunner; `--beam-pipeline-args` go to
the Beam-based components (ExampleGen, StatisticsGen, Transform, Evaluator), so they can
use several local processes or a cluster runner (e.g. `--runner=DataflowRunner ...`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from pipelines import run_local

# One worker process per CPU core for every Beam-based component.
DEFAULT_BEAM_ARGS = "--direct_running_mode=multi_processing --direct_num_workers=0"


def run(
    output_dir: str,
    beam_pipeline_args: Sequence[str],
    train_steps: int = 200,
    pipeline_name: str = run_local.PIPELINE_NAME,
) -> None:
    """Prepares the data and runs the whole pipeline once on BeamDagRunner."""
    from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

    from pipelines import penguin_data, penguin_pipeline

    paths = run_local.demo_paths(output_dir)
    penguin_data.write_penguins_csv(paths["data_root"])
    BeamDagRunner().run(
        penguin_pipeline.create_pipeline(
            pipeline_name=pipeline_name,
            train_steps=train_steps,
            beam_pipeline_args=list(beam_pipeline_args),
            **paths,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="build/demo-beam", help="where all outputs go")
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument(
        "--beam-pipeline-args",
        default=DEFAULT_BEAM_ARGS,
        help=f"Beam options for the components, one shell-quoted string (default: {DEFAULT_BEAM_ARGS!r})",
    )
    args = parser.parse_args(argv)
    run(args.output_dir, shlex.split(args.beam_pipeline_args), args.train_steps)
    return run_local.report_model_card(run_local.demo_paths(args.output_dir)["metadata_path"])


if __name__ == "__main__":
    sys.exit(main())
