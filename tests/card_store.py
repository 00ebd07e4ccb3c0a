"""A small MLMD store holding one model and the generator's card for it, without TFX.

The governance tests on the real penguin run take minutes; the hardening tests need
only a store with a `Model`, a `ModelCardGenerator` execution that read it and the
`ModelCard` it wrote, laid out as TFX 1.16 records them (`tests/mlmd_writer.py`), with
the card's files written by the package's own `write_card`. It imports ml_metadata,
never TensorFlow.

    store = write_card_store(tmp_path)
    cli.main(store.cli("history"))

With a `ConnectionConfig` (the tests' MariaDB, `tests/mysql_server.py`) the store is that
database, and `cli` names it with `--connection-config`.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from typing import Any

from ml_metadata.proto import metadata_store_pb2 as pb

import mct_component as mct
from mct_component import constants
from mct_component.mlmd import summary
from tests import factories, mlmd_writer

GENERATOR_TYPE = "mct_component.generator.component.ModelCardGenerator"
CARD_TYPE = "mct_component.ModelCard"


@dataclasses.dataclass(frozen=True)
class CardStore:
    """The store (its SQLite file, or the text file of its `ConnectionConfig`), its pipeline
    root, the model's id and the first card's folder."""

    path: str
    root: str
    model_id: int
    card_uri: str
    config: pb.ConnectionConfig | None = None  # a MySQL store; `path` is then its config file

    @property
    def target(self) -> str | pb.ConnectionConfig:
        """The store as the public API takes it."""
        return self.config if self.config is not None else self.path

    def cli(self, command: str, *args: str) -> list[str]:
        """`mct-card` arguments for a command on this store and model."""
        option = "--connection-config" if self.config is not None else "--metadata"
        return [command, option, self.path, "--model-id", str(self.model_id), *args]

    def sql(self, statement: str, *parameters: Any) -> None:
        """Runs one SQL statement on the store's tables, as someone with write access can
        (`?` placeholders)."""
        if self.config is None:
            with sqlite3.connect(self.path) as db:
                db.execute(statement, parameters)
            return
        import pymysql

        mysql = self.config.mysql
        db = pymysql.connect(
            host=mysql.host, port=mysql.port, user=mysql.user, database=mysql.database
        )
        try:
            with db.cursor() as cursor:
                cursor.execute(statement.replace("?", "%s"), parameters)
            db.commit()
        finally:
            db.close()


def write_card_store(
    folder: str | os.PathLike[str],
    pipeline: str = "penguin",
    connection: pb.ConnectionConfig | None = None,
    with_card: bool = True,
) -> CardStore:
    """Writes a store and a pipeline root under `folder`: Trainer → generator (only the
    Trainer's model unless `with_card`). The store is `metadata.sqlite` there, or the
    empty MLMD database `connection` names."""
    from google.protobuf import text_format

    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    root = os.path.join(folder, "pipeline_root")
    path = os.path.join(folder, "metadata.sqlite")
    if connection is not None:
        path = os.path.join(folder, "connection.pbtxt")
        with open(path, "w", encoding="utf-8") as config_file:
            config_file.write(text_format.MessageToString(connection))
    types = {**mlmd_writer.COMPONENT_TYPES, "ModelCardGenerator": GENERATOR_TYPE}
    writer = mlmd_writer.Writer.open(
        connection if connection is not None else path, execution_types=types.values()
    )
    recorded = writer.pipeline(pipeline, {"Trainer": types["Trainer"], "Gen": GENERATOR_TYPE})
    run = writer.run(recorded, "run-1")
    model = writer.artifact("Model", os.path.join(root, "Trainer", "model", "1"))
    writer.execute(run, "Trainer", outputs={"model": model})
    if not with_card:
        return CardStore(path, root, model.id, "", connection)

    card_type = writer.store.put_artifact_type(pb.ArtifactType(name=CARD_TYPE))
    card_uri = os.path.join(root, "ModelCardGenerator", "model_card", "2")
    model_card = factories.make_card()
    model_card = dataclasses.replace(
        model_card,
        model_details=model_card.model_details.replace(uri=model.uri, version="1"),
    )
    mct.write_card(model_card, card_uri)
    card = pb.Artifact(type_id=card_type, uri=card_uri, state=pb.Artifact.LIVE)
    custom = card.custom_properties
    custom[constants.MODEL_ID_PROPERTY].int_value = model.id
    custom[constants.STATUS_PROPERTY].string_value = model_card.status
    custom[constants.MODEL_NAME_PROPERTY].string_value = model_card.model_details.name
    for name, value in summary.summary_properties(model_card).items():
        custom[name].string_value = value
    execution = pb.Execution(
        type_id=writer.execution_types[GENERATOR_TYPE], last_known_state=pb.Execution.COMPLETE
    )
    links = [
        (model, mlmd_writer._event(pb.Event.INPUT, "model")),
        (card, mlmd_writer._event(pb.Event.OUTPUT, "model_card")),
    ]
    contexts = [recorded.context, run.context, recorded.node_contexts["Gen"]]
    writer.store.put_execution(execution, links, contexts)
    return CardStore(path, root, model.id, card_uri, connection)
