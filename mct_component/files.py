"""File I/O for the package, through TFX's filesystem layer so any TFX filesystem works.

Plain local paths go straight to TFX's local filesystem plugin; only URIs with a
scheme (`gs://`, `s3://`, `ram://`...) load `tfx.dsl.io.fileio`, whose plugins import
TensorFlow: reading or writing a card on local disk stays cheap.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from mct_component.errors import OutputError, SourceError, TemplateNotFoundError


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


def read_setting(path: str, limit: int, what: str, error: type[Exception]) -> bytes:
    """A small local file a user points to (a token, a connection config), read whole.

    Raises:
        error: the file cannot be read, or is larger than `limit` bytes, naming `what`.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise error(f"{what} {path!r} cannot be read: {e.strerror}") from None
    if len(data) > limit:
        raise error(f"{what} {path!r} is larger than {limit:,} bytes")
    return data


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """Reads a whole file from any filesystem. A local file must be a regular file: a
    named pipe or a device (which a store may point to) would block or never end.

    Raises:
        SourceError: the file is not a regular file, or larger than `limit` bytes.
    """
    if "://" in path:
        with filesystem(path).open(path, "rb") as f:
            data = f.read() if limit is None else f.read(limit + 1)
    else:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise SourceError(f"{path!r} is not a regular file")
            data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise SourceError(f"{path!r} is larger than {limit:,} bytes, the limit")
    return data


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
    """Writes files under `output_dir`, all or nothing as far as the filesystem allows.

    Each file is first written next to its destination under a temporary name; only when
    all are written are they renamed into place. On failure the temporaries are removed
    and no destination file is touched. Other files in `output_dir` are left alone: for a
    card's directory use `replace_directory`.

    Args:
        output_dir: a directory, created if need be.
        files: relative path (may contain "/") -> text or bytes.

    Raises:
        OutputError: a file could not be written (nothing was changed then).
    """
    fs = filesystem(output_dir)
    token = uuid.uuid4().hex[:12]
    staged: list[tuple[str, str]] = []
    created: list[str] = []
    try:
        for name, data in sorted(files.items()):
            final = os.path.join(output_dir, name)
            folder, base = os.path.split(final)
            created.extend(_new_folders(folder))
            fs.makedirs(folder)
            temporary = os.path.join(folder, f".{base}.{token}.tmp")
            staged.append((temporary, final))
            with fs.open(temporary, "wb") as f:
                f.write(_bytes(data))
        for temporary, final in staged:
            fs.rename(temporary, final, overwrite=True)
    except BaseException as e:
        for temporary, _ in staged:
            _remove_quietly(fs, temporary)
        for folder in created:  # only folders this write made (local disks)
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(e, OSError):
            raise OutputError(f"cannot write to {output_dir!r}: {_reason(e)}") from None
        raise


def replace_directory(
    output_dir: str,
    files: Mapping[str, str | bytes],
    fill: Callable[[str], None] | None = None,
) -> None:
    """Makes `output_dir` hold exactly `files`, switched in at once on a local disk.

    `fill`, when given, writes more files: it is called with the new directory's local
    path once `files` are in it (for a site too large to hold in memory), before the
    switch; what it raises fails the write like any other error.

    The files are written into a new sibling directory, which then takes the place of
    `output_dir` in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`; a rename when
    `output_dir` does not exist yet). Whoever reads `output_dir`, and whenever the writer
    is killed, finds the previous content or the new one, never a mix; the previous
    content is then deleted. A write that fails, or a writer killed before the switch,
    leaves a hidden `.<name>.staging-*` sibling, removed by the next write.

    On other filesystems (`gs://`, `s3://`...), which cannot switch a directory, the
    files are renamed into place one by one and the directory's other files removed.

    Raises:
        OutputError: `output_dir` is a file, or the files could not be written; nothing
            was changed then.
    """
    if "://" in output_dir:
        _replace_remote_directory(output_dir, {**files, **_filled(fill)})
        return
    output_dir = os.path.abspath(output_dir)
    parent, name = os.path.split(output_dir)
    existing = output_dir
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = "it is" if existing == output_dir else f"{existing!r} is"
        raise OutputError(f"cannot write to {output_dir!r}: {what} a file, not a directory")
    staging = os.path.join(parent, f".{name}{_STAGING}{uuid.uuid4().hex[:12]}")
    created = _new_folders(parent)
    held = -1
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_leftovers(parent, name)
        os.mkdir(staging)
        # Held until the switch is done: another writer's clean-up leaves it alone.
        held = _lock_directory(staging)
        for relative, data in sorted(files.items()):
            path = os.path.join(staging, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(_bytes(data))
        if fill is not None:
            fill(staging)
        _switch(staging, output_dir)
    except OSError as e:
        vanished = e.errno == errno.ENOENT and held >= 0 and not os.path.lexists(staging)
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:
            shutil.rmtree(folder, ignore_errors=True)
        if vanished:
            raise OutputError(
                f"cannot write to {output_dir!r}: another writer removed this write's "
                "staging folder meanwhile; try again"
            ) from None
        raise OutputError(f"cannot write to {output_dir!r}: {_reason(e)}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if held >= 0:
            os.close(held)
    # `staging` now holds the previous content, if there was any.
    shutil.rmtree(staging, ignore_errors=True)


_STAGING = ".staging-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _switch(new: str, target: str) -> None:
    """Puts directory `new` at `target`; the previous `target`, if any, ends up at `new`."""
    if not os.path.exists(target):
        try:
            os.rename(new, target)
            return
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):  # created meanwhile: exchange
                raise
    os.chmod(new, stat.S_IMODE(os.stat(target).st_mode))
    if _exchange(new, target):
        return
    # No atomic exchange here (not Linux, or a filesystem without it): move the old
    # directory aside first. Between the two renames `target` is briefly absent.
    aside = f"{new}.old"
    os.rename(target, aside)
    os.rename(new, target)
    os.rename(aside, new)


def _exchange(first: str, second: str) -> bool:
    """Swaps two paths atomically; False where the system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if (
        renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
        == 0
    ):
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), second)


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _remove_leftovers(parent: str, name: str) -> None:
    """Deletes what killed writes of `name` left in `parent`.

    A staging folder whose writer is still at work is locked by it, and kept: two
    writers of one folder each switch in a whole card, and the last one stays.
    """
    prefix = f".{name}{_STAGING}"
    for entry in os.listdir(parent):
        if entry.startswith(prefix):
            remove_abandoned(os.path.join(parent, entry))


def remove_abandoned(path: str) -> bool:
    """Deletes a staging folder (or a lock file) unless a live writer holds its lock.

    Returns:
        Whether it was deleted (or already gone).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return False  # its writer is still at work
    try:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    finally:
        os.close(descriptor)
    return True


def _lock_directory(path: str) -> int:
    """Opens a directory and takes its exclusive lock; the descriptor holds it."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


class WriterLock:
    """An exclusive lock on `<parent>/.<name>.lock`, held while a writer makes `name`.

    The kernel releases it when the writer dies (even by SIGKILL), so a folder whose lock
    file is no longer locked was abandoned: `is_abandoned` tells. Local disks only.
    """

    def __init__(self, target: str) -> None:
        parent, name = os.path.split(os.path.abspath(target))
        self.path = lock_path(parent, name)
        self._descriptor = -1

    def __enter__(self) -> WriterLock:
        while True:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                if os.stat(self.path).st_ino == os.fstat(descriptor).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(descriptor)  # removed as abandoned between open and lock: again
        self._descriptor = descriptor
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            os.remove(self.path)
        os.close(self._descriptor)
        self._descriptor = -1


def lock_path(parent: str, name: str) -> str:
    """Where `WriterLock` keeps the lock of `parent/name`."""
    return os.path.join(parent, f".{name}.lock")


def staging_prefix(name: str) -> str:
    """How the staging folders of `replace_directory(<parent>/name)` begin."""
    return f".{name}{_STAGING}"


def remove_directory(path: str) -> None:
    """Deletes a directory and everything in it, if it exists (any filesystem)."""
    if "://" not in path:
        shutil.rmtree(path, ignore_errors=True)
        return
    fs = filesystem(path)
    if fs.exists(path):
        fs.rmtree(path)


def _filled(fill: Callable[[str], None] | None) -> dict[str, bytes]:
    """What `fill` writes, read back from a local temporary folder (then removed)."""
    if fill is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="mct-component-") as folder:
        fill(folder)
        found = {}
        for parent, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(parent, name)
                with open(path, "rb") as f:
                    found[os.path.relpath(path, folder)] = f.read()
        return found


def _replace_remote_directory(output_dir: str, files: Mapping[str, str | bytes]) -> None:
    fs = filesystem(output_dir)
    previous = _list_files(fs, output_dir) if fs.exists(output_dir) else set()
    write_files(output_dir, files)
    for stale in sorted(previous - set(files)):
        _remove_quietly(fs, os.path.join(output_dir, stale))


def _list_files(fs: Any, root: str) -> set[str]:
    found: set[str] = set()
    for folder, _, names in fs.walk(root):
        relative = os.path.relpath(folder, root) if folder != root else ""
        found.update(os.path.join(relative, name) if relative else name for name in names)
    return found


def _bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _new_folders(folder: str) -> list[str]:
    """The outermost of `folder` and its parents that does not exist yet, on a local disk
    ([] if it exists, or on another filesystem): what a failed write should remove."""
    if "://" in folder or not folder:
        return []
    missing = ""
    current = os.path.abspath(folder)
    while not os.path.lexists(current):
        missing, current = current, os.path.dirname(current)
    return [missing] if missing else []


def _remove_quietly(fs: Any, path: str) -> None:
    try:
        if fs.exists(path):
            fs.remove(path)
    except OSError:
        pass


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
