"""The public API on a real penguin run: cards from files and from MLMD, written anywhere."""

from __future__ import annotations

import json
import os

import pytest

import mct_component as mct
from mct_component.readers import evaluation

pytestmark = [pytest.mark.slow, pytest.mark.tf]


def first(run, type_name: str) -> str:
    """The URI of the first run's artifact of a type."""
    return run.artifacts(type_name)[0].uri


def without_sources(value):
    """A card's JSON form without provenance (artifact ids exist only in MLMD)."""
    if isinstance(value, dict):
        return {k: without_sources(v) for k, v in value.items() if not k.endswith("source")}
    if isinstance(value, list):
        return [without_sources(v) for v in value]
    return value


@pytest.fixture(scope="module")
def from_mlmd(penguin_run):
    model_id = penguin_run.artifacts("Model")[0].id
    return mct.card_from_mlmd(penguin_run.metadata_path, model_id, label_vocabulary="species")


@pytest.fixture(scope="module")
def from_files(penguin_run):
    return mct.card_from_files(
        first(penguin_run, "Model"),
        statistics=first(penguin_run, "ExampleStatistics"),
        schema=first(penguin_run, "Schema"),
        evaluation=first(penguin_run, "ModelEvaluation"),
        blessing=first(penguin_run, "ModelBlessing"),
        pushed_model=first(penguin_run, "PushedModel"),
        transform_graph=first(penguin_run, "TransformGraph"),
        label_vocabulary="species",
    )


@pytest.mark.parametrize("section", ["datasets", "schema", "quantitative_analysis"])
def test_files_give_the_same_sections_as_mlmd(from_files, from_mlmd, section):
    files_section = without_sources(from_files.to_dict()[section])
    mlmd_section = without_sources(from_mlmd.to_dict()[section])
    if section == "quantitative_analysis":
        # Only the store knows the Evaluator's own EvalConfig, with the change threshold
        # TFX dropped on this first run (no baseline): the files know what TFMA checked.
        skipped = [
            t for t in mlmd_section.pop("thresholds") if t not in files_section["thresholds"]
        ]
        files_section.pop("thresholds")
        assert [(t["kind"], t["note"]) for t in skipped] == [("change", evaluation.NO_BASELINE)]
    assert files_section == mlmd_section
    assert files_section  # not empty on both sides


def test_files_give_the_signatures_blessing_and_deployment(from_files, from_mlmd, penguin_run):
    assert from_files.model_details.signatures == from_mlmd.model_details.signatures
    assert from_files.quantitative_analysis.blessed is True
    pushed = first(penguin_run, "PushedModel")
    assert from_files.deployment == mct.Card.from_dict(from_files.to_dict()).deployment
    assert (from_files.deployment.pushed, from_files.deployment.destination) == (True, pushed)
    # Only MLMD knows the Trainer run and the pipeline: the card says so.
    assert from_files.training is None
    assert any("No Trainer execution" in note for note in from_files.missing)


def test_one_statistics_file_is_one_split(penguin_run):
    stats_file = os.path.join(
        first(penguin_run, "ExampleStatistics"), "Split-eval", "FeatureStats.pb"
    )
    card = mct.card_from_files(first(penguin_run, "Model"), statistics=stats_file)
    assert [split.name for split in card.datasets] == ["eval"]


def test_schema_file_and_content(penguin_run):
    (schema_file,) = [
        os.path.join(first(penguin_run, "Schema"), name)
        for name in os.listdir(first(penguin_run, "Schema"))
    ]
    card = mct.card_from_files(
        first(penguin_run, "Model"),
        schema=schema_file,
        content={"model_details": {"name": "Penguins"}, "status": "pending_review"},
    )
    assert card.schema is not None and len(card.schema.features) == 7
    assert (card.model_details.name, card.status) == ("Penguins", "pending_review")


def test_store_by_connection_config_and_by_pipeline(penguin_run, from_mlmd):
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = penguin_run.metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    model_id = penguin_run.artifacts("Model")[0].id
    by_config = mct.card_from_mlmd(config, model_id, label_vocabulary="species")
    assert by_config == from_mlmd
    newest = mct.card_from_mlmd(penguin_run.metadata_path, pipeline=penguin_run.pipeline_name)
    assert newest.model_details.uri == penguin_run.artifacts("Model")[-1].uri


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda run: mct.card_from_files("/no/model"), mct.SourceError, "model not found"),
        (
            lambda run: mct.card_from_files(first(run, "Model"), blessing=first(run, "Model")),
            mct.SourceError,
            "holds neither BLESSED nor NOT_BLESSED",
        ),
        (
            lambda run: mct.card_from_files(first(run, "Model"), statistics=first(run, "Model")),
            mct.SourceError,
            "has no Split-<name> folder",
        ),
        (
            lambda run: mct.card_from_mlmd(run.metadata_path, 1, pipeline="p"),
            mct.ParameterError,
            "either model_id or pipeline",
        ),
        (
            lambda run: mct.card_from_mlmd(run.metadata_path, "7"),
            mct.ParameterError,
            "model_id must be an MLMD id",
        ),
        (
            lambda run: mct.card_from_files(first(run, "Model"), content={"limitation": []}),
            mct.CardContentError,
            "unknown field 'limitation'",
        ),
    ],
)
def test_bad_arguments_are_named(penguin_run, call, error, message):
    with pytest.raises(error, match=message):
        call(penguin_run)


def test_write_to_another_filesystem_and_load_back(from_mlmd, penguin_run):
    explanation = mct.explanation_metadata(first(penguin_run, "Model"))
    mct.write_card(from_mlmd, "ram://api/card", explanation_metadata=explanation)
    assert mct.Card.load("ram://api/card") == from_mlmd
    assert mct.Card.load("ram://api/card/model_card.json") == from_mlmd
    rendered = mct.render_card(from_mlmd, ["md"])
    assert set(rendered) == {"model_card.md"} | {n for n in rendered if n.startswith("charts/")}


def test_explanation_metadata_is_the_components(penguin_run):
    from mct_component.generator.artifact import ModelCard

    card_dir = penguin_run.artifacts(ModelCard.TYPE_NAME)[0].uri
    with open(os.path.join(card_dir, mct.constants.EXPLANATION_METADATA_FILE)) as f:
        written = json.load(f)
    assert mct.explanation_metadata(first(penguin_run, "Model")) == written


def test_edited_card_keeps_its_charts_and_renders(from_mlmd, tmp_path):
    edited = from_mlmd.with_content({"limitations": ["Only three islands."]})
    mct.write_card(edited, str(tmp_path), formats=["json", "html"])
    html = (tmp_path / "model_card.html").read_text()
    assert "Only three islands." in html
    reloaded = mct.Card.load(str(tmp_path))
    assert reloaded == edited
    assert reloaded.quantitative_analysis.charts == from_mlmd.quantitative_analysis.charts


def test_unreadable_evaluation_parts_are_listed_as_missing(penguin_run, tmp_path):
    import shutil

    evaluation = tmp_path / "evaluation"
    shutil.copytree(first(penguin_run, "ModelEvaluation"), evaluation)
    (evaluation / "eval_config.json").write_text("{not json")
    for metrics in evaluation.glob("metrics*"):
        metrics.write_bytes(b"")
    card = mct.card_from_files(first(penguin_run, "Model"), evaluation=str(evaluation))
    assert card.quantitative_analysis.overall == () and card.quantitative_analysis.thresholds == ()
    notes = "\n".join(card.missing)
    assert "Thresholds and plots not read:" in notes and "eval_config.json is not JSON" in notes
    assert "holds no metrics (empty metrics files)" in notes


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_statistics_are_one_clear_error(penguin_run, tmp_path, damage):
    original = os.path.join(
        first(penguin_run, "ExampleStatistics"), "Split-train", "FeatureStats.pb"
    )
    with open(original, "rb") as f:
        data = f.read()
    split = tmp_path / "Split-train"
    split.mkdir()
    broken = data[: len(data) // 2] if damage == "truncated" else bytes(range(256)) * 40
    (split / "FeatureStats.pb").write_bytes(broken)
    with pytest.raises(mct.SourceError, match=r"is not a TFDV statistics file|holds no dataset"):
        mct.card_from_files(first(penguin_run, "Model"), statistics=str(tmp_path))
