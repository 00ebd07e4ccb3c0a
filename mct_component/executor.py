"""The `ModelCardGenerator` executor: decode inputs, build and render the card, write it."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor

from mct_component import assemble, card, files, parameters, render
from mct_component.errors import SourceError
from mct_component.lineage import ArtifactRef, CardInputs

OPTIONAL_INPUTS = ("statistics", "schema", "evaluation", "blessing", "pushed_model")


class Executor(base_executor.BaseExecutor):
    """Builds the card from its input artifacts and writes it into the output artifact."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        params = parameters.decode(exec_properties)
        inputs = CardInputs(
            model=_single(input_dict, "model"),
            **{name: _single(input_dict, name, optional=True) for name in OPTIONAL_INPUTS},
        )
        model_card = assemble.build_card(inputs, params.card_content)
        card_dict = model_card.to_dict()
        card.validate_card_dict(card_dict)
        custom_templates = {fmt: files.read_text(path) for fmt, path in params.templates.items()}
        outputs = render.render(card_dict, params.output_formats, custom_templates)
        (artifact,) = output_dict["model_card"]
        files.write_files(artifact.uri, outputs)
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
