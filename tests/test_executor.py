"""The executor on real artifacts from a real penguin pipeline run."""

from __future__ import annotations

import json
import os
import re
import tempfile

import pytest

from mct_component import constants
from mct_component.assembly import assemble
from mct_component.card import validation
from mct_component.errors import (
    ParameterError,
    SourceError,
    TemplateError,
    TemplateNotFoundError,
)
from mct_component.generator import parameters
from mct_component.mlmd import lineage

pytestmark = [pytest.mark.slow, pytest.mark.tf]

ALL_INPUTS = {
    "model": "Model",
    "statistics": "ExampleStatistics",
    "schema": "Schema",
    "evaluation": "ModelEvaluation",
    "blessing": "ModelBlessing",
    "pushed_model": "PushedModel",
}


def _statistics_gen_output(penguin_run):
    """The StatisticsGen output (Transform also writes ExampleStatistics, without splits)."""
    from tfx.types import artifact_utils

    store = penguin_run.store()
    artifact_type = store.get_artifact_type("ExampleStatistics")
    candidates = [
        a for a in store.get_artifacts_by_type("ExampleStatistics") if "split_names" in a.properties
    ]
    return artifact_utils.deserialize_artifact(artifact_type, max(candidates, key=lambda a: a.id))


@pytest.fixture(scope="module")
def inputs(penguin_run):
    result = {key: [penguin_run.artifact(type_name)] for key, type_name in ALL_INPUTS.items()}
    result["blessing"] = [penguin_run.artifact("ModelBlessing", producer="Evaluator")]
    result["statistics"] = [_statistics_gen_output(penguin_run)]
    return result


def run_executor(input_dict, output_uri, blessing=None, driver_properties=None, **params):
    from mct_component.generator.artifact import ModelCard
    from mct_component.generator.executor import Executor

    output = ModelCard()
    output.uri = str(output_uri)
    outputs = {"model_card": [output], **({"push_blessing": [blessing]} if blessing else {})}
    properties = {**parameters.encode(**params), **(driver_properties or {})}
    Executor().Do(input_dict, outputs, properties)
    return output


def read_card(uri) -> dict:
    with open(os.path.join(uri, "model_card.json")) as f:
        return json.load(f)


def test_metrics_match_tfma_exactly(inputs, tmp_path):
    import tensorflow_model_analysis as tfma

    data = read_card(run_executor(inputs, tmp_path).uri)
    expected = {}
    for record in tfma.load_metrics(inputs["evaluation"][0].uri):
        name = (
            ", ".join(
                f"{k.column}={k.bytes_value.decode() if k.HasField('bytes_value') else k.int64_value}"
                for k in record.slice_key.single_slice_keys
            )
            or "Overall"
        )
        for kv in record.metric_keys_and_values:
            candidate = kv.key.model_name != "baseline"  # the second run has a baseline
            if kv.value.HasField("double_value") and not kv.key.is_diff and candidate:
                expected[(name, kv.key.name)] = kv.value.double_value.value
    qa = data["quantitative_analysis"]
    actual = {("Overall", m["name"]): m["value"] for m in qa["overall"]}
    for entry in qa["slices"]:
        actual.update({(entry["slice"], m["name"]): m["value"] for m in entry["metrics"]})
    assert actual == expected
    assert len(qa["slices"]) == 5  # 3 islands + 2 sexes


def test_confidence_intervals_come_from_tfma(inputs, tmp_path):
    import tensorflow_model_analysis as tfma

    data = read_card(run_executor(inputs, tmp_path).uri)
    expected = {}
    overall = next(
        r
        for r in tfma.load_metrics(inputs["evaluation"][0].uri)
        if not r.slice_key.single_slice_keys
    )
    for kv in overall.metric_keys_and_values:
        candidate = kv.key.model_name != "baseline" and not kv.key.is_diff
        if candidate and kv.HasField("confidence_interval"):
            ci = kv.confidence_interval
            raw = (ci.lower_bound.double_value.value, ci.upper_bound.double_value.value)
            # TFMA's bootstrap interval may run past an accuracy's range: the card cuts it.
            bounded = max(raw[0], 0.0), min(raw[1], 1.0)
            kept = bounded if "accuracy" in kv.key.name else raw
            expected[kv.key.name] = (*kept, kept != raw)
    actual = {
        m["name"]: (m["lower_bound"], m["upper_bound"], bool(m.get("interval_clipped")))
        for m in data["quantitative_analysis"]["overall"]
        if m["lower_bound"] is not None
    }
    assert actual == expected
    assert "sparse_categorical_accuracy" in actual  # the EvalConfig asks for intervals


def test_splits_match_tfdv(inputs, tmp_path):
    import tensorflow_data_validation as tfdv

    data = read_card(run_executor(inputs, tmp_path).uri)
    stats_uri = inputs["statistics"][0].uri
    for split in data["datasets"]:
        stats = tfdv.load_stats_binary(
            os.path.join(stats_uri, f"Split-{split['name']}", "FeatureStats.pb")
        )
        assert split["num_examples"] == stats.datasets[0].num_examples
        assert split["num_features"] == len(stats.datasets[0].features)
        assert split["source"]["artifact_id"] == inputs["statistics"][0].id
    assert sum(s["num_examples"] for s in data["datasets"]) == 333


def test_feature_summaries_match_tfdv(inputs, tmp_path):
    import tensorflow_data_validation as tfdv

    data = read_card(run_executor(inputs, tmp_path).uri)
    stats_uri = inputs["statistics"][0].uri
    for split in data["datasets"]:
        path = os.path.join(stats_uri, f"Split-{split['name']}", "FeatureStats.pb")
        view = tfdv.DatasetListView(tfdv.load_stats_binary(path)).get_default_slice()
        assert len(split["features"]) == 7
        for feature in split["features"]:
            proto = view.get_feature(tfdv.FeaturePath([feature["name"]])).proto()
            if proto.HasField("num_stats"):
                assert feature["mean"] == proto.num_stats.mean
                assert feature["std_dev"] == proto.num_stats.std_dev
                assert (feature["min"], feature["max"]) == (
                    proto.num_stats.min,
                    proto.num_stats.max,
                )
                assert feature["chart"]["kind"] == "histogram"
                counts = [b["count"] for b in feature["chart"]["buckets"]]
                standard = next(h for h in proto.num_stats.histograms if h.type == h.STANDARD)
                assert counts == [b.sample_count for b in standard.buckets]
            else:
                assert feature["unique"] == proto.string_stats.unique
                top = proto.string_stats.top_values
                assert [t["value"] for t in feature["top_values"]] == [t.value for t in top][:10]
                assert feature["chart"]["kind"] == "bar_chart"
            assert feature["missing_pct"] == 0.0  # the demo keeps complete rows only


def test_thresholds_and_plots_come_from_tfma(inputs, tmp_path):
    import tensorflow_model_analysis as tfma

    data = read_card(run_executor(inputs, tmp_path).uri)
    qa = data["quantitative_analysis"]
    validation = tfma.load_validation_result(inputs["evaluation"][0].uri)
    kinds = {(t["metric"], t["kind"]) for t in qa["thresholds"]}
    assert ("sparse_categorical_accuracy", "value") in kinds
    # the second run had a blessed baseline, so TFMA kept the change threshold too
    assert ("sparse_categorical_accuracy", "change") in kinds
    (change,) = [t for t in qa["thresholds"] if t["kind"] == "change"]
    assert (change["absolute"], change["direction"]) == (-1e-10, "HIGHER_IS_BETTER")
    results = [t["passed"] for t in qa["thresholds"]]
    assert all(results) if validation.validation_ok else False in results
    titles = [c["title"] for c in qa["charts"]]
    assert "sparse_categorical_accuracy by slice" in titles
    (matrix,) = [c for c in qa["charts"] if c["kind"] == "matrix"]
    assert sum(map(sum, matrix["values"])) == 103  # every eval example, once


def _confusion_matrix(data):
    (matrix,) = [c for c in data["quantitative_analysis"]["charts"] if c["kind"] == "matrix"]
    return matrix


def test_label_vocabulary_names_the_classes(penguin_run, inputs, tmp_path):
    import tensorflow_transform as tft

    graph = penguin_run.artifact("TransformGraph")
    with_graph = {**inputs, "transform_graph": [graph]}
    data = read_card(run_executor(with_graph, tmp_path, label_vocabulary="species").uri)
    vocabulary = tft.TFTransformOutput(graph.uri).vocabulary_by_name("species")
    assert _confusion_matrix(data)["row_labels"] == [t.decode() for t in vocabulary]
    assert "class, threshold" in _confusion_matrix(data)["description"]
    assert not [note for note in data["missing"] if "vocabulary" in note]


@pytest.mark.parametrize(
    ("with_graph", "note"),
    [
        (True, r"has no vocabulary 'speces'; it has \['island', 'sex', 'species'\]"),
        (False, r"Label vocabulary 'speces' not read: no Transform graph"),
    ],
)
def test_unknown_label_vocabulary_is_noted_and_ids_are_shown(
    penguin_run, inputs, tmp_path, with_graph, note
):
    graph = {"transform_graph": [penguin_run.artifact("TransformGraph")]} if with_graph else {}
    data = read_card(run_executor({**inputs, **graph}, tmp_path, label_vocabulary="speces").uri)
    (missing,) = [m for m in data["missing"] if "vocabulary" in m]
    assert re.search(note, missing) and missing.endswith("the confusion matrix shows class ids.")
    assert _confusion_matrix(data)["row_labels"] == ["0", "1", "2"]


def test_human_content_is_merged(inputs, tmp_path):
    content = {"model_details": {"name": "Penguins", "version": "v7"}, "risk": {"rating": "high"}}
    output = run_executor(inputs, tmp_path, card_content=content)
    data = read_card(output.uri)
    assert data["model_details"]["name"] == "Penguins"
    assert data["model_details"]["version"] == "v7"
    assert data["model_details"]["uri"] == inputs["model"][0].uri
    assert data["considerations"]["risk"]["rating"] == "high"
    assert output.get_string_custom_property("model_version") == "v7"


def test_model_only_card_says_what_is_missing(inputs, tmp_path):
    output = run_executor({"model": inputs["model"]}, tmp_path)
    data = read_card(output.uri)
    validation.validate_card_dict(data)
    assert data["missing"] == list(assemble.MISSING_NOTES.values())
    assert data["datasets"] == []
    assert data["quantitative_analysis"]["overall"] == []
    with open(os.path.join(output.uri, "model_card.html")) as f:
        assert "No ModelEvaluation" in f.read()
    assert "blessed" not in output.mlmd_artifact.custom_properties


def test_driver_lineage_fills_a_model_only_card(penguin_run, inputs, tmp_path):
    from mct_component.generator.artifact import ModelCard
    from mct_component.generator.executor import Executor

    resolved = lineage.resolve_lineage(penguin_run.store(), inputs["model"][0].id)
    properties = parameters.encode()
    properties[constants.LINEAGE_KEY] = resolved.to_json()
    output = ModelCard()
    output.uri = str(tmp_path)
    Executor().Do({"model": inputs["model"]}, {"model_card": [output]}, properties)
    data = read_card(tmp_path)
    assert data["missing"] == []
    assert data["model_details"]["run_id"] == resolved.run.name
    assert data["training"]["train_steps"] == 150
    assert data["comparison"]["baseline_model"]["artifact_id"] == resolved.baseline.model.id
    assert data["comparison"]["basis"] == "evaluator_baseline"


def test_lineage_error_is_reported_in_the_card(inputs, tmp_path):
    from mct_component.generator.artifact import ModelCard
    from mct_component.generator.executor import Executor

    properties = parameters.encode()
    properties[constants.LINEAGE_ERROR_KEY] = "store unreachable"
    output = ModelCard()
    output.uri = str(tmp_path)
    Executor().Do(inputs, {"model_card": [output]}, properties)
    assert "Lineage not resolved: store unreachable" in read_card(tmp_path)["missing"]


def test_selected_formats_and_custom_template(inputs, tmp_path):
    template = tmp_path / "short.md.jinja"
    template.write_text("{{ card.model_details.name }}: {{ card.datasets | length }} splits")
    output = run_executor(
        inputs,
        tmp_path / "out",
        card_content={"model_details": {"name": "P"}},
        templates={"md": str(template)},
        output_formats=["md"],
    )
    assert sorted(os.listdir(output.uri)) == [
        ".mct-card",
        "charts",
        "explanation_metadata.json",
        "model_card.md",
    ]
    assert (tmp_path / "out" / "model_card.md").read_text() == "P: 2 splits"


def test_missing_template_at_run_time_writes_nothing(inputs, tmp_path):
    template = tmp_path / "gone.html.jinja"
    template.write_text("x")
    params = parameters.encode(templates={"html": str(template)})
    template.unlink()
    from mct_component.generator.artifact import ModelCard
    from mct_component.generator.executor import Executor

    output = ModelCard()
    output.uri = str(tmp_path / "out")
    with pytest.raises(
        TemplateNotFoundError, match=r"template file not found: .*gone\.html\.jinja"
    ):
        Executor().Do(inputs, {"model_card": [output]}, params)
    assert not os.path.exists(output.uri) or os.listdir(output.uri) == []


def test_broken_template_writes_no_file_at_all(inputs, tmp_path):
    template = tmp_path / "broken.md.jinja"
    template.write_text("{{ card.nothing_here }}")
    out = tmp_path / "out"
    with pytest.raises(TemplateError, match="md template uses an unknown card field"):
        run_executor(inputs, out, templates={"md": str(template)})
    assert not out.exists() or list(out.iterdir()) == []


def test_evaluation_without_metrics_is_a_clear_error(inputs, tmp_path):
    from tfx.types import standard_artifacts

    empty = standard_artifacts.ModelEvaluation()
    empty.uri = str(tmp_path / "empty_eval")
    os.makedirs(empty.uri)
    broken = {**inputs, "evaluation": [empty]}
    with pytest.raises(SourceError, match="has no metrics\\* files; expected the output of TFMA"):
        run_executor(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_writes_to_a_non_local_filesystem(inputs):
    """All output goes through tfx fileio: TensorFlow's in-memory ram:// filesystem works."""
    from tfx.dsl.io import fileio

    output = run_executor(inputs, "ram://mct-test/card")
    written = set(fileio.listdir(output.uri))
    assert {"model_card.html", "model_card.json", "model_card.md", "charts"} <= written
    with fileio.open(os.path.join(output.uri, "model_card.json"), "r") as f:
        assert json.loads(f.read())["model_details"]["uri"] == inputs["model"][0].uri


def _ec_key(folder, name: str = "pipeline") -> tuple[str, str]:
    """A P-256 key pair: (the private key's PEM text, the public key's path)."""
    from tests.keys import ec_key

    private_path, public_path, _ = ec_key(folder, name)
    with open(private_path) as f:
        return f.read(), public_path


def test_the_pipeline_key_from_the_environment_signs_version_1(inputs, tmp_path, monkeypatch):
    import subprocess
    import sys

    from mct_component import files
    from mct_component.governance import lifecycle, signing

    private, public_path = _ec_key(tmp_path)
    monkeypatch.setenv("CARD_SIGNING_KEY", private)  # as a Kubernetes secret would be
    sources = parameters.SigningSources("env:CARD_SIGNING_KEY")
    output = run_executor(inputs, tmp_path / "card", signing_sources=sources)
    card_dir = str(tmp_path / "card")
    with open(public_path, "rb") as f:
        verified = signing.verify(card_dir, [f.read()])
    assert output.get_string_custom_property(constants.SIGNER_PROPERTY) == verified.identity
    assert output.get_string_custom_property(
        constants.SIGNATURE_SHA256_PROPERTY
    ) == signing.bundle_digest(card_dir)
    recorded = lifecycle.fingerprint(files.read_bytes(os.path.join(card_dir, "model_card.json")))
    assert output.get_string_custom_property(constants.SHA256_PROPERTY) == recorded
    library = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "model_signing"), "verify", "key",
         card_dir, "--signature", os.path.join(card_dir, "card.sig"), "--public_key",
         public_path],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert library.returncode == 0, library.stderr
    # The PEM lived in a temporary file only while the card was signed.
    assert not any(name.startswith("mct-key-") for name in os.listdir(tempfile.gettempdir()))


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "env:CARD_SIGNING_KEY_UNSET",
            "the environment variable CARD_SIGNING_KEY_UNSET is not set",
        ),
        ("/no/such/key.pem", "cannot be read"),
    ],
)
def test_a_missing_pipeline_key_fails_before_anything_is_written(inputs, tmp_path, source, message):

    with pytest.raises(ParameterError, match=message):
        run_executor(inputs, tmp_path / "card", signing_sources=parameters.SigningSources(source))
    assert not (tmp_path / "card").exists()


def test_the_push_gate_answers_to_the_review_policy(inputs, tmp_path, monkeypatch):
    from tfx.types import standard_artifacts

    private, public_path = _ec_key(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "approvers: [{name: bob, public_key: bob.pub.pem}]\n"
        f"signers: [{{name: pipeline, public_key: {os.path.basename(public_path)}}}]\n"
        "require_signatures: true\n"
    )
    _ec_key(tmp_path, "bob")
    monkeypatch.setenv("CARD_REVIEW_POLICY", str(policy))

    def verdict(card_dir, **params):
        blessing = standard_artifacts.ModelBlessing()
        blessing.uri = str(tmp_path / f"{card_dir}-gate")
        output = run_executor(
            inputs, tmp_path / card_dir, blessing, review_policy="env:CARD_REVIEW_POLICY", **params
        )
        return output, blessing.get_string_custom_property(constants.PUSH_GATE_REASONS_PROPERTY)

    _, reasons = verdict("unsigned")
    assert "the card is unsigned and review policy" in reasons and "requires signatures" in reasons
    monkeypatch.setenv("CARD_SIGNING_KEY", private)
    sources = parameters.SigningSources("env:CARD_SIGNING_KEY")
    _, reasons = verdict("signed", signing_sources=sources)
    assert "review policy" not in reasons
    refused = {constants.INHERITANCE_REFUSED_KEY: "model 3's approved version 4 does not verify"}
    output, _ = verdict("refused", signing_sources=sources, driver_properties=refused)
    missing = read_card(output.uri)["missing"]
    assert "Content not inherited: model 3's approved version 4 does not verify" in missing
    monkeypatch.setenv("CARD_REVIEW_POLICY", str(tmp_path / "none.yaml"))
    with pytest.raises(ParameterError, match="cannot be read"):
        verdict("no-policy")
    assert not (tmp_path / "no-policy").exists()
