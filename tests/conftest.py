"""Shared fixtures: real pipeline runs, made once per test session.

`penguin_run` runs the penguin pipeline twice into one MLMD store (about 4 minutes): the
second run's Evaluator compares against the first run's blessed model, so lineage
tests can check that each model gets its own run's artifacts and the card can diff
against the previous blessed model. The second run sets a completeness gate its card
cannot meet (`UNMET_GATE`), so its push gate says no and its Pusher does not push. `minimal_run` runs a pipeline without Transform
or Evaluator that also imports a model with an Importer.

Set MCT_TEST_PIPELINE_DIR to a folder to keep these runs between sessions: a folder
holding finished runs is reused, anything else in it is replaced.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DONE_MARKER = ".complete"
# The demo card is 93% complete (no business details): this gate warns, and stops the push.
UNMET_GATE = {"minimum": 0.99, "action": "warn"}


@dataclasses.dataclass(frozen=True)
class PipelineRun:
    output_dir: str
    metadata_path: str
    pipeline_name: str

    def store(self):
        from mct_component.mlmd import store

        return store.connect_sqlite(self.metadata_path)

    def artifacts(self, type_name: str):
        """All artifacts of a type as `tfx.types.Artifact`s, oldest first."""
        from tfx.types import artifact_utils

        store = self.store()
        artifact_type = store.get_artifact_type(type_name)
        found = sorted(store.get_artifacts_by_type(type_name), key=lambda a: a.id)
        return [artifact_utils.deserialize_artifact(artifact_type, a) for a in found]

    def trained_and_imported_models(self):
        """The model this run trained (under its own root) and the one it imported."""
        models = self.artifacts("Model")
        (trained,) = [m for m in models if m.uri.startswith(self.output_dir)]
        (imported,) = [m for m in models if m.id != trained.id]
        return trained, imported

    def artifact(self, type_name: str, producer: str = ""):
        """The newest artifact of a type (that `producer` wrote), as a `tfx.types.Artifact`."""
        return [a for a in self.artifacts(type_name) if f"/{producer}/" in a.uri or not producer][
            -1
        ]


def assert_output_of_card_generator(store, artifact_id: int) -> None:
    """Checks that MLMD records the artifact as the output of one finished generator run."""
    from ml_metadata.proto import metadata_store_pb2

    events = store.get_events_by_artifact_ids([artifact_id])
    outputs = [e for e in events if e.type == metadata_store_pb2.Event.OUTPUT]
    assert len(outputs) == 1
    (execution,) = store.get_executions_by_id([outputs[0].execution_id])
    assert execution.last_known_state == metadata_store_pb2.Execution.COMPLETE
    (execution_type,) = store.get_execution_types_by_id([execution.type_id])
    assert execution_type.name.endswith("ModelCardGenerator")


def _cached_or_new(tmp_path_factory, name: str) -> tuple[str, bool]:
    """The folder for a run, and whether it already holds a finished one."""
    root = os.environ.get("MCT_TEST_PIPELINE_DIR")
    if not root:
        return str(tmp_path_factory.mktemp(name)), False
    folder = os.path.join(os.path.abspath(root), name)
    if os.path.exists(os.path.join(folder, DONE_MARKER)):
        return folder, True
    shutil.rmtree(folder, ignore_errors=True)
    return folder, False


def _mark_done(folder: str) -> None:
    with open(os.path.join(folder, DONE_MARKER), "w") as f:
        f.write("finished\n")


@pytest.fixture(scope="session")
def penguin_run(tmp_path_factory) -> PipelineRun:
    from pipelines import run_local

    folder, done = _cached_or_new(tmp_path_factory, "penguin")
    if not done:
        run_local.run(folder, train_steps=100, pipeline_name="penguin-test")
        run_local.run(
            folder, train_steps=150, pipeline_name="penguin-test", completeness_gate=UNMET_GATE
        )
        _mark_done(folder)
    paths = run_local.demo_paths(folder)
    return PipelineRun(folder, paths["metadata_path"], "penguin-test")


@pytest.fixture(scope="session")
def reviews_run(tmp_path_factory) -> PipelineRun:
    """The free-text pipeline (`pipelines/reviews_pipeline.py`) run once on generated reviews."""
    from pipelines import reviews_data, reviews_pipeline

    return _example_run(
        tmp_path_factory, "reviews", reviews_data.write_reviews_csv, reviews_pipeline
    )


@pytest.fixture(scope="session")
def regression_run(tmp_path_factory) -> PipelineRun:
    """The regression pipeline (`pipelines/penguin_regression.py`): a body-mass model and
    a model of two outputs, each evaluated and carded."""
    from pipelines import penguin_data, penguin_regression

    return _example_run(
        tmp_path_factory, "regression", penguin_data.write_penguins_csv, penguin_regression
    )


def _example_run(tmp_path_factory, name, write_data, pipeline_module) -> PipelineRun:
    """`pipeline_module.create_pipeline` run once on LocalDagRunner over `write_data`'s
    dataset (or the run cached under `name`)."""
    from pipelines import run_local

    folder, done = _cached_or_new(tmp_path_factory, name)
    paths = run_local.demo_paths(folder)
    if not done:
        from tfx import v1 as tfx

        write_data(paths["data_root"])
        tfx.orchestration.LocalDagRunner().run(
            pipeline_module.create_pipeline(
                paths["pipeline_root"], paths["data_root"], paths["metadata_path"]
            )
        )
        _mark_done(folder)
    return PipelineRun(folder, paths["metadata_path"], pipeline_module.PIPELINE_NAME)


@pytest.fixture(scope="session")
def mysql_server(tmp_path_factory):
    """A MariaDB server of the tests' own on 127.0.0.1 (see `tests/mysql_server.py`)."""
    from tests.mysql_server import MySQLServer

    server = MySQLServer(str(tmp_path_factory.mktemp("mysql")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mysql_run(tmp_path_factory, mysql_server):
    """One run of the demo pipeline with its MLMD store on the MySQL server."""
    from pipelines import run_local

    folder = str(tmp_path_factory.mktemp("penguin-mysql"))
    config = mysql_server.connection_config("penguin")
    run_local.run(
        folder, train_steps=100, pipeline_name="penguin-mysql", metadata_connection_config=config
    )
    return folder, config


@pytest.fixture(scope="session")
def minimal_run(tmp_path_factory, penguin_run) -> PipelineRun:
    from pipelines import run_local

    folder, done = _cached_or_new(tmp_path_factory, "minimal")
    if not done:
        _run_minimal(folder, penguin_run)
    return PipelineRun(folder, run_local.demo_paths(folder)["metadata_path"], "penguin-minimal")


def _run_minimal(folder: str, penguin_run: PipelineRun) -> None:
    """Runs the minimal pipeline into `folder` (its store may already hold other runs)."""
    from tfx import v1 as tfx

    from pipelines import penguin_data, penguin_minimal, run_local

    paths = run_local.demo_paths(folder)
    penguin_data.write_penguins_csv(paths["data_root"])
    tfx.orchestration.LocalDagRunner().run(
        penguin_minimal.create_pipeline(
            pipeline_name="penguin-minimal",
            pipeline_root=paths["pipeline_root"],
            data_root=paths["data_root"],
            metadata_path=paths["metadata_path"],
            imported_model_uri=penguin_run.artifacts("Model")[0].uri,
        )
    )
    _mark_done(folder)


@pytest.fixture(scope="session")
def dashboard_run(tmp_path_factory, penguin_run) -> PipelineRun:
    """One store holding the demo's two runs and the minimal pipeline's models (no cards).

    A copy of `penguin_run`'s store, into which the minimal pipeline (no Evaluator, no
    Pusher, an Importer, an ExampleValidator that finds anomalies) then runs.
    """
    from pipelines import run_local

    folder, done = _cached_or_new(tmp_path_factory, "dashboard")
    paths = run_local.demo_paths(folder)
    if not done:
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(penguin_run.metadata_path, paths["metadata_path"])
        _run_minimal(folder, penguin_run)
    return PipelineRun(folder, paths["metadata_path"], "penguin-minimal")


# Modules whose import makes a test belong to the `tf` tier.
# (`tfx` alone is not: its local filesystem plugin loads no TensorFlow.)
HEAVY_MODULES = ("tensorflow", "tensorflow_model_analysis", "apache_beam")


_heavy_import_reported = False


@pytest.fixture(autouse=True)
def _fast_tier_stays_light(request):
    """Under a marker expression that deselects `tf`, a test that imports TensorFlow,
    TFMA or Beam (or finds them imported at collection) fails: it lacks its `tf` marker
    and makes the fast tier slow. Checked after each test, so it also holds under xdist."""
    global _heavy_import_reported
    yield
    if "not tf" not in (request.config.getoption("markexpr") or "") or _heavy_import_reported:
        return
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    if loaded:
        _heavy_import_reported = True
        pytest.fail(f"the tier without `tf` imported {', '.join(loaded)}: mark this test `tf`")
