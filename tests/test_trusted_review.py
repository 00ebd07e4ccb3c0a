"""Approvals that can be verified: signed versions, a review policy, tamper-evident history.

Real keys and a real private certificate authority, made here with `cryptography`; a
real MLMD store (`tests/card_store.py`); `model_signing`'s own CLI as the independent
verifier. Tampering is done the way an insider would: SQL on the store, editing a file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import pytest

import mct_component as mct
from mct_component import cli
from tests.card_store import write_card_store
from tests.keys import certificate_authority as _certificate_authority
from tests.keys import ec_key as _key

MODEL_SIGNING = os.path.join(os.path.dirname(sys.executable), "model_signing")


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mysql)])
def review(request, tmp_path):
    """A store with one card (on SQLite, and on the tests' MariaDB), keys for ann (author),
    bob and carol (approvers), dave (nobody), a private CA for the risk office, and a
    policy naming them."""
    keys = tmp_path / "keys"
    keys.mkdir()
    people = {name: _key(keys, name) for name in ("ann", "bob", "carol", "dave")}
    risk_key, risk_cert, root = _certificate_authority(keys, "risk@example.com")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "approvers:\n"
        "  - {name: bob, public_key: keys/bob.pub.pem}\n"
        "  - {name: carol, public_key: keys/carol.pub.pem}\n"
        "  - {name: risk-office, certificate_identity: risk@example.com}\n"
        "signers:\n"
        "  - {name: ann, public_key: keys/ann.pub.pem}\n"
        "trust_roots: [keys/root.crt.pem]\n"
        "min_approvers: {high: 2}\n"
        "require_signatures: true\n"
    )
    connections: list = [None, None]
    if request.param == "mariadb":
        server = request.getfixturevalue("mysql_server")
        connections = [server.connection_config(f"review_{uuid.uuid4().hex[:12]}") for _ in "ab"]
    store = write_card_store(tmp_path / "store", connection=connections[0])
    bare = write_card_store(tmp_path / "bare", connection=connections[1], with_card=False)
    return {
        "store": store,
        "bare": bare,  # a model without a card
        "policy": str(policy),
        "keys": {name: value[0] for name, value in people.items()},
        "public": {name: value[1] for name, value in people.items()},
        "risk": (risk_key, risk_cert, root),
        "tmp": tmp_path,
    }


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _submit(review, capsys, rating: str = "medium") -> None:
    """ann edits the card (risk `rating`) and submits it, both signed."""
    store, tmp = review["store"], review["tmp"]
    content = tmp / "content.json"
    content.write_text(json.dumps({"risk": {"rating": rating, "explanation": "credit"}}))
    for command in (
        ("edit", "--card-content", str(content)),
        ("status", "--set", "pending_review"),
    ):
        code, _, err = run(
            capsys,
            *store.cli(*command),
            "--signing-key",
            review["keys"]["ann"],
            "--policy",
            review["policy"],
        )
        assert code == 0, err


def _approve(review, capsys, who: str) -> tuple[int, str, str]:
    return run(
        capsys,
        *review["store"].cli("status", "--set", "approved"),
        "--signing-key",
        review["keys"][who],
        "--policy",
        review["policy"],
    )


def _verify(review, capsys, *extra: str) -> tuple[int, str, str]:
    return run(capsys, *review["store"].cli("verify", "--policy", review["policy"], *extra))


def test_an_approved_history_verifies_and_the_library_agrees(review, capsys):
    _submit(review, capsys)
    code, out, err = _approve(review, capsys, "bob")
    assert code == 0 and "approved" in out, err
    code, out, _ = _verify(review, capsys, "--require-approval")
    assert code == 0 and "verified approved (version 4)" in out
    newest = mct.card_history(review["store"].target, review["store"].model_id)[-1]
    library = subprocess.run(
        [MODEL_SIGNING, "verify", "key", newest.uri, "--signature",
         os.path.join(newest.uri, "card.sig"), "--public_key", review["public"]["bob"]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert library.returncode == 0 and "Verification succeeded" in library.stdout
    code, out, _ = run(capsys, *review["store"].cli("history", "--policy", review["policy"]))
    assert out.count(" verified ") == 3 and "unverified" in out.splitlines()[1]  # v1 unsigned
    code, out, _ = run(capsys, *review["store"].cli("show", "--policy", review["policy"]))
    assert out.startswith("Record: verified: version 4 approved by bob (signed by key:")
    assert "The approval is signed by `key:" in out
    assert _flags(review) == set()
    page = (review["tmp"] / "site" / "models" / f"{review['store'].model_id}.html").read_text()
    assert page.count("<td>verified</td>") == 3 and page.count("<td>unverified</td>") == 1
    events = review["tmp"] / "events.jsonl"
    code, _, err = run(
        capsys, *review["store"].cli("status", "--set", "archived", "--events-file", str(events)),
        "--signing-key", review["keys"]["bob"], "--policy", review["policy"],
    )  # fmt: skip
    assert code == 0, err
    data = [json.loads(line)["data"] for line in events.read_text().splitlines()]
    assert all(d["verified"] and d["signer"].startswith("key:") for d in data) and data


def test_self_approval_and_strangers_are_refused(review, capsys):
    store = review["store"]
    content = review["tmp"] / "c.json"
    content.write_text(json.dumps({"limitations": ["bob wrote this"]}))
    for command in (
        ("edit", "--card-content", str(content)),
        ("status", "--set", "pending_review"),
    ):
        code, _, err = run(
            capsys, *store.cli(*command), "--signing-key", review["keys"]["bob"],
            "--policy", review["policy"],
        )  # fmt: skip
        assert code == 0, err
    code, _, err = _approve(review, capsys, "bob")
    assert code == 2 and "four eyes: bob made or submitted" in err
    code, _, err = _approve(review, capsys, "dave")
    assert code == 2 and "names no" in err
    code, _, err = run(
        capsys, *store.cli("status", "--set", "approved", "--policy", review["policy"])
    )
    assert code == 2 and "must be signed" in err
    assert mct.card_history(store.target, store.model_id)[-1].status == "pending_review"


def test_a_high_risk_card_needs_two_distinct_approvers(review, capsys):
    _submit(review, capsys, rating="high")
    code, out, _ = _approve(review, capsys, "bob")
    assert code == 0 and "pending_review" in out  # one approval of two
    code, _, err = _approve(review, capsys, "bob")
    assert code == 2 and "already approved" in err
    code, out, err = _approve(review, capsys, "carol")
    assert code == 0 and out.strip().endswith("approved"), err
    assert _verify(review, capsys, "--require-approval")[0] == 0


def test_a_certificate_from_the_private_ca_approves(review, capsys):
    _submit(review, capsys)
    leaf_key, leaf_cert, root = review["risk"]
    code, _, err = run(
        capsys, *review["store"].cli("status", "--set", "approved"), "--signing-key", leaf_key,
        "--signing-certificate", leaf_cert, "--certificate-chain", root,
        "--policy", review["policy"],
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = _verify(review, capsys, "--require-approval", "--json")
    report = json.loads(out)
    assert code == 0 and report["versions"][-1]["signer"] == "risk@example.com"


def _flags(review) -> set[str]:
    """What the dashboard, under the policy, flags on the model, but for what a store
    without an Evaluator or ExampleValidator always raises."""
    site = review["tmp"] / "site"
    summary = mct.build_dashboard(
        review["store"].target, str(site), overwrite=True, policy=review["policy"]
    )
    assert summary.models == 1
    flagged = {flag for flag, count in summary.flag_counts.items() if count}
    return flagged - {"no_evaluation", "no_data_validation"}


def _approved(review, capsys):
    _submit(review, capsys)
    assert _approve(review, capsys, "bob")[0] == 0
    return mct.card_history(review["store"].target, review["store"].model_id)


def test_a_push_recorded_on_an_approved_card_carries_its_approval(review, capsys):
    from mct_component.card import Deployment
    from mct_component.governance import lifecycle, registry, signing
    from mct_component.governance import policy as policies
    from mct_component.mlmd import store as stores

    _approved(review, capsys)  # version 4: bob approves ann's card
    store, output_root = review["store"], str(review["tmp"] / "versions")
    rules = policies.load(review["policy"])
    ann = signing.optional_key(review["keys"]["ann"], None, ())
    connection = stores.connect(store.target, read_only=False)
    where = Deployment(pushed=True, destination="/serving/credit/1765", version="1765")
    pushed = registry.record_push(
        connection, store.model_id, where, "ann", output_root=output_root, key=ann, policy=rules
    )
    assert (pushed.version, pushed.status, pushed.change) == (5, "approved", lifecycle.PUSHED)
    code, out, _ = _verify(review, capsys, "--require-approval")
    assert code == 0 and "verified approved (version 4; push recorded in version 5)" in out
    code, out, _ = run(capsys, *store.cli("show", "--policy", review["policy"]))
    assert out.startswith("Record: verified: version 5 pushed by ann (signed by key:")
    assert "the approval of version 4 carries over" in out.splitlines()[0]
    assert _flags(review) == set()

    # An insider with a signing key dresses up a content change as a push record: the
    # approval does not carry over, and verify names what changed.
    current, card = registry._newest_for_change(connection, store.model_id)
    risk = dataclasses.replace(card.considerations.risk, rating="low")
    forged = dataclasses.replace(
        card,
        considerations=dataclasses.replace(card.considerations, risk=risk),
        deployment=dataclasses.replace(where, destination="/serving/credit/1766"),
    )
    governance = card.governance
    change = registry._Change(
        current, forged, lifecycle.PUSHED, "ann", "2026-12-07T12:00:00+00:00", "pushed",
        approval=governance.approval, key=ann, approvals=governance.approvals,
    )  # fmt: skip
    registry._record(connection, change, output_root, None, rules)
    code, out, _ = _verify(review, capsys, "--require-approval")
    assert code == 1
    assert "version 6: a push record changed more than where the model went: considerations" in out
    assert {"history_altered", "approval_unverified"} <= _flags(review)


def test_an_sql_update_of_who_or_status_is_named_by_verify(review, capsys):
    versions = _approved(review, capsys)
    store = review["store"]
    assert _flags(review) == set()  # a verified approval: nothing to flag
    store.sql(
        "UPDATE ExecutionProperty SET string_value = 'carol' WHERE name = 'by' AND string_value = 'ann'"
    )
    code, out, _ = _verify(review, capsys)
    assert code == 1 and "version 2: MLMD says by 'carol', the signed record says 'ann'" in out
    assert _flags(review) == {"history_altered", "approval_unverified"}
    store.sql(
        "UPDATE ExecutionProperty SET string_value = 'ann' WHERE name = 'by' AND string_value = 'carol'"
    )
    store.sql(
        "UPDATE ArtifactProperty SET string_value = 'approved' WHERE name = 'status' AND artifact_id = ?",
        versions[1].artifact_id,
    )
    code, out, _ = _verify(review, capsys)
    assert code == 1 and "version 2: MLMD says status 'approved', the card says 'draft'" in out
    assert "history_altered" in _flags(review)


def test_an_edited_card_file_or_a_swapped_bundle_is_named_by_verify(review, capsys):
    versions = _approved(review, capsys)
    approved = pathlib.Path(versions[-1].uri)
    other = pathlib.Path(versions[-2].uri)
    saved = (approved / "card.sig").read_bytes()
    shutil.copyfile(other / "card.sig", approved / "card.sig")
    code, out, _ = _verify(review, capsys, "--require-approval")
    assert code == 1 and "version 4: card.sig is not the bundle recorded" in out
    assert "history_altered" in _flags(review)
    (approved / "card.sig").write_bytes(saved)
    card_json = approved / "model_card.json"
    card_json.write_text(card_json.read_text().replace("credit", "debit"))
    code, out, _ = _verify(review, capsys)
    assert code == 1 and "version 4: model_card.json changed since it was recorded" in out
    assert "version 4: its signature does not hold" in out
    assert _flags(review) == {"history_altered", "approval_unverified"}
    code, out, _ = run(capsys, *review["store"].cli("show", "--policy", review["policy"]))
    assert code == 0 and out.startswith("Record: ALTERED: version 4: model_card.json changed")
    code, out, _ = run(capsys, *review["store"].cli("show", "--version", "2"))
    assert out.startswith("Record: the history is altered")


def test_a_deleted_version_breaks_the_chain(review, capsys):
    versions = _approved(review, capsys)
    store = review["store"]  # drop version 3 from the store
    store.sql("DELETE FROM Event WHERE artifact_id = ?", versions[2].artifact_id)
    store.sql("DELETE FROM Artifact WHERE id = ?", versions[2].artifact_id)
    code, out, _ = _verify(review, capsys)
    assert code == 1 and "MLMD's version 3 is version 4 of the signed record" in out
    assert "history_altered" in _flags(review)


def test_generate_record_registers_a_signed_version_1(review, capsys):
    bare, ann = review["bare"], review["keys"]["ann"]
    card = review["tmp"] / "recorded"
    code, _, err = run(capsys, *bare.cli("generate", "--output-dir", str(card), "--by", "ann"))
    assert code == 2 and "--by is for a recorded card: add --record" in err
    assert not card.exists()
    code, _, err = run(
        capsys, *bare.cli("generate", "--output-dir", str(card), "--record"),
        "--policy", review["policy"],
    )  # fmt: skip
    assert code == 2 and "requires signed changes" in err and not card.exists()
    signed = ("--signing-key", ann, "--policy", review["policy"])
    code, out, err = run(
        capsys, *bare.cli("generate", "--output-dir", str(card), "--record", *signed)
    )
    assert code == 0 and "Card version 1 of model" in out, err
    (first,) = mct.card_history(bare.target, bare.model_id)
    assert first.uri == str(card) and first.by == "ann" and first.signer.startswith("key:")
    library = subprocess.run(
        [MODEL_SIGNING, "verify", "key", str(card), "--signature", str(card / "card.sig"),
         "--public_key", review["public"]["ann"]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert library.returncode == 0, library.stderr
    report = mct.verify_card_history(bare.target, bare.model_id, policy=review["policy"])
    assert report.holds and report.versions[0].verified  # ann signs under the policy
    code, _, err = run(
        capsys, *bare.cli("generate", "--output-dir", str(card) + "2", "--record", *signed)
    )
    assert code == 2 and "has a card already (version 1, draft)" in err
    # A deleted card can be recorded again: the history goes on from the deletion.
    assert run(capsys, *bare.cli("delete", "--note", "retired", *signed))[0] == 0
    code, out, err = run(
        capsys, *bare.cli("generate", "--output-dir", str(card) + "4", "--record", *signed)
    )
    assert code == 0 and "Card version 3 of model" in out, err
    report = mct.verify_card_history(bare.target, bare.model_id, policy=review["policy"])
    assert report.holds and [v.change for v in report.versions] == [
        "generated", "deleted", "generated"
    ]  # fmt: skip


def test_delete_is_a_recorded_change(review, capsys):
    store = review["store"]
    code, _, err = run(capsys, *store.cli("delete"))
    assert code == 2 and "needs a note" in err
    code, _, err = run(capsys, *store.cli("delete", "--note", "retired", "--by", "ann"))
    assert code == 0, err
    versions = mct.card_history(store.target, store.model_id, include_deleted=True)
    assert versions[-1].change == "deleted" and versions[-1].by == "ann"
    code, out, _ = run(capsys, *store.cli("verify"))  # unsigned, but the history holds
    assert code == 0 and "history holds" in out
    code, _, err = run(capsys, *store.cli("delete", "--note", "again"))
    assert code == 2 and "deleted already" in err


def test_content_is_inherited_only_from_a_verified_approval(review, capsys):
    from mct_component.governance import policy, verify
    from mct_component.mlmd import store as stores

    store = review["store"]
    rules = policy.load(review["policy"])
    connection = stores.connect(store.target)
    _submit(review, capsys)
    assert _approve(review, capsys, "bob")[0] == 0
    assert verify.approval_problem(connection, store.model_id, 4, rules) == ""
    assert "is not an approval signed by" in verify.approval_problem(
        connection, store.model_id, 3, rules
    )
    assert "without a review policy" in verify.approval_problem(connection, store.model_id, 4, None)
    content = review["tmp"] / "typed.json"
    content.write_text(json.dumps({"limitations": ["typed names only"]}))
    for command in (
        ("edit", "--card-content", str(content), "--by", "ann"),
        ("status", "--set", "pending_review", "--by", "ann"),
        ("status", "--set", "approved", "--by", "bob"),
    ):
        assert run(capsys, *store.cli(*command))[0] == 0
    unsigned = "does not verify: version 5: unsigned, but the policy requires signed changes"
    assert unsigned in verify.approval_problem(connection, store.model_id, 7, rules)
    assert unsigned in verify.approval_problem(connection, store.model_id, 4, rules)


@pytest.mark.parametrize(
    "argument, expected",
    [
        (("--signing-key", "/nonexistent.pem"), "cannot be read"),
        (("--signing-key", "POLICY"), "not an unencrypted PEM private key"),
        (("--policy", "/nonexistent.yaml"), "cannot be read"),
        (("--policy", "BADPOLICY"), "unknown field 'approver'"),
    ],
)
def test_bad_keys_and_policies_are_one_line(review, capsys, argument, expected):
    bad = review["tmp"] / "bad.yaml"
    bad.write_text("approver: []\n")
    argument = tuple(
        review["policy"] if a == "POLICY" else str(bad) if a == "BADPOLICY" else a for a in argument
    )
    code, _, err = run(capsys, *review["store"].cli("status", "--set", "pending_review"), *argument)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_the_dashboard_reads_approval_from_the_newest_version_only():
    from mct_component.dashboard import overview

    def version(number: int, status: str) -> overview.CardVersionSummary:
        return overview.CardVersionSummary(number, number, f"/cards/{number}", status, number)

    row = overview.ModelRow(
        model_id=1, uri="/m", name="m", pipeline="p", run="r", created_ms=0,
        producer="Trainer", producer_id=None, blessed=True, pushed=True, destination="/serving",
        evaluated_ms=0, validated=True, anomalous_splits=(),
        versions=(version(1, "pending_review"), version(2, "approved"), version(3, "draft")),
        completeness_gate=None,
    )  # fmt: skip
    assert overview.PUSHED_UNAPPROVED in overview.flags(row)
    approved = dataclasses.replace(row, versions=row.versions[:2])
    assert overview.PUSHED_UNAPPROVED not in overview.flags(approved)


def test_a_recorded_card_may_go_to_a_folder_whose_parents_do_not_exist_yet(tmp_path):
    bare = write_card_store(tmp_path / "bare", with_card=False)
    folder = tmp_path / "not" / "yet" / "card"
    card = mct.Card.load(str(write_card_store(tmp_path / "other").card_uri))
    version = mct.record_card(bare.target, bare.model_id, card, str(folder), by="ann")
    assert version.version == 1 and (folder / "model_card.json").is_file()
