"""Readers that turn TFDV, TFMA and Pusher outputs into the card's plain data types.

Every reader takes an `ArtifactRef`, reads through `tfx.dsl.io.fileio` (so `gs://`,
`s3://` and `ram://` URIs work) and raises `SourceError` naming the artifact and file
when the output is not what its producer writes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
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


def slice_metrics(metrics_for_slice: Any) -> card.SliceMetrics | None:
    """The scalar, non-diff metrics of one slice; None for cross-slice comparisons."""
    if metrics_for_slice.WhichOneof("slicing_spec_oneof") == "cross_slice_key":
        return None
    metrics = []
    for kv in metrics_for_slice.metric_keys_and_values:
        value = _scalar(kv.value)
        if value is None or kv.key.is_diff:
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
    evaluation: ArtifactRef | None, blessing: ArtifactRef | None
) -> card.QuantitativeAnalysis:
    """Overall and per-slice metrics from an evaluation, and the blessing verdict."""
    overall: tuple[card.Metric, ...] = ()
    slices: list[card.SliceMetrics] = []
    if evaluation is not None:
        for record in read_metrics(evaluation):
            entry = slice_metrics(record)
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
