"""Pure checks of the rules behind honest metrics: metric ranges, threshold listing,
integer categoricals from a histogram, one-line text. The real outputs are checked in
test_honest_metrics.py, test_feature_kinds.py and test_regression_cards.py."""

from __future__ import annotations

import json

import pytest

from mct_component.readers import evaluation, statistics
from mct_component.readers.refs import ArtifactRef
from mct_component.render import formatting


@pytest.mark.parametrize(
    ("name", "lower", "upper", "expected"),
    [
        ("sparse_categorical_accuracy", 0.9699, 1.011, (0.9699, 1.0, True)),
        ("auc", -0.02, 0.4, (0.0, 0.4, True)),
        ("binary_accuracy", 0.5, 0.7, (0.5, 0.7, False)),
        ("mean_squared_error", -3.0, 10.0, (0.0, 10.0, True)),
        ("mean_label", -3.0, 10.0, (-3.0, 10.0, False)),
        ("calibration", 0.8, 1.3, (0.8, 1.3, False)),
    ],
)
def test_intervals_are_cut_to_the_metric_range(name, lower, upper, expected):
    assert evaluation.clip_interval(name, lower, upper) == expected


def threshold(kind: str, **body: object) -> dict:
    key = "valueThreshold" if kind == "value" else "changeThreshold"
    return {key: body}


CONFIGURED = {
    "modelSpecs": [{"labelKeys": {"a": "label_a", "b": "label_b"}, "exampleWeightKey": "w"}],
    "metricsSpecs": [
        {
            "outputNames": ["a"],
            "metrics": [
                {
                    "className": "BinaryAccuracy",
                    "threshold": {
                        **threshold("value", lowerBound={"value": 0.6}),
                        **threshold("change", direction="HIGHER_IS_BETTER", absolute=-0.01),
                    },
                    "perSliceThresholds": [
                        {
                            "slicingSpecs": [{"featureValues": {"island": "Dream"}}],
                            "threshold": threshold("value", lowerBound={"value": 0.9}),
                        }
                    ],
                }
            ],
        },
        {"outputNames": ["b"], "thresholds": {"auc": threshold("value", lowerBound=0.7)}},
    ],
}


def without_change(config: dict) -> dict:
    """The config as TFX hands it to TFMA without a baseline: no change thresholds."""
    specs = []
    for spec in config["metricsSpecs"]:
        metrics = [
            {**m, "threshold": {k: v for k, v in m["threshold"].items() if k != "changeThreshold"}}
            for m in spec.get("metrics", [])
        ]
        specs.append({**spec, "metrics": metrics})
    return {**config, "metricsSpecs": specs}


def test_every_configured_threshold_is_listed_with_why_it_was_not_checked(tmp_path):
    ref = ArtifactRef("ModelEvaluation", str(tmp_path))
    found = evaluation.thresholds(ref, without_change(CONFIGURED), CONFIGURED)
    listed = [(t.metric, t.output, t.slices, t.kind, t.passed, t.note) for t in found]
    assert listed == [
        ("binary_accuracy", "a", "", "value", None, evaluation.NO_VALIDATION),
        ("binary_accuracy", "a", "", "change", None, evaluation.NO_BASELINE),
        ("binary_accuracy", "a", "island=Dream", "value", None, evaluation.NO_VALIDATION),
        ("auc", "b", "", "value", None, evaluation.NO_VALIDATION),
    ]
    # Without the Evaluator's own config, the saved one is all there is.
    assert len(evaluation.thresholds(ref, without_change(CONFIGURED))) == 3


def test_label_and_weight_keys():
    assert evaluation.feature_roles(CONFIGURED) == {
        "label_a": "label",
        "label_b": "label",
        "w": "weight",
    }
    transformed = {
        "modelSpecs": [{"labelKey": "species_xf"}, {"isBaseline": True, "labelKey": "x"}]
    }
    assert evaluation.feature_roles(transformed) == {"species_xf": "label", "species": "label"}


class _Numbers:
    def __init__(self, low: float, high: float):
        self.min, self.max = low, high


def test_integer_counts_from_tfdv_histograms():
    # TFDV's 0/1 label histogram: its sketch leaks a little into buckets without integers.
    label = [(i / 10, (i + 1) / 10, 0.02) for i in range(1, 9)]
    buckets = ((0.0, 0.1, 126.02), *label, (0.9, 1.0, 70.82))
    assert statistics._integer_counts("INT", _Numbers(0, 1), buckets) == (
        ("0", 126.0),
        ("1", 71.0),
    )
    wide = ((0.0, 10.0, 5.0), (10.0, 20.0, 5.0))
    assert statistics._integer_counts("INT", _Numbers(0, 20), wide) is None
    assert statistics._integer_counts("FLOAT", _Numbers(0, 1), buckets) is None


def test_one_line_text():
    review = "A <br /><br />fine\nfilm\x1b[31m " + "x" * 100
    shown = formatting.one_line(review, 20)
    assert shown == "A fine film[31m xxx…" and len(shown) == 20
    assert formatting.one_line("short") == "short"
    free_text = {
        "kind": "free_text",
        "avg_length": 1143.6,
        "unique_ratio": 0.98,
        "top_values": [{"value": "a\nb", "frequency": 1.0}],
    }
    assert formatting.top_values(free_text) == ("average 1144 characters, 98% unique; e.g. “a b”")


def _integer_statistics(folder, buckets_by_split):
    """A StatisticsGen-shaped folder: one INT feature per split with these histogram
    buckets ((low, high, count), ...)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    for split, buckets in buckets_by_split.items():
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        dataset = stats.datasets.add(num_examples=int(sum(c for _, _, c in buckets)))
        feature = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.INT)
        feature.path.step.append("rating")
        numbers = feature.num_stats
        numbers.min, numbers.max, numbers.mean = buckets[0][0], buckets[-1][1], 1.0
        histogram = numbers.histograms.add(type=statistics_pb2.Histogram.STANDARD)
        for low, high, count in buckets:
            histogram.buckets.add(low_value=low, high_value=high, sample_count=count)
        (folder / f"Split-{split}").mkdir(parents=True)
        (folder / f"Split-{split}" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return ArtifactRef(
        "ExampleStatistics", str(folder), 1, {"split_names": json.dumps(list(buckets_by_split))}
    )


def test_an_integer_feature_is_shown_as_bars_in_every_split_or_in_none(tmp_path):
    separated = [(0, 0, 40.0), (1, 1, 30.0), (2, 2, 30.0)]
    # eval's histogram has a bucket over two integers: its values cannot be counted.
    merged = [(0, 0, 20.0), (1, 2, 30.0)]
    both = statistics.read_splits(
        _integer_statistics(tmp_path / "a", {"train": separated, "eval": separated})
    )
    assert [s.split.features[0].kind for s in both] == ["categorical", "categorical"]
    assert [t.value for t in both[0].split.features[0].top_values] == ["0", "1", "2"]
    mixed = statistics.read_splits(
        _integer_statistics(tmp_path / "b", {"train": separated, "eval": merged})
    )
    # Before, train had bars and top values while eval had a histogram: the card's table
    # (chosen by the first split) showed eval's row empty and its chart drawn apart.
    assert [s.split.features[0].kind for s in mixed] == ["numeric", "numeric"]
    assert all(s.split.features[0].top_values == () for s in mixed)
    assert all(s.distributions["rating"].buckets for s in mixed)
