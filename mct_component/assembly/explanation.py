"""Vertex Explainable AI explanation metadata, derived from a SavedModel's serving signature.

Only the parsed `saved_model.pb` is read (see `savedmodel.read_saved_model`): the model
is never loaded, which keeps this fast and free of the model's custom ops and assets.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

from mct_component.errors import CardContentError, SourceError
from mct_component.readers.savedmodel import INTERNAL_SIGNATURES, SavedModelInfo, read_saved_model
from mct_component.text import excerpt

DEFAULT_SIGNATURE = "serving_default"
_PARSE_OPS = frozenset({"ParseExampleV2", "ParseExample", "ParseSingleExample"})
_CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})
_DT_STRING = 7  # tensorflow.core.framework.types_pb2.DT_STRING


def explanation_metadata(
    saved_model: str | SavedModelInfo,
    signature: str = DEFAULT_SIGNATURE,
    refinements: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The explanation metadata of one signature of a SavedModel.

    `saved_model` is the SavedModel's directory, or what `read_saved_model` read from it.

    The document has the shape of Explainable AI's `explanation_metadata.json`:
    `{"inputs": {feature: {"input_tensor_name": ...}}, "outputs": {key:
    {"output_tensor_name": ...}}, "framework": "tensorflow", "unresolved": [...]}`.
    Inputs and outputs are sorted by name.

    Inputs. A string input that the signature parses as serialized `tf.Example`s
    (ParseExampleV2, ParseExample or ParseSingleExample, found by following the input
    through the function library, including nested `(Stateful)PartitionedCall`s) is
    replaced by one entry per parsed feature, named by its feature key: dense features
    point at their dense tensor; sparse ones also get `indices_tensor_name` and
    `dense_shape_tensor_name`. String features get `"modality": "categorical"`. Other
    inputs map to their signature tensor, under their signature key (an unparsed string
    input is taken to be a categorical feature). Every signature output is listed;
    Explainable AI explains one, so drop the others before deploying.

    Tensor names. Every name is `<node name>:<flat output index>`, the graph-mode
    `tf.Tensor.name` form (AI Platform's `explanation_metadata.json` convention).
    Signature tensors are the SignatureDef's names, i.e. tensors of the meta graph's
    top-level graph. In a TF2 SavedModel the parse op runs inside a function, so parsed
    features are named as TF names them when it rebuilds that function as a graph
    (`tf.saved_model.load`, then the function's `FuncGraph`): the node name is kept,
    though the function's own name is not. In a TF1 SavedModel the parse op is in the
    top-level graph and its tensors are plain graph tensors.

    Vertex AI's own builder for TF2 SavedModels
    (`google.cloud.aiplatform.explain.metadata.tf.v2.SavedModelMetadataBuilder`) instead
    names tensors by signature key (`examples`, `probabilities`) and has no way to name a
    tensor inside a function. So for a TF2 model that takes serialized `tf.Example`s this
    document records where each feature enters the model; to get attributions per
    feature on Vertex, export a signature taking the features as tensors. Vertex's
    `ExplanationMetadata` has no `framework` or `unresolved` field: drop both first.

    Anything that cannot be resolved (keys that are not constants, ragged features,
    composite tensors, name clashes) is listed under `"unresolved"` as `{"name": ...,
    "reason": ...}`; nothing is dropped silently.

    Refinements. What the signature cannot say (an embedding's `encoded_tensor_name` and
    `encoding`, `input_baselines`, `modality`, `index_feature_mapping`,
    `feature_value_domain`, an output's `index_display_name_mapping`, ...) comes from
    human content's `explanation` section (`card_content.schema.json`):
    `{"inputs": {name: {field: value}}, "outputs": {key: {field: value}}}`. Given fields
    replace derived ones; a name the signature does not have adds an entry, which must
    then give its `input_tensor_name` (`output_tensor_name`). Every tensor named must
    exist in the SavedModel's graph (a node of the top-level graph or of a function,
    with that output).

    Raises:
        SourceError: not a SavedModel (see `read_saved_model`), or no such signature.
        CardContentError: a refinement names a tensor the graph does not have, or lacks a
            field its other fields need (naming both).
    """
    info = read_saved_model(saved_model) if isinstance(saved_model, str) else saved_model
    meta_graph = info.meta_graph
    available = sorted(set(meta_graph.signature_def) - INTERNAL_SIGNATURES)
    if signature not in available:
        raise SourceError(
            f"the SavedModel at {info.path} has no signature {signature!r}; it has {available}"
        )
    definition = meta_graph.signature_def[signature]
    library = _Library(meta_graph)
    inputs: dict[str, dict[str, str]] = {}
    unresolved: list[dict[str, str]] = []

    def add_input(name: str, entry: dict[str, str]) -> None:
        if name in inputs:
            unresolved.append(
                {"name": name, "reason": "two inputs of the signature resolve to this name"}
            )
        else:
            inputs[name] = entry

    for key in sorted(definition.inputs):
        info = definition.inputs[key]
        encoding = info.WhichOneof("encoding")
        if encoding == "coo_sparse":
            add_input(key, _sparse_entry(info.coo_sparse, info.dtype))
        elif encoding != "name":
            unresolved.append({"name": key, "reason": f"input is a composite tensor ({encoding})"})
        elif info.dtype != _DT_STRING:
            add_input(key, {"input_tensor_name": info.name})
        else:
            found = library.find_parse_op(info.name)
            if found is None:
                add_input(key, {"input_tensor_name": info.name, "modality": "categorical"})
                continue
            features, problems = library.parsed_features(*found, input_key=key)
            for name, entry in features:
                add_input(name, entry)
            unresolved.extend(problems)

    outputs: dict[str, dict[str, str]] = {}
    for key in sorted(definition.outputs):
        info = definition.outputs[key]
        if info.WhichOneof("encoding") == "name":
            outputs[key] = {"output_tensor_name": info.name}
        else:
            unresolved.append({"name": key, "reason": "output is not a dense tensor"})
    if refinements:
        path = saved_model if isinstance(saved_model, str) else saved_model.path
        _refine(inputs, outputs, refinements, library, path)
    return {
        "inputs": dict(sorted(inputs.items())),
        "outputs": dict(sorted(outputs.items())),
        "framework": "tensorflow",
        "unresolved": sorted(unresolved, key=lambda u: (u["name"], u["reason"])),
    }


# Encodings whose attributions Vertex computes on an encoded tensor it must be named.
_ENCODED = frozenset(
    {"bag_of_features", "bag_of_features_sparse", "combined_embedding", "concat_embedding"}
)


def _refine(
    inputs: dict[str, dict[str, Any]],
    outputs: dict[str, dict[str, Any]],
    refinements: Mapping[str, Any],
    library: _Library,
    path: str,
) -> None:
    """Applies human refinements to derived inputs and outputs, checking every tensor."""
    for section, derived, tensor_field in (
        ("inputs", inputs, "input_tensor_name"),
        ("outputs", outputs, "output_tensor_name"),
    ):
        for name, fields in sorted(refinements.get(section, {}).items()):
            where = f"card_content explanation.{section}.{excerpt(name)}"
            entry = {**derived.get(name, {}), **fields}
            if tensor_field not in entry:
                raise CardContentError(
                    f"{where} is not an {section[:-1]} of the serving signature "
                    f"(it has {', '.join(sorted(derived)) or 'none'}): give its {tensor_field}"
                )
            for field, value in sorted(fields.items()):
                if field.endswith("_tensor_name") and not library.has_tensor(value):
                    raise CardContentError(
                        f"{where}.{field} names tensor {excerpt(value)}, which is not in the "
                        f"graph of the SavedModel at {path}"
                    )
            if entry.get("encoding") in _ENCODED and "encoded_tensor_name" not in entry:
                raise CardContentError(
                    f"{where} has encoding {entry['encoding']!r}, which needs encoded_tensor_name"
                )
            if "index_display_name_mapping" in entry and "display_name_mapping_key" in entry:
                raise CardContentError(
                    f"{where} gives both index_display_name_mapping and "
                    "display_name_mapping_key; Vertex takes one"
                )
            derived[name] = entry


def _sparse_entry(coo_sparse: Any, dtype: int) -> dict[str, str]:
    entry = {
        "input_tensor_name": coo_sparse.values_tensor_name,
        "indices_tensor_name": coo_sparse.indices_tensor_name,
        "dense_shape_tensor_name": coo_sparse.dense_shape_tensor_name,
    }
    if dtype == _DT_STRING:
        entry["modality"] = "categorical"
    return entry


class _Library:
    """The meta graph's top-level graph and function library, for tracing tensors.

    A scope is None for the top-level graph or a function's name. References are kept in
    each scope's own syntax: "node:index" in the graph, and "arg" or "node:output_arg:index"
    in a function body.
    """

    def __init__(self, meta_graph: Any) -> None:
        self._graph_nodes = list(meta_graph.graph_def.node)
        self._functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
        self._op_defs = {op.name: op for op in meta_graph.meta_info_def.stripped_op_list.op}
        self._node_index: dict[str, Any] | None = None

    def has_tensor(self, tensor_name: str) -> bool:
        """Whether `node:index` is an output of a node of the graph or of a function body.

        The index is checked against the node's outputs where its op is known (an op of
        the stripped op list, or a call of a library function).
        """
        node_name, _, index_text = tensor_name.rpartition(":")
        if not node_name or not index_text.isdigit():
            return False
        index = int(index_text)
        if self._node_index is None:
            self._node_index = {}
            for scope in [None, *self._functions]:
                for node in self._nodes(scope):
                    self._node_index.setdefault(node.name, node)
        node = self._node_index.get(node_name)
        if node is None:
            return False
        count = self._output_count(node)
        return count is None or index < count

    def _output_count(self, node: Any) -> int | None:
        callee = node.attr["f"].func.name if node.op in _CALL_OPS else node.op
        if callee in self._functions:
            return len(self._functions[callee].signature.output_arg)
        op_def = self._op_defs.get(node.op)
        if op_def is None:
            return None
        return sum(_arg_size(node, arg) for arg in op_def.output_arg)

    def _nodes(self, scope: str | None) -> list[Any]:
        return self._graph_nodes if scope is None else list(self._functions[scope].node_def)

    def _node(self, scope: str | None, name: str) -> Any | None:
        return next((n for n in self._nodes(scope) if n.name == name), None)

    def find_parse_op(self, tensor_name: str) -> tuple[str | None, Any] | None:
        """The first parse op fed by `tensor_name` (breadth-first through calls), or None.

        Returns:
            (scope, NodeDef) of the parse op.
        """
        queue = collections.deque([(None, _canonical(tensor_name, None))])
        seen = set()
        while queue:
            scope, ref = queue.popleft()
            if (scope, ref) in seen:
                continue
            seen.add((scope, ref))
            for node in self._nodes(scope):
                data_inputs = [_canonical(i, scope) for i in node.input if not i.startswith("^")]
                for position, value in enumerate(data_inputs):
                    if value != ref:
                        continue
                    if node.op in _PARSE_OPS and position == 0:
                        return scope, node
                    queue.extend(self._forwarded(scope, node, position))
        return None

    def _forwarded(self, scope: str | None, node: Any, position: int) -> list[tuple]:
        """Where a node passes its input `position` on unchanged: identities and calls."""
        if node.op in ("Identity", "IdentityN"):
            index = 0 if node.op == "Identity" else position
            ref = f"{node.name}:{index}" if scope is None else f"{node.name}:output:{index}"
            return [(scope, ref)]
        callee = node.attr["f"].func.name if node.op in _CALL_OPS else node.op
        function = self._functions.get(callee)
        if function is None or position >= len(function.signature.input_arg):
            return []
        return [(callee, function.signature.input_arg[position].name)]

    def parsed_features(
        self, scope: str | None, node: Any, input_key: str
    ) -> tuple[list[tuple[str, dict[str, str]]], list[dict[str, str]]]:
        """The features a parse op produces, as explanation inputs, and what failed.

        Returns:
            ([(feature key, input metadata entry)], [unresolved entries]).
        """
        where = f"{node.op} node {node.name!r} in {scope or 'the top-level graph'}"
        try:
            sparse_keys, dense_keys, ragged_keys = self._parse_keys(scope, node)
            op_def = self._op_defs.get(node.op)
            if op_def is None:
                raise ValueError("the SavedModel does not hold its op definition")
            offsets = {
                arg: _output_offset(op_def, node, arg)
                for arg in ("sparse_indices", "sparse_values", "sparse_shapes", "dense_values")
            }
        except ValueError as e:
            reason = f"input {input_key!r} is parsed by {where}, but {e}"
            return [], [{"name": input_key, "reason": reason}]

        def tensor(output_arg: str, i: int) -> str:
            return f"{node.name}:{offsets[output_arg] + i}"

        sparse_types = list(node.attr["sparse_types"].list.type)
        dense_types = list(node.attr["Tdense"].list.type)
        features, unresolved = [], []
        for i, key in enumerate(sparse_keys):
            entry = {
                "input_tensor_name": tensor("sparse_values", i),
                "indices_tensor_name": tensor("sparse_indices", i),
                "dense_shape_tensor_name": tensor("sparse_shapes", i),
            }
            features.append((key, _with_modality(entry, sparse_types[i])))
        for i, key in enumerate(dense_keys):
            entry = {"input_tensor_name": tensor("dense_values", i)}
            features.append((key, _with_modality(entry, dense_types[i])))
        for key in ragged_keys:
            reason = (
                f"ragged feature parsed by {where}: explanation metadata cannot name row splits"
            )
            unresolved.append({"name": key, "reason": reason})
        return features, unresolved

    def _parse_keys(self, scope: str | None, node: Any) -> tuple[list[str], list[str], list[str]]:
        """The sparse, dense and ragged feature keys of a parse op.

        Raises:
            ValueError: the keys are not constants of the same scope, or do not match the
                op's attributes.
        """
        attr = node.attr
        data_inputs = [i for i in node.input if not i.startswith("^")]
        if node.op == "ParseSingleExample":
            sparse = [k.decode() for k in attr["sparse_keys"].list.s]
            dense = [k.decode() for k in attr["dense_keys"].list.s]
            ragged: list[str] = []
        elif node.op == "ParseExample":
            num_sparse, num_dense = attr["Nsparse"].i, attr["Ndense"].i
            # Inputs: serialized, names, one scalar key per feature, then dense defaults.
            key_refs = data_inputs[2 : 2 + num_sparse + num_dense]
            keys = [self._constant_strings(scope, ref) for ref in key_refs]
            if len(keys) < num_sparse + num_dense or any(len(k) != 1 for k in keys):
                raise ValueError("its feature keys are not scalar string constants")
            sparse = [k[0] for k in keys[:num_sparse]]
            dense = [k[0] for k in keys[num_sparse : num_sparse + num_dense]]
            ragged = []
        else:  # ParseExampleV2
            sparse, dense, ragged = (self._constant_strings(scope, r) for r in data_inputs[2:5])
        expected = (
            attr["num_sparse"].i if node.op != "ParseExample" else attr["Nsparse"].i,
            len(attr["Tdense"].list.type),
            len(attr["ragged_value_types"].list.type),
        )
        if (len(sparse), len(dense), len(ragged)) != expected:
            raise ValueError(
                f"it has {len(sparse)} sparse, {len(dense)} dense and {len(ragged)} ragged "
                f"keys where its attributes declare {expected[0]}, {expected[1]} and {expected[2]}"
            )
        return sparse, dense, ragged

    def _constant_strings(self, scope: str | None, ref: str) -> list[str]:
        """The strings of the Const a reference points at (through identities).

        Raises:
            ValueError: the reference is not a string Const of this scope.
        """
        node = self._node(scope, ref.split(":")[0])
        while node is not None and node.op == "Identity":
            node = self._node(scope, node.input[0].split(":")[0])
        if node is None or node.op != "Const":
            raise ValueError(f"its feature keys ({ref!r}) are not constants of that scope")
        return [s.decode() for s in node.attr["value"].tensor.string_val]


def _canonical(ref: str, scope: str | None) -> str:
    """A graph reference with its implicit ":0" made explicit; function refs unchanged."""
    return f"{ref}:0" if scope is None and ":" not in ref else ref


def _output_offset(op_def: Any, node: Any, output_arg: str) -> int:
    """The flat index of the first tensor of `output_arg` among the node's outputs."""
    offset = 0
    for arg in op_def.output_arg:
        if arg.name == output_arg:
            return offset
        offset += _arg_size(node, arg)
    raise ValueError(f"op {op_def.name} has no output {output_arg!r}")


def _arg_size(node: Any, arg: Any) -> int:
    """How many tensors an op's output argument is on this node."""
    if arg.number_attr:
        return int(node.attr[arg.number_attr].i)
    if arg.type_list_attr:
        return len(node.attr[arg.type_list_attr].list.type)
    return 1


def _with_modality(entry: dict[str, str], dtype: int) -> dict[str, str]:
    return {**entry, "modality": "categorical"} if dtype == _DT_STRING else entry
