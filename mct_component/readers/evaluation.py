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
from mct_component.readers.refs import ArtifactRef, ExecutionRef

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


# Metrics whose every possible value lies in [0, 1] (rates, shares, areas under curves).
UNIT_INTERVAL_METRICS = frozenset(
    {
        "accuracy",
        "auc",
        "auc_precision_recall",
        "binary_accuracy",
        "categorical_accuracy",
        "f1_score",
        "fall_out",
        "false_discovery_rate",
        "false_negative_rate",
        "false_omission_rate",
        "false_positive_rate",
        "miss_rate",
        "negative_predictive_value",
        "precision",
        "prediction_positive_rate",
        "recall",
        "sensitivity",
        "sparse_categorical_accuracy",
        "specificity",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
        "true_negative_rate",
        "true_positive_rate",
    }
)
# Metrics that cannot be negative (counts, errors, losses).
NON_NEGATIVE_METRICS = frozenset(
    {
        "binary_crossentropy",
        "categorical_crossentropy",
        "example_count",
        "log_loss",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_error",
        "mean_squared_logarithmic_error",
        "root_mean_squared_error",
        "sparse_categorical_crossentropy",
        "weighted_example_count",
    }
)
EXAMPLE_COUNT = "example_count"


def _weighted(key: Any) -> bool:
    """Whether a MetricKey is of example-weighted values (unset: unknown, taken as not)."""
    return key.HasField("example_weighted") and key.example_weighted.value


def metric_range(name: str) -> tuple[float | None, float | None]:
    """The lowest and highest value a metric can take (None: unbounded on that side)."""
    if name in UNIT_INTERVAL_METRICS or name.endswith("_accuracy"):
        return 0.0, 1.0
    if name in NON_NEGATIVE_METRICS:
        return 0.0, None
    return None, None


def clip_interval(
    name: str, lower: float | None, upper: float | None
) -> tuple[float | None, float | None, bool]:
    """A confidence interval cut to the metric's possible range, and whether it was cut.

    TFMA's intervals (bootstrap or jackknife, mean ± t·standard error) can run past a
    bound, e.g. an accuracy of 0.99 on 100 examples up to 1.011.
    """
    low, high = metric_range(name)
    clipped = False
    if low is not None:
        if lower is not None and lower < low:
            lower, clipped = low, True
        if upper is not None and upper < low:
            upper, clipped = low, True
    if high is not None:
        if upper is not None and upper > high:
            upper, clipped = high, True
        if lower is not None and lower > high:
            lower, clipped = high, True
    return lower, upper, clipped


def slice_metrics(
    metrics_for_slice: Any, baseline_models: frozenset[str] = frozenset()
) -> card.SliceMetrics | None:
    """The candidate model's scalar metrics of one slice; None for cross-slice comparisons.

    Diff metrics and the metrics of `baseline_models` (TFMA evaluates the baseline too
    when the Evaluator is given one) are left out. Each metric carries the slice's
    `example_count` for its output, and its interval clipped to its range.
    """
    if metrics_for_slice.WhichOneof("slicing_spec_oneof") == "cross_slice_key":
        return None
    candidates = [
        kv
        for kv in metrics_for_slice.metric_keys_and_values
        if not kv.key.is_diff and kv.key.model_name not in baseline_models
    ]
    # The unweighted count where TFMA computed both (weighted ones sort first, are replaced).
    counts = {
        kv.key.output_name: _scalar(kv.value)
        for kv in sorted(
            (
                kv
                for kv in candidates
                if kv.key.name == EXAMPLE_COUNT and not kv.key.HasField("sub_key")
            ),
            key=lambda kv: not _weighted(kv.key),
        )
    }
    metrics = []
    for kv in candidates:
        value = _scalar(kv.value)
        if value is None:
            continue
        lower = upper = None
        if kv.HasField("confidence_interval"):
            lower = _scalar(kv.confidence_interval.lower_bound)
            upper = _scalar(kv.confidence_interval.upper_bound)
        elif kv.value.WhichOneof("type") == "bounded_value":
            bounded = kv.value.bounded_value
            lower, upper = bounded.lower_bound.value, bounded.upper_bound.value
        lower, upper, clipped = clip_interval(kv.key.name, finite(lower), finite(upper))
        count = finite(counts.get(kv.key.output_name, counts.get("")))
        metrics.append(
            card.Metric(
                name=kv.key.name,
                value=finite(value),
                lower_bound=lower,
                upper_bound=upper,
                sub_key=_sub_key_text(kv.key.sub_key) if kv.key.HasField("sub_key") else "",
                interval_clipped=clipped,
                example_count=round(count) if count is not None else None,
                output=kv.key.output_name,
            )
        )
    metrics.sort(key=lambda m: (m.output, m.name, m.sub_key))
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


def feature_roles(config: Mapping[str, Any]) -> dict[str, str]:
    """Feature name -> "label" or "weight", from the candidate models' specs of an
    EvalConfig (`labelKey`/`labelKeys`, `exampleWeightKey`/`exampleWeightKeys`).

    A key ending in "_xf" (TFX's name for a Transform output) also marks the raw
    feature it was made from.
    """
    roles: dict[str, str] = {}
    for spec in config.get("modelSpecs", []):
        if spec.get("isBaseline"):
            continue
        for role, single, several in (
            ("weight", "exampleWeightKey", "exampleWeightKeys"),
            ("label", "labelKey", "labelKeys"),
        ):
            keys = [spec.get(single, ""), *spec.get(several, {}).values()]
            for key in filter(None, keys):
                roles[key] = role
                if key.endswith("_xf"):
                    roles.setdefault(key.removesuffix("_xf"), role)
    return roles


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


CONFIG_PROTO = "tensorflow_model_analysis/proto/config.proto"
NO_BASELINE = (
    "not checked: the Evaluator had no baseline model to compare with (as on a "
    "pipeline's first run), so TFX skipped the change thresholds"
)
NO_VALIDATION = "not checked: TFMA wrote no validation result"
METRIC_NOT_FOUND = "failed: TFMA did not compute the metric"


def configured_eval_config(evaluator: ExecutionRef | None) -> dict[str, Any] | None:
    """The EvalConfig the Evaluator was given (its `eval_config` exec property), in the
    camelCase JSON form TFMA saves; None when the execution or the property is unknown.

    TFX removes change thresholds from the config it hands TFMA when there is no
    baseline model, so only this one says they exist.
    """
    raw = evaluator.properties.get("eval_config") if evaluator is not None else None
    if not isinstance(raw, str) or not raw:
        return None
    from google.protobuf import json_format

    message = protos.message_class(CONFIG_PROTO, "tensorflow_model_analysis.EvalConfig")()
    try:
        json_format.Parse(raw, message, ignore_unknown_fields=True)
    except json_format.ParseError:
        return None
    return json_format.MessageToDict(message)


def _threshold_entries(
    config: Mapping[str, Any],
) -> list[tuple[str, str, str, str, Mapping[str, Any]]]:
    """(metric, output, slices, kind, threshold body) of every threshold in a config."""
    entries = []

    def add(name: str, outputs: list[str], slices: str, threshold: Mapping[str, Any]) -> None:
        for output in outputs or [""]:
            for kind, key in (("value", "valueThreshold"), ("change", "changeThreshold")):
                if key in threshold:
                    entries.append((name, output, slices, kind, threshold[key]))

    for spec in config.get("metricsSpecs", []):
        outputs = list(spec.get("outputNames", []))
        for metric in spec.get("metrics", []):
            name = _metric_name(metric)
            add(name, outputs, "", metric.get("threshold", {}))
            for per_slice in metric.get("perSliceThresholds", []):
                add(name, outputs, _slices_text(per_slice), per_slice.get("threshold", {}))
            for cross in metric.get("crossSliceThresholds", []):
                add(name, outputs, "cross-slice", cross.get("threshold", {}))
        for name, threshold in sorted(spec.get("thresholds", {}).items()):
            add(name, outputs, "", threshold)
        for name, listed in sorted(spec.get("perSliceThresholds", {}).items()):
            for per_slice in listed.get("thresholds", []):
                add(name, outputs, _slices_text(per_slice), per_slice.get("threshold", {}))
    return entries


def _slices_text(per_slice: Mapping[str, Any]) -> str:
    """The slicing specs of a per-slice threshold, e.g. "island=Dream; sex"."""
    texts = []
    for spec in per_slice.get("slicingSpecs", []):
        values = spec.get("featureValues", {})
        parts = [*spec.get("featureKeys", []), *(f"{k}={v}" for k, v in sorted(values.items()))]
        texts.append(", ".join(parts) or "Overall")
    return "; ".join(texts)


def thresholds(
    evaluation: ArtifactRef,
    config: Mapping[str, Any],
    configured: Mapping[str, Any] | None = None,
) -> tuple[card.Threshold, ...]:
    """Every metric threshold of the EvalConfig, and whether TFMA's validation passed it.

    `config` is the EvalConfig TFMA saved with its results; `configured` the one the
    Evaluator was given (`configured_eval_config`), when known: its thresholds are all
    listed, those TFMA did not check with why not.
    """
    failures = _failures(evaluation)
    validated = bool(_validation_files(evaluation))
    # What TFMA was given: its saved config (when unreadable, take the Evaluator's).
    given = config if config.get("metricsSpecs") else (configured or {})
    checked = {(n, o, s, k) for n, o, s, k, _ in _threshold_entries(given)}
    result = []
    for name, output, slices, kind, body in _threshold_entries(configured or config):
        passed: bool | None = None
        note = ""
        if (name, output, slices, kind) not in checked:
            note = NO_BASELINE if kind == "change" else "not checked: TFMA was not given it"
        elif not validated:
            note = NO_VALIDATION
        else:
            found_in = [
                failure
                for failure in failures
                if failure[:3] == (name, output, kind) and _applies(slices, failure[3])
            ]
            found = [message for *_, message in found_in]
            passed = not found
            if found and all(m == "Metric not found." for m in found):
                note = METRIC_NOT_FOUND
            elif found:
                where = sorted({slice_text for *_, slice_text, _ in found_in})
                more = f" and {len(where) - 10} more slices" if len(where) > 10 else ""
                note = f"failed on {', '.join(where[:10])}{more}"
        result.append(
            card.Threshold(
                metric=name,
                kind=kind,
                lower_bound=_bound(body.get("lowerBound")),
                upper_bound=_bound(body.get("upperBound")),
                direction=body.get("direction", ""),
                absolute=_bound(body.get("absolute")),
                relative=_bound(body.get("relative")),
                passed=passed,
                note=note,
                slices=slices,
                output=output,
            )
        )
    return tuple(result)


def _applies(slices: str, slice_text: str) -> bool:
    """Whether a threshold for `slices` (`_slices_text`; "" every slice) covers a failure
    in the slice named `slice_text` (`slice_name`)."""
    if not slices:
        return slice_text != "cross-slice"
    if "cross-slice" in (slices, slice_text):
        return slices == slice_text
    failed = dict(part.split("=", 1) for part in slice_text.split(", ") if "=" in part)
    for spec in slices.split("; "):
        if spec == "Overall":
            if slice_text == "Overall":
                return True
            continue
        parts = spec.split(", ")
        if all(
            (failed.get(p.split("=", 1)[0]) == p.split("=", 1)[1]) if "=" in p else p in failed
            for p in parts
        ) and len(parts) == len(failed):
            return True
    return False


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


def _failures(evaluation: ArtifactRef) -> list[tuple[str, str, str, str, str]]:
    """(metric name, output, "value" or "change", slice, message) of every threshold
    failure TFMA's validation recorded."""
    validation_result = protos.message_class(
        VALIDATION_PROTO, "tensorflow_model_analysis.ValidationResult"
    )
    failed = []
    for path in _validation_files(evaluation):
        for raw in read_tfrecords(path):
            result = parse_proto(validation_result(), raw, path, "a TFMA output record")
            for per_slice in result.metric_validations_per_slice:
                where = (
                    "cross-slice"
                    if per_slice.HasField("cross_slice_key")
                    else slice_name(per_slice.slice_key)
                )
                for failure in per_slice.failures:
                    threshold = failure.metric_threshold
                    key = failure.metric_key
                    for kind in ("value", "change"):
                        if threshold.HasField(f"{kind}_threshold"):
                            failed.append((key.name, key.output_name, kind, where, failure.message))
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
