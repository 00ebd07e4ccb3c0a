"""An authenticating reverse proxy for the console's browser tests, as oauth2-proxy or
Kubeflow's central dashboard would stand in front of it.

Each proxy has signed one person in: it forwards every request to the console from its
own address (`console_server.PROXY_ADDRESS`, the one the console trusts), drops any
login header the browser sent, and sets the person's. Real sockets, no mocks.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import threading
import urllib.parse
from collections.abc import Iterator

from tests.console_server import LOGIN_HEADER, PROXY_ADDRESS

_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade", "content-length",
}  # fmt: skip


@contextlib.contextmanager
def auth_proxy(console_url: str, login: str) -> Iterator[str]:
    """A proxy on 127.0.0.1 that signs `login` in to the console; yields its base URL."""
    target = urllib.parse.urlsplit(console_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in _HOP_BY_HOP and name.lower() != LOGIN_HEADER.lower()
            }
            headers[LOGIN_HEADER] = login
            upstream = http.client.HTTPConnection(
                target.hostname, target.port, timeout=60, source_address=(PROXY_ADDRESS, 0)
            )
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
            finally:
                upstream.close()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
