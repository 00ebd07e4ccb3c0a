"""`mct-card generate` on real MLMD stores, including one from a pipeline without our component."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest

from mct_component import cli
from mct_component.card import validation

pytestmark = [pytest.mark.slow, pytest.mark.tf]


def read_json(folder) -> dict:
    with open(os.path.join(folder, "model_card.json")) as f:
        return json.load(f)


def test_same_card_as_the_pipeline_component(penguin_run, tmp_path):
    from mct_component.generator.artifact import ModelCard

    pipeline_card = read_json(penguin_run.artifact(ModelCard.TYPE_NAME).uri)
    content = os.path.join(os.path.dirname(__file__), "..", "pipelines", "card_content.yaml")
    code = cli.main(
        [
            "generate",
            "--metadata",
            penguin_run.metadata_path,
            "--pipeline",
            "penguin-test",
            "--output-dir",
            str(tmp_path),
            "--card-content",
            content,
            "--label-vocabulary",
            "species",
        ]
    )
    assert code == 0
    # The same card, but that the CLI, run later, also sees the push the card gated
    # (so it lacks neither the deployment nor the gate's verdict on a push to come).
    cli_card = read_json(tmp_path)
    assert cli_card["deployment"]["pushed"] is False
    assert pipeline_card["deployment"] is None
    assert pipeline_card["missing"][0].startswith("No PushedModel")
    for card in (cli_card, pipeline_card):
        card.pop("deployment")
        card.pop("missing")
    assert cli_card == pipeline_card
    assert sorted(os.listdir(tmp_path))[:5] == [
        ".mct-card",
        "charts",
        "explanation_metadata.json",
        "model_card.html",
        "model_card.json",
    ]


def generate(metadata_path: str, model_id: int, output_dir, *extra: str) -> int:
    return cli.main(
        [
            "generate",
            "--metadata",
            metadata_path,
            "--model-id",
            str(model_id),
            "--output-dir",
            str(output_dir),
            *extra,
        ]
    )


def test_pipeline_that_is_not_ours(minimal_run, tmp_path):
    trained, imported = minimal_run.trained_and_imported_models()
    assert (
        generate(minimal_run.metadata_path, trained.id, tmp_path / "t", "--format", "json,md") == 0
    )
    data = read_json(tmp_path / "t")
    validation.validate_card_dict(data)
    assert data["model_details"]["name"] == "penguin-minimal"
    assert data["training"]["transform"] is False
    assert [s["name"] for s in data["datasets"]] == ["train", "eval"]
    assert any("No ModelEvaluation" in note for note in data["missing"])
    assert not os.path.exists(tmp_path / "t" / "model_card.html")

    assert generate(minimal_run.metadata_path, imported.id, tmp_path / "i") == 0
    data = read_json(tmp_path / "i")
    assert data["training"] is None
    assert data["model_details"]["signatures"]  # still read from the imported SavedModel


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metadata", "/no/such.sqlite", "--pipeline", "p"], "MLMD store not found"),
        (["--metadata", "{readme}", "--pipeline", "p"], "is not an MLMD store"),
        (["--metadata", "{store}", "--model-id", "999999"], "MLMD has no artifact with id 999999"),
        (["--metadata", "{store}", "--pipeline", "other"], "no pipeline named 'other'"),
        (
            ["--metadata", "{store}", "--pipeline", "penguin-test", "--format", "docx"],
            "--format must be a comma-separated list of json, html, md, pdf, got 'docx'",
        ),
        (
            ["--metadata", "{store}", "--pipeline", "penguin-test", "--card-content", "/no.yaml"],
            "card_content file not found",
        ),
        (
            ["--metadata", "{store}", "--pipeline", "p", "--label-vocabulary", "a/b"],
            "label_vocabulary must be the name of a Transform vocabulary",
        ),
        (
            ["--metadata", "{store}", "--pipeline", "penguin-test", "--format", "html,pdf,docx"],
            "got 'html,pdf,docx'",
        ),
        (["--metadata", "{fake}", "--model-id", "1"], "is not an MLMD store ML Metadata can open"),
        (
            ["--metadata", "{store}", "--model-id", "99999999999999999999"],
            "model_id must be an MLMD id, an integer from 1 to 2**63 - 1",
        ),
        (
            ["--metadata", "{store}", "--pipeline", "penguin-test", "--output-dir", ""],
            "output_dir must be a directory path, got ''",
        ),
    ],
)
def test_clear_errors(penguin_run, tmp_path, capsys, args, message):
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    fake = tmp_path / "fake.sqlite"  # MLMD's table names, not MLMD
    with sqlite3.connect(fake) as db:
        for table in ("Artifact", "Execution", "Event", "Type", "MLMDEnv"):
            db.execute(f"CREATE TABLE {table} (schema_version INTEGER)")
        db.execute("INSERT INTO MLMDEnv VALUES (10)")
    args = [a.format(readme=readme, store=penguin_run.metadata_path, fake=fake) for a in args]
    if "--output-dir" not in args:
        args += ["--output-dir", str(tmp_path / "out")]
    assert cli.main(["generate", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mct-card: error: ") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_locked_store_is_said_to_be_locked(penguin_run, tmp_path, capsys):
    copy = tmp_path / "metadata.sqlite"
    shutil.copy(penguin_run.metadata_path, copy)
    writer = sqlite3.connect(copy)
    writer.execute("BEGIN EXCLUSIVE")  # as a pipeline writing to it would
    try:
        code = generate(str(copy), 1, tmp_path / "out")
    finally:
        writer.rollback()
        writer.close()
    assert code == 2
    assert "is locked by another process" in capsys.readouterr().err
