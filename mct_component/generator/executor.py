"""The `ModelCardGenerator` executor: decode inputs, build and render the card, write it."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor

from mct_component import card, constants, files
from mct_component import content as content_module
from mct_component.assembly import generate
from mct_component.errors import ModelCardError, SourceError
from mct_component.generator import parameters
from mct_component.governance import gates, lifecycle, policy, signing
from mct_component.mlmd import summary
from mct_component.readers.file_inputs import BLESSED_FILE, NOT_BLESSED_FILE
from mct_component.readers.refs import ArtifactRef, CardInputs

OPTIONAL_INPUTS = (
    constants.STATISTICS_KEY,
    constants.SCHEMA_KEY,
    constants.EVALUATION_KEY,
    constants.BLESSING_KEY,
    constants.PUSHED_MODEL_KEY,
    constants.TRANSFORM_GRAPH_KEY,
    constants.ANOMALIES_KEY,
)


class Executor(base_executor.BaseExecutor):
    """Builds the card from its inputs (and the driver's lineage) into the output artifact."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Writes the model card of the `model` input into the `model_card` output.

        Args:
            input_dict: `model` (exactly one `Model`) and, optionally, one artifact each
                of `statistics`, `schema`, `evaluation`, `blessing`, `pushed_model`,
                `transform_graph` and `anomalies`; given ones win over what lineage found.
            output_dict: `model_card`: the one `ModelCard` artifact to write into;
                `push_blessing`: the push gate's `ModelBlessing`.
            exec_properties: the parameters `parameters.encode` wrote, plus the driver's
                `lineage` (JSON `CardInputs`) or `lineage_error`.

        Raises:
            ModelCardError: an input cannot be read, a parameter or template is bad, or
                the card falls short of a completeness gate set to fail; nothing is
                written then.
        """
        params = parameters.decode(exec_properties)
        model = _single(input_dict, constants.MODEL_KEY)
        explicit = {name: _optional(input_dict, name) for name in OPTIONAL_INPUTS}
        discovered = params.lineage or CardInputs(model=model)
        inputs = params.pipeline_facts.fill(discovered.with_explicit(model=model, **explicit))
        notes = (f"Lineage not resolved: {params.lineage_error}",) if params.lineage_error else ()
        if params.inheritance_refused:
            notes = (*notes, f"Content not inherited: {params.inheritance_refused}")
        review_policy = policy.load_source(params.review_policy)  # a bad one fails first
        (artifact,) = output_dict[constants.MODEL_CARD_KEY]
        content = dict(params.card_content)
        inherited = params.inherited_from if params.inherit_content else None
        if inherited is not None:
            try:
                approved = card.Card.load(inherited.uri)
            except ModelCardError as e:
                notes = (*notes, f"Content not inherited from the approved card: {e}")
                inherited = None
            else:
                human = content_module.human_content(approved)
                content = content_module.inherit(content, human)
        model_card, explanation = generate.build(inputs, content, notes, params.label_vocabulary)
        # Not `Card.replace`: `card_files` checks the schema once, before anything is written.
        model_card = dataclasses.replace(model_card, inherited_from=inherited)
        model_card = gates.apply_completeness_gate(model_card, params.completeness_gate)
        outputs = generate.card_files(
            model_card, params.output_formats, params.templates, explanation
        )
        signer = ""
        with _signing_key(params.signing) as key:  # a bad key fails before any write
            generate.write_directory(artifact.uri, outputs, overwrite=True)
            if key is not None:
                signer = key.identity
                digest = signing.sign(artifact.uri, key)
                artifact.set_string_custom_property(constants.SIGNER_PROPERTY, key.identity)
                artifact.set_string_custom_property(constants.SIGNATURE_SHA256_PROPERTY, digest)
        record_summary(artifact, model_card, params.output_formats, model.id)
        card_json = outputs.get(constants.CARD_JSON_FILE)  # absent unless "json" is a format
        if isinstance(card_json, str):
            fingerprint = lifecycle.fingerprint(card_json.encode("utf-8"))
            artifact.set_string_custom_property(constants.SHA256_PROPERTY, fingerprint)
        for blessing in output_dict.get(constants.PUSH_BLESSING_KEY, []):
            verdict = gates.push_verdict(
                model_card,
                params.completeness_gate,
                params.max_risk_rating,
                review_policy,
                signer,
            )
            write_push_blessing(blessing, model, *verdict)


@contextlib.contextmanager
def _signing_key(sources: parameters.SigningSources) -> Iterator[signing.SigningKey | None]:
    if not sources.key:
        yield None
        return
    with signing.key_from_sources(sources.key, sources.certificate, sources.chain) as key:
        yield key


def _single(input_dict: dict[str, list[types.Artifact]], key: str) -> ArtifactRef:
    artifacts = input_dict.get(key) or []
    if len(artifacts) != 1:
        raise SourceError(f"input {key!r} must hold exactly one artifact, got {len(artifacts)}")
    return ArtifactRef.from_tfx(artifacts[0])


def _optional(input_dict: dict[str, list[types.Artifact]], key: str) -> ArtifactRef | None:
    return _single(input_dict, key) if input_dict.get(key) else None


def write_push_blessing(
    blessing: types.Artifact, model: ArtifactRef, blessed: bool, reasons: tuple[str, ...]
) -> None:
    """Writes the push gate's verdict as the Evaluator writes a blessing (file, properties)."""
    name = BLESSED_FILE if blessed else NOT_BLESSED_FILE
    files.write_files(blessing.uri, {name: ""})
    blessing.set_int_custom_property(constants.BLESSED_PROPERTY, int(blessed))
    blessing.set_string_custom_property(constants.CURRENT_MODEL_PROPERTY, model.uri)
    if model.id is not None:
        blessing.set_int_custom_property(constants.CURRENT_MODEL_ID_PROPERTY, model.id)
    if reasons:
        blessing.set_string_custom_property(constants.PUSH_GATE_REASONS_PROPERTY, " ".join(reasons))


def record_summary(
    artifact: types.Artifact,
    model_card: card.Card,
    formats: tuple[str, ...],
    model_id: int | None = None,
) -> None:
    """Copies the card's headline facts into the artifact's MLMD custom properties."""
    details = model_card.model_details
    artifact.set_string_custom_property(constants.MODEL_NAME_PROPERTY, details.name)
    artifact.set_string_custom_property(constants.MODEL_VERSION_PROPERTY, details.version)
    artifact.set_string_custom_property(constants.MODEL_URI_PROPERTY, details.uri)
    if model_id is not None:
        artifact.set_int_custom_property(constants.MODEL_ID_PROPERTY, model_id)
    artifact.set_string_custom_property(constants.STATUS_PROPERTY, model_card.status)
    artifact.set_string_custom_property(constants.FORMATS_PROPERTY, ",".join(formats))
    blessed = model_card.quantitative_analysis.blessed
    if blessed is not None:
        artifact.set_int_custom_property(constants.BLESSED_PROPERTY, int(blessed))
    if model_card.completeness is not None:
        score = repr(model_card.completeness.score)
        artifact.set_string_custom_property(constants.COMPLETENESS_PROPERTY, score)
    for name, value in summary.summary_properties(model_card).items():
        artifact.set_string_custom_property(name, value)
    # Metrics are stored as exact decimal strings: MLMD's SQLite backend keeps only six
    # significant digits of double properties.
    for metric in model_card.quantitative_analysis.overall:
        if metric.value is not None:
            artifact.set_string_custom_property(
                f"{constants.METRIC_PROPERTY_PREFIX}{metric.label}", repr(metric.value)
            )
