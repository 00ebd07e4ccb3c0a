"""mct-component: model cards from ML Metadata lineage, as a TFX component and a Python API.

The card API (`Card`, `card_from_files`, `card_from_mlmd`, `render_card`, `write_card`,
`explanation_metadata`) works without a pipeline; `build_dashboard` writes a static site
over every model of an MLMD store, and `review_console` serves it live to reviewers,
who act on cards there. Importing this package is cheap:
TensorFlow loads only when a card is built from pipeline outputs, and the TFX-facing
names (`ModelCardGenerator`, `ModelCard`) load TFX only when first used.

Subpackages by concern, each importing only those listed after it (`tests/test_layers.py`
checks it): `generator` (the TFX shell) and `serve` (the review console), `dashboard` and
`exports`, `governance`,
`assembly`, `mlmd`, `render`, `readers`, `content`, `card`; and the leaf modules
`errors`, `constants`, `files`, `text` and `terminal`. `api` and `cli` sit on top.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mct_component import constants
from mct_component.api import (
    DEFAULT_FORMATS,
    FORMATS,
    card_from_files,
    card_from_mlmd,
    card_history,
    clone_card,
    delete_card,
    edit_card,
    explanation_metadata,
    export_card,
    import_card_content,
    load_card_version,
    record_card,
    record_push,
    render_card,
    review_console,
    set_card_status,
    verify_card_history,
    write_card,
    write_card_content,
    write_export,
)
from mct_component.card import Card
from mct_component.dashboard import DashboardSummary, build_dashboard
from mct_component.errors import (
    CardContentError,
    CardValidationError,
    ConflictError,
    IntegrityError,
    LineageError,
    ModelCardError,
    OutputError,
    ParameterError,
    PolicyError,
    SignatureError,
    SourceError,
    TemplateError,
    TemplateNotFoundError,
)
from mct_component.exports import Export
from mct_component.governance.diff import CardDiff, diff_cards
from mct_component.governance.events import Sinks as EventSinks
from mct_component.governance.registry import CardVersion, Deletion

if TYPE_CHECKING:
    from mct_component.generator.artifact import ModelCard
    from mct_component.generator.component import ModelCardGenerator

__version__ = "0.1.0"

_LAZY = {
    "ModelCardGenerator": "mct_component.generator.component",
    "ModelCard": "mct_component.generator.artifact",
}

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "Card",
    "CardContentError",
    "CardDiff",
    "CardValidationError",
    "CardVersion",
    "ConflictError",
    "DashboardSummary",
    "Deletion",
    "EventSinks",
    "Export",
    "IntegrityError",
    "LineageError",
    "ModelCard",
    "ModelCardError",
    "ModelCardGenerator",
    "OutputError",
    "ParameterError",
    "PolicyError",
    "SignatureError",
    "SourceError",
    "TemplateError",
    "TemplateNotFoundError",
    "build_dashboard",
    "card_from_files",
    "card_from_mlmd",
    "card_history",
    "clone_card",
    "constants",
    "delete_card",
    "diff_cards",
    "edit_card",
    "explanation_metadata",
    "export_card",
    "import_card_content",
    "load_card_version",
    "record_card",
    "record_push",
    "render_card",
    "review_console",
    "set_card_status",
    "verify_card_history",
    "write_card",
    "write_card_content",
    "write_export",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mct_component' has no attribute {name!r}")
