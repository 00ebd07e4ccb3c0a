"""The component's execution parameters: encoded once at construction, decoded once at run.

TFX execution properties must be primitives, so dicts and lists travel as JSON strings.
`encode` validates everything it can at pipeline construction time; `decode` validates
again in the executor (the IR may have been edited or built by another tool).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from mct_component import content, render
from mct_component.card import Inheritance, validation
from mct_component.constants import (
    CARD_CONTENT_KEY,
    CERTIFICATE_CHAIN_KEY,
    COMPLETENESS_GATE_KEY,
    INHERIT_CONTENT_KEY,
    INHERITANCE_REFUSED_KEY,
    INHERITED_FROM_KEY,
    LABEL_VOCABULARY_KEY,
    LINEAGE_ERROR_KEY,
    LINEAGE_KEY,
    MAX_RISK_RATING_KEY,
    OUTPUT_FORMATS_KEY,
    PIPELINE_FACTS_KEY,
    REVIEW_POLICY_KEY,
    SIGNING_CERTIFICATE_KEY,
    SIGNING_KEY_KEY,
    TEMPLATES_KEY,
)
from mct_component.errors import ParameterError
from mct_component.governance import gates, signing
from mct_component.readers.refs import CardInputs, PipelineFacts
from mct_component.text import excerpt


@dataclasses.dataclass(frozen=True)
class SigningSources:
    """Where the pipeline's signing key (and certificate, chain) are read from at run
    time: files, or `env:NAME` (`signing.check_key_source`); no key: unsigned."""

    key: str = ""
    certificate: str = ""
    chain: tuple[str, ...] = ()

    @classmethod
    def parse(cls, key: Any, certificate: Any, chain: Any) -> SigningSources:
        """Checks the three parameters (without reading them: the files exist where
        the pipeline runs).

        Raises:
            ParameterError: naming the parameter.
        """
        if isinstance(chain, str) or not isinstance(chain, (list, tuple)):
            raise ParameterError(
                f"{CERTIFICATE_CHAIN_KEY} must be a list of PEM sources, got {chain!r}"
            )
        if not key and (certificate or chain):
            raise ParameterError(f"{SIGNING_CERTIFICATE_KEY} needs {SIGNING_KEY_KEY} (its key)")
        if chain and not certificate:
            raise ParameterError(f"{CERTIFICATE_CHAIN_KEY} needs {SIGNING_CERTIFICATE_KEY}")
        return cls(
            signing.check_key_source(key, SIGNING_KEY_KEY) if key else "",
            signing.check_key_source(certificate, SIGNING_CERTIFICATE_KEY) if certificate else "",
            tuple(signing.check_key_source(c, CERTIFICATE_CHAIN_KEY) for c in chain),
        )


@dataclasses.dataclass(frozen=True)
class Parameters:
    """Decoded, validated component parameters."""

    card_content: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    templates: Mapping[str, str] = dataclasses.field(default_factory=dict)
    output_formats: tuple[str, ...] = render.DEFAULT_FORMATS
    label_vocabulary: str = ""
    pipeline_facts: PipelineFacts = dataclasses.field(default_factory=PipelineFacts)
    completeness_gate: gates.CompletenessGate | None = None
    max_risk_rating: str = ""
    inherit_content: bool = True
    signing: SigningSources = SigningSources()
    review_policy: str = ""  # a path or `env:NAME`, read where the pipeline runs
    inherited_from: Inheritance | None = None
    inheritance_refused: str = ""
    lineage: CardInputs | None = None
    lineage_error: str = ""


def encode(
    card_content: content.ContentInput = None,
    templates: Mapping[str, str] | None = None,
    output_formats: Sequence[str] = render.DEFAULT_FORMATS,
    label_vocabulary: str | None = None,
    pipeline_facts: PipelineFacts | None = None,
    completeness_gate: Any = None,
    max_risk_rating: str | None = None,
    inherit_content: bool = True,
    signing_sources: SigningSources = SigningSources(),
    review_policy: str | None = None,
) -> dict[str, Any]:
    """Validates construction-time arguments and returns them as execution properties.

    Raises:
        ParameterError: naming the parameter (and field) that is wrong.
    """
    if isinstance(output_formats, str):
        raise ParameterError(
            f"output_formats must be a list such as ['html', 'md'], got the string {output_formats!r}"
        )
    check_label_vocabulary(label_vocabulary or "")
    gate = gates.CompletenessGate.parse(completeness_gate)
    templates = dict(templates or {})
    check_templates(templates)
    for fmt, path in templates.items():
        if "://" not in path and not os.path.isfile(path):
            raise ParameterError(f"templates[{fmt!r}]: template file not found: {path!r}")
    return {
        CARD_CONTENT_KEY: json.dumps(content.load_card_content(card_content), sort_keys=True),
        TEMPLATES_KEY: json.dumps(templates, sort_keys=True),
        OUTPUT_FORMATS_KEY: json.dumps(list(render.check_formats(output_formats))),
        LABEL_VOCABULARY_KEY: label_vocabulary or "",
        PIPELINE_FACTS_KEY: (pipeline_facts or PipelineFacts()).to_json(),
        COMPLETENESS_GATE_KEY: json.dumps(gate.as_dict() if gate else None),
        MAX_RISK_RATING_KEY: gates.check_risk_rating(max_risk_rating),
        INHERIT_CONTENT_KEY: int(_check_flag(inherit_content, "inherit_content")),
        SIGNING_KEY_KEY: signing_sources.key,
        SIGNING_CERTIFICATE_KEY: signing_sources.certificate,
        CERTIFICATE_CHAIN_KEY: json.dumps(list(signing_sources.chain)),
        REVIEW_POLICY_KEY: check_policy_source(review_policy),
    }


def decode(exec_properties: Mapping[str, Any]) -> Parameters:
    """Decodes and validates execution properties written by `encode`.

    Raises:
        ParameterError: naming the property and what was received.
    """
    card_content = _json_property(exec_properties, CARD_CONTENT_KEY, {})
    validation.validate_card_content(card_content)
    templates = _json_property(exec_properties, TEMPLATES_KEY, {})
    check_templates(templates)
    formats = _json_property(exec_properties, OUTPUT_FORMATS_KEY, list(render.DEFAULT_FORMATS))
    if not isinstance(formats, list):
        raise ParameterError(f"{OUTPUT_FORMATS_KEY} must be a JSON list, got {formats!r}")
    label_vocabulary = exec_properties.get(LABEL_VOCABULARY_KEY) or ""
    check_label_vocabulary(label_vocabulary)
    raw_facts = exec_properties.get(PIPELINE_FACTS_KEY)
    try:
        facts = PipelineFacts.from_json(raw_facts) if raw_facts else PipelineFacts()
    except (TypeError, ValueError) as e:
        raise ParameterError(
            f"execution property {PIPELINE_FACTS_KEY!r} is not valid: {excerpt(str(e))}"
        ) from None
    raw_lineage = exec_properties.get(LINEAGE_KEY)
    try:
        resolved = CardInputs.from_json(raw_lineage) if raw_lineage else None
    except (TypeError, ValueError) as e:
        raise ParameterError(
            f"execution property {LINEAGE_KEY!r} is not valid lineage: {e}"
        ) from None
    return Parameters(
        card_content=card_content,
        templates=templates,
        output_formats=render.check_formats(formats),
        label_vocabulary=label_vocabulary,
        pipeline_facts=facts,
        completeness_gate=gates.CompletenessGate.parse(
            _json_property(exec_properties, COMPLETENESS_GATE_KEY, None)
        ),
        max_risk_rating=gates.check_risk_rating(exec_properties.get(MAX_RISK_RATING_KEY)),
        inherit_content=bool(exec_properties.get(INHERIT_CONTENT_KEY, 1)),
        signing=SigningSources.parse(
            exec_properties.get(SIGNING_KEY_KEY) or "",
            exec_properties.get(SIGNING_CERTIFICATE_KEY) or "",
            _json_property(exec_properties, CERTIFICATE_CHAIN_KEY, []),
        ),
        review_policy=check_policy_source(exec_properties.get(REVIEW_POLICY_KEY)),
        inherited_from=_inheritance(exec_properties.get(INHERITED_FROM_KEY)),
        inheritance_refused=str(exec_properties.get(INHERITANCE_REFUSED_KEY) or ""),
        lineage=resolved,
        lineage_error=str(exec_properties.get(LINEAGE_ERROR_KEY) or ""),
    )


def check_policy_source(value: Any) -> str:
    """The `review_policy` parameter: "" (none), a policy file's path, or `env:NAME`.

    Raises:
        ParameterError: anything else.
    """
    if value in (None, ""):
        return ""
    return signing.check_key_source(value, REVIEW_POLICY_KEY, "a review policy file")


def check_label_vocabulary(name: Any) -> None:
    """Raises ParameterError unless `name` can be a Transform vocabulary name."""
    if not isinstance(name, str) or "/" in name or "\\" in name or name in (".", ".."):
        raise ParameterError(
            "label_vocabulary must be the name of a Transform vocabulary (the "
            f"`vocab_filename` given to tft.compute_and_apply_vocabulary), e.g. 'species', got {name!r}"
        )


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{name} must be True or False, got {value!r}")
    return value


def _inheritance(raw: Any) -> Inheritance | None:
    if not raw:
        return None
    try:
        return Inheritance(**json.loads(raw))
    except (TypeError, ValueError) as e:
        raise ParameterError(
            f"execution property {INHERITED_FROM_KEY!r} is not valid: {excerpt(str(e))}"
        ) from None


def check_templates(templates: Any) -> None:
    """Raises ParameterError unless `templates` maps "html"/"md" to template paths."""
    if not isinstance(templates, Mapping) or not all(
        isinstance(v, str) and v for v in templates.values()
    ):
        raise ParameterError(
            f"templates must map a format to a template path, e.g. {{'html': 'card.html.jinja'}}, "
            f"got {templates!r}"
        )
    render.check_template_formats(templates)


def _json_property(exec_properties: Mapping[str, Any], key: str, default: Any) -> Any:
    raw = exec_properties.get(key)
    if raw in (None, ""):
        return default
    try:
        return json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        raise ParameterError(f"execution property {key!r} must be JSON, got {raw!r}") from None
