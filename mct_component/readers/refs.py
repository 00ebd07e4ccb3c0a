"""Typed references to MLMD records, and `CardInputs`: everything a card is built from.

These are what crosses the MLMD boundary: `lineage` makes them from a store, the
executor from its input artifacts, `api.card_from_files` from plain paths, and the
readers take them. `CardInputs` travels from the component's driver to its
executor as JSON (`to_json` / `from_json`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from mct_component import constants

# How `CardInputs.baseline` was chosen.
EVALUATOR_BASELINE = "evaluator_baseline"
PREVIOUS_BLESSED = "previous_blessed"


@dataclasses.dataclass(frozen=True)
class ArtifactRef:
    """An MLMD artifact reduced to what card building needs.

    `properties` merges MLMD properties and custom properties (properties win), with
    values unwrapped to Python primitives.
    """

    type_name: str
    uri: str
    id: int | None = None
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    create_time_ms: int = 0

    @classmethod
    def from_mlmd(cls, artifact: Any, type_name: str) -> ArtifactRef:
        """Builds a reference from an `ml_metadata` `Artifact` proto and its type's name."""
        return cls(
            type_name=type_name,
            uri=artifact.uri,
            id=artifact.id if artifact.HasField("id") else None,
            properties=properties_of(artifact),
            create_time_ms=artifact.create_time_since_epoch,
        )

    @classmethod
    def from_tfx(cls, artifact: Any) -> ArtifactRef:
        """Builds a reference from a `tfx.types.Artifact`."""
        return cls.from_mlmd(artifact.mlmd_artifact, artifact.type_name)


@dataclasses.dataclass(frozen=True)
class ExecutionRef:
    """An MLMD execution (a component run) and its execution properties."""

    type_name: str
    id: int | None = None
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    create_time_ms: int = 0

    @property
    def component(self) -> str:
        """The short component class name, e.g. "Trainer"."""
        return self.type_name.rsplit(".", 1)[-1]


@dataclasses.dataclass(frozen=True)
class ContextRef:
    """An MLMD context: the pipeline, or one run of it."""

    type_name: str
    name: str
    id: int | None = None


@dataclasses.dataclass(frozen=True)
class CardInputs:
    """Everything a card is built from; only the model is required.

    The first eight fields can be the component's own inputs; the rest is only known
    from lineage. `anomalies` are ExampleValidator's findings on the training data's
    statistics, `evaluation_anomalies` on the evaluation data's (the same artifact when
    the Evaluator read the training examples). `baseline` holds the inputs of the model this one is compared with:
    the Evaluator's baseline model, or else the previous blessed model of the pipeline
    (`baseline_basis` says which: `EVALUATOR_BASELINE` or `PREVIOUS_BLESSED`).
    """

    model: ArtifactRef
    statistics: ArtifactRef | None = None
    schema: ArtifactRef | None = None
    evaluation: ArtifactRef | None = None
    blessing: ArtifactRef | None = None
    pushed_model: ArtifactRef | None = None
    transform_graph: ArtifactRef | None = None
    anomalies: ArtifactRef | None = None
    evaluation_anomalies: ArtifactRef | None = None
    examples: ArtifactRef | None = None
    transformed_examples: ArtifactRef | None = None
    hyperparameters: ArtifactRef | None = None
    trainer: ExecutionRef | None = None
    transform: ExecutionRef | None = None
    evaluator: ExecutionRef | None = None
    pipeline: ContextRef | None = None
    run: ContextRef | None = None
    baseline: CardInputs | None = None
    baseline_basis: str | None = None

    def with_explicit(self, **explicit: ArtifactRef | None) -> CardInputs:
        """These inputs with every non-None explicit artifact replacing the discovered one."""
        given: dict[str, Any] = {k: v for k, v in explicit.items() if v is not None}
        return dataclasses.replace(self, **given)

    def to_json(self) -> str:
        """Serialises the inputs (to travel as an execution property)."""
        return _dumps(self)

    @classmethod
    def from_json(cls, text: str) -> CardInputs:
        """The inverse of `to_json`.

        Raises:
            ValueError: the text is not JSON, or not the form `to_json` writes.
            TypeError: a reference has unknown or missing fields.
        """
        return _inputs_from_dict(_json_object(text))


@dataclasses.dataclass(frozen=True)
class PipelineFacts:
    """What the pipeline definition says about a run, for when lineage cannot.

    Kubeflow Pipelines v2 runs no component drivers, so the executor gets no lineage;
    the pipeline's name, the run's id (or a placeholder the orchestrator fills in) and
    the Trainer's and Transform's configuration are known when the pipeline is built.
    """

    pipeline_name: str = ""
    run_id: str = ""
    trainer: ExecutionRef | None = None
    transform: ExecutionRef | None = None

    def fill(self, inputs: CardInputs) -> CardInputs:
        """`inputs` with what lineage did not find taken from these facts."""
        found: dict[str, Any] = {}
        if inputs.pipeline is None and self.pipeline_name:
            found["pipeline"] = ContextRef("pipeline", self.pipeline_name)
        if inputs.run is None and self.run_id:
            found["run"] = ContextRef(constants.PIPELINE_RUN_CONTEXT_TYPE, self.run_id)
        if inputs.trainer is None and self.trainer is not None:
            found["trainer"] = self.trainer
            if inputs.transform is None:
                found["transform"] = self.transform
        return dataclasses.replace(inputs, **found)

    def to_json(self) -> str:
        """Serialises the facts (to travel as an execution property)."""
        return _dumps(self)

    @classmethod
    def from_json(cls, text: str) -> PipelineFacts:
        """The inverse of `to_json`.

        Raises:
            ValueError: the text is not JSON, or not the form `to_json` writes.
            TypeError: a field is unknown or missing.
        """
        data = _json_object(text)
        executions = {k: ExecutionRef(**data[k]) for k in ("trainer", "transform") if data.get(k)}
        return cls(**{**data, "trainer": None, "transform": None, **executions})


def _dumps(record: Any) -> str:
    return json.dumps(dataclasses.asdict(record), sort_keys=True)


def _json_object(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


_EXECUTION_FIELDS = ("trainer", "transform", "evaluator")
_CONTEXT_FIELDS = ("pipeline", "run")


def _inputs_from_dict(data: Mapping[str, Any]) -> CardInputs:
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or key == "baseline_basis":
            fields[key] = value
        elif key == "baseline":
            fields[key] = _inputs_from_dict(value)
        elif key in _CONTEXT_FIELDS:
            fields[key] = ContextRef(**value)
        elif key in _EXECUTION_FIELDS:
            fields[key] = ExecutionRef(**value)
        else:
            fields[key] = ArtifactRef(**value)
    return CardInputs(**fields)


def properties_of(node: Any) -> dict[str, Any]:
    """An MLMD node's properties and custom properties as Python values (properties win)."""
    values = {k: _unwrap(v) for k, v in node.custom_properties.items()}
    values.update({k: _unwrap(v) for k, v in node.properties.items()})
    return values


def _unwrap(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        decoded = json_format.MessageToDict(value.struct_value)
        # TFX stores a single JSON value as {"__value__": v}; on Kubeflow Pipelines v2
        # every custom property arrives that way (e.g. a ModelBlessing's `blessed`: 1.0).
        return decoded["__value__"] if set(decoded) == {"__value__"} else decoded
    if kind == "proto_value":
        return None
    return getattr(value, kind) if kind else None
