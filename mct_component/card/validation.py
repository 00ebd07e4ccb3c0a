"""The package's JSON Schemas (2020-12) and validation against them, with jsonschema-rs.

`schemas/model_card.schema.json` (which references `schemas/chart.schema.json`)
describes `model_card.json` field by field, and so what templates can use;
`schemas/card_content.schema.json` describes the human-written content. Errors name
the offending field as a path such as `datasets[0].features[3].chart`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from mct_component.errors import CardContentError, CardValidationError

if TYPE_CHECKING:
    import jsonschema_rs

CARD_SCHEMA = "model_card.schema.json"
CHART_SCHEMA = "chart.schema.json"
CONTENT_SCHEMA = "card_content.schema.json"
# The schemas' `$id`s are relative; they resolve against this base, and nothing is fetched.
_BASE_URI = "json-schema:///"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Loads one of the JSON Schemas shipped in `mct_component/schemas`."""
    text = resources.files("mct_component").joinpath("schemas").joinpath(name).read_text()
    return json.loads(text)


def validate_card_dict(card: Mapping[str, Any]) -> None:
    """Checks a card's JSON form against `model_card.schema.json`.

    Raises:
        CardValidationError: naming the first offending field and the schema's rule.
    """
    error = _first_error(_validator(CARD_SCHEMA), card)
    if error is not None:
        where = json_path(error.instance_path) or "<card>"
        message = error.message
        if isinstance(error.kind, _kinds().Enum):  # its message names only two options
            message = f"{json.dumps(error.instance)} is not one of {json.dumps(error.kind.options)}"
        raise CardValidationError(f"the card does not match its schema at {where}: {message}")


def validate_card_content(content: Any) -> None:
    """Checks human-written content against `card_content.schema.json`.

    Raises:
        CardContentError: naming the offending field, what was expected and what was found.
    """
    if not isinstance(content, Mapping):
        raise CardContentError(
            f"card_content must be a mapping of sections, got {type(content).__name__}"
        )
    error = _first_error(_validator(CONTENT_SCHEMA), content)
    if error is not None:
        raise CardContentError(_describe_content_error(error))


def _first_error(
    validator: jsonschema_rs.Validator, instance: Any
) -> jsonschema_rs.ValidationError | None:
    """The first error, or for a failed `oneOf` ("null or a chart") the one deepest in it."""
    error = next(iter(validator.iter_errors(instance)), None)
    if error is None:
        return None
    # A failed `oneOf` names the whole object: descend into its branches, to the error
    # deepest in the instance, preferring a branch of the right type.
    while options := [e for branch in getattr(error.kind, "context", None) or () for e in branch]:
        error = max(options, key=lambda e: (len(e.instance_path), e.kind.name != "type"))
    return error


@functools.cache
def _validator(name: str) -> jsonschema_rs.Validator:
    import jsonschema_rs

    chart = load_schema(CHART_SCHEMA)
    return jsonschema_rs.Draft202012Validator(
        load_schema(name),
        registry=jsonschema_rs.Registry([(chart["$id"], chart)]),
        base_uri=_BASE_URI,
        offline=True,
    )


def _describe_content_error(error: jsonschema_rs.ValidationError) -> str:
    where = json_path(error.instance_path)
    field = repr(where or "<root>")
    kind, kinds = error.kind, _kinds()
    if isinstance(kind, kinds.AdditionalProperties):
        known = sorted(_schema_at(load_schema(CONTENT_SCHEMA), error.schema_path[:-1]))
        names = ", ".join(repr(f"{where}.{u}" if where else u) for u in kind.unexpected)
        return f"card_content has unknown field {names}; expected one of: {', '.join(known)}"
    if isinstance(kind, kinds.Enum):
        return f"card_content field {field} must be one of {kind.options}, got {error.instance!r}"
    if isinstance(kind, kinds.Type):
        expected = " or ".join(kind.types)
        found = type(error.instance).__name__
        return (
            f"card_content field {field} must be of type {expected}, got {found} {error.instance!r}"
        )
    if isinstance(kind, kinds.Required):
        return f"card_content field {field} is missing its required field {kind.property!r}"
    return f"card_content field {field} is invalid: {error.message}"


def _kinds() -> type[jsonschema_rs.ValidationErrorKind]:
    import jsonschema_rs

    return jsonschema_rs.ValidationErrorKind


def _schema_at(schema: Mapping[str, Any], path: Iterable[str | int]) -> Mapping[str, Any]:
    """The `properties` of the sub-schema at a schema path."""
    node: Any = schema
    for step in path:
        node = node[step]
    return node.get("properties", {})


def json_path(parts: Iterable[str | int]) -> str:
    """Formats an error's instance path as `a.b[0].c`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
