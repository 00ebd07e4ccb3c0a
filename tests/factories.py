"""Small, valid card objects for the pure unit tests (no TensorFlow)."""

from __future__ import annotations

from mct_component import card
from mct_component.card import charts

MODEL_SOURCE = card.Source(type_name="Model", uri="/root/Trainer/model/6", artifact_id=6)
STATS_SOURCE = card.Source(type_name="ExampleStatistics", uri="/root/stats/3", artifact_id=3)


FEATURES = (
    card.FeatureSummary(
        name="bill_length_mm",
        type="FLOAT",
        missing_pct=0.0,
        mean=43.9,
        std_dev=5.4,
        min=32.1,
        max=59.6,
        chart=charts.Histogram(
            title="bill_length_mm",
            description="Distribution of bill_length_mm.",
            x_label="bill_length_mm",
            buckets=(charts.Bucket(32.1, 45.0, 120.0), charts.Bucket(45.0, 59.6, 110.0)),
        ),
    ),
    card.FeatureSummary(
        name="island",
        type="STRING",
        missing_pct=0.0,
        unique=3,
        top_values=(card.TopValue("Biscoe", 114.0), card.TopValue("Dream", 80.0)),
        chart=charts.BarChart(
            title="island",
            description="Most frequent values of island.",
            x_label="count",
            y_label="island",
            bars=(charts.Bar("Biscoe", 114.0), charts.Bar("Dream", 80.0)),
        ),
    ),
)


def make_card(**overrides) -> card.Card:
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
            card.DatasetSplit("train", 230, 7, STATS_SOURCE, features=FEATURES),
            card.DatasetSplit("eval", 103, 7, STATS_SOURCE),
        ),
        schema=card.SchemaSummary(
            features=(card.SchemaFeature("island", "BYTES", True, "string domain island"),),
            source=card.Source("Schema", "/root/schema/4", 4),
        ),
        training=card.Training(
            component="Trainer",
            train_steps=100,
            eval_steps=5,
            module="penguin_module",
            custom_config={"hidden_units": 8},
            transform=True,
            source=card.Source("tfx.components.trainer.component.Trainer", "", execution_id=6),
        ),
        comparison=card.Comparison(
            baseline_model=card.Source("Model", "/root/Trainer/model/2", 2),
            baseline_version="2026-11-21T10:00:00",
            basis="evaluator_baseline",
            metric_deltas=(
                card.MetricDelta("Overall", "sparse_categorical_accuracy", 0.99, 0.97, 0.02),
            ),
            config_changes=(
                card.Change("Trainer.train_args", '{"num_steps": 100}', '{"num_steps": 50}'),
            ),
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
            thresholds=(
                card.Threshold(
                    "sparse_categorical_accuracy", "value", lower_bound=0.6, passed=True
                ),
                card.Threshold(
                    "sparse_categorical_accuracy",
                    "change",
                    direction="HIGHER_IS_BETTER",
                    absolute=-1e-10,
                    passed=True,
                ),
            ),
            charts=(
                charts.Matrix(
                    title="Confusion matrix",
                    description="Actual by predicted class.",
                    row_labels=("0", "1"),
                    column_labels=("0", "1"),
                    values=((50.0, 2.0), (1.0, 50.0)),
                ),
            ),
        ),
        considerations=card.Considerations(
            limitations=("Only three islands.",),
            ethical_considerations=(card.EthicalConsideration("Bias", "Per-slice metrics"),),
            risk=card.Risk("low", "Not deployed."),
        ),
        deployment=card.Deployment(pushed=True, destination="/serving/1", version="1"),
    )
    fields.update(overrides)
    return card.Card(**fields)
