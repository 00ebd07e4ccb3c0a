"""The console's edit forms: one per human-written section of a card, to content and back.

A form shows the section as text (lists one item per line; owners and ethical
considerations as "name | contact" and "risk | mitigation") and turns what was posted
into the content `mct-card edit` takes, for that section only; the content is then
checked against the content schema like any edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from mct_component.card import RISK_RATINGS, Card
from mct_component.errors import CardContentError

SEPARATOR = " | "


@dataclasses.dataclass(frozen=True)
class Field:
    """One input of a form: its name, label, current text and, for a choice, the choices."""

    name: str
    label: str
    value: str = ""
    choices: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Section:
    """One edit form."""

    name: str
    title: str
    fields: tuple[Field, ...]


@dataclasses.dataclass(frozen=True)
class _Spec:
    title: str
    fields: tuple[tuple[str, str], ...]  # (name, label)
    read: Callable[[Card], Mapping[str, str]]  # the card's current text, by field
    write: Callable[[Mapping[str, str]], dict[str, Any]]  # posted text -> content


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pairs(text: str, first: str, second: str) -> list[dict[str, str]]:
    found = []
    for line in _lines(text):
        name, _, rest = line.partition("|")
        item = {first: name.strip()}
        if rest.strip():
            item[second] = rest.strip()
        found.append(item)
    return found


def _joined(items: Any) -> str:
    return "\n".join(str(i) for i in items)


def _pair_lines(items: Any, first: str, second: str) -> str:
    return "\n".join(
        f"{getattr(i, first)}{SEPARATOR}{getattr(i, second)}"
        if getattr(i, second)
        else getattr(i, first)
        for i in items
    )


_SPECS: dict[str, _Spec] = {
    "overview": _Spec(
        "Overview",
        (
            ("overview", "Overview"),
            ("license", "License"),
            ("citation", "Citation"),
            ("references", "References"),
        ),
        lambda c: {
            "overview": c.model_details.overview,
            "license": c.model_details.license,
            "citation": c.model_details.citation,
            "references": _joined(c.model_details.references),
        },
        lambda f: {
            "model_details": {
                "overview": f["overview"].strip(),
                "license": f["license"].strip(),
                "citation": f["citation"].strip(),
                "references": _lines(f["references"]),
            }
        },
    ),
    "owners": _Spec(
        "Owners",
        (("owners", "Owners (name | contact)"),),
        lambda c: {"owners": _pair_lines(c.model_details.owners, "name", "contact")},
        lambda f: {"model_details": {"owners": _pairs(f["owners"], "name", "contact")}},
    ),
    "intended_use": _Spec(
        "Intended use",
        (
            ("primary_uses", "Primary uses"),
            ("primary_users", "Primary users"),
            ("out_of_scope_uses", "Out-of-scope uses"),
        ),
        lambda c: {
            name: _joined(getattr(c.considerations.intended_use, name))
            for name in ("primary_uses", "primary_users", "out_of_scope_uses")
        },
        lambda f: {
            "intended_use": {
                name: _lines(f[name])
                for name in ("primary_uses", "primary_users", "out_of_scope_uses")
            }
        },
    ),
    "limitations": _Spec(
        "Limitations and tradeoffs",
        (("limitations", "Limitations"), ("tradeoffs", "Tradeoffs")),
        lambda c: {
            "limitations": _joined(c.considerations.limitations),
            "tradeoffs": _joined(c.considerations.tradeoffs),
        },
        lambda f: {"limitations": _lines(f["limitations"]), "tradeoffs": _lines(f["tradeoffs"])},
    ),
    "ethical_considerations": _Spec(
        "Ethical considerations",
        (("ethical_considerations", "Risks (risk | mitigation)"),),
        lambda c: {
            "ethical_considerations": _pair_lines(
                c.considerations.ethical_considerations, "name", "mitigation"
            )
        },
        lambda f: {
            "ethical_considerations": _pairs(f["ethical_considerations"], "name", "mitigation")
        },
    ),
    "risk": _Spec(
        "Risk",
        (("rating", "Rating"), ("explanation", "Why")),
        lambda c: {
            "rating": c.considerations.risk.rating,
            "explanation": c.considerations.risk.explanation,
        },
        lambda f: {
            "risk": {"rating": f["rating"].strip(), "explanation": f["explanation"].strip()}
        },
    ),
    "business_details": _Spec(
        "Business details",
        (
            ("business_problem", "Business problem"),
            ("business_stakeholders", "Stakeholders"),
            ("line_of_business", "Line of business"),
        ),
        lambda c: {
            name: getattr(c.considerations.business_details, name)
            for name in ("business_problem", "business_stakeholders", "line_of_business")
        },
        lambda f: {
            "business_details": {
                name: f[name].strip()
                for name in ("business_problem", "business_stakeholders", "line_of_business")
            }
        },
    ),
    "observations": _Spec(
        "Observations",
        (
            ("training_observations", "Training observations"),
            ("evaluation_observations", "Evaluation observations"),
        ),
        lambda c: {
            "training_observations": c.considerations.training_observations,
            "evaluation_observations": c.considerations.evaluation_observations,
        },
        lambda f: {
            "training_observations": f["training_observations"].strip(),
            "evaluation_observations": f["evaluation_observations"].strip(),
        },
    ),
}


def sections(model_card: Card) -> list[Section]:
    """The edit forms, filled with the card's current content."""
    found = []
    for name, spec in _SPECS.items():
        values = spec.read(model_card)
        fields = tuple(
            Field(
                field,
                label,
                str(values.get(field) or ""),
                tuple(RISK_RATINGS) if (name, field) == ("risk", "rating") else (),
            )
            for field, label in spec.fields
        )
        found.append(Section(name, spec.title, fields))
    return found


def content(section: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The content a posted section form gives (checked later, like any edit).

    Raises:
        CardContentError: an unknown section, or a field of it missing from the form.
    """
    spec = _SPECS.get(section)
    if spec is None:
        raise CardContentError(f"section must be one of {', '.join(_SPECS)}, got {section[:60]!r}")
    missing = [name for name, _ in spec.fields if not isinstance(form.get(name), str)]
    if missing:
        raise CardContentError(f"the {spec.title} form lacks the field {missing[0]!r}")
    return spec.write({name: str(form[name]) for name, _ in spec.fields})
