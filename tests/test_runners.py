"""The penguin pipeline on the other runners.

BeamDagRunner runs the whole pipeline, with its components on a multi-process Beam
DirectRunner. For Kubeflow Pipelines v2 the pipeline is compiled, then our step is run
the way the KFP launcher runs it: the container command and arguments from the compiled
IR, with the executor input built from real upstream artifacts of `penguin_run`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from mct_component.card import validation
from tests.conftest import assert_output_of_card_generator

pytestmark = [pytest.mark.slow, pytest.mark.tf]

CARD_FILES = ["model_card.html", "model_card.json", "model_card.md"]
MODEL_NAME = "Palmer penguins species classifier"
BEAM_ARGS = "--direct_running_mode=multi_processing --direct_num_workers=2"
IMAGE = "registry.example.com/mct-component:test"
ENTRYPOINT = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
# Vertex ML Metadata schema titles are `<namespace>.<Title>`; TFX checks the same pattern.
SCHEMA_TITLE = re.compile(r"[a-z][a-z0-9-_]{2,20}[.][A-Z][a-zA-Z0-9-_]{2,49}")
STORE = "projects/1/locations/us-central1/metadataStores/default/artifacts"
# What KFP substitutes for `{{$.pipeline_job_name}}` in a task's parameter values.
JOB_NAME = "penguin-model-card-20261201093000"


def read_card(uri: str) -> dict:
    names = set(os.listdir(uri))
    assert names >= set(CARD_FILES), f"{uri} holds {sorted(names)}, expected {CARD_FILES}"
    with open(os.path.join(uri, "model_card.json")) as f:
        data = json.load(f)
    validation.validate_card_dict(data)
    return data


# --- BeamDagRunner ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def beam_store(tmp_path_factory):
    """The MLMD store of one full pipeline run through `python -m pipelines.run_beam`."""
    from mct_component.mlmd import store
    from pipelines import run_beam, run_local

    output_dir = str(tmp_path_factory.mktemp("beam"))
    argv = ["--output-dir", output_dir, "--train-steps", "100", "--beam-pipeline-args", BEAM_ARGS]
    assert run_beam.main(argv) == 0
    return store.connect_sqlite(run_local.demo_paths(output_dir)["metadata_path"])


def test_beam_run_registers_the_card_as_generator_output(beam_store):
    from mct_component.generator.artifact import ModelCard

    (artifact,) = beam_store.get_artifacts_by_type(ModelCard.TYPE_NAME)
    assert_output_of_card_generator(beam_store, artifact.id)


def test_beam_run_writes_a_valid_card(beam_store):
    from mct_component.generator.artifact import ModelCard

    (artifact,) = beam_store.get_artifacts_by_type(ModelCard.TYPE_NAME)
    data = read_card(artifact.uri)
    assert data["model_details"]["name"] == MODEL_NAME
    assert data["missing"] == [
        "No PushedModel: deployment status is unknown "
        "(from_components(..., pusher=pusher) wires it)."
    ]
    assert data["quantitative_analysis"]["overall"]
    # Wired with from_components, the generator ran after the Evaluator; the Pusher
    # waited for its push gate, which blessed the model.
    evaluator, gate = sorted(beam_store.get_artifacts_by_type("ModelBlessing"), key=lambda a: a.id)
    assert data["quantitative_analysis"]["blessing_source"]["artifact_id"] == evaluator.id
    assert gate.custom_properties["blessed"].int_value == 1
    (pushed,) = beam_store.get_artifacts_by_type("PushedModel")
    assert pushed.custom_properties["pushed"].int_value == 1


# --- Kubeflow Pipelines v2 -------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_job(tmp_path_factory) -> dict:
    """The compiled PipelineJob, with a non-local (in-memory) pipeline root."""
    from pipelines import run_kubeflow

    output_file = tmp_path_factory.mktemp("kubeflow") / "pipeline.json"
    argv = ["--pipeline-root", "ram://kfp/root", "--image", IMAGE]
    # The steps of penguin_run's newest run, whose artifacts the step reads below.
    argv += ["--output-file", str(output_file), "--train-steps", "150"]
    assert run_kubeflow.main(argv) == 0
    with open(output_file) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def card_step(pipeline_job) -> dict:
    """Our step in the IR: its component definition, DAG task and container."""
    spec = pipeline_job["pipelineSpec"]
    task = spec["root"]["dag"]["tasks"]["ModelCardGenerator"]
    component = spec["components"][task["componentRef"]["name"]]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    return {"component": component, "task": task, "container": container, "pipeline": spec}


def test_kubeflow_ir_runs_our_executor_in_the_image(pipeline_job, card_step):
    assert pipeline_job["runtimeConfig"]["gcsOutputDirectory"] == "ram://kfp/root"
    assert pipeline_job["pipelineSpec"]["schemaVersion"] == "2.1.0"
    container = card_step["container"]
    assert container["image"] == IMAGE
    assert container["command"] == ["python", "-m", ENTRYPOINT]
    args = container["args"]
    assert (
        args[args.index("--executor_class_path") + 1] == "mct_component.generator.executor.Executor"
    )
    assert args[args.index("--json_serialized_invocation_args") + 1] == "{{$}}"


def test_kubeflow_ir_wires_every_card_input(card_step):
    sources = {
        key: value["taskOutputArtifact"]
        for key, value in card_step["task"]["inputs"]["artifacts"].items()
    }
    producers = {key: (s["producerTask"], s["outputArtifactKey"]) for key, s in sources.items()}
    assert producers == {
        "model": ("Trainer", "model"),
        "statistics": ("StatisticsGen", "statistics"),
        "schema": ("SchemaGen", "schema"),
        "evaluation": ("Evaluator", "evaluation"),
        "blessing": ("Evaluator", "blessing"),
        "transform_graph": ("Transform", "transform_graph"),
        "anomalies": ("ExampleValidator", "anomalies"),
    }
    # The Pusher pushes what the card's push gate blesses.
    pusher = card_step["pipeline"]["root"]["dag"]["tasks"]["Pusher"]
    gate = pusher["inputs"]["artifacts"]["model_blessing"]["taskOutputArtifact"]
    assert (gate["producerTask"], gate["outputArtifactKey"]) == (
        "ModelCardGenerator",
        "push_blessing",
    )
    parameters = card_step["task"]["inputs"]["parameters"]
    content = json.loads(parameters["card_content"]["runtimeValue"]["constant"])
    assert content["model_details"]["name"] == MODEL_NAME


def test_kubeflow_ir_declares_a_valid_custom_artifact_type(card_step):
    from mct_component.generator.artifact import ModelCard

    output = card_step["component"]["outputDefinitions"]["artifacts"]["model_card"]
    schema = output["artifactType"]["instanceSchema"]
    title = re.fullmatch(r"title: (\S+)\ntype: object\n", schema).group(1)
    assert title == ModelCard.TYPE_NAME
    assert SCHEMA_TITLE.fullmatch(title), f"{title!r} is not a <namespace>.<Title> schema title"


def _upstream_artifact(store, producer: str, output_key: str):
    """The artifact that pipeline node `producer` last output under `output_key`."""
    from ml_metadata.proto import metadata_store_pb2

    complete = metadata_store_pb2.Execution.COMPLETE
    executions = [
        execution
        for context in store.get_contexts_by_type("node")
        if context.name.endswith(f".{producer}")
        for execution in store.get_executions_by_context(context.id)
        if execution.last_known_state == complete
    ]
    assert executions, f"no finished execution of node {producer!r} in the store"
    newest = max(executions, key=lambda e: e.id)
    ids = [
        event.artifact_id
        for event in store.get_events_by_execution_ids([newest.id])
        if event.type == metadata_store_pb2.Event.OUTPUT and event.path.steps[0].key == output_key
    ]
    assert len(ids) == 1, f"node {producer!r} output {output_key!r}: artifacts {ids}"
    return store.get_artifacts_by_id(ids)[0]


def _runtime_artifact(artifact, artifact_type: dict) -> dict:
    """An MLMD artifact as the KFP launcher passes it: properties become metadata."""
    from google.protobuf import json_format

    metadata = {}
    for key, value in [*artifact.properties.items(), *artifact.custom_properties.items()]:
        kind = value.WhichOneof("value")
        if kind in ("int_value", "double_value"):
            metadata[key] = float(getattr(value, kind))
        elif kind == "string_value":
            metadata[key] = value.string_value
        elif kind == "struct_value":
            metadata[key] = json_format.MessageToDict(value.struct_value)
    return {
        "name": f"{STORE}/{artifact.id}",
        "type": artifact_type,
        "uri": artifact.uri,
        "metadata": metadata,
    }


def _kfp_substituted(value):
    """A parameter value as the KFP driver passes it: its job placeholders filled in."""
    if isinstance(value, str):
        return value.replace("{{$.pipeline_job_name}}", JOB_NAME)
    return value


def executor_input(card_step, store, output_uri: str, output_file: str) -> dict:
    """The ExecutorInput the KFP launcher would hand our step (pipeline spec 2.1)."""
    definitions = card_step["component"]["inputDefinitions"]["artifacts"]
    artifacts = {}
    for key, value in card_step["task"]["inputs"]["artifacts"].items():
        source = value["taskOutputArtifact"]
        upstream = _upstream_artifact(store, source["producerTask"], source["outputArtifactKey"])
        runtime = _runtime_artifact(upstream, definitions[key]["artifactType"])
        artifacts[key] = {"artifacts": [runtime]}
    parameters = card_step["task"]["inputs"]["parameters"]
    declared = card_step["component"]["outputDefinitions"]["artifacts"]
    outputs = {
        key: {
            "artifacts": [
                {
                    "name": f"{STORE}/card" if key == "model_card" else f"{STORE}/{key}",
                    "type": declared[key]["artifactType"],
                    "uri": output_uri if key == "model_card" else f"{output_uri}-{key}",
                }
            ]
        }
        for key in declared
    }
    return {
        "inputs": {
            "artifacts": artifacts,
            "parameterValues": {
                k: _kfp_substituted(v["runtimeValue"]["constant"]) for k, v in parameters.items()
            },
        },
        "outputs": {
            "artifacts": outputs,
            "outputFile": output_file,
        },
    }


def test_kubeflow_step_writes_the_card_from_real_upstream_artifacts(
    card_step, penguin_run, tmp_path
):
    output_uri = str(tmp_path / "pipeline_root" / "ModelCardGenerator" / "model_card")
    output_file = str(tmp_path / "kfp_outputs" / "output_metadata.json")
    invocation = json.dumps(executor_input(card_step, penguin_run.store(), output_uri, output_file))
    container = card_step["container"]
    # The image's `python` is this interpreter; `{{$}}` is the launcher's placeholder for
    # the whole executor input.
    assert container["command"][0] == "python"
    command = [sys.executable, *container["command"][1:]]
    args = [invocation if arg == "{{$}}" else arg for arg in container["args"]]
    assert not [a for a in args if "{{$" in a], "unsubstituted KFP placeholder in args"
    result = subprocess.run(
        command + args,
        cwd=tmp_path,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"KFP step failed:\n{result.stderr[-4000:]}"

    # Every explicit input reached the card, and what the pipeline definition knows
    # stands in for lineage (KFP runs no driver): training, pipeline and run.
    data = read_card(output_uri)
    assert data["model_details"]["name"] == MODEL_NAME
    from mct_component.generator.artifact import ModelCard
    from pipelines import run_local

    local = read_card(penguin_run.artifact(ModelCard.TYPE_NAME).uri)
    assert {**data["training"], "source": None} == {**local["training"], "source": None}
    assert data["training"]["train_steps"] == 150 and data["training"]["transform"] is True
    details = data["model_details"]
    assert (details["pipeline_name"], details["run_id"]) == (run_local.PIPELINE_NAME, JOB_NAME)
    assert details["version"] == JOB_NAME
    assert not [note for note in data["missing"] if "Trainer" in note]
    assert data["datasets"] and data["schema"]["features"]
    analysis = data["quantitative_analysis"]
    assert analysis["overall"] and isinstance(analysis["blessed"], bool)
    assert data["deployment"] is None  # the card comes before the push it gates
    with open(output_file) as f:
        written = json.load(f)["artifacts"]
    (reported,) = written["model_card"]["artifacts"]
    assert reported["name"] == f"{STORE}/card"
    assert reported["uri"] == output_uri
    assert reported["metadata"]["model_name"] == MODEL_NAME
    assert reported["metadata"]["formats"] == "json,html,md"
    assert reported["metadata"]["blessed"] == float(analysis["blessed"])
    # The push gate follows the Evaluator here (the card meets the demo's completeness gate
    # and risk limit); the Evaluator may refuse run 2's model, as training is not seeded.
    (gate,) = written["push_blessing"]["artifacts"]
    assert gate["metadata"]["blessed"] == float(analysis["blessed"])
    verdict = "BLESSED" if analysis["blessed"] else "NOT_BLESSED"
    assert os.path.exists(os.path.join(f"{output_uri}-push_blessing", verdict))


def test_compiling_for_gcs_without_credentials_is_one_line(tmp_path):
    """`PIPELINE_ROOT=gs://… make compile-kubeflow` on a machine with no Google credentials."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("GOOGLE_APPLICATION_CREDENTIALS",)
    }
    environment.update(HOME=str(tmp_path), CLOUDSDK_CONFIG=str(tmp_path / "gcloud"))
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.run_kubeflow", "--pipeline-root", "gs://b/penguin"],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "run_kubeflow: error: no Google Cloud credentials to write the pipeline root: set "
        "GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`"
    ]
