"""mct-component: a TFX component that builds model cards from ML Metadata lineage.

Importing this package is cheap: the TFX-facing names (`ModelCardGenerator`,
`ModelCard`) load TFX, and with it TensorFlow, only when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from mct_component.errors import (
    CardContentError,
    CardValidationError,
    LineageError,
    ModelCardError,
    SourceError,
    TemplateError,
    TemplateNotFoundError,
)

__version__ = "0.1.0"

_LAZY = {
    "ModelCardGenerator": "mct_component.component",
    "ModelCard": "mct_component.artifact",
}

__all__ = [
    "CardContentError",
    "CardValidationError",
    "LineageError",
    "ModelCard",
    "ModelCardError",
    "ModelCardGenerator",
    "SourceError",
    "TemplateError",
    "TemplateNotFoundError",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mct_component' has no attribute {name!r}")
