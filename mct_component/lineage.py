"""The MLMD boundary: artifacts as plain references, and the set of inputs a card is built from."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


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
        properties = {k: _unwrap(v) for k, v in artifact.custom_properties.items()}
        properties.update({k: _unwrap(v) for k, v in artifact.properties.items()})
        return cls(
            type_name=type_name,
            uri=artifact.uri,
            id=artifact.id if artifact.HasField("id") else None,
            properties=properties,
            create_time_ms=artifact.create_time_since_epoch,
        )

    @classmethod
    def from_tfx(cls, artifact: Any) -> ArtifactRef:
        """Builds a reference from a `tfx.types.Artifact`."""
        return cls.from_mlmd(artifact.mlmd_artifact, artifact.type_name)


def _unwrap(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(value.struct_value)
    if kind == "bool_value":
        return value.bool_value
    return getattr(value, kind) if kind else None


@dataclasses.dataclass(frozen=True)
class CardInputs:
    """The artifacts one card is built from; only the model is required."""

    model: ArtifactRef
    statistics: ArtifactRef | None = None
    schema: ArtifactRef | None = None
    evaluation: ArtifactRef | None = None
    blessing: ArtifactRef | None = None
    pushed_model: ArtifactRef | None = None
