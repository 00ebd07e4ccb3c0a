"""The browser helper sees what the page tests rely on it to see."""

from __future__ import annotations

import pathlib

import pytest

from tests.browser import Browser

pytestmark = pytest.mark.browser


def test_browser_reports_console_errors_requests_and_runs_scripts(tmp_path: pathlib.Path):
    page_file = tmp_path / "page.html"
    page_file.write_text(
        "<!doctype html><title>before</title><img src='http://example.invalid/x.png'>"
        "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
        "<script>console.error('broken'); document.title = 'after';</script>",
        encoding="utf-8",
    )
    with Browser() as browser:
        page = browser.open(page_file.as_uri())
        assert browser.evaluate("document.title") == "after"
        browser.screenshot(str(tmp_path / "page.png"))
    assert page.requests == ["http://example.invalid/x.png"]
    assert "broken" in page.console_errors
    assert (tmp_path / "page.png").read_bytes().startswith(b"\x89PNG")
