"""The comparison with the baseline model shows real changes only (pure, no TensorFlow)."""

from __future__ import annotations

import json

from mct_component import card
from mct_component.assembly import comparison
from mct_component.readers import json_object, training
from mct_component.readers.refs import ArtifactRef, CardInputs, ExecutionRef
from tests.factories import STATS_SOURCE


def split(**means: float | None) -> card.DatasetSplit:
    features = tuple(card.FeatureSummary(name, "FLOAT", 0.0, mean=m) for name, m in means.items())
    return card.DatasetSplit("train", 100, len(features), STATS_SOURCE, features)


def test_means_equal_to_six_digits_are_not_changes():
    # Two runs over the same data: the same mean but for the order of the sum.
    now = split(bill=41.902_700_000_000_01, depth=17.151_170_0, mass=4_207.05)
    before = split(bill=41.902_7, depth=17.151_170_3, mass=4_201.0)
    changes = comparison.data_changes((now,), (before,))
    assert [(c.key, c.value, c.baseline) for c in changes] == [
        ("train: mass mean", "4207.05", "4201")
    ]
    assert all(c.value != c.baseline for c in changes)


def test_a_mean_the_baseline_lacks_is_a_change():
    (change,) = comparison.data_changes((split(bill=1.5),), (split(bill=None),))
    assert (change.value, change.baseline) == ("1.5", "n/a")


def execution(**properties) -> ExecutionRef:
    return ExecutionRef("tfx.components.trainer.component.Trainer", 1, properties)


def test_configuration_that_only_reorders_json_is_unchanged():
    model = ArtifactRef("Model", "/m")
    now = CardInputs(model, trainer=execution(train_args='{"num_steps": 100, "splits": ["a"]}'))
    before = CardInputs(model, trainer=execution(train_args='{"splits": ["a"],  "num_steps": 100}'))
    assert comparison.config_changes(now, before) == ()
    later = CardInputs(model, trainer=execution(train_args='{"num_steps": 200}'))
    (change,) = comparison.config_changes(later, before)
    assert change.key == "Trainer.train_args" and change.value == '{"num_steps": 200}'


def test_a_trainer_without_custom_config_shows_none():
    assert json_object("null") == json_object(None) == json_object("") == {}
    trained = training.from_trainer(execution(custom_config="null"), None, transform=False)
    assert trained.custom_config == {}
    assert json.loads(json.dumps(trained.custom_config)) == {}
