"""A review console (`mct-card serve`) for the tests: real keys, a policy, a real server.

The server is uvicorn on 127.0.0.1 (an ephemeral port) in a thread of the test
process, as `mct-card serve` runs it; requests go over real sockets. The console trusts
the login header only from `PROXY_ADDRESS` (another loopback address), so a test can
speak as the authenticating proxy (`client(as_proxy=True)`) or as anyone else.

    console = make_console(tmp_path)
    with console.serving() as url:
        page = console.client("bob@example.com").get(url + "/models/1")
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from tests.card_store import CardStore, write_card_store
from tests.keys import ec_key

PROXY_ADDRESS = "127.0.0.2"
LOGIN_HEADER = "X-Forwarded-Email"
POLICY = """\
approvers:
  - {name: bob, identity: bob@example.com}
  - {name: carol, identity: carol@example.com, public_key: keys/carol.pub.pem}
signers:
  - {name: ann, identity: ann@example.com, public_key: keys/ann.pub.pem}
consoles:
  - {name: review-console, public_key: keys/console.pub.pem}
min_approvers: {high: 2}
require_signatures: true
"""


@dataclasses.dataclass
class Console:
    """A store with one card, keys, a policy, and how to serve a console over them."""

    store: CardStore
    folder: pathlib.Path
    policy: str
    keys: dict[str, str]  # name -> private key path
    public: dict[str, str]  # name -> public key path
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def app(self, **options: Any) -> Any:
        import mct_component as mct

        settings = {
            "policy": self.policy,
            "signing_key": self.keys["console"],
            "user_header": LOGIN_HEADER,
            "trusted_proxies": [PROXY_ADDRESS],
            **self.options,
            **options,
        }
        return mct.review_console(self.store.target, **settings)

    @contextlib.contextmanager
    def serving(self, **options: Any) -> Iterator[str]:
        """A console on 127.0.0.1 for the block; yields its base URL."""
        with serve_app(self.app(**options)) as url:
            yield url

    def client(
        self, login: str | None = None, as_proxy: bool = True, **headers: str
    ) -> httpx.Client:
        """An HTTP client; with a login, sent as the proxy would (from its address)."""
        sent = dict(headers)
        if login is not None:
            sent[LOGIN_HEADER] = login
        transport = httpx.HTTPTransport(local_address=PROXY_ADDRESS if as_proxy else "127.0.0.1")
        return httpx.Client(transport=transport, headers=sent, timeout=60, follow_redirects=False)


def make_console(folder: pathlib.Path, connection: Any = None) -> Console:
    """A store with one generated card (on SQLite, or the MySQL `connection`), keys for
    the console, ann (author), carol (approver with a key too), and the policy."""
    keys_folder = folder / "keys"
    keys_folder.mkdir(parents=True, exist_ok=True)
    made = {name: ec_key(keys_folder, name) for name in ("console", "ann", "carol", "dave")}
    policy = folder / "policy.yaml"
    policy.write_text(POLICY)
    store = write_card_store(folder / "store", connection=connection)
    return Console(
        store,
        folder,
        str(policy),
        {name: value[0] for name, value in made.items()},
        {name: value[1] for name, value in made.items()},
    )


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serves an ASGI app with uvicorn on 127.0.0.1 in a thread, as `mct-card serve` does."""
    import uvicorn

    # log_config=None: uvicorn leaves logging alone (its own setup would bind handlers to
    # whatever stream pytest captures into at that moment, closed after the test).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, proxy_headers=False, log_level="warning", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the console reads the store before it listens
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def form_values(page: str) -> dict[str, str]:
    """The hidden CSRF token and version of a console page's first action form."""
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert token and version, "the page has no action form"
    return {"csrf": token.group(1), "version": version.group(1)}
