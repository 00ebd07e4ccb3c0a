"""Honest intervals, small samples and every threshold, on the penguin pipeline's real
TFMA outputs (`penguin_run`: run 1 has no baseline, run 2 compares with run 1).

Every value is checked against what TFMA itself loads from the same evaluation.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

import mct_component as mct
from mct_component.mlmd import summary
from mct_component.readers import evaluation
from mct_component.render import formatting
from tests.test_render import markdown_html

pytestmark = [pytest.mark.slow, pytest.mark.tf]

ACCURACY = "sparse_categorical_accuracy"


@pytest.fixture(scope="module")
def cards(penguin_run):
    """Each run's card, built from the store as the CLI builds it."""
    return [
        mct.card_from_mlmd(penguin_run.metadata_path, model.id, label_vocabulary="species")
        for model in penguin_run.artifacts("Model")
    ]


@pytest.fixture(scope="module")
def tfma_metrics(penguin_run):
    """Per run: slice name -> metric name -> (value, lower, upper) as TFMA loads them."""
    import tensorflow_model_analysis as tfma

    found = []
    for artifact in penguin_run.artifacts("ModelEvaluation"):
        by_slice: dict[str, dict[str, tuple]] = {}
        for record in tfma.load_metrics(artifact.uri):
            name = evaluation.slice_name(record.slice_key)
            for kv in record.metric_keys_and_values:
                if kv.key.is_diff or kv.key.model_name == "baseline":
                    continue
                value = kv.value
                bounds = (None, None)
                if kv.HasField("confidence_interval"):
                    ci = kv.confidence_interval
                    bounds = (ci.lower_bound.double_value.value, ci.upper_bound.double_value.value)
                number = (
                    value.double_value.value
                    if value.HasField("double_value")
                    else value.bounded_value.value.value
                )
                by_slice.setdefault(name, {})[kv.key.name] = (number, *bounds)
        found.append(by_slice)
    return found


def all_slices(model_card):
    qa = model_card.quantitative_analysis
    return [("Overall", qa.overall), *((s.slice, s.metrics) for s in qa.slices)]


def test_intervals_stay_within_the_metric_range_and_say_when_clipped(cards, tfma_metrics):
    clipped_somewhere = False
    for model_card, by_slice in zip(cards, tfma_metrics, strict=True):
        for slice_name, metrics in all_slices(model_card):
            accuracy = next(m for m in metrics if m.name == ACCURACY)
            value, lower, upper = by_slice[slice_name][ACCURACY]
            assert accuracy.value == value
            assert accuracy.lower_bound == max(0.0, min(1.0, lower))
            assert accuracy.upper_bound == min(1.0, upper)
            assert accuracy.interval_clipped == (upper > 1.0 or lower < 0.0)
            clipped_somewhere |= accuracy.interval_clipped
    # Run 2's accuracy of 0.99 on 103 examples has a jackknife interval past 1.
    assert clipped_somewhere


def test_every_metric_carries_its_slices_example_count(cards, tfma_metrics):
    for model_card, by_slice in zip(cards, tfma_metrics, strict=True):
        for slice_name, metrics in all_slices(model_card):
            count = by_slice[slice_name]["example_count"][0]
            assert [m.example_count for m in metrics] == [count] * len(metrics)


def clipped_card(cards):
    """A run's card with an interval TFMA ran past 1 (training is not seeded: which run's
    model it is varies; `test_intervals_stay_within...` checks one exists)."""
    return next(
        c for c in cards for _, metrics in all_slices(c) for m in metrics if m.interval_clipped
    )


def test_pages_show_no_interval_past_one_and_mark_small_slices(cards):
    card = clipped_card(cards)
    outputs = mct.render_card(card, ("html", "md"))
    html, md = outputs["model_card.html"], outputs["model_card.md"]
    for text in (unescape(html), markdown_html(md)):
        intervals = re.findall(r"\((\d[\d.e-]*) – (\d[\d.e-]*)(, clipped)?\)", text)
        assert intervals and all(0 <= float(lo) <= float(hi) <= 1 for lo, hi, _ in intervals)
        assert any(clipped for _, _, clipped in intervals)
        assert "Values with the confidence intervals TFMA computed." in text
        assert 'is cut to that range and marked "clipped"' in text
        # Every slice rests on fewer than 100 examples; overall on 103.
        assert "5 of 5 slices rest on fewer than 100 examples" in text
        assert "The overall metrics rest on" not in text
    assert '<td>island=Dream</td><td class="num">34 (small)</td>' in html
    assert "| island=Dream | 34 (small) |" in md


def test_exports_dashboard_and_slice_charts_keep_the_clipped_interval(cards):
    card = clipped_card(cards)
    headline = json.loads(summary.headline_json(card))
    assert headline["upper"] <= 1.0 and headline["lower"] >= 0.0
    readme = mct.export_card(card, "hf").text
    for lower, upper in re.findall(r"\((\d[\d.e-]*) – (\d[\d.e-]*), clipped\)", readme):
        assert 0.0 <= float(lower) <= float(upper) <= 1.0
    assert ", clipped)" in readme
    (chart,) = [c for c in card.quantitative_analysis.charts if c.title == f"{ACCURACY} by slice"]
    assert max(b.upper for b in chart.bars if b.upper is not None) <= 1.0


def test_without_intervals_the_card_does_not_claim_any(cards):
    no_intervals = cards[1].quantitative_analysis
    no_intervals = no_intervals.replace(
        overall=tuple(m.replace(lower_bound=None, upper_bound=None) for m in no_intervals.overall),
        slices=tuple(
            s.replace(
                metrics=tuple(m.replace(lower_bound=None, upper_bound=None) for m in s.metrics)
            )
            for s in no_intervals.slices
        ),
    )
    html = mct.render_card(cards[1].replace(quantitative_analysis=no_intervals), ("html",))[
        "model_card.html"
    ]
    assert "TFMA computed no confidence intervals" in html
    assert "Values with the confidence intervals" not in html


def test_a_change_threshold_skipped_without_baseline_says_why(cards):
    first, second = (c.quantitative_analysis.thresholds for c in cards)
    kinds = [(t.metric, t.kind) for t in first]
    assert kinds == [(ACCURACY, "value"), (ACCURACY, "change")]
    value, change = first
    assert value.passed is True and value.note == ""
    assert change.passed is None and change.note == evaluation.NO_BASELINE
    assert change.absolute == -1e-10 and change.direction == "HIGHER_IS_BETTER"
    # Run 2 had run 1's model as baseline: both thresholds were checked.
    assert [t.kind for t in second] == ["value", "change"]
    for t in second:
        assert t.passed is not None
        assert t.note == "" if t.passed else t.note.startswith("failed on ")
    outputs = mct.render_card(cards[0], ("html", "md"))
    for text in (unescape(outputs["model_card.html"]), markdown_html(outputs["model_card.md"])):
        assert "Δ ≥ −1e-10" in text
        assert evaluation.NO_BASELINE in text
        assert "not validated" not in text


def test_thresholds_agree_with_tfmas_validation(penguin_run, cards):
    import tensorflow_model_analysis as tfma

    for artifact, model_card in zip(penguin_run.artifacts("ModelEvaluation"), cards, strict=True):
        result = tfma.load_validation_result(artifact.uri)
        failed = {
            (f.metric_key.name, kind)
            for s in result.metric_validations_per_slice
            for f in s.failures
            for kind in ("value", "change")
            if f.metric_threshold.HasField(f"{kind}_threshold")
        }
        for t in model_card.quantitative_analysis.thresholds:
            if t.passed is not None:
                assert t.passed == ((t.metric, t.kind) not in failed)
        assert result.validation_ok == all(
            t.passed for t in model_card.quantitative_analysis.thresholds if t.passed is not None
        )


def test_threshold_result_texts():
    base = {"passed": None, "note": "", "kind": "change"}
    assert formatting.threshold_result(base) == "not checked"
    assert formatting.threshold_result({**base, "note": evaluation.NO_BASELINE}).startswith(
        "not checked: the Evaluator had no baseline"
    )
    assert formatting.threshold_result({**base, "passed": True}) == "passed"
    failed = {**base, "passed": False, "note": evaluation.METRIC_NOT_FOUND}
    assert formatting.threshold_result(failed) == evaluation.METRIC_NOT_FOUND
