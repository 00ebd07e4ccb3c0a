"""The review console in a real browser (Playwright on Debian's chromium), behind a real
authenticating proxy, against a real server on 127.0.0.1.

An author edits and submits, a reviewer signs in, opens the model, reads the diff and
approves; an author who is also an approver is refused; a login header sent straight
to the console, not through the proxy, is ignored. The approval verifies with
`mct-card verify` and with `model_signing`'s verifier. Screenshots go to
`build/screenshots/console_*.png` for people to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import mct_component as mct
from tests.auth_proxy import auth_proxy
from tests.browser import Browser
from tests.console_server import LOGIN_HEADER, make_console

pytestmark = pytest.mark.browser

SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "build", "screenshots")
BIN = os.path.dirname(sys.executable)


def _shot(browser: Browser, name: str) -> None:
    browser.screenshot(os.path.join(SCREENSHOTS, f"console_{name}.png"))


def _clean(load) -> None:
    """No console errors (a Content-Security-Policy violation is one) and no fetches."""
    assert not load.console_errors, load.console_errors
    assert not load.requests, load.requests


def test_a_reviewer_signs_in_reads_the_diff_and_approves_in_the_browser(tmp_path):
    console = make_console(tmp_path)
    model = console.store.model_id
    with console.serving() as url, Browser() as browser:
        page = browser.page
        with auth_proxy(url, "ann@example.com") as ann:
            _clean(browser.open(f"{ann}/models/{model}"))
            assert "Signed in as ann@example.com (ann)" in page.inner_text("header")
            page.click("summary:has-text('Limitations and tradeoffs')")
            page.fill("textarea[name=limitations]", "Adult penguins only.\nThree islands.")
            page.click("button:has-text('Save limitations and tradeoffs')")
            assert "Version 2: saved as a new draft." in page.inner_text("[role=status]")
            page.click("button:has-text('Submit for review')")
            assert "Version 3: submitted for review." in page.inner_text("[role=status]")
        with auth_proxy(url, "bob@example.com") as bob:
            _clean(browser.open(f"{bob}/"))
            assert "Signed in as bob@example.com (bob)" in page.inner_text("header")
            assert f"#{model}" in page.inner_text("#models")
            _shot(browser, "index")
            page.click(f"#m{model} a")
            assert page.url.endswith(f"/models/{model}")
            page.click("#v2 a:text('diff')")
            diff = page.inner_text("body")
            assert "considerations.limitations" in diff and "Adult penguins only." in diff
            _shot(browser, "diff")
            page.go_back()
            _shot(browser, "model")
            page.fill("form[action$='/approve'] textarea[name=note]", "Checked the islands.")
            page.click("button:has-text('Approve')")
            assert "Version 4: approved." in page.inner_text("[role=status]")
            assert f"model {model}: verified approved (version 4)" in page.inner_text("body")
            page.click("#v4 td.num a")
            assert "version 4 of 4 · approved" in page.inner_text("nav")
            _shot(browser, "version")
    checked = subprocess.run(
        [os.path.join(BIN, "mct-card"), "verify", "--metadata", console.store.path,
         "--model-id", str(model), "--policy", console.policy, "--require-approval"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    newest = mct.card_history(console.store.path, model)[-1]
    assert (newest.by, newest.identity, newest.status) == ("bob", "bob@example.com", "approved")
    library = subprocess.run(
        [os.path.join(BIN, "model_signing"), "verify", "key", newest.uri, "--signature",
         os.path.join(newest.uri, "card.sig"), "--public_key", console.public["console"]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert library.returncode == 0 and "Verification succeeded" in library.stdout


def test_the_author_is_refused_and_a_spoofed_header_is_ignored(tmp_path):
    console = make_console(tmp_path)
    model = console.store.model_id
    with console.serving() as url, Browser() as browser:
        page = browser.page
        with auth_proxy(url, "carol@example.com") as carol:
            browser.open(f"{carol}/models/{model}")
            page.click("summary:has-text('Risk')")
            page.fill("form:has(input[value=risk]) textarea[name=explanation]", "Written by carol.")
            page.click("button:has-text('Save risk')")
            page.click("button:has-text('Submit for review')")
            refusal = page.inner_text("form[action$='/approve']")
            assert "four eyes: you made or submitted this content" in refusal
            assert page.is_disabled("button:has-text('Approve')")
            # Past the disabled button, as a hand-made request would be: the server says no.
            page.eval_on_selector("button:has-text('Approve')", "b => b.disabled = false")
            page.click("button:has-text('Approve')")
            assert "four eyes: carol made or submitted the content under review" in (
                page.inner_text("[role=alert]")
            )
            _shot(browser, "refused")
        page.set_extra_http_headers({LOGIN_HEADER: "bob@example.com"})
        load = browser.open(f"{url}/models/{model}")
        _clean(load)
        assert "Not signed in: read-only" in page.inner_text("header")
        assert page.locator("form[method=post]").count() == 0
        _shot(browser, "spoofed")
    versions = mct.card_history(console.store.path, model)
    assert [v.status for v in versions][-1] == "pending_review"
    assert all(v.by != "bob" for v in versions)
