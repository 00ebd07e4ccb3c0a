"""The review console over real MLMD stores, through a real server on 127.0.0.1.

Who signs in, what they may do, how every change is signed, recorded and verified (by
`mct-card verify` and by `model_signing`'s own verifier), and how the console answers
bad requests, forged requests, conflicts and a store that goes away.
"""

from __future__ import annotations

import concurrent.futures
import html
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import uuid

import pytest

import mct_component as mct
from mct_component import cli
from mct_component.serve import identity
from tests.console_server import LOGIN_HEADER, form_values, make_console

MODEL_SIGNING = os.path.join(os.path.dirname(sys.executable), "model_signing")


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mysql)])
def console(request, tmp_path):
    connection = None
    if request.param == "mariadb":
        server = request.getfixturevalue("mysql_server")
        connection = server.connection_config(f"console_{uuid.uuid4().hex[:12]}")
    return make_console(tmp_path, connection)


def _act(client, url: str, model_id: int, action: str, **fields: str):
    page = client.get(f"{url}/models/{model_id}")
    assert page.status_code == 200, page.text
    return client.post(
        f"{url}/models/{model_id}/{action}", data={**form_values(page.text), **fields}
    )


def _verify(console, *extra: str) -> tuple[int, str]:
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "mct-card"), "verify",
         *console.store.cli("verify")[1:], "--policy", console.policy, *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return out.returncode, out.stdout + out.stderr


def _history(console):
    return mct.card_history(console.store.target, console.store.model_id)


@pytest.mark.slow  # real `mct-card` and `model_signing` processes
def test_a_reviewer_approves_what_an_author_submitted_and_it_verifies(console):
    model = console.store.model_id
    events = console.folder / "events.jsonl"
    sinks = mct.EventSinks.configured(file=str(events), environ={})
    with console.serving(events=sinks) as url:
        ann, bob = console.client("ann@example.com"), console.client("bob@example.com")
        page = ann.get(f"{url}/models/{model}")
        assert "Signed in as <strong>ann@example.com</strong> (ann)" in page.text
        edited = _act(
            ann, url, model, "edit", section="limitations", limitations="Three islands.\nAdults.",
            tradeoffs="", note="Named the islands.",
        )  # fmt: skip
        assert edited.status_code == 303, edited.text
        assert _act(ann, url, model, "submit", note="Ready.").status_code == 303
        refused = ann.get(f"{url}/models/{model}")
        assert "You may not approve: the review policy does not name you as an approver" in (
            refused.text
        )
        approved = _act(bob, url, model, "approve", note="Checked.")
        assert approved.status_code == 303
        shown = bob.get(f"{url}{approved.headers['location']}")
        assert "Version 4: approved." in shown.text
        assert "model 1: verified approved (version 4)" in shown.text.replace(
            f"model {model}", "model 1"
        )
    versions = _history(console)
    assert [(v.change, v.by, v.identity, v.status) for v in versions] == [
        ("generated", "ModelCardGenerator", "", "draft"),
        ("edited", "ann", "ann@example.com", "draft"),
        ("status_changed", "ann", "ann@example.com", "pending_review"),
        ("status_changed", "bob", "bob@example.com", "approved"),
    ]
    code, out = _verify(console, "--require-approval")
    assert code == 0 and "verified approved (version 4)" in out, out
    newest = versions[-1].uri
    library = subprocess.run(
        [MODEL_SIGNING, "verify", "key", newest, "--signature", os.path.join(newest, "card.sig"),
         "--public_key", console.public["console"]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert library.returncode == 0 and "Verification succeeded" in library.stdout
    with open(os.path.join(newest, "model_card.json")) as f:
        record = json.load(f)["governance"]
    assert record["change"]["identity"] == "bob@example.com"
    assert record["approval"]["identity"] == "bob@example.com"
    assert record["approval"]["signer"] == record["change"]["signer"]
    sent = [json.loads(line) for line in events.read_text().splitlines()]
    approved = [e["data"] for e in sent if e["type"].endswith("status_changed")][-1]
    assert (approved["new_status"], approved["by"], approved["identity"]) == (
        "approved",
        "bob",
        "bob@example.com",
    )
    assert approved["verified"] and approved["signer"] == versions[-1].signer


def test_the_author_is_refused_by_name_whichever_way_they_signed(console, capsys):
    """carol edits with her own key (the CLI), then tries to approve in the console."""
    store, model = console.store, console.store.model_id
    content = console.folder / "content.json"
    content.write_text(json.dumps({"limitations": ["carol wrote this"]}))
    signed = ("--signing-key", console.keys["carol"], "--policy", console.policy)
    assert cli.main(store.cli("edit", "--card-content", str(content), *signed)) == 0
    assert cli.main(store.cli("status", "--set", "pending_review", *signed)) == 0
    capsys.readouterr()
    with console.serving() as url:
        carol = console.client("carol@example.com")
        page = carol.get(f"{url}/models/{model}")
        assert "four eyes: you made or submitted this content (version 2, edited)" in page.text
        refused = _act(carol, url, model, "approve")
        assert refused.status_code == 403
        assert "four eyes: carol made or submitted the content under review" in refused.text
        assert _act(console.client("bob@example.com"), url, model, "approve").status_code == 303
    assert _verify(console, "--require-approval")[0] == 0


def test_a_high_risk_card_needs_two_people_not_one_twice(console):
    model = console.store.model_id
    with console.serving() as url:
        ann, bob = console.client("ann@example.com"), console.client("bob@example.com")
        assert _act(ann, url, model, "edit", section="risk", rating="high",
                    explanation="Credit decisions.").status_code == 303  # fmt: skip
        assert _act(ann, url, model, "submit").status_code == 303
        first = _act(bob, url, model, "approve")
        assert (
            "approval recorded; more approvers are needed"
            in bob.get(f"{url}{first.headers['location']}").text
        )
        again = _act(bob, url, model, "approve")
        assert again.status_code == 403 and "bob has already approved this content" in again.text
        second = _act(console.client("carol@example.com"), url, model, "approve")
        assert second.status_code == 303
    assert [v.status for v in _history(console)][-2:] == ["pending_review", "approved"]
    assert _verify(console, "--require-approval")[0] == 0


def test_a_login_header_counts_only_from_the_trusted_proxy(console):
    model = console.store.model_id
    with console.serving() as url:
        spoofed = console.client("bob@example.com", as_proxy=False)
        page = spoofed.get(f"{url}/models/{model}")
        assert page.status_code == 200 and "Not signed in: read-only" in page.text
        assert 'name="csrf"' not in page.text
        posted = spoofed.post(f"{url}/models/{model}/submit", data={"csrf": "1.x", "version": "1"})
        assert posted.status_code == 401
        proxied = console.client("bob@example.com").get(f"{url}/models/{model}")
        assert "Signed in as <strong>bob@example.com</strong>" in proxied.text
        bad = console.client("bob\x1b[31m@example.com").get(f"{url}/")
        assert bad.status_code == 401 and "visible characters" in bad.text
    assert len(_history(console)) == 1


def test_scripts_use_bearer_tokens_and_the_json_api(console, capsys):
    tokens = console.folder / "tokens"
    assert cli.main(["token", "--identity", "ann@example.com", "--tokens-file", str(tokens)]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert oct(tokens.stat().st_mode & 0o777) == "0o600"
    assert secret not in tokens.read_text()
    model = console.store.model_id
    with console.serving(tokens_file=str(tokens)) as url:
        script = console.client(as_proxy=False, Authorization=f"Bearer {secret}")
        session = script.get(f"{url}/api/session").json()
        assert session["identity"] == "ann@example.com" and session["may_change"]
        listed = script.get(f"{url}/api/models").json()
        assert [m["model_id"] for m in listed["models"]] == [model]
        body = {"status": "pending_review", "note": "From CI.", "version": 1}
        unguarded = script.post(f"{url}/api/models/{model}/status", json=body)
        assert unguarded.status_code == 403 and "CSRF" in unguarded.json()["error"]
        made = script.post(
            f"{url}/api/models/{model}/status", json=body,
            headers={"X-CSRF-Token": session["csrf"]},
        )  # fmt: skip
        assert made.status_code == 200, made.text
        assert made.json()["status"] == "pending_review" and made.json()["by"] == "ann"
        checked = script.get(f"{url}/api/models/{model}/verify").json()
        assert checked["holds"] and checked["versions"][-1]["verified"]
        wrong = console.client(as_proxy=False, Authorization="Bearer nope").get(f"{url}/api/models")
        assert wrong.status_code == 401 and wrong.json() == {
            "error": "the bearer token is not one this console knows"
        }


def test_every_change_needs_a_fresh_token_of_the_same_person_from_the_console(console):
    model = console.store.model_id
    with console.serving() as url:
        ann, bob = console.client("ann@example.com"), console.client("bob@example.com")
        ann_form = form_values(ann.get(f"{url}/models/{model}").text)
        missing = ann.post(f"{url}/models/{model}/submit", data={"version": "1"})
        assert missing.status_code == 403 and "CSRF token" in missing.text
        stolen = bob.post(f"{url}/models/{model}/submit", data=ann_form)
        assert stolen.status_code == 403
        cross_site = ann.post(
            f"{url}/models/{model}/submit", data=ann_form,
            headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"},
        )  # fmt: skip
        assert cross_site.status_code == 403
        by_get = ann.get(f"{url}/models/{model}/submit")
        assert by_get.status_code == 405
        as_json = ann.post(f"{url}/models/{model}/submit", json=ann_form)
        assert as_json.status_code == 400 and "posted as a form" in as_json.text
        assert ann.post(f"{url}/models/{model}/submit", data=ann_form).status_code == 303
    assert len(_history(console)) == 2


def test_a_stale_page_and_a_race_are_conflicts_and_one_change_wins(console):
    model = console.store.model_id
    with console.serving() as url:
        ann = console.client("ann@example.com")
        assert _act(ann, url, model, "submit").status_code == 303
        reviewers = [console.client("bob@example.com"), console.client("carol@example.com")]
        forms = [form_values(r.get(f"{url}/models/{model}").text) for r in reviewers]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(
                    lambda pair: pair[0].post(f"{url}/models/{model}/approve", data=pair[1]),
                    zip(reviewers, forms, strict=True),
                )
            )
        assert sorted(a.status_code for a in answers) == [303, 409]
        loser = next(a for a in answers if a.status_code == 409)
        assert "no longer the newest" in loser.text or "changed meanwhile" in loser.text
        mine = form_values(ann.get(f"{url}/models/{model}").text)
        stale = ann.post(f"{url}/models/{model}/archive", data={**mine, "version": "2"})
        assert stale.status_code == 409 and "look at it again" in stale.text
    versions = _history(console)
    assert [v.status for v in versions] == ["draft", "pending_review", "approved"]
    assert _verify(console, "--require-approval")[0] == 0


def test_edits_from_a_form_or_a_file_are_checked_like_mct_card_edit(console):
    model = console.store.model_id
    with console.serving() as url:
        ann = console.client("ann@example.com")
        page = ann.get(f"{url}/models/{model}")
        values = form_values(page.text)
        upload = ann.post(
            f"{url}/models/{model}/edit",
            data={**values, "section": "file", "note": "From a file."},
            files={"content": ("content.yaml", b"limitations: [One.]\nrisk: {rating: medium}\n")},
        )
        assert upload.status_code == 303, upload.text
        values = form_values(ann.get(f"{url}/models/{model}").text)
        wrong = ann.post(
            f"{url}/models/{model}/edit",
            data={**values, "section": "file"},
            files={"content": ("content.yaml", b"limitation: [typo]\n")},
        )
        assert wrong.status_code == 400 and "unknown field 'limitation'" in html.unescape(
            wrong.text
        )
        bad_rating = ann.post(
            f"{url}/models/{model}/edit",
            data={**values, "section": "risk", "rating": "extreme", "explanation": ""},
        )
        assert bad_rating.status_code == 400 and "risk.rating" in bad_rating.text
        owners = ann.post(
            f"{url}/models/{model}/edit",
            data={**values, "section": "owners", "owners": "Risk team | risk@example.com\nAnn"},
        )
        assert owners.status_code == 303
    card = mct.load_card_version(console.store.target, model)
    assert [(o.name, o.contact) for o in card.model_details.owners] == [
        ("Risk team", "risk@example.com"),
        ("Ann", ""),
    ]
    assert card.considerations.limitations == ("One.",)
    assert card.considerations.risk.rating == "medium"


def test_diff_and_version_pages_show_what_changed(console):
    model = console.store.model_id
    with console.serving() as url:
        ann = console.client("ann@example.com")
        _act(ann, url, model, "edit", section="limitations", limitations="Only adults.",
             tradeoffs="Speed over recall.")  # fmt: skip
        diff = ann.get(f"{url}/models/{model}/diff?from=1&to=2")
        assert diff.status_code == 200
        assert "considerations.limitations" in diff.text and "Only adults." in diff.text
        version = ann.get(f"{url}/models/{model}/versions/1")
        assert version.status_code == 200 and "version 1 of 2" in version.text
        policy = version.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert ann.get(f"{url}/models/{model}/versions/9").status_code == 404
        assert ann.get(f"{url}/models/{model}/diff?from=1&to=1").status_code == 400
        assert ann.get(f"{url}/models/{model}/diff?from=x&to=1").status_code == 400


def test_bad_requests_get_one_line_and_no_traceback(console):
    with console.serving() as url:
        reader = console.client()
        for path, status, text in (
            ("/models/999999", 404, "the store has no model 999999"),
            ("/?sort=__class__", 400, "sort must be one of"),
            ("/?page=0", 400, "page must be a whole number from 1"),
            ("/nowhere", 404, "no such page"),
            ("/api/models?flag=bogus", 400, "flag must be one of"),
        ):
            answer = reader.get(url + path)
            assert answer.status_code == status and text in answer.text, path
            assert "Traceback" not in answer.text and 'File "' not in answer.text
        api = reader.get(f"{url}/api/models/999999")
        assert api.json() == {"error": "the store has no model 999999"}
        huge = reader.post(
            f"{url}/models/1/edit", content=b"x" * (3 * 1024 * 1024),
            headers={LOGIN_HEADER: "ann@example.com",
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert huge.status_code in (401, 413)


def test_a_policy_may_require_everyone_to_sign_in(console):
    strict = console.folder / "strict.yaml"
    with open(console.policy) as policy:
        strict.write_text(policy.read() + "require_login: true\n")
    with console.serving(policy=str(strict)) as url:
        assert console.client().get(f"{url}/").status_code == 401
        assert console.client("bob@example.com").get(f"{url}/").status_code == 200


def test_a_sqlite_store_that_goes_away_answers_503_and_comes_back(tmp_path):
    """(MariaDB killed and restarted under load: `test_console_faults.py`.)"""
    console = make_console(tmp_path)
    moved = console.store.path + ".away"
    with console.serving() as url:
        reader = console.client()
        assert reader.get(f"{url}/").status_code == 200
        os.replace(console.store.path, moved)
        try:
            gone = reader.get(f"{url}/")
            if gone.status_code == 200:  # inside the probe interval: the next probe sees it
                time.sleep(2.1)
                gone = reader.get(f"{url}/")
            assert gone.status_code == 503 and gone.headers["retry-after"] == "5"
            assert "The store is unavailable" in gone.text
        finally:
            os.replace(moved, console.store.path)
        time.sleep(2.1)
        assert reader.get(f"{url}/").status_code == 200


@pytest.mark.parametrize(
    "options, message",
    [
        ({"policy": None}, "the console needs a review policy"),
        ({"signing_key": "DAVE"}, "names no console with the key"),
        ({"trusted_proxies": []}, "--user-header needs --trusted-proxy"),
        ({"trusted_proxies": ["not-an-address"]}, "--trusted-proxy must be an IP address"),
        ({"user_header": "X Bad"}, "--user-header must be an HTTP header name"),
        ({"tokens_file": "BADTOKENS"}, "line 1: expected 'sha256:<64 hex digits> <login>'"),
    ],
)
def test_bad_console_options_are_one_line(console, monkeypatch, options, message):
    monkeypatch.delenv("MCT_REVIEW_POLICY", raising=False)
    bad_tokens = console.folder / "bad-tokens"
    bad_tokens.write_text("abc bob\n")
    options = {
        k: console.keys["dave"] if v == "DAVE" else str(bad_tokens) if v == "BADTOKENS" else v
        for k, v in options.items()
    }
    with pytest.raises(mct.ParameterError, match=re.escape(message)):
        console.app(**options)


@pytest.mark.slow  # real `mct-card` and `model_signing` processes
def test_mct_card_serve_starts_in_one_command_and_says_how_to_reach_it(tmp_path):
    import signal
    import socket

    import httpx

    console = make_console(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        os.path.join(os.path.dirname(sys.executable), "mct-card"), "serve",
        "--metadata", console.store.path, "--policy", console.policy,
        "--signing-key", console.keys["console"], "--port", str(port),
    ]  # fmt: skip
    bad = subprocess.run([*command[:-2], "--port", "70000"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "mct-card: error: --port must be from 1 to 65535, got 70000"
    )
    no_key = subprocess.run(
        [*command[:-4], "--signing-key", console.keys["ann"]], capture_output=True, text=True
    )
    assert no_key.returncode == 2 and len(no_key.stderr.strip().splitlines()) == 1
    assert "add it under `consoles`" in no_key.stderr
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        assert first.startswith(f"Review console for metadata.sqlite at http://127.0.0.1:{port}/")
        assert "(signing as key:" in first
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the console did not answer"
                time.sleep(0.2)
        assert answer.status_code == 200 and f"#{console.store.model_id}" in answer.text
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "Review console stopped" in out and "Traceback" not in err


def test_policy_identities_consoles_and_their_errors(tmp_path):
    from mct_component.governance import policy

    keys = tmp_path / "keys"
    keys.mkdir()
    from tests.keys import ec_key

    ec_key(keys, "console")
    ec_key(keys, "ann")
    good = tmp_path / "good.yaml"
    good.write_text(
        "approvers: [{name: bob, identity: bob@example.com}]\n"
        "signers: [{name: ann, public_key: keys/ann.pub.pem, identity: ann@example.com}]\n"
        "consoles: [{name: review-console, public_key: keys/console.pub.pem}]\n"
    )
    rules = policy.load(str(good))
    console_id = rules.consoles[0].identity
    ann_key = rules.signers[0].identity
    assert rules.approver(console_id, "p", "low", "bob@example.com").name == "bob"
    assert rules.approver("bob@example.com", "p", "low") is None  # a login is no signer
    assert rules.name_of(console_id, "ann@example.com") == "ann"
    assert rules.name_of(ann_key) == "ann" and rules.name_of(console_id) == "review-console"
    assert rules.vouches_for(console_id) and not rules.vouches_for("key:00")
    for text, message in (
        ("approvers: [{name: bob}]", "must give one of certificate_identity, identity, public_key"),
        ("approvers: [{name: b, identity: 7}]", "identity must be text"),
        ("approvers: [{name: b, identity: b}]\nconsoles: [{name: c, identity: x}]",
         "unknown field 'identity'"),
        ("approvers: [{name: b, identity: b}]\nrequire_login: maybe", "`require_login` must be"),
    ):  # fmt: skip
        bad = tmp_path / "bad.yaml"
        bad.write_text(text + "\n")
        with pytest.raises(mct.ParameterError, match=re.escape(message)):
            policy.load(str(bad))


def test_tokens_and_csrf_tokens_are_bound_to_their_login():
    from mct_component.serve.csrf import CsrfTokens

    token, line = identity.new_token("ann@example.com")
    digest = line.split()[0].removeprefix("sha256:")
    assert identity.token_digest(token) == digest and len(token) >= 40
    tokens = CsrfTokens(b"k" * 32, lifetime=60)
    issued = tokens.issue("ann", now=1000)
    assert tokens.valid(issued, "ann", now=1030)
    assert not tokens.valid(issued, "bob", now=1030)
    assert not tokens.valid(issued, "ann", now=1061)
    assert not tokens.valid(issued.replace(".", ".x"), "ann", now=1030)
    assert not CsrfTokens(b"j" * 32).valid(issued, "ann", now=1030)


def test_hostile_store_and_content_strings_stay_text_on_every_page(tmp_path):
    """The hostile-string payloads of `test_hostile.py`, in the store (pipeline, run,
    model name, note) and in a card's content, then every page the console serves."""
    import itertools

    from tests.test_hostile import PAYLOADS, Attributes

    console = make_console(tmp_path)
    store, model = console.store, console.store.model_id
    payloads = itertools.cycle(PAYLOADS)
    content = {
        "model_details": {"overview": next(payloads), "owners": [{"name": next(payloads)}]},
        "limitations": [next(payloads) for _ in range(3)],
        "ethical_considerations": [{"name": next(payloads), "mitigation": next(payloads)}],
        "risk": {"rating": "high", "explanation": next(payloads)},
        "custom_details": {next(payloads): next(payloads)},
    }
    mct.edit_card(store.target, model, content, by="ann", note=PAYLOADS[0] + PAYLOADS[3])
    model_uri = os.path.join(store.root, "Trainer", "model", "1")
    for table, value in (("Context", PAYLOADS[1]), ("Artifact", PAYLOADS[6])):
        column = "name" if table == "Context" else "uri"
        store.sql(f"UPDATE {table} SET {column} = ? WHERE id = 1", value)
    store.sql("UPDATE ArtifactProperty SET string_value = ? WHERE name = 'model_name'", PAYLOADS[2])
    hostile_login = "<script>alert(1)</script>@example.com"
    with console.serving() as url:
        reader = console.client(hostile_login)
        pages = {
            path: reader.get(url + path)
            for path in (
                "/", f"/models/{model}", f"/models/{model}/versions/1",
                f"/models/{model}/versions/2", f"/models/{model}/diff?from=1&to=2",
                f"/?q={PAYLOADS[0]}", f"/api/models/{model}",
            )
        }  # fmt: skip
    for path, answer in pages.items():
        # The model's URI is hostile too, so its cards are outside its pipeline root.
        withheld = "/versions/" in path or "/diff" in path
        assert answer.status_code == (404 if withheld else 200), (path, answer.text[:300])
        if withheld:
            assert "outside the model&#39;s pipeline root" in answer.text
        assert "\u202e" not in answer.text, path
        if path.startswith("/api/"):
            assert answer.headers["content-type"] == "application/json"
            continue
        found = Attributes.of(answer.text)
        assert found.tags.isdisjoint({"script", "iframe", "object", "embed", "img"}), path
        assert not found.event_handlers, path
        assert not [u for u in found.urls if "javascript:" in u.lower()], path
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.com" in pages["/"].text
    store.sql("UPDATE Artifact SET uri = ? WHERE id = 1", model_uri)
    with console.serving() as url:
        reader = console.client(hostile_login)
        for path in (f"/models/{model}/versions/2", f"/models/{model}/diff?from=1&to=2"):
            answer = reader.get(url + path)
            assert answer.status_code == 200 and PAYLOADS[0] not in answer.text, path
            found = Attributes.of(answer.text)
            assert found.tags.isdisjoint({"script", "iframe", "object", "embed", "img"}), path
            assert not found.event_handlers and "\u202e" not in answer.text, path


@pytest.mark.slow  # real `mct-card` and `model_signing` processes
def test_the_readme_starts_the_console_in_one_command(console):
    """The README's console block as written: the key and policy lines in a shell, then
    its `mct-card serve` line for this store's kind (SQLite, or MySQL on the tests'
    MariaDB) with the store, a free port and 127.0.0.1 put in."""
    import pathlib
    import signal
    import socket

    import httpx

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Review console", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    lines = block.splitlines()
    serve = [line for line in lines if line.startswith("mct-card serve")]
    setup = "\n".join(line for line in lines if not line.startswith("mct-card serve"))
    workdir = console.folder / "readme"
    workdir.mkdir()
    subprocess.run(["bash", "-euo", "pipefail", "-c", setup], cwd=workdir, check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    mysql = console.store.config is not None
    (command,) = [line for line in serve if ("--connection-config" in line) == mysql]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = command.replace("build/demo/metadata.sqlite", console.store.path)
    command = command.replace("mysql.pbtxt", console.store.path)
    command = command.replace("--host 0.0.0.0", "--host 127.0.0.1")
    command = re.sub(r" --port \d+", "", command) + f" --port {port}"
    environment = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"], cwd=workdir, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "the console did not answer"
                time.sleep(0.2)
        assert answer.status_code == 200 and f"#{console.store.model_id}" in answer.text
        assert "Not signed in: read-only" in answer.text  # the proxy is not 127.0.0.1
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


def test_a_change_made_elsewhere_shows_up_within_seconds(console):
    store = console.store
    with console.serving() as url:
        reader = console.client()
        assert "draft v1" in reader.get(f"{url}/").text
        elsewhere = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "mct-card"),
             *store.cli("status", "--set", "pending_review", "--by", "ann")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert elsewhere.returncode == 0, elsewhere.stderr
        deadline = time.monotonic() + 10
        while "pending_review v2" not in (page := reader.get(f"{url}/").text):
            assert time.monotonic() < deadline, "the console never saw the new version"
            time.sleep(0.5)
        assert "History altered" in page  # an unsigned change under require_signatures


# Found by a hostile probe of the console: each test shows a defect it found.


def test_no_action_on_a_card_the_console_would_not_show(console):
    """A store pointing a card outside the model's pipeline root: the page withholds it,
    and so must every action (nothing read, written or signed there)."""
    store, model = console.store, console.store.model_id
    outside = console.folder / "outside" / "card"
    outside.parent.mkdir()
    import shutil

    shutil.copytree(store.card_uri, outside)
    (card_id,) = [v.artifact_id for v in _history(console)]
    store.sql("UPDATE Artifact SET uri = ? WHERE id = ?", str(outside), card_id)
    with console.serving() as url:
        ann = console.client("ann@example.com")
        page = ann.get(f"{url}/models/{model}")
        assert "cannot be shown" in page.text and 'action="/models/' not in page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is None
        session = ann.get(f"{url}/api/session").json()
        refused = ann.post(
            f"{url}/models/{model}/submit", data={"csrf": session["csrf"], "version": "1"}
        )
        assert refused.status_code == 409 and "outside the model" in html.unescape(refused.text)
    assert len(_history(console)) == 1
    assert sorted(os.listdir(outside.parent)) == ["card"]


def test_bytes_changed_in_place_are_never_approved(console):
    """model_card.json rewritten with the same size and time after it was submitted:
    the approval is refused, naming the version, and nothing is recorded."""
    model = console.store.model_id
    with console.serving() as url:
        ann, bob = console.client("ann@example.com"), console.client("bob@example.com")
        assert _act(ann, url, model, "submit").status_code == 303
        submitted = _history(console)[-1]
        path = os.path.join(submitted.uri, "model_card.json")
        before = os.stat(path)
        with open(path, "rb") as f:
            original = f.read()
        tampered = original.replace(b"Only three islands.", b"Only three isles!!.")
        assert len(tampered) == len(original) and tampered != original
        with open(path, "wb") as f:
            f.write(tampered)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        page = bob.get(f"{url}/models/{model}")
        assert "history altered" in page.text and "Nobody may act on this card here" in page.text
        session = bob.get(f"{url}/api/session").json()
        refused = bob.post(
            f"{url}/models/{model}/approve", data={"csrf": session["csrf"], "version": "2"}
        )
        assert refused.status_code == 409, refused.text
        assert "version 2: model_card.json changed since it was recorded" in refused.text
    assert [v.status for v in _history(console)] == ["draft", "pending_review"]


def test_a_fifo_in_a_card_folder_blocks_nothing(console, tmp_path):
    """A card's model_card.json replaced by a named pipe: the change is refused at once
    and the console's other changes go on."""
    other = make_console(tmp_path / "other")
    model = console.store.model_id
    path = os.path.join(console.store.card_uri, "model_card.json")
    os.remove(path)
    os.mkfifo(path)
    with console.serving() as url:
        ann = console.client("ann@example.com")
        session = ann.get(f"{url}/api/session").json()
        started = time.monotonic()
        refused = ann.post(
            f"{url}/models/{model}/submit", data={"csrf": session["csrf"], "version": "1"}
        )
        assert refused.status_code == 409 and time.monotonic() - started < 5
        assert "not a regular file" in refused.text
    with other.serving() as url:
        assert _act(other.client("ann@example.com"), url, model, "submit").status_code == 303


def test_explanation_metadata_is_never_copied_through_a_link(console):
    """A link in a card folder pointing at a secret: the console refuses to act on the
    folder, and the CLI's change refuses to carry the link's target into a new version."""
    store, model = console.store, console.store.model_id
    secret = console.folder / "secret.txt"
    secret.write_text("the database password")
    os.symlink(secret, os.path.join(store.card_uri, "explanation_metadata.json"))
    with console.serving() as url:
        ann = console.client("ann@example.com")
        session = ann.get(f"{url}/api/session").json()
        refused = ann.post(
            f"{url}/models/{model}/submit", data={"csrf": session["csrf"], "version": "1"}
        )
        assert refused.status_code == 409 and "symbolic link" in refused.text
    cli_change = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "mct-card"),
         *store.cli("status", "--set", "pending_review", "--by", "ann")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert cli_change.returncode == 2 and "is a symbolic link" in cli_change.stderr
    assert len(_history(console)) == 1
    parent = pathlib.Path(store.card_uri).parent
    assert not any(
        b"the database password" in path.read_bytes()
        for path in parent.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


def test_the_proxy_login_header_must_be_one_and_wins_over_authorization(console):
    with console.serving() as url:
        twice = console.client().get(
            f"{url}/api/session",
            headers=[(LOGIN_HEADER, "eve@example.com"), (LOGIN_HEADER, "bob@example.com")],
        )
        assert twice.status_code == 401 and "more than once" in twice.json()["error"]
        basic = console.client("bob@example.com", Authorization="Basic Ym9iOng=")
        assert basic.get(f"{url}/api/session").json()["identity"] == "bob@example.com"
        id_token = console.client("bob@example.com", Authorization="Bearer eyJ.id.token")
        assert id_token.get(f"{url}/api/session").json()["identity"] == "bob@example.com"
        shouting = console.client("BOB@Example.com").get(f"{url}/api/session").json()
        assert shouting["name"] == "bob"
        accented = console.client().get(
            f"{url}/api/session", headers=[(LOGIN_HEADER.encode(), "josé@example.com".encode())]
        )
        assert accented.json()["identity"] == "josé@example.com"
        direct_basic = console.client(as_proxy=False, Authorization="Basic Ym9iOng=")
        assert direct_basic.get(f"{url}/api/session").json()["identity"] is None


def test_a_post_through_a_proxy_that_rewrites_host_is_accepted(console):
    model = console.store.model_id
    with console.serving() as url:
        ann = console.client("ann@example.com")
        values = form_values(ann.get(f"{url}/models/{model}").text)
        public = {"Origin": "https://console.example.com", "Sec-Fetch-Site": "same-origin",
                  "X-Forwarded-Host": "console.example.com"}  # fmt: skip
        answer = ann.post(f"{url}/models/{model}/submit", data=values, headers=public)
        assert answer.status_code == 303, answer.text
        forged = console.client("ann@example.com", as_proxy=False)
        values = form_values(ann.get(f"{url}/models/{model}").text)
        cross = forged.post(
            f"{url}/models/{model}/submit", data=values,
            headers={"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"},
        )  # fmt: skip
        assert cross.status_code in (401, 403)


def test_health_answers_without_a_login_and_odd_numbers_are_400_not_500(console):
    strict = console.folder / "strict.yaml"
    with open(console.policy) as policy:
        strict.write_text(policy.read() + "require_login: true\n")
    huge = "9" * 5000
    with console.serving(policy=str(strict)) as url:
        assert console.client().get(f"{url}/healthz").status_code == 200
        bob = console.client("bob@example.com")
        for path in (
            "/?page=%C2%B2", "/api/models?per_page=%C2%B2", "/models/1?did=approve&v=%C2%B2",
            "/models/1/diff?from=%C2%B2&to=1", f"/models/1/diff?from={huge}&to=1",
            f"/models/{huge}", f"/api/models/{huge}", f"/models/1/versions/{huge}",
            f"/models/{2**63}",
        ):  # fmt: skip
            answer = bob.get(url + path)
            assert answer.status_code in (200, 400, 404), (path, answer.status_code)
        session = bob.get(f"{url}/api/session").json()
        for fields in ({"csrf": "².x", "version": "1"}, {"csrf": session["csrf"], "version": "²"},
                       {"csrf": f"{huge}.x", "version": "1"}):  # fmt: skip
            answer = bob.post(f"{url}/models/1/submit", data=fields)
            assert answer.status_code in (400, 403), (fields, answer.status_code)
        posted = bob.post(
            f"{url}/models/{2**64}/submit", data={"csrf": session["csrf"], "version": "1"}
        )
        assert posted.status_code in (400, 404)
        deep = "[" * 5000 + "]" * 5000
        nested = bob.post(
            f"{url}/api/models/1/content",
            content=deep.encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": session["csrf"]},
        )
        assert nested.status_code == 400


def test_every_error_is_ours_with_its_headers(console):
    with console.serving() as url:
        ann = console.client("ann@example.com")
        big = ann.post(
            f"{url}/models/1/edit", content=b"x" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert big.status_code == 413 and "the request is larger than" in big.text
        assert "default-src 'none'" in big.headers["content-security-policy"]
        assert big.headers["x-frame-options"] == "DENY"
        wrong = ann.delete(f"{url}/models/1/submit")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
