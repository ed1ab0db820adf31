"""Query while it streams (issue 17), against the real broker: produce → worker → `chainwatch load --lake`,
and while that loader runs, `chainwatch alerts` and `show`, the triage page in a real browser and a notebook
read the lake; once the loader has caught up (still running), every one of them shows what the embedded
replay of the same events stores. Then the write side scaled out: two loaders of one consumer group, each
with part of the partitions, writing one lake whose catalog is a real PostgreSQL server (started by the
suite, tests/postgres_support.py), store what the embedded replay stores, nothing lost or doubled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from streams.simulator.demo import NOTEBOOK_LAKE_ENV
from streams.store.access import open_read_only
from streams.store.integrity import verify_db
from streams.store.lake import Lake
from tests.postgres_support import LocalPostgres
from tests.test_stream_e2e import Pipeline, alert_rows, embedded, simulated, wait_for
from tests.ui_support import browser, log_in, start_ui

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "alert_triage.ipynb"


@pytest.fixture
def pipeline(kafka_broker: Any, tmp_path: Path) -> Iterator[Pipeline]:
    pipe = Pipeline(kafka_broker.bootstrap, tmp_path)
    pipe.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "3", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    try:
        yield pipe
    finally:
        pipe.stop_all()


def lake_alerts(pipeline: Pipeline, lake: Lake, *extra: str) -> list[str]:
    done = pipeline.cli("alerts", "--lake", lake.catalog, "--json", "--limit", "10000", *extra)
    return sorted(json.loads(line)["alert"]["alert_id"] for line in done.stdout.splitlines())


def notebook_alert_ids(lake: Lake) -> list[str]:
    """Run the alert-triage notebook on the lake, then ask its kernel which alerts it read."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell("import json; print(json.dumps(sorted(alerts['alert_id'].tolist())))")
    )
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.get("name") == "stdout")
    ids: list[str] = json.loads(printed)
    return ids


def test_alerts_show_the_page_and_a_notebook_read_the_lake_while_the_loader_writes_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    lake = Lake(str(pipeline.tmp / "lake" / "catalog.sqlite"), pipeline.tmp / "lake-data")
    pipeline.create_topics()
    worker = pipeline.start_worker()
    pipeline.wait_ready(worker)
    loader = pipeline.start(
        "loader", "streams.cli", "load", "--lake", lake.catalog, "--lake-data", str(lake.data_path)
    )
    runs, events = simulated(seed=23, sessions=50, attack_ratio=0.3)
    sessions = sorted({run.session_id for run in runs})
    first = [e for e in events if e.session_id in sessions[:25]]
    second = [e for e in events if e.session_id not in sessions[:25]]
    pipeline.produce_events(first, "first")

    def some_alerts() -> bool:
        if not Path(lake.catalog).exists():
            return False
        con = open_read_only(lake)
        try:
            tables = {
                r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            return "alerts" in tables and bool(con.execute("SELECT count(*) FROM alerts").fetchone()[0])  # type: ignore[index]
        finally:
            con.close()

    wait_for("the loader to store the first alerts", some_alerts, 120, interval=0.5)
    ui = start_ui(pipeline.db, pipeline.tmp, lake=lake.catalog)
    try:
        with browser() as chromium:
            page = chromium.new_page()
            log_in(page, ui.url)  # the page lists alerts while the loader writes
            seen = [len(lake_alerts(pipeline, lake))]  # the first half's, or part of them
            pipeline.produce_events(second, "second")
            deadline = time.monotonic() + 180
            while not pipeline.loader_caught_up() or pipeline.closed_sessions() < set(sessions):
                assert time.monotonic() < deadline, f"the pipeline did not finish: {loader.output()}"
                seen.append(len(lake_alerts(pipeline, lake)))  # never blocked, never fewer than before
                assert seen[-1] >= seen[-2], seen
                assert loader.alive(), loader.output()
                time.sleep(0.5)
            wait_for("the loader to store every topic", pipeline.loader_caught_up, 120, interval=0.5)
            assert loader.alive(), "the readers ran beside a running loader"

            expected_db = embedded(events, pipeline.settings, pipeline.tmp / "embedded.duckdb")
            expected = alert_rows(expected_db)
            assert alert_rows(lake) == expected  # type: ignore[arg-type]
            expected_ids = sorted(a for a, _s, _e in expected)
            assert lake_alerts(pipeline, lake) == expected_ids
            assert seen[0] < len(expected_ids), f"the readers should have seen the lake grow: {seen}"
            for alert_id in expected_ids[:5]:
                lake_view = json.loads(
                    pipeline.cli("show", alert_id, "--lake", lake.catalog, "--json").stdout
                )
                file_view = json.loads(
                    pipeline.cli("show", alert_id, "--db", str(expected_db), "--json").stdout
                )
                assert lake_view == file_view

            page.click("#filters button[type=submit]")  # the list again, from the lake as it is now
            expect(page.locator("#count")).to_have_text(f"{len(expected_ids)} alerts")
            page.locator("#alerts tbody tr").first.click()
            page.click("button.verdict[data-status=benign]")  # a verdict beside the running loader
            expect(page.locator("#v-result")).to_have_text("recorded benign")

            monkeypatch.setenv(NOTEBOOK_LAKE_ENV, lake.catalog)  # the kernel inherits it
            assert notebook_alert_ids(lake) == expected_ids
            assert loader.alive()
    finally:
        ui.stop()
    pipeline.finish_loading(loader)
    verdicts = open_read_only(lake).execute("SELECT status, analyst FROM verdicts").fetchall()
    assert verdicts == [("benign", "ana")]
    report = verify_db(lake)
    assert report.ok, report.problems


def test_two_loaders_of_one_group_write_one_lake_on_postgres_and_lose_or_double_nothing(
    pipeline: Pipeline, postgres_server: LocalPostgres
) -> None:
    lake = Lake("postgres:" + postgres_server.new_database(), pipeline.tmp / "lake-data")
    pipeline.create_topics()
    worker = pipeline.start_worker()
    pipeline.wait_ready(worker)
    lake_args = ("--lake", lake.catalog, "--lake-data", str(lake.data_path), "--json")
    loaders = [pipeline.start("loader", "streams.cli", "load", *lake_args) for _ in range(2)]
    runs, events = simulated(seed=31, sessions=40, attack_ratio=0.3)
    sessions = sorted({run.session_id for run in runs})
    pipeline.produce_events(events, "all")
    producer = pipeline.raw_producer()
    try:  # not events at all: the worker dead-letters each, one of the loaders stores it
        for number in range(3):
            producer.send(pipeline.settings.topics.events, f"not json {number}".encode())
        producer.flush()
    finally:
        producer.close()
    deadline = time.monotonic() + 240
    while not pipeline.loader_caught_up() or pipeline.closed_sessions() < set(sessions):
        assert time.monotonic() < deadline, "the pipeline did not finish:\n" + "\n".join(
            loader.output() for loader in loaders
        )
        for loader in loaders:
            assert loader.alive(), loader.output()
        time.sleep(0.5)
    wait_for("the loaders to store every topic", pipeline.loader_caught_up, 120, interval=0.5)
    stored = []
    for loader in loaders:
        assert loader.terminate(timeout=60) == 0, loader.output()
        lines = loader.log.read_text().splitlines()  # log lines, then the counts (--json) at exit
        start = max(n for n, line in enumerate(lines) if line == "{")
        stats = json.loads("\n".join(lines[start : lines.index("}", start) + 1]))
        stored.append(sum(stats["records"].values()))
    assert all(stored), f"each loader should have stored records of its partitions: {stored}"

    expected_db = embedded(events, pipeline.settings, pipeline.tmp / "embedded.duckdb")
    assert alert_rows(lake) == alert_rows(expected_db)  # type: ignore[arg-type]
    con = open_read_only(lake)
    expected = open_read_only(expected_db)
    try:
        for table, key in (
            ("events", "event_id"),
            ("credentials", "event_id"),
            ("chains", "session_id"),
            ("findings", "finding_id"),
            ("alerts", "alert_id"),
            ("dead_letters", "dead_letter_id"),
        ):
            [(total, distinct)] = con.execute(
                f"SELECT count(*), count(DISTINCT {key}) FROM {table}"
            ).fetchall()
            assert total == distinct, f"{table}: {total - distinct} row(s) stored twice"
            if table != "dead_letters":  # the replay read no bad record
                ids = f"SELECT {key} FROM {table} ORDER BY 1"
                assert con.execute(ids).fetchall() == expected.execute(ids).fetchall(), table
        assert con.execute("SELECT count(*) FROM dead_letters").fetchall() == [(3,)]
        chains = "SELECT session_id, event_count, closed FROM chains ORDER BY 1"
        assert con.execute(chains).fetchall() == expected.execute(chains).fetchall()
    finally:
        con.close()
        expected.close()
    done = pipeline.cli("verify", "--lake", lake.catalog, "--lake-data", str(lake.data_path), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
