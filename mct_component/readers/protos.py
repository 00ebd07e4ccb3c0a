"""Message classes of TensorFlow's and TFMA's protos, without importing TensorFlow or TFMA.

`tensorflow.core.protobuf.saved_model_pb2` and `tensorflow_model_analysis.proto.*_pb2`
are plain generated modules, but importing them runs their packages' `__init__`:
TensorFlow itself, or TFMA with tfx_bsl and Beam (tens of seconds, most of a GiB). Each
generated module holds its `.proto` file as a serialized `FileDescriptorProto`, and that
file names the `.proto` files it depends on. `message_class` reads those descriptors
from the installed `_pb2.py` sources (as text, never executed), adds them to a private
descriptor pool and makes the message class there. The private pool never clashes with
the real modules, which a process may import later (the executor's does).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import sys
import threading
from typing import Any

from mct_component.errors import SourceError

# The descriptor in a generated module: `...AddSerializedFile(b'...')`.
_SERIALIZED = re.compile(rb"AddSerializedFile\((b'(?:[^'\\]|\\.)*')\)", re.DOTALL)
_LOCK = threading.Lock()


def message_class(proto_file: str, message: str) -> Any:
    """The class of a message defined in an installed package's `.proto` file.

    Args:
        proto_file: the file as protoc names it, e.g. "tensorflow/core/protobuf/saved_model.proto".
        message: the message's full name, e.g. "tensorflow.SavedModel".

    Raises:
        SourceError: the package that generated the file is not installed.
    """
    module = sys.modules.get(_module_name(proto_file))
    if module is not None:  # imported already (with TensorFlow, say): its own class
        return getattr(module, message.rsplit(".", 1)[-1])
    return _private_class(proto_file, message)


@functools.cache
def _private_class(proto_file: str, message: str) -> Any:
    from google.protobuf import message_factory

    with _LOCK:
        pool = _pool()
        _add_file(pool, proto_file)
        descriptor = pool.FindMessageTypeByName(message)
    make = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.21
    if make is not None:
        return make(descriptor)
    return _factory().GetPrototype(descriptor)


@functools.cache
def _pool() -> Any:
    from google.protobuf import descriptor_pool

    return descriptor_pool.DescriptorPool()


@functools.cache
def _factory() -> Any:
    from google.protobuf import message_factory

    return message_factory.MessageFactory(_pool())


def _add_file(pool: Any, proto_file: str) -> None:
    """Adds a `.proto` file's descriptor to `pool`, its dependencies first."""
    from google.protobuf import descriptor_pb2

    try:
        pool.FindFileByName(proto_file)
        return
    except KeyError:
        pass
    serialized = _serialized_descriptor(proto_file)
    parsed = descriptor_pb2.FileDescriptorProto.FromString(serialized)
    for dependency in parsed.dependency:
        _add_file(pool, dependency)
    pool.Add(parsed)


def _serialized_descriptor(proto_file: str) -> bytes:
    """The serialized `FileDescriptorProto` in the generated module of `proto_file`."""
    if proto_file.startswith("google/protobuf/"):
        # protobuf's own well-known types: importing them is cheap.
        module = importlib.import_module(_module_name(proto_file))
        return bytes(module.DESCRIPTOR.serialized_pb)
    path = _module_path(proto_file)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise SourceError(f"cannot read the generated module of {proto_file}: {e}") from None
    found = _SERIALIZED.search(source)
    if found is None:
        raise SourceError(f"{path} holds no serialized descriptor of {proto_file}")
    return bytes(ast.literal_eval(found.group(1).decode("ascii")))


def _module_name(proto_file: str) -> str:
    return proto_file.removesuffix(".proto").replace("/", ".") + "_pb2"


def _module_path(proto_file: str) -> str:
    """Where the generated module is installed, found without importing its package."""
    top, _, rest = proto_file.partition("/")
    spec = importlib.util.find_spec(top)  # a top-level package: not imported by this
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise SourceError(f"reading {proto_file} needs the {top!r} package, which is not installed")
    return os.path.join(folders[0], rest.removesuffix(".proto") + "_pb2.py")
