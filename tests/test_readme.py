"""The README's examples run as written: the pipeline compiles, the Python API builds a card."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.tf

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def readme_example(heading: str = "## Pipeline example") -> str:
    section = README.read_text().split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_mentions_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_pipeline_example_compiles(tmp_path, monkeypatch):
    from tfx.dsl.compiler import compiler

    from mct_component.generator.artifact import ModelCard

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    ir = compiler.Compiler().compile(namespace["pipeline"])
    nodes = {n.pipeline_node.node_info.id: n.pipeline_node for n in ir.nodes}
    card_node = nodes["ModelCardGenerator"]
    assert set(card_node.inputs.inputs) == {
        "model",
        "statistics",
        "evaluation",
        "blessing",
        "pushed_model",
    }
    # The card is made after the model is evaluated and pushed.
    assert {"Evaluator", "Pusher"} <= set(card_node.upstream_nodes)
    assert set(card_node.outputs.outputs) == {"model_card", "push_blessing"}
    outputs_type = card_node.outputs.outputs["model_card"].artifact_spec.type.name
    assert outputs_type == ModelCard.TYPE_NAME


@pytest.mark.slow
def test_python_api_example_runs_on_the_demos_files(penguin_run, tmp_path):
    """The example reads `make demo`'s first run; the test's first penguin run is laid out alike."""
    example = readme_example("## Python API")
    assert len(example.strip().splitlines()) < 15
    os.makedirs(tmp_path / "build" / "demo")
    os.symlink(
        os.path.join(penguin_run.output_dir, "pipeline_root"),
        tmp_path / "build" / "demo" / "pipeline_root",
    )
    os.symlink(README.parent / "pipelines", tmp_path / "pipelines")

    # A fresh Python process, as a user would start one: no store is opened.
    subprocess.run([sys.executable, "-c", example], cwd=tmp_path, check=True)

    import mct_component as mct

    card = mct.Card.load(str(tmp_path / "build" / "my_card"))
    assert card.considerations.intended_use.primary_uses == ("Teaching classification.",)
    assert card.considerations.limitations  # from pipelines/card_content.yaml, kept
    assert card.datasets and card.quantitative_analysis.overall and card.schema
    html = (tmp_path / "build" / "my_card" / "model_card.html").read_text()
    markdown = (tmp_path / "build" / "my_card" / "model_card.md").read_text()
    assert "Teaching classification." in html and "Teaching classification." in markdown
    assert not os.path.exists(tmp_path / "metadata.sqlite")


@pytest.mark.slow
def test_signed_review_example_runs_as_written(tmp_path):
    """The README's signed flow, in a shell, on a store with one card: the self-approval
    is refused, bob's approval verifies, and model_signing's own CLI accepts it."""
    from tests.card_store import write_card_store

    section = README.read_text().split("### Signed review", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    store = write_card_store(tmp_path / "store")
    (tmp_path / "content.yaml").write_text("limitations: [Trained on three islands.]\n")
    bin_dir = os.path.dirname(sys.executable)
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "S": f"--metadata {store.path} --model-id {store.model_id}",
    }
    environment.pop("MCT_REVIEW_POLICY", None)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: ann is no approver" in result.stdout and "ann may not approve" in result.stderr
    assert "verified approved" in result.stdout and "deploy" in result.stdout
    assert "Verification succeeded" in result.stdout
