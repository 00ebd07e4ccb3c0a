"""Small, valid card objects for the pure unit tests (no TensorFlow)."""

from __future__ import annotations

from mct_component import card

MODEL_SOURCE = card.Source(type_name="Model", uri="/root/Trainer/model/6", artifact_id=6)
STATS_SOURCE = card.Source(type_name="ExampleStatistics", uri="/root/stats/3", artifact_id=3)


def make_card(**overrides) -> card.ModelCard:
    """A card with every section filled; keyword arguments replace top-level fields."""
    fields = dict(
        model_details=card.ModelDetails(
            name="Penguin classifier",
            version="6",
            uri=MODEL_SOURCE.uri,
            created="2026-11-22T16:35:58+00:00",
            overview="Predicts species.",
            owners=(card.Owner("Team", "team@example.com"),),
            source=MODEL_SOURCE,
        ),
        datasets=(
            card.DatasetSplit("train", 230, 7, STATS_SOURCE),
            card.DatasetSplit("eval", 103, 7, STATS_SOURCE),
        ),
        quantitative_analysis=card.QuantitativeAnalysis(
            overall=(
                card.Metric("example_count", 103.0),
                card.Metric("sparse_categorical_accuracy", 0.9903, 0.9699, 1.0107),
            ),
            slices=(
                card.SliceMetrics(
                    "island=Biscoe",
                    (card.Metric("sparse_categorical_accuracy", 0.98, 0.95, 1.0),),
                ),
                card.SliceMetrics("sex=female", (card.Metric("example_count", 50.0),)),
            ),
            blessed=True,
        ),
        considerations=card.Considerations(
            limitations=("Only three islands.",),
            ethical_considerations=(card.EthicalConsideration("Bias", "Per-slice metrics"),),
            risk=card.Risk("low", "Not deployed."),
        ),
        deployment=card.Deployment(pushed=True, destination="/serving/1", version="1"),
    )
    fields.update(overrides)
    return card.ModelCard(**fields)
