"""The dashboard over real stores: what it reads, the flags it raises, and its pages in Chromium.

The store (`dashboard_run`) holds the demo's two penguin runs (cards; the first pushed,
the second held back by its gate) and the minimal pipeline's models (no cards, no
evaluation, anomalies in the data, an imported model). Expectations come from the MLMD
API, never from the dashboard's own reading.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

import mct_component as mct
from mct_component import cli, constants
from mct_component.dashboard import overview, snapshot
from tests.browser import Browser

pytestmark = [pytest.mark.tf, pytest.mark.slow]
SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "build", "screenshots")


@pytest.fixture
def store_copy(dashboard_run, tmp_path) -> str:
    path = str(tmp_path / "metadata.sqlite")
    shutil.copyfile(dashboard_run.metadata_path, path)
    return path


def _api_facts(path: str) -> dict[int, dict]:
    """Per model, what the MLMD API says: run, card, pushed, evaluated, anomalies."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from mct_component.mlmd import store as store_module

    store = store_module.connect_sqlite(path)
    facts = {}
    for model in store.get_artifacts_by_type("Model"):
        events = store.get_events_by_artifact_ids([model.id])
        producer = sorted(e.execution_id for e in events if e.type == pb.Event.OUTPUT)
        readers = [e.execution_id for e in events if e.type == pb.Event.INPUT]
        contexts = store.get_contexts_by_execution(producer[0]) if producer else []
        outputs = {
            store.get_artifacts_by_id([e.artifact_id])[0].type: e.artifact_id
            for e in store.get_events_by_execution_ids(readers)
            if e.type == pb.Event.OUTPUT
        }
        pushed = False
        if "PushedModel" in outputs:
            (push,) = store.get_artifacts_by_id([outputs["PushedModel"]])
            pushed = push.custom_properties["pushed"].int_value == 1
        facts[model.id] = {
            "run": next((c.name for c in contexts if c.type == "pipeline_run"), ""),
            "pipeline": next((c.name for c in contexts if c.type == "pipeline"), ""),
            "card": "mct_component.ModelCard" in outputs,
            "pushed": pushed,
            "evaluated": "ModelEvaluation" in outputs,
        }
    return facts


def test_the_snapshot_reads_what_the_mlmd_api_reads(dashboard_run):
    from mct_component.mlmd import store as store_module

    store = store_module.connect_sqlite(dashboard_run.metadata_path)
    state = snapshot.read_snapshot(dashboard_run.metadata_path)
    assert sorted(state.artifacts) == sorted(a.id for a in store.get_artifacts())
    assert sorted(state.executions) == sorted(e.id for e in store.get_executions())
    for execution in store.get_executions():
        api = sorted(
            (e.artifact_id, e.type in (2, 3, 5))
            for e in store.get_events_by_execution_ids([execution.id])
        )
        assert (
            sorted((e.artifact_id, e.is_input) for e in state.edges_by_execution[execution.id])
            == api
        )
        names = {
            (c.type, c.name)
            for c in store.get_contexts_by_execution(execution.id)
            if c.type in snapshot.CONTEXT_TYPES
        }
        ours = {state.contexts[c] for c in state.contexts_by_execution[execution.id]}
        assert ours == names
    for artifact in store.get_artifacts_by_type("mct_component.ModelCard"):
        ours = state.artifacts[artifact.id].properties
        assert ours[constants.STATUS_PROPERTY] == artifact.custom_properties["status"].string_value


def test_every_model_has_a_row_with_the_flags_the_store_implies(dashboard_run):
    facts = _api_facts(dashboard_run.metadata_path)
    rows = {
        r.model_id: r
        for r in overview.model_rows(snapshot.read_snapshot(dashboard_run.metadata_path))
    }
    assert sorted(rows) == sorted(facts)
    for model_id, fact in facts.items():
        row = rows[model_id]
        assert (row.pipeline, row.run) == (fact["pipeline"], fact["run"])
        assert row.pushed == fact["pushed"]
        assert (overview.NO_CARD in row.flags) == (not fact["card"])
        assert (overview.NO_EVALUATION in row.flags) == (not fact["evaluated"])
        assert (overview.PUSHED_UNAPPROVED in row.flags) == fact["pushed"]  # no card is approved
    penguin = sorted(
        (r for r in rows.values() if r.pipeline == "penguin-test"), key=lambda r: r.model_id
    )
    first, second = penguin
    assert first.pushed and not second.pushed  # the second run's gate (0.99) held it back
    assert overview.INCOMPLETE in second.flags and overview.INCOMPLETE not in first.flags
    assert first.card is not None and first.card.headline is not None
    card = mct.Card.load(first.card.uri)
    (accuracy,) = [
        m for m in card.quantitative_analysis.overall if m.label == first.card.headline.name
    ]
    assert (first.card.headline.value, first.card.headline.lower) == (
        accuracy.value,
        accuracy.lower_bound,
    )
    assert second.card.headline.delta == pytest.approx(
        next(
            d.delta
            for d in mct.Card.load(second.card.uri).comparison.metric_deltas
            if d.metric == accuracy.label and d.slice == "Overall"
        )
    )
    # The minimal pipeline's Importer re-registered the first penguin model (same URI):
    # that model keeps its Trainer's pipeline and run.
    (trained,) = [r for r in rows.values() if r.pipeline == "penguin-minimal"]
    assert trained.producer == "Trainer"
    assert overview.DATA_ANOMALIES in trained.flags and trained.anomalous_splits
    assert all(overview.NO_DATA_VALIDATION not in r.flags for r in penguin)


def test_approval_and_risk_move_the_flags(store_copy, tmp_path):
    rows = overview.model_rows(snapshot.read_snapshot(store_copy))
    pushed = next(r for r in rows if r.pushed)
    for status in ("pending_review", "approved"):
        mct.set_card_status(
            store_copy, pushed.model_id, status, by="reviewer", output_root=str(tmp_path)
        )
    held_back = next(r for r in rows if r.pipeline == "penguin-test" and not r.pushed)
    risky = tmp_path / "risk.json"
    risky.write_text(
        json.dumps({"risk": {"rating": "high", "explanation": "test"}}), encoding="utf-8"
    )
    mct.edit_card(
        store_copy, held_back.model_id, str(risky), by="editor", output_root=str(tmp_path)
    )

    after = {r.model_id: r for r in overview.model_rows(snapshot.read_snapshot(store_copy))}
    assert overview.PUSHED_UNAPPROVED not in after[pushed.model_id].flags
    assert [v.status for v in after[pushed.model_id].versions] == [
        "draft",
        "pending_review",
        "approved",
    ]
    assert overview.HIGH_RISK in after[held_back.model_id].flags
    assert after[held_back.model_id].card.version == 2


def _index_rows(browser: Browser) -> list[dict]:
    return browser.evaluate(
        """Array.from(document.querySelectorAll('#models tbody tr'))
        .filter(r => !r.hidden)
        .map(r => ({id: Number(r.id.slice(1)), flags: r.dataset.f, cells: Array.from(r.cells, c => c.textContent.trim())}))"""
    )


def test_the_site_in_a_browser(store_copy, tmp_path):
    site = tmp_path / "site"
    assert cli.main(["dashboard", "--metadata", store_copy, "--output-dir", str(site)]) == 0
    rows = {r.model_id: r for r in overview.model_rows(snapshot.read_snapshot(store_copy))}
    with Browser(window_size=(1400, 1000)) as browser:
        page = browser.open((site / "index.html").as_uri())
        os.makedirs(SCREENSHOTS, exist_ok=True)
        browser.screenshot(os.path.join(SCREENSHOTS, "dashboard_index.png"))
        shown = _index_rows(browser)
        assert sorted(r["id"] for r in shown) == sorted(rows)
        for r in shown:
            assert r["flags"].split() == list(rows[r["id"]].flags)
            for flag in rows[r["id"]].flags:
                assert overview.FLAGS[flag] in r["cells"][-1]

        browser.evaluate("document.querySelector('#models th:nth-child(1) button').click()")
        assert [r["id"] for r in _index_rows(browser)] == sorted(rows)
        browser.evaluate("document.querySelector('#models th:nth-child(1) button').click()")
        assert [r["id"] for r in _index_rows(browser)] == sorted(rows, reverse=True)

        browser.evaluate(
            "const f = document.getElementById('filters'); f.flag.value = 'data_anomalies';"
            "f.dispatchEvent(new Event('change'))"
        )
        assert {r["id"] for r in _index_rows(browser)} == {
            m for m, r in rows.items() if overview.DATA_ANOMALIES in r.flags
        }
        browser.evaluate(
            "const g = document.getElementById('filters'); g.flag.value = '';"
            "g.pipeline.value = 'penguin-test'; g.dispatchEvent(new Event('change'))"
        )
        assert {r["id"] for r in _index_rows(browser)} == {
            m for m, r in rows.items() if r.pipeline == "penguin-test"
        }
        assert browser.evaluate("document.getElementById('shown').textContent").startswith("2 of")
        assert not page.console_errors and not page.requests

        carded = next(r for r in rows.values() if r.card is not None and r.pushed)
        model_page = browser.open((site / "models" / f"{carded.model_id}.html").as_uri())
        browser.screenshot(os.path.join(SCREENSHOTS, "dashboard_model.png"))
        graph = browser.evaluate(
            "Array.from(document.querySelectorAll('svg.lineage g'), g => g.textContent)"
        )
        for component in (
            "CsvExampleGen",
            "StatisticsGen",
            "ExampleValidator",
            "Trainer",
            "Evaluator",
            "ModelCardGenerator",
            "Pusher",
        ):
            assert any(component in node for node in graph), component
        assert f"artifact {carded.model_id}" in " ".join(graph)
        links = browser.evaluate(
            "Array.from(document.querySelectorAll('svg.lineage a'), a => a.getAttribute('href'))"
        )
        assert f"file://{carded.uri}" in links
        earlier = [
            r
            for r in rows.values()
            if r.pipeline == carded.pipeline and r.card and r.created_ms <= carded.created_ms
        ]
        assert browser.evaluate("document.querySelectorAll('svg.trend circle').length") == len(
            earlier
        )
        assert not model_page.console_errors and not model_page.requests
        card_page = browser.open((site / "cards" / f"{carded.model_id}.html").as_uri())
        assert carded.name in browser.evaluate("document.title")
        assert not card_page.requests

        browser.disable_javascript()
        browser.open((site / "index.html").as_uri())
        assert browser.evaluate("document.getElementById('filters').hidden") is True
        assert browser.evaluate("document.querySelectorAll('#models tbody tr').length") == len(rows)


def test_the_site_on_mysql(mysql_run, tmp_path):
    _, config = mysql_run
    summary = mct.build_dashboard(config, str(tmp_path / "site"))
    assert summary.models == 1
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "penguin-mysql" in index
    assert summary.flag_counts[overview.NO_CARD] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metadata", "/nonexistent/metadata.sqlite"], "not found"),
        (["--completeness-gate", "1.5"], "between 0 and 1"),
    ],
)
def test_bad_input_is_one_line(dashboard_run, tmp_path, capsys, args, message):
    base = ["dashboard", "--output-dir", str(tmp_path / "site")]
    if "--metadata" not in args:
        base += ["--metadata", dashboard_run.metadata_path]
    assert cli.main(base + args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_folder_that_is_not_a_dashboard_is_kept(dashboard_run, tmp_path, capsys):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine", encoding="utf-8")
    args = [
        "dashboard",
        "--metadata",
        dashboard_run.metadata_path,
        "--output-dir",
        str(tmp_path / "site"),
    ]
    assert cli.main(args) == 2
    assert "not a dashboard" in capsys.readouterr().err
    assert (tmp_path / "site" / "notes.txt").exists()
    assert cli.main([*args, "--overwrite"]) == 0
    assert not (tmp_path / "site" / "notes.txt").exists()
    assert cli.main(args) == 0  # a dashboard may replace itself
