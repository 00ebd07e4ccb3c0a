"""The one path from card inputs to a card's files, shared by the executor, the CLI and the API."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from mct_component import card, constants, files, render
from mct_component.assembly import assemble
from mct_component.card import validation
from mct_component.errors import ParameterError, SourceError
from mct_component.readers import savedmodel
from mct_component.readers.refs import CardInputs

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
    with collector_paused():
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
    with collector_paused():
        card_dict, drawings = model_card.to_dict_with_charts()
        validation.validate_card_dict(card_dict)
        outputs = render.render(card_dict, formats, templates, drawings)
    if explanation_metadata is not None:
        text = json.dumps(explanation_metadata, indent=2, sort_keys=True) + "\n"
        outputs[constants.EXPLANATION_METADATA_FILE] = text
    return outputs


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector while a card is built or rendered.

    A card of thousands of features is hundreds of thousands of objects that all live
    until its files are written, and hold no reference cycles: the collector would scan
    them again and again as they are made (a tenth of a 2,000-feature build) and free
    nothing. Whatever cycles the build leaves are collected once it is resumed.
    """
    if not gc.isenabled():  # paused already, by the caller or another thread
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# What a card directory holds; anything else in it means it is not (only) a card.
CARD_ENTRIES = frozenset(
    {
        constants.CARD_JSON_FILE,
        constants.CARD_HTML_FILE,
        constants.CARD_MARKDOWN_FILE,
        constants.CARD_PDF_FILE,
        constants.CHART_DIR,
        constants.EXPLANATION_METADATA_FILE,
        constants.CARD_MARKER_FILE,
        constants.SIGNATURE_FILE,
    }
)
MARKER_TEXT = "A model card folder written by mct-component.\n"


def write_directory(output_dir: str, outputs: Mapping[str, str | bytes], overwrite: bool) -> None:
    """Makes `output_dir` hold exactly one card: `outputs`, switched in at once.

    The folder also gets `constants.CARD_MARKER_FILE`, which marks it as ours (see
    `registry.delete`).

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
    files.replace_directory(output_dir, {**outputs, constants.CARD_MARKER_FILE: MARKER_TEXT})


def not_a_card_folder(path: str) -> str:
    """Why `path` is not a card folder this package wrote ("" if it is one).

    Such a folder holds `constants.CARD_MARKER_FILE` and nothing but card files, and
    on a local disk neither it nor anything in it is a symbolic link.
    """
    fs = files.filesystem(path)
    local = "://" not in path
    if local and os.path.islink(path):
        return "a symbolic link, not a folder mct-component wrote"
    if not fs.isdir(path):
        return "not a folder"
    marker = os.path.join(path, constants.CARD_MARKER_FILE)
    if (local and not os.path.isfile(marker)) or os.path.islink(marker) or not fs.exists(marker):
        return f"no {constants.CARD_MARKER_FILE} marker: not written by mct-component"
    entries = {entry.rstrip("/") for entry in fs.listdir(path)}
    others = sorted(entries - CARD_ENTRIES)
    if others:
        return f"it holds {others[0]!r}, which is not a card file"
    if local:
        for folder, names, file_names in os.walk(path):
            for name in names + file_names:
                if os.path.islink(os.path.join(folder, name)):
                    return f"it holds a symbolic link ({name!r})"
    return ""


def _explanation_metadata(
    saved_model: savedmodel.SavedModelInfo | None, refinements: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Derived from the serving signature, refined by human content (whose errors raise)."""
    if saved_model is None or not saved_model.signatures:
        return None
    from mct_component.assembly import explanation

    try:
        return explanation.explanation_metadata(saved_model, refinements=refinements)
    except SourceError as e:  # e.g. no serving_default signature
        logger.warning("No explanation metadata for %s: %s", saved_model.path, e)
        return None
