"""File I/O for the package, through TFX's filesystem layer so any TFX filesystem works.

Plain local paths go straight to TFX's local filesystem plugin; only URIs with a
scheme (`gs://`, `s3://`, `ram://`...) load `tfx.dsl.io.fileio`, whose plugins import
TensorFlow: reading or writing a card on local disk stays cheap.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any

from mct_component.errors import SourceError, TemplateNotFoundError


def filesystem(path: str) -> Any:
    """The TFX filesystem for `path`: the local plugin, or `fileio` for a URI with a scheme."""
    if "://" in path:
        from tfx.dsl.io import fileio

        return fileio
    from tfx.dsl.io.plugins.local import LocalFilesystem

    return LocalFilesystem


def read_text(path: str) -> str:
    """Reads a UTF-8 text file (a custom template) from any filesystem.

    Raises:
        TemplateNotFoundError: the file does not exist.
    """
    fs = filesystem(path)
    if not fs.exists(path):
        raise TemplateNotFoundError(f"template file not found: {path!r}")
    with fs.open(path, "rb") as f:
        return f.read().decode("utf-8")


def read_bytes(path: str) -> bytes:
    """Reads a whole file from any filesystem."""
    with filesystem(path).open(path, "rb") as f:
        return f.read()


def card_file(path: str, name: str) -> str:
    """`path` itself, or `name` inside it when `path` is a directory (a card's folder).

    Raises:
        SourceError: there is no such file.
    """
    fs = filesystem(path)
    if fs.isdir(path):
        path = os.path.join(path, name)
    if not fs.exists(path):
        raise SourceError(f"no card file at {path!r}: expected {name} or a folder holding it")
    return path


def write_files(output_dir: str, files: Mapping[str, str | bytes]) -> None:
    """Writes every file under `output_dir`, all or nothing as far as the filesystem allows.

    Each file is first written next to its destination under a temporary name; only when
    all are written are they renamed into place. On failure the temporaries are removed
    and no destination file is touched.

    Args:
        output_dir: a directory (e.g. the artifact URI), created if need be.
        files: relative path (may contain "/") -> text or bytes.
    """
    fs = filesystem(output_dir)
    token = uuid.uuid4().hex[:12]
    staged: list[tuple[str, str]] = []
    try:
        for name, data in sorted(files.items()):
            final = os.path.join(output_dir, name)
            folder, base = os.path.split(final)
            fs.makedirs(folder)
            temporary = os.path.join(folder, f".{base}.{token}.tmp")
            with fs.open(temporary, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            staged.append((temporary, final))
        for temporary, final in staged:
            fs.rename(temporary, final, overwrite=True)
    except BaseException:
        for temporary, _ in staged:
            if fs.exists(temporary):
                fs.remove(temporary)
        raise
