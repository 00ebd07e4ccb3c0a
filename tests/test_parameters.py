"""Encoding and decoding the component's execution parameters (pure, no TensorFlow)."""

from __future__ import annotations

import json

import pytest

from mct_component.errors import CardContentError, ParameterError
from mct_component.generator import parameters


def test_round_trip(tmp_path):
    template = tmp_path / "card.md.jinja"
    template.write_text("{{ card.model_details.name }}")
    encoded = parameters.encode(
        {"limitations": ["x"]},
        {"md": str(template)},
        ["md", "json", "pdf", "md"],
        "species",
        completeness_gate={"minimum": 0.7, "action": "fail"},
        max_risk_rating="medium",
        inherit_content=False,
        signing_sources=parameters.SigningSources(
            "env:CARD_KEY", "/run/secrets/leaf.pem", ("/run/secrets/root.pem",)
        ),
    )
    assert all(isinstance(v, (str, int)) for v in encoded.values())  # TFX primitives
    decoded = parameters.decode(encoded)
    assert decoded.card_content == {"limitations": ["x"]}
    assert decoded.templates == {"md": str(template)}
    assert decoded.output_formats == ("md", "json", "pdf")
    assert decoded.label_vocabulary == "species"
    assert (decoded.completeness_gate.minimum, decoded.completeness_gate.action) == (0.7, "fail")
    assert (decoded.max_risk_rating, decoded.inherit_content) == ("medium", False)
    assert decoded.signing == parameters.SigningSources(
        "env:CARD_KEY", "/run/secrets/leaf.pem", ("/run/secrets/root.pem",)
    )


def test_defaults():
    decoded = parameters.decode(parameters.encode())
    assert decoded.card_content == {}
    assert decoded.templates == {}
    assert decoded.output_formats == ("json", "html", "md")


def test_empty_exec_properties_use_defaults():
    assert parameters.decode({}).output_formats == ("json", "html", "md")


def test_remote_template_paths_are_not_checked_at_construction():
    encoded = parameters.encode(templates={"html": "gs://bucket/card.html.jinja"})
    assert json.loads(encoded["templates"]) == {"html": "gs://bucket/card.html.jinja"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output_formats": "html"}, "output_formats must be a list .* got the string 'html'"),
        ({"output_formats": ["docx"]}, r"output_formats must be a non-empty list"),
        (
            {"templates": {"html": "/no/such/file.jinja"}},
            r"templates\['html'\]: template file not found",
        ),
        ({"templates": {"pdf": "x"}}, r"unknown format\(s\) \['pdf'\]"),
        ({"templates": {"html": 3}}, "templates must map a format to a template path"),
        ({"card_content": {"bogus": 1}}, "unknown field 'bogus'"),
        ({"label_vocabulary": "assets/species"}, "label_vocabulary must be the name of a"),
        ({"label_vocabulary": 3}, r"e\.g\. 'species', got 3"),
        ({"review_policy": "env:2X"}, "review_policy 'env:2X' must name an environment variable"),
        ({"review_policy": 7}, "review_policy must be a review policy file's path or 'env:NAME'"),
    ],
)
def test_encode_rejects_bad_arguments(kwargs, message):
    error = CardContentError if "card_content" in kwargs else ParameterError
    with pytest.raises(error, match=message):
        parameters.encode(**kwargs)


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"card_content": "{oops"}, "execution property 'card_content' must be JSON"),
        ({"card_content": '{"nope": 1}'}, "unknown field 'nope'"),
        ({"output_formats": '"html"'}, "output_formats must be a JSON list"),
        ({"templates": "[1]"}, "templates must map a format"),
        ({"signing_key": "env:1BAD"}, "must name an environment variable"),
        ({"signing_certificate": "/leaf.pem"}, "signing_certificate needs signing_key"),
        (
            {"signing_key": "/k.pem", "signing_certificate": "/c.pem", "certificate_chain": '"x"'},
            "certificate_chain must be a list",
        ),
        ({"signing_key": "/k.pem", "certificate_chain": '["/root.pem"]'}, "needs signing_cert"),
        ({"review_policy": "env:"}, "must name an environment variable"),
    ],
)
def test_decode_rejects_bad_properties(properties, message):
    error = CardContentError if "unknown field" in message else ParameterError
    with pytest.raises(error, match=message):
        parameters.decode(properties)
