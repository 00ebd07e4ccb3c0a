"""Compiles the penguin pipeline for Kubeflow Pipelines v2 / Vertex AI Pipelines.

Usage: python -m pipelines.run_kubeflow --pipeline-root gs://BUCKET/penguin
           [--data-root gs://BUCKET/penguin/data] [--serving-model-dir gs://BUCKET/penguin/serving]
           [--image mct-component:latest] [--output-file build/kubeflow/penguin-model-card.json]
           [--train-steps 200] [--beam-pipeline-args "..."]

Every step runs in `--image`, built from this repository's Dockerfile. Compiling packages
the Transform/Trainer module file as a wheel under `<pipeline root>/_wheels`, so it needs
write access to the pipeline root. The data root must hold `penguins.csv` (`make demo`
writes one to `build/demo/data/`). The output is a PipelineJob JSON file (pipeline spec
schema 2.1.0, the one KFP v2 itself emits), with the ML Metadata store left to Kubeflow.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence

from pipelines import run_local

DEFAULT_IMAGE = "mct-component:latest"
# The pipeline job's name, which Kubeflow Pipelines v2 and Vertex substitute at run time.
KFP_RUN_ID = "{{$.pipeline_job_name}}"
DEFAULT_OUTPUT_FILE = os.path.join("build", "kubeflow", f"{run_local.PIPELINE_NAME}.json")


def compile_pipeline(
    pipeline_root: str,
    output_file: str,
    image: str = DEFAULT_IMAGE,
    data_root: str | None = None,
    serving_model_dir: str | None = None,
    train_steps: int = 200,
    beam_pipeline_args: Sequence[str] = (),
    pipeline_name: str = run_local.PIPELINE_NAME,
) -> str:
    """Writes the pipeline's KFP v2 definition to `output_file` and returns its path.

    Args:
        pipeline_root: where artifacts go, e.g. `gs://bucket/penguin`.
        output_file: the JSON file to write (a PipelineJob with its pipeline spec).
        image: the container image every step runs in.
        data_root: the folder holding `penguins.csv` (default `<pipeline_root>/data`).
        serving_model_dir: where the Pusher pushes (default `<pipeline_root>/serving_model`).
        train_steps: Trainer steps.
        beam_pipeline_args: Beam options for the Beam-based components.
        pipeline_name: the pipeline's name in Kubeflow.
    """
    from tfx import v1 as tfx

    from pipelines import penguin_pipeline

    # `/`, not os.path.join: the root is usually a URI such as gs://bucket/penguin.
    root = pipeline_root.rstrip("/")
    pipeline = penguin_pipeline.create_pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        data_root=data_root or f"{root}/data",
        serving_model_dir=serving_model_dir or f"{root}/serving_model",
        beam_pipeline_args=list(beam_pipeline_args),
        train_steps=train_steps,
        # KFP v2 runs no TFX component drivers: it fills this placeholder with the run.
        run_id=KFP_RUN_ID,
    )
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=image, use_pipeline_spec_2_1=True
        ),
        output_dir=os.path.dirname(output_file) or ".",
        output_filename=os.path.basename(output_file),
    )
    runner.run(pipeline, write_out=True)
    return output_file


def google_cloud_credentials_problem() -> str | None:
    """Why this machine cannot write to `gs://`, told without touching the network.

    None when credentials may be there: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
    application default credentials, or a Google Compute Engine machine (its metadata
    server). Otherwise compiling would fail deep in TensorFlow's GCS filesystem.
    """
    configured = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if configured:
        if os.path.isfile(configured):
            return None
        return f"GOOGLE_APPLICATION_CREDENTIALS names {configured!r}, which is not a file"
    gcloud = os.environ.get("CLOUDSDK_CONFIG") or os.path.expanduser("~/.config/gcloud")
    if os.path.isfile(os.path.join(gcloud, "application_default_credentials.json")):
        return None
    try:
        with open("/sys/class/dmi/id/product_name") as f:
            if f.read().strip().startswith("Google"):
                return None
    except OSError:
        pass
    return (
        "no Google Cloud credentials to write the pipeline root: set "
        "GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pipeline-root", required=True, help="where artifacts go, e.g. gs://BUCKET/penguin"
    )
    parser.add_argument("--data-root", help="folder holding penguins.csv (<root>/data)")
    parser.add_argument("--serving-model-dir", help="push destination (<root>/serving_model)")
    parser.add_argument(
        "--image", default=DEFAULT_IMAGE, help=f"image of every step (default {DEFAULT_IMAGE})"
    )
    parser.add_argument("--output-file", default=DEFAULT_OUTPUT_FILE)
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument(
        "--beam-pipeline-args",
        default="",
        help="Beam options for the components, one shell-quoted string",
    )
    args = parser.parse_args(argv)
    problem = google_cloud_credentials_problem() if args.pipeline_root.startswith("gs://") else None
    if problem:
        print(f"run_kubeflow: error: {problem}", file=sys.stderr)
        return 2
    try:
        path = compile_pipeline(
            pipeline_root=args.pipeline_root,
            output_file=args.output_file,
            image=args.image,
            data_root=args.data_root,
            serving_model_dir=args.serving_model_dir,
            train_steps=args.train_steps,
            beam_pipeline_args=shlex.split(args.beam_pipeline_args),
        )
    except Exception as e:  # TFX and TF's filesystems raise many kinds: one line each
        reason = " ".join(str(e).split())[:300]
        print(f"run_kubeflow: error: cannot compile the pipeline: {reason}", file=sys.stderr)
        return 2
    print(f"Kubeflow Pipelines v2 definition written to {path} (image {args.image})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
