"""Pages opened in Debian's headless `chromium`, driven by Playwright.

The tests and the benchmark open generated pages in a real browser with it: load a page,
time the load event, run JavaScript in the page, click through it, collect console
errors and every request the page makes, and write screenshots. Playwright drives the
system's chromium (`executable_path`), so nothing is downloaded.

    with Browser() as browser:
        page = browser.open("file:///tmp/site/index.html")
        assert not page.console_errors and not page.requests
        rows = browser.evaluate("document.querySelectorAll('tbody tr').length")

`scripts/ensure_debian_packages.sh` (run by `make test` and `make bench`) installs chromium.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from typing import Any

from playwright import sync_api

STARTUP_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 60.0
# Root cannot start chromium's sandbox; the rest keeps the browser off the network.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
)


class BrowserError(RuntimeError):
    """Chromium could not be started, a page did not load, or a script in it failed."""


@dataclasses.dataclass
class PageLoad:
    """What happened while a page loaded (and while it was used afterwards)."""

    url: str
    load_seconds: float  # wall clock from navigation to the load event and the next frame
    console_errors: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)  # beyond the page itself


def find_chromium() -> str:
    """The chromium binary, or a `BrowserError` saying how to install it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError(
        "chromium is missing: run `bash scripts/ensure_debian_packages.sh` "
        "(installs Debian's chromium)"
    )


class Browser:
    """One headless chromium with one page.

    `watch_requests=False` leaves requests unwatched: the benchmark counts them from the
    page's own Resource Timing, so that large `data:` URLs do not cross the driver.
    """

    def __init__(
        self, window_size: tuple[int, int] = (1280, 900), watch_requests: bool = True
    ) -> None:
        self._viewport = {"width": window_size[0], "height": window_size[1]}
        self._watch_requests = watch_requests
        self._load: PageLoad | None = None
        self._scripts = True
        self._playwright = sync_api.sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=find_chromium(),
                args=list(CHROMIUM_FLAGS),
                timeout=STARTUP_TIMEOUT_S * 1000,
            )
            self._new_page()
        except sync_api.Error as e:
            self.close()
            raise BrowserError(f"chromium did not start: {e.message}") from None
        except BaseException:
            self.close()
            raise

    def _new_page(self) -> None:
        self._context = self._browser.new_context(
            viewport=self._viewport,  # type: ignore[arg-type]
            java_script_enabled=self._scripts,
        )
        self._context.set_default_timeout(COMMAND_TIMEOUT_S * 1000)
        self._page = self._context.new_page()
        self._page.on("console", self._on_console)
        self._page.on("pageerror", self._on_page_error)
        if self._watch_requests:
            self._page.on("request", self._on_request)

    def _on_console(self, message: sync_api.ConsoleMessage) -> None:
        if self._load is not None and message.type in ("error", "assert"):
            self._load.console_errors.append(message.text)

    def _on_page_error(self, error: sync_api.Error) -> None:
        if self._load is not None:
            self._load.console_errors.append(error.message)

    def _on_request(self, request: sync_api.Request) -> None:
        load = self._load
        if load is not None and request.url != load.url and not request.url.startswith("data:"):
            load.requests.append(request.url)

    def open(self, url: str, timeout: float = COMMAND_TIMEOUT_S) -> PageLoad:
        """Navigates to `url` and waits for its load event (then one frame)."""
        self._load = PageLoad(url=url, load_seconds=0.0)
        started = time.perf_counter()
        try:
            self._page.goto(url, wait_until="load", timeout=timeout * 1000)
        except sync_api.Error as e:
            raise BrowserError(f"cannot open {url}: {e.message}") from None
        if self._scripts:  # the load event can come before the first frame is drawn
            self.evaluate("new Promise(done => requestAnimationFrame(() => done(true)))")
        self._load.load_seconds = time.perf_counter() - started
        return self._load

    @property
    def page(self) -> sync_api.Page:
        """The Playwright page, to click, fill in forms and read it as a person would."""
        return self._page

    def disable_javascript(self) -> None:
        """Opens the next pages without their scripts (Playwright can still query them)."""
        self._context.close()
        self._scripts = False
        self._new_page()

    def evaluate(self, expression: str) -> Any:
        """Runs JavaScript in the page and returns its (JSON-able) value."""
        try:
            return self._page.evaluate(expression)
        except sync_api.Error as e:
            raise BrowserError(e.message) from None

    def screenshot(self, path: str, full_page: bool = True) -> None:
        """Writes a PNG of the page (the whole page, or the viewport)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._page.screenshot(path=path, full_page=full_page)

    def close(self) -> None:
        """Stops chromium and the Playwright driver."""
        browser = getattr(self, "_browser", None)
        if browser is not None:
            browser.close()
        self._playwright.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
