"""`mct-card verify` on a 100-version history, alone in its store and among other models.

One model's card is taken through 99 signed changes (edits and reviews, each signed
with a P-256 key, as `mct-card` makes them), in a store of its own. The store is then
copied and given other models, each with a card version of its own; `verify_card_history`
(digests, hash chain, MLMD against the signed records, every signature, the review
policy) is timed on the same history in each store, interleaved, median of the repeats,
each in a fresh process (imports included, as a deploy script would run it). A history
checked by model id should cost the same whatever else the store holds.
Stores are cached under `build/bench/verify/`.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

VERSIONS = 100
OTHER_MODELS = (0, 1_000, 5_000)
REPEATS = 3
DEFAULT_DIR = pathlib.Path("build/bench/verify")

_WORKER = """
import json, sys, time
started = time.perf_counter()
import mct_component as mct
report = mct.verify_card_history(sys.argv[1], int(sys.argv[2]), policy=sys.argv[3])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "holds": report.holds, "versions": len(report.versions)}))
"""


def _key(folder: pathlib.Path, name: str) -> tuple[str, str]:
    from tests.keys import ec_key

    private, public, _ = ec_key(folder, name)
    return private, public


def build_history(folder: pathlib.Path, versions: int = VERSIONS) -> tuple[str, int, str]:
    """The store with one model and a signed history of `versions` versions: (store,
    model id, policy)."""
    import mct_component as mct
    from tests.card_store import write_card_store

    done = folder / "history.json"
    if done.exists():
        cached = json.loads(done.read_text())
        return cached["store"], cached["model_id"], cached["policy"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    store = write_card_store(folder / "store")
    author, _ = _key(folder, "author")
    reviewer, _ = _key(folder, "reviewer")
    policy = folder / "policy.yaml"
    policy.write_text(
        "approvers: [{name: reviewer, public_key: reviewer.pub.pem}]\n"
        "signers: [{name: author, public_key: author.pub.pem}]\n"
        "require_signatures: true\n"
    )
    content = folder / "content.json"
    cycle = ("edit", "pending_review", "approved")  # each by its own signer
    for made in range(1, versions):
        step = cycle[(made - 1) % len(cycle)]
        key = reviewer if step == "approved" else author
        signed: dict[str, Any] = {"signing_key": key, "policy": str(policy)}
        if step == "edit":
            content.write_text(json.dumps({"limitations": [f"revision {made}"]}))
            mct.edit_card(store.path, store.model_id, str(content), **signed)
        else:
            mct.set_card_status(store.path, store.model_id, step, **signed)
    done.write_text(
        json.dumps({"store": store.path, "model_id": store.model_id, "policy": str(policy)})
    )
    return store.path, store.model_id, str(policy)


def with_other_models(source: str, folder: pathlib.Path, count: int) -> str:
    """A copy of the store holding `count` more models, each with one card version."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from mct_component import constants
    from tests import mlmd_writer

    target = folder / f"store-{count}.sqlite"
    if target.exists():
        return str(target)
    partial = folder / f"store-{count}.partial"
    shutil.copyfile(source, partial)
    store = mlmd_writer.open_store(partial)
    model_type = store.get_artifact_type("Model").id
    card_type = store.get_artifact_type("mct_component.ModelCard").id
    models = [pb.Artifact(type_id=model_type, uri=f"/other/{i}/model") for i in range(count)]
    model_ids = store.put_artifacts(models) if models else []
    cards = []
    for i, model_id in enumerate(model_ids):
        card = pb.Artifact(type_id=card_type, uri=f"/other/{i}/card", state=pb.Artifact.LIVE)
        card.custom_properties[constants.MODEL_ID_PROPERTY].int_value = model_id
        card.custom_properties[constants.STATUS_PROPERTY].string_value = "draft"
        cards.append(card)
    if cards:
        store.put_artifacts(cards)
    del store
    partial.rename(target)
    return str(target)


def verify_once(store: str, model_id: int, policy: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, store, str(model_id), policy],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(
    folder: pathlib.Path, others: Sequence[int], repeats: int, versions: int = VERSIONS
) -> dict[str, Any]:
    path, model_id, policy = build_history(folder / "history", versions)
    stores = {count: with_other_models(path, folder, count) for count in others}
    seconds: dict[int, list[float]] = {count: [] for count in others}
    holds = True
    for _ in range(repeats):  # interleaved: each round visits every store
        for count, store in stores.items():
            result = verify_once(store, model_id, policy)
            holds = holds and result["holds"] and result["versions"] == versions
            seconds[count].append(result["seconds"])
    return {
        "versions": versions,
        "repeats": repeats,
        "holds": holds,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "median_seconds": {str(c): statistics.median(s) for c, s in seconds.items()},
    }


def markdown(report: dict[str, Any]) -> str:
    medians = report["median_seconds"]
    alone = medians[min(medians, key=int)]
    rows = [
        f"| other models in the store | verify, {report['versions']} signed versions (s) "
        "| ratio to alone |",
        "|---:|---:|---:|",
    ]
    for count, seconds in sorted(medians.items(), key=lambda kv: int(kv[0])):
        rows.append(f"| {int(count):,} | {seconds:.2f} | {seconds / alone:.2f} |")
    load = ", ".join(f"{x:.1f}" for x in report["load_average"])
    holds = "holds" if report["holds"] else "DOES NOT HOLD"
    return (
        "\n".join(rows)
        + f"\n\nMedian of {report['repeats']} fresh processes per store (imports included), "
        f"interleaved; every history {holds}; load average {load}.\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, nargs="+", default=list(OTHER_MODELS))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--directory", type=pathlib.Path, default=DEFAULT_DIR)
    parser.add_argument("--update-results-md", action="store_true")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = measure(args.directory, args.others, args.repeats)
    text = markdown(report)
    print(text)
    (args.directory / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"Measured in {time.perf_counter() - started:.0f} s")
    if args.update_results_md:
        from bench import run

        run.replace_marked_section(run.RESULTS_MD, "verify", text)
        print(f"Updated {run.RESULTS_MD}")


if __name__ == "__main__":
    main()
