"""`chainwatch verify` gaps found by the outside review (issue 15), each on a real DuckDB file.

Before: a duplicate ``chains`` row inserted before the real one passed (only the last row per session was
checked); a row with a NULL ``session_id`` crashed verify with a traceback; emptying every chained table
and the manifest reported "verified" even with a key; alerts, findings and dead letters were not covered.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detectors.engine import Engine
from streams.ingest.replay import replay
from streams.store.integrity import ANCHOR_ENV, KEY_ENV, SEALED_TABLES, manifest_path, verify_db
from tests.test_integrity import KEY, db, engine, longest_session, pristine, sql, verify_cli, workload

__all__ = ["db", "engine", "pristine", "workload"]  # fixtures shared with tests/test_integrity.py


def recreate_without_key_constraint(db: Path, table: str) -> None:
    """What an intruder does before inserting a second row for an id: DuckDB keeps the primary key."""
    sql(db, f"CREATE TABLE forged_copy AS SELECT * FROM {table}")
    sql(db, f"DROP TABLE {table} CASCADE")
    sql(db, f"CREATE TABLE {table} AS SELECT * FROM forged_copy LIMIT 0")


def test_a_duplicate_chain_row_before_the_real_one_is_reported(db: Path) -> None:
    session = longest_session(db)
    recreate_without_key_constraint(db, "chains")
    forged = (
        "INSERT INTO chains SELECT * REPLACE ('forged task' AS task) FROM forged_copy WHERE session_id = ?"
    )
    sql(db, forged, [session])
    sql(db, "INSERT INTO chains SELECT * FROM forged_copy")
    sql(db, "DROP TABLE forged_copy")
    code, output = verify_cli("--db", str(db))
    assert code == 1, output
    assert "inserted" in output and "second chain row" in output and session in output


def test_rows_with_null_keys_are_reported_not_a_crash(db: Path) -> None:
    for table in ("events", "chains"):
        recreate_without_key_constraint(db, table)
        sql(db, f"ALTER TABLE {table} ALTER session_id DROP NOT NULL")
        sql(db, f"INSERT INTO {table} SELECT * FROM forged_copy")
        sql(db, f"INSERT INTO {table} SELECT * REPLACE (NULL AS session_id) FROM forged_copy LIMIT 1")
        sql(db, "DROP TABLE forged_copy")
    code, output = verify_cli("--db", str(db))
    assert code == 1, output
    assert "Traceback" not in output and "NULL session_id" in output


def test_a_mangled_integrity_value_is_a_finding_not_a_crash(db: Path) -> None:
    session = longest_session(db)
    sql(db, "ALTER TABLE integrity_heads ALTER event_seq SET DATA TYPE VARCHAR")
    sql(db, "UPDATE integrity_heads SET event_seq = 'x' WHERE session_id = ?", [session])
    code, output = verify_cli("--db", str(db))
    assert code == 1 and "cannot be read" in output, output


@pytest.mark.parametrize(
    ("table", "change", "kind"),
    [
        (
            "alerts",
            "UPDATE alerts SET title = 'nothing to see' WHERE alert_id = (SELECT min(alert_id) FROM alerts)",
            "modified",
        ),
        ("alerts", "DELETE FROM alerts WHERE alert_id = (SELECT min(alert_id) FROM alerts)", "deleted"),
        (
            "findings",
            "DELETE FROM findings WHERE finding_id = (SELECT min(finding_id) FROM findings)",
            "deleted",
        ),
        (
            "findings",
            "INSERT INTO findings SELECT * REPLACE ('forged' AS finding_id, NULL AS row_hash) "
            "FROM findings LIMIT 1",
            "inserted",
        ),
        ("dead_letters", "DELETE FROM dead_letters", "deleted"),
        ("dead_letters", "UPDATE dead_letters SET reason = 'fine'", "modified"),
    ],
)
def test_alerts_findings_and_dead_letters_are_covered(
    engine: Engine, workload: Path, tmp_path: Path, table: str, change: str, kind: str
) -> None:
    assert set(SEALED_TABLES) == {"alerts", "findings", "dead_letters"}
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"kind": "tool_call", "event_id": "x"}\nnot json\n', encoding="utf-8")
    db = tmp_path / "cw.duckdb"
    replay([str(workload), str(broken)], engine, db_path=db)
    assert sql(db, "SELECT count(*) FROM dead_letters") == [(2,)]
    sql(db, change)
    code, output = verify_cli("--db", str(db))
    assert code == 1, output
    assert any(line.startswith(kind) and table in line for line in output.splitlines()), output


def test_a_recomputed_row_hash_without_the_key_is_caught(
    engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    keyed = tmp_path / "keyed.duckdb"
    replay([str(workload)], engine, db_path=keyed)
    assert verify_db(keyed, KEY.encode()).ok
    sql(keyed, "UPDATE alerts SET title = 'nothing to see', row_hash = sha256(title)")
    kinds = {p.kind for p in verify_db(keyed, KEY.encode()).problems}
    assert "modified" in kinds


def test_a_wiped_trail_fails_against_the_anchor(
    engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "worm" / "cw.anchor.jsonl"
    elsewhere.parent.mkdir()
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv(ANCHOR_ENV, str(elsewhere))
    wiped = tmp_path / "db" / "cw.duckdb"
    replay([str(workload)], engine, db_path=wiped)
    records = [json.loads(line) for line in elsewhere.read_text().splitlines()]
    assert records and records == [json.loads(line) for line in manifest_path(wiped).read_text().splitlines()]
    code, output = verify_cli("--db", str(wiped), env={KEY_ENV: KEY, ANCHOR_ENV: str(elsewhere)})
    assert code == 0, output

    for table in (
        "events",
        "credentials",
        "chains",
        "findings",
        "alerts",
        "dead_letters",
        "integrity_heads",
        "integrity_runs",
        "integrity_tables",
    ):
        sql(wiped, f"DELETE FROM {table}")
    manifest_path(wiped).unlink()
    code, output = verify_cli("--db", str(wiped), env={KEY_ENV: KEY, ANCHOR_ENV: ""})
    assert code == 0 and "no anchor outside the database" in output  # documented: only the anchor sees it
    code, output = verify_cli("--db", str(wiped), "--anchor", str(elsewhere), env={KEY_ENV: KEY})
    assert code == 1, output
    assert "deleted" in output and "not in the database" in output
    missing = tmp_path / "nowhere.jsonl"
    code, output = verify_cli("--db", str(wiped), "--anchor", str(missing), env={KEY_ENV: KEY})
    assert code == 1 and "anchor file is missing" in output


def test_a_mangled_run_record_is_a_finding_not_a_crash(db: Path) -> None:
    recreate_without_key_constraint(db, "integrity_runs")
    sql(db, "ALTER TABLE integrity_runs ALTER run_seq SET DATA TYPE VARCHAR")
    sql(db, "INSERT INTO integrity_runs SELECT * REPLACE ('one' AS run_seq) FROM forged_copy")
    sql(db, "DROP TABLE forged_copy")
    code, output = verify_cli("--db", str(db))
    assert code == 1 and "cannot be read" in output and "Traceback" not in output, output
