"""The package's exceptions: one root, leaves that also subclass the fitting built-in.

ModelCardError
├── ParameterError (ValueError)         a component parameter or API/CLI argument
├── CardContentError (ValueError)       human-written content is malformed
├── CardValidationError (ValueError)    a card does not match the card schema
├── SourceError (ValueError)            a pipeline output could not be read
├── LineageError (LookupError)          MLMD does not hold what was asked for
├── OutputError (OSError)               a card's files, or a change, cannot be written
├── ConflictError (RuntimeError)        someone changed the same card version first
├── SignatureError (ValueError)         a signature is missing, corrupt or does not verify
├── IntegrityError (ValueError)         a card version's files are not what MLMD recorded
├── PolicyError (PermissionError)       the review policy does not allow a change
└── TemplateError (ValueError)          a template does not compile or render
    └── TemplateNotFoundError (FileNotFoundError)
"""

from __future__ import annotations


class ModelCardError(Exception):
    """Root of every error raised by mct_component."""


class ParameterError(ModelCardError, ValueError):
    """A component parameter, API argument or CLI option is not what it must be."""


class CardContentError(ModelCardError, ValueError):
    """Human-written card content is malformed (the message names the field)."""


class CardValidationError(ModelCardError, ValueError):
    """A card does not match the package's JSON Schema."""


class SourceError(ModelCardError, ValueError):
    """An upstream artifact (statistics, evaluation, SavedModel...) could not be read."""


class LineageError(ModelCardError, LookupError):
    """MLMD does not hold what was asked for (unknown id, pipeline, or not an MLMD store)."""


class OutputError(ModelCardError, OSError):
    """A card's files could not be written (read-only, full, or not a directory)."""


class ConflictError(ModelCardError, RuntimeError):
    """Someone else changed the same card version first; look again and retry."""


class SignatureError(ModelCardError, ValueError):
    """A card version's signature is missing, corrupt, by an unknown key, or does not verify."""


class IntegrityError(ModelCardError, ValueError):
    """A card version's files are not those MLMD recorded, or not files this package
    wrote (changed, linked elsewhere, not regular files): nothing is built on them."""


class PolicyError(ModelCardError, PermissionError):
    """The review policy does not allow this change (who, how many, unsigned)."""


class TemplateError(ModelCardError, ValueError):
    """A card template does not compile or uses a field the card does not have."""


class TemplateNotFoundError(TemplateError, FileNotFoundError):
    """A card template could not be found."""
