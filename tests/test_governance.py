"""The card as a governed record in a real MLMD store, driven through `mct-card`.

A copy of the penguin run's store: the generator's card is version 1; every step of
generate → edit → submit → reject → edit → submit → approve → archive is a new version
with its own `CardChange` execution; two reviewers acting at once get one winner.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import multiprocessing
import os
import shutil
import sqlite3
import threading

import pytest

import mct_component as mct
from mct_component import cli
from mct_component.governance import registry
from mct_component.mlmd import store

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture
def governed(penguin_run, tmp_path):
    """A writable copy of the penguin store and its cards, the first model's id, a CLI runner.

    The copy's artifacts point into `tmp_path`, so changes (and purges) never touch the
    shared run.
    """
    path = tmp_path / "metadata.sqlite"
    shutil.copy(penguin_run.metadata_path, path)
    generated = os.path.join("pipeline_root", "ModelCardGenerator")
    shutil.copytree(os.path.join(penguin_run.output_dir, generated), tmp_path / generated)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE Artifact SET uri = replace(uri, ?, ?)",
            (penguin_run.output_dir, str(tmp_path)),
        )
    model_id = penguin_run.artifacts("Model")[0].id

    def run(*args: str) -> int:
        """`mct-card` on the copy; new versions go beside the last, as by default."""
        return cli.main([args[0], "--metadata", str(path), "--model-id", str(model_id), *args[1:]])

    return path, model_id, run


def _content(folder) -> str:
    path = folder / "content.yaml"
    path.write_text("tradeoffs: [Edited.]\n")
    return str(path)


def tree(folder) -> dict[str, str]:
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(root, name), "rb") as f:
                found[os.path.join(root, name)] = hashlib.sha256(f.read()).hexdigest()
    return found


def test_review_workflow_from_the_cli(governed, tmp_path, capsys):
    path, model_id, run = governed
    (tmp_path / "limits.yaml").write_text("limitations: [Only three islands.]\n")
    (tmp_path / "more.yaml").write_text("limitations: [Only three islands, 2007-2009.]\n")
    first = mct.card_history(str(path), model_id)
    assert [(v.version, v.change, v.status) for v in first] == [(1, "generated", "draft")]
    original_files = tree(first[0].uri)

    steps = [
        ("edit", "--card-content", str(tmp_path / "limits.yaml"), "--by", "ann"),
        ("status", "--set", "pending_review", "--by", "ann"),
        ("status", "--set", "draft", "--by", "bob", "--note", "Name the years."),
        ("edit", "--card-content", str(tmp_path / "more.yaml"), "--by", "ann"),
        ("status", "--set", "pending_review", "--by", "ann"),
        ("status", "--set", "approved", "--by", "bob", "--note", "Good."),
        ("status", "--set", "archived", "--by", "carol", "--note", "Superseded."),
    ]
    for step in steps:
        assert run(*step) == 0, capsys.readouterr().err

    capsys.readouterr()
    assert run("history", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["status"], v["by"]) for v in listed] == [
        (1, "draft", "ModelCardGenerator"),
        (2, "draft", "ann"),
        (3, "pending_review", "ann"),
        (4, "draft", "bob"),
        (5, "draft", "ann"),
        (6, "pending_review", "ann"),
        (7, "approved", "bob"),
        (8, "archived", "carol"),
    ]
    assert listed[3]["note"] == "Name the years." and all(v["at"] for v in listed)

    # Each version is an artifact written by its own CardChange execution, from the last.
    connection = store.connect(str(path))
    changes = connection.get_executions_by_type(registry.CHANGE_TYPE)
    assert len(changes) == 7
    for version in listed[1:]:
        events = connection.get_events_by_artifact_ids([version["artifact_id"]])
        (made,) = [e for e in events if e.type == e.OUTPUT]
        inputs = [
            e
            for e in connection.get_events_by_execution_ids([made.execution_id])
            if e.type == e.INPUT
        ]
        assert [e.artifact_id for e in inputs] == [listed[version["version"] - 2]["artifact_id"]]
    assert tree(first[0].uri) == original_files  # no version's files are overwritten

    # The approval is tied to the exact JSON approved, and the card shows its history.
    approved = mct.load_card_version(str(path), model_id, 7)
    with open(os.path.join(listed[5]["uri"], "model_card.json"), "rb") as f:
        assert approved.governance.approval.sha256 == hashlib.sha256(f.read()).hexdigest()
    assert approved.governance.approval.version == 6
    with open(os.path.join(listed[7]["uri"], "model_card.html")) as f:
        page = f.read()
    assert approved.governance.approval.sha256 in page and "Name the years." in page
    assert "Superseded." in page

    # Archived is final, and what is refused says what is allowed, in one line.
    capsys.readouterr()
    assert run("status", "--set", "draft", "--by", "dan", "--note", "x") == 2
    err = capsys.readouterr().err
    assert (
        err
        == "mct-card: error: an archived card cannot become draft; allowed from archived: none: archived is final\n"
    )
    assert run("edit", "--card-content", str(tmp_path / "more.yaml")) == 2

    assert run("diff", "--from", "6", "--to", "7", "--json") == 0
    changes = json.loads(capsys.readouterr().out)
    assert changes["status"] == {"field": "status", "old": "pending_review", "new": "approved"}
    assert changes["content"] == [] and changes["metrics"] == []


def test_an_edit_of_an_approved_card_is_a_new_draft(governed, tmp_path):
    path, model_id, _ = governed
    out = str(tmp_path / "cards")
    mct.set_card_status(str(path), model_id, "pending_review", by="ann", output_root=out)
    mct.set_card_status(str(path), model_id, "approved", by="bob", output_root=out)
    edited = mct.edit_card(
        str(path), model_id, {"tradeoffs": ["Speed."]}, by="ann", output_root=out
    )
    card = mct.load_card_version(str(path), model_id)
    assert (edited.version, edited.status, card.status) == (4, "draft", "draft")
    assert card.governance.approval is None  # no approval for content nobody reviewed


def _approve(path: str, model_id: int, who: str, out: str, barrier, results) -> None:
    connection = store.connect(path, read_only=False)
    barrier.wait()
    try:
        version = registry.set_status(connection, model_id, "approved", who, "", out)
        results.put((who, "won", version.version))
    except mct.ConflictError as e:
        results.put((who, "conflict", str(e)))


def test_two_reviewers_at_once_one_wins_and_the_other_is_told(governed, tmp_path):
    path, model_id, _ = governed
    out = str(tmp_path / "cards")
    mct.set_card_status(str(path), model_id, "pending_review", by="ann", output_root=out)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    reviewers = [
        context.Process(target=_approve, args=(str(path), model_id, who, out, barrier, results))
        for who in ("bob", "carol")
    ]
    for reviewer in reviewers:
        reviewer.start()
    for reviewer in reviewers:
        reviewer.join(timeout=120)
    outcomes = sorted([results.get(timeout=5), results.get(timeout=5)], key=lambda r: r[1])
    assert [o[1] for o in outcomes] == ["conflict", "won"]
    assert "changed meanwhile" in outcomes[0][2] and "look at it again and retry" in outcomes[0][2]
    versions = mct.card_history(str(path), model_id)
    assert [v.status for v in versions] == ["draft", "pending_review", "approved"]
    assert versions[-1].by == outcomes[1][0]
    assert len(os.listdir(out)) == 2  # the loser's files are gone


def test_events_follow_the_record_and_a_sink_that_is_down_is_recorded(governed, tmp_path):
    import socket

    from tests.test_events import Receiver

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    receiver.status, receiver.received = 200, []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    live = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    path, model_id, run = governed
    assert run("edit", "--card-content", _content(tmp_path), "--events-url", live) == 0
    receiver.shutdown()
    receiver.server_close()
    assert [e["type"] for _, e in receiver.received] == ["mct_component.card.version_created"]
    assert receiver.received[0][1]["data"]["version"] == 2
    with socket.socket() as free:  # a webhook on 127.0.0.1 that is down
        free.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{free.getsockname()[1]}/hook"
    sink = tmp_path / "events.jsonl"
    code = run(
        "status", "--set", "pending_review", "--by", "ann",
        "--events-file", str(sink), "--events-url", down,
    )  # fmt: skip
    assert code == 0  # the change is made however the sinks fare
    sent = [json.loads(line) for line in sink.read_text().splitlines()]
    assert [e["type"] for e in sent] == [
        "mct_component.card.version_created",
        "mct_component.card.status_changed",
    ]
    version = mct.card_history(str(path), model_id)[-1]
    assert sent[1]["data"] | {"at": None} == {
        "model_id": model_id,
        "version": 3,
        "change": "status_changed",
        "old_status": "draft",
        "new_status": "pending_review",
        "by": "ann",
        "identity": "",  # made on the command line, not by a console login
        "note": "",
        "at": None,
        "card_uri": version.uri,
        "signer": "",  # unsigned, so not verified
        "verified": False,
    }
    connection = store.connect(str(path))
    edited, change = sorted(
        connection.get_executions_by_type(registry.CHANGE_TYPE), key=lambda e: e.id
    )
    assert registry.EVENT_FAILURES not in edited.custom_properties
    failures = change.custom_properties[registry.EVENT_FAILURES].string_value
    # One line for the sink, after its retries, naming both events it did not get.
    assert failures.count(f"webhook {down}") == 1 and "(2 events not sent)" in failures


def test_clone_copies_what_people_wrote_onto_another_model(governed, penguin_run, tmp_path, capsys):
    path, model_id, run = governed
    other = penguin_run.artifacts("Model")[1].id
    mct.edit_card(
        str(path), model_id, {"tradeoffs": ["Cloned trade-off."]}, by="ann",
        output_root=str(tmp_path / "cards"),
    )  # fmt: skip
    assert run("clone", "--to-model", str(other), "--by", "ann") == 0
    source = mct.load_card_version(str(path), model_id)
    target = mct.load_card_version(str(path), other)
    assert target.considerations == source.considerations
    assert target.model_details.owners == source.model_details.owners
    assert target.model_details.uri != source.model_details.uri  # still the other model
    assert target.quantitative_analysis != source.quantitative_analysis
    (last,) = mct.card_history(str(path), other)[-1:]
    assert (last.change, last.note, last.status) == (
        "cloned",
        f"cloned from model {model_id}",
        "draft",
    )


def test_delete_hides_the_card_and_purge_removes_its_files(governed, tmp_path, capsys):
    path, model_id, run = governed
    out = tmp_path / "cards"
    mct.set_card_status(str(path), model_id, "pending_review", by="ann", output_root=str(out))
    assert run("delete", "--note", "retired") == 0
    assert run("history") == 2
    assert "card was deleted" in capsys.readouterr().err
    versions = mct.card_history(str(path), model_id, include_deleted=True)
    assert [v.deleted for v in versions] == [True, True, True]
    assert versions[-1].change == "deleted" and versions[-1].note == "retired"  # recorded
    assert os.path.isdir(versions[1].uri)  # files kept
    connection = store.connect(str(path))
    states = {a.state for a in connection.get_artifacts_by_id([v.artifact_id for v in versions])}
    assert states == {
        connection.get_artifacts_by_id([versions[0].artifact_id])[0].MARKED_FOR_DELETION
    }
    assert run("status", "--set", "approved") == 2  # a deleted card takes no change
    deleted = mct.delete_card(str(path), model_id, purge=True, note="purge")
    assert os.path.isdir(versions[1].uri)  # under an output root not named: kept
    assert [uri for uri, _ in deleted.kept] == [versions[1].uri]
    deleted = mct.delete_card(str(path), model_id, purge=True, roots=[str(out)], note="purge")
    assert not os.path.exists(versions[1].uri) and not os.path.exists(versions[0].uri)
    assert deleted.purged == (versions[1].uri,)


def test_a_new_models_card_inherits_what_the_pipelines_approved_card_says(
    governed, penguin_run, tmp_path
):
    """The driver finds the newest approved card; the executor takes the sections not given."""
    from mct_component import constants
    from mct_component.generator import parameters
    from mct_component.generator.artifact import ModelCard
    from mct_component.generator.executor import Executor

    path, model_id, _ = governed
    out = str(tmp_path / "cards")
    mct.edit_card(
        str(path), model_id, {"tradeoffs": ["Approved trade-off."]}, by="ann", output_root=out
    )
    mct.set_card_status(str(path), model_id, "pending_review", by="ann", output_root=out)
    mct.set_card_status(str(path), model_id, "approved", by="bob", output_root=out)
    approved = registry.newest_approved(store.connect(str(path)), penguin_run.pipeline_name)
    assert (approved.model_id, approved.version) == (model_id, 4)
    assert registry.newest_approved(store.connect(str(path)), "another-pipeline") is None

    newer = penguin_run.artifacts("Model")[1]
    properties = parameters.encode(card_content={"limitations": ["Given for this model."]})
    properties[constants.INHERITED_FROM_KEY] = json.dumps(
        {
            "model_id": model_id,
            "version": 4,
            "artifact_id": approved.artifact_id,
            "uri": approved.uri,
        }
    )
    output = ModelCard()
    output.uri = str(tmp_path / "new-card")
    Executor().Do({"model": [newer]}, {"model_card": [output]}, properties)
    card = mct.Card.load(output.uri)
    assert card.considerations.limitations == ("Given for this model.",)  # given wins
    assert card.considerations.tradeoffs == ("Approved trade-off.",)  # inherited
    assert card.model_details.owners  # inherited from the demo's approved content
    assert card.inherited_from.version == 4 and card.inherited_from.model_id == model_id
    with open(os.path.join(output.uri, "model_card.html")) as f:
        assert f"version 4 of model {model_id}'s approved card" in f.read()

    properties[constants.INHERIT_CONTENT_KEY] = 0  # switched off
    Executor().Do({"model": [newer]}, {"model_card": [output]}, properties)
    card = mct.Card.load(output.uri)
    assert card.inherited_from is None and card.considerations.tradeoffs == ()
