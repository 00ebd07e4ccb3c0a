"""Card events reach a JSON-lines file, a real webhook on 127.0.0.1 and a command."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import mct_component as mct
from mct_component.errors import ParameterError
from mct_component.governance import events

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers every POST with the server's status, keeping what it received."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(started: list, handler: type, **attributes) -> http.server.ThreadingHTTPServer:
    """Starts an HTTP server on 127.0.0.1 with `attributes` set on it, in a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started.append(server)
    return server


@pytest.fixture
def started():
    """The servers a test started, shut down after it."""
    servers: list = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook(started):
    """A function starting a server whose URL answers `status`, keeping what it got."""

    def start(status: int) -> tuple[str, list]:
        server = _serve(started, Receiver, status=status, received=[])
        return f"http://127.0.0.1:{server.server_address[1]}/events", server.received

    return start


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


# --- Hostile webhooks and sinks (issue 16): each on a real server on 127.0.0.1 ----------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records the request line and headers; answers as `server.answer` says."""

    def do_POST(self):
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.answer(self)

    def do_GET(self):
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(started):
    """A function starting a server whose POST answer is a function of the handler."""

    def start(answer) -> tuple[str, list]:
        instance = _serve(started, _Recorder, answer=answer, requests=[])
        return f"127.0.0.1:{instance.server_address[1]}", instance.requests

    return start


def _ok(handler):
    handler.send_response(204)
    handler.end_headers()


def test_url_credentials_become_basic_auth_and_are_never_shown(server, tmp_path, caplog):
    address, requests = server(_ok)
    url = f"http://alice:s3cr3t@{address}/hook?token=abc123&team=ml"
    assert events.deliver(event(), events.Sinks(url=url)) == []
    ((method, path, headers),) = requests
    assert (method, path) == ("POST", "/hook?token=abc123&team=ml")
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cr3t").decode()
    assert events.redact(url) == f"http://alice:***@{address}/hook?token=***&team=ml"

    refused, _ = server(lambda h: (h.send_response(403), h.end_headers()))
    url = f"http://alice:s3cr3t@{refused}/hook?sig=zzz"
    (failure,) = events.deliver(event(), events.Sinks(url=url))
    assert "s3cr3t" not in failure and "zzz" not in failure and "HTTP 403" in failure
    assert "s3cr3t" not in caplog.text


def test_a_bearer_token_from_a_file_or_the_environment(server, tmp_path):
    address, requests = server(_ok)
    token = tmp_path / "token"
    token.write_text("t0k3n\n")
    sinks = events.Sinks.configured(url=f"http://{address}/", token_file=str(token), environ={})
    assert "t0k3n" not in repr(sinks)
    assert events.deliver(event(), sinks) == []
    sinks = events.Sinks.configured(url=f"http://{address}/", environ={"MCT_EVENTS_TOKEN": "e"})
    assert events.deliver(event(), sinks) == []
    assert [h["Authorization"] for _, _, h in requests] == ["Bearer t0k3n", "Bearer e"]
    token.write_text("two words")
    with pytest.raises(ParameterError, match="must hold one token"):
        events.Sinks.configured(url=f"http://{address}/", token_file=str(token))


def test_a_redirect_is_a_failed_delivery_not_followed(server):
    target, followed = server(_ok)

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", f"http://{target}/elsewhere")
        handler.end_headers()

    address, requests = server(redirect)
    (failure,) = events.deliver(event(), events.Sinks(url=f"http://{address}/hook"))
    assert "HTTP 302" in failure and "redirects are not followed" in failure
    assert len(requests) == 1 and followed == []  # not retried, not followed


@pytest.fixture
def raw_server():
    """A TCP server on 127.0.0.1 that runs `behave(connection)` for each connection."""
    sockets = []

    def start(behave) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        sockets.append(listener)

        def serve():
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=behave, args=(connection,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/hook"

    yield start
    for listener in sockets:
        listener.close()


def _trickle(connection):
    with contextlib.suppress(OSError):
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            connection.sendall(bytes([byte]))
            time.sleep(0.5)


def _hang(connection):
    time.sleep(30)
    connection.close()


@pytest.mark.parametrize("behave", [_trickle, _hang], ids=["trickle", "hang"])
def test_a_slow_webhook_is_cut_at_the_budget(raw_server, behave):
    url = raw_server(behave)
    started = time.monotonic()
    (failure,) = events.deliver([event(), event()], events.Sinks(url=url), budget_s=2.0)
    assert time.monotonic() - started < 2.0 + 3.0
    assert failure.startswith(f"webhook {url}: ")


def test_a_flooding_webhook_is_read_a_few_kilobytes_deep(raw_server):
    def flood(connection):
        with contextlib.suppress(OSError):
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")
            chunk = b"x" * (1 << 20)
            for _ in range(1024):
                connection.sendall(chunk)

    url = raw_server(flood)
    peak = _peak_rss_of_delivery(f"events.Sinks(url={url!r})")
    assert peak < 150 * 1024 * 1024  # far below the 1 GiB it was offered


def _peak_rss_of_delivery(sinks: str) -> int:
    """Delivers one event in a fresh process; returns its peak resident memory, in bytes.

    The peak is the process's own (`VmHWM`): `ru_maxrss` would also count the pages it
    shared with this test process between fork and exec.
    """
    script = (
        "import re; from mct_component.governance import events\n"
        f"print(events.deliver(events.cloud_event('t', 1, {{}}), {sinks}, budget_s=8.0))\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


def test_an_events_file_must_be_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    (failure,) = events.deliver(event(), events.Sinks(file=str(fifo)))
    assert "not a regular file" in failure and time.monotonic() - started < 2
    (failure,) = events.deliver(event(), events.Sinks(file="/dev/null"))
    assert "not a regular file" in failure


def test_a_command_printing_a_gigabyte_is_read_a_few_kilobytes_deep():
    flood = "import sys\\nfor _ in range(1024): sys.stdout.buffer.write(b'x' * (1 << 20))"
    command = (sys.executable, "-c", flood)
    assert _peak_rss_of_delivery(f"events.Sinks(command={command!r})") < 150 * 1024 * 1024


def test_a_command_and_what_it_left_running_are_killed(tmp_path):
    pid_file = tmp_path / "pid"
    command = ("bash", "-c", f"sleep 1000 & echo $! > {pid_file}; cat > /dev/null")
    assert events.deliver(event(), events.Sinks(command=command)) == []
    assert not _alive(int(pid_file.read_text()))
    hanging = ("bash", "-c", f"sleep 1000 & echo $! > {pid_file}; sleep 1000")
    started = time.monotonic()
    (failure,) = events.deliver(event(), events.Sinks(command=hanging), budget_s=1.0)
    assert "still running at the deadline" in failure and time.monotonic() - started < 5
    assert not _alive(int(pid_file.read_text()))


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for init to reap it does not)."""
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize(
    "where",
    [
        {"command": 'notify "unclosed'},
        {"environ": {"MCT_EVENTS_COMMAND": "notify 'unclosed"}},
    ],
)
def test_an_unbalanced_events_command_is_a_parameter_error(where):
    with pytest.raises(ParameterError, match="shell-quoted command line: No closing quotation"):
        events.Sinks.configured(**{"environ": {}, **where})


def test_the_cli_names_an_unbalanced_events_command_in_one_line(tmp_path, capsys):
    from mct_component import cli

    code = cli.main(
        [
            "status",
            "--metadata",
            str(tmp_path / "none.sqlite"),
            "--model-id",
            "1",
            "--set",
            "approved",
            "--events-command",
            'notify "unclosed',
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("mct-card: error: the events command must be a shell-quoted")


def test_a_failed_delivery_is_recorded_without_the_password(tmp_path, server):
    from mct_component.governance import registry
    from mct_component.mlmd import store as stores
    from tests.card_store import write_card_store

    refused, _ = server(lambda h: (h.send_response(500), h.end_headers()))
    card_store = write_card_store(tmp_path)
    sinks = events.Sinks(url=f"http://ann:hunter2@{refused}/hook")
    version = mct.set_card_status(
        card_store.path, card_store.model_id, "pending_review", by="ann", events=sinks
    )
    connection = stores.connect(card_store.path)
    (made,) = [
        e
        for e in connection.get_events_by_artifact_ids([version.artifact_id])
        if e.type == e.OUTPUT
    ]
    (execution,) = connection.get_executions_by_id([made.execution_id])
    recorded = execution.custom_properties[registry.EVENT_FAILURES].string_value
    assert "HTTP 500" in recorded and "hunter2" not in recorded and "ann:***@" in recorded


def test_a_sink_that_fails_is_one_line_naming_the_events_it_did_not_get(tmp_path):
    change = [event(), event()]
    (failure,) = events.deliver(change, events.Sinks(command=("false",)))
    assert failure == "command false: exit status 1: (2 events not sent)"
    sink = tmp_path / "e.jsonl"
    assert events.deliver(change, events.Sinks(file=str(sink))) == []
    assert len(sink.read_text().splitlines()) == 2
