"""Where a card build from files goes: a cProfile of one build in a fresh process, by part.

`python -m bench.run --steps profile` (part of `make bench`) runs `worker` in a fresh
interpreter: it imports the package (timed, not profiled), then builds the 2,000-feature
card from files under cProfile, as a fresh process builds it (its first build: the
templates compile, the protos load). `breakdown` sorts the profile's cumulative times
into the parts issue 21 named; the cyclic garbage collector's own time is taken with
`gc.callbacks`. The profiler slows Python code down about twofold, more for code with
many small calls: the shares, not the seconds, compare with an unprofiled build.
"""

from __future__ import annotations

import cProfile
import gc
import json
import pstats
import time
from collections.abc import Mapping, Sequence
from typing import Any

# Part -> the functions (file path suffix, name) whose cumulative time it is. The parts
# do not overlap: SVG drawing happens inside the templates and is taken out of them.
PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "reading TFDV statistics": (("readers/statistics.py", "read_splits"),),
    "reading the evaluation (TFMA records, config, plots)": (
        ("readers/evaluation.py", "quantitative_analysis"),
        ("readers/evaluation.py", "read_eval_config"),
        ("readers/evaluation.py", "thresholds"),
        ("readers/evaluation.py", "read_plots"),
    ),
    "reading the SavedModel": (("readers/savedmodel.py", "read_model_artifact"),),
    "building chart data": (
        ("assembly/chart_builders.py", "with_feature_charts"),
        ("assembly/chart_builders.py", "slice_charts"),
        ("assembly/chart_builders.py", "plot_charts"),
    ),
    "content and completeness": (("content/__init__.py", "apply_card_content"),),
    "`Card.to_dict`": (
        ("card/__init__.py", "to_dict_with_charts"),
        ("card/__init__.py", "to_dict"),
    ),
    "schema validation": (("card/validation.py", "validate_card_dict"),),
    "JSON text": (("card/__init__.py", "dumps"),),
    "SVG drawing: feature charts": (
        ("render/svg.py", "draw_split_comparison"),
        ("render/svg.py", "split_comparison"),
    ),
    "SVG drawing: other charts": (("render/svg.py", "to_svg"),),
    "reading charts back from dicts": (("card/charts.py", "chart_from_dict"),),
    "feature tables (HTML and Markdown, written in Python)": (
        ("render/feature_rows.py", "html_feature_blocks"),
        ("render/feature_rows.py", "markdown_feature_rows"),
    ),
    "Jinja (compiling and rendering the templates, without the above)": (
        ("render/__init__.py", "_render_template"),
    ),
    "writing files": (("files.py", "replace_directory"),),
}
# Parts drawn inside another part's functions, taken out of its time (in this order: the
# feature tables draw the feature charts, the templates call the feature tables).
_INSIDE = {
    "feature tables (HTML and Markdown, written in Python)": ("SVG drawing: feature charts",),
    "Jinja (compiling and rendering the templates, without the above)": (
        "SVG drawing: feature charts",
        "SVG drawing: other charts",
        "reading charts back from dicts",
        "feature tables (HTML and Markdown, written in Python)",
    ),
}

_WORKER = """
import json, sys
from bench import profile_build, run
print(run.RESULT_PREFIX + json.dumps(profile_build.worker(json.loads(sys.argv[1]))))
"""


def worker(job: Mapping[str, str]) -> dict[str, Any]:
    """Imports the package, then profiles one build of the card of `job`'s inputs."""
    started = time.perf_counter()
    import mct_component as mct

    import_s = time.perf_counter() - started
    collected = {"seconds": 0.0, "collections": 0}
    clock = [0.0]

    def on_collection(phase: str, info: Mapping[str, Any]) -> None:
        if phase == "start":
            clock[0] = time.perf_counter()
        else:
            collected["seconds"] += time.perf_counter() - clock[0]
            collected["collections"] += 1

    def build() -> None:
        card = mct.card_from_files(
            job["model"], statistics=job["statistics"], evaluation=job["evaluation"]
        )
        mct.write_card(card, job["output_dir"])

    gc.callbacks.append(on_collection)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(build)
    total = time.perf_counter() - started
    gc.callbacks.remove(on_collection)
    return {
        "import_s": import_s,
        "profiled_s": total,
        "gc_s": collected["seconds"],
        "gc_collections": collected["collections"],
        "parts": breakdown(pstats.Stats(profiler)),
    }


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Seconds (cumulative, profiled) per part of `PARTS`."""
    table: Mapping[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    found = {}
    for part, functions in PARTS.items():
        found[part] = sum(
            entry[3]  # cumulative time
            for (path, _, name), entry in table.items()
            if any(path.endswith(suffix) and name == wanted for suffix, wanted in functions)
        )
    for part, inner in _INSIDE.items():
        found[part] = max(0.0, found[part] - sum(found[p] for p in inner))
    return found


def measure(job: Mapping[str, str]) -> dict[str, Any]:
    """`worker` in a fresh interpreter."""
    from bench import run

    return run.run_worker(["-c", _WORKER, json.dumps(dict(job))], "the profiled build")


def markdown(result: Mapping[str, Any], n_features: int, load: Sequence[float]) -> str:
    """The breakdown as a table: seconds under the profiler and share of the build."""
    total = result["profiled_s"]
    parts = dict(result["parts"])
    parts["garbage collection"] = result["gc_s"]
    parts["other (assembling the card, ...)"] = max(0.0, total - sum(parts.values()))
    lines = [
        f"One {n_features:,}-feature build from files in a fresh process, under cProfile: "
        f"{total:.2f} s profiled (import of the package before it, not profiled: "
        f"{result['import_s']:.2f} s); garbage collections during the build: "
        f"{result['gc_collections']}. Load average {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.",
        "",
        "| Part | Profiled (s) | Share |",
        "|---|---:|---:|",
    ]
    for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        lines.append(f"| {part} | {seconds:.2f} | {seconds / total:.0%} |")
    return "\n".join(lines) + "\n"
