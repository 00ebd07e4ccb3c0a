"""Card events reach a JSON-lines file, a real webhook on 127.0.0.1 and a command."""

from __future__ import annotations

import http.server
import json
import socket
import sys
import threading

import pytest

from mct_component import events
from mct_component.errors import ParameterError


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers every POST with the server's status, keeping what it received."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """Starts an HTTP server on 127.0.0.1; yields a function making its URL answer `status`."""
    servers = []

    def start(status: int) -> tuple[str, list]:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        server.status, server.received = status, []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/events", server.received

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def event() -> dict:
    data = {"version": 3, "old_status": "pending_review", "new_status": "approved", "by": "bob"}
    return events.cloud_event(events.STATUS_CHANGED, 13, data)


def test_an_event_is_cloudevents_1_0():
    sent = event()
    assert sent["specversion"] == "1.0" and sent["type"] == "mct_component.card.status_changed"
    assert sent["subject"] == "models/13" and sent["source"] == "mct_component"
    assert sent["id"] and sent["time"].endswith("+00:00")
    assert sent["data"]["new_status"] == "approved"


def test_every_sink_gets_the_event(webhook, tmp_path):
    url, received = webhook(200)
    sent = event()
    copy = tmp_path / "from-command.json"
    command = f'{sys.executable} -c \'import sys; open("{copy}", "w").write(sys.stdin.read())\''
    sinks = events.Sinks.configured(file=str(tmp_path / "events.jsonl"), url=url, command=command)
    assert events.deliver(sent, sinks) == []
    assert [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()] == [
        sent
    ]
    assert received == [("application/cloudevents+json; charset=utf-8", sent)]
    assert json.loads(copy.read_text()) == sent


def test_a_failing_or_absent_webhook_is_retried_reported_and_never_raised(webhook, tmp_path):
    url, received = webhook(503)
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{free.getsockname()[1]}/events"
    sent = event()
    failures = events.deliver(sent, events.Sinks(file=str(tmp_path / "e.jsonl"), url=url))
    assert failures == [f"webhook {url}: HTTP 503 Service Unavailable after 3 attempts"]
    assert len(received) == 3  # retried
    assert (tmp_path / "e.jsonl").read_text().count("\n") == 1  # the file still got it
    (failure,) = events.deliver(sent, events.Sinks(url=down))
    assert failure.startswith(f"webhook {down}: ") and "after 3 attempts" in failure
    (failure,) = events.deliver(sent, events.Sinks(command=("false",)))
    assert failure == "command false: exit status 1:"


def test_sinks_come_from_options_a_config_file_or_the_environment(tmp_path):
    config = tmp_path / "events.json"
    config.write_text(
        json.dumps({"url": "https://hooks.example.com/cards", "command": "logger -t x"})
    )
    sinks = events.Sinks.configured(config=str(config), environ={"MCT_EVENTS_FILE": "/tmp/e.jsonl"})
    assert sinks == events.Sinks(
        "/tmp/e.jsonl", "https://hooks.example.com/cards", ("logger", "-t", "x")
    )
    assert not events.Sinks.configured(environ={})
    with pytest.raises(ParameterError, match="must be http:// or https://"):
        events.Sinks.configured(url="file:///etc/passwd")
    config.write_text('{"hook": "x"}')
    with pytest.raises(ParameterError, match="keys among"):
        events.Sinks.configured(config=str(config))
