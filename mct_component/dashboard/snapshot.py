"""One read of a whole MLMD store, for the dashboard: every node and edge, in a few queries.

The MLMD API answers per node (a context lookup per execution costs ~20 ms on a store
of 10,000 runs), so a view of every model reads MLMD's tables directly, read-only:
SQLite through `sqlite3`, MySQL through PyMySQL. It reads the schema of ml-metadata
1.16 (`MLMDEnv.schema_version` 10) and refuses others. `tests/test_dashboard.py`
checks what it reads against the MLMD API on real pipeline stores.
"""

from __future__ import annotations

import base64
import binascii
import collections
import dataclasses
import os
import sqlite3
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from mct_component import constants
from mct_component.errors import LineageError
from mct_component.mlmd import store as stores

SCHEMA_VERSION = 10
ARTIFACT_KIND, CONTEXT_KIND = 1, 2
INPUT_EVENTS = frozenset({2, 3, 5})  # DECLARED_INPUT, INPUT, INTERNAL_INPUT
OUTPUT_EVENTS = frozenset({1, 4, 6})  # DECLARED_OUTPUT, OUTPUT, INTERNAL_OUTPUT
LIVE, MARKED_FOR_DELETION = 2, 3
# The only properties the dashboard reads: ModelBlessing, PushedModel, ExampleAnomalies
# and the card's summary (see `executor.record_summary`) with its digest and signature.
ARTIFACT_PROPERTIES = (
    "blessed",
    "pushed",
    "pushed_destination",
    constants.MODEL_ID_PROPERTY,
    constants.MODEL_NAME_PROPERTY,
    constants.STATUS_PROPERTY,
    constants.COMPLETENESS_PROPERTY,
    constants.RISK_RATING_PROPERTY,
    constants.HEADLINE_METRIC_PROPERTY,
    constants.SHA256_PROPERTY,
    constants.SIGNER_PROPERTY,
    constants.SIGNATURE_SHA256_PROPERTY,
)
# The generator's gate, and what a card change records (for verifying each history).
EXECUTION_PROPERTIES = (
    constants.COMPLETENESS_GATE_KEY,
    *constants.CHANGE_PROPERTIES,
    constants.SIGNER_PROPERTY,
    constants.SIGNATURE_SHA256_PROPERTY,
    constants.IDENTITY_PROPERTY,
)
CONTEXT_TYPES = ("pipeline", "pipeline_run")
_NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})
_STRUCT_PREFIX = "mlmd-struct::"


class Node(NamedTuple):
    """An artifact or execution: its id, type name, and for artifacts URI and state."""

    id: int
    type_name: str
    create_time_ms: int
    uri: str = ""
    state: int = 0
    properties: Mapping[str, Any] = _NO_PROPERTIES

    @property
    def short_type(self) -> str:
        """The type name without its module path (e.g. "Trainer")."""
        return self.type_name.rsplit(".", 1)[-1]


class Edge(NamedTuple):
    """An event: an execution read (input) or wrote (output) an artifact under a role."""

    artifact_id: int
    execution_id: int
    is_input: bool
    role: str


@dataclasses.dataclass
class Snapshot:
    """Every artifact, execution, event and context of a store, indexed both ways."""

    artifacts: dict[int, Node]
    executions: dict[int, Node]
    edges_by_artifact: Mapping[int, list[Edge]]
    edges_by_execution: Mapping[int, list[Edge]]
    contexts: dict[int, tuple[str, str]]  # id -> (type name, name)
    contexts_by_execution: Mapping[int, list[int]]

    def artifacts_of_type(self, type_name: str) -> list[Node]:
        """The artifacts of one type, oldest first."""
        return [a for a in self.artifacts.values() if a.type_name == type_name]

    def producer(self, artifact_id: int) -> int | None:
        """The execution that first wrote the artifact: its maker, not a later Importer of
        the same URI (MLMD records that as another output of the same artifact)."""
        ids = [
            e.execution_id for e in self.edges_by_artifact.get(artifact_id, ()) if not e.is_input
        ]
        return min(ids) if ids else None

    def consumers(self, artifact_id: int, role: str | None = None) -> list[int]:
        """The executions that read the artifact (as `role`), oldest first."""
        return sorted(
            e.execution_id
            for e in self.edges_by_artifact.get(artifact_id, ())
            if e.is_input and (role is None or e.role == role)
        )

    def io(self, execution_id: int, is_input: bool, role: str | None = None) -> list[int]:
        """The artifacts an execution read or wrote (under `role`), by id."""
        return sorted(
            e.artifact_id
            for e in self.edges_by_execution.get(execution_id, ())
            if e.is_input == is_input and (role is None or e.role == role)
        )

    def context(self, execution_id: int, type_name: str) -> str:
        """The name of the execution's context of a type ("pipeline", "pipeline_run")."""
        for context_id in self.contexts_by_execution.get(execution_id, ()):
            kind, name = self.contexts[context_id]
            if kind == type_name:
                return name
        return ""


def read_snapshot(store: Any) -> Snapshot:
    """Reads a store: a SQLite path, or an MLMD `ConnectionConfig` for SQLite or MySQL.

    Raises:
        LineageError: the store cannot be opened, is not an MLMD store, or has another
            MLMD schema version than 10 (ml-metadata 1.16).
    """
    connection = _connect(store)
    name = repr(os.fspath(store)) if isinstance(store, (str, os.PathLike)) else "the store"
    try:
        return _read(connection)
    except LineageError as e:
        raise LineageError(f"{name} {e}") from None
    except (sqlite3.Error, _mysql_errors()) as e:
        raise LineageError(f"cannot read the MLMD store {name}: {e}") from None
    finally:
        connection.close()


def _mysql_errors() -> type[Exception]:
    import pymysql

    return pymysql.MySQLError


def _connect(store: Any) -> Any:
    if isinstance(store, (str, os.PathLike)):
        path = os.fspath(store)
        if not os.path.isfile(path):
            raise LineageError(f"MLMD store {path!r} not found: expected a SQLite file")
        return sqlite3.connect(stores.read_only_uri(path), uri=True)
    config = getattr(store, "sqlite", None)
    kind = store.WhichOneof("config") if hasattr(store, "WhichOneof") else None
    if kind == "sqlite" and config is not None:
        return _connect(config.filename_uri)
    if kind == "mysql":
        return connect_mysql(store.mysql)
    raise LineageError(
        "the dashboard reads a SQLite path or a SQLite/MySQL ConnectionConfig, "
        f"got {type(store).__name__}{f' ({kind})' if kind else ''}"
    )


def connect_mysql(config: Any, timeout: int = 10) -> Any:
    """A PyMySQL connection to the database an MLMD `MySQLDatabaseConfig` names (with
    its TLS options), giving up on connecting, reading or writing after `timeout` s.

    Raises:
        LineageError: the server cannot be reached or refuses.
    """
    import pymysql

    ssl = None
    if config.HasField("ssl_options"):
        options = config.ssl_options
        ssl = {
            k: v for k, v in (("key", options.key), ("cert", options.cert), ("ca", options.ca)) if v
        }
    try:
        return pymysql.connect(
            host=config.host or "localhost",
            port=config.port or 3306,
            user=config.user or None,
            password=config.password or "",
            database=config.database,
            unix_socket=config.socket or None,
            ssl=ssl,
            connect_timeout=timeout,
            read_timeout=timeout * 6,
            write_timeout=timeout * 6,
        )
    except pymysql.MySQLError as e:
        raise LineageError(f"cannot open the MLMD store on MySQL: {e}") from None


def _rows(connection: Any, query: str) -> Iterable[tuple[Any, ...]]:
    """The query's rows, one at a time where the driver can (a large store's events do
    not all need to be held twice, as rows and as edges)."""
    cursor = connection.cursor()
    cursor.execute(query)
    return cursor


def _read(connection: Any) -> Snapshot:
    try:
        ((version,),) = _rows(connection, "SELECT schema_version FROM MLMDEnv")
    except (sqlite3.Error, _mysql_errors(), ValueError):
        raise LineageError("is not an MLMD store: it has no MLMDEnv schema version") from None
    if version != SCHEMA_VERSION:
        raise LineageError(
            f"has MLMD schema version {version}; the dashboard reads version "
            f"{SCHEMA_VERSION} (ml-metadata 1.16)"
        )
    types = {
        i: (name, kind)
        for i, name, kind in _rows(connection, "SELECT id, name, type_kind FROM Type")
    }
    artifact_properties = _properties(
        connection, "ArtifactProperty", "artifact_id", ARTIFACT_PROPERTIES
    )
    execution_properties = _properties(
        connection, "ExecutionProperty", "execution_id", EXECUTION_PROPERTIES
    )
    type_names = {i: name for i, (name, _) in types.items()}
    no_properties = _NO_PROPERTIES
    # Nodes and edges are made as tuples of their type directly: a large store has
    # millions, and the named tuples' own constructors double the time.
    make = tuple.__new__
    artifacts = {
        i: make(
            Node,
            (
                i,
                type_names[t],
                created or 0,
                uri or "",
                state or 0,
                artifact_properties.get(i, no_properties),
            ),
        )
        for i, t, uri, state, created in _rows(
            connection, "SELECT id, type_id, uri, state, create_time_since_epoch FROM Artifact"
        )
    }
    executions = {
        i: make(
            Node,
            (i, type_names[t], created or 0, "", 0, execution_properties.get(i, no_properties)),
        )
        for i, t, created in _rows(
            connection, "SELECT id, type_id, create_time_since_epoch FROM Execution"
        )
    }
    by_artifact: dict[int, list[Edge]] = collections.defaultdict(list)
    by_execution: dict[int, list[Edge]] = collections.defaultdict(list)
    kinds = ", ".join(str(k) for k in sorted(INPUT_EVENTS | OUTPUT_EVENTS))
    roles: dict[str, str] = {}  # one string per role: a large store has millions of edges
    for artifact_id, execution_id, kind, role in _rows(
        connection,
        "SELECT e.artifact_id, e.execution_id, e.type, p.step_key FROM Event e "
        "LEFT JOIN EventPath p ON p.event_id = e.id AND p.is_index_step = 0 "
        f"WHERE e.type IN ({kinds})",
    ):
        role = roles.setdefault(role or "", role or "")
        # The ids held by the nodes, not the rows' copies (two fewer objects an edge).
        artifact = artifacts.get(artifact_id)
        execution = executions.get(execution_id)
        artifact_id = artifact.id if artifact is not None else artifact_id
        execution_id = execution.id if execution is not None else execution_id
        edge = make(Edge, (artifact_id, execution_id, kind in INPUT_EVENTS, role))
        by_artifact[artifact_id].append(edge)
        by_execution[execution_id].append(edge)
    # Only the contexts a page names: pipelines and their runs (not TFX's per-node ones).
    wanted = ", ".join(f"'{name}'" for name in CONTEXT_TYPES)
    contexts = {
        i: (types[t][0], name)
        for i, t, name in _rows(
            connection,
            "SELECT c.id, c.type_id, c.name FROM Context c JOIN Type t ON t.id = c.type_id "
            f"WHERE t.name IN ({wanted})",
        )
    }
    context_ids_held = {i: i for i in contexts}
    contexts_by_execution: dict[int, list[int]] = collections.defaultdict(list)
    for context_id, execution_id in _rows(
        connection,
        "SELECT a.context_id, a.execution_id FROM Association a "
        "JOIN Context c ON c.id = a.context_id JOIN Type t ON t.id = c.type_id "
        f"WHERE t.name IN ({wanted})",
    ):
        execution = executions.get(execution_id)
        context_ids = contexts_by_execution[execution.id if execution else execution_id]
        context_ids.append(context_ids_held.get(context_id, context_id))
    return Snapshot(
        artifacts, executions, by_artifact, by_execution, contexts, contexts_by_execution
    )


def _struct(stored: str) -> Any:
    """A struct property (e.g. ExampleValidator's `blessed`) as Python data; MLMD stores it
    as "mlmd-struct::" and a base64 `google.protobuf.Struct`."""
    from google.protobuf import json_format, message, struct_pb2

    struct = struct_pb2.Struct()
    try:
        struct.ParseFromString(base64.b64decode(stored[len(_STRUCT_PREFIX) :], validate=True))
    except (binascii.Error, message.DecodeError):
        return None
    return json_format.MessageToDict(struct)


def _properties(
    connection: Any, table: str, key: str, names: tuple[str, ...]
) -> dict[int, dict[str, Any]]:
    listed = ", ".join(f"'{name}'" for name in names)
    found: dict[int, dict[str, Any]] = collections.defaultdict(dict)
    for node_id, name, int_value, double_value, string_value, bool_value in _rows(
        connection,
        f"SELECT {key}, name, int_value, double_value, string_value, bool_value "
        f"FROM {table} WHERE name IN ({listed})",
    ):
        value = next(
            (v for v in (string_value, int_value, double_value, bool_value) if v is not None), None
        )
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.startswith(_STRUCT_PREFIX):
            value = _struct(value)
        found[node_id][name] = value
    return found
