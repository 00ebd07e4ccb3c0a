"""TFDV statistics (splits, example counts, per-feature summaries and charts) and schema."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.lineage import ArtifactRef
from mct_component.sources import finite, read_tfrecords, source_of

STATS_FILE = "FeatureStats.pb"


LEGACY_STATS_FILE = "stats_tfrecord"


TOP_VALUES = 10


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
            records = list(read_tfrecords(legacy_path)) if fileio.exists(legacy_path) else []
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
            mean=finite(num.mean),
            std_dev=finite(num.std_dev),
            min=finite(num.min),
            max=finite(num.max),
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
