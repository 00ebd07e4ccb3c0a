"""The package's exceptions: one root, leaves that also subclass the fitting built-in."""

from __future__ import annotations


class ModelCardError(Exception):
    """Root of every error raised by mct_component."""


class CardContentError(ModelCardError, ValueError):
    """Human-written card content (or a component parameter) is malformed."""


class CardValidationError(ModelCardError, ValueError):
    """A generated card does not match the package's JSON Schema."""


class SourceError(ModelCardError, ValueError):
    """An upstream artifact (statistics, evaluation, SavedModel...) could not be read."""


class TemplateNotFoundError(ModelCardError, FileNotFoundError):
    """A card template could not be found."""


class LineageError(ModelCardError, LookupError):
    """MLMD does not hold what was asked for (unknown id, pipeline, or not an MLMD store)."""


class TemplateError(ModelCardError, ValueError):
    """A card template does not compile or uses a field the card does not have."""
