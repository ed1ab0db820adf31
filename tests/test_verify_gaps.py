"""`chainwatch verify` gaps found by the outside review (issue 15), each on a real DuckDB file.

Before: a duplicate ``chains`` row inserted before the real one passed (only the last row per session was
checked) and `chainwatch show` displayed its forged task; a row with a NULL ``session_id`` crashed verify
with a traceback; emptying every chained table and the manifest reported "verified" even with a key;
alerts, findings, dead letters and analysts' verdicts were not covered.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from detectors.engine import Engine
from streams.cli.main import app
from streams.ingest.replay import replay
from streams.store.integrity import (
    ANCHOR_ENV,
    KEY_ENV,
    SEALED_TABLES,
    Hasher,
    canonical,
    manifest_path,
    verify_db,
)
from tests.cli_support import run_chainwatch
from tests.test_integrity import KEY, db, engine, longest_session, pristine, sql, verify_cli, workload

__all__ = ["db", "engine", "pristine", "workload"]  # fixtures shared with tests/test_integrity.py


def recreate_without_key_constraint(db: Path, table: str) -> None:
    """What an intruder does before inserting a second row for an id: DuckDB keeps the primary key."""
    sql(db, f"CREATE TABLE forged_copy AS SELECT * FROM {table}")
    sql(db, f"DROP TABLE {table} CASCADE")
    sql(db, f"CREATE TABLE {table} AS SELECT * FROM forged_copy LIMIT 0")


def keyed_db(engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workload replayed with the integrity key, which stays set for the test."""
    monkeypatch.setenv(KEY_ENV, KEY)
    keyed = tmp_path / "keyed.duckdb"
    replay([str(workload)], engine, db_path=keyed)
    return keyed


def forge_chain_row_before_the_real_one(db: Path, session: str) -> None:
    """A copy of the session's chains row, hash and all, with a forged task, stored before the real one."""
    recreate_without_key_constraint(db, "chains")
    forged = (
        "INSERT INTO chains SELECT * REPLACE ('forged task' AS task) FROM forged_copy WHERE session_id = ?"
    )
    sql(db, forged, [session])
    sql(db, "INSERT INTO chains SELECT * FROM forged_copy")
    sql(db, "DROP TABLE forged_copy")


def test_a_duplicate_chain_row_before_the_real_one_is_reported(db: Path) -> None:
    session = longest_session(db)
    forge_chain_row_before_the_real_one(db, session)
    code, output = verify_cli("--db", str(db))
    assert code == 1, output
    assert "inserted" in output and "second chain row" in output and session in output


def alerted_session(db: Path) -> tuple[str, str, str]:
    """(alert id, session id, stored task) of an alert whose session has a chain summary with a task."""
    alert_id, session, task = sql(
        db,
        "SELECT a.alert_id, a.session_id, c.task FROM alerts a JOIN chains c USING (session_id) "
        "WHERE c.task IS NOT NULL ORDER BY a.alert_id LIMIT 1",
    )[0]
    return str(alert_id), str(session), str(task)


def show(db: Path, alert_id: str, *json_flag: str) -> str:
    result = CliRunner().invoke(app, ["show", alert_id, "--db", str(db), *json_flag])
    assert result.exit_code == 0, result.output
    return result.output


def test_show_is_not_fooled_by_a_duplicate_chain_row_before_the_real_one(db: Path) -> None:
    """Before: `show` displayed whichever chains row DuckDB returned first, the forged task."""
    alert_id, session, task = alerted_session(db)
    assert json.loads(show(db, alert_id, "--json"))["integrity_warning"] is None
    forge_chain_row_before_the_real_one(db, session)
    view = json.loads(show(db, alert_id, "--json"))
    assert view["task"] == task, view["task"]
    assert "2 chain summaries" in view["integrity_warning"] and "vouches for" in view["integrity_warning"]
    page = " ".join(show(db, alert_id).split())
    assert "INTEGRITY" in page and "forged task" not in page and "chainwatch verify" in page, page


def test_show_flags_a_chain_summary_edited_in_place(db: Path) -> None:
    """The only row there is, shown for what it is: its content no longer hashes to what the trail named."""
    alert_id, session, _task = alerted_session(db)
    sql(db, "UPDATE chains SET task = 'forged task' WHERE session_id = ?", [session])
    view = json.loads(show(db, alert_id, "--json"))
    assert view["task"] == "forged task"
    assert "not the one the audit trail recorded" in (view["integrity_warning"] or ""), view


def test_show_without_the_trail_key_shows_none_of_two_rows_it_cannot_tell_apart(
    engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyed trail read by an analyst without the key: both rows carry the hash the head names (the
    forger copied it), only the key could tell which content is real, so neither task is shown."""
    keyed = keyed_db(engine, workload, tmp_path, monkeypatch)
    alert_id, session, _task = alerted_session(keyed)
    forge_chain_row_before_the_real_one(keyed, session)
    assert json.loads(show(keyed, alert_id, "--json"))["task"] != "forged task"  # with the key: the real one
    monkeypatch.delenv(KEY_ENV)
    view = json.loads(show(keyed, alert_id, "--json"))
    assert view["task"] != "forged task" and view["blast_radius"] == {}, view
    assert "cannot be told apart without the trail's integrity key" in (view["integrity_warning"] or "")


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
    assert set(SEALED_TABLES) == {"alerts", "findings", "dead_letters", "verdicts"}
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
    keyed = keyed_db(engine, workload, tmp_path, monkeypatch)
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


# --------------------------------------------------------------------------- analysts' verdicts


def triage(db: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["triage", *args, "--db", str(db)], env=env)


def two_verdicts(db: Path, env: dict[str, str] | None = None) -> list[str]:
    alert_ids = [str(r[0]) for r in sql(db, "SELECT alert_id FROM alerts ORDER BY alert_id LIMIT 2")]
    for alert_id, status in zip(alert_ids, ("true-positive", "benign"), strict=True):
        done = triage(db, alert_id, "--status", status, "--analyst", "ana", env=env)
        assert done.exit_code == 0, done.output
    return alert_ids


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ("UPDATE verdicts SET status = 'benign' WHERE status = 'true-positive'", "modified"),
        ("UPDATE verdicts SET analyst = 'bo'", "modified"),
        ("DELETE FROM verdicts WHERE status = 'true-positive'", "deleted"),
        (
            "INSERT INTO verdicts SELECT * REPLACE ('forged' AS verdict_id, 'benign' AS status, "
            "NULL AS row_hash, now() AS recorded_at) FROM verdicts LIMIT 1",
            "inserted",
        ),
    ],
)
def test_a_verdict_edited_deleted_or_inserted_is_reported(db: Path, change: str, kind: str) -> None:
    two_verdicts(db)
    code, output = verify_cli("--db", str(db))
    assert code == 0, output  # the verdicts' own transactions anchored them
    sql(db, change)
    code, output = verify_cli("--db", str(db))
    assert code == 1, output
    assert any(line.startswith(kind) and "verdicts" in line for line in output.splitlines()), output


def test_a_keyed_trail_needs_the_key_to_record_a_verdict_and_seals_it_with_the_key(
    engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyed = keyed_db(engine, workload, tmp_path, monkeypatch)
    monkeypatch.delenv(KEY_ENV)
    (alert_id,) = sql(keyed, "SELECT min(alert_id) FROM alerts")[0]
    for env in ({}, {KEY_ENV: "another-key-of-16-chars-or-more"}):  # no key, and a wrong one
        refused = triage(keyed, str(alert_id), "--status", "benign", env=env)
        assert refused.exit_code == 2, refused.output
        said = " ".join(refused.output.split())
        assert "nothing was recorded" in said and KEY_ENV in said and "Traceback" not in said, said
    assert sql(keyed, "SELECT count(*) FROM verdicts") == [(0,)]
    # The triage page checks the key when it starts, not at its first verdict (it would serve forever).
    page = run_chainwatch(["ui", "--db", str(keyed), "--port", "0", "--insecure-local"], cwd=tmp_path)
    assert page.returncode == 2 and KEY_ENV in " ".join(page.stderr.split()), page.stderr
    two_verdicts(keyed, env={KEY_ENV: KEY})
    assert verify_db(keyed, KEY.encode()).ok
    # An intruder changes a verdict and recomputes its hash and the table's sum the only way they can:
    # without the key. The row and the sum record both fail with the key.
    sql(keyed, "UPDATE verdicts SET status = 'benign', note = 'nothing to see'")
    rows = sql(keyed, "SELECT * FROM verdicts")
    names = [r[0] for r in sql(keyed, "SELECT column_name FROM (DESCRIBE verdicts)")]
    unkeyed, total = Hasher(None), 0
    for values in rows:
        row = dict(zip(names, values, strict=True))
        forged = unkeyed.sealed_row_hash("verdicts", canonical(row, names))
        sql(keyed, "UPDATE verdicts SET row_hash = ? WHERE verdict_id = ?", [forged, row["verdict_id"]])
        total += int(forged, 16)
    digest = f"{total % (1 << 256):064x}"
    sql(
        keyed,
        "UPDATE integrity_tables SET digest = ?, table_hash = ? WHERE table_name = 'verdicts'",
        [digest, unkeyed.table_hash("verdicts", len(rows), digest)],
    )
    problems = [str(p) for p in verify_db(keyed, KEY.encode()).problems]
    assert any(p.startswith("modified") and "verdicts" in p for p in problems), problems


def test_verdicts_of_a_file_from_before_keep_verifying_and_are_sealed_by_the_next_writer(
    engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written before verdicts were sealed: no verdict_id or row_hash column, no digest record."""
    old = tmp_path / "old.duckdb"
    with monkeypatch.context() as before:
        before.delitem(SEALED_TABLES, "verdicts")
        replay([str(workload)], engine, db_path=old)
    sql(old, "ALTER TABLE verdicts DROP COLUMN row_hash")
    sql(old, "ALTER TABLE verdicts DROP COLUMN verdict_id")
    sql(
        old,
        "INSERT INTO verdicts SELECT alert_id, 'benign', 'old note', 'ana', now() FROM alerts "
        "ORDER BY alert_id LIMIT 2",
    )
    assert sql(old, "SELECT table_name FROM integrity_tables WHERE table_name = 'verdicts'") == []
    code, output = verify_cli("--db", str(old))
    assert code == 0, output
    # The next writer — here an analyst's verdict — seals the old rows first, then appends its own.
    (alert_id,) = sql(old, "SELECT max(alert_id) FROM alerts")[0]
    done = triage(old, str(alert_id), "--status", "true-positive")
    assert done.exit_code == 0, done.output
    assert sql(old, "SELECT count(*) FROM verdicts WHERE verdict_id IS NULL OR row_hash IS NULL") == [(0,)]
    assert sql(old, "SELECT row_count FROM integrity_tables WHERE table_name = 'verdicts'") == [(3,)]
    code, output = verify_cli("--db", str(old))
    assert code == 0, output
    sql(old, "UPDATE verdicts SET note = 'rewritten' WHERE note = 'old note'")
    code, output = verify_cli("--db", str(old))
    assert code == 1 and "verdicts" in output, output
