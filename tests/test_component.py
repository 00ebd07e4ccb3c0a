"""Constructing `ModelCardGenerator`: its output, serialised parameters and early errors."""

from __future__ import annotations

import json

import pytest

from mct_component import constants
from mct_component.errors import CardContentError, ParameterError

pytestmark = pytest.mark.tf


def channel(artifact_type):
    from tfx.types import channel_utils

    return channel_utils.as_channel([artifact_type()])


@pytest.fixture(scope="module")
def model():
    from tfx.types import standard_artifacts

    return channel(standard_artifacts.Model)


def test_channel_keys_are_tfxs_own():
    from tfx.types import standard_component_specs as specs

    for name in (
        "MODEL_KEY",
        "STATISTICS_KEY",
        "SCHEMA_KEY",
        "EVALUATION_KEY",
        "BLESSING_KEY",
        "PUSHED_MODEL_KEY",
        "TRANSFORM_GRAPH_KEY",
    ):
        assert getattr(constants, name) == getattr(specs, name)


def test_construct_with_the_model_only(model):
    from mct_component import ModelCard, ModelCardGenerator

    generator = ModelCardGenerator(model=model)

    assert generator.outputs[constants.MODEL_CARD_KEY].type_name == ModelCard.TYPE_NAME
    assert set(generator.inputs) == {constants.MODEL_KEY}
    properties = generator.exec_properties
    assert json.loads(properties[constants.CARD_CONTENT_KEY]) == {}
    assert json.loads(properties[constants.TEMPLATES_KEY]) == {}
    assert json.loads(properties[constants.OUTPUT_FORMATS_KEY]) == ["json", "html", "md"]
    assert properties[constants.LABEL_VOCABULARY_KEY] == ""


def test_construct_with_every_input_and_parameter(model, tmp_path):
    from tfx.types import standard_artifacts

    from mct_component import ModelCardGenerator

    template = tmp_path / "card.md.jinja"
    template.write_text("{{ card.model_details.name }}\n")
    inputs = {
        constants.STATISTICS_KEY: channel(standard_artifacts.ExampleStatistics),
        constants.SCHEMA_KEY: channel(standard_artifacts.Schema),
        constants.EVALUATION_KEY: channel(standard_artifacts.ModelEvaluation),
        constants.BLESSING_KEY: channel(standard_artifacts.ModelBlessing),
        constants.PUSHED_MODEL_KEY: channel(standard_artifacts.PushedModel),
        constants.TRANSFORM_GRAPH_KEY: channel(standard_artifacts.TransformGraph),
    }
    generator = ModelCardGenerator(
        model=model,
        **inputs,
        card_content={"limitations": ["Small data."], "risk": {"rating": "low"}},
        templates={"md": str(template)},
        output_formats=["md", "json", "md"],
        label_vocabulary="species",
    )

    assert set(generator.inputs) == {constants.MODEL_KEY, *inputs}
    properties = generator.exec_properties
    assert json.loads(properties[constants.CARD_CONTENT_KEY]) == {
        "limitations": ["Small data."],
        "risk": {"rating": "low"},
    }
    assert json.loads(properties[constants.TEMPLATES_KEY]) == {"md": str(template)}
    assert json.loads(properties[constants.OUTPUT_FORMATS_KEY]) == ["md", "json"]
    assert properties[constants.LABEL_VOCABULARY_KEY] == "species"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"card_content": {"limitatons": []}}, CardContentError, "unknown field 'limitatons'"),
        ({"card_content": {"risk": {"rating": "huge"}}}, CardContentError, "risk.rating"),
        ({"output_formats": ["pdf"]}, ParameterError, "output_formats must be a non-empty list"),
        ({"templates": {"html": "/no/such.jinja"}}, ParameterError, "template file not found"),
        ({"label_vocabulary": "../species"}, ParameterError, "label_vocabulary must be"),
    ],
)
def test_bad_parameters_fail_at_construction(model, kwargs, error, message):
    from mct_component import ModelCardGenerator

    with pytest.raises(error, match=message):
        ModelCardGenerator(model=model, **kwargs)


def test_wrong_input_type_fails_at_construction(model):
    from tfx.types import standard_artifacts

    from mct_component import ModelCardGenerator

    with pytest.raises(TypeError, match="ExampleStatistics"):
        ModelCardGenerator(model=model, statistics=channel(standard_artifacts.Schema))
