"""Exports of a real card (the penguin run's), and an import applied as an edit in MLMD."""

from __future__ import annotations

import json

import pytest

import mct_component as mct
from mct_component import cli, content
from mct_component.exports import reading
from tests.test_exports import hub_card, sagemaker_shapes  # noqa: F401 (a fixture)
from tests.test_governance import governed  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture(scope="module")
def real_card(penguin_run):
    model_id = penguin_run.artifacts("Model")[-1].id
    return mct.load_card_version(penguin_run.metadata_path, model_id)


def test_real_card_exports_validate(real_card, sagemaker_shapes):  # noqa: F811
    from model_card_toolkit.utils import validation

    qa = real_card.quantitative_analysis
    assert qa.overall and qa.slices and qa.charts
    parsed = hub_card(mct.export_card(real_card, "hf").text)
    expected = {("", m.label): m.value for m in qa.overall if m.value is not None}
    expected |= {
        (s.slice, m.label): m.value for s in qa.slices for m in s.metrics if m.value is not None
    }
    found = {
        (r.dataset_config or "", r.metric_name): r.metric_value for r in parsed.data.eval_results
    }
    assert found == expected
    document = json.loads(mct.export_card(real_card, "sagemaker").text)
    sagemaker_shapes.ModelCardContent.model_validate(document)
    kinds = {
        m["type"]
        for g in document["evaluation_details"][0]["metric_groups"]
        for m in g["metric_data"]
    }
    as_sagemaker = {"bar_chart": "bar_chart", "histogram": "bar_chart", "matrix": "matrix"}
    assert kinds == {"number"} | {as_sagemaker.get(c.kind, "linear_graph") for c in qa.charts}
    validation.validate_json_schema(json.loads(mct.export_card(real_card, "mct").text))


def test_import_applies_as_an_edit_in_mlmd(governed, real_card, tmp_path, capsys):  # noqa: F811
    path, model_id, _ = governed
    edited = real_card.with_content({"business_details": {"business_problem": "Survey."}})
    mct.write_export(edited, "sagemaker", str(tmp_path / "sm.json"))
    before = mct.card_history(str(path), model_id)
    code = cli.main(
        [
            "import",
            "--from",
            "sagemaker",
            str(tmp_path / "sm.json"),
            "--metadata",
            str(path),
            "--model-id",
            str(model_id),
            "--by",
            "ann",
            "--output",
            str(tmp_path / "content.yaml"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    after = mct.card_history(str(path), model_id)
    assert len(after) == len(before) + 1 and after[-1].by == "ann"
    new = mct.load_card_version(str(path), model_id)
    assert reading.prune(content.human_content(new)) == reading.prune(content.human_content(edited))
    assert new.considerations.business_details.business_problem == "Survey."
