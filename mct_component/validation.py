"""The card's JSON Schema: loading the shipped schemas and validating a card's JSON form.

`schemas/model_card.schema.json` (2020-12, referencing `schemas/chart.schema.json`)
describes `model_card.json` field by field; it is also what templates can use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from mct_component.errors import CardValidationError

CARD_SCHEMA = "model_card.schema.json"
CHART_SCHEMA = "chart.schema.json"
CONTENT_SCHEMA = "card_content.schema.json"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Loads one of the JSON Schemas shipped in `mct_component/schemas`."""
    text = resources.files("mct_component").joinpath("schemas", name).read_text()
    return json.loads(text)


def validate_card_dict(card: dict[str, Any]) -> None:
    """Checks a card's JSON form against `model_card.schema.json`.

    A compiled validator checks the card; only when it finds a fault does `jsonschema`,
    the reference, validate it again, to name the most relevant error.

    Raises:
        CardValidationError: naming the first offending field and the schema's rule.
    """
    import fastjsonschema

    try:
        _compiled_card_check()(card)
    except fastjsonschema.JsonSchemaException:
        import jsonschema

        error = jsonschema.exceptions.best_match(_card_validator().iter_errors(card))
        if error is not None:
            where = json_path(error.absolute_path) or "<card>"
            raise CardValidationError(
                f"generated card is invalid at {where}: {error.message}"
            ) from None


@functools.cache
def _card_validator() -> Any:
    import jsonschema

    chart = load_schema(CHART_SCHEMA)
    card_schema = load_schema(CARD_SCHEMA)
    # Validating through `$ref`s costs a registry lookup per reference, twice the time of
    # the checks themselves on a 2,000-feature card: validate against an inlined copy.
    flat = _inline_refs(card_schema, card_schema, {chart["$id"]: chart})
    return jsonschema.Draft202012Validator(flat)


@functools.cache
def _compiled_card_check() -> Any:
    """`model_card.schema.json` compiled to Python by fastjsonschema (about 0.1 s, once).

    It validates a 2,000-feature card six times faster than `jsonschema`.
    """
    import fastjsonschema

    chart = load_schema(CHART_SCHEMA)
    card_schema = load_schema(CARD_SCHEMA)
    return fastjsonschema.compile(_as_draft7(card_schema, {chart["$id"]: ("chart__", chart)}))


# The keywords the draft-07 translation carries over (see `_as_draft7`). `format` is
# left out on purpose: fastjsonschema checks formats, `jsonschema` does not by default.
_DRAFT7_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "default",
        "type", "enum", "const", "properties", "additionalProperties", "required",
        "patternProperties", "minProperties", "maxProperties", "items", "prefixItems",
        "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    }
)  # fmt: skip


def _as_draft7(
    schema: Mapping[str, Any], others: Mapping[str, tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """A draft-07 copy of a 2020-12 schema, for fastjsonschema (which stops at draft 7).

    `$defs` become `definitions`; `prefixItems` (and `items` after it) become `items`
    (and `additionalItems`). `others` maps the `$id` of each referenced schema document
    to a prefix for its definitions and the document itself; references to it point
    at a copy under `definitions`.

    Raises:
        ValueError: the schema uses a keyword outside `_DRAFT7_KEYWORDS`.
    """

    def convert(node: Any, prefix: str) -> Any:
        if isinstance(node, list):
            return [convert(item, prefix) for item in node]
        if not isinstance(node, dict):
            return node
        unknown = set(node) - _DRAFT7_KEYWORDS
        if unknown:
            raise ValueError(f"schema keywords not translated to draft 7: {sorted(unknown)}")
        out = {}
        for key, value in node.items():
            if key in ("$schema", "$id", "$defs"):  # definitions are gathered below
                continue
            if key == "$ref":
                local = value.startswith("#/$defs/")
                target = prefix + value.removeprefix("#/$defs/") if local else others[value][0]
                out[key] = f"#/definitions/{target}"
            elif key in ("properties", "patternProperties"):
                out[key] = {name: convert(sub, prefix) for name, sub in value.items()}
            elif key in ("const", "enum", "default", "required"):  # values, not schemas
                out[key] = value
            else:
                out[key] = convert(value, prefix)
        if "prefixItems" in node:
            out["items"] = out.pop("prefixItems")
            if "items" in node:
                out["additionalItems"] = convert(node["items"], prefix)
        return out

    definitions = {name: convert(sub, "") for name, sub in schema.get("$defs", {}).items()}
    for prefix, document in others.values():
        definitions[prefix] = convert(document, prefix)
        for name, sub in document.get("$defs", {}).items():
            definitions[prefix + name] = convert(sub, prefix)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **convert(schema, ""),
        "definitions": definitions,
    }


def _inline_refs(node: Any, document: Mapping[str, Any], documents: Mapping[str, Any]) -> Any:
    """A copy of a (non-recursive) schema with every `$ref` replaced by its target.

    Handles `#/...` pointers within `document` and references to whole `documents`.
    """
    if isinstance(node, list):
        return [_inline_refs(item, document, documents) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {
        key: _inline_refs(value, document, documents)
        for key, value in node.items()
        if key not in ("$ref", "$defs", "$id")
    }
    ref = node.get("$ref")
    if ref is None:
        return rest
    if ref.startswith("#/"):
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
        return {**_inline_refs(target, document, documents), **rest}
    target_document = documents[ref]
    return {**_inline_refs(target_document, target_document, documents), **rest}


def json_path(parts: Any) -> str:
    """Formats a jsonschema error path as `a.b[0].c`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
