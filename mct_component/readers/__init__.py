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
import struct
import warnings
from collections.abc import Iterator
from typing import Any, TypeVar

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.readers.refs import ArtifactRef


def source_of(ref: ArtifactRef) -> card.Source:
    """The provenance record of an artifact."""
    return card.Source(type_name=ref.type_name, uri=ref.uri, artifact_id=ref.id)


def read_tfrecords(path: str) -> Iterator[bytes]:
    """Yields the records of an uncompressed TFRecord file, checking their CRC32C checksums.

    Each record is framed as TensorFlow writes it: its length (8 bytes, little-endian),
    the masked CRC32C of those 8 bytes, the data, and the masked CRC32C of the data.

    Raises:
        SourceError: the file is truncated or a checksum does not match.
    """
    data = files.read_bytes(path)
    offset, end = 0, len(data)
    while offset < end:
        if end - offset < _FRAME:
            raise SourceError(
                f"cannot read TFRecord file {path}: truncated record at byte {offset}"
            )
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack_from("<I", data, offset + 8)
        start, stop = offset + 12, offset + 12 + length
        if _masked_crc(header) != length_crc:
            raise SourceError(
                f"cannot read TFRecord file {path}: corrupted record length at byte {offset}"
            )
        if stop + 4 > end:
            raise SourceError(
                f"cannot read TFRecord file {path}: truncated record at byte {offset}"
            )
        record = data[start:stop]
        (record_crc,) = struct.unpack_from("<I", data, stop)
        if _masked_crc(record) != record_crc:
            raise SourceError(
                f"cannot read TFRecord file {path}: corrupted record at byte {offset}"
            )
        yield record
        offset = stop + 4


_FRAME = 16  # length, its checksum, the data's checksum


def _masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C (`tensorflow/core/lib/hash/crc32c.h`)."""
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


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
