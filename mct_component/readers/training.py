"""The Trainer run's configuration, Tuner hyperparameters and Transform vocabularies."""

from __future__ import annotations

import os
from typing import Any

from mct_component import card, files
from mct_component.errors import SourceError
from mct_component.readers import json_object
from mct_component.readers.refs import ArtifactRef, ExecutionRef


def hyperparameters(ref: ArtifactRef) -> dict[str, Any]:
    """Best hyperparameters a Tuner wrote (`best_hyperparameters.txt`, Keras Tuner JSON)."""
    paths = sorted(files.filesystem(ref.uri).glob(os.path.join(ref.uri, "*.txt")))
    if not paths:
        raise SourceError(f"HyperParameters artifact {ref.id} at {ref.uri} has no .txt file")
    config = json_object(files.read_bytes(paths[0]).decode("utf-8"))
    return config.get("values", config)


def from_trainer(
    trainer: ExecutionRef, hyperparameter_ref: ArtifactRef | None, transform: bool
) -> card.Training:
    """The Trainer's configuration, from its execution properties."""
    props = trainer.properties
    train_args = json_object(props.get("train_args"))
    eval_args = json_object(props.get("eval_args"))
    # TFX records `module_path` ("<module>@<wheel>"); a pipeline definition holds the
    # `module_file` it is made from, or a `run_fn`.
    module = str(props.get("module_path") or "").split("@", 1)[0]
    if not module and props.get("module_file"):
        module = os.path.splitext(os.path.basename(str(props["module_file"])))[0]
    return card.Training(
        component=trainer.component,
        train_steps=train_args.get("num_steps"),
        eval_steps=eval_args.get("num_steps"),
        module=module or str(props.get("run_fn") or ""),
        custom_config=json_object(props.get("custom_config")),
        hyperparameters=hyperparameters(hyperparameter_ref) if hyperparameter_ref else {},
        transform=transform,
        source=card.Source(type_name=trainer.type_name, uri="", execution_id=trainer.id),
    )


def class_names(transform_graph: ArtifactRef, vocabulary: str) -> tuple[str, ...]:
    """The tokens of a Transform vocabulary, in id order (token i is class id i).

    Read with TFT's own `TFTransformOutput.vocabulary_by_name`.

    Raises:
        SourceError: the graph has no such vocabulary (the message lists those it has).
    """
    import tensorflow_transform as tft
    from tfx.dsl.io import fileio

    output = tft.TFTransformOutput(transform_graph.uri)
    if output.vocabulary_file_by_name(vocabulary) is None:
        assets = os.path.join(output.transform_savedmodel_dir, "assets")
        names = sorted(fileio.listdir(assets)) if fileio.isdir(assets) else []
        raise SourceError(
            f"the Transform graph at {transform_graph.uri} has no vocabulary {vocabulary!r}; "
            f"it has {names}"
        )
    return tuple(t.decode("utf-8", "replace") for t in output.vocabulary_by_name(vocabulary))
