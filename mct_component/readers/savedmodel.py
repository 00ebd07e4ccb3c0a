"""Reads a SavedModel's metadata: its serving signatures and the TensorFlow that saved it.

Only `saved_model.pb` is parsed (local files directly, `gs://`, `s3://` and `ram://`
paths through `tfx.dsl.io.fileio`), with TensorFlow's proto classes but without importing
TensorFlow (see `protos`); the model is never loaded, which keeps this fast and free of
the model's custom ops and assets.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.readers import protos

logger = logging.getLogger(__name__)

SAVED_MODEL_FILE = "saved_model.pb"
SAVED_MODEL_PROTO = "tensorflow/core/protobuf/saved_model.proto"
# Where the Trainer puts the SavedModel in its Model artifact (TFX's path_utils).
SERVING_DIR = "Format-Serving"
_SERVE_TAG = "serve"
# `signature_def` entries TF writes for its own bookkeeping; `tf.saved_model.load` hides them.
INTERNAL_SIGNATURES = frozenset({"__saved_model_init_op", "__saved_model_train_op"})


@dataclasses.dataclass(frozen=True)
class SavedModelInfo:
    """What a model card needs from a SavedModel: its signatures and the TF that saved it.

    `meta_graph` is the parsed serving MetaGraphDef, kept for `explanation.explanation_metadata`.
    """

    signatures: tuple[card.Signature, ...]
    tensorflow_version: str
    tensorflow_git_version: str
    path: str = dataclasses.field(default="", compare=False)
    meta_graph: Any = dataclasses.field(default=None, repr=False, compare=False)

    def signature(self, name: str) -> card.Signature:
        """The signature called `name`.

        Raises:
            SourceError: the model has no such signature.
        """
        for candidate in self.signatures:
            if candidate.name == name:
                return candidate
        names = [s.name for s in self.signatures]
        raise SourceError(f"the SavedModel has no signature {name!r}; it has {names}")


def read_saved_model(path: str) -> SavedModelInfo:
    """Reads the signatures and TensorFlow version of the SavedModel in directory `path`.

    The meta graph tagged "serve" is read (the first one if none is). Signatures are
    sorted by name; TF's internal `__saved_model_init_op` entry is left out.

    Raises:
        SourceError: `path` holds no `saved_model.pb`, or it is not a SavedModel proto.
    """
    meta_graph = _serving_meta_graph(path)
    signatures = tuple(
        card.Signature(
            name=name,
            method_name=definition.method_name,
            inputs=tuple(_tensor_spec(k, definition.inputs[k]) for k in sorted(definition.inputs)),
            outputs=tuple(
                _tensor_spec(k, definition.outputs[k]) for k in sorted(definition.outputs)
            ),
        )
        for name, definition in sorted(meta_graph.signature_def.items())
        if name not in INTERNAL_SIGNATURES
    )
    return SavedModelInfo(
        signatures=signatures,
        tensorflow_version=meta_graph.meta_info_def.tensorflow_version,
        tensorflow_git_version=meta_graph.meta_info_def.tensorflow_git_version,
        path=path,
        meta_graph=meta_graph,
    )


def serving_dir(model_uri: str) -> str:
    """Where a Model artifact's SavedModel is: under `Format-Serving` for Trainer outputs."""
    serving = os.path.join(model_uri, SERVING_DIR)
    return serving if files.filesystem(serving).exists(serving) else model_uri


def read_model_artifact(model_uri: str) -> SavedModelInfo | None:
    """The SavedModel metadata of a Model artifact (or SavedModel directory), or None.

    None (with a warning logged) when the directory holds no readable SavedModel.
    """
    try:
        return read_saved_model(serving_dir(model_uri))
    except SourceError as e:
        logger.warning("No SavedModel metadata for %s: %s", model_uri, e)
        return None


def _serving_meta_graph(path: str) -> Any:
    """The MetaGraphDef tagged "serve" (else the first) of the SavedModel in `path`."""
    pb_path = os.path.join(path, SAVED_MODEL_FILE)
    if not files.filesystem(pb_path).exists(pb_path):
        raise SourceError(
            f"expected a SavedModel directory at {path}, but it has no {SAVED_MODEL_FILE}"
        )
    from google.protobuf import message

    saved_model = protos.message_class(SAVED_MODEL_PROTO, "tensorflow.SavedModel")()
    try:
        saved_model.ParseFromString(files.read_bytes(pb_path))
    except message.DecodeError as e:
        raise SourceError(f"{pb_path} is not a SavedModel proto: {e}") from e
    if not saved_model.meta_graphs:
        raise SourceError(f"{pb_path} is not a SavedModel proto: it holds no meta graph")
    for meta_graph in saved_model.meta_graphs:
        if _SERVE_TAG in meta_graph.meta_info_def.tags:
            return meta_graph
    return saved_model.meta_graphs[0]


def _tensor_spec(key: str, info: Any) -> card.TensorInfo:
    encoding = info.WhichOneof("encoding")
    if encoding == "name":
        tensor_name = info.name
    elif encoding == "coo_sparse":
        tensor_name = info.coo_sparse.values_tensor_name
    else:
        tensor_name = ""
    shape = None
    if info.HasField("tensor_shape") and not info.tensor_shape.unknown_rank:
        shape = tuple(d.size if d.size >= 0 else None for d in info.tensor_shape.dim)
    return card.TensorInfo(
        key=key, tensor_name=tensor_name, dtype=_dtype_name(info.dtype), shape=shape
    )


def _dtype_name(dtype: int) -> str:
    """TensorFlow's name of a `DataType` (`tf.dtypes.as_dtype(dtype).name`): "float32",
    "string", "int64_ref"; "invalid" for DT_INVALID, as composite tensors' TensorInfo has."""
    value = _data_types().values_by_number.get(dtype)
    if value is None:
        return f"unknown dtype {dtype}"
    name = value.name.removeprefix("DT_").lower()
    base, ref, _ = name.partition("_ref")
    return _NUMPY_NAMES.get(base, base) + ref


# TensorFlow names these types after their NumPy counterparts.
_NUMPY_NAMES = {"float": "float32", "double": "float64", "half": "float16"}


def _data_types() -> Any:
    """The `tensorflow.DataType` enum's descriptor."""
    saved_model = protos.message_class(SAVED_MODEL_PROTO, "tensorflow.SavedModel")
    return saved_model.DESCRIPTOR.file.pool.FindEnumTypeByName("tensorflow.DataType")
