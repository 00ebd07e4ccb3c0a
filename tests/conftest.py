"""Shared fixtures. The penguin pipeline runs once per test session (about 2 minutes).

Set MCT_TEST_PIPELINE_DIR to a folder to keep that run between sessions: a folder that
already holds a finished run is reused instead of running the pipeline again.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclasses.dataclass(frozen=True)
class PenguinRun:
    output_dir: str
    metadata_path: str

    def store(self):
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2

        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = self.metadata_path
        return metadata_store.MetadataStore(config)

    def artifact(self, type_name: str):
        """The newest artifact of a type, as a `tfx.types.Artifact`."""
        from tfx.types import artifact_utils

        store = self.store()
        artifact_type = store.get_artifact_type(type_name)
        newest = max(store.get_artifacts_by_type(type_name), key=lambda a: a.id)
        return artifact_utils.deserialize_artifact(artifact_type, newest)


@pytest.fixture(scope="session")
def penguin_run(tmp_path_factory) -> PenguinRun:
    from pipelines import run_local

    output_dir = os.environ.get("MCT_TEST_PIPELINE_DIR") or str(tmp_path_factory.mktemp("penguin"))
    metadata_path = run_local.demo_paths(output_dir)["metadata_path"]
    if not (os.path.exists(metadata_path) and run_local.latest_model_card(metadata_path)):
        run_local.run(output_dir, train_steps=100, pipeline_name="penguin-test")
    return PenguinRun(output_dir=output_dir, metadata_path=metadata_path)
