"""The dashboard against a hostile store (issue 16): what a card URI points to, store
paths with URI characters, numbers JSON allows but a chart cannot draw, and the pages'
Content-Security-Policy in a real browser.

Every store is a real MLMD SQLite file (`tests/card_store.py`) changed the way anyone
with the MLMD API or database access could; none imports TensorFlow.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import shutil

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

import mct_component as mct
from mct_component import cli, constants
from tests.browser import Browser
from tests.card_store import write_card_store

PASSWD_LINE = "root:x:0:0:"
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
_INLINE = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.S)


def _open(path: str) -> metadata_store.MetadataStore:
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = path
    return metadata_store.MetadataStore(config)


def _move_card(store_path: str, card_uri: str, new_uri: str) -> None:
    """Points the card's MLMD artifact at another folder, as a store writer could."""
    shutil.move(card_uri, new_uri)
    mlmd = _open(store_path)
    (artifact,) = [a for a in mlmd.get_artifacts() if a.uri == card_uri]
    artifact.uri = new_uri
    mlmd.put_artifacts([artifact])


def _set_card_property(store_path: str, card_uri: str, name: str, value: str) -> None:
    mlmd = _open(store_path)
    (artifact,) = [a for a in mlmd.get_artifacts() if a.uri == card_uri]
    artifact.custom_properties[name].string_value = value
    mlmd.put_artifacts([artifact])


def _site(store, tmp_path, *roots: str) -> str:
    site = tmp_path / "site"
    mct.build_dashboard(store.path, str(site), output_roots=list(roots), overwrite=True)
    return str(site)


def _read(site: str, name: str) -> str:
    with open(os.path.join(site, name), encoding="utf-8") as f:
        return f.read()


def _card_page(site: str, model_id: int) -> str | None:
    path = os.path.join(site, "cards", f"{model_id}.html")
    return _read(site, path) if os.path.exists(path) else None


def test_a_card_page_is_rendered_from_the_card_json_never_copied(tmp_path):
    store = write_card_store(tmp_path)
    html_path = os.path.join(store.card_uri, constants.CARD_HTML_FILE)
    with open(html_path, "w", encoding="utf-8") as f:
        f.write("<html><script>alert(document.cookie)</script>planted</html>")
    page = _card_page(_site(store, tmp_path), store.model_id)
    assert page is not None
    assert "planted" not in page and "alert(document.cookie)" not in page
    card = mct.Card.load(store.card_uri)
    assert html.escape(card.model_details.name) in page


def test_a_card_html_symlink_to_a_system_file_is_not_published(tmp_path):
    store = write_card_store(tmp_path)
    html_path = os.path.join(store.card_uri, constants.CARD_HTML_FILE)
    os.remove(html_path)
    os.symlink("/etc/passwd", html_path)
    site = _site(store, tmp_path)
    for folder, _, names in os.walk(site):
        for name in names:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                assert PASSWD_LINE not in f.read(), name


@pytest.mark.parametrize("link", ["json", "folder"])
def test_a_symlinked_card_is_refused_with_a_reason(tmp_path, link):
    store = write_card_store(tmp_path)
    json_path = os.path.join(store.card_uri, constants.CARD_JSON_FILE)
    if link == "json":
        real = str(tmp_path / "elsewhere.json")
        shutil.move(json_path, real)
        os.symlink(real, json_path)
    else:
        real = os.path.join(store.root, "real-card")
        shutil.move(store.card_uri, real)
        os.symlink(real, store.card_uri)
    site = _site(store, tmp_path)
    assert _card_page(site, store.model_id) is None
    model_page = _read(site, f"models/{store.model_id}.html")
    assert "not published" in model_page and "symbolic link" in model_page
    assert "symbolic link" in _read(site, "index.html")


def test_a_card_outside_the_pipeline_root_is_published_only_from_a_named_root(tmp_path):
    store = write_card_store(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    _move_card(store.path, store.card_uri, str(outside / "card"))
    site = _site(store, tmp_path)
    assert _card_page(site, store.model_id) is None
    assert "outside" in _read(site, f"models/{store.model_id}.html")
    assert _card_page(_site(store, tmp_path, str(outside)), store.model_id) is not None


@pytest.mark.parametrize(
    "damage, reason",
    [
        ("not json", "not a valid card"),
        ('{"model_details": 3}', "not a valid card"),
        (None, "not written by mct-component"),
    ],
)
def test_a_damaged_or_foreign_card_folder_is_not_published(tmp_path, damage, reason):
    store = write_card_store(tmp_path)
    if damage is None:
        os.remove(os.path.join(store.card_uri, constants.CARD_MARKER_FILE))
    else:
        with open(os.path.join(store.card_uri, constants.CARD_JSON_FILE), "w") as f:
            f.write(damage)
    site = _site(store, tmp_path)
    assert _card_page(site, store.model_id) is None
    assert reason in _read(site, f"models/{store.model_id}.html")


def test_a_card_uri_with_parent_steps_is_refused(tmp_path):
    store = write_card_store(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    escaped = os.path.join(store.root, "..", "..", "outside", "card")
    _move_card(store.path, store.card_uri, escaped)
    assert _card_page(_site(store, tmp_path), store.model_id) is None


def _hashes(policy: str, directive: str) -> set[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == directive:
            return {w.strip("'")[len("sha256-") :] for w in words[1:] if "sha256-" in w}
    return set()


def test_every_page_has_a_csp_without_unsafe_inline_that_hashes_its_own_code(tmp_path):
    store = write_card_store(tmp_path)
    site = _site(store, tmp_path)
    pages = ["index.html", f"models/{store.model_id}.html", f"cards/{store.model_id}.html"]
    for name in pages:
        page = _read(site, name)
        (policy,) = _CSP.findall(page)
        assert "unsafe-inline" not in policy and "default-src 'none'" in policy, name
        for kind, body in _INLINE.findall(page):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert digest in _hashes(html.unescape(policy), f"{kind}-src"), (name, kind)


@pytest.mark.browser
def test_the_pages_scripts_and_styles_run_under_their_csp_in_chromium(tmp_path):
    store = write_card_store(tmp_path)
    site = _site(store, tmp_path)
    with Browser() as browser:
        index = browser.open("file://" + os.path.join(site, "index.html"))
        assert browser.evaluate("document.getElementById('filters').hidden") is False
        assert not index.console_errors and not index.requests
        card = browser.open("file://" + os.path.join(site, "cards", f"{store.model_id}.html"))
        assert browser.evaluate("getComputedStyle(document.body).maxWidth") == "1100px"
        assert not card.console_errors and not card.requests


@pytest.mark.parametrize("name", ["st%41.sqlite", "what?.sqlite", "no#1.sqlite"])
def test_a_store_path_with_uri_characters_opens_that_file(tmp_path, capsys, name):
    store = write_card_store(tmp_path / "real", pipeline="the-real-one")
    other = write_card_store(tmp_path / "other", pipeline="another-store")
    folder = tmp_path / "pct"
    folder.mkdir()
    path = str(folder / name)
    shutil.copy(store.path, path)
    shutil.copy(other.path, folder / "stA.sqlite")  # what 'st%41' decodes to
    shutil.copy(other.path, folder / "what")  # what 'what?' reads as a URI
    shutil.copy(other.path, folder / "no")
    assert cli.main(["history", "--metadata", path, "--model-id", str(store.model_id)]) == 0
    site = tmp_path / "site"
    assert cli.main(["dashboard", "--metadata", path, "--output-dir", str(site)]) == 0
    capsys.readouterr()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "the-real-one" in index and "another-store" not in index


@pytest.mark.parametrize("value", ["1e309", "-1e309", "Infinity", "NaN"])
def test_a_headline_json_cannot_draw_will_not_put_nan_in_the_trend(tmp_path, value):
    store = write_card_store(tmp_path)
    headline = f'{{"name": "accuracy", "value": {value}, "lower": {value}, "upper": 1e309}}'
    _set_card_property(store.path, store.card_uri, constants.HEADLINE_METRIC_PROPERTY, headline)
    site = _site(store, tmp_path)
    for name in ("index.html", f"models/{store.model_id}.html"):
        page = _read(site, name)
        assert not re.search(r'="[^"]*\b(nan|inf)', page, re.I), name
