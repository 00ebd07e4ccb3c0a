"""Human refinements of the Vertex explanation metadata, on the penguin run's SavedModel."""

from __future__ import annotations

import pytest

import mct_component as mct
from mct_component.assembly import explanation
from mct_component.readers import savedmodel
from tests.test_savedmodel import penguin_model  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture(scope="module")
def model_graph(penguin_model):  # noqa: F811
    """The SavedModel as read, and a real tensor inside its functions (an embedding stand-in)."""
    info = savedmodel.read_saved_model(penguin_model)
    library = info.meta_graph.graph_def.library
    node = next(n for f in library.function for n in f.node_def if n.op in ("ConcatV2", "MatMul"))
    return info, f"{node.name}:0"


def test_inputs_and_outputs_are_refined(model_graph):
    info, tensor = model_graph
    derived = explanation.explanation_metadata(info)
    refinements = {
        "inputs": {
            "island": {
                "encoding": "combined_embedding",
                "encoded_tensor_name": tensor,
                "input_baselines": ["Biscoe"],
            },
            "body_mass_g": {"modality": "numeric", "feature_value_domain": {"min_value": 2700}},
        },
        "outputs": {
            "probabilities": {"index_display_name_mapping": ["Adelie", "Chinstrap", "Gentoo"]}
        },
    }
    refined = explanation.explanation_metadata(info, refinements=refinements)
    for section in ("inputs", "outputs"):
        for name, fields in refinements[section].items():
            assert refined[section][name] == {**derived[section][name], **fields}
        untouched = set(derived[section]) - set(refinements[section])
        assert {k: refined[section][k] for k in untouched} == {
            k: derived[section][k] for k in untouched
        }


def test_a_new_input_needs_a_real_tensor(model_graph):
    info, tensor = model_graph
    refined = explanation.explanation_metadata(
        info, refinements={"inputs": {"embedding": {"input_tensor_name": tensor}}}
    )
    assert refined["inputs"]["embedding"] == {"input_tensor_name": tensor}
    with pytest.raises(mct.CardContentError, match="give its input_tensor_name"):
        explanation.explanation_metadata(info, refinements={"inputs": {"embedding": {}}})


@pytest.mark.parametrize(
    ("refinements", "match"),
    [
        (
            {"inputs": {"island": {"encoded_tensor_name": "no_such_node:0"}}},
            r"explanation.inputs.'island'.encoded_tensor_name names tensor 'no_such_node:0', "
            "which is not in the graph",
        ),
        (
            {"outputs": {"probabilities": {"output_tensor_name": "{node}:99"}}},
            "output_tensor_name names tensor",
        ),
        (
            {"inputs": {"island": {"encoding": "combined_embedding"}}},
            "needs encoded_tensor_name",
        ),
        (
            {
                "outputs": {
                    "probabilities": {
                        "index_display_name_mapping": [],
                        "display_name_mapping_key": "k",
                    }
                }
            },
            "Vertex takes one",
        ),
    ],
)
def test_bad_refinements_are_one_line(model_graph, refinements, match):
    info, tensor = model_graph
    node = tensor.rsplit(":", 1)[0]
    for fields in refinements.get("outputs", {}).values():
        if "output_tensor_name" in fields:
            fields["output_tensor_name"] = fields["output_tensor_name"].format(node=node)
    with pytest.raises(mct.CardContentError, match=match) as raised:
        explanation.explanation_metadata(info, refinements=refinements)
    assert "\n" not in str(raised.value)


def test_content_refines_what_the_api_and_the_component_write(penguin_run, model_graph, tmp_path):
    _, tensor = model_graph
    content = {"explanation": {"inputs": {"island": {"encoded_tensor_name": tensor}}}}
    model = penguin_run.artifact("Model").uri
    assert (
        mct.explanation_metadata(model, content=content)["inputs"]["island"]["encoded_tensor_name"]
        == tensor
    )
    from mct_component.assembly import generate
    from mct_component.readers import file_inputs

    _, written = generate.build(file_inputs.card_inputs(model), content)
    assert written["inputs"]["island"]["encoded_tensor_name"] == tensor
    bad = {"explanation": {"inputs": {"island": {"encoded_tensor_name": "gone:0"}}}}
    with pytest.raises(mct.CardContentError, match="'gone:0'"):
        mct.card_from_files(model, content=bad)
