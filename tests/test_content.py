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
    unchanged = content.apply_card_content(original, {})
    assert unchanged.replace(completeness=None) == original
    assert unchanged.completeness is not None and 0 < unchanged.completeness.score < 1
    edited = content.apply_card_content(original, {"risk": {"explanation": "why"}})
    assert edited.considerations.risk == card.Risk(rating="low", explanation="why")
    assert edited.considerations.limitations == original.considerations.limitations


def write(tmp_path, name: str, data: str | bytes):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


NESTED_ALIASES = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.yaml", NESTED_ALIASES, r"uses a YAML alias \(line 2\): aliases are not allowed"),
        ("a.yaml", "limitations: &l [x]\ntradeoffs: *l\n", "uses a YAML alias"),
        ("a.yaml", "limitations: [a]\nlimitations: [b]\n", "has the key 'limitations' twice"),
        ("a.json", '{"status": "draft", "status": "approved"}', "has the key 'status' twice"),
        ("a.yaml", "1: a\nfoo: b\n", r"has the key 1 \(line 1\): keys must be text"),
        ("a.json", '{"limitations": ["\\ud800"]}', r"'limitations\[0\]' holds a lone surrogate"),
        ("a.yaml", "limitations: [caf\xe9]\n".encode("latin-1"), r"is not UTF-8 text \(byte 0xe9"),
        ("a.json", '{"status": "draft"}'.encode("utf-16"), "is not UTF-8 text"),
        ("a.json", "[" * 100_000 + "]" * 100_000, "nested more than 8 levels"),
        ("a.yaml", "- " * 5_000 + "x\n", "nested more than 8 levels"),
        ("a.yaml", "limitations: [" + "x" * 200_000 + "]\n", "longer than 100,000 characters"),
        ("a.json", " " * 1_000_001, "larger than 1,000,000 bytes"),
    ],
)
def test_hostile_files_get_one_line(tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    with pytest.raises(CardContentError, match=message) as raised:
        content.load_card_content(path)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 400


def test_yaml_errors_quote_no_more_than_an_excerpt(tmp_path):
    path = write(tmp_path, "a.yaml", "limitations: [" + "x" * 500_000 + "\n  - : ]: [")
    with pytest.raises(CardContentError) as raised:
        content.load_card_content(path)
    assert len(str(raised.value)) < 400


def test_a_directory_or_a_device_is_not_a_content_file(tmp_path):
    folder = tmp_path / "content.yaml"
    folder.mkdir()
    with pytest.raises(CardContentError, match="is a directory"):
        content.load_card_content(folder)
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(CardContentError, match="larger than 1,000,000 bytes"):
        content.load_card_content(link)


def test_mappings_are_bounded_too():
    deep: dict = {}
    node = deep
    for _ in range(20):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(CardContentError, match="nested more than 8 levels"):
        content.load_card_content({"model_details": deep})
    with pytest.raises(CardContentError, match="has the key 3: keys must be text"):
        content.load_card_content({"model_details": {3: "x"}})


def test_anchors_without_aliases_and_a_bom_are_fine(tmp_path):
    path = write(tmp_path, "a.yaml", "\ufefflimitations: &l [x]\n")
    assert content.load_card_content(path) == {"limitations": ["x"]}
