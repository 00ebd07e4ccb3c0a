"""The two card builders the benchmark compares, each driven through its public API only.

Both read the same statistics and evaluation and write their card to `output_dir`; both
return the HTML document. Neither touches MLMD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from bench.inputs import SPLIT_NAMES, BenchInputs

# Charts are inline SVG (ours) or <img> data URIs (MCT's base64 PNGs).
CHART_TAG = re.compile(r"<(svg|img)\b", re.IGNORECASE)


def count_charts(html: str) -> int:
    """Number of charts in an HTML card: `<svg>` and `<img>` elements."""
    return len(CHART_TAG.findall(html))


def build_ours(inputs: BenchInputs, output_dir: str) -> str:
    """This package: `build_card`, schema validation, rendering of every format, atomic write."""
    from mct_component import assemble, card, files, render
    from mct_component.lineage import ArtifactRef, CardInputs

    card_inputs = CardInputs(
        model=ArtifactRef(type_name="Model", uri=inputs.model_uri),
        statistics=ArtifactRef(
            type_name="ExampleStatistics",
            uri=inputs.statistics_uri,
            properties={"split_names": json.dumps(list(SPLIT_NAMES))},
        ),
        evaluation=ArtifactRef(type_name="ModelEvaluation", uri=inputs.evaluation_uri),
    )
    model_card = assemble.build_card(
        card_inputs, saved_model=assemble.read_saved_model(card_inputs.model)
    )
    card_dict = model_card.to_dict()
    card.validate_card_dict(card_dict)
    outputs = render.render(card_dict)
    files.write_files(output_dir, outputs)
    return outputs[render.FILE_NAMES["html"]]


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
        from mct_component import assemble, card, files, render, sources  # noqa: F401
