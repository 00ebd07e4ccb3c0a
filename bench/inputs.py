"""Benchmark inputs made for real: synthetic tabular data, its TFDV statistics, a TFMA evaluation.

For a dataset of N features, `ensure_inputs` writes under `<root>/features-<N>/`:

    statistics/Split-{train,eval,test}/FeatureStats.pb   # StatisticsGen's layout and format
    evaluation/metrics-*, plots-*, validations*, eval_config.json   # Evaluator's layout
    model/                                                # stands in for the Model artifact
    manifest.json                                         # written last: the cache marker

The data has N columns (the label, two slicing columns `region` and `channel`, then a mix
of float, integer, short categorical and long-named categorical features, some with
missing values), deterministic for a given N. With `text_every=k`, every k-th column is
free text instead (mostly unique sentences of 3 to 60 words, some with the HTML line
breaks review data has), under `features-<N>-text<k>/`. Statistics come from TFDV; the evaluation
from TFMA run model-agnostically on the eval split, whose predictions are made by a fixed
noisy scoring rule. Inputs are reused while `manifest.json` matches the parameters.

Regenerate by deleting `build/bench/inputs/`, or run `python -m bench.inputs 10 200`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import shutil
import string
from collections.abc import Mapping, Sequence
from typing import Any

GENERATOR_VERSION = 1
DEFAULT_ROOT = pathlib.Path("build/bench/inputs")
DEFAULT_ROWS = {"train": 2000, "eval": 1000, "test": 1000}
SPLIT_NAMES = ("train", "eval", "test")
# 15 regions + 4 channels + the overall slice = 20 slices.
REGIONS = (
    "north",
    "south",
    "east",
    "west",
    "central",
    "north-east atlantic coastal territories and associated outlying islands",
    "south-west interior highlands administrative district",
    "metropolitan area (greater capital region, including commuter belt)",
    "lakes",
    "plains",
    "delta",
    "valley",
    "archipelago",
    "frontier",
    "overseas departments",
)
CHANNELS = ("web", "mobile app", "branch office", "partner referral program")
METRICS = ("ExampleCount", "BinaryAccuracy", "AUC", "Precision", "Recall")
PLOTS = ("CalibrationPlot", "ConfusionMatrixPlot")
FEATURE_KINDS = ("float", "int", "cat", "longcat", "skewed")
FIXED_COLUMNS = ("label", "region", "channel")
# Columns TFDV is given at once (see `write_statistics`).
STATISTICS_BLOCK = 2500


@dataclasses.dataclass(frozen=True)
class BenchInputs:
    """Where the inputs for one feature count live."""

    n_features: int
    directory: str
    rows: Mapping[str, int]
    text_every: int = 0

    @property
    def statistics_uri(self) -> str:
        return os.path.join(self.directory, "statistics")

    @property
    def evaluation_uri(self) -> str:
        return os.path.join(self.directory, "evaluation")

    @property
    def model_uri(self) -> str:
        return os.path.join(self.directory, "model")


def manifest(
    n_features: int, rows: Mapping[str, int], confidence_intervals: bool, text_every: int = 0
) -> dict[str, Any]:
    """The parameters the inputs were generated with; a change regenerates them."""
    return {
        **({"text_every": text_every} if text_every else {}),
        "generator_version": GENERATOR_VERSION,
        "n_features": n_features,
        "rows": dict(rows),
        "confidence_intervals": confidence_intervals,
        "metrics": list(METRICS),
        "plots": list(PLOTS),
        "slices": 1 + len(REGIONS) + len(CHANNELS),
    }


def ensure_inputs(
    n_features: int,
    root: str | os.PathLike = DEFAULT_ROOT,
    rows: Mapping[str, int] | None = None,
    confidence_intervals: bool = True,
    text_every: int = 0,
) -> BenchInputs:
    """Returns the inputs for `n_features`, generating them unless a matching cache exists.

    Args:
        n_features: number of columns in the dataset, label included (at least 4).
        root: cache folder.
        rows: examples per split (default `DEFAULT_ROWS`); every split in `SPLIT_NAMES`.
        confidence_intervals: have TFMA compute them (most of the generation time).
        text_every: make every `text_every`-th feature free text (0: none).
    """
    if n_features < len(FIXED_COLUMNS) + 1:
        raise ValueError(f"n_features must be at least {len(FIXED_COLUMNS) + 1}, got {n_features}")
    rows = dict(rows or DEFAULT_ROWS)
    if sorted(rows) != sorted(SPLIT_NAMES):
        raise ValueError(f"rows must give a count for each of {SPLIT_NAMES}, got {sorted(rows)}")
    expected = manifest(n_features, rows, confidence_intervals, text_every)
    directory = pathlib.Path(root) / (
        f"features-{n_features}-text{text_every}" if text_every else f"features-{n_features}"
    )
    marker = directory / "manifest.json"
    if not (marker.exists() and json.loads(marker.read_text()) == expected):
        staging = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        frames = {
            split: make_frame(n_features, count, seed=i, text_every=text_every)
            for i, (split, count) in enumerate(sorted(rows.items()))
        }
        write_statistics(frames, str(staging / "statistics"))
        write_evaluation(
            with_predictions(frames["eval"]), str(staging / "evaluation"), confidence_intervals
        )
        (staging / "model").mkdir()
        (staging / "manifest.json").write_text(json.dumps(expected, indent=2, sort_keys=True))
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    return BenchInputs(n_features, str(directory), rows, text_every)


def feature_names(n_features: int, text_every: int = 0) -> list[str]:
    """Column names: the fixed columns, then `f0003_float`, `f0004_int`, …"""
    return list(FIXED_COLUMNS) + [
        f"f{i:04d}_{_kind(i, text_every)}" for i in range(len(FIXED_COLUMNS), n_features)
    ]


def _kind(i: int, text_every: int) -> str:
    return "text" if text_every and i % text_every == 0 else FEATURE_KINDS[i % len(FEATURE_KINDS)]


# Free-text columns draw their rows from one pool of sentences (each column its own
# choice and order, no row twice): mostly unique values, as reviews or notes are.
_SENTENCE_POOL = 20_000


def _sentences(rng: Any) -> Any:
    import numpy as np

    vocabulary = [
        "".join(rng.choice(list(string.ascii_lowercase), size=rng.integers(1, 10)))
        for _ in range(3000)
    ]
    lengths = rng.integers(3, 61, size=_SENTENCE_POOL)
    words = rng.integers(0, len(vocabulary), size=int(lengths.sum()))
    pool, at = [], 0
    for k, length in enumerate(lengths):
        sentence = " ".join(vocabulary[w] for w in words[at : at + length])
        pool.append(f"{sentence}.<br /><br />{k}" if k % 5 == 0 else f"{sentence}. {k}")
        at += length
    return np.asarray(pool, dtype=object)


def _long_names(count: int, rng: Any) -> list[str]:
    words = [
        "".join(rng.choice(list(string.ascii_lowercase), size=rng.integers(4, 11)))
        for _ in range(6 * count)
    ]
    return [f"{' '.join(words[6 * k : 6 * k + 6])} segment {k}" for k in range(count)]


def make_frame(n_features: int, count: int, seed: int, text_every: int = 0) -> Any:
    """One split as a pandas DataFrame of `n_features` columns and `count` rows."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed + 1000 * n_features)
    region_weights = np.linspace(2.0, 0.5, len(REGIONS))
    region = rng.choice(len(REGIONS), size=count, p=region_weights / region_weights.sum())
    channel = rng.choice(len(CHANNELS), size=count, p=[0.4, 0.3, 0.2, 0.1])
    columns: dict[str, Any] = {
        "region": np.asarray(REGIONS, dtype=object)[region],
        "channel": np.asarray(CHANNELS, dtype=object)[channel],
    }
    score = (region - len(REGIONS) / 2) / len(REGIONS) + 0.3 * (channel == 0)
    names = feature_names(n_features, text_every)
    sentences = _sentences(rng) if text_every else None
    for i, name in enumerate(names[len(FIXED_COLUMNS) :], len(FIXED_COLUMNS)):
        kind = _kind(i, text_every)
        if kind == "text":
            values = sentences[rng.choice(_SENTENCE_POOL, size=count, replace=False)]
            if i % 3 == 0:
                values[rng.random(count) < 0.05] = None
        elif kind == "float":
            values: Any = rng.normal(i % 17, 1 + i % 5, size=count)
            if i % 7 == 0:
                values[rng.random(count) < 0.05] = np.nan
            if i == len(FIXED_COLUMNS):
                score = score + (values - values.mean()) / values.std()
        elif kind == "int":
            values = rng.poisson(1 + i % 9, size=count)
        elif kind == "skewed":
            values = rng.lognormal(0, 1 + (i % 3) / 2, size=count)
        else:
            vocab_size = 3 + i % 28 if kind == "cat" else 5 + i % 20
            vocab = (
                [f"c{k}" for k in range(vocab_size)]
                if kind == "cat"
                else _long_names(vocab_size, rng)
            )
            values = np.asarray(vocab, dtype=object)[rng.zipf(1.6, size=count) % vocab_size]
            if i % 6 == 0:
                values[rng.random(count) < 0.1] = None
        columns[name] = values
    columns["label"] = (score + rng.normal(0, 1, size=count) > 0).astype(np.int64)
    frame = pd.DataFrame(columns)
    return frame[names]


def with_predictions(frame: Any) -> Any:
    """The slicing columns and label of a split, plus a noisy model's predicted probability."""
    import numpy as np

    rng = np.random.default_rng(7)
    evaluated = frame[list(FIXED_COLUMNS)].copy()
    noise = rng.normal(0, 1.2, size=len(frame))
    evaluated["prediction"] = 1 / (1 + np.exp(-(2 * frame["label"].to_numpy() - 1 + noise)))
    return evaluated


def write_statistics(frames: Mapping[str, Any], uri: str) -> None:
    """TFDV statistics of each split, written as StatisticsGen does (binary proto per split).

    Wide data (above `STATISTICS_BLOCK` columns) goes through TFDV in blocks of columns,
    whose feature statistics are put together: each feature's statistics are its own,
    and TFDV's memory grows with the columns it holds at once.
    """
    import tensorflow_data_validation as tfdv

    for split, frame in frames.items():
        stats = None
        for start in range(0, frame.shape[1], STATISTICS_BLOCK):
            block = tfdv.generate_statistics_from_dataframe(
                frame.iloc[:, start : start + STATISTICS_BLOCK]
            )
            if stats is None:
                stats = block
            else:
                stats.datasets[0].features.extend(block.datasets[0].features)
        assert stats is not None
        split_dir = pathlib.Path(uri) / f"Split-{split}"
        split_dir.mkdir(parents=True)
        (split_dir / "FeatureStats.pb").write_bytes(stats.SerializeToString())


def eval_config(confidence_intervals: bool = True) -> Any:
    """A model-agnostic binary classification config: 20 slices, a few metrics and plots."""
    import tensorflow_model_analysis as tfma

    metrics = [tfma.MetricConfig(class_name=name) for name in METRICS + PLOTS]
    metrics[METRICS.index("BinaryAccuracy")].threshold.CopyFrom(
        tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.5}))
    )
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key="label", prediction_key="prediction")],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
        slicing_specs=[
            tfma.SlicingSpec(),
            tfma.SlicingSpec(feature_keys=["region"]),
            tfma.SlicingSpec(feature_keys=["channel"]),
        ],
        options=tfma.Options(compute_confidence_intervals={"value": confidence_intervals}),
    )


def write_evaluation(frame: Any, uri: str, confidence_intervals: bool = True) -> None:
    """Runs TFMA on precomputed predictions; its default writers produce the Evaluator layout."""
    import tensorflow_model_analysis as tfma

    tfma.analyze_raw_data(frame, eval_config=eval_config(confidence_intervals), output_path=uri)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", type=int, nargs="+", help="feature counts, e.g. 10 200 2000")
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument(
        "--text-every", type=int, default=0, help="make every k-th feature free text"
    )
    args = parser.parse_args(argv)
    if args.text_every < 0:
        parser.error(f"--text-every must be 0 (none) or a positive k, got {args.text_every}")
    for n in args.features:
        print(ensure_inputs(n, args.root, text_every=args.text_every).directory)


if __name__ == "__main__":
    main()
