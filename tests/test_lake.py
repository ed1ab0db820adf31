"""The DuckLake backend (streams/store/lake.py): the same store as the DuckDB file, read while it is written,
readable as it was at any committed snapshot, with its extensions loaded offline and checked.

Every lake here is a real one: the signed extension binaries from the pinned PyPI packages, a SQLite
catalog and Parquet files in a temporary folder. The writer that holds a transaction open is a real second
process.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb
import pytest

from detectors.engine import Engine
from detectors.registry import load_catalog
from schemas.events import AnyEvent
from streams.ingest.replay import replay
from streams.simulator.workload import simulate_events, write_jsonl
from streams.store import lake as lakes
from streams.store.access import DatabaseUnavailable, open_read_only
from streams.store.database import Store
from streams.store.integrity import verify_db
from streams.store.lake import AsOf, ExtensionError, Lake, extension_file, load_extension, open_lake
from streams.store.views import view_names
from tests.cli_support import run_chainwatch

REPO = Path(__file__).resolve().parents[1]
TABLES = ("events", "credentials", "chains", "findings", "alerts", "dead_letters", "verdicts")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_catalog().detectors)


@pytest.fixture(scope="module")
def events() -> list[AnyEvent]:
    return simulate_events(seed=5, sessions=24, attack_ratio=0.3)


def replay_into(target: Path | Lake, events: Sequence[AnyEvent], engine: Engine, tmp: Path) -> None:
    path = tmp / f"in-{len(list(tmp.glob('in-*.jsonl')))}.jsonl"
    write_jsonl(events, path)
    replay([str(path)], engine, db_path=target, fmt="native")


def rows(target: Path | Lake, sql: str) -> list[tuple[Any, ...]]:
    con = open_read_only(target)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_chainwatch(args, cwd=tmp)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(str(tmp_path / "lake" / "catalog.sqlite"))


# --------------------------------------------------------------------------- the same store


def test_the_lake_holds_what_the_file_holds_and_its_trail_verifies(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> None:
    db = tmp_path / "cw.duckdb"
    replay_into(db, events, engine, tmp_path)
    replay_into(lake, events, engine, tmp_path)
    for name in (*TABLES, *view_names()):
        ordered = f"SELECT * EXCLUDE (integrity_seq, prev_hash, row_hash) FROM {name} ORDER BY ALL"
        if name not in ("events", "credentials", "chains"):
            ordered = f"SELECT * FROM {name} ORDER BY ALL"
        assert rows(lake, ordered) == rows(db, ordered), name
    assert rows(lake, "SELECT count(*) FROM alerts")[0][0] > 0
    report = verify_db(lake)
    assert report.ok, report.problems
    assert report.sessions == 24 and report.runs == 2  # a lake writer records its opening and closing
    assert rows(lake, "SELECT run_event FROM integrity_runs ORDER BY run_seq") == [("open",), ("close",)]
    # the manifest beside the SQLite catalog, as beside a DuckDB file
    assert (tmp_path / "lake" / "catalog.sqlite.integrity.jsonl").is_file()
    assert (tmp_path / "lake" / "catalog.sqlite.files").is_dir()  # the data files' default folder


def test_upserts_by_id_on_the_lake_leave_no_duplicate_and_keep_the_newest_chain(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> None:
    """DuckLake has no PRIMARY KEY: the MERGE upserts must give what INSERT OR REPLACE gives the file."""
    replay_into(lake, events, engine, tmp_path)
    before = {t: rows(lake, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    replay_into(lake, events, engine, tmp_path)  # a redelivery of everything
    assert {t: rows(lake, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES} == before
    for table, key in (("events", "event_id"), ("chains", "session_id"), ("alerts", "alert_id")):
        [(total, distinct)] = rows(lake, f"SELECT count(*), count(DISTINCT {key}) FROM {table}")
        assert total == distinct, table
    # an older summary of a session, redelivered late, does not replace the newer one
    from schemas.alerts import ChainSummary
    from streams.store.database import Batch

    [(session, count)] = rows(lake, "SELECT session_id, event_count FROM chains ORDER BY session_id LIMIT 1")
    con = open_read_only(lake)
    cursor = con.execute("SELECT * FROM chains WHERE session_id = ?", [session])
    stored = dict(zip([d[0] for d in cursor.description], cursor.fetchone() or (), strict=True))
    con.close()
    fields = {k: v for k, v in stored.items() if k in ChainSummary.model_fields}
    for name in ("decisions", "outcomes", "credentials"):
        fields[name] = json.loads(fields[name]) if fields.get(name) else fields.get(name)
    older = ChainSummary.model_validate({**fields, "event_count": count - 1, "closed": False})
    with Store(lake) as store:
        store.write(Batch(chains=[older]))
    assert rows(lake, f"SELECT event_count FROM chains WHERE session_id = '{session}'") == [(count,)]
    assert verify_db(lake).ok


def test_tampering_with_the_lake_is_caught_by_verify(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> None:
    replay_into(lake, events, engine, tmp_path)
    con = open_lake(lake, read_only=False)
    con.execute(
        "UPDATE alerts SET title = 'nothing to see' WHERE alert_id = (SELECT min(alert_id) FROM alerts)"
    )
    con.execute("DELETE FROM events WHERE event_id = (SELECT max(event_id) FROM events)")
    con.close()
    kinds = {p.kind for p in verify_db(lake).problems}
    assert {"modified", "deleted"} <= kinds
    done = cli(tmp_path, "verify", "--lake", lake.catalog)
    assert done.returncode == 1 and "alerts alert_id=" in done.stdout, done.stdout + done.stderr


# --------------------------------------------------------------------------- readers never blocked

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from streams.ingest.replay import replay
    from streams.settings import build_engine, load_settings
    from streams.store import integrity
    from streams.store.lake import Lake

    finish, close = integrity.IntegrityWriter.finish, integrity.IntegrityWriter.close

    def held(self, now):  # inside the Store's write transaction, after every upsert: wait for the test
        finish(self, now)
        print("holding", flush=True)
        sys.stdin.readline()

    def held_before_anchor(self):  # every batch committed, the closing anchor not yet written
        print("holding", flush=True)
        sys.stdin.readline()
        close(self)

    if sys.argv[3] == "inside-transaction":
        integrity.IntegrityWriter.finish = held
    else:
        integrity.IntegrityWriter.close = held_before_anchor
    replay([sys.argv[2]], build_engine(load_settings()), db_path=Lake(sys.argv[1]), fmt="native")
    print("committed", flush=True)
    """
)


@contextmanager
def second_writer(
    where: str, engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], list[AnyEvent]]]:
    """The lake holds the first half of the sessions; another process writing the second half holds
    ``where`` ("inside-transaction": every row upserted, not committed; "before-anchor": every batch
    committed, the closing anchor not written) until the test lets it go."""
    sessions = sorted({e.session_id for e in events})
    first = [e for e in events if e.session_id in sessions[: len(sessions) // 2]]
    second = [e for e in events if e.session_id not in sessions[: len(sessions) // 2]]
    replay_into(lake, first, engine, tmp_path)
    path = tmp_path / "second.jsonl"
    write_jsonl(second, path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lake.catalog, str(path), where],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder, first
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)


@pytest.fixture
def writer_mid_transaction(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> Iterator[tuple[Lake, subprocess.Popen[str], list[AnyEvent]]]:
    """The lake holds the first half of the sessions; another process is inside the transaction that
    writes the second half (every row upserted, not committed) until the test lets it go."""
    with second_writer("inside-transaction", engine, events, lake, tmp_path) as (holder, first):
        yield lake, holder, first


def test_readers_and_a_verdict_go_through_while_the_loader_is_inside_a_transaction(
    writer_mid_transaction: tuple[Lake, subprocess.Popen[str], list[AnyEvent]], engine: Engine, tmp_path: Path
) -> None:
    lake, holder, first = writer_mid_transaction
    expected_db = tmp_path / "first.duckdb"
    replay_into(expected_db, first, engine, tmp_path)
    expected = sorted(r[0] for r in rows(expected_db, "SELECT alert_id FROM alerts"))
    listed = cli(tmp_path, "alerts", "--lake", lake.catalog, "--json", "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    seen = sorted(json.loads(line)["alert"]["alert_id"] for line in listed.stdout.splitlines())
    assert seen == expected  # the last committed snapshot: nothing of the open transaction
    shown = cli(tmp_path, "show", expected[0][:12], "--lake", lake.catalog, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["alert"]["alert_id"] == expected[0]
    verdict = cli(tmp_path, "triage", expected[0], "--status", "benign", "--lake", lake.catalog)
    assert verdict.returncode == 0, verdict.stderr
    assert verify_db(lake).ok  # verify reads the committed snapshot too
    assert holder.stdin is not None and holder.stdout is not None
    retried = -1
    line = "holding"
    while line == "holding":  # let it go; its commit lost the race to the verdict's: it does it again
        retried += 1
        holder.stdin.write("go\n")
        holder.stdin.flush()
        line = holder.stdout.readline().strip()
    assert line == "committed" and holder.wait(timeout=60) == 0
    assert retried >= 1  # the verdict committed in the middle of its transaction: one write done again
    after = rows(lake, "SELECT count(*) FROM chains")[0][0]
    assert after == 24  # the loader's commit went through after the verdict's (no conflict)
    assert rows(lake, "SELECT alert_id, status FROM verdicts") == [(expected[0], "benign")]
    assert verify_db(lake).ok


def test_a_verdict_beside_a_loader_with_unanchored_rows_is_sealed_and_the_trail_verifies(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> None:
    """The common case on a lake: the loader has committed batches its next anchor will cover. The verdict
    is a writer of its own: its opening records that it started on heads the last anchor does not cover,
    beside the running loader, and its closing anchors the verdict; once the loader anchors again, the
    trail verifies and the verdict is sealed in it."""
    with second_writer("before-anchor", engine, events, lake, tmp_path) as (holder, _first):
        alert_id = rows(lake, "SELECT min(alert_id) FROM alerts")[0][0]
        runs = rows(lake, "SELECT count(*) FROM integrity_runs")[0][0]
        verdict = cli(tmp_path, "triage", alert_id, "--status", "benign", "--lake", lake.catalog)
        assert verdict.returncode == 0, verdict.stderr
        added = f"SELECT run_event, unanchored_before FROM integrity_runs WHERE run_seq > {runs} ORDER BY 1"
        assert rows(lake, added) == [("close", False), ("open", True)]  # the verdict's own runs
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "committed" and holder.wait(timeout=60) == 0
    report = verify_db(lake)
    assert report.ok, [str(p) for p in report.problems]
    assert rows(lake, "SELECT status, row_hash IS NOT NULL FROM verdicts") == [("benign", True)]
    con = open_lake(lake, read_only=False)
    con.execute("UPDATE verdicts SET status = 'true-positive'")
    con.close()
    problems = [str(p) for p in verify_db(lake).problems]
    assert any(p.startswith("modified") and "verdicts" in p for p in problems), problems


def test_a_duckdb_file_being_written_still_says_who_holds_it(tmp_path: Path) -> None:
    """The file backend keeps its read-only opens and the explanation of a held lock (issue 20)."""
    from tests.db_support import held_for_writing

    db = tmp_path / "cw.duckdb"
    Store(db).close()
    with held_for_writing(db) as holder:
        done = cli(tmp_path, "alerts", "--db", str(db))
    assert done.returncode != 0 and f"PID {holder.pid}" in done.stderr


# --------------------------------------------------------------------------- time travel


def test_as_of_reads_the_lake_as_it_was(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> None:
    sessions = sorted({e.session_id for e in events})
    first = [e for e in events if e.session_id in sessions[:12]]
    second = [e for e in events if e.session_id not in sessions[:12]]
    replay_into(lake, first, engine, tmp_path)
    con = open_read_only(lake)
    [(snapshot, at)] = con.execute(
        "SELECT snapshot_id, snapshot_time FROM chainwatch.snapshots() ORDER BY snapshot_id DESC LIMIT 1"
    ).fetchall()
    con.close()
    replay_into(lake, second, engine, tmp_path)
    expected_db = tmp_path / "first.duckdb"
    replay_into(expected_db, first, engine, tmp_path)
    then = sorted(r[0] for r in rows(expected_db, "SELECT alert_id FROM alerts"))
    now = sorted(r[0] for r in rows(lake, "SELECT alert_id FROM alerts"))
    assert set(then) < set(now)
    later_only = sorted(set(now) - set(then))[0]

    for as_of in (str(snapshot), at.astimezone(UTC).isoformat()):
        listed = cli(
            tmp_path, "alerts", "--lake", lake.catalog, "--as-of", as_of, "--json", "--limit", "1000"
        )
        assert listed.returncode == 0, listed.stderr
        assert sorted(json.loads(x)["alert"]["alert_id"] for x in listed.stdout.splitlines()) == then
    missing = cli(tmp_path, "show", later_only, "--lake", lake.catalog, "--as-of", str(snapshot))
    assert missing.returncode == 1 and "no alert" in missing.stderr.lower(), missing.stderr
    assert cli(tmp_path, "show", later_only, "--lake", lake.catalog).returncode == 0
    # the trail as it stood then verifies (its later anchor runs are not expected in it), and now too
    past = cli(tmp_path, "verify", "--lake", lake.catalog, "--as-of", str(snapshot))
    assert past.returncode == 0, past.stdout + past.stderr
    assert verify_db(lake.at(AsOf(time=at))).ok and verify_db(lake).ok
    listing = cli(tmp_path, "db", "snapshots", "--lake", lake.catalog, "--json")
    numbers = [json.loads(line)["snapshot"] for line in listing.stdout.splitlines()]
    assert snapshot in numbers and numbers == sorted(numbers)


def test_as_of_says_what_is_wrong(lake: Lake, tmp_path: Path) -> None:
    Store(lake).close()
    db = tmp_path / "cw.duckdb"
    Store(db).close()
    cases = {
        ("alerts", "--db", str(db), "--as-of", "3"): "a DuckDB file keeps no past snapshots",
        ("alerts", "--lake", lake.catalog, "--as-of", "yesterday"): "neither a snapshot number nor a time",
        ("alerts", "--lake", lake.catalog, "--as-of", "99999"): "No snapshot found at version 99999",
        ("alerts", "--lake", lake.catalog, "--as-of", "2001-01-01"): "No snapshot found at timestamp",
        ("verify", "--db", str(db), "--as-of", "3"): "only a lake keeps past snapshots",
        ("alerts", "--lake", str(tmp_path / "nope.sqlite")): "no such lake catalog",
    }
    for args, message in cases.items():
        done = cli(tmp_path, *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_a_reader_waits_for_a_lake_being_created_and_names_a_catalog_that_never_becomes_one(
    lake: Lake,
) -> None:
    """The first loader creates the catalog file, then DuckLake's tables in it: a reader in between (CI
    caught one) must not fail with DuckDB's "creating a new DuckLake is explicitly disabled"."""
    assert lake.sqlite_path is not None
    lakes._prepare_sqlite_catalog(lake.sqlite_path)  # the file as the loader leaves it before ATTACH
    with pytest.raises(DatabaseUnavailable, match="holds no DuckLake yet: a loader may be creating it"):
        open_read_only(lake)
    writer = Lake(lake.catalog, lake.default_data_path)  # a loader that was given its data folder
    created = threading.Timer(0.4, lambda: Store(writer).close())
    created.start()
    try:
        early = open_read_only(lake)  # arrives before the lake exists, attaches once DuckLake made it
        early.close()
    finally:
        created.join()
    later = open_read_only(lake)
    try:
        assert "alerts" in {r[0] for r in later.execute("SHOW TABLES").fetchall()}
    finally:
        later.close()


# --------------------------------------------------------------------------- the extensions


def test_extensions_load_from_their_packages_with_signatures_checked() -> None:
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    assert con.execute("SELECT current_setting('allow_unsigned_extensions')").fetchone() == (False,)
    for name in ("ducklake", "sqlite_scanner", "postgres_scanner"):
        binary = extension_file(name)
        assert f"v{duckdb.__version__}" in binary.parts
        load_extension(con, name)
    loaded = {
        r[0] for r in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()
    }
    assert {"ducklake", "sqlite_scanner", "postgres_scanner", "parquet"} <= loaded


def test_a_missing_extension_package_is_named(monkeypatch: pytest.MonkeyPatch, lake: Lake) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        lakes.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "duckdb_extension_sqlite_scanner" else real(name, *a),
    )
    with pytest.raises(DatabaseUnavailable, match=r"duckdb-extension-sqlite-scanner, which is not installed"):
        Store(lake)


def test_an_extension_package_for_another_duckdb_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(
        lakes.importlib.metadata,
        "version",
        lambda name: "1.4.4" if name == "duckdb-extension-ducklake" else real(name),
    )
    with pytest.raises(ExtensionError) as caught:
        extension_file("ducklake")
    message = str(caught.value)
    assert "duckdb-extension-ducklake 1.4.4" in message and f"DuckDB {duckdb.__version__}" in message
    assert f"pip install 'duckdb-extension-ducklake=={duckdb.__version__}'" in message


def test_an_altered_extension_binary_fails_its_signature_check(tmp_path: Path) -> None:
    altered = tmp_path / "ducklake.duckdb_extension"
    shutil.copyfile(extension_file("ducklake"), altered)
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    altered.write_bytes(bytes(data))
    con = duckdb.connect()
    with pytest.raises(ExtensionError, match=r"refused the 'ducklake' extension of the PyPI package "):
        load_extension(con, "ducklake", binary=altered)
    assert not con.execute(
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'ducklake'"
    ).fetchone()[0]


def test_a_past_snapshot_is_read_only(lake: Lake) -> None:
    Store(lake).close()
    with pytest.raises(DatabaseUnavailable, match="can only be read"):
        Store(lake.at(AsOf(version=1)))


def test_db_attach_prints_what_a_data_team_runs_in_its_own_duckdb(
    engine: Engine, events: list[AnyEvent], lake: Lake, tmp_path: Path
) -> None:
    replay_into(lake, events, engine, tmp_path)
    done = cli(tmp_path, "db", "attach", "--lake", lake.catalog, "--alias", "cw")
    assert done.returncode == 0, done.stderr
    statements = [s for s in done.stdout.split(";\n") if s.strip()]
    assert any(s.startswith("LOAD '") and "duckdb_extension_ducklake" in s for s in statements)
    assert "(READ_ONLY)" in statements[-2] and statements[-1] == "USE cw"
    own = duckdb.connect()  # no chainwatch code from here on: plain DuckDB and the printed SQL
    for statement in statements:
        own.execute(statement)
    [(sessions,)] = own.execute("SELECT count(*) FROM audit_trail").fetchall()
    assert sessions == 24
    with pytest.raises(duckdb.Error, match="read-only"):
        own.execute("DELETE FROM alerts")
