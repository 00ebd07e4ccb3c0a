"""Readers that turn TFDV, TFMA and Pusher outputs into the card's plain data types.

Every reader takes an `ArtifactRef`, reads through `tfx.dsl.io.fileio` (so `gs://`,
`s3://` and `ram://` URIs work) and raises `SourceError` naming the artifact and file
when the output is not what its producer writes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.lineage import ArtifactRef

STATS_FILE = "FeatureStats.pb"
LEGACY_STATS_FILE = "stats_tfrecord"
METRICS_PREFIX = "metrics"


def source_of(ref: ArtifactRef) -> card.Source:
    """The provenance record of an artifact."""
    return card.Source(type_name=ref.type_name, uri=ref.uri, artifact_id=ref.id)


def split_names(ref: ArtifactRef) -> list[str]:
    """The `split_names` property of a split artifact (Examples, ExampleStatistics)."""
    raw = ref.properties.get("split_names")
    if not raw:
        raise SourceError(
            f"{ref.type_name} artifact {ref.id} at {ref.uri} has no 'split_names' property"
        )
    try:
        names = json.loads(raw)
    except json.JSONDecodeError:
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SourceError(
            f"{ref.type_name} artifact {ref.id}: 'split_names' must be a JSON list of "
            f"strings, got {raw!r}"
        )
    return names


def read_statistics(ref: ArtifactRef) -> dict[str, Any]:
    """Reads the TFDV statistics of every split.

    Returns:
        Split name -> `DatasetFeatureStatistics` proto (the first dataset of the split's
        `DatasetFeatureStatisticsList`), in the artifact's split order.
    """
    from tensorflow_metadata.proto.v0 import statistics_pb2
    from tfx.dsl.io import fileio

    result = {}
    for split in split_names(ref):
        split_dir = os.path.join(ref.uri, f"Split-{split}")
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        binary_path = os.path.join(split_dir, STATS_FILE)
        if fileio.exists(binary_path):
            stats.ParseFromString(files.read_bytes(binary_path))
        else:
            legacy_path = os.path.join(split_dir, LEGACY_STATS_FILE)
            records = list(_read_tfrecords(legacy_path)) if fileio.exists(legacy_path) else []
            if not records:
                raise SourceError(
                    f"statistics for split {split!r} not found: expected {binary_path}"
                )
            stats.ParseFromString(records[0])
        if not stats.datasets:
            raise SourceError(f"statistics file for split {split!r} holds no dataset")
        result[split] = stats.datasets[0]
    return result


def dataset_splits(ref: ArtifactRef) -> tuple[card.DatasetSplit, ...]:
    """One `DatasetSplit` per split of a statistics artifact."""
    source = source_of(ref)
    return tuple(
        card.DatasetSplit(
            name=split,
            num_examples=int(stats.num_examples),
            num_features=len(stats.features),
            source=source,
            features=feature_summaries(stats),
        )
        for split, stats in read_statistics(ref).items()
    )


def read_metrics(ref: ArtifactRef) -> list[Any]:
    """Reads the `MetricsForSlice` records a TFMA evaluation wrote (all shards)."""
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2
    from tfx.dsl.io import fileio

    paths = sorted(fileio.glob(os.path.join(ref.uri, f"{METRICS_PREFIX}*")))
    if not paths:
        raise SourceError(
            f"ModelEvaluation artifact {ref.id} at {ref.uri} has no {METRICS_PREFIX}* files; "
            "expected the output of TFMA's Evaluator"
        )
    records = []
    for path in paths:
        for raw in _read_tfrecords(path):
            metrics = metrics_for_slice_pb2.MetricsForSlice()
            metrics.ParseFromString(raw)
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


def _finite(value: float | None) -> float | None:
    """NaN/inf (TFMA's answer for undefined metrics) become None: JSON has no NaN."""
    return value if value is not None and math.isfinite(value) else None


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
                value=_finite(value),
                lower_bound=_finite(lower),
                upper_bound=_finite(upper),
                sub_key=_sub_key_text(kv.key.sub_key) if kv.key.HasField("sub_key") else "",
            )
        )
    metrics.sort(key=lambda m: (m.name, m.sub_key))
    return card.SliceMetrics(slice=slice_name(metrics_for_slice.slice_key), metrics=tuple(metrics))


def quantitative_analysis(
    evaluation: ArtifactRef | None,
    blessing: ArtifactRef | None,
    config: Mapping[str, Any] | None = None,
) -> card.QuantitativeAnalysis:
    """Overall and per-slice metrics from an evaluation, and the blessing verdict.

    `config` is the evaluation's EvalConfig (`eval_config`), read here if not given.
    """
    overall: tuple[card.Metric, ...] = ()
    slices: list[card.SliceMetrics] = []
    if evaluation is not None:
        baselines = baseline_model_names(eval_config(evaluation) if config is None else config)
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
    blessed = ref.properties.get("blessed")
    if blessed not in (0, 1):
        raise SourceError(
            f"ModelBlessing artifact {ref.id} must have a 'blessed' property of 0 or 1, "
            f"got {blessed!r}"
        )
    return blessed == 1


def deployment(ref: ArtifactRef) -> card.Deployment:
    """Where the Pusher pushed the model, from its output properties."""
    return card.Deployment(
        pushed=ref.properties.get("pushed") == 1,
        destination=str(ref.properties.get("pushed_destination", "")),
        version=str(ref.properties.get("pushed_version", "")),
        source=source_of(ref),
    )


def _read_tfrecords(path: str) -> Iterator[bytes]:
    """Yields the records of an uncompressed TFRecord file, checksums verified by TF."""
    import tensorflow as tf

    try:
        yield from tf.data.TFRecordDataset(path).as_numpy_iterator()
    except tf.errors.OpError as e:
        raise SourceError(f"cannot read TFRecord file {path}: {e.message}") from None


def feature_summaries(stats: Any) -> tuple[card.FeatureSummary, ...]:
    """Per-feature summaries (and a distribution chart each) of one split's statistics."""
    return tuple(sorted((_feature_summary(f) for f in stats.features), key=lambda f: f.name))


def _feature_name(feature: Any) -> str:
    return ".".join(feature.path.step) if feature.HasField("path") else feature.name


def _missing_pct(common: Any) -> float:
    total = common.num_non_missing + common.num_missing
    return 100.0 * common.num_missing / total if total else 0.0


def _feature_summary(feature: Any) -> card.FeatureSummary:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    name = _feature_name(feature)
    type_name = statistics_pb2.FeatureNameStatistics.Type.Name(feature.type)
    kind = feature.WhichOneof("stats")
    if kind == "num_stats":
        num = feature.num_stats
        return card.FeatureSummary(
            name=name,
            type=type_name,
            missing_pct=_missing_pct(num.common_stats),
            mean=_finite(num.mean),
            std_dev=_finite(num.std_dev),
            min=_finite(num.min),
            max=_finite(num.max),
            chart=_numeric_chart(name, num),
        )
    if kind == "string_stats":
        strings = feature.string_stats
        top = tuple(card.TopValue(v.value, v.frequency) for v in strings.top_values)
        return card.FeatureSummary(
            name=name,
            type=type_name,
            missing_pct=_missing_pct(strings.common_stats),
            unique=int(strings.unique),
            top_values=top[:TOP_VALUES],
            chart=_categorical_chart(name, strings),
        )
    common = getattr(feature, kind).common_stats if kind else None
    return card.FeatureSummary(
        name=name, type=type_name, missing_pct=_missing_pct(common) if common else 0.0
    )


TOP_VALUES = 10


def _numeric_chart(name: str, num: Any) -> Any:
    from mct_component import charts

    standard = [h for h in num.histograms if h.type == h.STANDARD]
    if not standard or not standard[0].buckets:
        return None
    # TFDV gives infinite bucket bounds when the data holds inf; charts need finite numbers.
    buckets = tuple(
        charts.Bucket(low=b.low_value, high=b.high_value, count=b.sample_count)
        for b in standard[0].buckets
        if math.isfinite(b.low_value) and math.isfinite(b.high_value)
    )
    if not buckets:
        return None
    return charts.Histogram(
        title=name,
        description=f"Distribution of {name}: {len(buckets)} equal-width buckets "
        f"from {num.min:g} to {num.max:g}.",
        x_label="",  # the title already names the feature
        buckets=buckets,
    )


def _categorical_chart(name: str, strings: Any) -> Any:
    from mct_component import charts

    # rank_histogram holds every value TFDV ranked; top_values may be truncated.
    ranked = [(b.label, b.sample_count) for b in strings.rank_histogram.buckets] or [
        (v.value, v.frequency) for v in strings.top_values
    ]
    if not ranked:
        return None
    pairs = charts.top_k(ranked, TOP_VALUES)
    return charts.BarChart(
        title=name,
        description=f"Most frequent values of {name} ({strings.unique} distinct).",
        x_label="count",
        y_label="",  # the title already names the feature
        bars=tuple(charts.Bar(label=label, value=count) for label, count in pairs),
    )


def schema_summary(ref: ArtifactRef) -> card.SchemaSummary:
    """Feature facts from a `schema.pbtxt` written by SchemaGen or ImportSchemaGen."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.dsl.io import fileio

    paths = fileio.glob(os.path.join(ref.uri, "*.pbtxt"))
    if not paths:
        raise SourceError(f"Schema artifact {ref.id} at {ref.uri} has no .pbtxt file")
    schema = schema_pb2.Schema()
    try:
        text_format.Parse(files.read_bytes(sorted(paths)[0]).decode("utf-8"), schema)
    except text_format.ParseError as e:
        raise SourceError(f"schema file {paths[0]} is not a valid Schema: {e}") from None
    features = []
    for feature in schema.feature:
        domain = feature.WhichOneof("domain_info") or ""
        if domain == "domain":
            domain = f"string domain {feature.domain}"
        features.append(
            card.SchemaFeature(
                name=feature.name,
                type=schema_pb2.FeatureType.Name(feature.type),
                required=feature.presence.min_fraction >= 1.0,
                domain=domain,
            )
        )
    return card.SchemaSummary(features=tuple(features), source=source_of(ref))


def _json_object(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return {"value": raw}
    return value if isinstance(value, dict) else {"value": value}


def hyperparameters(ref: ArtifactRef) -> dict[str, Any]:
    """Best hyperparameters a Tuner wrote (`best_hyperparameters.txt`, Keras Tuner JSON)."""
    from tfx.dsl.io import fileio

    paths = sorted(fileio.glob(os.path.join(ref.uri, "*.txt")))
    if not paths:
        raise SourceError(f"HyperParameters artifact {ref.id} at {ref.uri} has no .txt file")
    config = _json_object(files.read_bytes(paths[0]).decode("utf-8"))
    return config.get("values", config)


def training(
    trainer: Any, hyperparameter_ref: ArtifactRef | None, transform: bool
) -> card.Training:
    """The Trainer's configuration, from its execution properties."""
    props = trainer.properties
    train_args = _json_object(props.get("train_args"))
    eval_args = _json_object(props.get("eval_args"))
    module = props.get("module_path") or props.get("module_file") or props.get("run_fn") or ""
    return card.Training(
        component=trainer.component,
        train_steps=train_args.get("num_steps"),
        eval_steps=eval_args.get("num_steps"),
        module=str(module).split("@", 1)[0],
        custom_config=_json_object(props.get("custom_config")),
        hyperparameters=hyperparameters(hyperparameter_ref) if hyperparameter_ref else {},
        transform=transform,
        source=card.Source(type_name=trainer.type_name, uri="", execution_id=trainer.id),
    )


def eval_config(evaluation: ArtifactRef) -> dict[str, Any]:
    """The EvalConfig TFMA saved with its results, as JSON (camelCase keys)."""
    from tfx.dsl.io import fileio

    path = os.path.join(evaluation.uri, "eval_config.json")
    if not fileio.exists(path):
        return {}
    return _json_object(files.read_bytes(path).decode("utf-8")).get("evalConfig", {})


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
    from tfx.dsl.io import fileio

    return sorted(fileio.glob(os.path.join(evaluation.uri, "validations*")))


def _failed_metrics(evaluation: ArtifactRef) -> set[tuple[str, str]]:
    """(metric name, "value" or "change") of every threshold TFMA's validation failed."""
    from tensorflow_model_analysis.proto import validation_result_pb2

    failed: set[tuple[str, str]] = set()
    for path in _validation_files(evaluation):
        for raw in _read_tfrecords(path):
            result = validation_result_pb2.ValidationResult()
            result.ParseFromString(raw)
            for per_slice in result.metric_validations_per_slice:
                for failure in per_slice.failures:
                    threshold = failure.metric_threshold
                    for kind in ("value", "change"):
                        if threshold.HasField(f"{kind}_threshold"):
                            failed.add((failure.metric_key.name, kind))
    return failed


def class_names(transform_graph: ArtifactRef, vocabulary: str) -> tuple[str, ...]:
    """The tokens of a Transform vocabulary, in id order (token i is class id i).

    Read with TFT's own `TFTransformOutput.vocabulary_by_name`.

    Raises:
        SourceError: the graph has no such vocabulary (the message lists those it has).
    """
    import tensorflow_transform as tft
    from tfx.dsl.io import fileio

    output = tft.TFTransformOutput(transform_graph.uri)
    if output.vocabulary_file_by_name(vocabulary) is None:
        assets = os.path.join(output.transform_savedmodel_dir, "assets")
        names = sorted(fileio.listdir(assets)) if fileio.isdir(assets) else []
        raise SourceError(
            f"the Transform graph at {transform_graph.uri} has no vocabulary {vocabulary!r}; "
            f"it has {names}"
        )
    return tuple(t.decode("utf-8", "replace") for t in output.vocabulary_by_name(vocabulary))


def plot_charts(
    evaluation: ArtifactRef, config: Mapping[str, Any], class_names: tuple[str, ...] = ()
) -> tuple[Any, ...]:
    """Charts of the plots TFMA computed for the candidate model on the overall slice.

    `class_names[i]` names class id i in the confusion matrix (ids are shown otherwise).
    """
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2
    from tfx.dsl.io import fileio

    baselines = baseline_model_names(config)
    result = []
    for path in sorted(fileio.glob(os.path.join(evaluation.uri, "plots*"))):
        for raw in _read_tfrecords(path):
            plots = metrics_for_slice_pb2.PlotsForSlice()
            plots.ParseFromString(raw)
            if plots.slice_key.single_slice_keys:
                continue
            for kv in plots.plot_keys_and_values:
                if kv.key.model_name in baselines:
                    continue
                result.extend(_plot_to_charts(kv.key.name, kv.value, class_names))
    return tuple(result)


def _plot_to_charts(name: str, plot: Any, class_names: tuple[str, ...]) -> list[Any]:
    from mct_component import charts

    out = []
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
            labels = tuple(class_names[i] if 0 <= i < len(class_names) else str(i) for i in ids)
            what = "class" if class_names else "class id"
            out.append(
                charts.Matrix(
                    title=f"Confusion matrix ({name})",
                    description=f"Examples by actual (rows) and predicted (columns) {what}, threshold {matrix.threshold:g}.",
                    row_labels=labels,
                    column_labels=labels,
                    values=tuple(tuple(cells.get((a, p), 0.0) for p in ids) for a in ids),
                    row_title="actual class",
                    column_title="predicted class",
                )
            )
    if plot.HasField("confusion_matrix_at_thresholds"):
        points = plot.confusion_matrix_at_thresholds.matrices
        roc = _finite_points((m.false_positive_rate, m.recall) for m in points)
        pr = _finite_points((m.recall, m.precision) for m in points)
        out.append(_curve("ROC curve", "false positive rate", "true positive rate", name, roc))
        out.append(_curve("Precision-recall curve", "recall", "precision", name, pr))
    if plot.HasField("calibration_histogram_buckets"):
        buckets = [
            b
            for b in plot.calibration_histogram_buckets.buckets
            if b.num_weighted_examples.value > 0
        ]
        calibration = _finite_points(
            (
                b.total_weighted_refined_prediction.value / b.num_weighted_examples.value,
                b.total_weighted_label.value / b.num_weighted_examples.value,
            )
            for b in buckets
        )
        if calibration:
            out.append(_curve("Calibration", "mean prediction", "mean label", name, calibration))
    return out


def _curve(
    title: str, x_label: str, y_label: str, name: str, points: tuple[tuple[float, float], ...]
) -> Any:
    from mct_component import charts

    return charts.Curve(
        title=title,
        description=f"{title}: {y_label} against {x_label}, {len(points)} points.",
        x_label=x_label,
        y_label=y_label,
        series=(charts.Series(name=name, points=points),),
    )


def _finite_points(points: Iterator[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Curve points without NaN/inf (e.g. TFMA's precision where nothing is predicted)."""
    return tuple((x, y) for x, y in points if math.isfinite(x) and math.isfinite(y))


def slice_charts(slices: tuple[card.SliceMetrics, ...]) -> tuple[Any, ...]:
    """One bar chart per metric across slices, with confidence intervals as error bars."""
    from mct_component import charts

    by_metric: dict[str, list[Any]] = {}
    for entry in slices:
        for metric in entry.metrics:
            if metric.value is not None:
                by_metric.setdefault(metric.label, []).append(
                    charts.Bar(
                        label=entry.slice,
                        value=metric.value,
                        lower=metric.lower_bound,
                        upper=metric.upper_bound,
                    )
                )
    return tuple(
        charts.BarChart(
            title=f"{label} by slice",
            description=f"{label} for each of {len(bars)} slices, with confidence intervals where computed.",
            x_label=label,
            y_label="slice",
            bars=tuple(bars),
        )
        for label, bars in sorted(by_metric.items())
    )
