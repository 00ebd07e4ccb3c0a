"""`mct-card`: build a model card outside a pipeline, from an existing MLMD store.

    mct-card generate --metadata mlmd.sqlite [--model-id N | --pipeline NAME] \\
        --output-dir DIR [--overwrite] [--format html,md,json] [--card-content FILE] \\
        [--label-vocabulary NAME]

It uses only the public API (`mct_component.api`).
"""

from __future__ import annotations

import argparse
import sys

from mct_component.errors import ModelCardError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mct-card", description="Model cards from ML Metadata.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser(
        "generate", help="write a card for a model in an MLMD SQLite store"
    )
    generate.add_argument("--metadata", required=True, help="path of the MLMD SQLite file")
    which = generate.add_mutually_exclusive_group(required=True)
    which.add_argument("--model-id", type=int, help="MLMD id of the Model artifact")
    which.add_argument("--pipeline", help="use the newest model of this pipeline")
    generate.add_argument("--output-dir", required=True, help="where to write the card files")
    generate.add_argument(
        "--format", default="json,html,md", help="comma-separated: json, html, md (default: all)"
    )
    generate.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --output-dir even if it holds files that are not a card (deleted)",
    )
    generate.add_argument("--card-content", help="human-written content (.json, .yaml, .yml)")
    generate.add_argument(
        "--label-vocabulary",
        default="",
        help="Transform vocabulary (vocab_filename) naming the label's classes",
    )
    return parser


def generate(args: argparse.Namespace) -> str:
    """Runs `mct-card generate`; returns the output directory."""
    import mct_component as mct

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats or any(f not in mct.FORMATS for f in formats):
        raise mct.ParameterError(
            f"--format must be a comma-separated list of {', '.join(mct.FORMATS)}, "
            f"got {args.format!r}"
        )
    model_card = mct.card_from_mlmd(
        args.metadata,
        args.model_id,
        pipeline=args.pipeline,
        content=args.card_content,
        label_vocabulary=args.label_vocabulary,
    )
    try:
        explanation = mct.explanation_metadata(model_card.model_details.uri)
    except mct.SourceError:  # not a SavedModel, or no serving_default signature
        explanation = None
    mct.write_card(
        model_card,
        args.output_dir,
        formats,
        explanation_metadata=explanation,
        overwrite=args.overwrite,
    )
    return str(args.output_dir)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mct-card` console script."""
    args = _parser().parse_args(argv)
    try:
        output_dir = generate(args)
    except ModelCardError as e:
        print(f"mct-card: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a defect of ours, not bad input: still one line, not a traceback
        message = " ".join(str(e).split())[:300]
        print(f"mct-card: internal error: {type(e).__name__}: {message}", file=sys.stderr)
        return 1
    print(f"Model card written to {output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
