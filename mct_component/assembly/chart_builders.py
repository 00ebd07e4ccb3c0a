"""Charts made from the card's data: feature distributions, metrics by slice, TFMA plots.

The readers return plain data; this module decides how it is drawn (which
chart kind, top-k cut, titles and descriptions). Charts are stored in the card JSON and
drawn by `svg.to_svg`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mct_component import card
from mct_component.card.charts import (
    Bar,
    BarChart,
    Bucket,
    Chart,
    Curve,
    Histogram,
    Matrix,
    Series,
    top_k,
)
from mct_component.readers.evaluation import Calibration, ConfusionMatrix, Plot, ThresholdSweep
from mct_component.readers.statistics import TOP_VALUES, Distribution, SplitStatistics


def with_feature_charts(statistics: SplitStatistics) -> card.DatasetSplit:
    """A split's card section with each feature's distribution chart."""
    features = tuple(
        feature.replace(chart=feature_chart(feature.name, statistics.distributions[feature.name]))
        if feature.name in statistics.distributions
        else feature
        for feature in statistics.split.features
    )
    return statistics.split.replace(features=features)


def feature_chart(name: str, distribution: Distribution) -> Chart | None:
    """A histogram of a numeric feature, or a bar chart of a categorical one's top values."""
    if distribution.buckets:
        # TFDV gives infinite bucket bounds when the data holds inf; charts need finite numbers.
        buckets = tuple(
            Bucket(low, high, count)
            for low, high, count in distribution.buckets
            if math.isfinite(low) and math.isfinite(high)
        )
        if not buckets:
            return None
        return Histogram(
            title=name,
            description=f"Distribution of {name}: {len(buckets)} equal-width buckets "
            f"from {distribution.minimum:g} to {distribution.maximum:g}.",
            x_label="",  # the title already names the feature
            buckets=buckets,
        )
    if distribution.ranked_values:
        pairs = top_k(distribution.ranked_values, TOP_VALUES)
        return BarChart(
            title=name,
            description=f"Most frequent values of {name} ({distribution.unique} distinct).",
            x_label="count",
            y_label="",  # the title already names the feature
            bars=tuple(Bar(label, count) for label, count in pairs),
        )
    return None


def slice_charts(slices: Iterable[card.SliceMetrics]) -> tuple[Chart, ...]:
    """One bar chart per metric across slices, with confidence intervals as error bars."""
    by_metric: dict[str, list[Bar]] = {}
    for entry in slices:
        for metric in entry.metrics:
            if metric.value is not None:
                by_metric.setdefault(metric.label, []).append(
                    Bar(
                        label=entry.slice,
                        value=metric.value,
                        lower=metric.lower_bound,
                        upper=metric.upper_bound,
                    )
                )
    return tuple(
        BarChart(
            title=f"{label} by slice",
            description=f"{label} for each of {len(bars)} slices, with confidence intervals where computed.",
            x_label=label,
            y_label="slice",
            bars=tuple(bars),
        )
        for label, bars in sorted(by_metric.items())
    )


def plot_charts(plots: Iterable[Plot], class_names: tuple[str, ...] = ()) -> tuple[Chart, ...]:
    """Charts of TFMA's plots: confusion matrix, ROC and precision-recall curves, calibration.

    `class_names[i]` names class id i in the confusion matrix (ids are shown otherwise).
    """
    charts: list[Chart] = []
    for plot in plots:
        if isinstance(plot, ConfusionMatrix):
            charts.append(_confusion_matrix(plot, class_names))
        elif isinstance(plot, ThresholdSweep):
            roc = _finite((fpr, recall) for fpr, recall, _ in plot.points)
            pr = _finite((recall, precision) for _, recall, precision in plot.points)
            charts.append(
                _curve("ROC curve", "false positive rate", "true positive rate", plot.metric, roc)
            )
            charts.append(_curve("Precision-recall curve", "recall", "precision", plot.metric, pr))
        elif isinstance(plot, Calibration):
            points = _finite(plot.points)
            if points:
                charts.append(
                    _curve("Calibration", "mean prediction", "mean label", plot.metric, points)
                )
    return tuple(charts)


def _confusion_matrix(plot: ConfusionMatrix, class_names: tuple[str, ...]) -> Matrix:
    labels = tuple(class_names[i] if 0 <= i < len(class_names) else str(i) for i in plot.class_ids)
    what = "class" if class_names else "class id"
    return Matrix(
        title=f"Confusion matrix ({plot.metric})",
        description=f"Examples by actual (rows) and predicted (columns) {what}, threshold {plot.threshold:g}.",
        row_labels=labels,
        column_labels=labels,
        values=plot.counts,
        row_title="actual class",
        column_title="predicted class",
    )


def _curve(
    title: str, x_label: str, y_label: str, name: str, points: tuple[tuple[float, float], ...]
) -> Curve:
    return Curve(
        title=title,
        description=f"{title}: {y_label} against {x_label}, {len(points)} points.",
        x_label=x_label,
        y_label=y_label,
        series=(Series(name=name, points=points),),
    )


def _finite(points: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Curve points without NaN/inf (e.g. TFMA's precision where nothing is predicted)."""
    return tuple((x, y) for x, y in points if math.isfinite(x) and math.isfinite(y))
