"""The typed references and the facts a pipeline definition gives (pure, no TensorFlow)."""

from __future__ import annotations

import pytest

from mct_component.readers.refs import (
    ArtifactRef,
    CardInputs,
    ContextRef,
    ExecutionRef,
    PipelineFacts,
)

TRAINER = ExecutionRef("tfx.components.trainer.component.Trainer", properties={"a": "1"})
TRANSFORM = ExecutionRef("tfx.components.transform.component.Transform")
FACTS = PipelineFacts("penguins", "job-7", TRAINER, TRANSFORM)


def test_facts_fill_only_what_lineage_did_not_find():
    bare = CardInputs(ArtifactRef("Model", "/m"))
    filled = FACTS.fill(bare)
    assert filled.pipeline == ContextRef("pipeline", "penguins")
    assert filled.run == ContextRef("pipeline_run", "job-7")
    assert (filled.trainer, filled.transform) == (TRAINER, TRANSFORM)

    found = CardInputs(
        ArtifactRef("Model", "/m"),
        pipeline=ContextRef("pipeline", "from-mlmd", 1),
        run=ContextRef("pipeline_run", "run-1", 2),
        trainer=ExecutionRef("Trainer", 5),
    )
    assert FACTS.fill(found) == found
    assert PipelineFacts().fill(bare) == bare


def test_facts_and_inputs_round_trip_through_json():
    assert PipelineFacts.from_json(FACTS.to_json()) == FACTS
    assert PipelineFacts.from_json(PipelineFacts().to_json()) == PipelineFacts()
    inputs = FACTS.fill(CardInputs(ArtifactRef("Model", "/m", 3, {"k": 1})))
    assert CardInputs.from_json(inputs.to_json()) == inputs


@pytest.mark.parametrize("text", ["[]", '{"pipeline_name": "p", "colour": 1}', "{oops"])
def test_facts_from_something_else_are_refused(text):
    with pytest.raises((TypeError, ValueError)):
        PipelineFacts.from_json(text)
