"""The console while its MariaDB is killed and restarted under load.

Readers and a reviewer who keeps changing the card hit a real console on 127.0.0.1
while the tests' own MariaDB server is killed (SIGKILL, as a crash) and started again.
No request may outlive the console's timeout; during the outage the console answers
503, after it 200 again; and no change is half-recorded: `mct-card verify` holds over
the whole history, and no version folder is left that MLMD does not know.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest

import mct_component as mct
from tests.console_server import form_values, make_console

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

TIMEOUT_S = 5.0  # the console's request timeout here
READERS = 6
KILL_AT_S, RESTART_AT_S, STOP_AT_S = 4.0, 10.0, 20.0


def test_mariadb_killed_and_restarted_under_load(tmp_path, mysql_server):
    console = make_console(
        tmp_path, mysql_server.connection_config(f"fault_{uuid.uuid4().hex[:8]}")
    )
    model = console.store.model_id
    answers: list[tuple[float, float, int, str]] = []  # (sent at, seconds, status, kind)
    lock = threading.Lock()
    started = time.monotonic()

    def note(sent: float, status: int, kind: str) -> None:
        with lock:
            answers.append((sent - started, time.monotonic() - sent, status, kind))

    def read(url: str) -> None:
        client = console.client("ann@example.com")
        paths = ("/", f"/models/{model}", f"/api/models/{model}/verify")
        turn = 0
        while time.monotonic() - started < STOP_AT_S:
            sent = time.monotonic()
            try:
                status = client.get(url + paths[turn % 3], timeout=TIMEOUT_S * 3).status_code
            except httpx.TransportError:
                status = -1
            note(sent, status, "read")
            turn += 1

    def review(url: str) -> None:
        clients = {p: console.client(f"{p}@example.com") for p in ("ann", "bob")}
        while time.monotonic() - started < STOP_AT_S:
            sent = time.monotonic()
            try:
                page = clients["ann"].get(f"{url}/models/{model}", timeout=TIMEOUT_S * 3)
                if page.status_code != 200:
                    note(sent, page.status_code, "page")
                    time.sleep(0.2)
                    continue
                if "Submit for review" in page.text:
                    action, who = "submit", "ann"
                elif f'action="/models/{model}/approve"' in page.text:
                    action, who = "approve", "bob"
                else:
                    action, who = "edit", "ann"
                client = clients[who]
                form_page = client.get(f"{url}/models/{model}", timeout=TIMEOUT_S * 3)
                if form_page.status_code != 200:  # the store went away since the last read
                    note(sent, form_page.status_code, "page")
                    time.sleep(0.2)
                    continue
                fields = form_values(form_page.text)
                if action == "edit":
                    fields |= {"section": "limitations", "tradeoffs": "",
                               "limitations": f"Edited at {time.monotonic():.3f}."}  # fmt: skip
                answer = client.post(
                    f"{url}/models/{model}/{action}", data=fields, timeout=TIMEOUT_S * 3
                )
                status = answer.status_code
            except (httpx.TransportError, AssertionError):
                status = -1
            note(sent, status, "change")

    with console.serving(request_timeout=TIMEOUT_S) as url:
        workers = [threading.Thread(target=read, args=(url,)) for _ in range(READERS)]
        workers.append(threading.Thread(target=review, args=(url,)))
        for worker in workers:
            worker.start()
        try:
            time.sleep(KILL_AT_S)
            mysql_server.kill()
            killed = time.monotonic() - started
            time.sleep(RESTART_AT_S - KILL_AT_S)
        finally:
            if mysql_server.process.poll() is not None:
                mysql_server.restart()
        restarted = time.monotonic() - started
        for worker in workers:
            worker.join(timeout=STOP_AT_S + 60)
        assert not any(w.is_alive() for w in workers)

    slowest = max(seconds for _, seconds, _, _ in answers)
    assert slowest < TIMEOUT_S + 3, f"a request took {slowest:.1f} s"
    statuses = {status for _, _, status, _ in answers}
    failed = [(round(at, 1), kind) for at, _, status, kind in answers if status == -1]
    assert statuses <= {200, 303, 409, 503}, (sorted(statuses), failed[:5])
    during = {s for at, _, s, _ in answers if killed + 0.5 < at < restarted - 0.5}
    after = [s for at, _, s, kind in answers if at > restarted + 4 and kind == "read"]
    assert 503 in during and 200 in after, (during, after[-10:])
    changes = [s for _, _, s, kind in answers if kind == "change"]
    assert changes.count(303) >= 2, changes

    checked = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "mct-card"), "verify",
         "--connection-config", console.store.path, "--model-id", str(model),
         "--policy", console.policy],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    versions = mct.card_history(console.store.target, model)
    known = {os.path.basename(v.uri) for v in versions}
    folder = os.path.dirname(versions[-1].uri)
    left = [n for n in os.listdir(folder) if n.startswith("model-") and n not in known]
    assert not left, f"version folders MLMD does not know: {left}"
