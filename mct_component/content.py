"""Human-written card content: loading (dict, JSON or YAML file), validation, parsing.

Validation runs at pipeline construction time (in the component's `__init__`), so a
typo in a field name fails before any component runs, with a message naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any, Union

from mct_component import card, validation
from mct_component.errors import CardContentError

ContentInput = Union[Mapping[str, Any], str, "os.PathLike[str]", None]


def load_card_content(value: ContentInput) -> dict[str, Any]:
    """Returns validated human-written content from a mapping or a JSON/YAML file path.

    Args:
        value: a mapping, a path to a `.json`, `.yaml` or `.yml` file, or None (empty).

    Raises:
        CardContentError: the file is missing or unparsable, or the content does not
            match `schemas/card_content.schema.json` (the message names the field).
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        content = dict(value)
    elif isinstance(value, (str, os.PathLike)):
        content = _read_content_file(os.fspath(value))
    else:
        raise CardContentError(
            f"card_content must be a dict or a path to a JSON/YAML file, got {type(value).__name__}"
        )
    validation.validate_card_content(content)
    return content


def _read_content_file(path: str) -> Any:
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".json", ".yaml", ".yml"):
        raise CardContentError(
            f"card_content file {path!r} must end in .json, .yaml or .yml, got {extension!r}"
        )
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise CardContentError(f"card_content file not found: {path!r}") from None
    if extension == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise CardContentError(f"card_content file {path!r} is not valid JSON: {e}") from None
    import yaml

    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise CardContentError(f"card_content file {path!r} is not valid YAML: {e}") from None


def apply_card_content(model_card: card.Card, content: Mapping[str, Any]) -> card.Card:
    """The card with validated human-written content applied; sections not given are kept.

    `model_details`, `intended_use` and `risk` change only the fields they give; the
    other sections (lists) replace the card's.
    """
    considerations = model_card.considerations
    if "intended_use" in content:
        use = {k: tuple(v) for k, v in content["intended_use"].items()}
        considerations = considerations.replace(
            intended_use=considerations.intended_use.replace(**use)
        )
    for key in ("limitations", "tradeoffs"):
        if key in content:
            considerations = considerations.replace(**{key: tuple(content[key])})
    if "ethical_considerations" in content:
        considerations = considerations.replace(
            ethical_considerations=tuple(
                card.EthicalConsideration(**e) for e in content["ethical_considerations"]
            )
        )
    if "risk" in content:
        considerations = considerations.replace(risk=considerations.risk.replace(**content["risk"]))
    details = dict(content.get("model_details", {}))
    if "owners" in details:
        details["owners"] = tuple(card.Owner(**o) for o in details["owners"])
    if "references" in details:
        details["references"] = tuple(details["references"])
    return dataclasses.replace(
        model_card,
        model_details=model_card.model_details.replace(**details),
        considerations=considerations,
        status=content.get("status", model_card.status),
    )
