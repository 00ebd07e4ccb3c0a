"""Loading and validating human-written card content (pure, no TensorFlow)."""

from __future__ import annotations

import json

import pytest

from mct_component import card, content
from mct_component.errors import CardContentError
from tests.factories import make_card

VALID = {
    "model_details": {"name": "m", "owners": [{"name": "a", "contact": "a@x"}]},
    "intended_use": {"primary_uses": ["demo"]},
    "limitations": ["small data"],
    "ethical_considerations": [{"name": "bias", "mitigation": "slices"}],
    "risk": {"rating": "low"},
    "status": "approved",
}


def test_loads_a_mapping_unchanged():
    assert content.load_card_content(VALID) == VALID


def test_none_means_no_content():
    assert content.load_card_content(None) == {}


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_loads_json_and_yaml_files(tmp_path, suffix):
    path = tmp_path / f"content{suffix}"
    path.write_text(json.dumps(VALID))  # JSON is also valid YAML
    assert content.load_card_content(path) == VALID
    assert content.load_card_content(str(path)) == VALID


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"limitation": ["x"]}, r"unknown field 'limitation'; expected one of: .*limitations"),
        ({"model_details": {"nmae": "x"}}, r"unknown field 'model_details\.nmae'"),
        ({"limitations": "one string"}, r"field 'limitations' must be of type array, got str"),
        ({"model_details": {"owners": [{"name": 3}]}}, r"'model_details\.owners\[0\]\.name'"),
        ({"risk": {"rating": "severe"}}, r"'risk\.rating' must be one of .*'low'.*got 'severe'"),
        ({"status": "done"}, r"'status' must be one of"),
        (
            {"ethical_considerations": [{"mitigation": "m"}]},
            r"'ethical_considerations\[0\]' is missing",
        ),
    ],
)
def test_invalid_content_names_the_field(bad, message):
    with pytest.raises(CardContentError, match=message):
        content.load_card_content(bad)


def test_content_error_is_a_value_error():
    with pytest.raises(ValueError):
        content.load_card_content({"unknown": 1})


def test_missing_file(tmp_path):
    with pytest.raises(CardContentError, match=r"card_content file not found: .*nope\.yaml"):
        content.load_card_content(tmp_path / "nope.yaml")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "content.txt"
    path.write_text("{}")
    with pytest.raises(CardContentError, match=r"must end in .json, .yaml or .yml, got '.txt'"):
        content.load_card_content(path)


@pytest.mark.parametrize(
    ("suffix", "text", "message"),
    [
        (".json", "{not json", "is not valid JSON"),
        (".yaml", "a: [unclosed", "is not valid YAML"),
        (".yaml", "- a list\n- not a mapping\n", "must be a mapping of sections, got list"),
    ],
)
def test_unparsable_files(tmp_path, suffix, text, message):
    path = tmp_path / f"content{suffix}"
    path.write_text(text)
    with pytest.raises(CardContentError, match=message):
        content.load_card_content(path)


def test_wrong_argument_type():
    with pytest.raises(CardContentError, match=r"must be a dict or a path .* got int"):
        content.load_card_content(42)


def test_apply_sets_details_considerations_and_status():
    applied = content.apply_card_content(make_card(), VALID)
    assert applied.model_details.name == "m"
    assert applied.model_details.version == make_card().model_details.version  # not given
    assert applied.model_details.owners[0].contact == "a@x"
    assert applied.considerations.intended_use.primary_uses == ("demo",)
    assert applied.considerations.ethical_considerations[0].mitigation == "slices"
    assert applied.considerations.risk.rating == "low"
    assert applied.status == "approved"


def test_apply_keeps_what_is_not_given():
    original = make_card()
    assert content.apply_card_content(original, {}) == original
    edited = content.apply_card_content(original, {"risk": {"explanation": "why"}})
    assert edited.considerations.risk == card.Risk(rating="low", explanation="why")
    assert edited.considerations.limitations == original.considerations.limitations
