"""The `ModelCardGenerator` executor: decode inputs, build and render the card, write it."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor

from mct_component import card, generate, parameters
from mct_component.errors import SourceError
from mct_component.lineage import ArtifactRef, CardInputs

OPTIONAL_INPUTS = (
    "statistics",
    "schema",
    "evaluation",
    "blessing",
    "pushed_model",
    "transform_graph",
)


class Executor(base_executor.BaseExecutor):
    """Builds the card from its inputs (and the driver's lineage) into the output artifact."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        params = parameters.decode(exec_properties)
        model = _single(input_dict, "model")
        explicit = {name: _single(input_dict, name, optional=True) for name in OPTIONAL_INPUTS}
        discovered = params.lineage or CardInputs(model=model)
        inputs = discovered.with_explicit(model=model, **explicit)
        notes = (f"Lineage not resolved: {params.lineage_error}",) if params.lineage_error else ()
        (artifact,) = output_dict["model_card"]
        model_card = generate.write_card(
            inputs,
            artifact.uri,
            card_content=params.card_content,
            templates=params.templates,
            formats=params.output_formats,
            notes=notes,
            label_vocabulary=params.label_vocabulary,
        )
        record_summary(artifact, model_card, params.output_formats)


def _single(
    input_dict: dict[str, list[types.Artifact]], key: str, optional: bool = False
) -> ArtifactRef | None:
    artifacts = input_dict.get(key) or []
    if not artifacts and optional:
        return None
    if len(artifacts) != 1:
        raise SourceError(f"input {key!r} must hold exactly one artifact, got {len(artifacts)}")
    return ArtifactRef.from_tfx(artifacts[0])


def record_summary(
    artifact: types.Artifact, model_card: card.ModelCard, formats: tuple[str, ...]
) -> None:
    """Copies the card's headline facts into the artifact's MLMD custom properties."""
    details = model_card.model_details
    artifact.set_string_custom_property("model_name", details.name)
    artifact.set_string_custom_property("model_version", details.version)
    artifact.set_string_custom_property("model_uri", details.uri)
    artifact.set_string_custom_property("status", model_card.status)
    artifact.set_string_custom_property("formats", ",".join(formats))
    blessed = model_card.quantitative_analysis.blessed
    if blessed is not None:
        artifact.set_int_custom_property("blessed", int(blessed))
    # Metrics are stored as exact decimal strings: MLMD's SQLite backend keeps only six
    # significant digits of double properties.
    for metric in model_card.quantitative_analysis.overall:
        if metric.value is not None:
            artifact.set_string_custom_property(f"metric:{metric.label}", repr(metric.value))
