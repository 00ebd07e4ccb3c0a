"""The dashboard's flags and pages on hand-made stores: hostile names, and each flag's rule."""

from __future__ import annotations

import collections
import dataclasses
import json
import re

import pytest

from mct_component.dashboard import graphs, overview, site, snapshot
from mct_component.dashboard.snapshot import Edge, Node
from mct_component.governance import verify

HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>\u202e"


def _store(
    pipeline: str = "p",
    run: str = "r1",
    model_uri: str = "/models/1",
    card: dict | None = None,
    pushed: bool = False,
    blessed: bool | None = True,
) -> snapshot.Snapshot:
    """A run of ExampleGen -> Trainer -> Evaluator (-> Pusher), with an optional card."""
    artifacts = {
        1: Node(1, "Examples", 1000, "/data/1"),
        2: Node(2, "Model", 2000, model_uri),
        3: Node(3, "ModelEvaluation", 3000, "/eval/3"),
    }
    executions = {
        10: Node(10, "tfx.components.example_gen.component.CsvExampleGen", 900),
        11: Node(11, "tfx.components.trainer.component.Trainer", 1500),
        12: Node(12, "tfx.components.evaluator.component.Evaluator", 2500),
    }
    edges = [
        Edge(1, 10, False, "examples"),
        Edge(1, 11, True, "examples"),
        Edge(2, 11, False, "model"),
        Edge(2, 12, True, "model"),
        Edge(3, 12, False, "evaluation"),
    ]
    if blessed is not None:
        artifacts[4] = Node(
            4, "ModelBlessing", 3000, "/bless/4", properties={"blessed": int(blessed)}
        )
        edges.append(Edge(4, 12, False, "blessing"))
    if pushed:
        artifacts[5] = Node(
            5,
            "PushedModel",
            4000,
            "/push/5",
            properties={"pushed": 1, "pushed_destination": "/serving/5"},
        )
        executions[13] = Node(13, "tfx.components.pusher.component.Pusher", 3500)
        edges += [Edge(2, 13, True, "model"), Edge(5, 13, False, "pushed_model")]
    if card is not None:
        artifacts[6] = Node(
            6,
            overview.CARD_TYPE,
            card.pop("created", 5000),
            "/card/6",
            properties={"model_id": 2, **card},
        )
        executions[14] = Node(14, "mct_component.generator.component.ModelCardGenerator", 4500)
        edges += [Edge(2, 14, True, "model"), Edge(6, 14, False, "model_card")]
    by_artifact, by_execution = collections.defaultdict(list), collections.defaultdict(list)
    for edge in edges:
        by_artifact[edge.artifact_id].append(edge)
        by_execution[edge.execution_id].append(edge)
    contexts = {100: ("pipeline", pipeline), 101: ("pipeline_run", run)}
    return snapshot.Snapshot(
        artifacts,
        executions,
        by_artifact,
        by_execution,
        contexts,
        {e: [100, 101] for e in executions},
    )


@pytest.mark.parametrize(
    "store, raised",
    [
        (_store(), {overview.NO_CARD, overview.NO_DATA_VALIDATION}),
        (
            _store(pushed=True, blessed=False),
            {
                overview.NO_CARD,
                overview.PUSHED_UNAPPROVED,
                overview.PUSHED_UNBLESSED,
                overview.NOT_BLESSED,
                overview.NO_DATA_VALIDATION,
            },
        ),
        (
            _store(card={"headline_metric": '{"name": "accuracy", "value": 0.5, "delta": -0.39}'}),
            {overview.METRIC_WORSE, overview.NO_DATA_VALIDATION},
        ),
        (
            _store(card={"status": "approved", "created": 2500}),
            {overview.STALE_CARD, overview.APPROVAL_UNVERIFIED, overview.NO_DATA_VALIDATION},
        ),
        (
            _store(card={"status": "approved", "risk_rating": "high"}),
            {overview.HIGH_RISK, overview.APPROVAL_UNVERIFIED, overview.NO_DATA_VALIDATION},
        ),
        (
            _store(pushed=True, card={"status": "approved"}),
            {overview.APPROVAL_UNVERIFIED, overview.NO_DATA_VALIDATION},
        ),
    ],
)
def test_each_flag_follows_its_rule(store, raised):
    (row,) = overview.model_rows(store)
    assert set(row.flags) == raised


def _checked(status: str, verified: bool, problems=()) -> verify.Verification:
    check = verify.VersionCheck(1, status, "generated", "ModelCardGenerator", "key:ab", verified)
    return verify.Verification(2, (check,), tuple(problems))


@pytest.mark.parametrize(
    "verification, raised, trust",
    [
        (None, {overview.APPROVAL_UNVERIFIED}, ""),
        (_checked("approved", verified=True), set(), "verified"),
        (_checked("approved", verified=False), {overview.APPROVAL_UNVERIFIED}, "unverified"),
        (
            _checked("approved", verified=True, problems=[(1, "model_card.json changed")]),
            {overview.APPROVAL_UNVERIFIED, overview.HISTORY_ALTERED},
            "verified",  # the version itself holds; the history around it does not
        ),
    ],
)
def test_approval_and_history_flags_follow_verification(verification, raised, trust):
    store = _store(pushed=True, card={"status": "approved"})
    checked = {2: verification} if verification else None
    (row,) = overview.model_rows(store, verifications=checked)
    assert set(row.flags) - {overview.NO_DATA_VALIDATION} == raised
    assert row.versions[-1].trust == trust


@pytest.mark.parametrize(
    "name, delta, worse",
    [
        ("accuracy", -0.39, True),
        ("binary_accuracy", 0.01, False),
        ("AUC", -0.001, True),
        ("loss", 0.2, True),
        ("mean_squared_error", -0.2, False),
        ("calibration", -0.3, False),  # neither kind: not judged
        ("accuracy", 0.0, False),
        ("accuracy", None, False),
    ],
)
def test_the_headline_is_worse_only_in_its_metric_s_wrong_direction(name, delta, worse):
    assert overview.worse(overview.Headline(name, 0.5, delta=delta)) is worse


def test_completeness_under_the_gate():
    store = _store(card={"status": "draft", "completeness": "0.5"})
    (row,) = overview.model_rows(store, completeness_gate=0.8)
    assert overview.INCOMPLETE in row.flags
    (row,) = overview.model_rows(store, completeness_gate=0.4)
    assert overview.INCOMPLETE not in row.flags
    (row,) = overview.model_rows(store)
    assert overview.INCOMPLETE not in row.flags  # no gate anywhere


def test_hostile_store_strings_stay_text():
    headline = json.dumps(
        {"name": HOSTILE, "value": 0.5, "lower": 0.4, "upper": 0.6, "delta": None}
    )
    store = _store(
        pipeline=HOSTILE,
        run=HOSTILE,
        model_uri="javascript:alert(3)",
        card={
            "status": "draft",
            "model_name": HOSTILE,
            "risk_rating": HOSTILE,
            "headline_metric": headline,
        },
    )
    rows = overview.model_rows(store)
    pages = site.render_site(store, rows, HOSTILE)
    for name, page in pages.items():
        if not name.endswith(".html"):
            continue
        assert "<script>alert" not in page and "<img src=x" not in page, name
        assert not re.search(r"""href=["']?javascript:""", page, re.I), name
        assert "\u202e" not in page, name
    model_page = pages["models/2.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in model_page
    assert model_page.count("<svg ") == 2  # the lineage graph and the trend, as markup


@pytest.mark.parametrize(
    "uri, href",
    [
        ("/tmp/a b/model", "file:///tmp/a%20b/model"),
        ("gs://bucket/model", "gs://bucket/model"),
        ("javascript:alert(1)", ""),
        ("data:text/html,x", ""),
        ("relative/path", ""),
    ],
)
def test_only_known_uri_schemes_become_links(uri, href):
    assert graphs.uri_href(uri) == href


def test_lineage_graph_lists_the_run(tmp_path):
    store = _store(pushed=True, card={"status": "draft"})
    (row,) = overview.model_rows(store)
    nodes, edges = graphs.lineage_nodes(store, row)
    assert {n.label for n in nodes if n.is_execution} == {
        "CsvExampleGen",
        "Trainer",
        "Evaluator",
        "Pusher",
        "ModelCardGenerator",
    }
    assert [n.key for n in nodes if n.is_subject] == ["a2"]
    assert ("a2", "e12") in edges and ("e11", "a2") in edges
    svg = graphs.lineage_svg(nodes, edges)
    assert svg.count("<g ") == len(nodes) and svg.count("<line") == len(edges)


def test_a_model_row_is_frozen():
    (row,) = overview.model_rows(_store())
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.pushed = True  # type: ignore[misc]


def test_forked_workers_write_the_same_pages(monkeypatch):
    stores = [_store(card={"status": "draft"}), _store(pushed=True)]
    rows = overview.model_rows(stores[0])
    serial = site.render_site(stores[0], rows, "store")
    monkeypatch.setattr(site, "PARALLEL_FROM", 1)
    monkeypatch.setattr(site.os, "cpu_count", lambda: 2)
    forked = site.render_site(stores[0], rows, "store")
    assert forked.keys() == serial.keys()
    for name in serial:
        if name != "index.html":  # it says when it was made
            assert forked[name] == serial[name], name


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a database at all" * 100, "is not an MLMD store"),
        (None, "has MLMD schema version 9; the dashboard reads version 10"),
    ],
)
def test_a_store_it_cannot_read_is_named_in_one_line(tmp_path, content, message):
    import sqlite3

    from mct_component.errors import LineageError

    path = tmp_path / "metadata.sqlite"
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE MLMDEnv (schema_version INTEGER)")
            db.execute("INSERT INTO MLMDEnv VALUES (9)")
    else:
        path.write_bytes(content)
    with pytest.raises(LineageError, match=message) as raised:
        snapshot.read_snapshot(str(path))
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_the_folder_holding_the_store_is_never_replaced(tmp_path):
    from mct_component.errors import OutputError

    (tmp_path / "site").mkdir()
    store = tmp_path / "site" / "metadata.sqlite"
    store.write_bytes(b"a store")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="is inside"):
            site.build_dashboard(str(store), str(tmp_path), overwrite=overwrite)
    assert store.read_bytes() == b"a store"


def test_a_dashboard_folder_with_other_files_is_kept(tmp_path):
    from mct_component.errors import OutputError

    (tmp_path / "site" / "models").mkdir(parents=True)
    (tmp_path / "site" / site.MARKER_FILE).write_text("x")
    (tmp_path / "site" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"holds 'notes\.txt'"):
        site.build_dashboard(str(tmp_path / "elsewhere.sqlite"), str(tmp_path / "site"))
    assert (tmp_path / "site" / "notes.txt").read_text() == "mine"


def test_a_large_store_has_its_index_in_linked_pages(tmp_path, monkeypatch):
    from bench import lineage_scale
    from mct_component import build_dashboard

    store, _ = lineage_scale.ensure_store(12, tmp_path / "stores")
    monkeypatch.setattr(site, "INDEX_PAGE_ROWS", 5)
    monkeypatch.setattr(site, "PARALLEL_FROM", 1)  # the index pages in the workers too
    monkeypatch.setattr(site.os, "cpu_count", lambda: 2)
    output = tmp_path / "site"
    summary = build_dashboard(str(store), str(output))
    assert summary.models == 12
    names = ["index.html", "index-2.html", "index-3.html"]
    assert sorted(p.name for p in output.glob("index*.html")) == sorted(names)
    pages = {name: (output / name).read_text() for name in names}
    listed = {name: re.findall(r'<tr role="row" id="m(\d+)"', page) for name, page in pages.items()}
    assert [len(ids) for ids in listed.values()] == [5, 5, 2]
    assert "12 models in runs-12.sqlite" in pages["index-2.html"]
    assert "page 2 of 3: models 6 to 10" in pages["index-2.html"]
    assert (
        '<a href="index.html">1</a> <strong>2</strong> <a href="index-3.html">3</a>'
        in (pages["index-2.html"])
    )
    assert f"No card: <strong>{12}</strong>" in pages["index-3.html"]  # the store's count
    for name, ids in listed.items():
        for model_id in ids:
            page = (output / "models" / f"{model_id}.html").read_text()
            assert f'href="../{name}#m{model_id}"' in page
    build_dashboard(str(store), str(output))  # its own pages: replaced without --overwrite
