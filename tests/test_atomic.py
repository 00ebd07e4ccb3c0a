"""A card directory holds exactly one complete card, whatever happens to the writer.

Writers are killed with SIGKILL at random moments, and made to fail for real: a file
size limit (as a full disk fails a write), a path under a file, a filesystem that
refuses new entries. No mocks: the package's own writer in a forked process.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import signal
import time

import pytest

import mct_component as mct
from mct_component import files
from tests.factories import make_card

KILLS = 60


def manifest(folder) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) and a hash of its content."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return found


@pytest.fixture(scope="module")
def two_cards(tmp_path_factory):
    """Card A (every format) and card B (HTML only, another status), and their files."""
    a = make_card()
    b = make_card().replace(status="approved")
    expected = {}
    for name, card, formats in (("a", a, mct.DEFAULT_FORMATS), ("b", b, ["html"])):
        folder = tmp_path_factory.mktemp(name)
        mct.write_card(card, str(folder), formats)
        expected[name] = manifest(folder)
    assert expected["a"] != expected["b"] and len(expected["a"]) > 3
    return (a, b), expected


def in_child(work) -> int:
    """Runs `work()` in a forked child; returns its pid (the child exits 0 when done)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            work()
            os._exit(0)
        except BaseException:
            os._exit(3)
    return pid


@pytest.mark.slow  # many real processes killed
def test_killed_writers_leave_the_previous_card_or_the_new_one(two_cards, tmp_path):
    (a, b), expected = two_cards
    out = str(tmp_path / "card")
    mct.write_card(a, out)
    seen = set()
    randomness = random.Random(20261201)
    started = time.perf_counter()
    mct.write_card(b, out, ["html"])
    mct.write_card(a, out)
    cycle = time.perf_counter() - started  # one write of each

    def write_forever():
        while True:
            mct.write_card(b, out, ["html"])
            mct.write_card(a, out)

    for _ in range(KILLS):
        pid = in_child(write_forever)
        time.sleep(randomness.uniform(0.0, 2 * cycle))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        now = manifest(out)
        assert now in (expected["a"], expected["b"]), sorted(now)
        seen.add("a" if now == expected["a"] else "b")
    assert seen == {"a", "b"}  # the kills fell on both sides of the switch
    # What killed writers left beside the card goes with the next write.
    mct.write_card(a, out)
    assert sorted(os.listdir(tmp_path)) == ["card"]
    assert manifest(out) == expected["a"]


def test_a_smaller_card_leaves_no_stale_file(two_cards, tmp_path):
    (a, b), expected = two_cards
    out = str(tmp_path / "card")
    mct.write_card(a, out, explanation_metadata={"inputs": {}})
    mct.write_card(b, out, ["html"])
    assert manifest(out) == expected["b"]


def test_a_failing_write_changes_nothing_and_leaves_nothing(two_cards, tmp_path):
    (a, b), expected = two_cards
    out = str(tmp_path / "card")
    mct.write_card(a, out)

    def write_on_a_full_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))  # writes past 1.5 KB fail
        try:
            mct.write_card(b, out, ["html"])
        except mct.OutputError as e:
            assert "File too large" in str(e)
            os._exit(2)

    _, status = os.waitpid(in_child(write_on_a_full_disk), 0)
    assert os.waitstatus_to_exitcode(status) == 2
    assert manifest(out) == expected["a"]
    assert sorted(os.listdir(tmp_path)) == ["card"]  # no temporary file or folder


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("{file}", "it is a file, not a directory"),
        ("{file}/card", r"notes.txt' is a file, not a directory"),
        ("/sys/mct-card-test/card", "Operation not permitted"),  # sysfs refuses even root
    ],
)
def test_unwritable_places_are_one_clear_error(tmp_path, where, message):
    (tmp_path / "notes.txt").write_text("not a folder")
    target = where.format(file=tmp_path / "notes.txt")
    with pytest.raises(mct.OutputError, match=message):
        mct.write_card(make_card(), target)
    assert (tmp_path / "notes.txt").read_text() == "not a folder"


def test_a_folder_that_is_not_a_card_is_replaced_only_when_asked(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(
        mct.ParameterError, match=r"holds files that are not a model card \('thesis.tex'\)"
    ):
        mct.write_card(make_card(), str(tmp_path))
    assert (tmp_path / "thesis.tex").exists()
    mct.write_card(make_card(), str(tmp_path), overwrite=True)
    assert sorted(os.listdir(tmp_path)) == [
        ".mct-card",
        "charts",
        "model_card.html",
        "model_card.json",
        "model_card.md",
    ]


@pytest.mark.parametrize("write", [files.write_files, files.replace_directory])
def test_a_failed_write_removes_the_folders_it_made(tmp_path, write):
    too_long = "b" * 300  # longer than a file name may be
    with pytest.raises(mct.OutputError):
        write(str(tmp_path / "new" / "deeper" / too_long / "site"), {"x.txt": "x"})
    assert list(tmp_path.iterdir()) == []


def test_a_fill_writes_into_the_new_folder_before_the_switch(tmp_path):
    """A dashboard too large for memory writes its pages as it renders them."""
    target = tmp_path / "site"
    files.replace_directory(str(target), {"old.html": "old"})
    seen = []

    def fill(folder: str) -> None:
        seen.append(os.listdir(folder))
        os.makedirs(os.path.join(folder, "models"))
        with open(os.path.join(folder, "models", "1.html"), "w") as f:
            f.write("page")
        assert (target / "old.html").exists()  # not switched yet

    files.replace_directory(str(target), {"index.html": "index"}, fill=fill)
    assert seen == [["index.html"]]
    assert sorted(os.listdir(target)) == ["index.html", "models"]
    assert (target / "models" / "1.html").read_text() == "page"


def test_a_failing_fill_changes_nothing_and_leaves_nothing(tmp_path):
    target = tmp_path / "site"
    files.replace_directory(str(target), {"index.html": "before"})

    def fill(folder: str) -> None:
        with open(os.path.join(folder, "half.html"), "w") as f:
            f.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(mct.OutputError, match="No space left on device"):
        files.replace_directory(str(target), {"index.html": "after"}, fill=fill)
    assert os.listdir(target) == ["index.html"]
    assert (target / "index.html").read_text() == "before"
    assert sorted(os.listdir(tmp_path)) == ["site"]
