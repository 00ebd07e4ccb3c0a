"""The card pages a dashboard ships, and the Content-Security-Policy of every page it writes.

A store is written by many hands, so a card's URI may point anywhere. A card page is
never a copy of a file: it is rendered with the package's own HTML template from the
card's `model_card.json`, read without following symbolic links and checked against
the card schema. It is published only from a folder this package wrote (its marker,
only card files, no symbolic link) inside the model's pipeline root or a folder the
caller names; otherwise the model's pages say why it is not.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Mapping, Sequence

from mct_component import card, constants, files, render
from mct_component.assembly import generate
from mct_component.dashboard import overview
from mct_component.errors import ModelCardError, SourceError

# TFX writes an output to <pipeline root>/<node id>/<output key>/<execution id>: the
# model's pipeline root is this many folders above its URI.
_ROOT_DEPTH = 3
_INLINE_CODE = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.S)
# Where a dashboard template puts its policy; autoescaped store text cannot hold "<".
POLICY_PLACEHOLDER = "<mct-content-security-policy>"


@dataclasses.dataclass(frozen=True)
class CardPages:
    """The page of each model's newest card, and why the others are not published."""

    pages: Mapping[int, str]
    withheld: Mapping[int, str]


def card_pages(rows: Sequence[overview.ModelRow], output_roots: Iterable[str] = ()) -> CardPages:
    """Renders the newest card of every model that has one, where it may be published.

    Args:
        rows: the dashboard's models.
        output_roots: folders card versions were written to with `--output-root`, where
            cards may be read besides each model's pipeline root.
    """
    roots = tuple(output_roots)
    pages: dict[int, str] = {}
    withheld: dict[int, str] = {}
    for row in rows:
        if row.card is None:
            continue
        try:
            pages[row.model_id] = with_content_security_policy(_render(row, roots))
        except Withheld as e:
            withheld[row.model_id] = str(e)
    return CardPages(pages, withheld)


def with_content_security_policy(page: str, form_action: str = "'none'") -> str:
    """The page with a policy that loads nothing and runs only its own inline code.

    Each inline `<script>` and `<style>` is allowed by its SHA-256, so nothing injected
    into the page could run or restyle it. The policy replaces `POLICY_PLACEHOLDER`, or
    is put first in `<head>`. `form_action` is where forms may post ("'none'" for the
    static site, "'self'" for the console).
    """
    return secured(page, form_action)[0]


def secured(page: str, form_action: str = "'none'") -> tuple[str, str]:
    """`with_content_security_policy`'s page, and the policy itself (for a header)."""
    policy = content_security_policy(page, form_action)
    if POLICY_PLACEHOLDER in page:
        return page.replace(POLICY_PLACEHOLDER, policy, 1), policy
    head = page.find("<head>")
    if head < 0:
        raise Withheld("its page has no <head> to hold a Content-Security-Policy")
    end = head + len("<head>")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return page[:end] + meta + page[end:], policy


def content_security_policy(page: str, form_action: str = "'none'") -> str:
    """The Content-Security-Policy of a page: nothing loaded, only its own inline
    scripts and styles (by SHA-256), forms posting only to `form_action`."""
    digests: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE_CODE.findall(page):
        source = _source_digest(body)
        if source not in digests[kind]:
            digests[kind].append(source)
    directives = ["default-src 'none'", "img-src data:", "base-uri 'none'"]
    directives.append(f"form-action {form_action}")
    directives += [f"{kind}-src {' '.join(hashes)}" for kind, hashes in digests.items() if hashes]
    return "; ".join(directives)


@functools.lru_cache(maxsize=256)
def _source_digest(body: str) -> str:
    """A CSP source allowing inline code by its SHA-256 (a site's pages share theirs)."""
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


class Withheld(Exception):
    """Why a card page is not published (or a card not read: `published_card`)."""


def _render(row: overview.ModelRow, output_roots: tuple[str, ...]) -> str:
    assert row.card is not None
    return card_page(published_card(row.card.uri, row.uri, output_roots))


def published_card(folder: str, model_uri: str, output_roots: Sequence[str]) -> card.Card:
    """The card in `folder`, if it may be shown: a card folder this package wrote, inside
    the model's pipeline root or one of `output_roots`, its JSON a valid card.

    Raises:
        Withheld: why it may not be shown.
    """
    if not folder:
        raise Withheld("its artifact has no URI")
    roots = tuple(_normal(root) for root in output_roots) + tuple(_pipeline_root(model_uri))
    if not any(_inside(folder, root) for root in roots):
        raise Withheld(
            f"its folder {folder!r} is outside the model's pipeline root and every --output-root"
        )
    reason = generate.not_a_card_folder(folder)
    if reason:
        raise Withheld(f"its folder {folder!r}: {reason}")
    try:
        return card.Card.from_json(_read_card_json(folder))
    except (ModelCardError, OSError) as e:
        raise Withheld(f"its model_card.json is not a valid card: {e}") from None


def card_page(model_card: card.Card) -> str:
    """The card's HTML page, with the package's own template.

    Raises:
        Withheld: the card cannot be rendered.
    """
    try:
        return render.card_html(model_card)
    except ModelCardError as e:
        raise Withheld(f"its card cannot be rendered: {e}") from None


def _read_card_json(folder: str) -> bytes:
    path = os.path.join(folder, constants.CARD_JSON_FILE)
    if "://" in folder:
        return files.read_bytes(path, card.MAX_CARD_BYTES)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise SourceError(f"{path!r} is not a regular file")
        data = f.read(card.MAX_CARD_BYTES + 1)
    if len(data) > card.MAX_CARD_BYTES:
        raise SourceError(f"{path!r} is larger than {card.MAX_CARD_BYTES:,} bytes, the limit")
    return data


def _pipeline_root(model_uri: str) -> list[str]:
    """The model's pipeline root as TFX lays outputs out, if its URI has that shape."""
    if not model_uri or (".." in model_uri.split("/")):
        return []
    root = model_uri.rstrip("/")
    for _ in range(_ROOT_DEPTH):
        root = posixpath.dirname(root) if "://" in root else os.path.dirname(root)
    scheme, _, path = root.rpartition("://")
    if not path.strip("/") or (not scheme and not os.path.isabs(root)):
        return []  # a model at the top of a filesystem, or a relative URI: no root
    return [_normal(root)]


def _normal(path: str) -> str:
    if "://" in path:
        scheme, _, rest = path.partition("://")
        return f"{scheme}://{posixpath.normpath(rest)}"
    return os.path.realpath(path)


def _inside(folder: str, root: str) -> bool:
    if "://" in folder:
        if ".." in folder.split("/"):
            return False
        return _normal(folder).startswith(root.rstrip("/") + "/")
    if "://" in root or not os.path.isabs(folder):
        return False
    return os.path.realpath(folder).startswith(os.path.join(root, ""))
