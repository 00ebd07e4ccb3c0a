"""Exports to Hugging Face, SageMaker and Model Card Toolkit, checked by their own code.

The Hub README is parsed offline by `huggingface_hub`; SageMaker content is validated by
sagemaker-core's model card shapes with unknown keys forbidden; MCT JSON by Model Card
Toolkit's own schema validator, then rendered with MCT's default templates. Pure: no
TensorFlow, no pipeline run.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import os

import pydantic
import pytest
import yaml

import mct_component as mct
from mct_component import card, cli, content, exports
from mct_component.card import charts
from mct_component.exports import sagemaker
from tests.factories import make_card
from tests.test_business_content import BUSINESS
from tests.test_hostile import PAYLOADS, full_card, hostile, structure

HUMAN = {
    **BUSINESS,
    "model_details": {
        "overview": "Predicts species.",
        "owners": [{"name": "Team", "contact": "team@example.com"}, {"name": "Ann"}],
        "license": "Apache-2.0",
        "references": ["https://example.com/paper", "Gorman 2014"],
        "citation": "Horst 2020",
    },
    "intended_use": {
        "primary_uses": ["Teaching.", "Demos."],
        "primary_users": ["Students"],
        "out_of_scope_uses": ["Field work."],
    },
    "limitations": ["Three islands only.", "No missing values seen."],
    "tradeoffs": ["Few training steps."],
    "ethical_considerations": [{"name": "Sampling bias", "mitigation": "Slices."}, {"name": "x"}],
    "risk": {"rating": "medium", "explanation": "Teaching only."},
}


@pytest.fixture(scope="module")
def written() -> card.Card:
    return full_card().with_content(HUMAN)


# --- Hugging Face -------------------------------------------------------------------


def hub_card(text: str):
    from huggingface_hub import ModelCard

    return ModelCard(text, ignore_metadata_errors=False)


def test_hf_readme_parses_and_its_eval_results_are_the_cards(written):
    readme = mct.export_card(written, "hf")
    assert readme.file_name == "README.md"
    parsed = hub_card(readme.text)
    qa = written.quantitative_analysis
    expected = {("", m.label): m.value for m in qa.overall if m.value is not None}
    expected |= {(s.slice, m.label): m.value for s in qa.slices for m in s.metrics}
    found = {
        (r.dataset_config or "", r.metric_name): r.metric_value for r in parsed.data.eval_results
    }
    assert found == expected
    assert {r.dataset_split for r in parsed.data.eval_results} == {"eval"}
    assert parsed.data.model_name == written.model_details.name
    assert parsed.data.license == written.model_details.license.lower()
    assert set(exports.huggingface.TAGS) <= set(parsed.data.tags)


def test_hf_body_follows_the_hub_template_order(written):
    from importlib import resources

    hub_template = (
        resources.files("huggingface_hub").joinpath("templates/modelcard_template.md").read_text()
    )
    hub_order = [
        line.split(" [")[0] for line in hub_template.splitlines() if line.startswith("## ")
    ]
    body = hub_card(mct.export_card(written, "hf").text).text
    ours = [line for line in body.splitlines() if line.startswith("## ")]
    assert ours and all(heading in hub_order for heading in ours), ours
    assert [hub_order.index(h) for h in ours] == sorted(hub_order.index(h) for h in ours)
    for value in (written.considerations.business_details.business_problem, "Horst 2020"):
        assert value in body


def test_hf_licence_that_is_not_an_id_is_other():
    model_card = make_card().with_content({"model_details": {"license": "CC0 (data); MIT (code)"}})
    readme = mct.export_card(model_card, "hf")
    assert hub_card(readme.text).data.license == "other"
    assert any(note.startswith("license") for note in readme.notes)


# --- SageMaker ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sagemaker_shapes():
    """sagemaker-core's model card shapes with unknown keys forbidden (restored after)."""
    from sagemaker.core.shapes import model_card_shapes

    classes = [
        c
        for _, c in inspect.getmembers(model_card_shapes, inspect.isclass)
        if issubclass(c, pydantic.BaseModel) and c.__module__ == model_card_shapes.__name__
    ]
    before = {c: c.model_config.get("extra") for c in classes}

    def rebuild():
        for _ in classes:  # nested shapes embed each other's schemas: rebuild to a fixpoint
            for c in classes:
                c.model_rebuild(force=True)

    for c in classes:
        c.model_config["extra"] = "forbid"
    rebuild()
    yield model_card_shapes
    for c, extra in before.items():
        if extra is None:
            c.model_config.pop("extra", None)
        else:
            c.model_config["extra"] = extra
    rebuild()


def sagemaker_content(model_card: card.Card) -> tuple[dict, tuple[str, ...]]:
    exported = mct.export_card(model_card, "sagemaker")
    assert len(exported.text) <= sagemaker.MAX_CONTENT_CHARACTERS
    document = json.loads(exported.text)
    return document, exported.notes


def test_sagemaker_content_is_valid_and_carries_the_card(written, sagemaker_shapes):
    document, notes = sagemaker_content(written)
    sagemaker_shapes.ModelCardContent.model_validate(document)
    assert notes == ()
    cons = written.considerations
    assert document["intended_uses"]["risk_rating"] == "Medium"
    assert document["business_details"] == {
        k: v for k, v in dataclasses.asdict(cons.business_details).items() if v
    }
    objective = document["training_details"]["objective_function"]
    assert objective == {
        "function": cons.objective_function.function.capitalize(),
        "facet": cons.objective_function.facet,
        "condition": cons.objective_function.condition,
    }
    hyper = {
        p["name"]: p["value"]
        for p in document["training_details"]["training_job_details"]["hyper_parameters"]
    }
    assert hyper["train_steps"] == str(written.training.train_steps)
    (evaluation,) = document["evaluation_details"]
    groups = {g["name"]: g["metric_data"] for g in evaluation["metric_groups"]}
    for metric in written.quantitative_analysis.overall:
        if metric.value is not None:
            assert {"name": metric.label, "value": metric.value} in [
                {"name": m["name"], "value": m["value"]} for m in groups["Overall"]
            ]
    kinds = {m["type"] for data in groups.values() for m in data}
    assert {"number", "matrix"} <= kinds
    assert document["additional_information"]["custom_details"]["data steward"] == "Ann"


def test_sagemaker_chart_kinds(sagemaker_shapes):
    bars = charts.BarChart(
        "Accuracy by island",
        "d",
        "accuracy",
        "island",
        (charts.Bar("Biscoe", 0.9), charts.Bar("Dream", 0.8)),
    )
    curve = charts.Curve(
        "ROC", "d", "fpr", "tpr", (charts.Series("all", ((0.0, 0.0), (0.5, 0.8), (1.0, 1.0))),)
    )
    model_card = make_card()
    model_card = model_card.replace(
        quantitative_analysis=model_card.quantitative_analysis.replace(charts=(bars, curve))
    )
    document, _ = sagemaker_content(model_card)
    sagemaker_shapes.ModelCardContent.model_validate(document)
    data = {
        m["name"]: m
        for g in document["evaluation_details"][0]["metric_groups"]
        for m in g["metric_data"]
    }
    assert data["Accuracy by island"]["type"] == "bar_chart"
    assert data["Accuracy by island"]["value"] == [b.value for b in bars.bars]
    assert data["Accuracy by island"]["x_axis_name"] == [b.label for b in bars.bars]
    assert data["ROC"]["type"] == "linear_graph"
    assert data["ROC"]["value"] == [list(p) for p in curve.series[0].points]


def test_sagemaker_cuts_to_its_limits_and_says_so(sagemaker_shapes):
    size = sagemaker.MAX_MATRIX + 5
    labels = tuple(f"class {i}" for i in range(size))
    matrix = charts.Matrix("Confusion", "d", labels, labels, tuple((1.0,) * size for _ in labels))
    slices = tuple(
        card.SliceMetrics(
            f"feature=value {i}", tuple(card.Metric(f"metric_{j}", 0.5) for j in range(40))
        )
        for i in range(300)
    )
    base = make_card().with_content({"model_details": {"overview": "o" * 5000}})
    model_card = base.replace(
        training=base.training.replace(hyperparameters={f"p{i:03}": i for i in range(150)}),
        quantitative_analysis=base.quantitative_analysis.replace(charts=(matrix,), slices=slices),
    )
    document, notes = sagemaker_content(model_card)
    sagemaker_shapes.ModelCardContent.model_validate(document)
    text = "\n".join(notes)
    assert "model_overview.model_description: cut from 5,000 to 1,024 characters" in text
    assert f"kept the first {sagemaker.MAX_HYPER_PARAMETERS} of 152" in text
    assert "metric_groups: left out the last" in text
    assert "Confusion" in text
    job = document["training_details"]["training_job_details"]
    assert len(job["hyper_parameters"]) == sagemaker.MAX_HYPER_PARAMETERS
    for group in document["evaluation_details"][0]["metric_groups"]:
        for metric in group["metric_data"]:
            if metric["type"] == "matrix":
                assert len(metric["value"]) == len(metric["y_axis_name"]) == sagemaker.MAX_MATRIX
                assert {len(row) for row in metric["value"]} == {sagemaker.MAX_MATRIX}


# --- Model Card Toolkit -------------------------------------------------------------


@pytest.mark.tf  # model_card_toolkit imports TensorFlow
def test_mct_json_validates_and_renders_with_mcts_templates(written):
    import jinja2
    from model_card_toolkit import model_card as mct_model_card
    from model_card_toolkit.utils import validation

    exported = mct.export_card(written, "mct")
    document = json.loads(exported.text)
    validation.validate_json_schema(document)
    toolkit_card = mct_model_card.ModelCard()
    toolkit_card.from_json(document)
    assert toolkit_card.model_details.name == written.model_details.name
    template_dir = os.path.join(os.path.dirname(mct_model_card.__file__), "template")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir), autoescape=True)
    for name in ("html/default_template.html.jinja", "md/default_template.md.jinja"):
        page = env.get_template(name).render(
            model_details=toolkit_card.model_details,
            model_parameters=toolkit_card.model_parameters,
            quantitative_analysis=toolkit_card.quantitative_analysis,
            considerations=toolkit_card.considerations,
        )
        for text in (
            written.considerations.limitations[0],
            written.considerations.intended_use.primary_users[0],
            written.considerations.ethical_considerations[0].mitigation,
        ):
            assert text in page, (name, text)
    metrics = {
        (m.get("slice", ""), m["type"]): float(m["value"])
        for m in document["quantitative_analysis"]["performance_metrics"]
    }
    qa = written.quantitative_analysis
    assert metrics == {("", m.label): m.value for m in qa.overall} | {
        (s.slice, m.label): m.value for s in qa.slices for m in s.metrics
    }
    assert any("risk rating" in note for note in exported.notes)


# --- Import and round trips ---------------------------------------------------------


def normal(human: dict) -> dict:
    """Content as an import gives it back: nothing empty."""
    from mct_component.exports import reading

    return reading.prune(human)


def test_sagemaker_round_trip_gives_the_same_human_content(written):
    exported = mct.export_card(written, "sagemaker")
    imported = exports.import_content("sagemaker", exported.text)
    assert imported == normal(content.human_content(written))
    assert make_card().with_content(imported).considerations == written.considerations


MCT_CARRIES = (
    "model_details",
    "intended_use",
    "limitations",
    "tradeoffs",
    "ethical_considerations",
)


def test_mct_round_trip_gives_what_mct_holds(written):
    exported = mct.export_card(written, "mct")
    imported = exports.import_content("mct", exported.text)
    human = normal(content.human_content(written))
    human["intended_use"].pop("out_of_scope_uses")
    assert imported == {k: human[k] for k in MCT_CARRIES}


@pytest.mark.parametrize(
    ("fmt", "document", "match"),
    [
        ("mct", "[1]", "must hold a JSON object, got list"),
        ("mct", "{nope", "is not JSON"),
        (
            "mct",
            '{"model_details": {"owners": [{"name": 3}]}}',
            r"'model_details.owners\[0\].name' must be text",
        ),
        ("sagemaker", '{"intended_uses": {"risk_rating": "Severe"}}', "intended_uses.risk_rating"),
        (
            "sagemaker",
            '{"additional_information": {"custom_details": {"mct:references": "x"}}}',
            "a JSON list of text",
        ),
        ("sagemaker", '{"business_details": []}', "'business_details' must be an object"),
    ],
)
def test_bad_imports_name_the_field(fmt, document, match):
    with pytest.raises(mct.CardContentError, match=match):
        exports.import_content(fmt, document)


# --- Hostile strings ----------------------------------------------------------------


@pytest.fixture(scope="module")
def evil_and_benign(written):
    benign = written.to_dict()
    evil = card.Card.from_dict(
        hostile(benign, itertools.cycle((*PAYLOADS, "---", "...\n---\nx: 1")))
    )
    return written, evil


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    head, _, _ = text[4:].partition("\n---\n")
    return yaml.safe_load(head)


def test_hf_export_of_hostile_strings_keeps_its_shape(evil_and_benign):
    benign, evil = evil_and_benign
    good, bad = (mct.export_card(c, "hf").text for c in (benign, evil))
    good_meta, bad_meta = front_matter(good), front_matter(bad)
    assert bad_meta.keys() == good_meta.keys()
    assert bad_meta["model-index"][0]["name"] == evil.model_details.name
    assert hub_card(bad).data.model_name == evil.model_details.name
    good_body, bad_body = hub_card(good).text, hub_card(bad).text
    for kind, count in structure(good_body).items():
        if kind in (
            "heading_open",
            "table_open",
            "bullet_list_open",
            "link_open",
            "image",
            "html_block",
            "html_inline",
            "hr",
        ):
            assert structure(bad_body)[kind] == count, kind


@pytest.mark.parametrize(
    "fmt",
    ["sagemaker", pytest.param("mct", marks=pytest.mark.tf)],  # MCT imports TensorFlow
)
def test_json_exports_of_hostile_strings_stay_valid(evil_and_benign, fmt, sagemaker_shapes):
    _, evil = evil_and_benign
    document = json.loads(mct.export_card(evil, fmt).text)
    if fmt == "sagemaker":
        sagemaker_shapes.ModelCardContent.model_validate(document)
        imported = exports.import_content(fmt, document)
        cons = evil.considerations
        # Texts come back as written, without control and bidi characters (exports drop
        # them); list items lose their line breaks (one item per line).
        visible = exports.visible_strings
        assert imported["model_details"]["overview"] == visible(evil.model_details.overview)
        assert imported["business_details"] == normal(
            visible(dataclasses.asdict(cons.business_details))
        )
        assert imported["custom_details"] == visible(dict(cons.custom_details))
        assert imported["risk"]["explanation"] == visible(cons.risk.explanation)
    else:
        from model_card_toolkit.utils import validation

        validation.validate_json_schema(document)
        assert document["model_details"]["overview"] == exports.visible_strings(
            evil.model_details.overview
        )


# --- CLI ----------------------------------------------------------------------------


def test_cli_exports_every_format_and_reports_cuts(written, tmp_path, capsys):
    written.save(str(tmp_path / "card" / "model_card.json"))
    for fmt in exports.FORMATS:
        assert (
            cli.main(
                [
                    "export",
                    "--format",
                    fmt,
                    "--card",
                    str(tmp_path / "card"),
                    "--output",
                    str(tmp_path),
                ]
            )
            == 0
        )
        assert (tmp_path / exports.FILE_NAMES[fmt]).read_text() == mct.export_card(
            written, fmt
        ).text
    err = capsys.readouterr().err
    assert "mct-card: mct: the risk rating not carried" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["export", "--format", "pdf", "--card", "{card}", "--output", "{tmp}/x"],
            "export format must be one of",
        ),
        (
            ["export", "--format", "hf", "--card", "{tmp}/none", "--output", "{tmp}/x"],
            "no card file at",
        ),
        (
            ["export", "--format", "hf", "--card", "{card}", "--output", "{tmp}/file.txt/x"],
            "cannot write",
        ),
        (
            ["import", "--from", "hf", "{card}/model_card.json", "--output", "{tmp}/c.yaml"],
            "import format must be one of",
        ),
        (
            ["import", "--from", "mct", "{tmp}/none.json", "--output", "{tmp}/c.yaml"],
            "mct file not found",
        ),
        (["import", "--from", "mct", "{card}/model_card.json"], "import needs --output"),
        (
            ["import", "--from", "mct", "{mct}", "--output", "{tmp}/c.txt"],
            "must end in .json, .yaml or .yml",
        ),
        (
            ["export", "--format", "mct", "--card", "{card}", "--output", "{card}/model_card.json"],
            "would write over --card",
        ),
        (
            ["export", "--format", "hf", "--card", "{card}", "--output", "{card}"],
            "would write over --card",
        ),
        (["import", "--from", "mct", "{mct}", "--output", "{mct}"], "would write over"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(written, tmp_path, capsys, args, message):
    written.save(str(tmp_path / "card" / "model_card.json"))
    (tmp_path / "file.txt").write_text("a file")
    mct.write_export(written, "mct", str(tmp_path / "mct.json"))
    before = sorted(os.listdir(tmp_path))
    filled = [
        a.format(card=tmp_path / "card", tmp=tmp_path, mct=tmp_path / "mct.json") for a in args
    ]
    assert cli.main(filled) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("fmt", exports.IMPORT_FORMATS)
def test_cli_import_writes_content_the_component_accepts(written, tmp_path, fmt):
    mct.write_export(written, fmt, str(tmp_path / "in.json"))
    assert (
        cli.main(
            [
                "import",
                "--from",
                fmt,
                str(tmp_path / "in.json"),
                "--output",
                str(tmp_path / "c.yaml"),
            ]
        )
        == 0
    )
    loaded = content.load_card_content(str(tmp_path / "c.yaml"))
    assert loaded == mct.import_card_content(fmt, str(tmp_path / "in.json"))
    assert make_card().with_content(str(tmp_path / "c.yaml")).considerations.limitations == (
        written.considerations.limitations
    )


@pytest.mark.parametrize(
    ("fmt", "document", "match"),
    [
        ("sagemaker", '{"zzz": 1}', "holds none of the fields"),
        ("mct", '{"model_details": {"overview": "a", "overview": "b"}}', "twice in one object"),
    ],
)
def test_imports_of_nothing_or_of_repeated_keys_are_refused(fmt, document, match):
    with pytest.raises(mct.CardContentError, match=match):
        exports.import_content(fmt, document)


def test_a_sagemaker_import_without_a_rating_leaves_the_cards_risk_alone(written):
    content = exports.import_content("sagemaker", '{"model_overview": {"model_description": "x"}}')
    assert "risk" not in content
    assert written.with_content(content).considerations.risk == written.considerations.risk


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_exports_carry_no_control_or_bidi_characters(written, fmt):
    sneaky = written.replace(
        model_details=dataclasses.replace(
            written.model_details, name="abc\u202etxt.exe\u200f\x07", overview="a\x00b"
        )
    )
    text = exports.export_card(sneaky, fmt).text
    if fmt != "sagemaker":  # SageMaker's content has no name field
        assert "abctxt.exe" in text
    assert not any(c in text for c in "\u202e\u200f\x07\x00")


def test_a_lone_surrogate_is_one_error_not_a_crash(written):
    broken = dataclasses.replace(
        written, model_details=dataclasses.replace(written.model_details, name="a\ud800b")
    )
    with pytest.raises(mct.CardValidationError, match="lone surrogate"):
        exports.export_card(broken, "mct")
