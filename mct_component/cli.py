"""`mct-card`: model cards from ML Metadata, and their review lifecycle.

    mct-card generate (--metadata PATH | --connection-config FILE) \\
        [--model-id N | --pipeline NAME] --output-dir DIR [--overwrite] \\
        [--format json,html,md,pdf] [--card-content FILE] [--label-vocabulary NAME] \\
        [--record [--by NAME] [--note TEXT]]
    mct-card status  STORE --model-id N --set STATUS [--by NAME] [--note TEXT]
    mct-card edit    STORE --model-id N --card-content FILE [--by NAME] [--note TEXT]
    mct-card history STORE --model-id N [--json]
    mct-card show    STORE --model-id N [--version V] [--json]
    mct-card diff    STORE --model-id N --from V --to V [--json]
    mct-card clone   STORE --model-id N --to-model M [--by NAME] [--note TEXT]
    mct-card delete  STORE --model-id N --note TEXT [--by NAME] [--purge]
    mct-card verify  STORE --model-id N [--policy FILE] [--require-approval] [--json]

Every command that makes a version (generate --record, status, edit, clone, delete,
import with a store) takes --signing-key PEM [--signing-certificate PEM
--certificate-chain PEM...] to sign it, and --policy FILE (or MCT_REVIEW_POLICY), the review policy it must satisfy.
    mct-card dashboard STORE --output-dir DIR [--completeness-gate X] [--overwrite]
        [--output-root DIR]...
    mct-card serve STORE --policy FILE [--signing-key PEM] [--host H] [--port N] \\
        [--user-header NAME --trusted-proxy ADDR...] [--tokens-file FILE]
    mct-card token --identity LOGIN --tokens-file FILE
    mct-card export  --format hf|sagemaker|mct --card PATH --output PATH
    mct-card import  --from mct|sagemaker FILE [--output CONTENT_FILE] \\
        [STORE --model-id N [--by NAME] [--note TEXT]]

STORE is `--metadata PATH` (an MLMD SQLite file) or `--connection-config FILE` (an MLMD
`ConnectionConfig` in text format, e.g. for MySQL). It uses the public API, and for
`serve` the console's settings and runner (`mct_component.serve`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import traceback
import warnings
from typing import Any, NoReturn

from mct_component import errors as mct_errors
from mct_component import terminal
from mct_component.errors import ModelCardError, ParameterError


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mct-card", description="Model cards from ML Metadata.")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = _command(commands, "generate", "write a card for a model in an MLMD store")
    which = generate.add_mutually_exclusive_group(required=True)
    which.add_argument("--model-id", type=int, help="MLMD id of the Model artifact")
    which.add_argument("--pipeline", help="use the newest model of this pipeline")
    generate.add_argument("--output-dir", required=True, help="where to write the card files")
    generate.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --output-dir even if it holds files that are not a card (deleted)",
    )
    generate.add_argument(
        "--format",
        default="json,html,md",
        help="comma-separated: json, html, md, pdf (default: json,html,md)",
    )
    generate.add_argument("--card-content", help="human-written content (.json, .yaml, .yml)")
    generate.add_argument(
        "--label-vocabulary",
        default="",
        help="Transform vocabulary (vocab_filename) naming the label's classes",
    )
    generate.add_argument(
        "--record",
        action="store_true",
        help="record the card in the store as the model's version 1 (signed with "
        "--signing-key), to review and verify it like a generated one",
    )
    _change_options(generate, new_folder=False)

    status = _command(commands, "status", "move a card to a new status (a new version)")
    _model(status)
    status.add_argument(
        "--set",
        required=True,
        dest="status",
        help="pending_review, approved, draft (a rejection, with --note) or archived",
    )
    _change_options(status)

    edit = _command(commands, "edit", "apply human-written content (a new draft version)")
    _model(edit)
    edit.add_argument("--card-content", required=True, help="content (.json, .yaml, .yml)")
    _change_options(edit)

    record_push = _command(
        commands, "record-push", "record where the Pusher put the model (a new version)"
    )
    _model(record_push)
    _change_options(record_push)

    clone = _command(commands, "clone", "copy a card's human-written content to another model")
    _model(clone)
    clone.add_argument("--to-model", type=int, required=True, help="MLMD id of the target model")
    _change_options(clone)

    delete = _command(commands, "delete", "delete a model's card (a recorded, signed change)")
    _model(delete)
    _signing_options(delete)
    delete.add_argument("--by", help="who deletes it (default: the signer, or the OS user)")
    delete.add_argument("--note", default="", help="why (required)")
    _event_options(delete)
    delete.add_argument(
        "--purge",
        action="store_true",
        help="delete the card folders too (only those mct-component wrote, under the "
        "pipeline root or an --output-root)",
    )
    delete.add_argument(
        "--output-root",
        action="append",
        help="a folder versions were written to with --output-root (repeatable)",
    )

    verify = _command(commands, "verify", "check a card's whole history and its signatures")
    _model(verify)
    verify.add_argument("--policy", help="the review policy (default: $MCT_REVIEW_POLICY)")
    verify.add_argument(
        "--require-approval",
        action="store_true",
        help="also fail unless the newest version is a verified approval",
    )
    verify.add_argument("--json", action="store_true", help="print JSON")

    history = _command(commands, "history", "list the versions of a model's card")
    _model(history)
    history.add_argument("--json", action="store_true", help="print JSON")
    history.add_argument("--all", action="store_true", help="include deleted versions")
    history.add_argument("--policy", help="the review policy (default: $MCT_REVIEW_POLICY)")

    show = _command(commands, "show", "print a version of a model's card (Markdown)")
    _model(show)
    show.add_argument("--version", type=int, help="the version (default: the newest)")
    show.add_argument("--json", action="store_true", help="print model_card.json instead")
    show.add_argument(
        "--policy", help="the review policy its record is verified against ($MCT_REVIEW_POLICY)"
    )

    diff = _command(commands, "diff", "what changed between two versions of a card")
    _model(diff)
    diff.add_argument("--from", dest="old", type=int, required=True, help="the older version")
    diff.add_argument("--to", dest="new", type=int, required=True, help="the newer version")
    diff.add_argument("--json", action="store_true", help="print JSON")

    dashboard = _command(commands, "dashboard", "write a static site over every model")
    dashboard.add_argument("--output-dir", required=True, help="the site's folder (replaced)")
    dashboard.add_argument(
        "--completeness-gate",
        type=float,
        help="minimum completeness (0 to 1) for cards whose generator set no gate",
    )
    dashboard.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --output-dir even if it holds files that are not a dashboard",
    )
    dashboard.add_argument(
        "--output-root",
        action="append",
        default=[],
        help="a folder card versions were written to with --output-root, whose cards the "
        "site may publish besides those in each model's pipeline root (repeatable)",
    )
    dashboard.add_argument(
        "--policy", help="the review policy approvals are verified against ($MCT_REVIEW_POLICY)"
    )
    _exchange_commands(commands)
    _console_commands(commands)
    return parser


def _console_commands(commands: Any) -> None:
    """`serve` (the review console) and `token` (a bearer token for its API)."""
    serve = _command(commands, "serve", "serve the review console over the live store")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    _signing_options(serve)
    serve.add_argument(
        "--user-header",
        help="the header the authenticating proxy sets to the signed-in login, e.g. "
        "X-Forwarded-Email or kubeflow-userid",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        help="an address or network of that proxy; the header counts only from these (repeatable)",
    )
    serve.add_argument("--tokens-file", help="bearer tokens' digests and logins (mct-card token)")
    serve.add_argument(
        "--output-root",
        action="append",
        default=[],
        help="a folder card versions were written to with --output-root (repeatable)",
    )
    serve.add_argument(
        "--completeness-gate",
        type=float,
        help="minimum completeness (0 to 1) for cards whose generator set no gate",
    )
    serve.add_argument(
        "--request-timeout",
        type=float,
        default=15.0,
        help="seconds a request may wait on the store before it is answered 503 (15)",
    )
    _event_options(serve)

    token = commands.add_parser("token", help="make a bearer token for the console's API")
    token.add_argument("--identity", required=True, help="the login the token signs in as")
    token.add_argument(
        "--tokens-file", required=True, help="the console's tokens file (its digest is added)"
    )


def _exchange_commands(commands: Any) -> None:
    """`export` (a card file to another format) and `import` (content from one)."""
    export = commands.add_parser("export", help="a card as Hugging Face, SageMaker or MCT")
    export.add_argument("--format", required=True, help="hf, sagemaker or mct")
    export.add_argument("--card", required=True, help="a card directory or model_card.json")
    export.add_argument("--output", required=True, help="the file to write (or a directory)")

    imported = commands.add_parser(
        "import", help="human-written content from an MCT or SageMaker card"
    )
    imported.add_argument("--from", dest="source", required=True, help="mct or sagemaker")
    imported.add_argument("file", help="the MCT JSON or SageMaker content JSON file")
    imported.add_argument("--output", help="write the content here (.json, .yaml, .yml)")
    store = imported.add_mutually_exclusive_group()
    store.add_argument("--metadata", help="apply it as an edit: the MLMD SQLite file")
    store.add_argument("--connection-config", help="or an MLMD ConnectionConfig (text format)")
    imported.add_argument("--model-id", type=int, help="MLMD id of the Model whose card to edit")
    _change_options(imported)


def _command(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    store = command.add_mutually_exclusive_group(required=True)
    store.add_argument("--metadata", help="path of the MLMD SQLite file")
    store.add_argument(
        "--connection-config", help="an MLMD ConnectionConfig in text format (e.g. MySQL)"
    )
    return command


def _model(command: argparse.ArgumentParser) -> None:
    command.add_argument("--model-id", type=int, required=True, help="MLMD id of the Model")


def _signing_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--signing-key", help="sign the new version with this EC private key")
    command.add_argument("--signing-certificate", help="the key's X.509 certificate (PEM)")
    command.add_argument(
        "--certificate-chain",
        nargs="+",
        default=[],
        help="intermediate and root certificates of --signing-certificate (PEM)",
    )
    command.add_argument("--policy", help="the review policy (default: $MCT_REVIEW_POLICY)")


def _change_options(command: argparse.ArgumentParser, new_folder: bool = True) -> None:
    _signing_options(command)
    command.add_argument("--by", help="who makes the change (default: the OS user)")
    command.add_argument("--note", default="", help="why")
    if new_folder:
        command.add_argument(
            "--output-root", help="where the new version's folder goes (default: beside the last)"
        )
    _event_options(command)


def _event_options(command: argparse.ArgumentParser) -> None:
    """Where the CloudEvents of a change (or of each change a console makes) go."""
    command.add_argument("--events-file", help="append the change's CloudEvents to this file")
    command.add_argument("--events-url", help="POST the change's CloudEvents to this URL")
    command.add_argument("--events-command", help="run this command with each event on stdin")
    command.add_argument(
        "--events-config", help='JSON {"file", "url", "command", "token_file"} for events'
    )
    command.add_argument(
        "--events-token-file",
        help="a file holding the webhook's bearer token (or MCT_EVENTS_TOKEN)",
    )


def _sinks(args: argparse.Namespace) -> Any:
    """The event sinks the options, a config file or the environment name."""
    import mct_component as mct

    return mct.EventSinks.configured(
        args.events_file,
        args.events_url,
        args.events_command,
        args.events_config,
        token_file=args.events_token_file,
    )


def _store(args: argparse.Namespace) -> Any:
    from mct_component.mlmd import store

    if args.connection_config:
        return store.load_connection_config(args.connection_config)
    return args.metadata


def _change(args: argparse.Namespace) -> dict[str, Any]:
    """The options every change takes: who, why, where its folder goes, its events."""
    return {
        "by": args.by,
        "note": args.note,
        "output_root": getattr(args, "output_root", None),
        "events": _sinks(args),
        "signing_key": args.signing_key,
        "signing_certificate": args.signing_certificate,
        "certificate_chain": tuple(args.certificate_chain),
        "policy": args.policy,
    }


def serve(args: argparse.Namespace) -> str:
    """Runs `mct-card serve` until interrupted."""
    from mct_component.dashboard import site
    from mct_component.serve import app
    from mct_component.serve.settings import ConsoleSettings

    if not 0 < args.port < 65536:
        raise ParameterError(f"--port must be from 1 to 65535, got {args.port}")
    store = _store(args)
    settings = ConsoleSettings.configure(
        store,
        policy=args.policy,
        signing_key=args.signing_key,
        signing_certificate=args.signing_certificate,
        certificate_chain=tuple(args.certificate_chain),
        user_header=args.user_header,
        trusted_proxies=tuple(args.trusted_proxy),
        tokens_file=args.tokens_file,
        output_roots=tuple(args.output_root),
        completeness_gate=args.completeness_gate,
        sinks=_sinks(args),
        request_timeout=args.request_timeout,
    )
    signer = settings.key.identity if settings.key else "nobody: read-only"
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"Review console for {terminal.visible(site.store_name(store))} at "
        f"http://{host}:{args.port}/ (signing as {signer})",
        flush=True,
    )
    app.run(settings, args.host, args.port, site.store_name(store))
    return "Review console stopped"


def token(args: argparse.Namespace) -> str:
    """Runs `mct-card token`: adds a new token's digest to the tokens file (made readable
    by its owner only) and prints the token, which is not kept anywhere."""
    from mct_component.serve import identity

    secret, line = identity.new_token(args.identity)
    path = args.tokens_file
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as tokens:
            tokens.write(line)
    except OSError as e:
        raise mct_errors.OutputError(f"cannot write --tokens-file {path!r}: {e.strerror}") from None
    return f"Token for {args.identity} (shown once; its digest is in {path}):\n{secret}"


def _new_version(version: Any) -> str:
    return f"Card version {version.version} of model {version.model_id}: {version.status}"


def generate(args: argparse.Namespace) -> str:
    """Runs `mct-card generate`; returns what to print."""
    import mct_component as mct

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats or any(f not in mct.FORMATS for f in formats):
        raise mct.ParameterError(
            f"--format must be a comma-separated list of {', '.join(mct.FORMATS)}, "
            f"got {args.format!r}"
        )
    model_card = mct.card_from_mlmd(
        _store(args),
        args.model_id,
        pipeline=args.pipeline,
        content=args.card_content,
        label_vocabulary=args.label_vocabulary,
    )
    try:
        explanation = mct.explanation_metadata(
            model_card.model_details.uri, content=args.card_content
        )
    except mct.SourceError:  # not a SavedModel, or no serving_default signature
        explanation = None
    if args.record:
        if args.model_id is None:
            raise mct.ParameterError("--record needs --model-id (the model the card is of)")
        change = {k: v for k, v in _change(args).items() if k != "output_root"}
        version = mct.record_card(
            _store(args),
            args.model_id,
            model_card,
            args.output_dir,
            formats,
            explanation_metadata=explanation,
            overwrite=args.overwrite,
            **change,
        )
        return f"Model card written to {args.output_dir}; " + _new_version(version)
    _refuse_change_options(args)
    mct.write_card(
        model_card,
        args.output_dir,
        formats,
        explanation_metadata=explanation,
        overwrite=args.overwrite,
    )
    return f"Model card written to {args.output_dir}"


def _refuse_change_options(args: argparse.Namespace) -> None:
    """A change's options on `generate` without `--record` would be silently dropped."""
    given = [
        option
        for option, value in (
            ("--signing-key", args.signing_key), ("--by", args.by), ("--note", args.note),
            ("--events-file", args.events_file), ("--events-url", args.events_url),
            ("--events-command", args.events_command), ("--events-config", args.events_config),
            ("--policy", args.policy),
        )
        if value
    ]  # fmt: skip
    if given:
        raise ParameterError(f"{given[0]} is for a recorded card: add --record")


def status(args: argparse.Namespace) -> str:
    """Runs `mct-card status`."""
    import mct_component as mct

    version = mct.set_card_status(_store(args), args.model_id, args.status, **_change(args))
    return _new_version(version)


def edit(args: argparse.Namespace) -> str:
    """Runs `mct-card edit`."""
    import mct_component as mct

    version = mct.edit_card(_store(args), args.model_id, args.card_content, **_change(args))
    return _new_version(version)


def record_push(args: argparse.Namespace) -> str:
    """Runs `mct-card record-push`."""
    import mct_component as mct

    version = mct.record_push(_store(args), args.model_id, **_change(args))
    return _new_version(version)


def clone(args: argparse.Namespace) -> str:
    """Runs `mct-card clone`."""
    import mct_component as mct

    version = mct.clone_card(_store(args), args.model_id, args.to_model, **_change(args))
    return _new_version(version)


def delete(args: argparse.Namespace) -> str:
    """Runs `mct-card delete`."""
    import mct_component as mct

    roots = tuple(args.output_root or ())
    if roots and not args.purge:
        raise ParameterError("--output-root goes with --purge: it names where versions may be")
    # delete's --output-root names where versions were written (for --purge); the
    # deletion's own version goes beside the last one.
    change = {**_change(args), "output_root": None}
    deleted = mct.delete_card(_store(args), args.model_id, purge=args.purge, roots=roots, **change)
    if not args.purge:
        return f"{len(deleted.versions)} versions of model {args.model_id}'s card marked for deletion, files kept"
    lines = [
        f"{len(deleted.versions)} versions of model {args.model_id}'s card deleted, "
        f"{len(deleted.purged)} folders purged"
    ]
    lines += [f"kept {terminal.visible(uri)}: {reason}" for uri, reason in deleted.kept]
    return "\n".join(lines)


def history(args: argparse.Namespace) -> str:
    """Runs `mct-card history`."""
    import mct_component as mct

    store = _store(args)
    versions = mct.card_history(store, args.model_id, include_deleted=args.all)
    checked = mct.verify_card_history(store, args.model_id, policy=args.policy)
    broken = {number for number, _ in checked.problems}
    trust = {
        c.version: "altered" if c.version in broken else "verified" if c.verified else "unverified"
        for c in checked.versions
    }
    if args.json:
        return json.dumps([{**v.as_dict(), "trust": trust[v.version]} for v in versions], indent=2)
    rows = [
        f"{'version':>7}  {'status':<15} {'change':<17} {'trust':<10} {'by':<20} {'at':<25} note"
    ]
    for v in versions:
        # Every field from the store is escaped on its own: one version, one row.
        status, change, by, at, note = (
            terminal.visible(text) for text in (v.status, v.change, v.by, v.at, v.note)
        )
        deleted = " (deleted)" if v.deleted else ""
        rows.append(
            f"{v.version:>7}  {status:<15} {change:<17} {trust[v.version]:<10} {by:<20} "
            f"{at:<25} {note}{deleted}"
        )
    if broken:
        rows.append(f"history altered: see `mct-card verify` ({len(checked.problems)} problem(s))")
    return "\n".join(rows)


def verify(args: argparse.Namespace) -> str:
    """Runs `mct-card verify`: exit 0 only when the whole history holds (and, with
    --require-approval, the newest version is a verified approval)."""
    import mct_component as mct
    from mct_component.governance import verify as verifying

    checked = mct.verify_card_history(_store(args), args.model_id, policy=args.policy)
    if args.json:
        output = json.dumps(checked.as_dict(), indent=2)
    else:
        lines = [verifying.summary_line(checked)]
        lines += [f"version {n}: {terminal.one_line(what)}" for n, what in checked.problems]
        output = "\n".join(lines)
    failed = not checked.holds or (args.require_approval and not checked.verified_approval)
    if failed:
        raise _Failed(output)
    return output


def show(args: argparse.Namespace) -> str:
    """Runs `mct-card show`."""
    import mct_component as mct

    store = _store(args)
    card = mct.load_card_version(store, args.model_id, args.version)
    checked = mct.verify_card_history(store, args.model_id, policy=args.policy)
    standing = _standing(checked, args.version or len(checked.versions))
    if args.json:
        if not standing.startswith("Record: verified"):
            _print_error(f"mct-card: warning: {terminal.one_line(standing)}")
        return card.to_json(indent=2).rstrip("\n")
    markdown = mct.render_card(card, ["md"])[mct.constants.CARD_MARKDOWN_FILE]
    assert isinstance(markdown, str)  # every format but the PDF is text
    return terminal.one_line(standing) + "\n\n" + markdown.rstrip("\n")


def _standing(checked: Any, number: int) -> str:
    """What `verify` says of the version shown, in one line: verified, unverified or
    altered (what the card's own text claims counts for nothing)."""
    version = checked.versions[number - 1]
    own = [what for n, what in checked.problems if n == number]
    if own:
        return f"Record: ALTERED: version {number}: {own[0]} (see `mct-card verify`)"
    if not checked.holds:
        return (
            f"Record: the history is altered ({len(checked.problems)} problem(s) in other "
            "versions; see `mct-card verify`)"
        )
    if version.verified:
        from mct_component.governance import lifecycle, signing

        what, carried = version.change, ""
        if version.status == lifecycle.APPROVED and version.change != lifecycle.PUSHED:
            what = "approved"
        elif version.status == lifecycle.APPROVED:  # a push record on an approved card
            approved = checked.approval_of(number)
            carried = (
                f"; the approval of version {approved} carries over"
                if approved
                else "; the approval it carries does not verify"
            )
        signer = signing.short_identity(version.signer)
        return (
            f"Record: verified: version {number} {what} by {version.by} "
            f"(signed by {signer}){carried}"
        )
    reason = "unsigned" if not version.signer else "no review policy names its signer"
    return f"Record: unverified: version {number} is {version.status} ({reason})"


def diff(args: argparse.Namespace) -> str:
    """Runs `mct-card diff`."""
    import mct_component as mct

    if args.old > args.new:
        raise ParameterError(
            f"--from {args.old} is newer than --to {args.new}: give the older version first "
            f"(--from {args.new} --to {args.old})"
        )
    store = _store(args)
    old = mct.load_card_version(store, args.model_id, args.old)
    new = mct.load_card_version(store, args.model_id, args.new)
    changes = mct.diff_cards(old, new)
    return json.dumps(changes.as_dict(), indent=2) if args.json else changes.text()


def dashboard(args: argparse.Namespace) -> str:
    """Runs `mct-card dashboard`."""
    import mct_component as mct

    gate = args.completeness_gate
    if gate is not None and not 0 <= gate <= 1:
        raise mct.ParameterError(f"--completeness-gate must be between 0 and 1, got {gate}")
    summary = mct.build_dashboard(
        _store(args),
        args.output_dir,
        completeness_gate=gate,
        overwrite=args.overwrite,
        output_roots=args.output_root,
        policy=args.policy,
    )
    flagged = ", ".join(f"{n} {flag}" for flag, n in summary.flag_counts.items() if n)
    return f"Dashboard of {summary.models} models written to {summary.index}" + (
        f" ({flagged})" if flagged else ""
    )


def export(args: argparse.Namespace) -> str:
    """Runs `mct-card export`; what was cut or left out goes to stderr."""
    import mct_component as mct

    _refuse_writing_over(args.card, args.output, "--card")
    exported = mct.write_export(mct.Card.load(args.card), args.format, args.output)
    for note in exported.notes:
        print(f"mct-card: {args.format}: {note}", file=sys.stderr)
    return f"{args.format} export written to {args.output}"


def import_content(args: argparse.Namespace) -> str:
    """Runs `mct-card import`: writes the content, and/or applies it as an edit."""
    import mct_component as mct

    in_store = bool(args.metadata or args.connection_config)
    if not args.output and not in_store:
        raise mct.ParameterError(
            "import needs --output CONTENT_FILE, or a store (--metadata or "
            "--connection-config) with --model-id to edit that model's card"
        )
    if in_store != (args.model_id is not None):
        raise mct.ParameterError(
            "--model-id and a store (--metadata/--connection-config) go together"
        )
    if args.output and not args.output.lower().endswith((".json", ".yaml", ".yml")):
        raise mct.ParameterError(
            f"a card content file must end in .json, .yaml or .yml, got {args.output!r}"
        )
    if args.output:
        _refuse_writing_over(args.file, args.output, "the imported file")
    content = mct.import_card_content(args.source, args.file)
    done = []
    if in_store:  # first: a store or model that is wrong leaves no content file behind
        version = mct.edit_card(_store(args), args.model_id, content, **_change(args))
        done.append(_new_version(version))
    if args.output:
        mct.write_card_content(content, args.output)
        done.append(f"Card content written to {args.output}")
    return "\n".join(done)


def _refuse_writing_over(source: str, output: str, what: str) -> None:
    """An output may not replace what the command reads, nor go inside a card folder."""
    import os

    import mct_component as mct

    if "://" in source or "://" in output:
        return
    read, written = os.path.realpath(source), os.path.realpath(output)
    if os.path.isdir(written):
        written = os.path.join(written, "")
    inside = os.path.isdir(read) and written.startswith(os.path.join(read, ""))
    if written == read or inside:
        raise mct.ParameterError(
            f"--output {output!r} would write over {what} ({source!r}): choose another path"
        )


class _Failed(Exception):
    """A check that ran and did not pass (exit 1), its report to print."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


COMMANDS = {
    "generate": generate,
    "status": status,
    "edit": edit,
    "record-push": record_push,
    "history": history,
    "show": show,
    "diff": diff,
    "clone": clone,
    "delete": delete,
    "verify": verify,
    "dashboard": dashboard,
    "export": export,
    "import": import_content,
    "serve": serve,
    "token": token,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mct-card` console script.

    Everything printed is made visible-safe (`terminal.visible`): store and content
    text can neither move the cursor nor forge a row. A closed pipe (`| head`) ends the
    command quietly.
    """
    _quiet_libraries()
    try:
        args = _parser().parse_args(argv)
        _check_text_arguments(args)
        output = COMMANDS[args.command](args)
    except _Failed as e:
        print(terminal.visible(str(e), keep_newlines=True))
        return 1
    except ModelCardError as e:
        _print_error(f"mct-card: error: {terminal.one_line(str(e))}")
        return 2
    except Exception as e:  # a defect of ours, not bad input: still one line, not a traceback
        message = terminal.one_line(" ".join(str(e).split()), limit=300)
        _print_error(f"mct-card: internal error: {type(e).__name__}: {message}")
        return 1
    try:
        print(terminal.visible(output, keep_newlines=True))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`mct-card history ... | head -1`): stop, as other CLIs do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


def _print_error(line: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, file=sys.stderr)


def _check_text_arguments(args: argparse.Namespace) -> None:
    """Refuses an argument that is not text (bytes the locale could not decode)."""
    for name, value in vars(args).items():
        if not isinstance(value, str):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            byte = ord(value[e.start]) - 0xDC00 if 0xDC80 <= ord(value[e.start]) <= 0xDCFF else None
            what = f"the byte {byte:#04x}" if byte is not None else f"U+{ord(value[e.start]):04X}"
            option = "--" + name.replace("_", "-")
            raise ParameterError(
                f"{option} must be UTF-8 text, got {what} at position {e.start}"
            ) from None


def _quiet_libraries() -> None:
    """Keeps TensorFlow's and its libraries' start-up banners off the user's terminal.

    The package's own warnings are printed as `mct-card: warning: ...` lines.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "3")  # ML Metadata's C++ logging
    for category in (FutureWarning, DeprecationWarning, UserWarning, RuntimeWarning):
        warnings.filterwarnings("ignore", category=category)
    for name in ("tensorflow", "absl", "apache_beam", "tfx", "ml_metadata"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ours = logging.getLogger("mct_component")
    if not ours.handlers:
        ours.addHandler(_StderrHandler())
        ours.setLevel(logging.WARNING)
        ours.propagate = False


class _StderrHandler(logging.Handler):
    """Prints `mct-card: warning: <message>` as one visible line to the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname.lower()
        _print_error(f"mct-card: {level}: {terminal.one_line(record.getMessage())}")
        if record.exc_info:  # a defect of ours in a long-running command (`serve`): its log
            for line in "".join(traceback.format_exception(*record.exc_info)).splitlines():
                _print_error(f"mct-card: {level}:   {terminal.visible(line)}")


if __name__ == "__main__":
    sys.exit(main())
