"""The model card data model: frozen dataclasses, their JSON form and its schema.

Everything past the MLMD boundary is one of these types. `ModelCard.to_dict()` is the
JSON document written as `model_card.json`; templates render that same dictionary, so
the schema in `schemas/model_card.schema.json` documents what templates can use.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from mct_component.errors import CardValidationError

SCHEMA_VERSION = "1.1"
RISK_RATINGS = ("low", "medium", "high", "unknown")
STATUSES = ("draft", "pending_review", "approved", "archived")


@dataclasses.dataclass(frozen=True)
class Source:
    """Where an auto-filled value came from: an MLMD artifact, or an execution (no URI)."""

    type_name: str
    uri: str
    artifact_id: int | None = None
    execution_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Owner:
    name: str
    contact: str = ""


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One input or output of a SavedModel signature.

    `tensor_name` is the graph tensor (`name:index`) of the SignatureDef, or for a sparse
    tensor its values tensor, and "" for other composite tensors. `dtype` is TF's name
    ("string", "float32"); `shape` is None when the rank is unknown and holds None for
    each unknown dimension.
    """

    key: str
    tensor_name: str
    dtype: str
    shape: tuple[int | None, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Signature:
    """A serving signature; inputs and outputs are sorted by key."""

    name: str
    method_name: str
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()


@dataclasses.dataclass(frozen=True)
class ModelDetails:
    """Identity of the model; `name`/`version` may be overridden by human content.

    `version` defaults to the pipeline run that produced the model.
    """

    name: str
    version: str
    uri: str
    created: str = ""
    overview: str = ""
    owners: tuple[Owner, ...] = ()
    license: str = ""
    references: tuple[str, ...] = ()
    citation: str = ""
    source: Source | None = None
    pipeline_name: str = ""
    run_id: str = ""
    framework_versions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    signatures: tuple[Signature, ...] = ()


@dataclasses.dataclass(frozen=True)
class TopValue:
    value: str
    frequency: float


@dataclasses.dataclass(frozen=True)
class FeatureSummary:
    """TFDV statistics of one feature in one split; numeric or categorical fields are set."""

    name: str
    type: str
    missing_pct: float
    mean: float | None = None
    std_dev: float | None = None
    min: float | None = None
    max: float | None = None
    unique: int | None = None
    top_values: tuple[TopValue, ...] = ()
    chart: Any = None


@dataclasses.dataclass(frozen=True)
class DatasetSplit:
    """One split of the data the model was trained or evaluated on, from TFDV statistics."""

    name: str
    num_examples: int
    num_features: int
    source: Source
    features: tuple[FeatureSummary, ...] = ()


@dataclasses.dataclass(frozen=True)
class SchemaFeature:
    name: str
    type: str
    required: bool
    domain: str = ""


@dataclasses.dataclass(frozen=True)
class SchemaSummary:
    """Facts from the TFDV schema the data was validated against."""

    features: tuple[SchemaFeature, ...]
    source: Source


@dataclasses.dataclass(frozen=True)
class Training:
    """How the model was trained, from the Trainer execution and its inputs."""

    component: str
    train_steps: int | None = None
    eval_steps: int | None = None
    module: str = ""
    custom_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    transform: bool = False
    source: Source | None = None


@dataclasses.dataclass(frozen=True)
class Metric:
    """One scalar TFMA metric; bounds are set when TFMA computed confidence intervals.

    `value` is None when TFMA reported NaN (e.g. a metric undefined on a small slice).
    """

    name: str
    value: float | None
    lower_bound: float | None = None
    upper_bound: float | None = None
    sub_key: str = ""

    @property
    def label(self) -> str:
        return metric_label(self.name, self.sub_key)


def metric_label(name: str, sub_key: str) -> str:
    """A metric's display name: its TFMA name, plus the sub key (e.g. a class id) if any."""
    return f"{name} [{sub_key}]" if sub_key else name


@dataclasses.dataclass(frozen=True)
class SliceMetrics:
    """Metrics of one slice; `slice` is "Overall" or e.g. "island=Biscoe"."""

    slice: str
    metrics: tuple[Metric, ...]


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A metric gate from the EvalConfig; `passed` is None when TFMA did not validate it."""

    metric: str
    kind: str  # "value" or "change"
    lower_bound: float | None = None
    upper_bound: float | None = None
    direction: str = ""
    absolute: float | None = None
    relative: float | None = None
    passed: bool | None = None


@dataclasses.dataclass(frozen=True)
class QuantitativeAnalysis:
    """TFMA results: overall and per-slice metrics, thresholds, plots and the blessing."""

    overall: tuple[Metric, ...] = ()
    slices: tuple[SliceMetrics, ...] = ()
    blessed: bool | None = None
    source: Source | None = None
    blessing_source: Source | None = None
    thresholds: tuple[Threshold, ...] = ()
    charts: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class MetricDelta:
    slice: str
    metric: str
    value: float | None
    baseline: float | None
    delta: float | None


@dataclasses.dataclass(frozen=True)
class Change:
    """A value that differs between this model and the baseline (config or data)."""

    key: str
    value: str
    baseline: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    """How this model differs from its baseline model.

    `basis` says how the baseline was chosen: "evaluator_baseline" (the model the
    Evaluator compared this one with) or "previous_blessed" (the previous blessed model
    of the same pipeline, when the Evaluator had no baseline).
    """

    baseline_model: Source
    baseline_version: str
    basis: str
    metric_deltas: tuple[MetricDelta, ...] = ()
    data_changes: tuple[Change, ...] = ()
    config_changes: tuple[Change, ...] = ()


@dataclasses.dataclass(frozen=True)
class IntendedUse:
    primary_uses: tuple[str, ...] = ()
    primary_users: tuple[str, ...] = ()
    out_of_scope_uses: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class EthicalConsideration:
    name: str
    mitigation: str = ""


@dataclasses.dataclass(frozen=True)
class Risk:
    rating: str = "unknown"
    explanation: str = ""


@dataclasses.dataclass(frozen=True)
class Considerations:
    """The human-written judgement about the model."""

    intended_use: IntendedUse = IntendedUse()
    limitations: tuple[str, ...] = ()
    tradeoffs: tuple[str, ...] = ()
    ethical_considerations: tuple[EthicalConsideration, ...] = ()
    risk: Risk = Risk()


@dataclasses.dataclass(frozen=True)
class Deployment:
    """Where the Pusher put the model, if it did."""

    pushed: bool
    destination: str = ""
    version: str = ""
    source: Source | None = None


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """A complete model card."""

    model_details: ModelDetails
    datasets: tuple[DatasetSplit, ...] = ()
    schema: SchemaSummary | None = None
    training: Training | None = None
    quantitative_analysis: QuantitativeAnalysis = QuantitativeAnalysis()
    comparison: Comparison | None = None
    considerations: Considerations = Considerations()
    deployment: Deployment | None = None
    status: str = "draft"
    missing: tuple[str, ...] = ()
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (lists, dicts, scalars), in field order."""
        return _jsonable(self)


def _jsonable(value: Any) -> Any:
    # Like dataclasses.asdict, without its deep copies (a third of a large card's build).
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Loads one of the JSON Schemas shipped in `mct_component/schemas`."""
    text = resources.files("mct_component").joinpath("schemas", name).read_text()
    return json.loads(text)


def validate_card_dict(card: dict[str, Any]) -> None:
    """Checks a card's JSON form against `model_card.schema.json`.

    A compiled validator checks the card; only when it finds a fault does `jsonschema`,
    the reference, validate it again, to name the most relevant error.

    Raises:
        CardValidationError: naming the first offending field and the schema's rule.
    """
    import fastjsonschema

    try:
        _compiled_card_check()(card)
    except fastjsonschema.JsonSchemaException:
        import jsonschema

        error = jsonschema.exceptions.best_match(_card_validator().iter_errors(card))
        if error is not None:
            where = json_path(error.absolute_path) or "<card>"
            raise CardValidationError(
                f"generated card is invalid at {where}: {error.message}"
            ) from None


@functools.cache
def _card_validator() -> Any:
    import jsonschema

    chart = load_schema("chart.schema.json")
    card_schema = load_schema("model_card.schema.json")
    # Validating through `$ref`s costs a registry lookup per reference, twice the time of
    # the checks themselves on a 2,000-feature card: validate against an inlined copy.
    flat = _inline_refs(card_schema, card_schema, {chart["$id"]: chart})
    return jsonschema.Draft202012Validator(flat)


@functools.cache
def _compiled_card_check() -> Any:
    """`model_card.schema.json` compiled to Python by fastjsonschema (about 0.1 s, once).

    It validates a 2,000-feature card six times faster than `jsonschema`.
    """
    import fastjsonschema

    chart = load_schema("chart.schema.json")
    card_schema = load_schema("model_card.schema.json")
    return fastjsonschema.compile(_as_draft7(card_schema, {chart["$id"]: ("chart__", chart)}))


# The keywords the draft-07 translation carries over (see `_as_draft7`). `format` is
# left out on purpose: fastjsonschema checks formats, `jsonschema` does not by default.
_DRAFT7_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "default",
        "type", "enum", "const", "properties", "additionalProperties", "required",
        "patternProperties", "minProperties", "maxProperties", "items", "prefixItems",
        "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    }
)  # fmt: skip


def _as_draft7(
    schema: Mapping[str, Any], others: Mapping[str, tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """A draft-07 copy of a 2020-12 schema, for fastjsonschema (which stops at draft 7).

    `$defs` become `definitions`; `prefixItems` (and `items` after it) become `items`
    (and `additionalItems`). `others` maps the `$id` of each referenced schema document
    to a prefix for its definitions and the document itself; references to it point
    at a copy under `definitions`.

    Raises:
        ValueError: the schema uses a keyword outside `_DRAFT7_KEYWORDS`.
    """

    def convert(node: Any, prefix: str) -> Any:
        if isinstance(node, list):
            return [convert(item, prefix) for item in node]
        if not isinstance(node, dict):
            return node
        unknown = set(node) - _DRAFT7_KEYWORDS
        if unknown:
            raise ValueError(f"schema keywords not translated to draft 7: {sorted(unknown)}")
        out = {}
        for key, value in node.items():
            if key in ("$schema", "$id", "$defs"):  # definitions are gathered below
                continue
            if key == "$ref":
                local = value.startswith("#/$defs/")
                target = prefix + value.removeprefix("#/$defs/") if local else others[value][0]
                out[key] = f"#/definitions/{target}"
            elif key in ("properties", "patternProperties"):
                out[key] = {name: convert(sub, prefix) for name, sub in value.items()}
            elif key in ("const", "enum", "default", "required"):  # values, not schemas
                out[key] = value
            else:
                out[key] = convert(value, prefix)
        if "prefixItems" in node:
            out["items"] = out.pop("prefixItems")
            if "items" in node:
                out["additionalItems"] = convert(node["items"], prefix)
        return out

    definitions = {name: convert(sub, "") for name, sub in schema.get("$defs", {}).items()}
    for prefix, document in others.values():
        definitions[prefix] = convert(document, prefix)
        for name, sub in document.get("$defs", {}).items():
            definitions[prefix + name] = convert(sub, prefix)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **convert(schema, ""),
        "definitions": definitions,
    }


def _inline_refs(node: Any, document: Mapping[str, Any], documents: Mapping[str, Any]) -> Any:
    """A copy of a (non-recursive) schema with every `$ref` replaced by its target.

    Handles `#/...` pointers within `document` and references to whole `documents`.
    """
    if isinstance(node, list):
        return [_inline_refs(item, document, documents) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {
        key: _inline_refs(value, document, documents)
        for key, value in node.items()
        if key not in ("$ref", "$defs", "$id")
    }
    ref = node.get("$ref")
    if ref is None:
        return rest
    if ref.startswith("#/"):
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
        return {**_inline_refs(target, document, documents), **rest}
    target_document = documents[ref]
    return {**_inline_refs(target_document, target_document, documents), **rest}


def json_path(parts: Any) -> str:
    """Formats a jsonschema error path as `a.b[0].c`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
