"""How readers read without TensorFlow: TFRecord framing and protos from descriptors (pure)."""

from __future__ import annotations

import struct

import google_crc32c
import pytest

from mct_component.errors import SourceError
from mct_component.readers import protos, read_tfrecords


def _masked(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(data: bytes) -> bytes:
    """A record as TensorFlow's TFRecordWriter frames it."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked(length)) + data + struct.pack("<I", _masked(data))


def test_records_are_read_in_order(tmp_path):
    path = tmp_path / "metrics-00000-of-00001.tfrecord"
    records = [b"first", b"", bytes(range(256)) * 40]
    path.write_bytes(b"".join(_record(r) for r in records))
    assert list(read_tfrecords(str(path))) == records


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-3], "truncated record at byte 0"),
        (lambda data: data[:5], "truncated record at byte 0"),
        (lambda data: data[:14] + b"X" + data[15:], "corrupted record at byte 0"),
        (lambda data: b"\x09" + data[1:], "corrupted record length at byte 0"),
    ],
)
def test_a_damaged_file_is_one_source_error(tmp_path, damage, message):
    path = tmp_path / "plots-00000-of-00001.tfrecord"
    path.write_bytes(damage(_record(b"a plot record")))
    with pytest.raises(SourceError, match=message):
        list(read_tfrecords(str(path)))


def test_tfma_messages_parse_without_tfma(tmp_path):
    metrics = protos.message_class(
        "tensorflow_model_analysis/proto/metrics_for_slice.proto",
        "tensorflow_model_analysis.MetricsForSlice",
    )
    record = metrics()
    key_and_value = record.metric_keys_and_values.add()
    key_and_value.key.name = "auc"
    key_and_value.value.double_value.value = 0.75
    parsed = metrics.FromString(record.SerializeToString())
    assert parsed.metric_keys_and_values[0].value.double_value.value == 0.75


def test_a_proto_of_a_package_not_installed_is_a_source_error():
    with pytest.raises(SourceError, match="needs the 'no_such_package' package"):
        protos.message_class("no_such_package/thing.proto", "no_such_package.Thing")
