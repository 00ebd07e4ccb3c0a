"""The review console under load: 50 concurrent readers for 30 s on the 10,000-model store.

The store is a copy of the lineage benchmark's 10,000-run store (`bench/lineage_scale.py`)
in which 200 models get a card (recorded as `mct-card generate --record` records it,
into an output root the console is told about) and 20 of those a signed review history
(an author's edit and submission, a reviewer's approval, signed with the console's key
for their logins under a review policy). `mct-card serve` runs in its own process on
127.0.0.1; 50 readers, each a keep-alive HTTP/1.1 connection of its own, ask in turn
for an index page (a random page of 50, sorted by a random column), a model page and a
card version page, back to back for 30 s (no think time: the worst case). Reported:
latency percentiles per page kind, errors, requests per second, the server's peak RSS
(`VmHWM`) and the load average. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench import lineage_scale

RUNS = 10_000
CARDED = 200
REVIEWED = 20
READERS = 50
SECONDS = 30.0
REQUEST_TIMEOUT = 30.0
DEFAULT_DIR = pathlib.Path("build/bench/console")
# Target from issue 19: the index's 95th percentile under 300 ms on SQLite.
INDEX_P95_MS = 300.0
STORE_VERSION = 1
SORTS = ("created", "model", "pipeline", "status", "risk", "completeness", "headline", "flags")


def ensure_store(folder: pathlib.Path) -> dict[str, Any]:
    """The console's store (cached): the 10,000-run store with cards, keys and a policy."""
    manifest_path = folder / "store.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("store_version") == STORE_VERSION:
            return dict(manifest)
    import mct_component as mct
    from tests.factories import make_card
    from tests.keys import ec_key

    source, _ = lineage_scale.ensure_store(RUNS)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "keys").mkdir(parents=True)
    store = folder / "store.sqlite"
    shutil.copyfile(source, store)
    console_key, _, _ = ec_key(folder / "keys", "console")
    policy = folder / "policy.yaml"
    policy.write_text(
        "approvers: [{name: reviewer, identity: reviewer@example.com}]\n"
        "signers: [{name: author, identity: author@example.com}]\n"
        "consoles: [{name: console, public_key: keys/console.pub.pem}]\n"
    )
    models = _trained_models(str(store))[:CARDED]
    cards = folder / "cards"
    template = make_card()
    started = time.perf_counter()
    for index, (model_id, uri) in enumerate(models):
        card = template.replace(
            model_details=template.model_details.replace(uri=uri, version=str(model_id))
        )
        mct.record_card(str(store), model_id, card, str(cards / f"model-{model_id}"), by="bench")
        if index < REVIEWED:
            _review(str(store), model_id, console_key, str(policy), folder)
    manifest = {
        "store_version": STORE_VERSION,
        "store": str(store),
        "policy": str(policy),
        "output_root": str(cards),
        "carded": [model_id for model_id, _ in models],
        "build_s": round(time.perf_counter() - started, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def _trained_models(store: str) -> list[tuple[int, str]]:
    import sqlite3

    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT a.id, a.uri FROM Artifact a JOIN Type t ON t.id = a.type_id "
            "WHERE t.name = 'Model' ORDER BY a.id DESC"
        ).fetchall()
    return [(int(i), str(u)) for i, u in rows]


def _review(store: str, model_id: int, key: str, policy: str, folder: pathlib.Path) -> None:
    """An author's edit and submission, a reviewer's approval, as the console makes them."""
    from mct_component.governance import policy as policies
    from mct_component.governance import registry, signing
    from mct_component.mlmd import store as stores

    connection = stores.connect(store, read_only=False)
    signer = signing.load_signing_key(key)
    rules = policies.load(policy)
    content = {"limitations": [f"Reviewed for the benchmark (model {model_id})."]}
    registry.edit(connection, model_id, content, None, "", None, None, signer, rules,
                  identity="author@example.com")  # fmt: skip
    for status, login in (("pending_review", "author@example.com"),
                          ("approved", "reviewer@example.com")):  # fmt: skip
        registry.set_status(connection, model_id, status, None, "", None, None, signer, rules,
                            identity=login)  # fmt: skip


class _Reader:
    """One keep-alive HTTP/1.1 connection to the console."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode("ascii")
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                self.writer = None
        await self.reader.readexactly(length)
        return status


async def _load(
    port: int, manifest: dict[str, Any], readers: int, seconds: float
) -> dict[str, Any]:
    carded = manifest["carded"]
    models = manifest["all_models"]
    kinds = ("index", "model", "card")
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    errors: dict[str, int] = {kind: 0 for kind in kinds}
    samples: list[str] = []  # the first few failures, for the report
    deadline = time.perf_counter() + seconds

    async def read(number: int) -> None:
        chooser = random.Random(number)
        connection = _Reader(port)
        turn = number
        while time.perf_counter() < deadline:
            kind = kinds[turn % len(kinds)]
            turn += 1
            if kind == "index":
                sort = chooser.choice(SORTS)
                path = f"/?page={chooser.randint(1, 200)}&sort={sort}"
            elif kind == "model":
                path = f"/models/{chooser.choice(models)}"
            else:
                path = f"/models/{chooser.choice(carded)}/versions/1"
            started = time.perf_counter()
            failure = ""
            try:
                status = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
                status, failure = 0, type(e).__name__
                connection = _Reader(port)
            latencies[kind].append(time.perf_counter() - started)
            if status != 200:
                errors[kind] += 1
                if len(samples) < 10:
                    samples.append(f"{path}: {failure or status}")

    started = time.perf_counter()
    await asyncio.gather(*(read(n) for n in range(readers)))
    elapsed = time.perf_counter() - started
    return {
        kind: {
            "requests": len(latencies[kind]),
            "errors": errors[kind],
            **_percentiles(latencies[kind]),
        }
        for kind in kinds
    } | {
        "seconds": elapsed,
        "requests_per_second": sum(map(len, latencies.values())) / elapsed,
        "error_samples": samples,
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def measure(folder: pathlib.Path, readers: int, seconds: float) -> dict[str, Any]:
    import httpx

    manifest = ensure_store(folder)
    manifest["all_models"] = [m for m, _ in _trained_models(manifest["store"])]
    port = _free_port()
    mct_card = os.path.join(os.path.dirname(sys.executable), "mct-card")
    server = subprocess.Popen(
        [mct_card, "serve", "--metadata", manifest["store"], "--policy", manifest["policy"],
         "--output-root", manifest["output_root"], "--port", str(port)],
        # Its access log is not read here: a pipe nobody empties would stall the server.
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        started = time.perf_counter()
        deadline = started + 300
        while True:  # the first request reads and verifies the whole store
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=120).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline or server.poll() is not None:
                raise RuntimeError("the console did not start")
            time.sleep(0.2)
        first_view = time.perf_counter() - started
        before = os.getloadavg()
        pages = asyncio.run(_load(port, manifest, readers, seconds))
        after = os.getloadavg()
        peak = _peak_mib(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "models": len(manifest["all_models"]),
        "carded": len(manifest["carded"]),
        "readers": readers,
        "seconds": seconds,
        "first_view_s": first_view,
        "server_peak_mib": peak,
        "load_average_before": [round(x, 2) for x in before],
        "load_average_after": [round(x, 2) for x in after],
        "pages": pages,
    }


def markdown(report: dict[str, Any]) -> str:
    pages = report["pages"]
    rows = [
        "| page | requests | errors | p50 (ms) | p95 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    names = {"index": "index (a page of 50, random sort)", "model": "model page",
             "card": "card version page"}  # fmt: skip
    for kind, label in names.items():
        page = pages[kind]
        rows.append(
            f"| {label} | {page['requests']:,} | {page['errors']} | {page['p50_ms']:.0f} | "
            f"{page['p95_ms']:.0f} | {page['p99_ms']:.0f} |"
        )
    verdict = "met" if pages["index"]["p95_ms"] < INDEX_P95_MS else "NOT met"
    load = ", ".join(f"{x:.1f}" for x in report["load_average_after"])
    return (
        "\n".join(rows)
        + f"\n\n{report['readers']} concurrent readers for {report['seconds']:.0f} s against "
        f"`mct-card serve` (one process) on the {report['models']:,}-model SQLite store "
        f"({report['carded']} with cards), no think time: "
        f"{pages['requests_per_second']:.0f} requests/s, server peak RSS "
        f"{report['server_peak_mib']:.0f} MiB, first read of the store "
        f"{report['first_view_s']:.1f} s; load average {load} (1, 5, 15 min) after the run, "
        f"readers and server sharing the machine's 2 cores. Index p95 target "
        f"{INDEX_P95_MS:.0f} ms: {verdict}.\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--directory", type=pathlib.Path, default=DEFAULT_DIR)
    parser.add_argument("--update-results-md", action="store_true")
    args = parser.parse_args(argv)
    report = measure(args.directory, args.readers, args.seconds)
    text = markdown(report)
    print(text)
    (args.directory / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.update_results_md:
        from bench import run

        run.replace_marked_section(run.RESULTS_MD, "console", text)
        print(f"Updated {run.RESULTS_MD}")


if __name__ == "__main__":
    main()
