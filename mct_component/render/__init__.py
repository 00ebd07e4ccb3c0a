"""Renders a card's JSON form to the output files (JSON, HTML, Markdown, PDF).

Rendering is pure: it takes the card dictionary and template paths and returns file
contents (text, and bytes for the PDF), so nothing is written until every format has
rendered. The PDF is the HTML page laid out for print (`pdf`), each feature chart with
its own CSS (WeasyPrint styles an inline SVG only from the SVG's own <style>). Every
string in a card is untrusted (human content, feature and category names, slice keys,
paths): both formats escape all they print, and custom templates run in Jinja's sandbox
with a loader confined to the default templates and the custom template's own folder.

The package holds `formatting` (template filters), `feature_rows` (the feature tables,
written in Python), `svg` (charts drawn), `pdf`; it may import `card` and the leaf
modules only.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.sandbox
import markupsafe

from mct_component import card, constants, files
from mct_component.card import charts
from mct_component.card.charts import Chart
from mct_component.errors import ParameterError, TemplateError, TemplateNotFoundError
from mct_component.render import feature_rows, formatting, svg
from mct_component.render.svg import SplitComparison

FILE_NAMES = {
    "json": constants.CARD_JSON_FILE,
    "html": constants.CARD_HTML_FILE,
    "md": constants.CARD_MARKDOWN_FILE,
    "pdf": constants.CARD_PDF_FILE,
}
FORMATS = tuple(FILE_NAMES)
# What is written unless formats are chosen: the PDF takes far longer than the rest.
DEFAULT_FORMATS = ("json", "html", "md")
TEMPLATED_FORMATS = ("html", "md")
DEFAULT_TEMPLATES = {"html": "model_card.html.jinja", "md": "model_card.md.jinja"}
TEMPLATE_PACKAGE = "mct_component.templates"


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validates and de-duplicates output formats, keeping their order.

    Raises:
        ParameterError: a format is unknown, or none is given.
    """
    given = list(formats)
    result = tuple(dict.fromkeys(given))
    unknown = [f for f in result if f not in FILE_NAMES]
    if unknown or not result:
        raise ParameterError(
            f"output_formats must be a non-empty list drawn from {list(FORMATS)}, got {given}"
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


def package_template(name: str) -> str | None:
    """A template shipped in `mct_component.templates`, or None if there is none."""
    try:
        return resources.files(TEMPLATE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return None


def _custom_name(fmt: str) -> str:
    return f"custom.{fmt}.jinja"


def _read_template(path: str) -> str:
    """A custom template's source.

    Raises:
        TemplateNotFoundError: there is no file at `path`.
        TemplateError: it is a directory, or not UTF-8 text.
    """
    fs = files.filesystem(path)
    if fs.isdir(path):
        raise TemplateError(f"template {path!r} is a directory, expected a Jinja template file")
    try:
        return files.read_text(path)
    except UnicodeDecodeError as e:
        raise TemplateError(
            f"template {path!r} is not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None


class _TemplateLoader:
    """Finds templates by name: a custom template's folder, then the package's own.

    A name must be a relative path without `..`, so `{% include %}` and `{% extends %}`
    can reach nothing but the default templates and files beside a custom template.
    """

    def __init__(self, custom: Mapping[str, str]):
        self._custom = dict(custom)  # internal name -> path
        self._folders = sorted({posixpath.dirname(path) for path in custom.values()})

    def __call__(self, name: str) -> tuple[str, str, Any] | None:
        if name in self._custom:
            path = self._custom[name]
            return _read_template(path), path, lambda: True
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ":" in name or ".." in parts or "" in parts:
            raise TemplateNotFoundError(
                f"template name {name!r} is not allowed: templates may only load the default "
                "templates and files in their own folder, by relative name"
            )
        for folder in self._folders:
            path = posixpath.join(folder, name)
            if files.filesystem(path).exists(path):
                return _read_template(path), path, lambda: True
        source = package_template(name)
        return None if source is None else (source, name, lambda: True)


def _environment(fmt: str, custom_templates: Mapping[str, str]) -> jinja2.Environment:
    """The Jinja environment of one format: sandboxed when it runs a custom template.

    The default templates' environments are made once per process (their compiled
    templates are cached in them); one running a custom template is made for each
    render, so that an edited template is read again.
    """
    custom = {_custom_name(f): path for f, path in custom_templates.items() if f == fmt}
    return _new_environment(fmt, custom) if custom else _default_environment(fmt)


@functools.cache
def _default_environment(fmt: str) -> jinja2.Environment:
    return _new_environment(fmt, {}, bytecode_cache=template_cache())


@functools.cache
def template_cache() -> jinja2.BytecodeCache | None:
    """Where the package's templates are kept compiled between processes, if anywhere.

    Compiling the two card templates takes a fresh process about 0.15 s, as long as
    rendering a card of 200 features. Jinja keys the compiled code by the template's
    name and source and its own version, so an edited or upgraded template compiles
    anew. The folder is `$XDG_CACHE_HOME/mct-component/templates` (or `~/.cache/...`),
    used only if it is a folder of this user's that nobody else may write (as Jinja
    requires of its own): else, or if it cannot be made, there is no cache.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "mct-component", "templates")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return _QuietBytecodeCache(folder)


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A bytecode cache that, when it cannot be read or written, is no cache, not an error."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged or unreadable entry: compile the template
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _new_environment(
    fmt: str,
    custom: Mapping[str, str],
    bytecode_cache: jinja2.BytecodeCache | None = None,
) -> jinja2.Environment:
    """Both formats escape every value they print: HTML with entities, Markdown with
    `formatting.markdown_text` (a value cannot add markup, links or structure).
    Filters that build markup of their own return it marked safe. Chart filters draw
    from the card being rendered (`_CHARTS`).
    """

    options: dict[str, Any] = {
        "loader": jinja2.FunctionLoader(_TemplateLoader(custom)),
        "autoescape": True,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "bytecode_cache": bytecode_cache,
    }
    safe = markupsafe.Markup
    options["finalize"] = formatting.markdown_finalize if fmt == "md" else formatting.html_finalize
    factory = _SandboxedEnvironment if custom else _Environment
    env = factory(**options)
    env.filters.update(formatting.FILTERS)
    if fmt == "md":
        env.filters["md"] = env.filters["md_cell"] = lambda v: safe(formatting.markdown_text(v))
        env.filters["md_code"] = lambda v: safe(formatting.markdown_code(v))
        env.filters["chart_path"] = lambda chart: safe(_CHARTS.get().path(chart))
        env.filters["feature_rows"] = lambda features: feature_rows.markdown_feature_rows(
            features, _CHARTS.get().path
        )
    else:
        env.filters["chart_path"] = lambda chart: _CHARTS.get().path(chart)
        env.filters["feature_svg"] = lambda name: _CHARTS.get().feature_svg(name)
        env.filters["feature_text"] = feature_text
        env.filters["feature_blocks"] = lambda splits: feature_rows.html_feature_blocks(
            splits, _CHARTS.get().feature_svg
        )
        env.globals["feature_text_from"] = FEATURE_TEXT_FROM
    env.filters["svg"] = lambda chart: _CHARTS.get().inline_svg(chart)
    return env


class _DictItemsFirst:
    """Looks `a.b` up as `a["b"]` at once where `a` is a dict without a `b` attribute.

    Jinja tries the attribute first and takes the item when that raises: on the card's
    dictionaries, every lookup but one in a thousand paid for an exception (a tenth of
    a large card's rendering). The result is the same.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)  # type: ignore[misc]


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(_DictItemsFirst, jinja2.Environment):
    """The default templates' environment."""


class _SandboxedEnvironment(_DictItemsFirst, jinja2.sandbox.ImmutableSandboxedEnvironment):
    """A custom template's environment."""


# From this many features the HTML page lists them as text (`feature_text`): each
# feature's table and chart cost the browser dozens of elements.
FEATURE_TEXT_FROM = 5000
# Lines per <pre> block of `feature_text` (each laid out only when in view).
_TEXT_BLOCK_LINES = 1000


def feature_text(splits: Iterable[Mapping[str, Any]]) -> markupsafe.Markup:
    """Every feature's statistics in every split as aligned text, a line per feature and
    split in the first split's feature order, in `<pre>` blocks of `_TEXT_BLOCK_LINES`.

    What the feature tables show (missing share; mean, standard deviation, minimum and
    maximum, or distinct and most frequent values), for a card whose page would be too
    large with them.
    """
    splits = list(splits)
    by_split = [(s["name"], {f["name"]: f for f in s["features"]}) for s in splits]
    names = [f["name"] for f in splits[0]["features"]] if splits else []
    width = min(48, max((len(_one_line(n)) for n in names), default=7))
    split_width = max((len(_one_line(name)) for name, _ in by_split), default=5)
    number = formatting.format_number
    head = (
        f"{'feature':<{width}}  {'split':<{split_width}}  {'type':<8} {'missing':>8}  "
        f"{'mean':>10} {'std dev':>10} {'min':>10} {'max':>10}  unique  top values"
    )
    lines = []
    for name in names:
        shown = _one_line(name)
        for split, features in by_split:
            f = features.get(name)
            if f is None:
                continue
            start = (
                f"{shown:<{width}}  {_one_line(split):<{split_width}}  {_one_line(f['type']):<8} "
            )
            start += f"{number(f['missing_pct']):>7}%  "
            if f.get("unique") is not None:
                values = _one_line(formatting.top_values(f))
                lines.append(f"{start}{'':>43}  {f['unique']:>6}  {values}")
            else:
                stats = (number(f.get(k)) for k in ("mean", "std_dev", "min", "max"))
                lines.append(start + " ".join(f"{v:>10}" for v in stats))
    blocks = [
        "\n".join(lines[i : i + _TEXT_BLOCK_LINES]) for i in range(0, len(lines), _TEXT_BLOCK_LINES)
    ]
    return markupsafe.Markup("").join(
        markupsafe.Markup("<pre>{}</pre>").format(block) for block in [head, *blocks]
    )


def _one_line(value: str) -> str:
    """Text for one line of `feature_text`: visible characters, no line breaks."""
    return " ".join(formatting.visible_text(value).splitlines())


class ChartSet:
    """The charts of one card, each drawn once and shared by the HTML and the SVG files.

    Charts are numbered in document order; the number makes both the SVG element ids
    (unique within the HTML page) and the file names of the Markdown's images. A
    feature's charts of every split are drawn as one chart comparing them
    (`svg.draw_split_comparison`): inline in the HTML, and as one file for the Markdown,
    named after the feature's first chart.

    Args:
        card_dict: the card's JSON form.
        drawings: the chart objects `card_dict` was made of, by the id of their
            dictionary in it (`Card.to_dict_with_charts`); any other chart is read back
            from its dictionary, once.
        for_print: give each feature chart the CSS of its classes (see
            `svg.split_comparison`), for WeasyPrint; in a browser, the page's first
            feature chart carries it for all.
    """

    def __init__(
        self,
        card_dict: Mapping[str, Any],
        *,
        drawings: Mapping[int, Chart] | None = None,
        for_print: bool = False,
    ):
        self._for_print = for_print
        self._css_given = False
        self._charts = iter_charts(card_dict)
        self._index = {id(chart): i for i, chart in enumerate(self._charts, start=1)}
        self._drawings: dict[int, Chart] = dict(drawings or {})
        self._svg: dict[int, str] = {}
        # Each feature's charts, (split name, chart) in split order (the last of a
        # name in a split), and the feature each of those charts shows.
        self._feature_charts: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for split in card_dict.get("datasets", []):
            found = {f["name"]: f["chart"] for f in split["features"] if f.get("chart")}
            for name, chart in found.items():
                self._feature_charts.setdefault(name, []).append((split["name"], chart))
        self._feature_of = {
            id(chart): name for name, pairs in self._feature_charts.items() for _, chart in pairs
        }
        self._comparisons: dict[str, SplitComparison | None] = {}
        self._paths: dict[int, str] = {}

    def for_print(self) -> ChartSet:
        """The same charts for the PDF (see `for_print`), sharing what is drawn already."""
        printed = copy.copy(self)
        printed._for_print = True
        return printed

    def _number(self, chart: Mapping[str, Any]) -> int:
        try:
            return self._index[id(chart)]
        except KeyError:
            raise TemplateError(
                "templates may only draw charts that are part of the card "
                "(datasets[].features[].chart, quantitative_analysis.charts[])"
            ) from None

    def _drawing(self, chart: Mapping[str, Any]) -> Chart:
        """The chart object behind a chart of the card."""
        key = id(chart)
        if key not in self._drawings:
            self._drawings[key] = charts.chart_from_dict(chart)
        return self._drawings[key]

    def svg(self, chart: Mapping[str, Any]) -> str:
        """The chart's SVG document (drawn on first use)."""
        number = self._number(chart)
        if number not in self._svg:
            self._svg[number] = svg.to_svg(self._drawing(chart), chart_id=f"chart-{number}")
        return self._svg[number]

    def inline_svg(self, chart: Mapping[str, Any]) -> Any:
        """The chart as SVG markup for HTML (CSS may resize it: it has a viewBox)."""

        return markupsafe.Markup(self.svg(chart))

    def _comparison(self, name: str) -> SplitComparison | None:
        """A feature's charts of every split drawn as one, or None when they are not all
        histograms or all bar charts."""
        if name not in self._comparisons:
            drawings = [
                (split, self._drawing(chart)) for split, chart in self._feature_charts.get(name, [])
            ]
            kinds = {type(d) for _, d in drawings}
            self._comparisons[name] = (
                svg.draw_split_comparison(drawings)  # type: ignore[arg-type]
                if kinds in ({charts.Histogram}, {charts.BarChart})
                else None
            )
        return self._comparisons[name]

    def feature_svg(self, name: str) -> Any:
        """A feature's charts of every split, as one chart comparing them (HTML only).

        See `svg.split_comparison`: a card of thousands of features then has a chart per
        feature instead of one per feature and split. Charts it cannot combine (not all
        histograms or all bar charts) are drawn one by one, each with its split's name.
        """

        pairs = self._feature_charts.get(name, [])
        if not pairs:
            return markupsafe.Markup("")
        comparison = self._comparison(name)
        if comparison is not None:
            css = self._for_print or not self._css_given
            self._css_given = True
            return markupsafe.Markup(comparison.inline(css=css))
        return markupsafe.Markup("").join(
            markupsafe.Markup("<figure>{}<figcaption>{}</figcaption></figure>").format(
                self.inline_svg(chart), split
            )
            for split, chart in pairs
        )

    def _feature_file(self, chart: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The chart whose file shows `chart` in the Markdown: for a feature chart drawn
        in a comparison, the feature's first chart; else None (a file of its own)."""
        name = self._feature_of.get(id(chart))
        if name is None or self._comparison(name) is None:
            return None
        return self._feature_charts.get(name, [])[0][1]

    def path(self, chart: Mapping[str, Any]) -> str:
        """The file the chart is in for Markdown: `charts/<number>-<title>.svg`; a
        feature's charts of every split share the file of its first."""
        shown = self._feature_file(chart) or chart
        number = self._number(shown)
        if number not in self._paths:
            title = str(shown.get("title", ""))
            slug = _NOT_IN_FILE_NAMES.sub("-", title).strip("-").lower()
            self._paths[number] = f"{constants.CHART_DIR}/{number:04d}-{slug[:40] or 'chart'}.svg"
        return self._paths[number]

    def files(self) -> dict[str, str]:
        """Every chart file of the Markdown, keyed by `path`."""
        found = {}
        for chart in self._charts:
            first = self._feature_file(chart)
            if first is None:
                found[self.path(chart)] = self.svg(chart)
            elif first is chart:
                comparison = self._comparison(self._feature_of[id(chart)])
                assert comparison is not None
                found[self.path(chart)] = comparison.standalone()
        return found


def iter_charts(card_dict: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every chart in a card (JSON form), in document order."""
    found: list[Mapping[str, Any]] = []
    for split in card_dict.get("datasets", []):
        found.extend(f["chart"] for f in split.get("features", []) if f.get("chart"))
    found.extend(card_dict.get("quantitative_analysis", {}).get("charts", []))
    return found


_NOT_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9]+")
# The charts of the card being rendered, for the chart filters of the shared environments.
_CHARTS: contextvars.ContextVar[ChartSet] = contextvars.ContextVar("charts")


def render(
    card_dict: Mapping[str, Any],
    formats: Iterable[str] = DEFAULT_FORMATS,
    custom_templates: Mapping[str, str] | None = None,
    drawings: Mapping[int, Chart] | None = None,
) -> dict[str, str | bytes]:
    """Renders the requested formats.

    Args:
        card_dict: `Card.to_dict()`.
        formats: any of "json", "html", "md", "pdf".
        custom_templates: format -> path of a Jinja template replacing the default one
            (any `fileio` path). It renders in Jinja's sandbox, may
            `{% extends "model_card.html.jinja" %}` and include files of its own folder.
            The PDF is laid out from the HTML, so an "html" template shapes it too.
        drawings: the card's chart objects by the id of their dictionary in
            `card_dict` (`Card.to_dict_with_charts`), so that they are not read back.

    Returns:
        File name (e.g. "model_card.html") -> content: `bytes` for "model_card.pdf",
        `str` for every other file. With "md", the charts are also returned as
        `charts/<name>.svg`, the files the Markdown links to: one per feature (its
        splits compared) and one per other chart.

    Raises:
        ParameterError: an unknown format or template format.
        TemplateNotFoundError: a template file does not exist, or a name it loads.
        TemplateError: a template does not compile, or fails while rendering (or a
            custom HTML template makes a page that cannot be laid out as PDF).
    """
    formats = check_formats(formats)
    custom_templates = dict(custom_templates or {})
    check_template_formats(custom_templates)
    chart_set = ChartSet(card_dict, drawings=drawings)
    texts: dict[str, str] = {}

    def text(fmt: str, for_print: bool = False) -> str:
        key = f"{fmt} for print" if for_print else fmt
        if key not in texts:
            name = _custom_name(fmt) if fmt in custom_templates else DEFAULT_TEMPLATES[fmt]
            shown = chart_set.for_print() if for_print else chart_set
            env = _environment(fmt, custom_templates)
            texts[key] = _render_template(env, fmt, name, card_dict, shown)
        return texts[key]

    outputs: dict[str, str | bytes] = {}
    for fmt in formats:
        if fmt == "json":
            outputs[FILE_NAMES[fmt]] = card.dumps(card_dict)
        elif fmt == "pdf":
            page = text("html", for_print=True)
            outputs[FILE_NAMES[fmt]] = _pdf(page, custom="html" in custom_templates)
        else:
            outputs[FILE_NAMES[fmt]] = text(fmt)
    if "md" in formats:
        outputs.update(chart_set.files())
    return outputs


def _pdf(html: str, custom: bool) -> bytes:
    """The HTML page as PDF.

    A custom template's page that WeasyPrint cannot lay out is the template's error;
    the default template's would be a defect of ours, and propagates as is.
    """
    from mct_component.render import pdf

    try:
        return pdf.html_to_pdf(html)
    except Exception as e:
        if not custom:
            raise
        raise TemplateError(
            f"html template makes a page that cannot be laid out as PDF: {type(e).__name__}: {e}"
        ) from None


def _render_template(
    env: jinja2.Environment,
    fmt: str,
    name: str,
    card_dict: Mapping[str, Any],
    chart_set: ChartSet,
) -> str:
    """Renders one template; every way it can fail becomes one `TemplateError` line."""

    token = _CHARTS.set(chart_set)
    try:
        return env.get_template(name).render(card=card_dict)
    except TemplateError:
        raise
    except jinja2.TemplateNotFound as e:
        raise TemplateNotFoundError(
            f"{fmt} template loads {e.name!r}, which does not exist"
        ) from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            f"{fmt} template has a syntax error at line {e.lineno}: {e.message}"
        ) from None
    except jinja2.UndefinedError as e:
        raise TemplateError(f"{fmt} template uses an unknown card field: {e.message}") from None
    except jinja2.sandbox.SecurityError as e:
        raise TemplateError(f"{fmt} template tried something unsafe: {e}") from None
    except RecursionError:
        raise TemplateError(f"{fmt} template recurses without end") from None
    except Exception as e:  # a template is code: any failure of it is the template's
        raise TemplateError(f"{fmt} template failed: {type(e).__name__}: {e}") from None
    finally:
        _CHARTS.reset(token)


def render_package_markdown(name: str, card_dict: Mapping[str, Any]) -> str:
    """Renders one of the package's Markdown templates (e.g. an export's body) with the
    escaping and filters of `model_card.md`.

    Raises:
        TemplateError: the template fails.
    """
    return _render_template(_environment("md", {}), "md", name, card_dict, ChartSet(card_dict))


def card_html(model_card: card.Card) -> str:
    """The card as a self-contained HTML page, with the default template."""
    card_dict, drawings = model_card.to_dict_with_charts()
    return str(render(card_dict, ("html",), drawings=drawings)[FILE_NAMES["html"]])


card.register_service("html", card_html)
