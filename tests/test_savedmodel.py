"""SavedModel metadata and explanation metadata, on a small saved module and the penguin model.

Resolved tensor names are cross-checked against TensorFlow itself: the test loads the
model, rebuilds the graph of the function that holds the named tensors, feeds it a
serialized tf.Example and compares what the tensors hold with what the example says.
"""

from __future__ import annotations

import os
import re

import pytest

from mct_component.assembly import explanation
from mct_component.errors import SourceError
from mct_component.readers import savedmodel

pytestmark = pytest.mark.tf

PENGUIN_FEATURES = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750,
    "island": "Torgersen",
    "sex": "male",
}
PARSE_SIGNATURES = {"parse_v2": ["r"], "parse_v1": [], "parse_single": []}
TENSOR_NAME = re.compile(r"^[^:]+:\d+$")


def _example(features: dict) -> bytes:
    import tensorflow as tf

    def feature(value):
        values = value if isinstance(value, list) else [value]
        if isinstance(values[0], str):
            return tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[v.encode() for v in values])
            )
        if isinstance(values[0], float):
            return tf.train.Feature(float_list=tf.train.FloatList(value=values))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    features = {key: feature(value) for key, value in features.items()}
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def _save_module(path: str) -> None:
    """Saves a module whose signatures cover each way an input can reach the model."""
    import tensorflow as tf

    spec = {"a": tf.io.FixedLenFeature([1], tf.float32), "tags": tf.io.VarLenFeature(tf.string)}
    batch = tf.TensorSpec([None], tf.string, name="examples")

    @tf.function(
        input_signature=[tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec(None, tf.int32)]
    )
    def dense(x, k):
        return {"total": tf.reduce_sum(x, axis=1) + tf.cast(tf.reduce_sum(k), tf.float32)}

    @tf.function(input_signature=[batch])
    def parse_v2(examples):
        ragged = {"r": tf.io.RaggedFeature(tf.int64)}
        parsed = tf.io.parse_example(examples, {**spec, **ragged})
        score = parsed["a"][:, 0] + tf.cast(tf.reduce_sum(parsed["r"], axis=1), tf.float32)
        return {"score": score + tf.cast(parsed["tags"].dense_shape[1], tf.float32)}

    @tf.function(input_signature=[batch])
    def parse_v1(examples):
        _, _, _, (a,) = tf.raw_ops.ParseExample(
            serialized=examples,
            names=tf.constant([], tf.string),
            sparse_keys=["tags"],
            dense_keys=["a"],
            dense_defaults=[tf.constant([], tf.float32)],
            sparse_types=[tf.string],
            dense_shapes=[[1]],
        )
        return {"score": a[:, 0]}

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="example")])
    def parse_single(example):
        _, _, _, (a,) = tf.raw_ops.ParseSingleExample(
            serialized=example,
            dense_defaults=[tf.constant([], tf.float32)],
            num_sparse=1,
            sparse_keys=["tags"],
            dense_keys=["a"],
            sparse_types=[tf.string],
            dense_shapes=[[1]],
        )
        return {"score": a}

    @tf.function(input_signature=[batch, tf.TensorSpec([1], tf.string)])
    def dynamic_keys(examples, keys):
        _, _, _, (a,), _, _ = tf.raw_ops.ParseExampleV2(
            serialized=examples,
            names=tf.constant([], tf.string),
            sparse_keys=tf.constant([], tf.string),
            dense_keys=keys,
            ragged_keys=tf.constant([], tf.string),
            dense_defaults=[tf.constant([], tf.float32)],
            num_sparse=0,
            sparse_types=[],
            ragged_value_types=[],
            ragged_split_types=[],
            dense_shapes=[[1]],
        )
        return {"score": a[:, 0]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def text(text):
        return {"length": tf.strings.length(text)}

    functions = [dense, parse_v2, parse_v1, parse_single, dynamic_keys, text]
    signatures = {f.__name__: f.get_concrete_function() for f in functions}
    tf.saved_model.save(tf.Module(), path, signatures=signatures)


@pytest.fixture(scope="module")
def module_path(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("module") / "saved_model")
    _save_module(path)
    return path


@pytest.fixture(scope="module")
def penguin_model(penguin_run) -> str:
    return penguin_run.artifact("Model").uri + "/Format-Serving"


def _graph_holding(graph, node_name: str):
    """The graph, among `graph` and the functions it calls, that has a node `node_name`."""
    names = {op.name for op in graph.get_operations()}
    if node_name in names:
        return graph
    for op in graph.get_operations():
        if op.type in ("PartitionedCall", "StatefulPartitionedCall"):
            # No public API reaches a called function's graph.
            found = _graph_holding(graph._get_function(op.get_attr("f").name).graph, node_name)
            if found is not None:
                return found
    return None


def evaluate(path: str, signature: str, tensor_names: list[str], serialized) -> dict:
    """What the named tensors hold when TF runs the signature's input `serialized`.

    The names must all be tensors of one graph: the signature's or a function it calls,
    as TF rebuilds it on load.
    """
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    graph = _graph_holding(loaded.signatures[signature].graph, tensor_names[0].split(":")[0])
    assert graph is not None, f"no graph of {signature!r} holds {tensor_names[0]}"
    feed_name = graph.inputs[0].name
    with tf.Graph().as_default():
        feed = tf.compat.v1.placeholder(tf.string, graph.inputs[0].shape)
        fetched = tf.graph_util.import_graph_def(
            graph.as_graph_def(), {feed_name: feed}, return_elements=tensor_names, name=""
        )
        with tf.compat.v1.Session() as session:
            return dict(zip(tensor_names, session.run(fetched, {feed: serialized}), strict=True))


def test_module_signatures(module_path):
    info = savedmodel.read_saved_model(module_path)

    assert [s.name for s in info.signatures] == sorted(
        ["dense", "dynamic_keys", "parse_single", "parse_v1", "parse_v2", "text"]
    )
    dense = info.signature("dense")
    assert dense.method_name == "tensorflow/serving/predict"
    assert [(t.key, t.dtype, t.shape) for t in dense.inputs] == [
        ("k", "int32", None),
        ("x", "float32", (None, 3)),
    ]
    assert [(t.key, t.dtype, t.shape) for t in dense.outputs] == [("total", "float32", (None,))]
    assert all(TENSOR_NAME.match(t.tensor_name) for t in dense.inputs + dense.outputs)
    assert [(t.key, t.dtype, t.shape) for t in info.signature("parse_single").inputs] == [
        ("example", "string", ())
    ]


def test_tensorflow_version_is_the_saving_one(module_path):
    import tensorflow as tf

    info = savedmodel.read_saved_model(module_path)

    assert (info.tensorflow_version, info.tensorflow_git_version) == (
        tf.__version__,
        tf.version.GIT_VERSION,
    )


def test_unknown_signature(module_path):
    info = savedmodel.read_saved_model(module_path)

    with pytest.raises(SourceError, match=r"no signature 'missing'.*'dense'"):
        info.signature("missing")
    with pytest.raises(SourceError, match=r"no signature 'missing'.*'dense'"):
        explanation.explanation_metadata(module_path, "missing")


@pytest.mark.parametrize("signature", ["dense", "text"])
def test_unparsed_inputs_map_to_signature_tensors(module_path, signature):
    spec = savedmodel.read_saved_model(module_path).signature(signature)

    metadata = explanation.explanation_metadata(module_path, signature)

    categorical = {"modality": "categorical"} if signature == "text" else {}
    assert metadata == {
        "inputs": {t.key: {"input_tensor_name": t.tensor_name, **categorical} for t in spec.inputs},
        "outputs": {t.key: {"output_tensor_name": t.tensor_name} for t in spec.outputs},
        "framework": "tensorflow",
        "unresolved": [],
    }


@pytest.mark.parametrize(("signature", "ragged"), PARSE_SIGNATURES.items())
def test_parsed_features_resolve(module_path, signature, ragged):
    metadata = explanation.explanation_metadata(module_path, signature)

    inputs = metadata["inputs"]
    assert sorted(inputs) == ["a", "tags"]
    assert inputs["a"].keys() == {"input_tensor_name"}
    assert inputs["tags"].keys() == {
        "input_tensor_name",
        "indices_tensor_name",
        "dense_shape_tensor_name",
        "modality",
    }
    assert inputs["tags"]["modality"] == "categorical"
    names = [name for entry in inputs.values() for k, name in entry.items() if k != "modality"]
    assert all(TENSOR_NAME.match(name) for name in names)
    assert len(set(names)) == len(names)
    assert list(metadata["outputs"]) == ["score"]
    assert [u["name"] for u in metadata["unresolved"]] == ragged
    assert all("ragged" in u["reason"] for u in metadata["unresolved"])


@pytest.mark.parametrize("signature", PARSE_SIGNATURES)
def test_parsed_feature_tensors_hold_the_features(module_path, signature):
    inputs = explanation.explanation_metadata(module_path, signature)["inputs"]
    a, tags = inputs["a"], inputs["tags"]
    names = [
        a["input_tensor_name"],
        tags["input_tensor_name"],
        tags["indices_tensor_name"],
        tags["dense_shape_tensor_name"],
    ]
    serialized = _example({"a": 1.5, "tags": ["x", "y"], "r": [1, 2, 3]})
    batch = serialized if signature == "parse_single" else [serialized]

    values = evaluate(module_path, signature, names, batch)

    a_value, tag_values, tag_indices, tag_shape = (values[n] for n in names)
    assert a_value.ravel().tolist() == [1.5]
    assert tag_values.tolist() == [b"x", b"y"]
    assert tag_indices[:, -1].tolist() == [0, 1]
    assert tag_shape[-1] == 2


def test_feature_keys_that_are_not_constants_are_unresolved(module_path):
    metadata = explanation.explanation_metadata(module_path, "dynamic_keys")

    assert [u["name"] for u in metadata["unresolved"]] == ["examples"]
    assert re.search(r"ParseExampleV2 .*not constants", metadata["unresolved"][0]["reason"])
    assert "examples" not in metadata["inputs"]
    assert list(metadata["outputs"]) == ["score"]


def test_reads_through_fileio(module_path):
    from tfx.dsl.io import fileio

    copy = "ram://savedmodel-test/model"
    fileio.makedirs(copy)
    fileio.copy(os.path.join(module_path, "saved_model.pb"), f"{copy}/saved_model.pb", True)

    assert savedmodel.read_saved_model(copy) == savedmodel.read_saved_model(module_path)
    assert explanation.explanation_metadata(copy, "parse_v2") == (
        explanation.explanation_metadata(module_path, "parse_v2")
    )


def test_directory_without_saved_model(tmp_path):
    with pytest.raises(SourceError, match=re.escape(str(tmp_path)) + ".*saved_model.pb") as e:
        savedmodel.read_saved_model(str(tmp_path))
    assert "expected a SavedModel" in str(e.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # protobuf reads this as an (empty) message, with a RuntimeWarning
        pytest.param(
            b"this is not a SavedModel",
            "is not a SavedModel proto",
            marks=pytest.mark.filterwarnings("ignore:Unexpected end-group tag"),
        ),
        (b"\xff\xff\xff\xff", "is not a SavedModel proto"),
        (b"", "is not a SavedModel proto: it holds no meta graph"),
    ],
)
@pytest.mark.parametrize("read", [savedmodel.read_saved_model, explanation.explanation_metadata])
def test_unparsable_saved_model(tmp_path, content, message, read):
    (tmp_path / "saved_model.pb").write_bytes(content)

    with pytest.raises(SourceError, match=message):
        read(str(tmp_path))


@pytest.mark.slow
def test_penguin_signatures(penguin_model):
    import tensorflow as tf

    info = savedmodel.read_saved_model(penguin_model)

    assert [s.name for s in info.signatures] == ["serving_default", "transform_features"]
    serving = info.signature("serving_default")
    assert [(t.key, t.dtype, t.shape) for t in serving.inputs] == [("examples", "string", (None,))]
    assert [(t.key, t.dtype, t.shape) for t in serving.outputs] == [
        ("probabilities", "float32", (None, 3))
    ]
    transformed = [t.key for t in info.signature("transform_features").outputs]
    assert transformed == sorted(f"{k}_xf" for k in [*PENGUIN_FEATURES, "species"])
    assert info.tensorflow_version == tf.__version__


@pytest.mark.slow
def test_penguin_explanation_metadata(penguin_model):
    serving = savedmodel.read_saved_model(penguin_model).signature("serving_default")

    metadata = explanation.explanation_metadata(penguin_model)

    assert sorted(metadata["inputs"]) == sorted(PENGUIN_FEATURES)
    for name, entry in metadata["inputs"].items():
        assert TENSOR_NAME.match(entry["input_tensor_name"]), name
        categorical = isinstance(PENGUIN_FEATURES[name], str)
        assert (entry.get("modality") == "categorical") == categorical, name
    assert metadata["outputs"] == {
        "probabilities": {"output_tensor_name": serving.outputs[0].tensor_name}
    }
    assert metadata["framework"] == "tensorflow"
    assert metadata["unresolved"] == []


@pytest.mark.slow
def test_penguin_feature_tensors_hold_the_features(penguin_model):
    inputs = explanation.explanation_metadata(penguin_model)["inputs"]
    names = {feature: entry["input_tensor_name"] for feature, entry in inputs.items()}

    values = evaluate(
        penguin_model, "serving_default", list(names.values()), [_example(PENGUIN_FEATURES)]
    )

    parsed = {feature: values[name].ravel()[0] for feature, name in names.items()}
    expected = {
        k: v.encode() if isinstance(v, str) else pytest.approx(v)
        for k, v in PENGUIN_FEATURES.items()
    }
    assert parsed == expected
