"""The public Python API: build a card (from files or from MLMD), edit it, render and write it.

Everything here is importable from `mct_component`:

    import mct_component as mct

    card = mct.card_from_files("Trainer/model/6", evaluation="Evaluator/evaluation/9")
    card = card.with_content({"limitations": ["Three islands only."]})
    mct.write_card(card, "card/")          # model_card.json, .html, .md, charts/
    mct.write_card(card, "pdf/", ["pdf"])  # model_card.pdf
    assert mct.Card.load("card/") == card
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mct_component import content as content_module
from mct_component import render
from mct_component.assembly import generate
from mct_component.card import Card
from mct_component.content import ContentInput, excerpt
from mct_component.errors import CardContentError, LineageError, ParameterError
from mct_component.exports import Export
from mct_component.generator import parameters
from mct_component.governance.events import Sinks
from mct_component.governance.registry import CardVersion, Deletion
from mct_component.governance.verify import Verification
from mct_component.mlmd.store import StoreLike
from mct_component.readers.refs import CardInputs

# Every output format, and those written unless others are asked for (not the PDF).
FORMATS = render.FORMATS
DEFAULT_FORMATS = render.DEFAULT_FORMATS


def card_from_files(
    model: str,
    *,
    statistics: str | None = None,
    schema: str | None = None,
    evaluation: str | None = None,
    blessing: str | None = None,
    pushed_model: str | None = None,
    transform_graph: str | None = None,
    content: ContentInput = None,
    label_vocabulary: str = "",
) -> Card:
    """Builds a card from pipeline outputs on disk (any `fileio` path), without MLMD.

    Args:
        model: a SavedModel directory, or a Trainer's Model output (`Format-Serving` in it).
        statistics: a StatisticsGen output directory (`Split-<name>/FeatureStats.pb`;
            the `train` split first) or one `FeatureStats.pb` file.
        schema: a SchemaGen output directory or a `schema.pbtxt` file.
        evaluation: a TFMA output directory (the Evaluator's `evaluation`).
        blessing: the Evaluator's `blessing` directory (holding `BLESSED` or `NOT_BLESSED`).
        pushed_model: the directory the model was pushed to; its name is the version.
        transform_graph: Transform's output directory, read for `label_vocabulary`.
        content: human-written sections: a mapping or a JSON/YAML file path.
        label_vocabulary: the Transform vocabulary that names the label's classes.

    Raises:
        SourceError: a path is missing or not what its producer writes.
        CardContentError: `content` does not match the card content schema.
        ParameterError: `label_vocabulary` cannot be a vocabulary name.
    """
    from mct_component.readers import file_inputs

    human = _content(content, label_vocabulary)
    inputs = file_inputs.card_inputs(
        model,
        statistics=statistics,
        schema=schema,
        evaluation=evaluation,
        blessing=blessing,
        pushed_model=pushed_model,
        transform_graph=transform_graph,
    )
    return _build(inputs, human, label_vocabulary)


def card_from_mlmd(
    store: StoreLike,
    model_id: int | None = None,
    *,
    pipeline: str | None = None,
    content: ContentInput = None,
    label_vocabulary: str = "",
) -> Card:
    """Builds a card for a model in an MLMD store, from everything its lineage holds.

    Args:
        store: an MLMD SQLite file's path, a `metadata_store_pb2.ConnectionConfig` (e.g.
            MySQL) or an open `MetadataStore`.
        model_id: the MLMD id of the `Model` artifact.
        pipeline: instead of `model_id`: the newest model of this pipeline.
        content: human-written sections: a mapping or a JSON/YAML file path.
        label_vocabulary: the Transform vocabulary that names the label's classes.

    Raises:
        ParameterError: neither or both of `model_id` and `pipeline` are given.
        LineageError: the store cannot be opened, or has no such model or pipeline.
        SourceError: an artifact in the lineage cannot be read.
        CardContentError: `content` does not match the card content schema.
    """
    from mct_component.mlmd import lineage
    from mct_component.mlmd import store as stores

    if (model_id is None) == (pipeline is None):
        raise ParameterError("give either model_id or pipeline, not both or neither")
    if model_id is not None:
        model_id = _model_id(model_id)
    human = _content(content, label_vocabulary)
    connection = stores.connect(store)
    if pipeline is not None:
        model_id = lineage.newest_model_id(connection, pipeline)
    assert model_id is not None
    return _build(lineage.resolve_lineage(connection, model_id), human, label_vocabulary)


def render_card(
    card: Card,
    formats: Iterable[str] = DEFAULT_FORMATS,
    templates: Mapping[str, str] | None = None,
) -> dict[str, str | bytes]:
    """Renders a card in memory, without writing anything.

    Args:
        card: the card.
        formats: any of "json", "html", "md", "pdf" (`FORMATS`).
        templates: format ("html" or "md") -> path of a Jinja template replacing the
            default; the PDF is laid out from the HTML, so "html" shapes it too.

    Returns:
        File name -> content: `model_card.json`, `model_card.html`, `model_card.md` as
        text, `model_card.pdf` as bytes, as asked, and with "md" the `charts/*.svg`
        files the Markdown links to (text).

    Raises:
        ParameterError: an unknown format or template format.
        CardValidationError: the card does not match the card schema.
        TemplateError: a template does not compile or render.
    """
    checked_formats, checked_templates = _render_options(formats, templates)
    return generate.card_files(card, checked_formats, checked_templates)


def write_card(
    card: Card,
    output_dir: str,
    formats: Iterable[str] = DEFAULT_FORMATS,
    templates: Mapping[str, str] | None = None,
    explanation_metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> None:
    """Renders a card and makes `output_dir` (any `fileio` path) hold exactly its files.

    Nothing is written unless every format renders. On a local disk the new directory
    then takes the old one's place in one step: a reader, or a writer killed at any
    moment, sees the previous card or the new one, never a mix, and files of the
    previous card that the new one lacks are gone. `explanation_metadata` (see
    `explanation_metadata`), when given, is written as `explanation_metadata.json`.

    Args:
        card: the card.
        output_dir: the card's directory; created if need be.
        formats: any of "json", "html", "md", "pdf" (`FORMATS`).
        templates: format ("html" or "md") -> path of a Jinja template replacing the
            default; the PDF is laid out from the HTML, so "html" shapes it too.
        explanation_metadata: Vertex explanation metadata to write beside the card.
        overwrite: replace `output_dir` even when it holds files that are not a card's
            (they are deleted). An empty directory or an earlier card is always replaced.

    Raises:
        ParameterError: `output_dir` is empty or holds other files (without
            `overwrite`), or an unknown format or template format.
        CardValidationError: the card does not match the card schema.
        TemplateError: a template does not compile or render.
        OutputError: the files could not be written (read-only, full, not a directory).
    """
    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise ParameterError(f"output_dir must be a directory path, got {output_dir!r}")
    checked_formats, checked_templates = _render_options(formats, templates)
    outputs = generate.card_files(card, checked_formats, checked_templates, explanation_metadata)
    generate.write_directory(os.fspath(output_dir), outputs, overwrite)


def record_card(
    store: StoreLike,
    model_id: int,
    card: Card,
    output_dir: str,
    formats: Iterable[str] = DEFAULT_FORMATS,
    *,
    explanation_metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    by: str | None = None,
    note: str = "",
    events: Sinks | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    policy: str | None = None,
) -> CardVersion:
    """Writes a card made outside a pipeline (e.g. by `card_from_mlmd`) to `output_dir`
    and records it in the store as version 1 of the model's card (`mct-card generate
    --record`), signed with `signing_key` when given, so the card can be reviewed,
    versioned and verified like a generated one. After `delete_card` it becomes the
    next version of the deleted history.

    Raises:
        LineageError: the store has no such model.
        ParameterError: the model has a card already; a bad format, key or policy.
        PolicyError: the policy requires a signature.
        OutputError: the folder or the store cannot be written.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise ParameterError(f"output_dir must be a directory path, got {output_dir!r}")
    checked_formats, _ = _render_options(formats, None)
    key, rules = _trust(signing_key, signing_certificate, certificate_chain, policy)
    folder = os.path.abspath(os.fspath(output_dir))

    def render(stamped: Card) -> dict[str, str | bytes]:
        return generate.card_files(stamped, checked_formats, None, explanation_metadata)

    connection = stores.connect(store, read_only=False)
    return registry.register(
        connection, _model_id(model_id), card, folder, render, by, note, events, key, rules,
        overwrite,
    )  # fmt: skip


def explanation_metadata(
    model: str, signature: str = "serving_default", content: ContentInput = None
) -> dict[str, Any]:
    """Vertex Explainable AI metadata of a SavedModel's serving signature.

    Args:
        model: a SavedModel directory, or a Trainer's Model output.
        signature: the signature to describe.
        content: human-written content (mapping or file) whose `explanation` section
            refines the derived metadata per input and output (see
            `explanation.explanation_metadata`).

    Raises:
        SourceError: not a SavedModel, or it has no such signature.
        CardContentError: the content is malformed, or names a tensor the graph lacks.
    """
    from mct_component.assembly import explanation
    from mct_component.readers import savedmodel

    refinements = content_module.load_card_content(content).get("explanation")
    info = savedmodel.read_saved_model(savedmodel.serving_dir(model))
    return explanation.explanation_metadata(info, signature, refinements)


def _content(value: ContentInput, label_vocabulary: str) -> dict[str, Any]:
    parameters.check_label_vocabulary(label_vocabulary)
    return content_module.load_card_content(value)


def _build(inputs: CardInputs, human: Mapping[str, Any], label_vocabulary: str) -> Card:
    card, _ = generate.build(inputs, human, label_vocabulary=label_vocabulary)
    return card


def _render_options(
    formats: Iterable[str], templates: Mapping[str, str] | None
) -> tuple[tuple[str, ...], dict[str, str]]:
    if isinstance(formats, str):
        raise ParameterError(f"formats must be a list such as ['html', 'md'], got {formats!r}")
    checked = dict(templates or {})
    parameters.check_templates(checked)
    return render.check_formats(formats), checked


def card_history(
    store: StoreLike, model_id: int, *, include_deleted: bool = False
) -> list[CardVersion]:
    """Every version of a model's card in MLMD, oldest first, with who, when and status.

    Raises:
        LineageError: no such model, no card for it yet, or it was deleted (unless
            `include_deleted`).
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    return registry.history(stores.connect(store), _model_id(model_id), include_deleted)


def load_card_version(store: StoreLike, model_id: int, version: int | None = None) -> Card:
    """A version of a model's card (the newest by default), read from its files.

    Raises:
        LineageError: no card, or no such version.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    return registry.load_version(stores.connect(store), _model_id(model_id), version)[1]


def set_card_status(
    store: StoreLike,
    model_id: int,
    status: str,
    *,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    events: Sinks | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    policy: str | None = None,
) -> CardVersion:
    """Moves a model's card to a new status (`lifecycle`), recorded as a new version.

    Args:
        store: the MLMD store (a SQLite path, a `ConnectionConfig` or a `MetadataStore`).
        model_id: the MLMD id of the model.
        status: "pending_review", "approved", "draft" (a rejection, with a note) or
            "archived", as the lifecycle allows from the current status.
        by: who makes the change (default: the operating system's user).
        note: why; required for a rejection.
        output_root: where the new version's folder goes (default: beside the last one).
        events: where to send the CloudEvents of the change (after MLMD records it).

    Raises:
        ParameterError: the lifecycle does not allow it (the message lists what it does).
        ConflictError: someone changed the card meanwhile; look again and retry.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    key, rules = _trust(signing_key, signing_certificate, certificate_chain, policy)
    connection = stores.connect(store, read_only=False)
    return registry.set_status(
        connection, _model_id(model_id), status, by, note, output_root, events, key, rules
    )


def _trust(
    signing_key: str | None,
    signing_certificate: str | None,
    certificate_chain: Sequence[str],
    policy: str | None,
) -> tuple[Any, Any]:
    """The signing key (None: unsigned) and the review policy (`policy`, else
    `$MCT_REVIEW_POLICY`; None: none) of a change.

    Raises:
        ParameterError: a key, certificate or policy file that is missing or wrong.
    """
    from mct_component.governance import policy as policies
    from mct_component.governance import signing

    key = signing.optional_key(signing_key, signing_certificate, certificate_chain)
    return key, policies.load(policy)


def edit_card(
    store: StoreLike,
    model_id: int,
    content: ContentInput,
    *,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    events: Sinks | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    policy: str | None = None,
) -> CardVersion:
    """Applies human-written content to a model's card, as a new draft version.

    `by`, `note`, `output_root` and `events` are as for `set_card_status`.

    Raises:
        CardContentError: the content does not match the card content schema.
        ParameterError: the card is archived.
        ConflictError: someone changed the card meanwhile; look again and retry.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    human = content_module.load_card_content(content)
    key, rules = _trust(signing_key, signing_certificate, certificate_chain, policy)
    connection = stores.connect(store, read_only=False)
    return registry.edit(
        connection, _model_id(model_id), human, by, note, output_root, events, key, rules
    )


def record_push(
    store: StoreLike,
    model_id: int,
    *,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    events: Sinks | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    policy: str | None = None,
) -> CardVersion:
    """Records where the Pusher put a model as the next version of its card.

    A card that gates the push (`from_components(..., completeness_gate=...)` with the
    Pusher taking the generator's `push_blessing`) is made before the push, so it cannot
    say where the model went. Run this after the pipeline: it reads the Pusher's
    `PushedModel` from the model's lineage and records a "pushed" version whose
    `deployment` says where (or that the model was not pushed). The version the gate
    judged stays in the history unchanged; content and status are kept.

    Raises:
        LineageError: no such model, no card, or no Pusher took the model.
        ParameterError: the card is archived, or records this push already.
        ConflictError: someone changed the card meanwhile.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import lineage
    from mct_component.mlmd import store as stores
    from mct_component.readers import deployment

    key, rules = _trust(signing_key, signing_certificate, certificate_chain, policy)
    connection = stores.connect(store, read_only=False)
    model_id = _model_id(model_id)
    pushed = lineage.resolve_lineage(connection, model_id).pushed_model
    if pushed is None:
        raise LineageError(f"no Pusher took model {model_id}: there is no push to record")
    return registry.record_push(
        connection, model_id, deployment.from_push(pushed), by, note, output_root, events,
        key, rules,
    )  # fmt: skip


def _model_id(model_id: Any) -> int:
    if isinstance(model_id, bool) or not isinstance(model_id, int) or not 0 < model_id < 2**63:
        raise ParameterError(
            f"model_id must be an MLMD id, an integer from 1 to 2**63 - 1, got {excerpt(model_id)}"
        )
    return model_id


def clone_card(
    store: StoreLike,
    model_id: int,
    to_model_id: int,
    *,
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    events: Sinks | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    policy: str | None = None,
) -> CardVersion:
    """Copies the human-written content of a model's card onto another model's, as a draft.

    Returns the target's new version; `by`, `note`, `output_root` and `events` are as for
    `set_card_status`.

    Raises:
        LineageError: either model has no card.
        ConflictError: someone changed the target's card meanwhile.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    key, rules = _trust(signing_key, signing_certificate, certificate_chain, policy)
    connection = stores.connect(store, read_only=False)
    return registry.clone(
        connection,
        _model_id(model_id),
        _model_id(to_model_id),
        by,
        note,
        output_root,
        events,
        key,
        rules,
    )


def delete_card(
    store: StoreLike,
    model_id: int,
    *,
    purge: bool = False,
    roots: Sequence[str] = (),
    by: str | None = None,
    note: str = "",
    output_root: str | None = None,
    events: Sinks | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    policy: str | None = None,
) -> Deletion:
    """Deletes a model's card as a change (a last version says who, when and why, signed
    like any change), then marks every version deleted (`MARKED_FOR_DELETION`).

    Deleted cards are hidden from `card_history` unless asked; their files are kept
    unless `purge`, which deletes only card folders this package wrote, inside the
    folder the generator wrote to or one of `roots` (where changes were written with
    `output_root`); the others are listed in `Deletion.kept` with the reason. An
    archived card is deleted only under a policy with `allow_delete_archived`.

    Raises:
        LineageError: the model has no card.
        ParameterError: no `note`.
        PolicyError: archived, or the policy asks for a signature.
    """
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores

    key, rules = _trust(signing_key, signing_certificate, certificate_chain, policy)
    connection = stores.connect(store, read_only=False)
    return registry.delete(
        connection,
        _model_id(model_id),
        purge,
        tuple(roots),
        by,
        note,
        output_root,
        events,
        key,
        rules,
    )


def verify_card_history(
    store: StoreLike, model_id: int, *, policy: str | None = None
) -> Verification:
    """Checks every version of a model's card without trusting the store: digests, the
    hash chain, MLMD against the signed records, signatures, and the review policy
    (`policy`, else `$MCT_REVIEW_POLICY`). See `governance.verify`.

    Raises:
        LineageError: the model has no card.
        ParameterError: the policy file is missing or wrong.
    """
    from mct_component.governance import policy as policies
    from mct_component.governance import verify
    from mct_component.mlmd import store as stores

    rules = policies.load(policy)
    return verify.verify_history(stores.connect(store), _model_id(model_id), rules)


def review_console(
    store: StoreLike,
    *,
    policy: str | None = None,
    signing_key: str | None = None,
    signing_certificate: str | None = None,
    certificate_chain: Sequence[str] = (),
    user_header: str | None = None,
    trusted_proxies: Sequence[str] = (),
    tokens_file: str | None = None,
    output_roots: Sequence[str] = (),
    completeness_gate: float | None = None,
    events: Sinks | None = None,
    request_timeout: float = 15.0,
) -> Any:
    """The review console (`mct-card serve`) as an ASGI application, for uvicorn or any
    ASGI server: `uvicorn.run(review_console(...), host="127.0.0.1", port=8080,
    proxy_headers=False)`.

    Args:
        store: an MLMD SQLite file's path or a `ConnectionConfig` (SQLite or MySQL).
        policy: the review policy (else `$MCT_REVIEW_POLICY`; one is required).
        signing_key: the console's EC private key, which the policy names under
            `consoles`; without it the console is read-only.
        signing_certificate, certificate_chain: the key's certificate and its chain.
        user_header: the header an authenticating proxy sets to the signed-in login.
        trusted_proxies: the proxy's addresses or networks; the header counts only on
            connections from them.
        tokens_file: bearer tokens' SHA-256 digests and logins, for scripts.
        output_roots: folders card versions were written to with `--output-root`.
        completeness_gate: the minimum completeness for cards whose generator set none.
        events: where each change's CloudEvents go.
        request_timeout: seconds after which a request waiting on the store gets 503.

    Raises:
        ParameterError: a missing or bad policy, key, header, proxy or tokens file.
    """
    from mct_component.dashboard import site
    from mct_component.serve import app
    from mct_component.serve.settings import ConsoleSettings

    settings = ConsoleSettings.configure(
        store,
        policy=policy,
        signing_key=signing_key,
        signing_certificate=signing_certificate,
        certificate_chain=certificate_chain,
        user_header=user_header,
        trusted_proxies=trusted_proxies,
        tokens_file=tokens_file,
        output_roots=output_roots,
        completeness_gate=completeness_gate,
        sinks=events,
        request_timeout=request_timeout,
    )
    return app.create_app(settings, site.store_name(store))


def export_card(card: Card, format: str) -> Export:
    """The card in another ecosystem's format, in memory.

    Args:
        card: the card.
        format: "hf" (a Hugging Face Hub `README.md`: YAML front matter with
            `model-index`, then the card in the Hub template's sections), "sagemaker"
            (SageMaker model card content JSON, cut to SageMaker's limits) or "mct"
            (Model Card Toolkit v0.0.2 JSON).

    Returns:
        The file's default name and text, and `notes`: what was cut or cannot be carried.

    Raises:
        ParameterError: an unknown format.
    """
    from mct_component import exports

    return exports.export_card(card, format)


def write_export(card: Card, format: str, output: str) -> Export:
    """Writes `export_card(card, format)` to `output` (a file, or a directory for the
    default name), atomically: the file is complete or untouched.

    Raises:
        ParameterError: an unknown format, or an empty `output`.
        OutputError: the file could not be written.
    """
    from mct_component import files

    exported = export_card(card, format)
    if not isinstance(output, (str, os.PathLike)) or not os.fspath(output):
        raise ParameterError(f"output must be a file or directory path, got {output!r}")
    path = os.fspath(output)
    if files.filesystem(path).isdir(path):
        path = os.path.join(path, exported.file_name)
    folder, name = os.path.split(path)
    files.write_files(folder or ".", {name: exported.text})
    return exported


def import_card_content(format: str, path: str) -> dict[str, Any]:
    """Human-written content from an MCT JSON or SageMaker model card content file.

    The result is what `card_content`, `Card.with_content`, `edit_card` and
    `write_card_content` take. SageMaker's `custom_details` keys starting "mct:" carry
    what an export put there (primary users, out-of-scope uses, references, ...).

    Args:
        format: "mct" or "sagemaker".
        path: the JSON file (any `fileio` path).

    Raises:
        ParameterError: an unknown format.
        CardContentError: the file is missing, too large, not JSON, or a field is wrong
            (named).
    """
    from mct_component import exports, files
    from mct_component.errors import SourceError

    if format not in exports.IMPORT_FORMATS:  # before touching the file
        return exports.import_content(format, {})
    name = excerpt(os.fspath(path), limit=300)
    fs = files.filesystem(os.fspath(path))
    if not fs.exists(os.fspath(path)) or fs.isdir(os.fspath(path)):
        raise CardContentError(f"{format} file not found: {name}")
    try:
        data = files.read_bytes(os.fspath(path), exports.MAX_IMPORT_BYTES)
    except SourceError:
        raise CardContentError(
            f"{format} file {name} is larger than {exports.MAX_IMPORT_BYTES:,} bytes, the limit"
        ) from None
    except OSError as e:
        raise CardContentError(f"{format} file {name} cannot be read: {e}") from None
    return exports.import_content(format, data, os.fspath(path))


def write_card_content(content: ContentInput, path: str) -> None:
    """Writes validated human-written content as a `.json`, `.yaml` or `.yml` file, atomically.

    Raises:
        CardContentError: the content does not match the card content schema.
        ParameterError: the path does not end in .json, .yaml or .yml.
        OutputError: the file could not be written.
    """
    import json

    import yaml

    from mct_component import files

    checked = content_module.load_card_content(content)
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json":
        text = json.dumps(checked, indent=2, ensure_ascii=False) + "\n"
    elif extension in (".yaml", ".yml"):
        text = yaml.safe_dump(checked, sort_keys=False, allow_unicode=True, width=2**31 - 1)
    else:
        raise ParameterError(
            f"a card content file must end in .json, .yaml or .yml, got {excerpt(path)}"
        )
    folder, name = os.path.split(path)
    files.write_files(folder or ".", {name: text})
