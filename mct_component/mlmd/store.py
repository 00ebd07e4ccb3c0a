"""Opening an ML Metadata store: a SQLite file, or any MLMD `ConnectionConfig` (e.g. MySQL)."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from typing import TYPE_CHECKING, Any, Union

from mct_component import files
from mct_component.errors import LineageError

if TYPE_CHECKING:
    from ml_metadata.metadata_store.metadata_store import MetadataStore
    from ml_metadata.proto.metadata_store_pb2 import ConnectionConfig

_MAX_CONFIG_BYTES = 64 * 1024
# How long to wait for a store another process is writing before saying it is locked.
_LOCK_WAIT_S = 2.0
# A SQLite file's path, an `ml_metadata` `ConnectionConfig`, or an open `MetadataStore`.
StoreLike = Union[str, "os.PathLike[str]", "ConnectionConfig", "MetadataStore"]


def connect(store: StoreLike, read_only: bool = True) -> Any:
    """An open `ml_metadata.MetadataStore`.

    Args:
        store: the path of an MLMD SQLite file, a `metadata_store_pb2.ConnectionConfig`
            (e.g. for MySQL), or an already open `MetadataStore` (returned as is).
        read_only: open a SQLite file read-only.

    Raises:
        LineageError: the file is missing or is not an MLMD store, or the server
            cannot be reached.
    """
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    if isinstance(store, metadata_store.MetadataStore):
        return store
    if isinstance(store, metadata_store_pb2.ConnectionConfig):
        from ml_metadata import errors

        try:
            return metadata_store.MetadataStore(store)
        except (errors.StatusError, RuntimeError) as e:  # a server MLMD cannot reach: Runtime
            reason = " ".join(str(e).split())[:300]
            raise LineageError(f"cannot open the MLMD store: {reason}") from None
    if isinstance(store, (str, os.PathLike)):
        return connect_sqlite(os.fspath(store), read_only=read_only)
    raise LineageError(
        "store must be a SQLite path, an MLMD ConnectionConfig or a MetadataStore, "
        f"got {type(store).__name__}"
    )


def load_connection_config(path: str) -> Any:
    """An MLMD `ConnectionConfig` from a text-format file (e.g. a MySQL server's).

    Raises:
        LineageError: the file is missing, too large, or not a text `ConnectionConfig`.
    """
    from google.protobuf import text_format
    from ml_metadata.proto import metadata_store_pb2

    data = files.read_setting(path, _MAX_CONFIG_BYTES, "connection config", LineageError)
    config = metadata_store_pb2.ConnectionConfig()
    try:
        text_format.Parse(data.decode("utf-8"), config)
    except (UnicodeDecodeError, text_format.ParseError) as e:
        reason = " ".join(str(e).split())[:200]
        raise LineageError(
            f"connection config {path!r} is not an MLMD ConnectionConfig in text format: {reason}"
        ) from None
    return config


def connect_sqlite(path: str, read_only: bool = True) -> Any:
    """Opens an MLMD SQLite store, checking first that the file exists and is MLMD.

    Raises:
        LineageError: the file is missing or is not an MLMD store.
    """
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    if not os.path.isfile(path):
        raise LineageError(f"MLMD store not found: {path!r} is not a file")
    try:
        with sqlite3.connect(read_only_uri(path), uri=True, timeout=_LOCK_WAIT_S) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            version = _schema_version(db, tables)
    except sqlite3.OperationalError as e:
        if "locked" in str(e):
            raise LineageError(
                f"MLMD store {path!r} is locked by another process (a running pipeline?); "
                "try again when it is done"
            ) from None
        raise LineageError(f"{path!r} cannot be read as a SQLite database: {e}") from None
    except sqlite3.DatabaseError as e:
        raise LineageError(f"{path!r} is not an MLMD store: not a SQLite database ({e})") from None
    if not {"Artifact", "Execution", "Event", "Type"} <= tables or version is None:
        raise LineageError(f"{path!r} is not an MLMD store: it has no MLMD schema")
    config = metadata_store_pb2.ConnectionConfig()
    # MLMD opens a name that starts with "file:" as a URI: an absolute path never does.
    config.sqlite.filename_uri = os.path.abspath(path)
    mode = metadata_store_pb2.SqliteMetadataSourceConfig
    config.sqlite.connection_mode = mode.READONLY if read_only else mode.READWRITE
    try:
        return metadata_store.MetadataStore(config)
    except RuntimeError as e:  # ml_metadata reports a store it cannot use so
        raise LineageError(f"{path!r} is not an MLMD store ML Metadata can open: {e}") from None


def read_only_uri(path: str) -> str:
    """A SQLite URI opening `path` read-only, whatever `%`, `?` or `#` its name holds."""
    return "file:" + urllib.parse.quote(os.path.abspath(path), safe="/") + "?mode=ro"


def _schema_version(db: sqlite3.Connection, tables: set[str]) -> int | None:
    """The MLMD schema version a store records (`MLMDEnv`), or None if it records none."""
    if "MLMDEnv" not in tables:
        return None
    row = db.execute("SELECT schema_version FROM MLMDEnv").fetchone()
    return int(row[0]) if row and isinstance(row[0], int) else None
