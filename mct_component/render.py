"""Renders a card's JSON form to the output files (JSON, HTML, Markdown).

Rendering is pure: it takes the card dictionary and template sources and returns file
contents, so nothing is written until every format has rendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from mct_component import card, constants, formatting
from mct_component.errors import ParameterError, TemplateError, TemplateNotFoundError

if TYPE_CHECKING:
    import jinja2

FILE_NAMES = {
    "json": constants.CARD_JSON_FILE,
    "html": constants.CARD_HTML_FILE,
    "md": constants.CARD_MARKDOWN_FILE,
}
FORMATS = tuple(FILE_NAMES)
TEMPLATED_FORMATS = ("html", "md")
DEFAULT_TEMPLATES = {"html": "model_card.html.jinja", "md": "model_card.md.jinja"}
TEMPLATE_PACKAGE = "mct_component.templates"


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validates and de-duplicates output formats, keeping their order.

    Raises:
        ParameterError: a format is unknown, or none is given.
    """
    result = tuple(dict.fromkeys(formats))
    unknown = [f for f in result if f not in FILE_NAMES]
    if unknown or not result:
        raise ParameterError(
            f"output_formats must be a non-empty list drawn from {list(FORMATS)}, got {list(formats)}"
        )
    return result


def check_template_formats(templates: Mapping[str, Any]) -> None:
    """Custom templates exist for HTML and Markdown only.

    Raises:
        ParameterError: naming the unknown format.
    """
    unknown = sorted(set(templates) - set(TEMPLATED_FORMATS))
    if unknown:
        raise ParameterError(
            f"templates has unknown format(s) {unknown}; expected keys among {list(TEMPLATED_FORMATS)}"
        )


def _package_template(name: str) -> str:
    try:
        return resources.files(TEMPLATE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateNotFoundError(f"no template {name!r} in package {TEMPLATE_PACKAGE}") from None


def _custom_name(fmt: str) -> str:
    return f"custom.{fmt}.jinja"


def _environment(custom_sources: Mapping[str, str], chart_set: ChartSet) -> jinja2.Environment:
    import jinja2

    custom = {_custom_name(fmt): text for fmt, text in custom_sources.items()}
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.DictLoader(custom), jinja2.FunctionLoader(_package_template)]
        ),
        autoescape=lambda name: name is not None and name.endswith(".html.jinja"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(formatting.FILTERS)
    env.filters["svg"] = chart_set.inline_svg
    env.filters["chart_path"] = chart_set.path
    return env


class ChartSet:
    """The charts of one card, each drawn once and shared by the HTML and the SVG files.

    Charts are numbered in document order; the number makes both the SVG element ids
    (unique within the HTML page) and the file names of the Markdown's images.
    """

    def __init__(self, card_dict: Mapping[str, Any]):
        self._charts = iter_charts(card_dict)
        self._index = {id(chart): i for i, chart in enumerate(self._charts, start=1)}
        self._svg: dict[int, str] = {}

    def _number(self, chart: Mapping[str, Any]) -> int:
        try:
            return self._index[id(chart)]
        except KeyError:
            raise TemplateError(
                "templates may only draw charts that are part of the card "
                "(datasets[].features[].chart, quantitative_analysis.charts[])"
            ) from None

    def svg(self, chart: Mapping[str, Any]) -> str:
        """The chart's SVG document (drawn on first use)."""
        from mct_component import charts, svg

        number = self._number(chart)
        if number not in self._svg:
            drawing = charts.chart_from_dict(chart)
            self._svg[number] = svg.to_svg(drawing, chart_id=f"chart-{number}")
        return self._svg[number]

    def inline_svg(self, chart: Mapping[str, Any]) -> Any:
        """The chart as SVG markup for HTML (CSS may resize it: it has a viewBox)."""
        import markupsafe

        return markupsafe.Markup(self.svg(chart))

    def path(self, chart: Mapping[str, Any]) -> str:
        """The file the chart is written to for Markdown: `charts/<number>-<title>.svg`."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", str(chart.get("title", ""))).strip("-").lower()
        return f"{constants.CHART_DIR}/{self._number(chart):04d}-{slug[:40] or 'chart'}.svg"

    def files(self) -> dict[str, str]:
        """Every chart as an SVG file, keyed by `path`."""
        return {self.path(chart): self.svg(chart) for chart in self._charts}


def iter_charts(card_dict: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every chart in a card (JSON form), in document order."""
    found: list[Mapping[str, Any]] = []
    for split in card_dict.get("datasets", []):
        found.extend(f["chart"] for f in split.get("features", []) if f.get("chart"))
    found.extend(card_dict.get("quantitative_analysis", {}).get("charts", []))
    return found


def render(
    card_dict: Mapping[str, Any],
    formats: Iterable[str] = FORMATS,
    custom_templates: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Renders the requested formats.

    Args:
        card_dict: `ModelCard.to_dict()`.
        formats: any of "json", "html", "md".
        custom_templates: format -> Jinja template source replacing the default one.
            A custom template may `{% extends "model_card.html.jinja" %}`.

    Returns:
        File name (e.g. "model_card.html") -> file content. With "md", each chart is
        also returned as `charts/<name>.svg`, the files the Markdown links to.
    """
    import jinja2

    formats = check_formats(formats)
    custom_templates = dict(custom_templates or {})
    check_template_formats(custom_templates)
    chart_set = ChartSet(card_dict)
    env = _environment(custom_templates, chart_set)
    files = {}
    for fmt in formats:
        if fmt == "json":
            text = card.dumps(card_dict)
        else:
            name = _custom_name(fmt) if fmt in custom_templates else DEFAULT_TEMPLATES[fmt]
            try:
                text = env.get_template(name).render(card=card_dict)
            except jinja2.TemplateSyntaxError as e:
                raise TemplateError(
                    f"{fmt} template has a syntax error at line {e.lineno}: {e.message}"
                ) from None
            except jinja2.UndefinedError as e:
                raise TemplateError(
                    f"{fmt} template uses an unknown card field: {e.message}"
                ) from None
        files[FILE_NAMES[fmt]] = text
    if "md" in formats:
        files.update(chart_set.files())
    return files
