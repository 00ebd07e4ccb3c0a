"""Hostile stores, arguments and terminals against `mct-card` (issue 16, second round).

Every test runs on a real MLMD SQLite store (`tests/card_store.py`), most through the
CLI's `main` and some in real processes (a closed pipe, SIGKILL); none imports
TensorFlow.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import mct_component as mct
from mct_component import cli, files, terminal
from mct_component.governance import registry
from mct_component.mlmd import store as stores
from tests.card_store import write_card_store

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a hostile `--by`/`--note` or store value holds: a window title, clear screen,
# BEL, CR, a C1 CSI, bidi overrides, a newline that starts a fake row, a tag character.
ESCAPES = (
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\x07",
    "\r",
    "\x9b31m",
    "\u202e",
    "\u2066",
    "\n      9  approved        status_changed  ceo",
    "\U000e0041",
    "\u200b",
    "\x0b",
)


@pytest.fixture
def card_store(tmp_path):
    return write_card_store(tmp_path)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _raw_controls(text: str) -> list[str]:
    """The characters a terminal would act on or hide, but the line feeds between rows."""
    return [
        c
        for c in text
        if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or terminal.visible(c) != c)
    ]


# --- 3: terminal injection -------------------------------------------------------------


def test_history_prints_hostile_names_and_notes_escaped_one_row_per_version(
    card_store, capsys, tmp_path
):
    with sqlite3.connect(card_store.path) as db:  # the store itself holds the escapes
        db.execute("UPDATE ArtifactProperty SET string_value = ? WHERE name = 'status'", ("x",))
    hostile = "".join(ESCAPES)
    code, _, err = run_cli(
        capsys, *card_store.cli("status", "--set", "pending_review", "--note", hostile)
    )
    assert code == 2 and "cannot become" in err  # the forged status "x" is not a lifecycle one
    with sqlite3.connect(card_store.path) as db:
        db.execute("UPDATE ArtifactProperty SET string_value = 'draft' WHERE name = 'status'")
    code, _, err = run_cli(capsys, *card_store.cli("edit", "--card-content", _content(tmp_path)))
    assert code == 0, err
    with sqlite3.connect(card_store.path) as db:
        db.execute("UPDATE ExecutionProperty SET string_value = ? WHERE name = 'by'", (hostile,))
        db.execute("UPDATE ExecutionProperty SET string_value = ? WHERE name = 'note'", (hostile,))
    code, out, _ = run_cli(capsys, *card_store.cli("history"))
    assert code == 0
    rows = out.rstrip("\n").split("\n")
    # The header, two versions (the forged one shown altered) and the alteration's line:
    # no forged row.
    assert len(rows) == 4 and rows[3].startswith("history altered")
    assert " altered " in rows[2]
    assert not _raw_controls(out)
    assert "\\u001b]0;pwned\\u0007" in rows[2] and "\\u202e" in rows[2]
    code, out, _ = run_cli(capsys, *card_store.cli("history", "--json"))
    assert json.loads(out)[1]["by"] == hostile  # JSON keeps the value, escaped
    assert not _raw_controls(out)


def test_show_and_diff_print_content_characters_escaped(card_store, capsys, tmp_path):
    hostile = "Only three islands" + "".join(c for c in ESCAPES if "\n" not in c)
    content = tmp_path / "hostile.json"
    content.write_text(json.dumps({"limitations": [hostile], "tradeoffs": ["\u202etxt.exe"]}))
    assert cli.main(card_store.cli("edit", "--card-content", str(content))) == 0
    for command in (("show",), ("show", "--json"), ("diff", "--from", "1", "--to", "2")):
        code, out, err = run_cli(capsys, *card_store.cli(*command))
        assert code == 0, err
        assert "Only three islands" in out
        assert not _raw_controls(out), command
    code, out, _ = run_cli(capsys, *card_store.cli("diff", "--from", "1", "--to", "2", "--json"))
    assert not _raw_controls(out)


def test_error_messages_quote_store_text_escaped(card_store, capsys):
    with sqlite3.connect(card_store.path) as db:
        db.execute(
            "UPDATE ArtifactProperty SET string_value = ? WHERE name = 'status'",
            ("draft\x1b[2J\nmct-card: ok",),
        )
    code, _, err = run_cli(capsys, *card_store.cli("status", "--set", "approved"))
    assert code == 2
    assert err.count("\n") == 1 and not _raw_controls(err)


# --- 7, 12: bounded, textual --by and --note ---------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--note", "n" * (registry.MAX_NOTE_CHARACTERS + 1), "at most 10,000 are allowed"),
        ("--by", "b" * (registry.MAX_BY_CHARACTERS + 1), "at most 200 are allowed"),
        ("--by", "ann\nbob", "without control or invisible characters"),
        ("--by", "\u202eann", "without control or invisible characters"),
        ("--note", "bad \udcff byte", r"--note must be UTF-8 text, got the byte 0xff"),
    ],
)
def test_a_bad_by_or_note_is_one_line_and_writes_nothing(
    card_store, capsys, option, value, message
):
    before = sorted(os.listdir(os.path.dirname(card_store.card_uri)))
    code, _, err = run_cli(
        capsys, *card_store.cli("status", "--set", "pending_review", option, value)
    )
    assert code == 2 and message in err and err.count("\n") == 1
    assert sorted(os.listdir(os.path.dirname(card_store.card_uri))) == before


def test_a_non_utf8_note_from_a_real_process_is_refused(card_store):
    """The probe: bytes the locale cannot decode reach `sys.argv` as surrogates."""
    arguments = [os.fsencode(a) for a in card_store.cli("status", "--set", "pending_review")]
    result = subprocess.run(
        [sys.executable, "-m", "mct_component.cli", *arguments, b"--note", b"caf\xe9"],
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().strip().startswith("mct-card: error: --note must be UTF-8")


def test_long_notes_do_not_grow_each_version_with_every_earlier_note(card_store, tmp_path):
    note = "x" * registry.MAX_NOTE_CHARACTERS
    content = _content(tmp_path)
    for _ in range(6):
        mct.edit_card(card_store.path, card_store.model_id, content, by="ann", note=note)
    versions = mct.card_history(card_store.path, card_store.model_id)
    sizes = [os.path.getsize(os.path.join(v.uri, "model_card.json")) for v in versions[1:]]
    # Each version holds its own note whole and earlier ones as excerpts.
    assert max(b - a for a, b in itertools.pairwise(sizes)) < 2_000
    newest = mct.load_card_version(card_store.path, card_store.model_id)
    assert newest.governance.history[-1].note == note
    assert len(newest.governance.history[-2].note) == registry.HISTORY_NOTE_CHARACTERS
    assert versions[-2].note == note  # the record keeps every note whole


# --- 2: purge removes only our own folders -------------------------------------------------


def _forge_card(card_store, uri: str) -> None:
    """A ModelCard artifact naming the model, written with the MLMD API, pointing at `uri`."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    connection = stores.connect(card_store.path, read_only=False)
    card_type = connection.get_artifact_type(registry.CARD_TYPE)
    artifact = pb.Artifact(type_id=card_type.id, uri=uri, state=pb.Artifact.LIVE)
    artifact.custom_properties["model_id"].int_value = card_store.model_id
    connection.put_artifacts([artifact])


def test_purge_deletes_no_folder_the_store_points_to_outside_our_own(card_store, capsys, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    _forge_card(card_store, str(precious))
    # A folder that looks like a card (the marker too) but lies outside every root.
    lookalike = tmp_path / "elsewhere" / "card"
    mct.write_card(mct.Card.load(card_store.card_uri), str(lookalike))
    _forge_card(card_store, str(lookalike))
    # A symbolic link inside the generator's folder, to a real card folder outside it.
    link = os.path.join(os.path.dirname(card_store.card_uri), "link")
    os.symlink(lookalike, link)
    _forge_card(card_store, link)

    code, out, err = run_cli(capsys, *card_store.cli("delete", "--note", "gone", "--purge"))
    assert code == 0, err
    assert (precious / "thesis.tex").read_text() == "years of work"
    assert os.path.isfile(lookalike / "model_card.json") and os.path.islink(link)
    assert not os.path.exists(card_store.card_uri)  # the generator's own card is purged
    assert "1 folders purged" in out and out.count("kept ") == 3
    assert "outside the generator's card folder" in out


def test_purge_keeps_a_card_folder_without_our_marker_or_with_other_files(card_store, capsys):
    extra = os.path.join(card_store.card_uri, "notes.txt")
    with open(extra, "w") as f:
        f.write("mine")
    code, out, _ = run_cli(capsys, *card_store.cli("delete", "--note", "gone", "--purge"))
    assert code == 0 and os.path.isfile(extra)
    assert "'notes.txt', which is not a card file" in out
    os.remove(extra)
    os.remove(os.path.join(card_store.card_uri, ".mct-card"))
    code, out, _ = run_cli(capsys, *card_store.cli("delete", "--note", "gone", "--purge"))
    assert code == 0 and os.path.isdir(card_store.card_uri)
    assert "no .mct-card marker" in out


def test_purge_reaches_versions_under_an_output_root_only_when_named(card_store, capsys, tmp_path):
    elsewhere = tmp_path / "reviewed"
    mct.edit_card(
        card_store.path,
        card_store.model_id,
        _content(tmp_path),
        by="ann",
        output_root=str(elsewhere),
    )
    versions = mct.card_history(card_store.path, card_store.model_id)
    code, out, _ = run_cli(capsys, *card_store.cli("delete", "--note", "gone", "--purge"))
    assert code == 0 and os.path.isdir(versions[1].uri) and "kept" in out
    code, out, _ = run_cli(
        capsys,
        *card_store.cli("delete", "--note", "gone", "--purge", "--output-root", str(elsewhere)),
    )
    assert code == 0 and not os.path.exists(versions[1].uri)


# --- 14, 20, 23: refusals ----------------------------------------------------------------


def test_a_change_on_a_store_that_refuses_writes_is_one_error_and_leaves_no_folder(card_store):
    """A store opened read-only refuses the write as one in a read-only folder does."""
    card_folder = os.path.dirname(card_store.card_uri)
    before = sorted(os.listdir(card_folder))
    read_only = stores.connect(card_store.path, read_only=True)
    with pytest.raises(mct.OutputError, match="the MLMD store cannot record the change"):
        mct.set_card_status(read_only, card_store.model_id, "pending_review", by="ann")
    assert sorted(os.listdir(card_folder)) == before
    assert len(mct.card_history(card_store.path, card_store.model_id)) == 1


def test_a_relative_output_root_is_recorded_as_an_absolute_uri(card_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        cli.main(
            card_store.cli("edit", "--card-content", _content(tmp_path), "--output-root", "rel")
        )
        == 0
    )
    newest = mct.card_history(card_store.path, card_store.model_id)[-1]
    assert os.path.isabs(newest.uri) and newest.uri.startswith(str(tmp_path / "rel"))


def test_clone_onto_itself_and_a_reversed_diff_are_refused(card_store, capsys):
    model = str(card_store.model_id)
    code, _, err = run_cli(capsys, *card_store.cli("clone", "--to-model", model))
    assert code == 2 and "onto itself" in err
    assert len(mct.card_history(card_store.path, card_store.model_id)) == 1
    mct.set_card_status(card_store.path, card_store.model_id, "pending_review", by="ann")
    code, _, err = run_cli(capsys, *card_store.cli("diff", "--from", "2", "--to", "1"))
    assert code == 2 and "--from 2 is newer than --to 1" in err


# --- 15: a closed pipe ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [("history",), ("show",)])
def test_a_closed_pipe_ends_the_command_quietly(card_store, command):
    for _ in range(3):
        mct.edit_card(card_store.path, card_store.model_id, {"tradeoffs": ["t"]}, by="ann")
    cli_command = " ".join([sys.executable, "-m", "mct_component.cli", *card_store.cli(*command)])
    shell = f"{cli_command} | true"  # the reader is gone before the first line is written
    result = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.stderr == ""


# --- 17: SIGKILL at any point leaves nothing behind that the next change does not remove ---

_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from unittest import mock
    from mct_component import cli, files

    where = sys.argv[1]
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    if where == "staging":
        original = files._switch
        target = "mct_component.files._switch"
    else:
        target = "ml_metadata.metadata_store.metadata_store.MetadataStore.put_execution"
    with mock.patch(target, die):
        cli.main(sys.argv[2:])
    """
)


def _leftovers(root: str, recorded: set[str]) -> list[str]:
    return sorted(
        entry
        for entry in os.listdir(root)
        if os.path.join(root, entry) not in recorded and not entry.isdigit()
    )


@pytest.mark.parametrize("where", ["staging", "before-commit"])
def test_a_change_killed_before_its_commit_is_cleaned_by_the_next(card_store, tmp_path, where):
    arguments = card_store.cli("edit", "--card-content", _content(tmp_path), "--by", "ann")
    result = subprocess.run(
        [sys.executable, "-c", _KILLER, where, *arguments], cwd=REPO, timeout=60
    )
    assert result.returncode == -signal.SIGKILL
    root = os.path.dirname(card_store.card_uri)
    assert _leftovers(root, set())  # something was left behind
    mct.edit_card(card_store.path, card_store.model_id, _content(tmp_path), by="bob")
    recorded = {v.uri for v in mct.card_history(card_store.path, card_store.model_id)}
    assert _leftovers(root, recorded) == []


@pytest.mark.slow  # many real processes killed
def test_changes_killed_at_random_points_leave_only_recorded_versions(card_store, tmp_path):
    rng = random.Random(16)
    arguments = card_store.cli("edit", "--card-content", _content(tmp_path), "--by", "ann")
    command = [sys.executable, "-m", "mct_component.cli", *arguments]
    started = time.monotonic()
    finished = subprocess.run(command, cwd=REPO, capture_output=True, timeout=60)
    assert finished.returncode == 0
    whole = time.monotonic() - started
    for _ in range(8):
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 1.0) * whole)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    mct.edit_card(card_store.path, card_store.model_id, _content(tmp_path), by="bob")
    root = os.path.dirname(card_store.card_uri)
    recorded = {v.uri for v in mct.card_history(card_store.path, card_store.model_id)}
    assert _leftovers(root, recorded) == []
    for uri in recorded:
        mct.Card.load(uri)  # every recorded version is whole


# --- 18: two writers of one folder ----------------------------------------------------------


def test_two_writers_of_one_card_folder_both_finish_and_one_card_stays(tmp_path):
    """Each writer's staging folder is locked, so the other's clean-up leaves it alone."""
    script = textwrap.dedent(
        """
        import sys, time
        from unittest import mock
        import mct_component as mct
        from mct_component import files
        from tests.factories import make_card

        original = files._switch
        def slow_switch(new, target):
            time.sleep(float(sys.argv[3]))
            original(new, target)
        card = make_card(status=sys.argv[2])
        with mock.patch("mct_component.files._switch", slow_switch):
            mct.write_card(card, sys.argv[1], overwrite=True)
        print("written")
        """
    )
    folder = str(tmp_path / "card")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, folder, status, delay],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for status, delay in (("draft", "2.0"), ("approved", "0.2"))
    ]
    results = [w.communicate(timeout=90) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], results
    assert mct.Card.load(folder).status == "draft"  # the last switch wins, whole
    assert sorted(os.listdir(tmp_path)) == ["card"]


def test_a_writer_lock_is_free_once_its_process_is_killed(tmp_path):
    target = str(tmp_path / "version")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from mct_component import files\n"
            "with files.WriterLock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
            target,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    lock = files.lock_path(str(tmp_path), "version")
    assert not files.remove_abandoned(lock) and os.path.exists(lock)
    holder.kill()
    holder.wait(timeout=30)
    assert files.remove_abandoned(lock) and not os.path.exists(lock)


def _content(folder) -> str:
    path = os.path.join(folder, "content.yaml")
    with open(path, "w") as f:
        f.write("tradeoffs: [Edited.]\n")
    return path


# --- 9, 10, 11, 19, 21: content and pipeline files ---------------------------------------


def test_a_yaml_date_in_content_is_kept_as_the_text_written(card_store, capsys, tmp_path):
    content = tmp_path / "dated.yaml"
    content.write_text("limitations: [2024-01-01]\nmodel_details:\n  overview: 2024-01-01 12:00\n")
    code, _, err = run_cli(capsys, *card_store.cli("edit", "--card-content", str(content)))
    assert code == 0, err
    card = mct.load_card_version(card_store.path, card_store.model_id)
    assert card.considerations.limitations == ("2024-01-01",)
    assert card.model_details.overview == "2024-01-01 12:00"


def test_a_schema_file_of_random_bytes_is_one_source_error(tmp_path):
    from mct_component.readers import statistics
    from mct_component.readers.refs import ArtifactRef

    path = tmp_path / "schema.pbtxt"
    path.write_bytes(bytes([0xFF, 0xFE, 0x00, 0x9C]) + random.Random(10).randbytes(2000))
    with pytest.raises(mct.SourceError, match="is not a text-format Schema: byte 0xff"):
        statistics.schema_summary(ArtifactRef("Schema", str(path), 4))


def test_garbage_statistics_are_one_error_without_protobufs_warning(tmp_path):
    """protobuf accepts these bytes with a RuntimeWarning; the reader says what they are."""
    script = textwrap.dedent(
        """
        import sys
        from mct_component.readers import statistics
        try:
            statistics._parse_statistics(sys.argv[1])
        except Exception as e:
            print(type(e).__name__, e)
        """
    )
    path = tmp_path / "FeatureStats.pb"
    path.write_bytes(bytes(range(256)) * 10)
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert (
        result.stdout.startswith("SourceError ") and "not a TFDV statistics file" in result.stdout
    )
    assert "RuntimeWarning" not in result.stderr and "ParseFromString" not in result.stderr


def test_a_sagemaker_import_refuses_keys_that_collide_once_cleaned(tmp_path):
    document = {
        "model_overview": {"model_description": "A model."},
        "additional_information": {
            "custom_details": {"team": "a", "te\u200eam": "b", "\u202eteam": "c"}
        },
    }
    path = tmp_path / "sagemaker.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        mct.CardContentError, match=r"the keys 'team' and 'te\\u200eam' are the same"
    ):
        mct.import_card_content("sagemaker", str(path))


def test_hiding_characters_reach_neither_the_page_nor_the_markdown(card_store, capsys, tmp_path):
    text = "Only\x0bthree\x0cislands\u200b\U000e0041\U000e007f\ufeff\u2060."
    content = tmp_path / "hidden.json"
    content.write_text(json.dumps({"limitations": [text]}))
    assert cli.main(card_store.cli("edit", "--card-content", str(content))) == 0
    newest = mct.card_history(card_store.path, card_store.model_id)[-1]
    for name in ("model_card.html", "model_card.md"):
        with open(os.path.join(newest.uri, name), encoding="utf-8") as f:
            page = f.read()
        assert "Only three islands." in page, name
        for hidden in "\x0b\x0c\u200b\U000e0041\U000e007f\ufeff\u2060":
            assert hidden not in page, (name, hidden)
    code, out, _ = run_cli(capsys, *card_store.cli("show"))
    assert code == 0 and "Only three islands." in out and not _raw_controls(out)


# --- 16: only our own lines on stderr ---------------------------------------------------


@pytest.mark.tf
def test_a_command_that_loads_tensorflow_prints_only_its_own_lines(card_store):
    # A URI with a scheme is written through TFX's fileio, which imports TensorFlow.
    command = [sys.executable, "-m", "mct_component.cli"]
    command += card_store.cli("generate", "--output-dir", "ram://cards/card")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, timeout=300, env=environment
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Model card written to ram://cards/card"
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("mct-card: warning: ") for line in lines), lines


def test_a_mysql_store_whose_server_is_down_is_one_line(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "down.pbtxt"
    config.write_text(f'mysql {{ host: "127.0.0.1" port: {port} database: "m" user: "root" }}\n')
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "mct-card"), "history",
         "--connection-config", str(config), "--model-id", "1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    err = done.stderr.strip()  # MLMD's own C++ log lines included
    assert done.returncode == 2 and err.startswith("mct-card: error: cannot open the MLMD store")
    assert len(err.splitlines()) == 1, err
