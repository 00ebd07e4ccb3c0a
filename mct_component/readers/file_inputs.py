"""Card inputs from plain paths, without MLMD: what TFX would have recorded, read from the files.

A pipeline's outputs on disk carry most of what MLMD knows about them: a StatisticsGen
directory names its splits by its `Split-<name>` folders, the Evaluator writes a
`BLESSED` or `NOT_BLESSED` file beside its verdict. These functions turn such paths
into the references the readers take, so `api.card_from_files` builds the same card
sections as a pipeline does (less what only MLMD knows: the Trainer run, the pipeline
run, the baseline model).
"""

from __future__ import annotations

import json
import os

from mct_component import constants, files
from mct_component.errors import SourceError
from mct_component.readers.refs import ArtifactRef, CardInputs

# The Evaluator's verdict files (tfx.components.evaluator.constants).
BLESSED_FILE = "BLESSED"
NOT_BLESSED_FILE = "NOT_BLESSED"
_SPLIT_PREFIX = "Split-"


def card_inputs(
    model: str,
    statistics: str | None = None,
    schema: str | None = None,
    evaluation: str | None = None,
    blessing: str | None = None,
    pushed_model: str | None = None,
    transform_graph: str | None = None,
) -> CardInputs:
    """References to the outputs at these paths (see `api.card_from_files`).

    Raises:
        SourceError: a path does not exist, or is not what its producer writes.
    """
    return CardInputs(
        model=ArtifactRef("Model", _existing(model, "model")),
        statistics=_statistics(statistics) if statistics else None,
        schema=ArtifactRef("Schema", _existing(schema, "schema")) if schema else None,
        evaluation=(
            ArtifactRef("ModelEvaluation", _existing(evaluation, "evaluation"))
            if evaluation
            else None
        ),
        blessing=_blessing(blessing) if blessing else None,
        pushed_model=_pushed_model(pushed_model) if pushed_model else None,
        transform_graph=(
            ArtifactRef("TransformGraph", _existing(transform_graph, "transform_graph"))
            if transform_graph
            else None
        ),
    )


def _existing(path: str, what: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise SourceError(f"{what} must be a path, got {type(path).__name__}")
    path = os.fspath(path)
    if not files.filesystem(path).exists(path):
        raise SourceError(f"{what} not found: {path!r} does not exist")
    return path


def _statistics(path: str) -> ArtifactRef:
    """A StatisticsGen output directory (splits from its folders) or one statistics file."""
    path = _existing(path, "statistics")
    fs = files.filesystem(path)
    if not fs.isdir(path):
        return ArtifactRef("ExampleStatistics", path)
    found = sorted(
        name.rstrip("/").removeprefix(_SPLIT_PREFIX)
        for name in fs.listdir(path)
        if name.startswith(_SPLIT_PREFIX)
    )
    if not found:
        raise SourceError(
            f"statistics directory {path!r} has no {_SPLIT_PREFIX}<name> folder; expected "
            "StatisticsGen's output or a FeatureStats.pb file"
        )
    # TFX lists the training split first; the card's feature tables follow the first split.
    names = sorted(found, key=lambda name: (name != "train", name))
    return ArtifactRef("ExampleStatistics", path, properties={"split_names": json.dumps(names)})


def _blessing(path: str) -> ArtifactRef:
    """The Evaluator's blessing directory: `BLESSED` or `NOT_BLESSED` in it says which."""
    path = _existing(path, "blessing")
    fs = files.filesystem(path)
    if fs.exists(os.path.join(path, BLESSED_FILE)):
        blessed = 1
    elif fs.exists(os.path.join(path, NOT_BLESSED_FILE)):
        blessed = 0
    else:
        raise SourceError(
            f"blessing directory {path!r} holds neither {BLESSED_FILE} nor {NOT_BLESSED_FILE}; "
            "expected the Evaluator's blessing output"
        )
    return ArtifactRef(
        constants.MODEL_BLESSING_TYPE, path, properties={constants.BLESSED_PROPERTY: blessed}
    )


def _pushed_model(path: str) -> ArtifactRef:
    """Where the model was pushed: that directory is the destination, its name the version."""
    path = _existing(path, "pushed_model")
    version = os.path.basename(path.rstrip("/"))
    return ArtifactRef(
        "PushedModel",
        path,
        properties={"pushed": 1, "pushed_destination": path, "pushed_version": version},
    )
