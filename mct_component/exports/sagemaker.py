"""Amazon SageMaker model card content: export a card, import content.

The export is the `content` document of a SageMaker model card (the shapes of
`sagemaker.core.shapes.model_card_shapes`, within the limits of SageMaker's model card
JSON schema: field lengths, list counts, a 20 x 20 matrix, 100,000 characters in all).
What does not fit is cut, and every cut is reported. Human-written sections SageMaker
has no field for travel in `additional_information.custom_details` under keys that
start with `mct:`, so an import gives back the content that was exported.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mct_component import card
from mct_component.card import charts
from mct_component.exports import reading
from mct_component.text import shorten, without_empty

MAX_CONTENT_CHARACTERS = 100_000
MAX_NAME = 255  # metric and hyper-parameter names
MAX_SHORT = 63  # group and evaluation names, axis labels, objective facet and condition
MAX_NOTES = 1024  # metric notes, model overview fields, training observations
MAX_LONG = 2048  # intended uses, business details, additional information
MAX_EVALUATION_OBSERVATION = 2096
MAX_CUSTOM_VALUE = 1024
MAX_HYPER_PARAMETERS = 100
MAX_ARTIFACTS = 15
MAX_EVALUATION_DATASETS = 10
MAX_MATRIX = 20
RISK_RATINGS = {"low": "Low", "medium": "Medium", "high": "High", "unknown": "Unknown"}
FUNCTIONS = {"minimize": "Minimize", "maximize": "Maximize"}
# Custom-detail keys carrying the human-written sections SageMaker has no field for.
CARRIED = "mct:"
_CARRIED_LISTS = ("primary_users", "out_of_scope_uses", "references")
_CARRIED_TEXTS = ("license", "citation", "objective_function_notes")


class _Cuts:
    """Shortens what exceeds SageMaker's limits and remembers what it cut."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def text(self, value: str, limit: int, where: str) -> str:
        if len(value) <= limit:
            return value
        self.notes.append(f"{where}: cut from {len(value):,} to {limit:,} characters")
        return shorten(value, limit)

    def items(self, values: Sequence[Any], limit: int, where: str) -> list[Any]:
        if len(values) <= limit:
            return list(values)
        self.notes.append(f"{where}: kept the first {limit} of {len(values)}")
        return list(values[:limit])


def export(model_card: card.Card) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The card as SageMaker model card content, and what had to be cut to fit.

    Returns:
        The content (JSON-ready) and one line per cut, e.g.
        "model_overview.model_description: cut from 1,500 to 1,024 characters".
    """
    cuts = _Cuts()
    cons = model_card.considerations
    details = model_card.model_details
    content: dict[str, Any] = {
        "model_overview": without_empty(
            {
                "model_description": cuts.text(
                    details.overview, MAX_NOTES, "model_overview.model_description"
                ),
                "model_owner": cuts.text(
                    "\n".join(_owner_line(o) for o in details.owners),
                    MAX_NOTES,
                    "model_overview.model_owner",
                ),
                "model_artifact": [cuts.text(details.uri, MAX_NOTES, "model_artifact")]
                if details.uri
                else [],
                "algorithm_type": cuts.text(
                    model_card.training.component if model_card.training else "",
                    MAX_NOTES,
                    "model_overview.algorithm_type",
                ),
            }
        ),
        "intended_uses": without_empty(
            {
                "purpose_of_model": _lines(
                    cuts, cons.intended_use.primary_uses, MAX_LONG, "intended_uses.purpose_of_model"
                ),
                "factors_affecting_model_efficiency": _lines(
                    cuts,
                    cons.tradeoffs,
                    MAX_LONG,
                    "intended_uses.factors_affecting_model_efficiency",
                ),
                "risk_rating": RISK_RATINGS[cons.risk.rating],
                "explanations_for_risk_rating": cuts.text(
                    cons.risk.explanation, MAX_LONG, "intended_uses.explanations_for_risk_rating"
                ),
            }
        ),
        "business_details": without_empty(
            {
                key: cuts.text(
                    getattr(cons.business_details, key), MAX_LONG, f"business_details.{key}"
                )
                for key in ("business_problem", "business_stakeholders", "line_of_business")
            }
        ),
        "training_details": without_empty(
            {
                "objective_function": _objective(cuts, cons.objective_function),
                "training_observations": cuts.text(
                    cons.training_observations, MAX_NOTES, "training_details.training_observations"
                ),
                "training_job_details": _training_job(cuts, model_card),
            }
        ),
        "evaluation_details": _evaluation(cuts, model_card),
        "additional_information": without_empty(
            {
                "ethical_considerations": _lines(
                    cuts,
                    [_ethics_line(e) for e in cons.ethical_considerations],
                    MAX_LONG,
                    "additional_information.ethical_considerations",
                ),
                "caveats_and_recommendations": _lines(
                    cuts,
                    cons.limitations,
                    MAX_LONG,
                    "additional_information.caveats_and_recommendations",
                ),
                "custom_details": _custom_details(cuts, model_card),
            }
        ),
    }
    content = without_empty(content)
    _fit(content, cuts)
    return content, tuple(cuts.notes)


def _owner_line(owner: card.Owner) -> str:
    return f"{owner.name} <{owner.contact}>" if owner.contact else owner.name


def _ethics_line(consideration: card.EthicalConsideration) -> str:
    if consideration.mitigation:
        return f"{consideration.name}: {consideration.mitigation}"
    return consideration.name


def _lines(cuts: _Cuts, items: Iterable[str], limit: int, where: str) -> str:
    """Items one per line (a line break inside an item becomes a space)."""
    return cuts.text("\n".join(" ".join(i.splitlines()) for i in items), limit, where)


def _objective(cuts: _Cuts, objective: card.ObjectiveFunction) -> dict[str, Any]:
    return without_empty(
        {
            "function": FUNCTIONS.get(objective.function),
            "facet": cuts.text(objective.facet, MAX_SHORT, "objective_function.facet"),
            "condition": cuts.text(objective.condition, MAX_SHORT, "objective_function.condition"),
        }
    )


def _training_job(cuts: _Cuts, model_card: card.Card) -> dict[str, Any]:
    datasets = _dataset_uris(model_card)
    parameters: dict[str, Any] = {}
    training = model_card.training
    if training:
        for name, value in (
            ("train_steps", training.train_steps),
            ("eval_steps", training.eval_steps),
        ):
            if value is not None:
                parameters[name] = value
        parameters.update(training.hyperparameters)
    hyper = [
        {
            "name": cuts.text(
                str(name) or "-", MAX_NAME, f"hyper-parameter {str(name)[:40]!r} name"
            ),
            "value": cuts.text(
                value if isinstance(value, str) else json.dumps(value, sort_keys=True),
                MAX_NAME,
                f"hyper-parameter {str(name)[:40]!r} value",
            ),
        }
        for name, value in sorted(parameters.items())
    ]
    return without_empty(
        {
            "training_datasets": [
                cuts.text(uri, MAX_NOTES, "training_datasets[]")
                for uri in cuts.items(
                    datasets, MAX_ARTIFACTS, "training_job_details.training_datasets"
                )
            ],
            "hyper_parameters": cuts.items(
                hyper, MAX_HYPER_PARAMETERS, "training_job_details.hyper_parameters"
            ),
        }
    )


def _dataset_uris(model_card: card.Card) -> list[str]:
    """Where the statistics' splits came from, each once (splits often share a folder)."""
    return list(dict.fromkeys(s.source.uri for s in model_card.datasets if s.source.uri))


def _evaluation(cuts: _Cuts, model_card: card.Card) -> list[dict[str, Any]]:
    qa = model_card.quantitative_analysis
    cons = model_card.considerations
    if not (qa.overall or qa.slices or qa.charts or cons.evaluation_observations):
        return []
    groups = []
    if qa.overall:
        groups.append(_group(cuts, "Overall", [_simple(cuts, m) for m in qa.overall]))
    for slice_metrics in qa.slices:
        metrics = [_simple(cuts, m) for m in slice_metrics.metrics]
        groups.append(_group(cuts, slice_metrics.slice, metrics))
    for chart in qa.charts:
        metric = _chart_metric(cuts, chart)
        if metric:
            groups.append(_group(cuts, chart.title or chart.kind, [metric]))
    metadata = {}
    if qa.blessed is not None:
        metadata["blessed"] = "yes" if qa.blessed else "no"
    if qa.source:
        metadata["evaluation_uri"] = cuts.text(qa.source.uri, MAX_CUSTOM_VALUE, "metadata")
    datasets = _dataset_uris(model_card)
    item = {
        "name": "TFMA evaluation",
        "evaluation_observation": cuts.text(
            cons.evaluation_observations,
            MAX_EVALUATION_OBSERVATION,
            "evaluation_details[0].evaluation_observation",
        ),
        "datasets": [
            cuts.text(uri, MAX_NOTES, "evaluation datasets[]")
            for uri in cuts.items(
                datasets, MAX_EVALUATION_DATASETS, "evaluation_details[0].datasets"
            )
        ],
        "metadata": metadata,
        "metric_groups": [g for g in groups if g["metric_data"]],
    }
    return [without_empty(item)]


def _group(cuts: _Cuts, name: str, metrics: list[dict[str, Any] | None]) -> dict[str, Any]:
    return {
        "name": cuts.text(name or "-", MAX_SHORT, f"metric group {name[:40]!r} name"),
        "metric_data": [m for m in metrics if m is not None],
    }


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _simple(cuts: _Cuts, metric: card.Metric) -> dict[str, Any] | None:
    if not _finite(metric.value):
        return None
    entry: dict[str, Any] = {
        "name": cuts.text(metric.label, MAX_NAME, f"metric {metric.label[:40]!r} name"),
        "type": "number",
        "value": metric.value,
    }
    if _finite(metric.lower_bound) and _finite(metric.upper_bound):
        entry["notes"] = f"95% confidence interval [{metric.lower_bound}, {metric.upper_bound}]"
    return entry


def _axis(cuts: _Cuts, label: str, where: str) -> str:
    return cuts.text(label, MAX_SHORT, where)


def _chart_metric(cuts: _Cuts, chart: charts.Chart) -> dict[str, Any] | None:
    """A chart as a SageMaker bar chart, matrix or linear graph (first series)."""
    where = f"chart {chart.title[:40]!r}"
    base = without_empty(
        {
            "name": cuts.text(chart.title or chart.kind, MAX_NAME, f"{where} name"),
            "notes": cuts.text(chart.description, MAX_NOTES, f"{where} notes"),
        }
    )
    if isinstance(chart, charts.BarChart) and chart.bars:
        return base | {
            "type": "bar_chart",
            "value": [bar.value for bar in chart.bars],
            "x_axis_name": [_axis(cuts, bar.label, f"{where} axis") for bar in chart.bars],
            "y_axis_name": _axis(cuts, chart.x_label, f"{where} axis"),
        }
    if isinstance(chart, charts.Histogram) and chart.buckets:
        return base | {
            "type": "bar_chart",
            "value": [bucket.count for bucket in chart.buckets],
            "x_axis_name": [
                _axis(cuts, f"{b.low:.4g}–{b.high:.4g}", f"{where} axis") for b in chart.buckets
            ],
            "y_axis_name": "count",
        }
    if isinstance(chart, charts.Matrix) and chart.values:
        rows = cuts.items(chart.values, MAX_MATRIX, f"{where} rows")
        columns = min(len(chart.column_labels), MAX_MATRIX)
        if columns < len(chart.column_labels):
            cuts.notes.append(
                f"{where} columns: kept the first {columns} of {len(chart.column_labels)}"
            )
        return base | {
            "type": "matrix",
            "value": [list(row[:columns]) for row in rows],
            "x_axis_name": [_axis(cuts, c, f"{where} axis") for c in chart.column_labels[:columns]],
            "y_axis_name": [_axis(cuts, r, f"{where} axis") for r in chart.row_labels[: len(rows)]],
        }
    if isinstance(chart, charts.Curve):
        drawn = [s for s in chart.series if s.points]
        if not drawn:
            return None
        if len(drawn) > 1:
            cuts.notes.append(f"{where}: kept the first of {len(drawn)} series")
        return base | {
            "type": "linear_graph",
            "value": [list(point) for point in drawn[0].points],
            "x_axis_name": _axis(cuts, chart.x_label, f"{where} axis"),
            "y_axis_name": _axis(cuts, chart.y_label, f"{where} axis"),
        }
    return None


def _custom_details(cuts: _Cuts, model_card: card.Card) -> dict[str, str]:
    cons = model_card.considerations
    details = model_card.model_details
    carried: dict[str, str | tuple[str, ...]] = {
        "primary_users": cons.intended_use.primary_users,
        "out_of_scope_uses": cons.intended_use.out_of_scope_uses,
        "references": details.references,
        "license": details.license,
        "citation": details.citation,
        "objective_function_notes": cons.objective_function.notes,
    }
    custom = {}
    for key, text in cons.custom_details.items():
        if key.startswith(CARRIED):
            cuts.notes.append(
                f"custom detail {key[:40]!r} left out: keys starting {CARRIED!r} are reserved"
            )
            continue
        custom[key] = cuts.text(text, MAX_CUSTOM_VALUE, f"custom detail {key[:40]!r}")
    for key, value in carried.items():
        if not value:
            continue
        where = f"custom detail {CARRIED}{key}"
        if isinstance(value, str):
            custom[CARRIED + key] = cuts.text(value, MAX_CUSTOM_VALUE, where)
            continue
        # A JSON list must stay whole to be read back: drop items from the end to fit.
        items = list(value)
        while items and len(json.dumps(items, ensure_ascii=False)) > MAX_CUSTOM_VALUE:
            items.pop()
        if len(items) < len(value):
            cuts.notes.append(f"{where}: kept the first {len(items)} of {len(value)} items")
        if items:
            custom[CARRIED + key] = json.dumps(items, ensure_ascii=False)
    return custom


def _size(content: Mapping[str, Any]) -> int:
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")))


def _fit(content: dict[str, Any], cuts: _Cuts) -> None:
    """Drops metric groups, last first, until the content fits SageMaker's size cap."""
    size = _size(content)
    if size <= MAX_CONTENT_CHARACTERS:
        return
    groups = content.get("evaluation_details", [{}])[0].get("metric_groups", [])
    dropped = 0
    while groups and size > MAX_CONTENT_CHARACTERS:
        groups.pop()
        dropped += 1
        size = _size(content)
    if dropped:
        cuts.notes.append(
            f"evaluation_details[0].metric_groups: left out the last {dropped} groups to stay "
            f"within {MAX_CONTENT_CHARACTERS:,} characters"
        )
    if size > MAX_CONTENT_CHARACTERS:  # only custom details and hyper-parameters are left
        custom = content.get("additional_information", {}).get("custom_details", {})
        for key in sorted(custom, reverse=True):
            if size <= MAX_CONTENT_CHARACTERS:
                break
            del custom[key]
            cuts.notes.append(f"custom detail {key[:40]!r} left out to stay within the size cap")
            size = _size(content)


_OWNER = re.compile(r"^(?P<name>.*?)\s*<(?P<contact>[^<>]*)>$")


def import_content(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Card content (`card_content.schema.json`) from SageMaker model card content.

    Args:
        data: the parsed `content` JSON document.
        name: how to name the file in errors.

    Raises:
        CardContentError: a field has the wrong type (naming it).
    """
    read = reading.Reader(name)
    overview = read.mapping(data, "model_overview")
    uses = read.mapping(data, "intended_uses")
    business = read.mapping(data, "business_details")
    training = read.mapping(data, "training_details")
    objective = read.mapping(training, "objective_function", "training_details")
    additional = read.mapping(data, "additional_information")
    custom = read.string_map(additional, "custom_details", "additional_information")
    evaluations = read.items(data, "evaluation_details")
    carried = {k[len(CARRIED) :]: v for k, v in custom.items() if k.startswith(CARRIED)}

    def carried_list(key: str) -> list[str]:
        if key not in carried:
            return []
        try:
            value = json.loads(carried[key])
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            read.fail(
                f"additional_information.custom_details.{CARRIED}{key}", "a JSON list of text"
            )
        return value

    owners = []
    for line in read.lines(overview, "model_owner", "model_overview"):
        match = _OWNER.match(line)
        owners.append(
            {"name": match["name"], "contact": match["contact"]} if match else {"name": line}
        )
    ethics = []
    for line in read.lines(additional, "ethical_considerations", "additional_information"):
        name, _, mitigation = line.partition(": ")
        ethics.append({"name": name, "mitigation": mitigation} if mitigation else {"name": name})
    rating = read.text(uses, "risk_rating", "intended_uses")
    ratings = {v: k for k, v in RISK_RATINGS.items()}
    if rating and rating not in ratings:
        read.fail("intended_uses.risk_rating", f"one of {', '.join(ratings)}")
    function = read.text(objective, "function", "training_details.objective_function")
    functions = {v: k for k, v in FUNCTIONS.items()}
    if function and function not in functions:
        read.fail("training_details.objective_function.function", "Maximize or Minimize")
    observation = ""
    if evaluations:
        first = read.item_mapping(evaluations, 0, "evaluation_details")
        observation = read.text(first, "evaluation_observation", "evaluation_details[0]")
    content: dict[str, Any] = {
        "model_details": {
            "overview": read.text(overview, "model_description", "model_overview"),
            "owners": owners,
            "license": carried.get("license", ""),
            "references": carried_list("references"),
            "citation": carried.get("citation", ""),
        },
        "intended_use": {
            "primary_uses": read.lines(uses, "purpose_of_model", "intended_uses"),
            "primary_users": carried_list("primary_users"),
            "out_of_scope_uses": carried_list("out_of_scope_uses"),
        },
        "limitations": read.lines(
            additional, "caveats_and_recommendations", "additional_information"
        ),
        "tradeoffs": read.lines(uses, "factors_affecting_model_efficiency", "intended_uses"),
        "ethical_considerations": ethics,
        # No rating in the file says nothing about the risk: the card keeps its own.
        "risk": {
            "rating": ratings.get(rating, ""),
            "explanation": read.text(uses, "explanations_for_risk_rating", "intended_uses"),
        },
        "business_details": {
            key: read.text(business, key, "business_details")
            for key in ("business_problem", "business_stakeholders", "line_of_business")
        },
        "objective_function": {
            "function": functions.get(function, ""),
            "facet": read.text(objective, "facet", "training_details.objective_function"),
            "condition": read.text(objective, "condition", "training_details.objective_function"),
            "notes": carried.get("objective_function_notes", ""),
        },
        "training_observations": read.text(training, "training_observations", "training_details"),
        "evaluation_observations": observation,
        "custom_details": {k: v for k, v in custom.items() if not k.startswith(CARRIED)},
    }
    return reading.prune(content)
