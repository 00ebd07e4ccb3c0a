"""Model Card Toolkit (schema v0.0.2) JSON: export a card, import content.

MCT's schema has no place for the risk rating, out-of-scope uses, business details, the
objective function, observations or custom details: the export says so, and an import
of an MCT card brings back only what MCT holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mct_component import card
from mct_component.card import completeness
from mct_component.exports import reading

SCHEMA_VERSION = "0.0.2"
_NOT_CARRIED = {
    "considerations.intended_use.out_of_scope_uses": "out-of-scope uses",
    "considerations.risk": "the risk rating",
    "considerations.business_details": "business details",
    "considerations.objective_function": "the objective function",
    "considerations.training_observations": "training observations",
    "considerations.evaluation_observations": "evaluation observations",
    "considerations.custom_details": "custom details",
}


def export(model_card: card.Card) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The card as MCT v0.0.2 JSON, and what MCT's schema cannot hold.

    Charts are left out: MCT's graphics are base64 PNG images, the card's are SVG.
    """
    details = model_card.model_details
    cons = model_card.considerations
    version: dict[str, Any] = {"name": details.version}
    if details.created[:10]:
        version["date"] = details.created[:10]
    model_details: dict[str, Any] = {
        "name": details.name,
        "overview": details.overview,
        "owners": [{"name": o.name, "contact": o.contact} for o in details.owners],
        "version": version,
        "licenses": [{"custom_text": details.license}] if details.license else [],
        "references": [{"reference": r} for r in details.references],
        "citations": [{"citation": details.citation}] if details.citation else [],
        "path": details.uri,
    }
    signature = next(iter(details.signatures), None)
    parameters: dict[str, Any] = {"data": [{"name": split.name} for split in model_card.datasets]}
    if model_card.training:
        parameters["model_architecture"] = model_card.training.component
    if signature:
        parameters["input_format_map"] = [_tensor(t) for t in signature.inputs]
        parameters["output_format_map"] = [_tensor(t) for t in signature.outputs]
    qa = model_card.quantitative_analysis
    metrics = [_metric(m, "") for m in qa.overall]
    metrics += [_metric(m, s.slice) for s in qa.slices for m in s.metrics]
    document = {
        "schema_version": SCHEMA_VERSION,
        "model_details": model_details,
        "model_parameters": parameters,
        "quantitative_analysis": {"performance_metrics": [m for m in metrics if m]},
        "considerations": {
            "users": [{"description": u} for u in cons.intended_use.primary_users],
            "use_cases": [{"description": u} for u in cons.intended_use.primary_uses],
            "limitations": [{"description": t} for t in cons.limitations],
            "tradeoffs": [{"description": t} for t in cons.tradeoffs],
            "ethical_considerations": [
                {"name": e.name, "mitigation_strategy": e.mitigation}
                for e in cons.ethical_considerations
            ],
        },
    }
    notes = [
        f"{label} not carried: MCT v0.0.2 has no field for it"
        for path, label in _NOT_CARRIED.items()
        if _written(model_card, path)
    ]
    if qa.charts or any(f.chart for split in model_card.datasets for f in split.features):
        notes.append("charts not carried: MCT graphics are PNG images, the card's charts SVG")
    return document, tuple(notes)


def _written(model_card: card.Card, path: str) -> bool:

    value: Any = model_card.to_dict()
    for step in path.split("."):
        value = value[step]
    if path.endswith("risk"):
        return value["rating"] != "unknown" or bool(value["explanation"])
    return completeness.written(value)


def _tensor(tensor: card.TensorInfo) -> dict[str, str]:
    shape = "unknown rank" if tensor.shape is None else str(list(tensor.shape))
    return {"key": tensor.key, "value": f"{tensor.dtype} {shape} ({tensor.tensor_name})"}


def _metric(metric: card.Metric, slice_name: str) -> dict[str, Any] | None:
    if metric.value is None or not math.isfinite(metric.value):
        return None
    entry: dict[str, Any] = {"type": metric.label, "value": repr(metric.value)}
    if slice_name:
        entry["slice"] = slice_name
    if metric.lower_bound is not None and metric.upper_bound is not None:
        entry["confidence_interval"] = {
            "lower_bound": repr(metric.lower_bound),
            "upper_bound": repr(metric.upper_bound),
        }
    return entry


def import_content(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Card content (`card_content.schema.json`) from an MCT JSON document (v0.0.1/v0.0.2).

    The model's name and version are left out, as for `mct-card clone`: they belong to
    the model the content is applied to.

    Raises:
        CardContentError: a field has the wrong type (naming it).
    """
    read = reading.Reader(name)
    details = read.mapping(data, "model_details")
    cons = read.mapping(data, "considerations")

    def records(parent: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        items = read.items(parent, key, where)
        return [read.item_mapping(items, i, f"{where}.{key}") for i in range(len(items))]

    def texts(parent: Mapping[str, Any], key: str, field: str, where: str) -> list[str]:
        found = records(parent, key, where)
        return [read.text(r, field, f"{where}.{key}[{i}]") for i, r in enumerate(found)]

    licenses = records(details, "licenses", "model_details")
    license_texts = [
        read.text(x, "identifier", f"model_details.licenses[{i}]")
        or read.text(x, "custom_text", f"model_details.licenses[{i}]")
        for i, x in enumerate(licenses)
    ]
    owners = [
        {
            "name": read.text(o, "name", f"model_details.owners[{i}]"),
            "contact": read.text(o, "contact", f"model_details.owners[{i}]"),
        }
        for i, o in enumerate(records(details, "owners", "model_details"))
    ]
    ethics = [
        {
            "name": read.text(e, "name", f"considerations.ethical_considerations[{i}]"),
            "mitigation": read.text(
                e, "mitigation_strategy", f"considerations.ethical_considerations[{i}]"
            ),
        }
        for i, e in enumerate(records(cons, "ethical_considerations", "considerations"))
    ]
    content = {
        "model_details": {
            "overview": read.text(details, "overview", "model_details"),
            "owners": [o for o in owners if o["name"]],
            "license": "; ".join(t for t in license_texts if t),
            "references": texts(details, "references", "reference", "model_details"),
            "citation": "\n".join(texts(details, "citations", "citation", "model_details")),
        },
        "intended_use": {
            "primary_uses": texts(cons, "use_cases", "description", "considerations"),
            "primary_users": texts(cons, "users", "description", "considerations"),
        },
        "limitations": texts(cons, "limitations", "description", "considerations"),
        "tradeoffs": texts(cons, "tradeoffs", "description", "considerations"),
        "ethical_considerations": [e for e in ethics if e["name"]],
    }
    return reading.prune(content)
