"""The one path from card inputs to files on disk, shared by the executor and the CLI."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from mct_component import assemble, card, files, render
from mct_component.errors import SourceError
from mct_component.lineage import CardInputs

logger = logging.getLogger(__name__)

EXPLANATION_METADATA_FILE = "explanation_metadata.json"
SERVING_DIR = "Format-Serving"


def write_card(
    inputs: CardInputs,
    output_dir: str,
    card_content: Mapping[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
    formats: tuple[str, ...] = render.FORMATS,
    notes: tuple[str, ...] = (),
) -> card.ModelCard:
    """Builds, validates and renders the card, then writes every file at once.

    Nothing is written unless the card validates and every format renders.

    Args:
        inputs: what the card is built from.
        output_dir: the ModelCard artifact URI (any `fileio` filesystem).
        card_content: validated human-written content.
        templates: format -> custom template path.
        formats: output formats to write.
        notes: extra lines for the card's `missing` list.

    Returns:
        The card that was written.
    """
    model_card = assemble.build_card(inputs, card_content, notes)
    signatures, extra_files = _model_metadata(inputs.model.uri)
    if signatures:
        details = model_card.model_details
        model_card = _replace_details(model_card, details, signatures)
    card_dict = model_card.to_dict()
    card.validate_card_dict(card_dict)
    custom = {fmt: files.read_text(path) for fmt, path in (templates or {}).items()}
    outputs = render.render(card_dict, formats, custom)
    outputs.update(extra_files)
    files.write_files(output_dir, outputs)
    return model_card


def _replace_details(
    model_card: card.ModelCard, details: card.ModelDetails, info: Any
) -> card.ModelCard:
    import dataclasses

    versions = dict(details.framework_versions)
    if info.tensorflow_version:
        versions["tensorflow"] = info.tensorflow_version
    signatures = tuple(
        card.Signature(
            name=s.name,
            method_name=s.method_name,
            inputs=tuple(card.TensorInfo(t.key, t.tensor_name, t.dtype, t.shape) for t in s.inputs),
            outputs=tuple(
                card.TensorInfo(t.key, t.tensor_name, t.dtype, t.shape) for t in s.outputs
            ),
        )
        for s in info.signatures
    )
    new_details = dataclasses.replace(details, framework_versions=versions, signatures=signatures)
    return dataclasses.replace(model_card, model_details=new_details)


def _model_metadata(model_uri: str) -> tuple[Any, dict[str, str]]:
    """SavedModel facts and the explanation metadata file, when the model is a SavedModel."""
    from mct_component import savedmodel

    serving = os.path.join(model_uri, SERVING_DIR)
    path = serving if _exists(serving) else model_uri
    try:
        info = savedmodel.read_saved_model(path)
    except SourceError as e:
        logger.warning("No SavedModel metadata for %s: %s", model_uri, e)
        return None, {}
    metadata = savedmodel.explanation_metadata(path)
    return info, {EXPLANATION_METADATA_FILE: json.dumps(metadata, indent=2, sort_keys=True) + "\n"}


def _exists(path: str) -> bool:
    from tfx.dsl.io import fileio

    return fileio.exists(path)
