"""File I/O for the package, through `tfx.dsl.io.fileio` so any TFX filesystem works."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping

from mct_component.errors import TemplateNotFoundError


def read_text(path: str) -> str:
    """Reads a UTF-8 text file (a custom template, a content file) from any filesystem.

    Raises:
        TemplateNotFoundError: the file does not exist.
    """
    from tfx.dsl.io import fileio

    if not fileio.exists(path):
        raise TemplateNotFoundError(f"template file not found: {path!r}")
    with fileio.open(path, "rb") as f:
        return f.read().decode("utf-8")


def read_bytes(path: str) -> bytes:
    """Reads a whole file from any filesystem."""
    from tfx.dsl.io import fileio

    with fileio.open(path, "rb") as f:
        return f.read()


def write_files(output_dir: str, files: Mapping[str, str | bytes]) -> None:
    """Writes every file under `output_dir`, all or nothing as far as the filesystem allows.

    Each file is first written next to its destination under a temporary name; only when
    all are written are they renamed into place. On failure the temporaries are removed
    and no destination file is touched.

    Args:
        output_dir: the artifact URI.
        files: relative path (may contain "/") -> text or bytes.
    """
    from tfx.dsl.io import fileio

    token = uuid.uuid4().hex[:12]
    staged: list[tuple[str, str]] = []
    try:
        for name, data in sorted(files.items()):
            final = os.path.join(output_dir, name)
            folder, base = os.path.split(final)
            fileio.makedirs(folder)
            temporary = os.path.join(folder, f".{base}.{token}.tmp")
            with fileio.open(temporary, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            staged.append((temporary, final))
        for temporary, final in staged:
            fileio.rename(temporary, final, overwrite=True)
    except BaseException:
        for temporary, _ in staged:
            if fileio.exists(temporary):
                fileio.remove(temporary)
        raise
