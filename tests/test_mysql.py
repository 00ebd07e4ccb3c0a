"""Lineage and governance on MLMD's production backend: a real MySQL-compatible server.

The demo pipeline runs once with its store on the tests' own MariaDB server (the
component's driver resolves lineage over MySQL); then the review lifecycle runs on that
store through `mct-card --connection-config`, with two reviewers racing for one version.
"""

from __future__ import annotations

import json
import multiprocessing

import pytest

import mct_component as mct
from mct_component import cli
from mct_component.governance import registry
from mct_component.mlmd import lineage, store

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture(scope="module")
def mysql_store(mysql_run):
    _, config = mysql_run
    return store.connect(config)


@pytest.fixture(scope="module")
def config_file(mysql_run, tmp_path_factory):
    from google.protobuf import text_format

    _, config = mysql_run
    path = tmp_path_factory.mktemp("mysql-config") / "mlmd.pbtxt"
    path.write_text(text_format.MessageToString(config))
    return str(path)


def test_the_driver_resolved_lineage_over_mysql(mysql_store):
    (model,) = mysql_store.get_artifacts_by_type("Model")
    (card_artifact,) = mysql_store.get_artifacts_by_type(registry.CARD_TYPE)
    card = mct.Card.load(card_artifact.uri)
    assert card.model_details.pipeline_name == "penguin-mysql" and card.model_details.run_id
    assert card.training is not None and card.training.train_steps == 100
    assert card.quantitative_analysis.overall and card.quantitative_analysis.blessed is True
    assert card.datasets and card.schema is not None
    assert len(card.missing) == 1  # only the push it gates, which comes after it
    assert card.missing[0].startswith("No PushedModel")
    resolved = lineage.resolve_lineage(mysql_store, model.id)
    assert resolved.trainer is not None and resolved.evaluation is not None
    assert (
        resolved.pipeline.name == "penguin-mysql" and resolved.run.name == card.model_details.run_id
    )


def _approve(config: str, model_id: int, who: str, barrier, results) -> None:
    barrier.wait()
    code = cli.main(
        ["status", "--connection-config", config, "--model-id", str(model_id),
         "--set", "approved", "--by", who]
    )  # fmt: skip
    results.put((who, code))


def test_review_lifecycle_on_mysql(mysql_store, config_file, tmp_path, capsys):
    (model,) = mysql_store.get_artifacts_by_type("Model")
    where = ["--connection-config", config_file, "--model-id", str(model.id)]
    (tmp_path / "content.yaml").write_text("limitations: [Three islands, 2007-2009.]\n")
    for step in (
        ["edit", "--card-content", str(tmp_path / "content.yaml"), "--by", "ann"],
        ["status", "--set", "pending_review", "--by", "ann"],
        ["status", "--set", "draft", "--by", "bob", "--note", "Name the source."],
        ["edit", "--card-content", str(tmp_path / "content.yaml"), "--by", "ann"],
        ["status", "--set", "pending_review", "--by", "ann"],
    ):
        assert cli.main([step[0], *where, *step[1:]]) == 0, capsys.readouterr().err

    # Two reviewers approve the same version at the same moment: one wins.
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    reviewers = [
        context.Process(target=_approve, args=(config_file, model.id, who, barrier, results))
        for who in ("bob", "carol")
    ]
    for reviewer in reviewers:
        reviewer.start()
    for reviewer in reviewers:
        reviewer.join(timeout=120)
    codes = sorted(results.get(timeout=5)[1] for _ in reviewers)
    assert codes == [0, 2]

    assert cli.main(["status", *where, "--set", "archived", "--by", "dan"]) == 0
    capsys.readouterr()
    assert cli.main(["history", *where, "--json"]) == 0
    versions = json.loads(capsys.readouterr().out)
    assert [v["status"] for v in versions] == [
        "draft", "draft", "pending_review", "draft", "draft", "pending_review", "approved",
        "archived",
    ]  # fmt: skip
    assert versions[6]["by"] in ("bob", "carol") and versions[2]["by"] == "ann"
    archived = mct.load_card_version(mysql_store, model.id)
    assert archived.governance.approval.version == 6
    assert len(mysql_store.get_executions_by_type(registry.CHANGE_TYPE)) == 7
    assert cli.main(["status", *where, "--set", "draft", "--note", "x"]) == 2
