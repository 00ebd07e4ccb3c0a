"""A small Chrome DevTools Protocol client over Debian's headless `chromium`.

The tests and the benchmark open generated pages in a real browser with it: load a
`file://` page, time the load event, run JavaScript in the page, click through it,
collect console errors and every request the page makes, and write screenshots.

    with Browser() as browser:
        page = browser.open("file:///tmp/site/index.html")
        assert not page.console_errors and not page.requests
        rows = browser.evaluate("document.querySelectorAll('tbody tr').length")

`scripts/ensure_debian_packages.sh` (run by `make test` and `make bench`) installs chromium.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

import websocket

STARTUP_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 60.0
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # the machines run tests as root, where the sandbox cannot start
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


class BrowserError(RuntimeError):
    """Chromium could not be started, or a DevTools command failed."""


@dataclasses.dataclass
class PageLoad:
    """What happened while a page loaded (and while it was used afterwards)."""

    url: str
    load_seconds: float  # wall clock from navigation to the load event
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
    """One headless chromium with one tab, driven over the DevTools protocol."""

    def __init__(self, window_size: tuple[int, int] = (1280, 900)) -> None:
        self._profile = tempfile.mkdtemp(prefix="mct-chromium-")
        width, height = window_size
        self._process = subprocess.Popen(
            [
                find_chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self._page: PageLoad | None = None
        self._scripts = True
        try:
            self._socket = websocket.create_connection(
                self._browser_endpoint(), timeout=COMMAND_TIMEOUT_S, suppress_origin=True
            )
            target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._send(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.command(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    def _browser_endpoint(self) -> str:
        port_file = os.path.join(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrowserError(f"chromium exited with status {self._process.returncode}")
            try:
                with open(port_file) as f:
                    port, path = f.read().split()[:2]
                return f"ws://127.0.0.1:{port}{path}"
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        raise BrowserError(f"chromium did not open its DevTools port in {STARTUP_TIMEOUT_S} s")

    def _send(self, method: str, params: dict[str, Any] | None = None, **envelope: Any) -> Any:
        message_id = next(self._ids)
        self._socket.send(
            json.dumps({"id": message_id, "method": method, "params": params or {}, **envelope})
        )
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self._record(message)

    def _record(self, event: dict[str, Any]) -> None:
        page, method, params = self._page, event["method"], event.get("params", {})
        if page is None:
            return
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            page.console_errors.append(
                details.get("exception", {}).get("description") or details.get("text", "")
            )
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            page.console_errors.append(
                " ".join(
                    str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
                )
            )
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            page.console_errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url != page.url and not url.startswith("data:"):
                page.requests.append(url)

    def command(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Sends a DevTools command to the tab and returns its result."""
        return self._send(method, params, sessionId=self._session)

    def _wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._socket.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = json.loads(self._socket.recv())
            except websocket.WebSocketTimeoutException:
                break
            finally:
                self._socket.settimeout(COMMAND_TIMEOUT_S)
            if "method" in message:
                self._record(message)
                if message["method"] == method:
                    return
        raise BrowserError(f"no {method} within {timeout} s")

    def open(self, url: str, timeout: float = COMMAND_TIMEOUT_S) -> PageLoad:
        """Navigates the tab to `url` and waits for its load event (then one frame)."""
        self._page = PageLoad(url=url, load_seconds=0.0)
        started = time.perf_counter()
        result = self.command("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        self._wait_for("Page.loadEventFired", timeout)
        if self._scripts:  # the load event can come before the first frame is drawn
            self.evaluate("new Promise(done => requestAnimationFrame(() => done(true)))")
        self._page.load_seconds = time.perf_counter() - started
        return self._page

    def disable_javascript(self) -> None:
        """Runs the next pages without their scripts (DevTools can still query them)."""
        self.command("Emulation.setScriptExecutionDisabled", {"value": True})
        self._scripts = False

    def evaluate(self, expression: str) -> Any:
        """Runs JavaScript in the page and returns its (JSON-able) value."""
        result = self.command(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(
                details.get("exception", {}).get("description") or details.get("text", "")
            )
        return result["result"].get("value")

    def screenshot(self, path: str, full_page: bool = True) -> None:
        """Writes a PNG of the page (the whole page, or the viewport)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            width, height = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": width,
                "height": min(height, 16000),
                "scale": 1,
            }
        data = self.command("Page.captureScreenshot", params)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self) -> None:
        """Stops chromium and removes its profile."""
        socket = getattr(self, "_socket", None)
        if socket is not None:
            socket.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
