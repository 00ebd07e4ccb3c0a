"""TFMA results: metrics overall and per slice, thresholds and their verdicts, plots, blessing."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from mct_component import card, constants, files
from mct_component.errors import SourceError
from mct_component.readers import finite, parse_proto, protos, read_tfrecords, source_of
from mct_component.readers.refs import ArtifactRef

METRICS_PREFIX = "metrics"
EVAL_CONFIG_FILE = "eval_config.json"
# TFMA's protos, read without importing TFMA (see `protos`).
METRICS_PROTO = "tensorflow_model_analysis/proto/metrics_for_slice.proto"
VALIDATION_PROTO = "tensorflow_model_analysis/proto/validation_result.proto"


def _output_files(folder: str, prefix: str) -> list[str]:
    """TFMA's output files named `prefix*` in `folder` (its shards), sorted."""
    return sorted(files.filesystem(folder).glob(os.path.join(folder, f"{prefix}*")))


def read_metrics(ref: ArtifactRef) -> list[Any]:
    """Reads the `MetricsForSlice` records a TFMA evaluation wrote (all shards)."""
    metrics_for_slice = protos.message_class(
        METRICS_PROTO, "tensorflow_model_analysis.MetricsForSlice"
    )
    paths = _output_files(ref.uri, METRICS_PREFIX)
    if not paths:
        raise SourceError(
            f"ModelEvaluation artifact {ref.id} at {ref.uri} has no {METRICS_PREFIX}* files; "
            "expected the output of TFMA's Evaluator"
        )
    records = []
    for path in paths:
        for raw in read_tfrecords(path):
            metrics = parse_proto(metrics_for_slice(), raw, path, "a TFMA output record")
            records.append(metrics)
    return records


def slice_name(slice_key: Any) -> str:
    """ "Overall" for the empty slice key, else "col=value" pairs joined by ", "."""
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        parts.append(f"{single.column}={value}")
    return ", ".join(parts) or "Overall"


def _sub_key_text(sub_key: Any) -> str:
    parts = [f"{f.name}={v.value}" for f, v in sub_key.ListFields()]
    return ", ".join(parts)


def _scalar(value: Any) -> float | None:
    kind = value.WhichOneof("type")
    if kind == "double_value":
        return value.double_value.value
    if kind == "bounded_value":
        return value.bounded_value.value.value
    return None


def slice_metrics(
    metrics_for_slice: Any, baseline_models: frozenset[str] = frozenset()
) -> card.SliceMetrics | None:
    """The candidate model's scalar metrics of one slice; None for cross-slice comparisons.

    Diff metrics and the metrics of `baseline_models` (TFMA evaluates the baseline too
    when the Evaluator is given one) are left out.
    """
    if metrics_for_slice.WhichOneof("slicing_spec_oneof") == "cross_slice_key":
        return None
    metrics = []
    for kv in metrics_for_slice.metric_keys_and_values:
        value = _scalar(kv.value)
        if value is None or kv.key.is_diff or kv.key.model_name in baseline_models:
            continue
        lower = upper = None
        if kv.HasField("confidence_interval"):
            lower = _scalar(kv.confidence_interval.lower_bound)
            upper = _scalar(kv.confidence_interval.upper_bound)
        elif kv.value.WhichOneof("type") == "bounded_value":
            bounded = kv.value.bounded_value
            lower, upper = bounded.lower_bound.value, bounded.upper_bound.value
        metrics.append(
            card.Metric(
                name=kv.key.name,
                value=finite(value),
                lower_bound=finite(lower),
                upper_bound=finite(upper),
                sub_key=_sub_key_text(kv.key.sub_key) if kv.key.HasField("sub_key") else "",
            )
        )
    metrics.sort(key=lambda m: (m.name, m.sub_key))
    return card.SliceMetrics(slice=slice_name(metrics_for_slice.slice_key), metrics=tuple(metrics))


def quantitative_analysis(
    evaluation: ArtifactRef | None,
    blessing: ArtifactRef | None,
    config: Mapping[str, Any],
) -> card.QuantitativeAnalysis:
    """Overall and per-slice metrics from an evaluation, and the blessing verdict.

    `config` is the evaluation's EvalConfig (`eval_config`): its baseline model's
    metrics are left out.
    """
    overall: tuple[card.Metric, ...] = ()
    slices: list[card.SliceMetrics] = []
    if evaluation is not None:
        baselines = baseline_model_names(config)
        for record in read_metrics(evaluation):
            entry = slice_metrics(record, baselines)
            if entry is None:
                continue
            if entry.slice == "Overall":
                overall = entry.metrics
            else:
                slices.append(entry)
        slices.sort(key=lambda s: s.slice)
    return card.QuantitativeAnalysis(
        overall=overall,
        slices=tuple(slices),
        blessed=read_blessing(blessing) if blessing is not None else None,
        source=source_of(evaluation) if evaluation is not None else None,
        blessing_source=source_of(blessing) if blessing is not None else None,
    )


def baseline_model_names(config: Mapping[str, Any]) -> frozenset[str]:
    """Names of the baseline models in an EvalConfig (TFX calls it "baseline")."""
    specs = config.get("modelSpecs", [])
    return frozenset(spec.get("name", "") for spec in specs if spec.get("isBaseline"))


def read_blessing(ref: ArtifactRef) -> bool:
    """The Evaluator's verdict, from the `blessed` custom property (1 or 0)."""
    blessed = ref.properties.get(constants.BLESSED_PROPERTY)
    if blessed not in (0, 1):
        raise SourceError(
            f"ModelBlessing artifact {ref.id} must have a 'blessed' property of 0 or 1, "
            f"got {blessed!r}"
        )
    return blessed == 1


def eval_config(evaluation: ArtifactRef) -> dict[str, Any]:
    """The EvalConfig TFMA saved with its results, as JSON (camelCase keys).

    Raises:
        SourceError: the evaluation has no `eval_config.json`, or it is not one.
    """
    path = os.path.join(evaluation.uri, EVAL_CONFIG_FILE)
    if not files.filesystem(path).exists(path):
        raise SourceError(f"the evaluation at {evaluation.uri} has no {EVAL_CONFIG_FILE}")
    try:
        saved = json.loads(files.read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SourceError(f"{path} is not JSON: {e}") from None
    config = saved.get("evalConfig") if isinstance(saved, dict) else None
    if not isinstance(config, dict):
        raise SourceError(f"{path} has no evalConfig object, as TFMA writes it")
    return config


def read_eval_config(evaluation: ArtifactRef) -> tuple[dict[str, Any], str]:
    """An evaluation's EvalConfig, or an empty one and why it could not be read."""
    try:
        return eval_config(evaluation), ""
    except SourceError as e:
        return {}, str(e)


def thresholds(evaluation: ArtifactRef, config: Mapping[str, Any]) -> tuple[card.Threshold, ...]:
    """Every metric threshold of the EvalConfig, and whether TFMA's validation passed it."""
    failed = _failed_metrics(evaluation)
    validated = bool(_validation_files(evaluation))
    result = []
    for spec in config.get("metricsSpecs", []):
        for metric in spec.get("metrics", []):
            threshold = metric.get("threshold", {})
            name = _metric_name(metric)
            for kind, body in (
                ("value", threshold.get("valueThreshold")),
                ("change", threshold.get("changeThreshold")),
            ):
                if body is None:
                    continue
                result.append(
                    card.Threshold(
                        metric=name,
                        kind=kind,
                        lower_bound=_bound(body.get("lowerBound")),
                        upper_bound=_bound(body.get("upperBound")),
                        direction=body.get("direction", ""),
                        absolute=_bound(body.get("absolute")),
                        relative=_bound(body.get("relative")),
                        passed=((name, kind) not in failed) if validated else None,
                    )
                )
    return tuple(result)


def _bound(raw: Any) -> float | None:
    if isinstance(raw, dict):
        raw = raw.get("value")
    return float(raw) if raw is not None else None


def _metric_name(metric_config: Mapping[str, Any]) -> str:
    """TFMA's metric name for a MetricConfig: its `name`, else the snake_case class name."""
    import re

    if metric_config.get("name"):
        return metric_config["name"]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", metric_config.get("className", "")).lower()


def _validation_files(evaluation: ArtifactRef) -> list[str]:
    return _output_files(evaluation.uri, "validations")


def _failed_metrics(evaluation: ArtifactRef) -> set[tuple[str, str]]:
    """(metric name, "value" or "change") of every threshold TFMA's validation failed."""
    validation_result = protos.message_class(
        VALIDATION_PROTO, "tensorflow_model_analysis.ValidationResult"
    )
    failed: set[tuple[str, str]] = set()
    for path in _validation_files(evaluation):
        for raw in read_tfrecords(path):
            result = parse_proto(validation_result(), raw, path, "a TFMA output record")
            for per_slice in result.metric_validations_per_slice:
                for failure in per_slice.failures:
                    threshold = failure.metric_threshold
                    for kind in ("value", "change"):
                        if threshold.HasField(f"{kind}_threshold"):
                            failed.add((failure.metric_key.name, kind))
    return failed


@dataclasses.dataclass(frozen=True)
class ConfusionMatrix:
    """A multi-class confusion matrix TFMA computed, at the threshold closest to 0.

    `counts[i][j]` are the (weighted) examples of actual class `class_ids[i]`
    predicted as `class_ids[j]`.
    """

    metric: str
    threshold: float
    class_ids: tuple[int, ...]
    counts: tuple[tuple[float, ...], ...]


@dataclasses.dataclass(frozen=True)
class ThresholdSweep:
    """A binary confusion matrix at each threshold, as (false positive rate, recall, precision)."""

    metric: str
    points: tuple[tuple[float, float, float], ...]


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Calibration bins with examples, as (mean prediction, mean label)."""

    metric: str
    points: tuple[tuple[float, float], ...]


Plot = ConfusionMatrix | ThresholdSweep | Calibration


def read_plots(evaluation: ArtifactRef, config: Mapping[str, Any]) -> tuple[Plot, ...]:
    """The plots TFMA computed for the candidate model on the overall slice, in file order."""
    plots_for_slice = protos.message_class(METRICS_PROTO, "tensorflow_model_analysis.PlotsForSlice")
    baselines = baseline_model_names(config)
    result: list[Plot] = []
    for path in _output_files(evaluation.uri, "plots"):
        for raw in read_tfrecords(path):
            plots = parse_proto(plots_for_slice(), raw, path, "a TFMA output record")
            if plots.slice_key.single_slice_keys:
                continue
            for kv in plots.plot_keys_and_values:
                if kv.key.model_name not in baselines:
                    result.extend(_plots(kv.key.name, kv.value))
    return tuple(result)


def _plots(name: str, plot: Any) -> list[Plot]:
    found: list[Plot] = []
    if plot.HasField("multi_class_confusion_matrix_at_thresholds"):
        matrices = plot.multi_class_confusion_matrix_at_thresholds.matrices
        if matrices:
            matrix = min(matrices, key=lambda m: abs(m.threshold))
            ids = sorted(
                {e.actual_class_id for e in matrix.entries}
                | {e.predicted_class_id for e in matrix.entries}
            )
            cells = {
                (e.actual_class_id, e.predicted_class_id): e.num_weighted_examples
                for e in matrix.entries
            }
            counts = tuple(tuple(cells.get((a, p), 0.0) for p in ids) for a in ids)
            found.append(ConfusionMatrix(name, matrix.threshold, tuple(ids), counts))
    if plot.HasField("confusion_matrix_at_thresholds"):
        points = tuple(
            (m.false_positive_rate, m.recall, m.precision)
            for m in plot.confusion_matrix_at_thresholds.matrices
        )
        found.append(ThresholdSweep(name, points))
    if plot.HasField("calibration_histogram_buckets"):
        bins = tuple(
            (
                b.total_weighted_refined_prediction.value / b.num_weighted_examples.value,
                b.total_weighted_label.value / b.num_weighted_examples.value,
            )
            for b in plot.calibration_histogram_buckets.buckets
            if b.num_weighted_examples.value > 0
        )
        found.append(Calibration(name, bins))
    return found
