"""Completeness per standard, and the completeness and push gates (pure, no TensorFlow)."""

from __future__ import annotations

import dataclasses

import pytest

from mct_component import card
from mct_component.card import completeness, validation
from mct_component.errors import ParameterError
from mct_component.governance import gates
from tests.factories import make_card

FULL_CONTENT = {
    "model_details": {
        "overview": "Predicts the species of a penguin.",
        "license": "Apache-2.0",
        "citation": "Someone 2020",
        "owners": [{"name": "Team", "contact": "t@example.com"}],
    },
    "intended_use": {
        "primary_uses": ["Teaching."],
        "primary_users": ["Students."],
        "out_of_scope_uses": ["Field research."],
    },
    "limitations": ["Three islands."],
    "ethical_considerations": [{"name": "Sampling bias", "mitigation": "Slices."}],
    "risk": {"rating": "low", "explanation": "No decisions about people."},
}


def scored(content=None) -> card.Card:
    return make_card().with_content(content or {})


def section(result: card.Completeness, standard: str, name: str) -> card.SectionCompleteness:
    (found,) = [
        s for st in result.standards if st.name == standard for s in st.sections if s.name == name
    ]
    return found


@pytest.mark.parametrize("text", ["", "  ", "TODO", "tbd", "N/A", "…", "Lorem ipsum dolor", "-"])
def test_placeholders_count_as_missing(text):
    assert not completeness.written(text)
    caveats = ("Mitchell et al. 2019", "Caveats and recommendations")
    result = scored({**FULL_CONTENT, "limitations": [text]}).completeness
    assert section(result, *caveats).missing == ("limitations or trade-offs",)
    assert section(scored(FULL_CONTENT).completeness, *caveats).missing == ()
    result = scored({**FULL_CONTENT, "model_details": {"overview": text}}).completeness
    assert "overview" in section(result, "Mitchell et al. 2019", "Model details").missing


def test_a_fuller_card_scores_higher_and_the_lowest_standard_is_the_score():
    bare, full = scored().completeness, scored(FULL_CONTENT).completeness
    assert full.score > bare.score
    assert full.score == min(s.score for s in full.standards)
    assert [s.name for s in full.standards] == [
        "Mitchell et al. 2019",
        "SageMaker model card",
        "EU AI Act Annex IV",
    ]
    # No field of this card holds SageMaker's business details.
    assert section(full, "SageMaker model card", "Business details").missing == (
        "business problem",
    )
    assert section(full, "Mitchell et al. 2019", "Intended use").score == 1.0
    validation.validate_card_dict(scored(FULL_CONTENT).to_dict())


def test_the_card_shows_its_completeness():
    from mct_component import render

    outputs = render.render(scored(FULL_CONTENT).to_dict(), ["html", "md"])
    for name in ("model_card.html", "model_card.md"):
        text = outputs[name]
        assert (
            "Completeness" in text and "EU AI Act Annex IV" in text and "business problem" in text
        )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.8, gates.CompletenessGate(0.8, "warn")),
        ({"minimum": 0.5, "action": "fail"}, gates.CompletenessGate(0.5, "fail")),
        (None, None),
    ],
)
def test_gate_parameters(value, expected):
    assert gates.CompletenessGate.parse(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "between 0 and 1"),
        ({"minimum": 0.5, "action": "stop"}, "'warn' or 'fail'"),
        ({"min": 0.5}, "must be a minimum score"),
        (True, "must be a minimum score"),
    ],
)
def test_bad_gate_parameters(value, message):
    with pytest.raises(ParameterError, match=message):
        gates.CompletenessGate.parse(value)


def test_the_completeness_gate_warns_or_fails():
    bare = scored()
    warned = gates.apply_completeness_gate(bare, gates.CompletenessGate(0.99))
    assert warned.missing[-1].startswith("The card's completeness")
    assert "under the gate's 99%" in warned.missing[-1]
    with pytest.raises(gates.GateError, match="under the gate's 99% \\(weakest: "):
        gates.apply_completeness_gate(bare, gates.CompletenessGate(0.99, "fail"))
    assert gates.apply_completeness_gate(bare, gates.CompletenessGate(0.1)) == bare


def test_the_push_gate_needs_a_blessing_a_complete_card_and_an_acceptable_risk():
    full = scored(FULL_CONTENT)
    assert gates.push_verdict(full, gates.CompletenessGate(0.5), "medium") == (True, ())
    blessed, reasons = gates.push_verdict(full, gates.CompletenessGate(0.99), "medium")
    assert not blessed and "under the gate" in reasons[0]
    risky = full.with_content({"risk": {"rating": "high"}})
    assert gates.push_verdict(risky, None, "medium") == (
        False,
        ("its risk rating is high, above the maximum medium",),
    )
    unblessed = full.replace(
        quantitative_analysis=full.quantitative_analysis.replace(blessed=False)
    )
    assert gates.push_verdict(unblessed, None, "")[1] == ("the Evaluator did not bless the model",)
    unrated = full.with_content({"risk": {"rating": "unknown"}})
    assert not gates.push_verdict(unrated, None, "high")[0]
    with pytest.raises(ParameterError, match="max_risk_rating must be one of"):
        gates.check_risk_rating("extreme")


def test_the_push_gate_answers_to_the_review_policy():
    from mct_component.card import Inheritance
    from mct_component.governance.policy import Person, Policy

    full = scored(FULL_CONTENT)
    ann = Person("ann", "key:ann")
    signed = Policy("p.yaml", approvers=(Person("bob", "key:bob"),), signers=(ann,))
    assert gates.push_verdict(full, None, "", signed, "") == (True, ())  # signatures optional
    strict = dataclasses.replace(signed, require_signatures=True)
    assert gates.push_verdict(full, None, "", strict, "") == (
        False,
        ("the card is unsigned and review policy 'p.yaml' requires signatures",),
    )
    assert gates.push_verdict(full, None, "", strict, "key:eve")[1] == (
        "review policy 'p.yaml' names no signer key:eve",
    )
    assert gates.push_verdict(full, None, "", strict, "key:ann") == (True, ())
    reviewed = dataclasses.replace(strict, push_requires_approved_content=True)
    blessed, reasons = gates.push_verdict(full, None, "", reviewed, "key:ann")
    assert not blessed and "comes from a verified approval" in reasons[0]
    inherited = dataclasses.replace(full, inherited_from=Inheritance(7, 4, 40, "/cards/4"))
    assert gates.push_verdict(inherited, None, "", reviewed, "key:ann") == (True, ())
