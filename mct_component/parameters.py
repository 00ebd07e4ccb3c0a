"""The component's execution parameters: encoded once at construction, decoded once at run.

TFX execution properties must be primitives, so dicts and lists travel as JSON strings.
`encode` validates everything it can at pipeline construction time; `decode` validates
again in the executor (the IR may have been edited or built by another tool).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from mct_component import content, render
from mct_component.errors import CardContentError
from mct_component.lineage import CardInputs

CARD_CONTENT = "card_content"
TEMPLATES = "templates"
OUTPUT_FORMATS = "output_formats"
LABEL_VOCABULARY = "label_vocabulary"
# Set by the driver, not by users: the resolved lineage (JSON) or why it failed.
LINEAGE = "lineage"
LINEAGE_ERROR = "lineage_error"


@dataclasses.dataclass(frozen=True)
class Parameters:
    """Decoded, validated component parameters."""

    card_content: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    templates: Mapping[str, str] = dataclasses.field(default_factory=dict)
    output_formats: tuple[str, ...] = render.FORMATS
    label_vocabulary: str = ""
    lineage: CardInputs | None = None
    lineage_error: str = ""


def encode(
    card_content: content.ContentInput = None,
    templates: Mapping[str, str] | None = None,
    output_formats: Sequence[str] = render.FORMATS,
    label_vocabulary: str | None = None,
) -> dict[str, str]:
    """Validates construction-time arguments and returns them as execution properties.

    Raises:
        CardContentError: naming the parameter (and field) that is wrong.
    """
    if isinstance(output_formats, str):
        raise CardContentError(
            f"output_formats must be a list such as ['html', 'md'], got the string {output_formats!r}"
        )
    check_label_vocabulary(label_vocabulary or "")
    templates = dict(templates or {})
    _check_templates(templates)
    for fmt, path in templates.items():
        if "://" not in path and not os.path.isfile(path):
            raise CardContentError(f"templates[{fmt!r}]: template file not found: {path!r}")
    return {
        CARD_CONTENT: json.dumps(content.load_card_content(card_content), sort_keys=True),
        TEMPLATES: json.dumps(templates, sort_keys=True),
        OUTPUT_FORMATS: json.dumps(list(render.check_formats(output_formats))),
        LABEL_VOCABULARY: label_vocabulary or "",
    }


def decode(exec_properties: Mapping[str, Any]) -> Parameters:
    """Decodes and validates execution properties written by `encode`.

    Raises:
        CardContentError: naming the property and what was received.
    """
    card_content = _json_property(exec_properties, CARD_CONTENT, {})
    content.validate_card_content(card_content)
    templates = _json_property(exec_properties, TEMPLATES, {})
    _check_templates(templates)
    formats = _json_property(exec_properties, OUTPUT_FORMATS, list(render.FORMATS))
    if not isinstance(formats, list):
        raise CardContentError(f"{OUTPUT_FORMATS} must be a JSON list, got {formats!r}")
    label_vocabulary = exec_properties.get(LABEL_VOCABULARY) or ""
    check_label_vocabulary(label_vocabulary)
    raw_lineage = exec_properties.get(LINEAGE)
    try:
        resolved = CardInputs.from_json(raw_lineage) if raw_lineage else None
    except (TypeError, ValueError) as e:
        raise CardContentError(
            f"execution property {LINEAGE!r} is not valid lineage: {e}"
        ) from None
    return Parameters(
        card_content=card_content,
        templates=templates,
        output_formats=render.check_formats(formats),
        label_vocabulary=label_vocabulary,
        lineage=resolved,
        lineage_error=str(exec_properties.get(LINEAGE_ERROR) or ""),
    )


def check_label_vocabulary(name: Any) -> None:
    """Raises CardContentError unless `name` can be a Transform vocabulary name."""
    if not isinstance(name, str) or "/" in name or "\\" in name or name in (".", ".."):
        raise CardContentError(
            "label_vocabulary must be the name of a Transform vocabulary (the "
            f"`vocab_filename` given to tft.compute_and_apply_vocabulary), e.g. 'species', got {name!r}"
        )


def _check_templates(templates: Any) -> None:
    if not isinstance(templates, Mapping) or not all(
        isinstance(v, str) and v for v in templates.values()
    ):
        raise CardContentError(
            f"templates must map a format to a template path, e.g. {{'html': 'card.html.jinja'}}, "
            f"got {templates!r}"
        )
    render.check_template_formats(templates)


def _json_property(exec_properties: Mapping[str, Any], key: str, default: Any) -> Any:
    raw = exec_properties.get(key)
    if raw in (None, ""):
        return default
    try:
        return json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        raise CardContentError(f"execution property {key!r} must be JSON, got {raw!r}") from None
