"""Readers that turn pipeline outputs into the card's plain data types, one module per producer.

- `statistics`: StatisticsGen's `ExampleStatistics` and SchemaGen's `Schema` (TFDV).
- `evaluation`: the Evaluator's `ModelEvaluation` and `ModelBlessing` (TFMA).
- `training`: the Trainer run, Tuner hyperparameters, Transform vocabularies.
- `deployment`: the Pusher's `PushedModel`.

Every reader takes an `ArtifactRef` (or `ExecutionRef`), reads through
`tfx.dsl.io.fileio` (so `gs://`, `s3://` and `ram://` URIs work) and raises
`SourceError` naming the artifact and file when the output is not what its producer
writes. This module holds what they share. `savedmodel` reads the serving signature,
`file_inputs` finds a card's inputs in local folders, `refs` holds the references
between lineage and readers.

Readers may import `card` and the leaf modules only.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from typing import Any, TypeVar

from mct_component import card
from mct_component.errors import SourceError
from mct_component.readers.refs import ArtifactRef


def source_of(ref: ArtifactRef) -> card.Source:
    """The provenance record of an artifact."""
    return card.Source(type_name=ref.type_name, uri=ref.uri, artifact_id=ref.id)


def read_tfrecords(path: str) -> Iterator[bytes]:
    """Yields the records of an uncompressed TFRecord file, checksums verified by TF."""
    import tensorflow as tf

    try:
        yield from tf.data.TFRecordDataset(path).as_numpy_iterator()
    except tf.errors.OpError as e:
        raise SourceError(f"cannot read TFRecord file {path}: {e.message}") from None


Message = TypeVar("Message")


def parse_proto(proto: Message, data: bytes, path: str, what: str) -> Message:
    """`proto` filled from its binary form, or a `SourceError` naming `path` as no `what`.

    protobuf parses some garbage with only a `RuntimeWarning` (printed with a source
    line); that is taken as the error it is.
    """
    from google.protobuf import message

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            proto.ParseFromString(data)  # type: ignore[attr-defined]
            problems = [str(w.message) for w in warned if issubclass(w.category, RuntimeWarning)]
        except message.DecodeError as e:
            problems = [str(e)]
    if problems:
        reason = " ".join(problems[-1].split())[:200]
        raise SourceError(f"{path} is not {what}: {reason}")
    return proto


def json_object(raw: Any) -> dict[str, Any]:
    """A JSON object from text or an already decoded value; anything else under "value".

    Nothing (None, "", JSON `null`) is an empty object: a Trainer without
    `custom_config` has nothing to show.
    """
    if not raw:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return {"value": raw}
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def finite(value: float | None) -> float | None:
    """NaN/inf (TFMA's answer for undefined metrics) become None: JSON has no NaN."""
    return value if value is not None and math.isfinite(value) else None
