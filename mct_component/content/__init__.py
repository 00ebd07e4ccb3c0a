"""Human-written card content: loading (dict, JSON or YAML file), bounds, validation, applying.

Content comes from people and shared files, so it is bounded (file size, length,
nesting, no YAML aliases) before it is validated. Validation runs at pipeline
construction time (in the component's `__init__`), so a typo in a field name fails
before any component runs, with a message naming the field.

It may import `card` and the leaf modules only.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Mapping
from typing import Any

from mct_component import card
from mct_component.card import ContentInput, completeness, validation
from mct_component.errors import CardContentError
from mct_component.text import excerpt

# Bounds on what people write. SageMaker caps a model card's content at 100,000
# characters; the file may hold a little more (keys, indentation, comments).
MAX_FILE_BYTES = 1_000_000
MAX_CHARACTERS = 100_000
MAX_DEPTH = 8  # the content schema nests 4 deep


def load_card_content(value: ContentInput) -> dict[str, Any]:
    """Returns validated human-written content from a mapping or a JSON/YAML file path.

    Args:
        value: a mapping, a path to a UTF-8 `.json`, `.yaml` or `.yml` file of at most
            `MAX_FILE_BYTES`, or None (empty). YAML aliases and duplicate keys are refused.

    Raises:
        CardContentError: the file is missing, too large or unparsable; the content is
            nested too deeply, too long, or does not match
            `schemas/card_content.schema.json` (the message names the field).
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        content: Any = dict(value)
    elif isinstance(value, (str, os.PathLike)):
        content = _read_content_file(os.fspath(value))
    else:
        raise CardContentError(
            f"card_content must be a dict or a path to a JSON/YAML file, got {type(value).__name__}"
        )
    _check_bounds(content)
    validation.validate_card_content(content)
    return content


def _read_content_file(path: str) -> Any:
    name = excerpt(path, limit=300)
    extension = _extension(path, name)
    if os.path.isdir(path):
        raise CardContentError(f"card_content file {name} is a directory, expected a file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CardContentError(f"card_content file not found: {name}") from None
    except OSError as e:
        raise CardContentError(f"card_content file {name} cannot be read: {e.strerror}") from None
    return _parse_content(data, name, extension)


def parse_card_content(data: bytes, file_name: str) -> dict[str, Any]:
    """Validated human-written content from a file's bytes (e.g. an upload), read as
    `load_card_content` reads a file: `file_name`'s extension says JSON or YAML.

    Raises:
        CardContentError: as `load_card_content`, naming `file_name`.
    """
    name = excerpt(file_name, limit=300)
    content = _parse_content(data, name, _extension(file_name, name))
    _check_bounds(content)
    validation.validate_card_content(content)
    return content


def _extension(path: str, name: str) -> str:
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".json", ".yaml", ".yml"):
        raise CardContentError(
            f"card_content file {name} must end in .json, .yaml or .yml, got {extension!r}"
        )
    return extension


def _parse_content(data: bytes, name: str, extension: str) -> Any:
    if len(data) > MAX_FILE_BYTES:
        raise CardContentError(
            f"card_content file {name} is larger than {MAX_FILE_BYTES:,} bytes, the limit"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CardContentError(
            f"card_content file {name} is not UTF-8 text (byte {data[e.start]:#04x} at "
            f"offset {e.start}); save it as UTF-8"
        ) from None
    try:
        return _parse_json(text) if extension == ".json" else _parse_yaml(text)
    except RecursionError:
        raise CardContentError(
            f"card_content file {name} is nested more than {MAX_DEPTH} levels deep"
        ) from None
    except ParseError as e:
        raise CardContentError(f"card_content file {name} {e}") from None


class ParseError(Exception):
    """Why a content file could not be parsed, as the end of a sentence."""


def unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object from its pairs (`json.loads`' `object_pairs_hook`).

    Raises:
        ParseError: a key is given twice (JSON would silently keep the last).
    """
    found = dict(pairs)
    if len(found) < len(pairs):
        repeated = next(k for k in found if sum(key == k for key, _ in pairs) > 1)
        raise ParseError(f"has the key {excerpt(repeated)} twice in one object")
    return found


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=unique_object)
    except json.JSONDecodeError as e:
        raise ParseError(
            f"is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from None


def _parse_yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_content_yaml_loader()) or {}
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ParseError(f"is not valid YAML: {e.problem or e.context}{where}") from None
    except yaml.YAMLError as e:
        raise ParseError(f"is not valid YAML: {excerpt(str(e))}") from None


@functools.cache
def _content_yaml_loader() -> type:
    """A safe YAML loader that refuses aliases, duplicate keys and keys that are not text,
    and reads dates as text."""
    import yaml

    class ContentLoader(yaml.SafeLoader):
        # A date or time (`2024-01-01`) is kept as the text written, not a `date`.
        yaml_constructors = {
            **yaml.SafeLoader.yaml_constructors,
            "tag:yaml.org,2002:timestamp": yaml.SafeLoader.construct_yaml_str,
        }

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise ParseError(
                    f"uses a YAML alias (line {mark.line + 1}): aliases are not allowed, "
                    "write the value out"
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str):
                    raise ParseError(
                        f"has the key {excerpt(key)} (line {key_node.start_mark.line + 1}): "
                        "keys must be text"
                    )
                if key in seen:
                    raise ParseError(
                        f"has the key {excerpt(key)} twice (line {key_node.start_mark.line + 1})"
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return ContentLoader


def _check_bounds(content: Any) -> None:
    """Refuses content nested too deeply, too long, with non-text keys or invalid text."""
    total = 0
    stack: list[tuple[Any, str, int]] = [(content, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        field = repr(where or "<root>")
        if depth > MAX_DEPTH:
            raise CardContentError(
                f"card_content is nested more than {MAX_DEPTH} levels deep at {field}"
            )
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise CardContentError(
                        f"card_content field {field} has the key {excerpt(key)}: keys must be text"
                    )
                total += len(key)
                stack.append((item, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            total += len(value)
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise CardContentError(
                    f"card_content field {field} holds a lone surrogate "
                    f"(U+{ord(value[_surrogate(value)]):04X}), which is not text"
                ) from None
        if total > MAX_CHARACTERS:
            raise CardContentError(
                f"card_content is longer than {MAX_CHARACTERS:,} characters, the limit"
            )


def _surrogate(text: str) -> int:
    return next(i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF)


HUMAN_DETAILS = ("overview", "owners", "license", "references", "citation")
# Sections added in card schema 1.3; content holds them only where something is written.
OPTIONAL_SECTIONS = (
    "business_details",
    "objective_function",
    "training_observations",
    "evaluation_observations",
    "custom_details",
)


def human_content(model_card: card.Card) -> dict[str, Any]:
    """The human-written sections of a card, as content (`card_content.schema.json`).

    The model's name and version are left out: they belong to each model.
    """
    data = model_card.to_dict()
    details = {k: data["model_details"][k] for k in HUMAN_DETAILS if data["model_details"][k]}
    considerations = dict(data["considerations"])
    for key in OPTIONAL_SECTIONS:
        value = considerations.pop(key)
        if isinstance(value, Mapping) and key != "custom_details":
            value = {k: v for k, v in value.items() if v}
        if value:
            considerations[key] = value
    return {"model_details": details, **considerations}


def inherit(given: Mapping[str, Any], inherited: Mapping[str, Any]) -> dict[str, Any]:
    """Content that takes `inherited`'s sections (and model details) where `given` has none."""
    merged = {**inherited, **given}
    details = {**inherited.get("model_details", {}), **given.get("model_details", {})}
    if details:
        merged["model_details"] = details
    return merged


def apply_card_content(model_card: card.Card, content: Mapping[str, Any]) -> card.Card:
    """The card with validated human-written content applied; sections not given are kept.

    `model_details`, `intended_use`, `risk`, `business_details` and
    `objective_function` change only the fields they give; the other sections (lists,
    texts, `custom_details`) replace the card's. The card's completeness is assessed anew.
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
    for key in ("business_details", "objective_function"):
        if key in content:
            section = getattr(considerations, key)
            considerations = considerations.replace(**{key: section.replace(**content[key])})
    for key in ("training_observations", "evaluation_observations"):
        if key in content:
            considerations = considerations.replace(**{key: content[key]})
    if "custom_details" in content:
        considerations = considerations.replace(custom_details=dict(content["custom_details"]))
    details = dict(content.get("model_details", {}))
    if "owners" in details:
        details["owners"] = tuple(card.Owner(**o) for o in details["owners"])
    if "references" in details:
        details["references"] = tuple(details["references"])
    applied = dataclasses.replace(
        model_card,
        model_details=model_card.model_details.replace(**details),
        considerations=considerations,
        status=content.get("status", model_card.status),
    )
    return dataclasses.replace(applied, completeness=completeness.assess(applied))


def _with_content(model_card: card.Card, value: ContentInput) -> card.Card:
    return apply_card_content(model_card, load_card_content(value))


card.register_service("apply_content", _with_content)
