"""The README's pipeline example builds and compiles as written."""

from __future__ import annotations

import pathlib
import re

import pytest

pytestmark = pytest.mark.tf

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    section = README.read_text().split("## Pipeline example", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_mentions_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_pipeline_example_compiles(tmp_path, monkeypatch):
    from tfx.dsl.compiler import compiler

    from mct_component.artifact import ModelCard

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    ir = compiler.Compiler().compile(namespace["pipeline"])
    nodes = {n.pipeline_node.node_info.id: n.pipeline_node for n in ir.nodes}
    card_node = nodes["ModelCardGenerator"]
    assert set(card_node.inputs.inputs) == {"model", "statistics", "evaluation", "blessing"}
    assert list(card_node.outputs.outputs) == ["model_card"]
    outputs_type = card_node.outputs.outputs["model_card"].artifact_spec.type.name
    assert outputs_type == ModelCard.TYPE_NAME
