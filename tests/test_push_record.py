"""The card describes the push it gated: `record_push` on the demo pipeline's real store.

The demo's card gates the Pusher, so it is made before the push. `record_push` (run by
`make demo` after the pipeline) adds a "pushed" version saying where the model went;
the version the gate judged stays as it was. Works on a copy of `penguin_run`'s store,
writing the new versions under the test's own folder.
"""

from __future__ import annotations

import shutil
from html import unescape

import pytest

import mct_component as mct
from mct_component import cli
from mct_component.assembly import assemble
from mct_component.dashboard import overview, snapshot
from mct_component.governance import lifecycle

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture
def store_copy(penguin_run, tmp_path):
    path = tmp_path / "metadata.sqlite"
    shutil.copyfile(penguin_run.metadata_path, path)
    return str(path)


def test_the_pushed_version_says_where_the_model_went(penguin_run, store_copy, tmp_path):
    pushed_run, refused_run = penguin_run.artifacts("Model")
    (pushed, not_pushed) = penguin_run.artifacts("PushedModel")
    judged = mct.load_card_version(store_copy, pushed_run.id)
    assert judged.deployment is None and assemble.MISSING_NOTES["pushed_model"] in judged.missing

    version = mct.record_push(store_copy, pushed_run.id, output_root=str(tmp_path / "versions"))

    history = mct.card_history(store_copy, pushed_run.id)
    assert [(v.version, v.change) for v in history] == [
        (1, lifecycle.GENERATED),
        (2, lifecycle.PUSHED),
    ]
    assert version.status == history[0].status  # the push changes no status
    assert "The push gate judged version 1" in version.note
    recorded = mct.load_card_version(store_copy, pushed_run.id)
    destination = pushed.get_string_custom_property("pushed_destination")
    assert recorded.deployment.pushed is True
    assert recorded.deployment.destination == destination
    assert recorded.deployment.source.artifact_id == pushed.id
    # The demo card (run 1 meets the gate) lacked only the push: nothing is missing now.
    assert recorded.missing == ()
    assert recorded.model_details == judged.model_details
    assert recorded.quantitative_analysis == judged.quantitative_analysis
    # The version the gate judged is unchanged, and the whole history verifies.
    assert mct.load_card_version(store_copy, pushed_run.id, 1) == judged
    assert mct.verify_card_history(store_copy, pushed_run.id).holds
    html = mct.render_card(recorded, ("html",))["model_card.html"]
    assert 'aria-label="Missing inputs"' not in html
    assert f"Pushed to <code>{destination}</code>" in unescape(html)
    # The dashboard's row (from MLMD) and the newest card now say the same.
    rows = {r.model_id: r for r in overview.model_rows(snapshot.read_snapshot(store_copy))}
    row = rows[pushed_run.id]
    assert row.pushed and row.destination == destination
    assert row.card.version == 2

    # Run 2's gate refused the push: its card records that it was not pushed (the CLI).
    args = ["--metadata", store_copy, "--model-id", str(refused_run.id)]
    assert cli.main(["record-push", *args, "--output-root", str(tmp_path / "versions")]) == 0
    refused = mct.load_card_version(store_copy, refused_run.id)
    assert refused.deployment.pushed is False
    assert not_pushed.get_int_custom_property("pushed") == 0
    assert "Not pushed." in mct.render_card(refused, ("html",))["model_card.html"]


def test_a_push_is_recorded_once_and_keeps_an_approval(penguin_run, store_copy, tmp_path):
    model = penguin_run.artifacts("Model")[0]
    root = str(tmp_path / "versions")
    mct.set_card_status(store_copy, model.id, "pending_review", output_root=root)
    mct.set_card_status(store_copy, model.id, "approved", output_root=root)
    approved = mct.load_card_version(store_copy, model.id)
    pushed = mct.record_push(store_copy, model.id, output_root=root)
    with pytest.raises(mct.ParameterError, match="records this push already"):
        mct.record_push(store_copy, model.id, output_root=root)
    # The approval of the version before carries over to the push record.
    assert (pushed.version, pushed.status) == (4, "approved")
    recorded = mct.load_card_version(store_copy, model.id)
    assert recorded.governance.approval == approved.governance.approval
    assert recorded.governance.approval.version == 2  # the version approved: the one in review
    assert mct.verify_card_history(store_copy, model.id).holds
    mct.set_card_status(store_copy, model.id, "archived", output_root=root)
    with pytest.raises(mct.ParameterError, match="archived card is final"):
        mct.record_push(store_copy, model.id, output_root=root)


def test_a_model_nobody_pushed_has_no_push_to_record(minimal_run, tmp_path):
    store = tmp_path / "metadata.sqlite"
    shutil.copyfile(minimal_run.metadata_path, store)
    trained, _ = minimal_run.trained_and_imported_models()
    with pytest.raises(mct.LineageError, match=f"no Pusher took model {trained.id}"):
        mct.record_push(str(store), trained.id, output_root=str(tmp_path / "versions"))
