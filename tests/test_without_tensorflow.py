"""Cards from local files without TensorFlow, TFMA or Beam (issue 21), on a real penguin run.

The readers parse TFMA's and the SavedModel's protos from their generated modules'
descriptors and read TFRecords themselves; these tests check that they read what
TensorFlow and TFMA read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.tf]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = (
    "tensorflow",
    "tensorflow_model_analysis",
    "apache_beam",
    "tfx_bsl",
    "tensorflow_transform",
)
_BUILD = """
import json, sys
inputs, output, preload = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3] == "preload"
if preload:
    import tensorflow, tensorflow_model_analysis  # their own proto modules are used then
import mct_component as mct
model = inputs.pop("model")
card = mct.card_from_files(model, **inputs)
mct.write_card(card, output, explanation_metadata=mct.explanation_metadata(model))
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _first(run, type_name: str) -> str:
    return run.artifacts(type_name)[0].uri


def _build(inputs: dict[str, str], output: str, preload: bool) -> list[str]:
    script = _BUILD.format(heavy=HEAVY)
    mode = "preload" if preload else "plain"
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(inputs), output, mode],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_card_from_local_files_imports_neither_tensorflow_tfma_nor_beam(penguin_run, tmp_path):
    inputs = {
        "model": _first(penguin_run, "Model"),
        "statistics": _first(penguin_run, "ExampleStatistics"),
        "schema": _first(penguin_run, "Schema"),
        "evaluation": _first(penguin_run, "ModelEvaluation"),
        "blessing": _first(penguin_run, "ModelBlessing"),
        "pushed_model": _first(penguin_run, "PushedModel"),
    }
    assert _build(inputs, str(tmp_path / "plain"), preload=False) == []
    loaded = _build(inputs, str(tmp_path / "preloaded"), preload=True)
    assert {"tensorflow", "tensorflow_model_analysis", "apache_beam"} <= set(loaded)
    for name in ("model_card.json", "model_card.html", "explanation_metadata.json"):
        plain = (tmp_path / "plain" / name).read_bytes()
        assert plain == (tmp_path / "preloaded" / name).read_bytes(), name
    card = json.loads((tmp_path / "plain" / "model_card.json").read_text())
    assert card["model_details"]["signatures"] and card["quantitative_analysis"]["slices"]
    assert card["quantitative_analysis"]["thresholds"] and card["quantitative_analysis"]["charts"]


def test_tfrecords_are_read_as_tensorflow_reads_them(penguin_run):
    import tensorflow as tf

    from mct_component.readers import read_tfrecords

    folder = _first(penguin_run, "ModelEvaluation")
    names = sorted(name for name in os.listdir(folder) if ".tfrecord" in name)
    assert {n.split("-")[0].split(".")[0] for n in names} >= {"metrics", "plots", "validations"}
    for name in names:
        path = os.path.join(folder, name)
        expected = list(tf.data.TFRecordDataset(path).as_numpy_iterator())
        assert list(read_tfrecords(path)) == expected and expected, name


def test_tensor_types_are_named_as_tensorflow_names_them():
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2

    from mct_component.readers import savedmodel

    for name, number in types_pb2.DataType.items():
        expected = "invalid" if number == 0 else tf.dtypes.as_dtype(number).name
        assert savedmodel._dtype_name(number) == expected, name
