"""The two card builders the benchmark compares, each driven through its public API only.

Both read the same statistics and evaluation and write their card to `output_dir`; both
return the HTML document. Neither touches MLMD.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bench.inputs import BenchInputs

# Where each builder's HTML page lands in its output directory.
HTML_FILES = {"ours": "model_card.html", "mct": "model_cards/model_card.html"}
# Charts are inline SVG (ours) or <img> data URIs (MCT's base64 PNGs).
CHART_TAG = re.compile(r"<(svg|img)\b", re.IGNORECASE)


def count_charts(html: str) -> int:
    """Number of charts in an HTML card: `<svg>` and `<img>` elements."""
    return len(CHART_TAG.findall(html))


def build_ours(inputs: BenchInputs, output_dir: str) -> str:
    """This package's public API: `card_from_files`, then `write_card` (validated, every format)."""
    import mct_component as mct

    model_card = mct.card_from_files(
        inputs.model_uri, statistics=inputs.statistics_uri, evaluation=inputs.evaluation_uri
    )
    mct.write_card(model_card, output_dir)
    with open(f"{output_dir}/{mct.constants.CARD_HTML_FILE}", encoding="utf-8") as f:
        return f.read()


def build_mct(inputs: BenchInputs, output_dir: str) -> str:
    """Model Card Toolkit 2.0: sources, `scaffold_assets`, `update_model_card`, `export_format`."""
    import model_card_toolkit

    source = model_card_toolkit.Source(
        tfma=model_card_toolkit.TfmaSource(eval_result_paths=[inputs.evaluation_uri]),
        tfdv=model_card_toolkit.TfdvSource(dataset_statistics_paths=[inputs.statistics_uri]),
        model=model_card_toolkit.ModelSource(pushed_model_path=inputs.model_uri),
    )
    toolkit = model_card_toolkit.ModelCardToolkit(output_dir=output_dir, source=source)
    model_card = toolkit.scaffold_assets()
    toolkit.update_model_card(model_card)
    return toolkit.export_format()


BUILDERS: dict[str, Callable[[BenchInputs, str], str]] = {"ours": build_ours, "mct": build_mct}


def preload(tool: str) -> None:
    """Imports what a builder needs, so that timings start after imports."""
    import jinja2  # noqa: F401
    import jsonschema  # noqa: F401
    import tensorflow  # noqa: F401
    import tensorflow_model_analysis  # noqa: F401
    from tfx.dsl.io import fileio  # noqa: F401

    if tool == "mct":
        import matplotlib.pyplot  # noqa: F401
        import model_card_toolkit  # noqa: F401
    else:
        import mct_component  # noqa: F401
