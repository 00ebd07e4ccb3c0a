"""Cards in other ecosystems' formats, and human content brought in from them.

One module per ecosystem: `huggingface` (a Hub `README.md`), `sagemaker` (SageMaker
model card content JSON), `mct` (Model Card Toolkit v0.0.2 JSON). Each export returns
its text and notes on what the target format could not hold or what was cut. It may
import `render`, `content`, `card` and the leaf modules.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from mct_component import card
from mct_component import content as content_module
from mct_component.errors import CardContentError, CardValidationError, ParameterError
from mct_component.render.formatting import visible_strings
from mct_component.text import excerpt

__all__ = [
    "FILE_NAMES",
    "FORMATS",
    "IMPORT_FORMATS",
    "Export",
    "export_card",
    "import_content",
    "visible_strings",
]

FORMATS = ("hf", "sagemaker", "mct")
IMPORT_FORMATS = ("mct", "sagemaker")
FILE_NAMES = {
    "hf": "README.md",
    "sagemaker": "sagemaker_model_card.json",
    "mct": "mct_model_card.json",
}
MAX_IMPORT_BYTES = 4_000_000


@dataclasses.dataclass(frozen=True)
class Export:
    """A card in another format: the file's name and text, and what did not carry over."""

    format: str
    file_name: str
    text: str
    notes: tuple[str, ...] = ()


def export_card(model_card: card.Card, fmt: str) -> Export:
    """The card in `fmt` ("hf", "sagemaker" or "mct").

    Raises:
        ParameterError: an unknown format.
    """
    if fmt == "hf":
        from mct_component.exports import huggingface

        text, notes = huggingface.export(model_card)
    elif fmt in ("sagemaker", "mct"):
        from mct_component.exports import mct, sagemaker

        module = sagemaker if fmt == "sagemaker" else mct
        document, notes = module.export(model_card)
        document = visible_strings(document)
        # SageMaker's cap counts the content's characters: its JSON is compact, so the file
        # itself fits (`Content=open(path).read()`); `python -m json.tool` pretty-prints it.
        indent = None if fmt == "sagemaker" else 2
        separators = (",", ":") if indent is None else None
        text = json.dumps(
            document,
            indent=indent,
            separators=separators,
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
        )
    else:
        raise ParameterError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CardValidationError(
            f"the card holds a lone surrogate (U+{ord(e.object[e.start]):04X}), which no "
            "UTF-8 file can hold: fix the text it came from"
        ) from None
    return Export(fmt, FILE_NAMES[fmt], text, notes)


def import_content(
    fmt: str, document: Mapping[str, Any] | str | bytes, name: str = ""
) -> dict[str, Any]:
    """Human-written card content from an MCT or SageMaker model card document.

    Args:
        fmt: "mct" or "sagemaker".
        document: the parsed JSON, or its text.
        name: how errors name the document (e.g. its path).

    Returns:
        Content that `card_content`, `Card.with_content` and `mct-card edit` accept,
        already validated.

    Raises:
        ParameterError: an unknown format.
        CardContentError: the document is not JSON, not an object, a field has the
            wrong type, or the result does not fit the card content schema.
    """

    label = f"{fmt} file {excerpt(name, limit=300)}" if name else f"{fmt} document"
    if fmt not in IMPORT_FORMATS:
        raise ParameterError(
            f"import format must be one of {', '.join(IMPORT_FORMATS)}, got {fmt!r}"
        )
    if isinstance(document, (str, bytes)):
        if len(document) > MAX_IMPORT_BYTES:
            raise CardContentError(f"{label} is larger than {MAX_IMPORT_BYTES:,} bytes, the limit")
        try:
            document = json.loads(document, object_pairs_hook=content_module.unique_object)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CardContentError(f"{label} is not JSON: {e}") from None
        except content_module.ParseError as e:
            raise CardContentError(f"{label} {e}") from None
        except RecursionError:
            raise CardContentError(f"{label} is nested too deeply") from None
    if not isinstance(document, Mapping):
        raise CardContentError(f"{label} must hold a JSON object, got {type(document).__name__}")
    if fmt == "mct":
        from mct_component.exports import mct

        content = mct.import_content(document, label)
    else:
        from mct_component.exports import sagemaker

        content = sagemaker.import_content(document, label)
    content = visible_strings(content)
    if not content:
        raise CardContentError(
            f"{label} holds none of the fields a {fmt} model card has: nothing to import "
            f"(is it a {', '.join(f for f in IMPORT_FORMATS if f != fmt)} file?)"
        )
    return content_module.load_card_content(content)
