"""ExampleValidator's `ExampleAnomalies`: what TFDV found wrong with the data, per split."""

from __future__ import annotations

import os
from typing import Any

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.readers import finite, parse_proto, source_of
from mct_component.readers.refs import ArtifactRef
from mct_component.readers.statistics import split_names

ANOMALIES_FILE = "SchemaDiff.pb"
# The TFDV names of an anomaly's severity and of drift/skew measurements, by enum value.
_SEVERITIES = {0: "unknown", 1: "warning", 2: "error"}
DRIFT = "drift"
SKEW = "skew"


def read_data_validation(ref: ArtifactRef, data: str) -> card.DataValidation:
    """Every anomaly of every split of an `ExampleAnomalies` artifact.

    Args:
        ref: the artifact; its `split_names` property lists the validated splits, each
            in a `Split-<name>/SchemaDiff.pb` (a TFDV `Anomalies` proto).
        data: which data it validated, as the card says it ("training", "evaluation").

    Raises:
        SourceError: a split's file is missing or is not an `Anomalies` proto.
    """
    splits = split_names(ref)
    found: list[card.DataAnomaly] = []
    for split in splits:
        found.extend(_split_anomalies(split, _parse(os.path.join(ref.uri, f"Split-{split}"))))
    return card.DataValidation(
        data=data, splits=tuple(splits), anomalies=tuple(found), source=source_of(ref)
    )


def _parse(split_dir: str) -> Any:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    path = os.path.join(split_dir, ANOMALIES_FILE)
    try:
        raw = files.read_bytes(path)
    except FileNotFoundError:
        raise SourceError(f"anomalies not found: expected {path}") from None
    return parse_proto(anomalies_pb2.Anomalies(), raw, path, "a TFDV anomalies file")


def _split_anomalies(split: str, anomalies: Any) -> list[card.DataAnomaly]:
    found = [
        _anomaly(split, feature, info) for feature, info in sorted(anomalies.anomaly_info.items())
    ]
    if anomalies.HasField("dataset_anomaly_info"):
        found.append(_anomaly(split, "", anomalies.dataset_anomaly_info))
    if anomalies.data_missing:
        found.append(
            card.DataAnomaly(
                split=split,
                feature="",
                kind="DATA_MISSING",
                description="The split holds no data.",
                severity="error",
            )
        )
    for info in anomalies.drift_skew_info:
        feature = ".".join(info.path.step)
        for kind, measurements in (
            (DRIFT, info.drift_measurements),
            (SKEW, info.skew_measurements),
        ):
            found.extend(_measurement(split, feature, kind, m) for m in measurements)
    return found


def _anomaly(split: str, feature: str, info: Any) -> card.DataAnomaly:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    reason_type = anomalies_pb2.AnomalyInfo.Type.Name
    kinds = [reason_type(r.type) for r in info.reason] or ["UNKNOWN_TYPE"]
    return card.DataAnomaly(
        split=split,
        feature=feature,
        kind=", ".join(kinds),
        description=info.description or info.short_description,
        severity=_SEVERITIES.get(info.severity, "unknown"),
    )


def _measurement(split: str, feature: str, kind: str, measurement: Any) -> card.DataAnomaly:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    name = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(measurement.type)
    value, threshold = finite(measurement.value), finite(measurement.threshold)
    beyond = value is not None and threshold is not None and value > threshold
    return card.DataAnomaly(
        split=split,
        feature=feature,
        kind=kind.upper(),
        description=f"{kind} {name} {'above' if beyond else 'within'} its threshold",
        severity="error" if beyond else "",
        measurement=name,
        value=value,
        threshold=threshold,
    )
