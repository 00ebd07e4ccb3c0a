"""Runs the penguin pipeline on TFX's LocalDagRunner and prints where the model card is.

Usage: python -m pipelines.run_local [--output-dir build/demo] [--train-steps 200]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

PIPELINE_NAME = "penguin-model-card"


def demo_paths(output_dir: str) -> dict[str, str]:
    """Where the demo keeps its data, pipeline root, MLMD store and pushed models."""
    output_dir = os.path.abspath(output_dir)
    return {
        "data_root": os.path.join(output_dir, "data"),
        "pipeline_root": os.path.join(output_dir, "pipeline_root"),
        "metadata_path": os.path.join(output_dir, "metadata.sqlite"),
        "serving_model_dir": os.path.join(output_dir, "serving_model"),
    }


def run(
    output_dir: str,
    train_steps: int = 200,
    pipeline_name: str = PIPELINE_NAME,
    **options: Any,
) -> None:
    """Prepares the data and runs the whole pipeline once (`options`: `create_pipeline`'s)."""
    from tfx import v1 as tfx

    from pipelines import penguin_data, penguin_pipeline

    paths = demo_paths(output_dir)
    penguin_data.write_penguins_csv(paths["data_root"])
    tfx.orchestration.LocalDagRunner().run(
        penguin_pipeline.create_pipeline(
            pipeline_name=pipeline_name, train_steps=train_steps, **paths, **options
        )
    )


def latest_model_card(metadata_path: str):
    """The newest `ModelCard` artifact in an MLMD SQLite store, or None."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    from mct_component.generator.artifact import ModelCard

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    cards = metadata_store.MetadataStore(config).get_artifacts_by_type(ModelCard.TYPE_NAME)
    return max(cards, key=lambda a: a.id) if cards else None


def report_model_card(metadata_path: str) -> int:
    """Prints where the newest model card is; returns the exit status (1: no card)."""
    artifact = latest_model_card(metadata_path)
    if artifact is None:
        print(f"error: no ModelCard artifact in {metadata_path}", file=sys.stderr)
        return 1
    print(f"\nModelCard artifact {artifact.id} registered in MLMD store {metadata_path}")
    print(f"  card directory: {artifact.uri}")
    for name in sorted(os.listdir(artifact.uri)):
        print(f"    {name}")
    print(f"Open in a browser: file://{os.path.join(artifact.uri, 'model_card.html')}")
    return 0


def record_push(metadata_path: str, pipeline_name: str = PIPELINE_NAME) -> str:
    """Records where the Pusher put the newest model as the next version of its card.

    The demo's card gates the push, so it is made before the push; this adds the
    version that says where the model went (`mct.record_push`), so that the card and
    the dashboard agree. Returns a line saying what was recorded.
    """
    import mct_component as mct
    from mct_component.mlmd import lineage, store

    model_id = lineage.newest_model_id(store.connect(metadata_path), pipeline_name)
    version = mct.record_push(metadata_path, model_id, by="pipelines.run_local")
    return f"Recorded the push as version {version.version} of model {model_id}'s card"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="build/demo", help="where all outputs go")
    parser.add_argument("--train-steps", type=int, default=200)
    args = parser.parse_args(argv)
    run(args.output_dir, args.train_steps)
    metadata_path = demo_paths(args.output_dir)["metadata_path"]
    print(record_push(metadata_path))
    return report_model_card(metadata_path)


if __name__ == "__main__":
    sys.exit(main())
