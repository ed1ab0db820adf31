"""The tamper-evident audit trail (streams/store/integrity.py) and `chainwatch verify`, on real DuckDB files.

A database is written the way `chainwatch run` writes it (the replay over a simulated workload), then
changed behind chainwatch's back with plain SQL, the way an intruder with the file would; `chainwatch
verify` must name each change and exit 1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from detectors.engine import Engine
from detectors.registry import load_catalog
from schemas.types import Severity
from streams.cli.main import app
from streams.ingest.replay import replay
from streams.simulator.workload import simulate_events, write_jsonl
from streams.store.database import Batch, Store
from streams.store.integrity import (
    INTEGRITY_COLUMNS,
    KEY_ENV,
    RUN_FIELDS,
    Hasher,
    IntegrityKeyError,
    _canonical_by_value,
    _plain,
    canonical,
    heads_digest,
    manifest_path,
    verify_db,
)

KEY = "an-integrity-key-for-tests-0123456789"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_catalog().detectors)


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("integrity") / "workload.jsonl"
    write_jsonl(simulate_events(seed=11, sessions=12, attack_ratio=0.25), path)
    return path


@pytest.fixture(scope="module")
def pristine(engine: Engine, workload: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pristine") / "cw.duckdb"
    replay([str(workload)], engine, db_path=db)
    return db


@pytest.fixture
def db(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the pristine database and its manifest file."""
    copy = tmp_path / "cw.duckdb"
    shutil.copy(pristine, copy)
    shutil.copy(manifest_path(pristine), manifest_path(copy))
    return copy


def verify_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args], env=env)
    return result.exit_code, result.output


def sql(db: Path, statement: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db)) as con:
        cursor = con.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


def longest_session(db: Path) -> str:
    return str(
        sql(
            db, "SELECT session_id FROM events GROUP BY session_id ORDER BY count(*) DESC, session_id LIMIT 1"
        )[0][0]
    )


def event_at(db: Path, session: str, seq: int) -> str:
    return str(
        sql(db, "SELECT event_id FROM events WHERE session_id = ? AND integrity_seq = ?", [session, seq])[0][
            0
        ]
    )


def kinds(db: Path, key: bytes | None = None) -> set[tuple[str, str]]:
    return {(p.kind, p.where) for p in verify_db(db, key).problems}


# --------------------------------------------------------------------------- what is written


def test_written_database_verifies_clean_and_every_row_is_chained(db: Path) -> None:
    code, out = verify_cli("--db", str(db))
    assert code == 0, out
    assert "integrity verified" in out
    assert sql(db, "SELECT count(*) FROM events WHERE row_hash IS NULL OR prev_hash IS NULL")[0][0] == 0
    assert sql(db, "SELECT count(*) FROM chains WHERE row_hash IS NULL")[0][0] == 0
    # per session, positions are 1..n across events and credentials, each linking to the one before
    rows = sql(
        db,
        "SELECT session_id, integrity_seq, prev_hash, row_hash FROM events UNION ALL "
        "SELECT session_id, integrity_seq, prev_hash, row_hash FROM credentials ORDER BY 1, 2",
    )
    by_session: dict[str, list[tuple[object, ...]]] = {}
    for row in rows:
        by_session.setdefault(str(row[0]), []).append(row)
    for session, chain in by_session.items():
        assert [r[1] for r in chain] == list(range(1, len(chain) + 1)), session
        assert chain[0][2] == Hasher().genesis(session)
        assert all(chain[i][2] == chain[i - 1][3] for i in range(1, len(chain)))
    runs = sql(db, "SELECT run_seq, sessions FROM integrity_runs")
    assert runs and runs[-1][1] == len(sql(db, "SELECT session_id FROM integrity_heads"))
    assert manifest_path(db).read_text().count("\n") == len(runs)


def test_redelivery_keeps_the_chain_and_cannot_rewrite_a_stored_event(
    engine: Engine, workload: Path, db: Path
) -> None:
    before = sql(db, "SELECT event_id, row_hash, target FROM events ORDER BY event_id")
    replay([str(workload)], engine, db_path=db)  # the same input again: every event id is already stored
    with Store(db) as store:  # a redelivered event whose content was changed on the way
        from streams.store.database import event_from_row

        cursor = store.con.execute("SELECT * FROM events WHERE kind = 'tool_call' LIMIT 1")
        names = [d[0] for d in cursor.description]
        row = dict(zip(names, cursor.fetchone() or (), strict=True))
        for column in ("integrity_seq", "prev_hash", "row_hash"):
            row.pop(column)
        forged = event_from_row("event", row).model_copy(update={"target": "arn:aws:s3:::innocent"})
        store.write(Batch(events=[forged]))
        assert store._integrity is not None and store._integrity.skipped_redeliveries == 1
    assert sql(db, "SELECT event_id, row_hash, target FROM events ORDER BY event_id") == before
    code, out = verify_cli("--db", str(db))
    assert code == 0, out
    assert sql(db, "SELECT count(*) FROM integrity_runs")[0][0] >= 2  # every writing run is anchored


def test_canonical_form_is_the_same_for_written_and_read_back_rows(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute("SELECT * FROM chains LIMIT 1")
        names = [d[0] for d in cursor.description]
        row = dict(zip(names, cursor.fetchone() or (), strict=True))
    first = canonical(row, names)
    assert b"row_hash" not in first and b"integrity_seq" not in first
    assert canonical(dict(reversed(list(row.items()))), names) == first


# --------------------------------------------------------------------------- tampering


TAMPERINGS: dict[str, tuple[Callable[[Path], None], str]] = {}


def tampering(name: str, expected_kind: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(change: Callable[[Path], None]) -> Callable[[Path], None]:
        TAMPERINGS[name] = (change, expected_kind)
        return change

    return register


@tampering("an argument edited", "modified")
def _edit(db: Path) -> None:
    s = longest_session(db)
    sql(
        db,
        "UPDATE events SET target = 'arn:aws:s3:::nothing-to-see' WHERE event_id = ?",
        [event_at(db, s, 3)],
    )


@tampering("a row in the middle deleted", "deleted")
def _delete_middle(db: Path) -> None:
    s = longest_session(db)
    sql(db, "DELETE FROM events WHERE event_id = ?", [event_at(db, s, 2)])


@tampering("the last row of a session deleted", "deleted")
def _delete_tail(db: Path) -> None:
    s = longest_session(db)
    sql(
        db,
        "DELETE FROM events WHERE session_id = ? AND integrity_seq = "
        "(SELECT max(integrity_seq) FROM events WHERE session_id = ?)",
        [s, s],
    )
    sql(
        db,
        "DELETE FROM credentials WHERE session_id = ? AND integrity_seq > "
        "(SELECT max(integrity_seq) FROM events WHERE session_id = ?)",
        [s, s],
    )


@tampering("a whole session deleted", "deleted")
def _delete_session(db: Path) -> None:
    s = longest_session(db)
    for table in ("events", "credentials", "chains"):
        sql(db, f"DELETE FROM {table} WHERE session_id = ?", [s])


@tampering("a forged row inserted without hashes", "inserted")
def _insert_plain(db: Path) -> None:
    s = longest_session(db)
    sql(
        db,
        "INSERT INTO events SELECT * REPLACE ('forged-1' AS event_id, NULL AS row_hash, NULL AS prev_hash, "
        "NULL AS integrity_seq) FROM events WHERE event_id = ?",
        [event_at(db, s, 1)],
    )


@tampering("a row copied into a second position", "inserted")
def _insert_copy(db: Path) -> None:
    s = longest_session(db)
    sql(
        db,
        "INSERT INTO events SELECT * REPLACE ('copied-1' AS event_id) FROM events WHERE event_id = ?",
        [event_at(db, s, 2)],
    )


@tampering("two rows swapped", "reordered")
def _swap(db: Path) -> None:
    s = longest_session(db)
    a, b = event_at(db, s, 2), event_at(db, s, 4)
    sql(db, "UPDATE events SET integrity_seq = -1 WHERE event_id = ?", [a])
    sql(db, "UPDATE events SET integrity_seq = 2 WHERE event_id = ?", [b])
    sql(db, "UPDATE events SET integrity_seq = 4 WHERE event_id = ?", [a])


@tampering("a chain summary edited", "modified")
def _edit_chain(db: Path) -> None:
    sql(
        db,
        "UPDATE chains SET max_risk = max_risk + 1, event_count = event_count - 1 WHERE session_id = ?",
        [longest_session(db)],
    )


@tampering("the hash columns dropped", "deleted")
def _drop_hash_columns(db: Path) -> None:
    sql(db, "ALTER TABLE credentials DROP COLUMN row_hash")


@tampering("the anchor runs deleted", "deleted")
def _delete_runs(db: Path) -> None:
    sql(db, "DELETE FROM integrity_runs")


@tampering("a head rewritten to hide a deleted tail", "modified")
def _rewrite_head(db: Path) -> None:
    s = longest_session(db)
    sql(db, "UPDATE integrity_heads SET event_seq = event_seq - 1 WHERE session_id = ?", [s])


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_verify_reports_each_tampering_and_exits_1(db: Path, name: str) -> None:
    change, expected_kind = TAMPERINGS[name]
    change(db)
    problems = verify_db(db).problems
    assert expected_kind in {p.kind for p in problems}, [str(p) for p in problems]
    code, out = verify_cli("--db", str(db))
    assert code == 1
    assert expected_kind in out and "problem(s) found" in out


def test_adjacent_rows_swapped_are_named_with_their_positions(db: Path) -> None:
    s = longest_session(db)
    a, b = event_at(db, s, 2), event_at(db, s, 3)
    sql(db, "UPDATE events SET integrity_seq = -1 WHERE event_id = ?", [a])
    sql(db, "UPDATE events SET integrity_seq = 2 WHERE event_id = ?", [b])
    sql(db, "UPDATE events SET integrity_seq = 3 WHERE event_id = ?", [a])
    details = {p.detail for p in verify_db(db).problems if p.kind == "reordered" and s in p.where}
    assert "stored at position 2, written at position 3" in details, details
    assert "stored at position 3, written at position 2" in details, details


def test_a_session_deleted_with_its_head_is_caught_by_the_anchor_and_the_manifest(db: Path) -> None:
    """The careful intruder removes the session's rows and its head record; without a key they can also
    recompute the heads digest and the last run record, which only the manifest copy then contradicts."""
    s = longest_session(db)
    for table in ("events", "credentials", "chains", "integrity_heads"):
        sql(db, f"DELETE FROM {table} WHERE session_id = ?", [s])
    problems = verify_db(db).problems
    assert any(p.kind == "anchor" and "changed after the last anchor" in p.detail for p in problems), problems
    # now rewrite the newest anchor to match (possible without a key) ...
    with duckdb.connect(str(db)) as con:
        sessions, digest = heads_digest(con, Hasher())
        cursor = con.execute(f"SELECT {', '.join(RUN_FIELDS)} FROM integrity_runs ORDER BY run_seq DESC")
        run = dict(zip(RUN_FIELDS, cursor.fetchone() or (), strict=True))
        run.update(sessions=sessions, heads_digest=digest, anchored_at=_plain(run["anchored_at"]))
        run["run_hash"] = Hasher().run_hash(run)
        con.execute(
            "UPDATE integrity_runs SET sessions = ?, heads_digest = ?, run_hash = ? WHERE run_seq = ?",
            [sessions, digest, run["run_hash"], run["run_seq"]],
        )
    problems = verify_db(db).problems
    assert not any("changed after the last anchor" in p.detail for p in problems), problems
    # ... and the manifest file beside (or away from) the database still names the rewritten run
    assert any(
        p.kind == "modified" and p.where == f"integrity_runs run_seq={run['run_seq']}" for p in problems
    ), problems


def test_a_column_added_later_keeps_old_rows_verifying_and_its_values_are_covered(db: Path) -> None:
    sql(db, "ALTER TABLE events ADD COLUMN reviewed_by VARCHAR")
    assert verify_db(db).ok, [str(p) for p in verify_db(db).problems]
    s = longest_session(db)
    event_id = event_at(db, s, 1)
    sql(db, "UPDATE events SET reviewed_by = 'mallory' WHERE event_id = ?", [event_id])
    assert ("modified", f"events event_id={event_id!r} session={s!r}") in kinds(db)


def test_a_value_set_to_null_is_a_modification(db: Path) -> None:
    event_id, session = sql(
        db, "SELECT event_id, session_id FROM events WHERE target IS NOT NULL ORDER BY event_id LIMIT 1"
    )[0]
    s = str(session)
    sql(db, "UPDATE events SET target = NULL WHERE event_id = ?", [event_id])
    assert ("modified", f"events event_id={event_id!r} session={s!r}") in kinds(db)


def test_the_one_call_encoding_spells_every_stored_row_as_the_value_by_value_path(db: Path) -> None:
    """canonical() writes a row with one orjson call; the hashes of rows written before must still verify, so
    its bytes are those of the value-by-value spelling for every row of every table, and for the values
    orjson would spell otherwise (non-finite floats, datetimes in other zones or inside a mapping)."""
    checked = 0
    with duckdb.connect(str(db), read_only=True) as con:
        for table in ("events", "credentials", "chains", "findings", "alerts", "dead_letters"):
            cursor = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                content = {n: v for n in names if (v := row[n]) is not None and n not in INTEGRITY_COLUMNS}
                assert canonical(row, names) == _canonical_by_value(content)
                checked += 1
    assert checked > 500
    two_hours = timezone(timedelta(hours=2))
    for row in (
        {"x": float("nan"), "y": [1.0, float("inf")]},
        {"x": datetime(2024, 1, 1, 12, tzinfo=two_hours), "y": datetime(2024, 1, 1), "z": date(2024, 1, 1)},
        {"x": {"when": datetime(2024, 1, 1, tzinfo=UTC)}, "y": (Severity.HIGH, "a")},
        {"x": "null", "y": [None, 1], "z": time(12, 30)},
    ):
        assert canonical(row, list(row)) == _canonical_by_value(
            {k: v for k, v in row.items() if v is not None}
        )


def test_non_finite_numbers_keep_distinct_canonical_forms() -> None:
    forms = {canonical({"x": v}, ["x"]) for v in (float("nan"), float("inf"), float("-inf"), 0.0)}
    assert len(forms) == 4 and canonical({"x": None}, ["x"]) == b"{}"


def test_hash_inputs_are_unambiguous_for_any_session_id() -> None:
    """Session ids come from agents' input: no choice of them may make two different inputs hash equal
    (with a plain separator, the two row hashes below were computed over the same bytes)."""
    h = Hasher()
    assert h.digest("a\x00b") != h.digest("a", "b")
    assert h.row_hash("events", "s\x001", 2, "p", b"{}") != h.row_hash("events", "s", 1, "2\x00p", b"{}")
    with duckdb.connect() as con:
        con.execute("CREATE TABLE integrity_heads (session_id VARCHAR, head_hash VARCHAR)")
        con.execute("INSERT INTO integrity_heads VALUES ('x', 'h1'), ('y', 'h2')")
        two = heads_digest(con, h)
        con.execute("DELETE FROM integrity_heads")
        # as parameters: DuckDB 1.5's parser takes no NUL inside a literal of the query text
        con.executemany("INSERT INTO integrity_heads VALUES (?, ?)", [["x\x00h1\ny", "h2"], ["~", "h3"]])
        assert heads_digest(con, h)[0] == two[0] and heads_digest(con, h) != two


def test_the_key_never_appears_in_a_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert KEY not in repr(Hasher(KEY.encode()))
    monkeypatch.setenv(KEY_ENV, KEY)
    with Store(tmp_path / "keyed.duckdb") as store:
        assert store._integrity is not None and store._integrity.hasher.key == KEY.encode()
        assert KEY not in repr(store._integrity)


def test_verify_of_a_file_that_is_not_a_database_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "not.duckdb"
    bogus.write_bytes(b"this is not a DuckDB file" * 100)
    code, out = verify_cli("--db", str(bogus))
    assert code == 2 and "cannot be checked" in out and str(bogus) in out, out


def test_swapped_rows_are_named_with_their_positions(db: Path) -> None:
    _swap(db)
    s = longest_session(db)
    reordered = [p for p in verify_db(db).problems if p.kind == "reordered"]
    assert any("position 2, written at position 4" in p.detail and s in p.where for p in reordered), reordered


def test_rolled_back_database_is_caught_by_the_manifest_file(
    engine: Engine, workload: Path, db: Path
) -> None:
    old = db.with_name("old.duckdb")
    shutil.copy(db, old)
    replay([str(workload)], engine, db_path=db)  # another run: one more anchor in the table and the file
    shutil.copy(old, db)  # the database is put back to its earlier state; the manifest file is not
    problems = verify_db(db).problems
    assert any(p.kind == "deleted" and "integrity_runs" in p.where for p in problems), problems


def test_unanchored_writes_are_reported(db: Path) -> None:
    with Store(db) as store:  # a writer killed before it closed: its last writes were never anchored
        assert store._integrity is not None
        store._integrity.anchor_every_seconds = 10**9
        store.write(Batch(events=simulate_events(seed=99, sessions=1)))
        store._integrity = None  # no anchor at close, as after a SIGKILL
    problems = verify_db(db).problems
    assert {p.kind for p in problems} == {"anchor"}, [str(p) for p in problems]  # the rows themselves verify
    # The next writer's anchor does not bless what it found: its run record says so, for good.
    with Store(db) as store:
        store.write(Batch(events=simulate_events(seed=98, sessions=1)))
    problems = verify_db(db).problems
    assert [p.kind for p in problems] == ["anchor"], [str(p) for p in problems]
    assert "started on session heads that differed" in problems[0].detail


def test_periodic_anchors_of_a_long_running_writer(engine: Engine, workload: Path, tmp_path: Path) -> None:
    db = tmp_path / "long.duckdb"
    events = simulate_events(seed=5, sessions=3, attack_ratio=0.0)
    with Store(db) as store:
        assert store._integrity is not None
        store._integrity.anchor_every_seconds = 0.0  # the loader anchors every 60 s; here every write
        for event in events[:3]:
            store.write(Batch(events=[event]))
        assert sql_count(store, "integrity_runs") == 3
    assert verify_db(db).ok


def sql_count(store: Store, table: str) -> int:
    return int(store.query(f"SELECT count(*) FROM {table}")[0][0])


# --------------------------------------------------------------------------- the HMAC key


def test_keyed_trail_resists_recomputation_without_the_key(
    engine: Engine, workload: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "keyed.duckdb"
    monkeypatch.setenv(KEY_ENV, KEY)
    replay([str(workload)], engine, db_path=db)
    monkeypatch.delenv(KEY_ENV)
    assert verify_db(db, KEY.encode()).ok
    # An intruder edits a row and recomputes its hash the only way they can: without the key.
    s = longest_session(db)
    event_id = event_at(db, s, 1)
    sql(db, "UPDATE events SET target = 'arn:aws:s3:::nothing-to-see' WHERE event_id = ?", [event_id])
    with duckdb.connect(str(db)) as con:
        cursor = con.execute("SELECT * FROM events WHERE event_id = ?", [event_id])
        names = [d[0] for d in cursor.description]
        row = dict(zip(names, cursor.fetchone() or (), strict=True))
    unkeyed = Hasher(None)
    forged = unkeyed.row_hash("events", s, 1, row["prev_hash"], canonical(row, names))
    sql(db, "UPDATE events SET row_hash = ? WHERE event_id = ?", [forged, event_id])
    assert ("modified", f"events event_id={event_id!r} session={s!r}") in kinds(db, KEY.encode())
    # verifying without the key is refused with the setting to fix, not silently "fine"
    code, out = verify_cli("--db", str(db))
    assert code == 1 and KEY_ENV in out
    code, out = verify_cli("--db", str(db), env={KEY_ENV: KEY})
    assert code == 1 and "modified" in out


def test_a_writer_with_another_key_is_refused_before_it_mixes_the_trail(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file was written without a key: a writer that now has one (or another one) must not chain on,
    or no single key could verify the trail; nothing is written."""
    before = sql(db, "SELECT count(*) FROM integrity_runs")
    monkeypatch.setenv(KEY_ENV, KEY)
    with pytest.raises(IntegrityKeyError, match=f"{KEY_ENV}.*start a new database file"):
        Store(db)
    assert sql(db, "SELECT count(*) FROM integrity_runs") == before
    monkeypatch.delenv(KEY_ENV)
    assert verify_db(db).ok


def test_a_verdict_is_sealed_with_the_trail_key_and_refused_with_another(db: Path) -> None:
    """Verdicts are sealed in the trail: an analyst whose shell has another key than the trail's (here it
    has none) is refused before anything is written; with the trail's key (none) the verdict is recorded,
    anchored, and the trail verifies. A triage-only store still refuses to write trail rows."""
    (alert_id,) = sql(db, "SELECT alert_id FROM alerts ORDER BY alert_id LIMIT 1")[0]
    runs = sql(db, "SELECT count(*) FROM integrity_runs")[0][0]
    args = ["triage", str(alert_id), "--status", "benign", "--note", "known job", "--db", str(db)]
    refused = CliRunner().invoke(app, args, env={KEY_ENV: KEY})
    assert refused.exit_code == 2 and KEY_ENV in " ".join(refused.output.split()), refused.output
    assert sql(db, "SELECT count(*) FROM verdicts") == [(0,)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sql(db, "SELECT status FROM verdicts") == [("benign",)]
    assert sql(db, "SELECT count(*) FROM integrity_runs")[0][0] == runs + 1  # the verdict's own anchor
    assert verify_db(db).ok
    with Store(db, audit_trail=False) as triage_only, pytest.raises(ValueError, match="triage only"):
        triage_only.write(Batch(dead_letters=[]))


def test_verify_json_output_lists_the_problems(db: Path) -> None:
    _edit(db)
    code, out = verify_cli("--db", str(db), "--json")
    assert code == 1
    result = json.loads(out)
    assert result["ok"] is False and result["db"]["sessions"] > 0
    assert any(p["kind"] == "modified" for p in result["problems"])


def test_a_short_key_is_refused_with_its_setting(db: Path) -> None:
    code, out = verify_cli("--db", str(db), env={KEY_ENV: "short"})
    assert code == 2
    assert KEY_ENV in out and "16 characters" in out


def test_a_bad_key_setting_stops_the_writer_with_its_setting_not_a_traceback(
    workload: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["run", str(workload), "--db", str(tmp_path / "w.duckdb")], env={KEY_ENV: "short"}
    )
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert KEY_ENV in said and "16 characters" in said, said
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# --------------------------------------------------------------------------- the Parquet export manifest


def test_parquet_export_checks(db: Path, tmp_path: Path) -> None:
    """The real export of a database, then its files changed: `verify --parquet` names each change."""
    from streams.store.export import export_parquet

    out = tmp_path / "export"
    export_parquet(db, out)
    code, text = verify_cli("--parquet", str(out))
    assert code == 0, text
    files = sorted(p for p in out.rglob("*.parquet"))
    assert len(files) >= 3
    edited, removed = files[0], files[1]
    edited.write_bytes(edited.read_bytes()[:-8] + b"\x00" * 8)
    removed.unlink()
    smuggled = files[2].with_name("smuggled.parquet")
    smuggled.write_bytes(b"PAR1 not from chainwatch PAR1")
    code, text = verify_cli("--parquet", str(out))
    assert code == 1
    for path, kind in ((edited, "modified"), (removed, "deleted"), (smuggled, "inserted")):
        rel = path.relative_to(out).as_posix()
        assert any(rel in line and line.startswith(kind) for line in text.splitlines()), (rel, kind, text)
