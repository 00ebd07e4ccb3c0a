"""The model card data model: `Card` and the frozen records it is made of.

`Card.to_dict()` is the JSON document written as `model_card.json` (described by
`schemas/model_card.schema.json`; templates render that same dictionary) and
`Card.from_dict` reads it back, charts included, so a saved card can be edited and
rendered again without the pipeline outputs it was built from.

The package also holds charts as data (`charts`), schema validation (`validation`) and
the completeness score (`completeness`). It imports only the leaf modules (`errors`,
`constants`, `files`, `text`): what a card cannot do alone (apply human-written
content, show itself as HTML) upper layers lend it through `register_service`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
import os
import types
import typing
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar, Union, cast

from mct_component import constants, files
from mct_component.card import validation
from mct_component.card.charts import KINDS, Chart, chart_from_dict
from mct_component.errors import CardValidationError

# Human-written content as `Card.with_content` and the content loader take it: a
# mapping, or the path of a JSON or YAML file.
ContentInput = Union[Mapping[str, Any], str, "os.PathLike[str]", None]

SCHEMA_VERSION = "1.4"
RISK_RATINGS = ("low", "medium", "high", "unknown")
OBJECTIVE_FUNCTIONS = ("minimize", "maximize")
STATUSES = ("draft", "pending_review", "approved", "archived")

# A 2,000-feature card is about 9 MB of JSON; anything far larger is not one.
MAX_CARD_BYTES = 256 * 2**20

_R = TypeVar("_R", bound="Record")


class Record:
    """Base of the card's frozen dataclasses: `replace` returns a changed copy."""

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with the given fields changed (`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True)
class Source(Record):
    """Where an auto-filled value came from: an MLMD artifact, or an execution (no URI)."""

    type_name: str
    uri: str
    artifact_id: int | None = None
    execution_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Owner(Record):
    """A person or team responsible for the model, and how to reach them."""

    name: str
    contact: str = ""


@dataclasses.dataclass(frozen=True)
class TensorInfo(Record):
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
class Signature(Record):
    """A serving signature; inputs and outputs are sorted by key."""

    name: str
    method_name: str
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()


@dataclasses.dataclass(frozen=True)
class ModelDetails(Record):
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
class TopValue(Record):
    """One of a categorical feature's most frequent values, with its count."""

    value: str
    frequency: float


FEATURE_KINDS = ("numeric", "categorical", "free_text", "bytes", "")
FEATURE_ROLES = ("label", "weight", "")


@dataclasses.dataclass(frozen=True)
class FeatureSummary(Record):
    """TFDV statistics of one feature in one split; numeric or categorical fields are set.

    `kind` says how the card shows it (`FEATURE_KINDS`): "numeric" (a histogram),
    "categorical" (bars per value, `top_values` in the chart's order; an integer with
    few values too), "free_text" (mostly unique strings, or the schema's natural-language
    domain: lengths, unique share and a few examples, no chart) or "bytes" (TFDV's bytes
    statistics). `role` marks the label or the example weight (`FEATURE_ROLES`).
    Lengths are in characters for free text (TFDV's average) and bytes for bytes.
    """

    name: str
    type: str
    missing_pct: float
    mean: float | None = None
    std_dev: float | None = None
    min: float | None = None
    max: float | None = None
    unique: int | None = None
    top_values: tuple[TopValue, ...] = ()
    chart: Chart | None = None
    kind: str = ""
    role: str = ""
    unique_ratio: float | None = None
    avg_length: float | None = None
    min_length: float | None = None
    max_length: float | None = None


@dataclasses.dataclass(frozen=True)
class DatasetSplit(Record):
    """One split of the data the model was trained or evaluated on, from TFDV statistics."""

    name: str
    num_examples: int
    num_features: int
    source: Source
    features: tuple[FeatureSummary, ...] = ()


@dataclasses.dataclass(frozen=True)
class SchemaFeature(Record):
    """One feature of the TFDV schema: its type, whether it is required, its domain."""

    name: str
    type: str
    required: bool
    domain: str = ""


@dataclasses.dataclass(frozen=True)
class SchemaSummary(Record):
    """Facts from the TFDV schema the data was validated against."""

    features: tuple[SchemaFeature, ...]
    source: Source


@dataclasses.dataclass(frozen=True)
class DataAnomaly(Record):
    """One finding of ExampleValidator (TFDV) in one split.

    A schema anomaly has the TFDV anomaly types in `kind` and a `severity`; a drift or
    skew measurement (`kind` "DRIFT" or "SKEW") has its `measurement`, `value` and
    `threshold`, and a severity only when the value is beyond the threshold.
    """

    split: str
    feature: str  # "" for the whole dataset
    kind: str
    description: str
    severity: str = ""  # "error", "warning", "unknown"; "" for a measurement within bounds
    measurement: str = ""
    value: float | None = None
    threshold: float | None = None


@dataclasses.dataclass(frozen=True)
class DataValidation(Record):
    """What ExampleValidator found in the data a model was trained or evaluated on."""

    data: str  # "training", "evaluation", or "training and evaluation"
    splits: tuple[str, ...]
    anomalies: tuple[DataAnomaly, ...]
    source: Source

    @property
    def alerts(self) -> tuple[DataAnomaly, ...]:
        """The findings that are anomalies (not measurements within their threshold)."""
        return tuple(a for a in self.anomalies if a.severity)


@dataclasses.dataclass(frozen=True)
class Training(Record):
    """How the model was trained, from the Trainer execution and its inputs."""

    component: str
    train_steps: int | None = None
    eval_steps: int | None = None
    module: str = ""
    custom_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    transform: bool = False
    source: Source | None = None


# A metric resting on fewer examples than this gets a caveat in the card.
SMALL_SAMPLE = 100


@dataclasses.dataclass(frozen=True)
class Metric(Record):
    """One scalar TFMA metric; bounds are set when TFMA computed confidence intervals.

    `value` is None when TFMA reported NaN (e.g. a metric undefined on a small slice).
    `interval_clipped` says the bounds were cut to the metric's possible range (e.g. an
    accuracy's interval past 1); `example_count` is TFMA's `example_count` of the same
    slice and output (None when TFMA did not compute it); `output` names the model's
    output for a model with several ("" for one).
    """

    name: str
    value: float | None
    lower_bound: float | None = None
    upper_bound: float | None = None
    sub_key: str = ""
    interval_clipped: bool = False
    example_count: int | None = None
    output: str = ""

    @property
    def label(self) -> str:
        """The display name: the TFMA name, plus the sub key if any."""
        return metric_label(self.name, self.sub_key, self.output)


def metric_label(name: str, sub_key: str, output: str = "") -> str:
    """A metric's display name: its TFMA name, plus the sub key (e.g. a class id) if any,
    after its output's name for a model of several outputs."""
    label = f"{name} [{sub_key}]" if sub_key else name
    return f"{output}: {label}" if output else label


@dataclasses.dataclass(frozen=True)
class SliceMetrics(Record):
    """Metrics of one slice; `slice` is "Overall" or e.g. "island=Biscoe"."""

    slice: str
    metrics: tuple[Metric, ...]


@dataclasses.dataclass(frozen=True)
class Threshold(Record):
    """A metric gate from the EvalConfig; `passed` is None when TFMA did not check it.

    `note` says why a threshold was not checked (e.g. a change threshold without a
    baseline model), or what failed when the metric was missing; `slices` the slices
    it is for ("" for every slice), `output` the model output ("" for the only one).
    """

    metric: str
    kind: str  # "value" or "change"
    lower_bound: float | None = None
    upper_bound: float | None = None
    direction: str = ""
    absolute: float | None = None
    relative: float | None = None
    passed: bool | None = None
    note: str = ""
    slices: str = ""
    output: str = ""


@dataclasses.dataclass(frozen=True)
class QuantitativeAnalysis(Record):
    """TFMA results: overall and per-slice metrics, thresholds, plots and the blessing."""

    overall: tuple[Metric, ...] = ()
    slices: tuple[SliceMetrics, ...] = ()
    blessed: bool | None = None
    source: Source | None = None
    blessing_source: Source | None = None
    thresholds: tuple[Threshold, ...] = ()
    charts: tuple[Chart, ...] = ()


@dataclasses.dataclass(frozen=True)
class MetricDelta(Record):
    """A metric of one slice, for this model and the baseline, and the difference."""

    slice: str
    metric: str
    value: float | None
    baseline: float | None
    delta: float | None


@dataclasses.dataclass(frozen=True)
class Change(Record):
    """A value that differs between this model and the baseline (config or data)."""

    key: str
    value: str
    baseline: str


@dataclasses.dataclass(frozen=True)
class Comparison(Record):
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
class IntendedUse(Record):
    """What the model is for, who it is for, and what it must not be used for."""

    primary_uses: tuple[str, ...] = ()
    primary_users: tuple[str, ...] = ()
    out_of_scope_uses: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class EthicalConsideration(Record):
    """An ethical risk of the model and how it is mitigated."""

    name: str
    mitigation: str = ""


@dataclasses.dataclass(frozen=True)
class Risk(Record):
    """The model's risk rating (`RISK_RATINGS`) and why."""

    rating: str = "unknown"
    explanation: str = ""


@dataclasses.dataclass(frozen=True)
class BusinessDetails(Record):
    """The business problem the model solves, who has a stake in it, and where it serves."""

    business_problem: str = ""
    business_stakeholders: str = ""
    line_of_business: str = ""


@dataclasses.dataclass(frozen=True)
class ObjectiveFunction(Record):
    """What training optimized: `function` (`OBJECTIVE_FUNCTIONS`, or "") of `facet`."""

    function: str = ""
    facet: str = ""
    condition: str = ""
    notes: str = ""


@dataclasses.dataclass(frozen=True)
class Considerations(Record):
    """The human-written judgement about the model.

    `custom_details` holds anything else people want on the card, as text keyed by text.
    """

    intended_use: IntendedUse = IntendedUse()
    limitations: tuple[str, ...] = ()
    tradeoffs: tuple[str, ...] = ()
    ethical_considerations: tuple[EthicalConsideration, ...] = ()
    risk: Risk = Risk()
    business_details: BusinessDetails = BusinessDetails()
    objective_function: ObjectiveFunction = ObjectiveFunction()
    training_observations: str = ""
    evaluation_observations: str = ""
    custom_details: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Deployment(Record):
    """Where the Pusher put the model, if it did."""

    pushed: bool
    destination: str = ""
    version: str = ""
    source: Source | None = None


@dataclasses.dataclass(frozen=True)
class StatusChange(Record):
    """One version in a card's history: its status, how it came to be, who, when, why."""

    version: int
    status: str
    change: str  # lifecycle.GENERATED, EDITED or STATUS_CHANGED
    by: str
    at: str
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Approval(Record):
    """Who approved which version, when, and the SHA-256 of its exact `model_card.json`.

    `signer` is the identity of the approver's signature ("" for an unsigned approval);
    `identity` the login a review console signed it for ("" when the approver signed).
    """

    version: int
    by: str
    at: str
    sha256: str
    signer: str = ""
    identity: str = ""


@dataclasses.dataclass(frozen=True)
class VersionChange(Record):
    """The change that made a version, as the version's signed files record it: what
    kind, who, when, why, the statuses before and after, and the signer's identity
    ("" when unsigned; the signature itself is the folder's `card.sig`). A bare key's
    public key travels along, so anyone can check the files are the signed ones; who
    the key belongs to is what a review policy vouches for."""

    kind: str
    by: str
    at: str
    note: str = ""
    from_status: str = ""
    to_status: str = ""
    signer: str = ""
    signer_key: str = ""  # the signer's PEM public key, for a bare key
    identity: str = ""  # the login a review console signed the change for ("" none)


@dataclasses.dataclass(frozen=True)
class Governance(Record):
    """The card as a governed record: its version in MLMD, its review history, and the
    link to its parent version (the SHA-256 of the parent's `model_card.json`: a hash
    chain from version 1). `approvals` are those collected on the content under review
    when the policy asks for several approvers."""

    version: int
    history: tuple[StatusChange, ...] = ()
    approval: Approval | None = None
    parent_version: int = 0
    parent_sha256: str = ""
    change: VersionChange | None = None
    approvals: tuple[Approval, ...] = ()


@dataclasses.dataclass(frozen=True)
class SectionCompleteness(Record):
    """How much of one section of a standard the card fills, and the items it lacks."""

    name: str
    score: float
    missing: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class StandardCompleteness(Record):
    """The share of a standard's items the card fills, section by section."""

    name: str
    score: float
    sections: tuple[SectionCompleteness, ...] = ()


@dataclasses.dataclass(frozen=True)
class Completeness(Record):
    """The card's completeness: the lowest of its standards' scores (see `completeness`)."""

    score: float
    standards: tuple[StandardCompleteness, ...] = ()


@dataclasses.dataclass(frozen=True)
class Inheritance(Record):
    """The approved card whose human-written sections this card took where none were given."""

    model_id: int
    version: int
    artifact_id: int
    uri: str


@dataclasses.dataclass(frozen=True)
class Card(Record):
    """A complete model card: what MLMD and the pipeline outputs say, and what people wrote.

    Build one with `card_from_files` or `card_from_mlmd`, or read a saved one with
    `Card.load`; change it with `with_content` (the human-written sections) or
    `replace` (any field); render it with `render_card` / `write_card`. In a notebook
    it displays itself as HTML.
    """

    model_details: ModelDetails
    datasets: tuple[DatasetSplit, ...] = ()
    schema: SchemaSummary | None = None
    data_validation: tuple[DataValidation, ...] = ()
    training: Training | None = None
    quantitative_analysis: QuantitativeAnalysis = QuantitativeAnalysis()
    comparison: Comparison | None = None
    considerations: Considerations = Considerations()
    deployment: Deployment | None = None
    status: str = "draft"
    missing: tuple[str, ...] = ()
    governance: Governance | None = None
    completeness: Completeness | None = None
    inherited_from: Inheritance | None = None
    schema_version: str = SCHEMA_VERSION

    def replace(self, **changes: Any) -> Card:
        """A copy with the given fields changed, checked against the card schema.

        Raises:
            CardValidationError: the changed card does not match the schema.
        """
        changed = dataclasses.replace(self, **changes)
        validation.validate_card_dict(changed.to_dict())
        return changed

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (lists, dicts, scalars), in field order."""
        return _jsonable(self, None)

    def to_dict_with_charts(self) -> tuple[dict[str, Any], dict[int, Chart]]:
        """`to_dict()`, and each chart of the card by the `id` of its dictionary in it.

        Renderers take the dictionary (templates render it) and draw each chart from the
        object it was made of, instead of reading it back from its dictionary.
        """
        charts: dict[int, Chart] = {}
        return _jsonable(self, charts), charts

    def to_json(self, indent: int | None = None) -> str:
        """The card as `model_card.json` holds it (compact and key-sorted by default)."""
        return dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Card:
        """Reads a card from its JSON form, after checking it against the card schema.

        Raises:
            CardValidationError: naming the first field that does not match the schema.
        """
        validation.validate_card_dict(data)
        return typing.cast(Card, _decode(cls, data, "card"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Card:
        """Reads a card from `model_card.json` text.

        Raises:
            CardValidationError: the text is not JSON, or not a valid card.
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CardValidationError(f"a card must be JSON: {e}") from None
        except RecursionError:
            raise CardValidationError(
                "a card must be JSON nested as the card schema says"
            ) from None
        if not isinstance(data, Mapping):
            raise CardValidationError(f"a card must be a JSON object, got {type(data).__name__}")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str) -> Card:
        """Reads `model_card.json`, or the one in a card directory (any `fileio` path).

        Raises:
            SourceError: the file cannot be read.
            CardValidationError: it is not a valid card.
        """
        return cls.from_json(
            files.read_bytes(files.card_file(path, constants.CARD_JSON_FILE), MAX_CARD_BYTES)
        )

    def save(self, path: str) -> None:
        """Writes the card's JSON to `path` (a file, any `fileio` path), atomically.

        Raises:
            CardValidationError: the card does not match the card schema.
        """
        data = self.to_dict()
        validation.validate_card_dict(data)
        folder, name = os.path.split(path)
        files.write_files(folder or ".", {name: dumps(data)})

    def with_content(self, content: ContentInput) -> Card:
        """A copy with human-written content applied; sections not given are kept.

        Args:
            content: a mapping, or a JSON/YAML file path, in the form of
                `schemas/card_content.schema.json` (e.g. `{"limitations": [...]}`).

        Raises:
            CardContentError: the content does not match that schema.
        """
        return _service("apply_content")(self, content)

    def _repr_html_(self) -> str:
        """The card as a self-contained HTML page (shown by Jupyter)."""
        return _service("html")(self)


# What a card cannot do without the layers above it, lent by them as they are imported
# (`import mct_component` imports both): `content` applies human-written content,
# `render` draws the card as an HTML page. The card never imports them.
_SERVICES: dict[str, Callable[..., Any]] = {}


def register_service(name: str, function: Callable[..., Any]) -> None:
    """Lends the card a function of an upper layer: "apply_content" or "html"."""
    _SERVICES[name] = function


def _service(name: str) -> Callable[..., Any]:
    try:
        return _SERVICES[name]
    except KeyError:
        raise RuntimeError(
            f"cards need mct_component imported to {name.replace('_', ' ')}"
        ) from None


def dumps(card_dict: Mapping[str, Any], indent: int | None = None) -> str:
    """A card's JSON text: key-sorted, no NaN, newline-terminated.

    Compact by default: the C encoder only runs without `indent` (about 10x faster on a
    2,000-feature card); `python -m json.tool` pretty-prints it.
    """
    separators = (",", ":") if indent is None else None
    text = json.dumps(
        card_dict,
        sort_keys=True,
        allow_nan=False,
        indent=indent,
        separators=separators,
        check_circular=False,  # a card is a tree (from `to_dict` or JSON)
    )
    return text + "\n"


def _jsonable(value: Any, charts: dict[int, Chart] | None) -> Any:
    """Like dataclasses.asdict, without its deep copies (a third of a large card's build);
    into `charts` (when given) goes each chart by the id of its dictionary."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [_jsonable(v, charts) for v in value]
    layout = _layout(cast(Hashable, kind))
    if layout is not None:
        names, values_of, nested = layout
        values: Sequence[Any] = values_of(value)
        if nested:
            converted = list(values)
            for i in nested:
                converted[i] = _jsonable(converted[i], charts)
            values = converted
        data = dict(zip(names, values, strict=True))
        if charts is not None and kind in _CHART_TYPES:
            charts[id(data)] = value
        return data
    if isinstance(value, Mapping):
        return {k: _jsonable(v, charts) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, charts) for v in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _layout(
    cls: type,
) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[int, ...]] | None:
    """How `_jsonable` takes a dataclass apart: its field names in order, a function
    returning their values, and the positions of the fields whose type is not a scalar
    (those are converted in turn). None for any other type."""
    if not dataclasses.is_dataclass(cls):
        return None
    names = tuple(f.name for f in dataclasses.fields(cls))
    hints = _field_types(cls)
    nested = tuple(i for i, name in enumerate(names) if not _is_scalar(hints[name]))
    getter = operator.attrgetter(*names)
    values_of = getter if len(names) > 1 else lambda value: (getter(value),)
    return names, values_of, nested


def _is_scalar(annotation: Any) -> bool:
    """Whether a field's annotation is a JSON scalar type, or one of them or None."""
    options = (
        typing.get_args(annotation) if typing.get_origin(annotation) in _UNIONS else (annotation,)
    )
    return all(option in _SCALARS for option in options)


_UNIONS = (typing.Union, types.UnionType)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


_CHART_TYPES = frozenset(KINDS.values())


def _decode(annotation: Any, value: Any, where: str) -> Any:
    """`value` (JSON data already checked against the schema) as an `annotation` instance."""
    if value is None:
        return None
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        hints = _field_types(annotation)
        fields = {f.name for f in dataclasses.fields(annotation) if f.init}
        return annotation(
            **{
                name: _decode(hints[name], item, f"{where}.{name}")
                for name, item in value.items()
                if name in fields
            }
        )
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in arguments if a is not type(None)]
        if set(options) <= _CHART_TYPES:
            return chart_from_dict(value)
        (only,) = options  # the card's unions are all "X | None" or charts
        return _decode(only, value, where)
    if origin is tuple:
        item_type = arguments[0]
        return tuple(_decode(item_type, item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin in (Mapping, dict):
        return dict(value)
    return value
