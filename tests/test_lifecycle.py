"""The review lifecycle and the diff between card versions (pure, no TensorFlow)."""

from __future__ import annotations

import hashlib

import pytest

from mct_component.errors import ParameterError
from mct_component.governance import diff, lifecycle
from tests.factories import make_card

ALLOWED = {
    ("draft", "pending_review"),
    ("pending_review", "approved"),
    ("pending_review", "draft"),
    ("approved", "archived"),
}


@pytest.mark.parametrize("current", lifecycle.STATUSES)
@pytest.mark.parametrize("new", lifecycle.STATUSES)
def test_only_the_lifecycles_transitions_are_allowed(current, new):
    if (current, new) in ALLOWED:
        lifecycle.check_transition(current, new, note="why")
    else:
        with pytest.raises(
            ParameterError, match=f"an? {current} card cannot become {new}; allowed"
        ):
            lifecycle.check_transition(current, new, note="why")


def test_a_rejection_needs_a_note_and_archived_is_final():
    with pytest.raises(ParameterError, match=r"a rejection .* needs a note"):
        lifecycle.check_transition("pending_review", "draft", note="  ")
    with pytest.raises(ParameterError, match="none: archived is final"):
        lifecycle.check_transition("archived", "draft", note="x")
    with pytest.raises(ParameterError, match="status must be one of"):
        lifecycle.check_transition("draft", "shipped")


@pytest.mark.parametrize("status", ["draft", "pending_review", "approved"])
def test_an_edit_makes_a_draft_and_an_archived_card_is_not_edited(status):
    assert lifecycle.status_after_edit(status) == "draft"
    with pytest.raises(ParameterError, match="archived card is final"):
        lifecycle.status_after_edit("archived")


def test_fingerprint_is_the_sha256_of_the_exact_bytes():
    data = make_card().to_json().encode()
    assert lifecycle.fingerprint(data) == hashlib.sha256(data).hexdigest()


def test_diff_names_status_content_and_metrics():
    old = make_card()
    new = old.with_content({"limitations": ["Fewer."]}).replace(
        status="pending_review",
        quantitative_analysis=old.quantitative_analysis.replace(
            overall=(old.quantitative_analysis.overall[0].replace(value=104.0),)
        ),
    )
    changes = diff.diff_cards(old, new)
    assert changes.status == diff.FieldChange("status", "draft", "pending_review")
    assert [c.field for c in changes.content] == ["considerations.limitations"]
    assert {c.field: (c.old, c.new) for c in changes.metrics} == {
        "example_count": (103.0, 104.0),
        "sparse_categorical_accuracy": (0.9903, None),
    }
    assert "status: draft → pending_review" in changes.text()
    assert diff.diff_cards(old, old).text() == "No differences."
