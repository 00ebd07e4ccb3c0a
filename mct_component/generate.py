"""The one path from card inputs to files on disk, shared by the executor and the CLI."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mct_component import assemble, card, files, render
from mct_component.errors import SourceError
from mct_component.lineage import CardInputs

if TYPE_CHECKING:
    from mct_component.savedmodel import SavedModelInfo

logger = logging.getLogger(__name__)

EXPLANATION_METADATA_FILE = "explanation_metadata.json"


def write_card(
    inputs: CardInputs,
    output_dir: str,
    card_content: Mapping[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
    formats: tuple[str, ...] = render.FORMATS,
    notes: tuple[str, ...] = (),
    label_vocabulary: str = "",
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
        label_vocabulary: the Transform vocabulary that names the label's classes.

    Returns:
        The card that was written.
    """
    saved_model = assemble.read_saved_model(inputs.model)
    model_card = assemble.build_card(inputs, card_content, notes, saved_model, label_vocabulary)
    card_dict = model_card.to_dict()
    card.validate_card_dict(card_dict)
    custom = {fmt: files.read_text(path) for fmt, path in (templates or {}).items()}
    outputs = render.render(card_dict, formats, custom)
    if saved_model is not None and saved_model.signatures:
        outputs.update(_explanation_metadata_file(saved_model))
    files.write_files(output_dir, outputs)
    return model_card


def _explanation_metadata_file(saved_model: SavedModelInfo) -> dict[str, str]:
    from mct_component import savedmodel

    try:
        metadata = savedmodel.explanation_metadata(saved_model)
    except SourceError as e:  # e.g. no serving_default signature
        logger.warning("No explanation metadata for %s: %s", saved_model.path, e)
        return {}
    return {EXPLANATION_METADATA_FILE: json.dumps(metadata, indent=2, sort_keys=True) + "\n"}
