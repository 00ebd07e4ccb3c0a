"""Hugging Face Hub: the card as a repository's `README.md`.

YAML front matter (written by a YAML dumper: license, tags, and `model-index` with one
result per evaluated slice, each metric of it a result entry, the evaluation split as
`dataset.split`), then the card in the section order of the Hub's model card template.
"""

from __future__ import annotations

import math
import re
from typing import Any

from mct_component import card, render
from mct_component.render.formatting import visible_strings

TEMPLATE = "hf_readme.md.jinja"
TAGS = ("tfx", "tensorflow", "model-card")
# A licence the Hub knows by id is one lowercase token ("apache-2.0", "cc0-1.0").
_LICENSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
_EVALUATION_SPLITS = ("eval", "evaluation", "test", "validation", "valid")
_CLASSIFICATION = ("accuracy", "auc", "precision", "recall", "crossentropy", "confusion")
_REGRESSION = ("squared_error", "absolute_error", "mse", "mae", "rmse")


# The Hub's licence ids are short (e.g. "apache-2.0", "cc-by-nc-sa-4.0"); a longer
# "id" is prose, sent as `license: other` with the text in the body.
MAX_LICENSE_ID = 40


def export(model_card: card.Card) -> tuple[str, tuple[str, ...]]:
    """The card as a Hub `README.md`, and what it leaves out.

    Raises:
        TemplateError: the body template fails (a defect).
    """
    import yaml

    metadata, notes = front_matter(model_card)
    metadata = visible_strings(metadata)
    # A width no value reaches keeps every text on one line: a value with a line break
    # is written double-quoted with escapes, so none can end the front matter.
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=False, width=2**31 - 1)
    body = render.render_package_markdown(TEMPLATE, model_card.to_dict())
    return f"---\n{header}---\n\n{body}", notes


def front_matter(model_card: card.Card) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The README's metadata: license, tags, `model-index`; and notes on what it lacks."""
    details = model_card.model_details
    notes = []
    metadata: dict[str, Any] = {}
    if details.license:
        if len(details.license) <= MAX_LICENSE_ID and _LICENSE_ID.fullmatch(details.license):
            metadata["license"] = details.license.lower()
        else:
            metadata["license"] = "other"
            notes.append(
                "license: not a Hub licence id, so `license: other` (the text is in the body)"
            )
    metadata["tags"] = list(TAGS)
    metadata["library_name"] = "tensorflow"
    results = _results(model_card)
    if results:
        metadata["model-index"] = [{"name": details.name, "results": results}]
    notes.append("datasets: not set, the card names no dataset on the Hub")
    return metadata, tuple(notes)


def evaluation_split(model_card: card.Card) -> str:
    """The split the model was evaluated on, when the card's statistics name one, else ""."""
    names = {split.name.lower(): split.name for split in model_card.datasets}
    return next((names[n] for n in _EVALUATION_SPLITS if n in names), "")


def task_type(model_card: card.Card) -> str:
    """The Hub task: tabular classification or regression, from the metrics' names."""
    names = " ".join(m.name.lower() for m in model_card.quantitative_analysis.overall)
    if any(word in names for word in _REGRESSION):
        return "tabular-regression"
    if any(word in names for word in _CLASSIFICATION):
        return "tabular-classification"
    return "other"


def _results(model_card: card.Card) -> list[dict[str, Any]]:
    qa = model_card.quantitative_analysis
    details = model_card.model_details
    source = details.pipeline_name or details.name
    dataset: dict[str, Any] = {"name": f"{source} examples", "type": source}
    split = evaluation_split(model_card)
    if split:
        dataset["split"] = split
    slices = [("", qa.overall)] + [(s.slice, s.metrics) for s in qa.slices]
    results = []
    for slice_name, metrics in slices:
        entries = [
            {"type": m.name, "value": m.value, "name": m.label}
            for m in metrics
            if m.value is not None and math.isfinite(m.value)
        ]
        if not entries:
            continue
        sliced = dict(dataset)
        if slice_name:
            sliced["config"] = slice_name  # the Hub's name for a subset of a dataset
        results.append(
            {"task": {"type": task_type(model_card)}, "dataset": sliced, "metrics": entries}
        )
    return results
