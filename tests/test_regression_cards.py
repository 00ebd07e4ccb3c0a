"""Regression and two-output models (`regression_run`, pipelines/penguin_regression.py):
every metric of the card is TFMA's, per slice and per output, with its thresholds,
calibration plot, labels and rendered tables."""

from __future__ import annotations

import math
from html import unescape

import pytest

import mct_component as mct
from mct_component.readers import evaluation
from tests.test_render import markdown_html

pytestmark = [pytest.mark.slow, pytest.mark.tf]


@pytest.fixture(scope="module")
def evaluated(regression_run):
    """(model, its evaluation, its card) for the one-output and the two-output model."""
    found = {}
    for artifact in regression_run.artifacts("ModelEvaluation"):
        name = "two" if "/TwoOutputsEvaluator/" in artifact.uri else "mass"
        store = regression_run.store()
        (event,) = [
            e for e in store.get_events_by_artifact_ids([artifact.id]) if e.type == e.OUTPUT
        ]
        inputs = store.get_events_by_execution_ids([event.execution_id])
        models = store.get_artifacts_by_id([e.artifact_id for e in inputs if e.type == e.INPUT])
        (model,) = [m for m in models if m.type == "Model"]
        card = mct.card_from_mlmd(regression_run.metadata_path, model.id)
        found[name] = (model, artifact, card)
    assert sorted(found) == ["mass", "two"]
    return found


def tfma_values(uri: str) -> dict[tuple[str, str, str], tuple[float, float | None, float | None]]:
    """(slice, output, metric) -> (value, lower, upper) of every scalar TFMA loads."""
    import tensorflow_model_analysis as tfma

    found = {}
    for record in tfma.load_metrics(uri):
        for kv in record.metric_keys_and_values:
            if kv.key.is_diff:
                continue
            value = kv.value
            if value.HasField("double_value"):
                number = value.double_value.value
            elif value.HasField("bounded_value"):
                number = value.bounded_value.value.value
            else:
                continue
            lower = upper = None
            if kv.HasField("confidence_interval"):
                lower = kv.confidence_interval.lower_bound.double_value.value
                upper = kv.confidence_interval.upper_bound.double_value.value
            key = (evaluation.slice_name(record.slice_key), kv.key.output_name, kv.key.name)
            found[key] = (number, lower, upper)
    return found


@pytest.mark.parametrize("name", ["mass", "two"])
def test_every_metric_is_tfmas(evaluated, name):
    _, artifact, model_card = evaluated[name]
    expected = tfma_values(artifact.uri)
    qa = model_card.quantitative_analysis
    shown = {
        (slice_name, m.output, m.name): m
        for slice_name, metrics in [
            ("Overall", qa.overall),
            *((s.slice, s.metrics) for s in qa.slices),
        ]
        for m in metrics
    }
    assert set(shown) == set(expected)
    for key, (value, lower, upper) in expected.items():
        metric = shown[key]
        assert metric.value == (value if math.isfinite(value) else None), key
        if lower is not None:
            low, high, clipped = evaluation.clip_interval(key[2], lower, upper)
            assert (metric.lower_bound, metric.upper_bound) == (low, high), key
            assert metric.interval_clipped == clipped
        count = expected[(key[0], key[1], "example_count")][0]
        assert metric.example_count == round(count)
    outputs = {m.output for m in shown.values()}
    assert outputs == ({""} if name == "mass" else {"body_mass", "flipper"})


def test_the_regression_card_reads_as_regression(evaluated):
    _, _, model_card = evaluated["mass"]
    labels = {f.name: f.role for d in model_card.datasets for f in d.features if f.role}
    assert labels == {"body_mass_g": "label"}
    (calibration,) = [
        c for c in model_card.quantitative_analysis.charts if c.title == "Calibration"
    ]
    assert calibration.series[0].points
    assert mct.export_card(model_card, "hf").text.count("tabular-regression") >= 1
    (threshold,) = model_card.quantitative_analysis.thresholds
    assert (threshold.metric, threshold.upper_bound) == ("mean_absolute_error", 600.0)
    assert threshold.passed is not None


def test_two_outputs_are_named_in_metrics_thresholds_and_pages(evaluated, regression_run):
    import tensorflow_model_analysis as tfma

    _, artifact, model_card = evaluated["two"]
    qa = model_card.quantitative_analysis
    labels = {f.name: f.role for d in model_card.datasets for f in d.features if f.role}
    assert labels == {"body_mass_g": "label", "flipper_length_mm": "label"}
    assert sorted((t.output, t.metric) for t in qa.thresholds) == [
        ("body_mass", "mean_absolute_error"),
        ("flipper", "mean_absolute_error"),
    ]
    result = tfma.load_validation_result(artifact.uri)
    failed = {
        (f.metric_key.output_name, f.metric_key.name)
        for s in result.metric_validations_per_slice
        for f in s.failures
    }
    for t in qa.thresholds:
        assert t.passed == ((t.output, t.metric) not in failed)
    outputs = mct.render_card(model_card, ("html", "md"))
    for text in (unescape(outputs["model_card.html"]), markdown_html(outputs["model_card.md"])):
        assert "body_mass: mean_absolute_error" in text
        assert "flipper: mean_absolute_error" in text
        assert "output flipper" in text
