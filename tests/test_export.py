"""Parquet export: hive layout by day, a manifest that catches changed files, and the same view results from
the lake as from the DuckDB file (on the hand-checked dataset and on the demo workload)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from streams.cli.main import app
from streams.simulator.demo import ensure_demo_db
from streams.store.access import DatabaseLocked, DatabaseUnavailable
from streams.store.export import (
    MANIFEST,
    ExportError,
    create_parquet_views,
    export_parquet,
    parquet_views_sql,
    verify_manifest,
)
from streams.store.views import view_names
from tests import views_dataset as ds
from tests.db_support import held_for_writing

TABLES = ("events", "credentials", "chains", "findings", "alerts", "dead_letters", "verdicts")


@pytest.fixture(scope="module")
def known_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ds.build(tmp_path_factory.mktemp("known") / "known.duckdb")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_demo_db(tmp_path_factory.mktemp("demo") / "chainwatch.duckdb", sessions=60)


@pytest.fixture
def lake(known_db: Path, tmp_path: Path) -> Path:
    export_parquet(known_db, tmp_path / "lake")
    return tmp_path / "lake"


def _results(con: duckdb.DuckDBPyConnection, relation: str, columns: str = "*") -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT {columns} FROM {relation} ORDER BY ALL").fetchall()


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    return ", ".join(f'"{n}"' for n in names)


def test_every_table_is_written_by_utc_day_in_hive_layout(lake: Path) -> None:
    files = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file())
    assert "events/day=2026-03-02/data_0.parquet" in files
    assert "events/day=2026-03-03/data_0.parquet" in files
    assert "credentials/day=2026-03-02/data_0.parquet" in files
    assert "dead_letters/day=2026-03-03/data_0.parquet" in files
    assert "dead_letters/day=2026-03-04/data_0.parquet" in files
    assert "verdicts/day=2026-03-02/data_0.parquet" in files
    assert {f.split("/")[0] for f in files if f != MANIFEST} >= set(TABLES)
    con = duckdb.connect()
    day3 = con.execute(
        f"SELECT count(*) FROM read_parquet('{lake}/events/day=2026-03-03/*.parquet')"
    ).fetchone()
    assert day3 == (5,)  # the five s3 events, including the late one (its event time is that day)


def test_manifest_lists_every_file_with_its_hash(lake: Path) -> None:
    manifest = json.loads((lake / MANIFEST).read_text())
    assert manifest["format"] == "chainwatch-parquet-manifest" and manifest["version"] == 1
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert manifest["chainwatch_version"]
    on_disk = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file())
    assert [f["path"] for f in manifest["files"]] == [p for p in on_disk if p != MANIFEST]
    for entry in manifest["files"]:
        data = (lake / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert verify_manifest(lake) == []


def test_verify_catches_a_modified_file_of_the_same_size(lake: Path) -> None:
    target = lake / "alerts/day=2026-03-02/data_0.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    problems = verify_manifest(lake)
    assert [(p.kind, p.path) for p in problems] == [("modified", "alerts/day=2026-03-02/data_0.parquet")]
    assert "SHA-256" in str(problems[0])


def test_verify_catches_a_truncated_a_removed_and_an_added_file(lake: Path) -> None:
    (lake / "events/day=2026-03-03/data_0.parquet").write_bytes(b"PAR1")
    (lake / "chains/day=2026-03-02/data_0.parquet").unlink()
    (lake / "events/day=2026-03-05").mkdir()
    (lake / "events/day=2026-03-05/data_0.parquet").write_bytes(b"not from the export")
    found = {(p.kind, p.path) for p in verify_manifest(lake)}
    assert found == {
        ("modified", "events/day=2026-03-03/data_0.parquet"),
        ("missing", "chains/day=2026-03-02/data_0.parquet"),
        ("unexpected", "events/day=2026-03-05/data_0.parquet"),
    }


def test_verify_rejects_a_broken_or_hostile_manifest(lake: Path) -> None:
    manifest = json.loads((lake / MANIFEST).read_text())
    manifest["files"][0]["path"] = "../outside.parquet"
    (lake / MANIFEST).write_text(json.dumps(manifest))
    kinds = [(p.kind, p.path) for p in verify_manifest(lake)]
    assert ("manifest", MANIFEST) in kinds  # the traversal entry
    assert any(kind == "unexpected" for kind, _ in kinds)  # the real file it replaced is now unlisted
    (lake / MANIFEST).write_text("{not json")
    (problem,) = verify_manifest(lake)
    assert problem.kind == "manifest" and "JSON" in problem.detail
    (lake / MANIFEST).unlink()
    (problem,) = verify_manifest(lake)
    assert problem.kind == "manifest" and "no manifest" in problem.detail


@pytest.mark.parametrize("source", ["known", "demo"])
def test_views_over_the_lake_equal_the_views_over_the_database(
    source: str, known_db: Path, demo_db: Path, tmp_path: Path
) -> None:
    db = known_db if source == "known" else demo_db
    export_parquet(db, tmp_path / "lake")
    original = duckdb.connect(str(db), read_only=True)
    lake = duckdb.connect(str(tmp_path / "team.duckdb"))
    create_parquet_views(lake, tmp_path / "lake")
    compared = 0
    for view in view_names():
        expected = _results(original, view)
        assert _results(lake, view) == expected, view
        compared += len(expected)
    for table in TABLES:  # the tables too, column for column (the lake adds a `day` column)
        columns = _table_columns(original, table)
        assert _results(lake, table, columns) == _results(original, table, columns), table
    assert compared > (100 if source == "demo" else 40)
    assert _results(lake, "audit_trail", "count(*)") == _results(original, "chains", "count(*)")


def test_a_table_without_rows_keeps_its_columns(tmp_path: Path) -> None:
    from streams.store.database import Store

    with Store(tmp_path / "empty.duckdb") as store:
        stored = store.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'events' ORDER BY ordinal_position"
        )
    export_parquet(tmp_path / "empty.duckdb", tmp_path / "lake")
    assert (tmp_path / "lake/events/data_0.parquet").is_file()  # zero rows, all columns
    con = duckdb.connect()
    create_parquet_views(con, tmp_path / "lake")
    assert con.execute("SELECT count(*) FROM audit_trail").fetchone() == (0,)
    described = con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall()
    assert described == [*stored, ("day", "DATE")]  # the same shape as a table with rows


def test_views_are_not_created_over_a_teams_own_tables(lake: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "team.duckdb"))
    con.execute("CREATE TABLE events (id INTEGER)")
    with pytest.raises(ExportError, match="already has tables named events"):
        create_parquet_views(con, lake)
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone() == (0,)


def test_export_refuses_to_clobber_and_overwrites_only_an_export(known_db: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(ExportError, match="not empty and holds no chainwatch export"):
        export_parquet(known_db, foreign, overwrite=True)
    assert (foreign / "cat.jpg").read_bytes() == b"meow"

    lake = tmp_path / "lake"
    export_parquet(known_db, lake)
    with pytest.raises(ExportError, match="pass --overwrite"):
        export_parquet(known_db, lake)
    (lake / "stray.parquet").write_bytes(b"x")
    export_parquet(known_db, lake, overwrite=True)
    assert not (lake / "stray.parquet").exists()
    assert verify_manifest(lake) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


@pytest.mark.parametrize("name", ["../escaped", "/tmp/absolute", "day=2026-01-01/x"])
def test_a_table_name_cannot_write_outside_the_export(known_db: Path, tmp_path: Path, name: str) -> None:
    import shutil

    db = Path(shutil.copy(known_db, tmp_path / "hostile.duckdb"))
    con = duckdb.connect(str(db))
    quoted = name.replace('"', '""')
    con.execute(f'CREATE TABLE "{quoted}" (seen TIMESTAMPTZ, secret VARCHAR)')
    con.execute(f"INSERT INTO \"{quoted}\" VALUES (TIMESTAMPTZ '2026-03-02 10:00:00+00', 'x')")
    con.close()
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(ExportError, match=r"table .*: its name would not stay a plain directory"):
        export_parquet(db, tmp_path / "out" / "lake")
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/absolute").exists()
    assert {p.name for p in tmp_path.iterdir()} - before <= {"out"}
    assert not (tmp_path / "out" / "lake").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no staging left behind


def test_an_unwritable_target_is_an_export_error_not_a_traceback(known_db: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export's parent folder should be")
    with pytest.raises(ExportError, match=r"--parquet .*lake: the export failed .*export again"):
        export_parquet(known_db, blocker / "lake")
    assert blocker.read_text().startswith("a file")


def test_export_names_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match=r".*nope\.duckdb: no such database"):
        export_parquet(tmp_path / "nope.duckdb", tmp_path / "lake")


def test_cli_export_then_views_into_a_team_database(known_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    lake, team = tmp_path / "lake", tmp_path / "team.duckdb"
    result = runner.invoke(app, ["export", "--parquet", str(lake), "--db", str(known_db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {t["table"]: t["rows"] for t in summary["tables"]}["events"] == 14
    result = runner.invoke(app, ["db", "views", "--parquet", str(lake), "--db", str(team)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(team), read_only=True)
    assert con.execute("SELECT session_id FROM blast_radius_sessions LIMIT 1").fetchone() == ("s2",)
    con.close()

    printed = runner.invoke(app, ["db", "views", "--parquet", str(lake)])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == parquet_views_sql(lake)
    fresh = duckdb.connect()
    fresh.execute(printed.stdout)  # the printed SQL is what a team pastes into its own DuckDB
    assert fresh.execute("SELECT count(*) FROM detector_health").fetchone() == (3,)

    (lake / "verdicts/day=2026-03-02/data_0.parquet").unlink()
    refused = runner.invoke(app, ["db", "views", "--parquet", str(lake), "--db", str(tmp_path / "b.duckdb")])
    assert refused.exit_code == 2
    assert "missing" in refused.output and "--no-verify" in refused.output


def test_export_says_what_to_do_when_a_writer_holds_the_database(known_db: Path, tmp_path: Path) -> None:
    import shutil

    held = Path(shutil.copy(known_db, tmp_path / "held.duckdb"))
    with (
        held_for_writing(held),
        pytest.raises(DatabaseLocked, match=r"being written by another process \(PID \d+: .*python"),
    ):
        export_parquet(held, tmp_path / "lake")
    assert not (tmp_path / "lake").exists()


def test_a_team_database_of_lake_views_is_read_not_rewritten(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streams.simulator.demo import NOTEBOOK_DB_ENV, connect_notebook_db

    team = tmp_path / "team.duckdb"
    con = duckdb.connect(str(team))
    create_parquet_views(con, lake)
    con.close()
    # The notebooks read it as it is (notebooks/README.md): the store's table DDL must not run on it.
    monkeypatch.setenv(NOTEBOOK_DB_ENV, str(team))
    notebook = connect_notebook_db(tmp_path / "unused.duckdb")
    try:
        assert notebook.execute("SELECT count(*) FROM audit_trail").fetchone() == (3,)
    finally:
        notebook.close()
    assert not (tmp_path / "unused.duckdb").exists()
    # `db views --db` is for chainwatch databases: on a lake database it says what to run instead.
    result = CliRunner().invoke(app, ["db", "views", "--db", str(team)])
    assert result.exit_code == 2
    assert "views over a Parquet export" in result.output and "--parquet DIR" in result.output
