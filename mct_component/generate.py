"""The one path from card inputs to a card's files, shared by the executor, the CLI and the API."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from mct_component import assemble, card, constants, files, render, savedmodel, validation
from mct_component.errors import ParameterError, SourceError
from mct_component.refs import CardInputs

logger = logging.getLogger(__name__)


def build(
    inputs: CardInputs,
    card_content: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    label_vocabulary: str = "",
) -> tuple[card.Card, dict[str, Any] | None]:
    """Builds the card and the model's explanation metadata (None without a SavedModel).

    The SavedModel is parsed once, for both.
    """
    saved_model = savedmodel.read_model_artifact(inputs.model.uri)
    model_card = assemble.build_card(inputs, card_content, notes, saved_model, label_vocabulary)
    refinements = (card_content or {}).get("explanation")
    return model_card, _explanation_metadata(saved_model, refinements)


def card_files(
    model_card: card.Card,
    formats: tuple[str, ...] = render.DEFAULT_FORMATS,
    templates: Mapping[str, str] | None = None,
    explanation_metadata: Mapping[str, Any] | None = None,
) -> dict[str, str | bytes]:
    """Every file of a card directory, rendered in memory after the card is validated.

    Returns:
        File name -> content: bytes for the PDF, text for every other file.

    Args:
        model_card: the card.
        formats: output formats ("json", "html", "md", "pdf").
        templates: format -> custom template path (read through `fileio`).
        explanation_metadata: written as `explanation_metadata.json` when given.

    Raises:
        CardValidationError: the card does not match the card schema.
        TemplateError: a template does not compile or render.
    """
    card_dict = model_card.to_dict()
    validation.validate_card_dict(card_dict)
    outputs = render.render(card_dict, formats, templates)
    if explanation_metadata is not None:
        text = json.dumps(explanation_metadata, indent=2, sort_keys=True) + "\n"
        outputs[constants.EXPLANATION_METADATA_FILE] = text
    return outputs


# What a card directory holds; anything else in it means it is not (only) a card.
CARD_ENTRIES = frozenset(
    {
        constants.CARD_JSON_FILE,
        constants.CARD_HTML_FILE,
        constants.CARD_MARKDOWN_FILE,
        constants.CARD_PDF_FILE,
        constants.CHART_DIR,
        constants.EXPLANATION_METADATA_FILE,
    }
)


def write_directory(output_dir: str, outputs: Mapping[str, str | bytes], overwrite: bool) -> None:
    """Makes `output_dir` hold exactly one card: `outputs`, switched in at once.

    Args:
        output_dir: the card's directory (any `fileio` path).
        outputs: `card_files`.
        overwrite: replace `output_dir` even if it holds files that are not a card's.

    Raises:
        ParameterError: `output_dir` holds other files and `overwrite` is False.
        OutputError: the files could not be written; nothing changed then.
    """
    fs = files.filesystem(output_dir)
    if not overwrite and fs.isdir(output_dir):
        others = sorted({entry.rstrip("/") for entry in fs.listdir(output_dir)} - CARD_ENTRIES)
        if others:
            shown = ", ".join(repr(name) for name in others[:3])
            raise ParameterError(
                f"output directory {output_dir!r} holds files that are not a model card "
                f"({shown}{', ...' if len(others) > 3 else ''}); choose an empty or card "
                "directory, or overwrite it (overwrite=True, --overwrite) to replace it whole"
            )
    files.replace_directory(output_dir, outputs)


def _explanation_metadata(
    saved_model: savedmodel.SavedModelInfo | None, refinements: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Derived from the serving signature, refined by human content (whose errors raise)."""
    if saved_model is None or not saved_model.signatures:
        return None
    from mct_component import explanation

    try:
        return explanation.explanation_metadata(saved_model, refinements=refinements)
    except SourceError as e:  # e.g. no serving_default signature
        logger.warning("No explanation metadata for %s: %s", saved_model.path, e)
        return None
