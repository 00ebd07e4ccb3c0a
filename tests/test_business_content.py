"""The SageMaker-style human content (card schema 1.3): business details, objective
function, observations, custom details; applied, rendered, read back, scored (pure)."""

from __future__ import annotations

import pytest

from mct_component import card, content, render
from mct_component.card import completeness
from mct_component.errors import CardContentError, CardValidationError
from tests.factories import make_card

BUSINESS = {
    "business_details": {
        "business_problem": "Tell penguin species apart for a field survey.",
        "business_stakeholders": "Survey leads",
        "line_of_business": "Research",
    },
    "objective_function": {
        "function": "minimize",
        "facet": "loss",
        "condition": "sparse categorical cross-entropy",
        "notes": "Adam, learning rate 0.01.",
    },
    "training_observations": "Loss flattens after 80 steps.",
    "evaluation_observations": "Chinstrap recall is the weakest.",
    "custom_details": {"cost centre": "4711", "data steward": "Ann"},
}


def test_content_fills_the_new_sections_and_reads_back():
    written = make_card().with_content(BUSINESS)
    cons = written.considerations
    assert cons.business_details == card.BusinessDetails(**BUSINESS["business_details"])
    assert cons.objective_function == card.ObjectiveFunction(**BUSINESS["objective_function"])
    assert cons.training_observations == BUSINESS["training_observations"]
    assert cons.evaluation_observations == BUSINESS["evaluation_observations"]
    assert cons.custom_details == BUSINESS["custom_details"]
    assert written.schema_version == card.SCHEMA_VERSION == "1.4"
    assert card.Card.from_json(written.to_json()) == written
    assert {k: v for k, v in content.human_content(written).items() if k in BUSINESS} == BUSINESS


def test_partial_sections_keep_what_they_do_not_give():
    written = make_card().with_content(BUSINESS)
    again = written.with_content(
        {
            "business_details": {"line_of_business": "Ecology"},
            "objective_function": {"facet": "AUC"},
        }
    )
    assert (
        again.considerations.business_details.business_problem
        == (BUSINESS["business_details"]["business_problem"])
    )
    assert again.considerations.business_details.line_of_business == "Ecology"
    assert again.considerations.objective_function.function == "minimize"
    assert again.considerations.objective_function.facet == "AUC"


def test_human_content_leaves_out_sections_nobody_wrote():
    human = content.human_content(make_card())
    assert not set(human) & set(content.OPTIONAL_SECTIONS)
    assert content.load_card_content(human) == human


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"objective_function": {"function": "optimize"}}, "objective_function.function"),
        ({"business_details": {"problem": "x"}}, "business_details"),
        ({"custom_details": {"a": 1}}, "custom_details"),
        ({"training_observations": ["a"]}, "training_observations"),
    ],
)
def test_bad_new_content_names_the_field(bad, match):
    with pytest.raises(CardContentError, match=match):
        content.load_card_content(bad)


def test_a_1_2_card_without_the_new_sections_still_loads():
    data = make_card().to_dict()
    data["schema_version"] = "1.2"
    for key in content.OPTIONAL_SECTIONS:
        del data["considerations"][key]
    loaded = card.Card.from_dict(data)
    assert loaded.considerations.business_details == card.BusinessDetails()
    assert loaded.considerations.custom_details == {}
    data["schema_version"] = "0.9"
    with pytest.raises(CardValidationError, match="schema_version"):
        card.Card.from_dict(data)


def test_sagemaker_business_details_fill_from_the_business_problem():
    def business(model_card):
        (sagemaker,) = [s for s in model_card.completeness.standards if s.name.startswith("Sage")]
        (section,) = [s for s in sagemaker.sections if s.name == "Business details"]
        return section

    blank = make_card()
    blank = blank.replace(completeness=completeness.assess(blank))
    assert business(blank).missing == ("business problem",)
    placeholder = make_card().with_content({"business_details": {"business_problem": "TBD"}})
    assert business(placeholder).score == 0
    assert business(make_card().with_content(BUSINESS)).score == 1


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_both_formats_show_the_new_sections(fmt):
    written = make_card().with_content(BUSINESS)
    page = render.render(written.to_dict(), [fmt])[render.FILE_NAMES[fmt]]
    for text in (
        "Business and training details",
        "Survey leads",
        "Loss flattens after 80 steps.",
        "Chinstrap recall is the weakest.",
        "data steward",
        "4711",
    ):
        assert text in page, text
    empty = render.render(make_card().to_dict(), [fmt])[render.FILE_NAMES[fmt]]
    assert "Business and training details" not in empty


def test_diff_shows_changes_to_the_new_sections():
    from mct_component.governance import diff

    old = make_card().with_content(BUSINESS)
    new = old.with_content(
        {"business_details": {"line_of_business": "Ecology"}, "custom_details": {}}
    )
    changed = {c.field: c for c in diff.diff_cards(old, new).content}
    assert set(changed) == {"considerations.business_details", "considerations.custom_details"}
    assert changed["considerations.custom_details"].old == BUSINESS["custom_details"]
    assert changed["considerations.business_details"].new["line_of_business"] == "Ecology"
