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
        "ANOMALIES_KEY",
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


def test_every_documented_parameter_reaches_the_compiled_pipeline(tmp_path):
    """TFX drops a parameter its spec does not declare: each is read back from the IR."""
    from tfx import v1 as tfx
    from tfx.dsl.compiler import compiler
    from tfx.orchestration import data_types_utils

    from mct_component import ModelCardGenerator
    from mct_component.generator import parameters

    model = tfx.dsl.Importer(
        source_uri=str(tmp_path / "model"), artifact_type=tfx.types.standard_artifacts.Model
    ).with_id("model_importer")
    template = tmp_path / "card.md.jinja"
    template.write_text("{{ card.model_details.name }}\n")
    generator = ModelCardGenerator(
        model=model.outputs["result"],
        card_content={"limitations": ["Small data."]},
        templates={"md": str(template)},
        output_formats=["json", "md"],
        label_vocabulary="species",
        pipeline_name="penguin",
        run_id="run-7",
        completeness_gate={"minimum": 0.8, "action": "fail"},
        max_risk_rating="medium",
        inherit_content=False,
        signing_key="env:CARD_SIGNING_KEY",
        review_policy="env:CARD_REVIEW_POLICY",
    )
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="p", pipeline_root=str(tmp_path), components=[model, generator]
    )
    ir = compiler.Compiler().compile(pipeline)
    (node,) = [n.pipeline_node for n in ir.nodes if n.pipeline_node.node_info.id == generator.id]
    compiled = {
        key: data_types_utils.get_value(value) for key, value in node.parameters.parameters.items()
    }
    assert set(compiled) == set(generator.exec_properties)
    decoded = parameters.decode(compiled)
    assert decoded.card_content == {"limitations": ["Small data."]}
    assert decoded.templates == {"md": str(template)}
    assert decoded.output_formats == ("json", "md")
    assert decoded.label_vocabulary == "species"
    assert (decoded.pipeline_facts.pipeline_name, decoded.pipeline_facts.run_id) == (
        "penguin",
        "run-7",
    )
    assert decoded.completeness_gate.minimum == 0.8
    assert decoded.completeness_gate.action == "fail"
    assert decoded.max_risk_rating == "medium"
    assert decoded.inherit_content is False
    assert decoded.signing.key == "env:CARD_SIGNING_KEY"
    assert decoded.review_policy == "env:CARD_REVIEW_POLICY"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"card_content": {"limitatons": []}}, CardContentError, "unknown field 'limitatons'"),
        ({"card_content": {"risk": {"rating": "huge"}}}, CardContentError, "risk.rating"),
        ({"output_formats": ["docx"]}, ParameterError, "output_formats must be a non-empty list"),
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


def penguin_components():
    from pipelines.penguin_pipeline import training_components

    return training_components(data_root="data", serving_model_dir="serving")


def upstream_of_generator(generator, parts) -> set[str]:
    from tfx import v1 as tfx
    from tfx.dsl.compiler import compiler

    pipeline = tfx.dsl.Pipeline(
        pipeline_name="p", pipeline_root="root", components=[*parts.values(), generator]
    )
    ir = compiler.Compiler().compile(pipeline)
    (node,) = [n.pipeline_node for n in ir.nodes if n.pipeline_node.node_info.id == generator.id]
    return set(node.upstream_nodes)


def test_model_alone_may_run_before_the_evaluator():
    """The trap: wired to the Trainer only, nothing orders the generator after the Evaluator."""
    from mct_component import ModelCardGenerator

    parts = penguin_components()
    generator = ModelCardGenerator(model=parts["trainer"].outputs["model"])
    assert upstream_of_generator(generator, parts) == {"Trainer"}


def test_from_components_runs_after_every_component_and_records_their_configuration():
    from mct_component import ModelCardGenerator
    from mct_component.readers.refs import PipelineFacts

    parts = penguin_components()
    generator = ModelCardGenerator.from_components(
        parts["trainer"],
        statistics_gen=parts["statistics_gen"],
        schema_gen=parts["schema_gen"],
        transform=parts["transform"],
        evaluator=parts["evaluator"],
        pusher=parts["pusher"],
        label_vocabulary="species",
        pipeline_name="penguins",
        run_id="{{$.pipeline_job_name}}",
    )
    assert upstream_of_generator(generator, parts) == {
        "Trainer",
        "StatisticsGen",
        "SchemaGen",
        "Transform",
        "Evaluator",
        "Pusher",
    }
    assert generator.exec_properties[constants.LABEL_VOCABULARY_KEY] == "species"
    facts = PipelineFacts.from_json(generator.exec_properties[constants.PIPELINE_FACTS_KEY])
    assert (facts.pipeline_name, facts.run_id) == ("penguins", "{{$.pipeline_job_name}}")
    assert facts.trainer.component == "Trainer"
    assert json.loads(facts.trainer.properties["train_args"]) == {"num_steps": 200}
    assert json.loads(facts.trainer.properties["custom_config"]) == {"hidden_units": 8}
    assert facts.transform is not None and facts.transform.component == "Transform"


def test_from_components_names_a_component_without_the_output():
    from mct_component import ModelCardGenerator

    parts = penguin_components()
    with pytest.raises(ParameterError, match=r"SchemaGen has no output 'statistics'"):
        ModelCardGenerator.from_components(parts["trainer"], statistics_gen=parts["schema_gen"])
