"""TFDV statistics (splits, example counts, per-feature summaries and distributions) and schema."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from typing import Any

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.readers import finite, parse_proto, read_tfrecords, source_of
from mct_component.readers.refs import ArtifactRef

STATS_FILE = "FeatureStats.pb"
LEGACY_STATS_FILE = "stats_tfrecord"
TOP_VALUES = 10
# A schema of 20,000 features in text format is a few MB.
MAX_SCHEMA_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Distribution:
    """What a feature's chart is drawn from: TFDV's histogram or its ranked values.

    `buckets` holds a numeric feature's standard histogram as (low, high, count), and
    `minimum`/`maximum` its range; `ranked_values` a categorical feature's (value,
    count) pairs as TFDV ranked them, and `unique` how many distinct values it has.
    """

    buckets: tuple[tuple[float, float, float], ...] = ()
    minimum: float = 0.0
    maximum: float = 0.0
    ranked_values: tuple[tuple[str, float], ...] = ()
    unique: int = 0


@dataclasses.dataclass(frozen=True)
class SplitStatistics:
    """One split's statistics: its card section (without charts) and each feature's distribution."""

    split: card.DatasetSplit
    distributions: Mapping[str, Distribution]


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

    `ref.uri` is a StatisticsGen output directory (one `Split-<name>` folder per name in
    the `split_names` property), or a lone `DatasetFeatureStatisticsList` file: its split
    is named by its folder (`Split-<name>`), else by the file's name.

    Returns:
        Split name -> `DatasetFeatureStatistics` proto (the first dataset of the split's
        `DatasetFeatureStatisticsList`), in the artifact's split order.
    """
    fs = files.filesystem(ref.uri)
    if "split_names" not in ref.properties and not fs.isdir(ref.uri):
        folder, name = os.path.split(ref.uri)
        split = os.path.basename(folder).removeprefix("Split-")
        if not os.path.basename(folder).startswith("Split-"):
            split = os.path.splitext(name)[0]
        return {split: _first_dataset(split, _parse_statistics(ref.uri))}
    result = {}
    for split in split_names(ref):
        split_dir = os.path.join(ref.uri, f"Split-{split}")
        binary_path = os.path.join(split_dir, STATS_FILE)
        if fs.exists(binary_path):
            stats = _parse_statistics(binary_path)
        else:
            legacy_path = os.path.join(split_dir, LEGACY_STATS_FILE)
            records = list(read_tfrecords(legacy_path)) if fs.exists(legacy_path) else []
            if not records:
                raise SourceError(
                    f"statistics for split {split!r} not found: expected {binary_path}"
                )
            stats = _parse_statistics(legacy_path, records[0])
        result[split] = _first_dataset(split, stats)
    return result


def _parse_statistics(path: str, data: bytes | None = None) -> Any:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    raw = files.read_bytes(path) if data is None else data
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    return parse_proto(stats, raw, path, "a TFDV statistics file")


def _first_dataset(split: str, stats: Any) -> Any:
    if not stats.datasets:
        raise SourceError(f"statistics file for split {split!r} holds no dataset")
    return stats.datasets[0]


@dataclasses.dataclass(frozen=True)
class FeatureHints:
    """What the schema and the EvalConfig say of features beyond their statistics.

    `natural_language`: features of the schema's natural-language domain (free text);
    `categorical`: integer features the schema marks categorical; `roles`: feature name
    -> "label" or "weight".
    """

    natural_language: frozenset[str] = frozenset()
    categorical: frozenset[str] = frozenset()
    roles: Mapping[str, str] = dataclasses.field(default_factory=dict)


def read_splits(ref: ArtifactRef, hints: FeatureHints | None = None) -> tuple[SplitStatistics, ...]:
    """Every split of a statistics artifact: its summary and its features' distributions."""
    source = source_of(ref)
    hints = hints or FeatureHints()
    parsed = {
        split: (stats, [_feature(f, hints) for f in stats.features])
        for split, stats in read_statistics(ref).items()
    }
    # A numeric feature gets bars per value in every split or in none: a split whose
    # histogram does not separate the values (a wider range, say) makes it numeric in all.
    as_bars: dict[str, set[bool]] = {}
    for _, features in parsed.values():
        for described, _ in features:
            if described.kind in ("numeric", "categorical") and described.mean is not None:
                as_bars.setdefault(described.name, set()).add(described.kind == "categorical")
    mixed = {name for name, kinds in as_bars.items() if len(kinds) > 1}
    result = []
    for split, (stats, features) in parsed.items():
        if mixed:
            features = [
                _feature(f, hints, numeric=True) if parsed_f[0].name in mixed else parsed_f
                for f, parsed_f in zip(stats.features, features, strict=True)
            ]
        features.sort(key=lambda f: f[0].name)
        summary = card.DatasetSplit(
            name=split,
            num_examples=int(stats.num_examples),
            num_features=len(stats.features),
            source=source,
            features=tuple(summary for summary, _ in features),
        )
        distributions = {s.name: d for s, d in features if d is not None}
        result.append(SplitStatistics(summary, distributions))
    return tuple(result)


def dataset_splits(ref: ArtifactRef) -> tuple[card.DatasetSplit, ...]:
    """One `DatasetSplit` (without charts) per split of a statistics artifact."""
    return tuple(s.split for s in read_splits(ref))


def _feature_name(feature: Any) -> str:
    return ".".join(feature.path.step) if feature.HasField("path") else feature.name


def _missing_pct(common: Any) -> float:
    total = common.num_non_missing + common.num_missing
    return 100.0 * common.num_missing / total if total else 0.0


# A string feature with at least this share of distinct values is free text.
FREE_TEXT_UNIQUE_RATIO = 0.5
# An integer feature with at most this many distinct values gets bars per value.
SMALL_CATEGORICAL = 20


def _ranked(pairs: Any) -> tuple[tuple[str, float], ...]:
    """(value, count) pairs largest first, ties by value: the order of the chart's bars."""
    return tuple(sorted(pairs, key=lambda p: (-p[1], p[0])))


def _feature(
    feature: Any, hints: FeatureHints, numeric: bool = False
) -> tuple[card.FeatureSummary, Distribution | None]:
    """A feature's summary and distribution; `numeric`: an integer feature stays numeric
    (a histogram) even where its values could be counted one by one."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    name = _feature_name(feature)
    type_name = statistics_pb2.FeatureNameStatistics.Type.Name(feature.type)
    kind = feature.WhichOneof("stats")
    role = hints.roles.get(name, "")
    if kind == "num_stats":
        num = feature.num_stats
        summary = card.FeatureSummary(
            name=name,
            type=type_name,
            missing_pct=_missing_pct(num.common_stats),
            mean=finite(num.mean),
            std_dev=finite(num.std_dev),
            min=finite(num.min),
            max=finite(num.max),
            kind="numeric",
            role=role,
        )
        standard = [h for h in num.histograms if h.type == h.STANDARD]
        buckets = (
            tuple((b.low_value, b.high_value, b.sample_count) for b in standard[0].buckets)
            if standard
            else ()
        )
        values = None if numeric else _integer_counts(type_name, num, buckets)
        if values is not None and (
            name in hints.categorical or role == "label" or len(values) <= SMALL_CATEGORICAL
        ):
            top = tuple(card.TopValue(v, c) for v, c in values[:TOP_VALUES])
            return summary.replace(kind="categorical", unique=len(values), top_values=top), (
                Distribution(ranked_values=values, unique=len(values))
            )
        return summary, Distribution(buckets=buckets, minimum=num.min, maximum=num.max)
    if kind == "string_stats":
        strings = feature.string_stats
        common = strings.common_stats
        values_seen = common.tot_num_values or common.num_non_missing
        ratio = strings.unique / values_seen if values_seen else None
        free_text = name in hints.natural_language or (
            ratio is not None and ratio >= FREE_TEXT_UNIQUE_RATIO and strings.unique > TOP_VALUES
        )
        if free_text and role != "label":
            examples = tuple(card.TopValue(v.value, v.frequency) for v in strings.top_values)
            summary = card.FeatureSummary(
                name=name,
                type=type_name,
                missing_pct=_missing_pct(common),
                unique=int(strings.unique),
                top_values=examples[:TOP_VALUES],
                kind="free_text",
                role=role,
                unique_ratio=finite(ratio),
                avg_length=finite(strings.avg_length),
            )
            return summary, None
        # rank_histogram holds every value TFDV ranked; top_values may be truncated.
        ranked = _ranked(
            [(b.label, b.sample_count) for b in strings.rank_histogram.buckets]
            or [(v.value, v.frequency) for v in strings.top_values]
        )
        summary = card.FeatureSummary(
            name=name,
            type=type_name,
            missing_pct=_missing_pct(common),
            unique=int(strings.unique),
            top_values=tuple(card.TopValue(v, c) for v, c in ranked[:TOP_VALUES]),
            kind="categorical",
            role=role,
        )
        return summary, Distribution(ranked_values=ranked, unique=int(strings.unique))
    if kind == "bytes_stats":
        raw = feature.bytes_stats
        summary = card.FeatureSummary(
            name=name,
            type=type_name,
            missing_pct=_missing_pct(raw.common_stats),
            unique=int(raw.unique),
            kind="bytes",
            role=role,
            avg_length=finite(raw.avg_num_bytes),
            min_length=finite(raw.min_num_bytes),
            max_length=finite(raw.max_num_bytes),
        )
        return summary, None
    common = getattr(feature, kind).common_stats if kind else None
    summary = card.FeatureSummary(
        name=name,
        type=type_name,
        missing_pct=_missing_pct(common) if common else 0.0,
        role=role,
    )
    return summary, None


def _integer_counts(
    type_name: str, num: Any, buckets: tuple[tuple[float, float, float], ...]
) -> tuple[tuple[str, float], ...] | None:
    """An integer feature's count per value, largest first (`_ranked`), when its
    histogram tells them: each bucket holds at most one integer. Else None.

    TFDV builds the histogram from a quantiles sketch, so a bucket without an integer may
    hold a small fraction of a count; under 1% of all such leaks are dropped and each
    value's count rounded to a whole number.
    """
    if type_name != "INT" or not buckets or not (math.isfinite(num.min) and math.isfinite(num.max)):
        return None
    counts: dict[int, float] = {}
    leaked = 0.0
    for low, high, count in buckets:
        if not (math.isfinite(low) and math.isfinite(high)):
            return None
        inside = range(math.ceil(low), math.floor(high) + 1)
        if len(inside) > 1:
            return None
        if inside:
            counts[inside[0]] = counts.get(inside[0], 0.0) + count
        else:
            leaked += count
    total = leaked + sum(counts.values())
    if not total or leaked >= 0.01 * total:
        return None
    return _ranked((str(v), float(round(c))) for v, c in counts.items() if round(c))


def schema_summary(ref: ArtifactRef) -> card.SchemaSummary:
    """Feature facts from a `schema.pbtxt` written by SchemaGen or ImportSchemaGen.

    `ref.uri` is the Schema artifact's directory, or the `.pbtxt` file itself.
    """
    return read_schema(ref)[0]


def read_schema(ref: ArtifactRef) -> tuple[card.SchemaSummary, FeatureHints]:
    """`schema_summary`, and the features the schema marks free text or categorical."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    fs = files.filesystem(ref.uri)
    if ref.uri.endswith(".pbtxt") and not fs.isdir(ref.uri):
        paths = [ref.uri]
    else:
        paths = fs.glob(os.path.join(ref.uri, "*.pbtxt"))
    if not paths:
        raise SourceError(f"Schema artifact {ref.id} at {ref.uri} has no .pbtxt file")
    schema = schema_pb2.Schema()
    path = sorted(paths)[0]
    try:
        text_format.Parse(files.read_bytes(path, limit=MAX_SCHEMA_BYTES).decode("utf-8"), schema)
    except UnicodeDecodeError as e:
        raise SourceError(
            f"schema file {path} is not a text-format Schema: byte {e.object[e.start]:#04x} at "
            f"offset {e.start} is not UTF-8"
        ) from None
    except text_format.ParseError as e:
        reason = " ".join(str(e).split())[:200]
        raise SourceError(f"schema file {path} is not a valid Schema: {reason}") from None
    features = []
    natural_language = set()
    categorical = set()
    for feature in schema.feature:
        domain = feature.WhichOneof("domain_info") or ""
        if domain == "domain":
            domain = f"string domain {feature.domain}"
        elif domain == "natural_language_domain":
            natural_language.add(feature.name)
        elif domain == "int_domain" and feature.int_domain.is_categorical:
            categorical.add(feature.name)
        features.append(
            card.SchemaFeature(
                name=feature.name,
                type=schema_pb2.FeatureType.Name(feature.type),
                required=feature.presence.min_fraction >= 1.0,
                domain=domain,
            )
        )
    hints = FeatureHints(frozenset(natural_language), frozenset(categorical))
    return card.SchemaSummary(features=tuple(features), source=source_of(ref)), hints
