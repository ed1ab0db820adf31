"""The embedded path end to end: files in, DuckDB out; idempotent; bad input kept; no secret stored."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from typer.testing import CliRunner

from detectors.engine import Engine
from detectors.registry import load_catalog
from streams.cli.main import app
from streams.ingest.replay import replay
from streams.simulator.workload import simulate_events, write_jsonl

SECRETS = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "sk-proj-Zq8xP2mN7vR4tY6uW1sA3dF5gH9jK0lB",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXZhbHVl",
    "hunter2-Sup3r-Secret!",
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_catalog().detectors)


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "workload.jsonl"
    write_jsonl(simulate_events(seed=3, sessions=40, attack_ratio=0.2), path)
    return path


def table_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_replay_writes_every_table(engine: Engine, workload: Path, tmp_path: Path) -> None:
    db = tmp_path / "cw.duckdb"
    report = replay([str(workload)], engine, db_path=db)
    lines = workload.read_text().splitlines()
    (events,) = table_rows(db, "SELECT count(*) FROM events")[0]
    (credentials,) = table_rows(db, "SELECT count(*) FROM credentials")[0]
    assert events + credentials == len(lines) == report.events
    assert table_rows(db, "SELECT count(*) FROM chains")[0][0] == report.sessions == 40
    assert table_rows(db, "SELECT count(*) FROM alerts")[0][0] == len(report.alerts) > 0
    assert table_rows(db, "SELECT count(*) FROM findings")[0][0] == report.findings
    # every alert's evidence points at stored events
    missing = table_rows(
        db,
        """
        SELECT count(*) FROM (SELECT unnest(event_ids) AS id FROM alerts) a
        WHERE id NOT IN (SELECT event_id FROM events UNION ALL SELECT event_id FROM credentials)""",
    )
    assert missing[0][0] == 0


def test_replaying_the_same_input_twice_leaves_the_same_rows(
    engine: Engine, workload: Path, tmp_path: Path
) -> None:
    db = tmp_path / "cw.duckdb"
    replay([str(workload)], engine, db_path=db)
    snapshot = {
        t: table_rows(db, f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("events", "credentials", "chains", "findings", "alerts")
    }
    replay([str(workload)], engine, db_path=db)
    for table, rows in snapshot.items():
        assert table_rows(db, f"SELECT * FROM {table} ORDER BY ALL") == rows, table


def test_malformed_records_are_dead_lettered_with_a_reason(
    engine: Engine, workload: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "mixed.jsonl"
    good = workload.read_text().splitlines()[:50]
    bad.write_text(
        "\n".join(
            [
                *good[:10],
                "{not json",
                '{"kind": "tool_call", "event_id": "x"}',
                "[1, 2",
                '"just a string"',
                *good[10:],
            ]
        )
        + "\n"
    )
    db = tmp_path / "cw.duckdb"
    report = replay([str(bad)], engine, db_path=db)
    assert report.events == 50 and report.dead_letters == 4
    reasons = [r[0] for r in table_rows(db, "SELECT reason FROM dead_letters ORDER BY record_no")]
    assert len(reasons) == 4 and all("mixed.jsonl record" in r for r in reasons)
    assert any("not valid JSON" in r for r in reasons)
    assert any("field" in r and "event_time" in r for r in reasons)


def test_no_secret_from_a_seeded_corpus_reaches_duckdb(engine: Engine, tmp_path: Path) -> None:
    records = []
    for i, secret in enumerate(SECRETS):
        records.append(
            {
                "kind": "tool_call",
                "event_id": f"s{i}",
                "event_time": f"2026-01-01T00:00:0{i}Z",
                "source": "native",
                "session_id": "leaky",
                "tool": "bash",
                "action": "exec",
                "task": f"deploy with token {secret}",
                "target": f"https://admin:{quote(secret, safe='')}@db.internal/",  # URLs percent-encode
                "arguments": {
                    "command": f"export AWS_SECRET_ACCESS_KEY={secret}",
                    "password": secret,
                    "nested": [{"api_key": secret}, f"Authorization: Bearer {secret}"],
                },
                "result_summary": f"ok; token={secret}",
            }
        )
    path = tmp_path / "leaky.jsonl"
    lines = [json.dumps(r) for r in records]
    lines.append(json.dumps({"kind": "tool_call", "password": SECRETS[0]}))  # dead letter with a secret
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "cw.duckdb"
    replay([str(path)], engine, db_path=db)
    with duckdb.connect(str(db), read_only=True) as con:
        dump = "".join(
            str(row)
            for table in ("events", "credentials", "chains", "findings", "alerts", "dead_letters")
            for row in con.execute(f"SELECT * FROM {table}").fetchall()
        )
    assert "[REDACTED:" in dump
    for secret in SECRETS:
        assert secret not in dump
        assert quote(secret, safe="") not in dump


def test_cli_run_prints_a_json_summary(workload: Path, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(app, ["run", str(workload), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["sessions"] == 40 and summary["alerts"] > 0
    assert summary["inputs"][0]["format"] == "native"
    assert sum(summary["alerts_by_severity"].values()) == summary["alerts"]


def test_cli_errors_name_the_input_and_the_fix(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["run", str(tmp_path / "nope.json"), "--db", str(tmp_path / "x.duckdb")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    odd = tmp_path / "odd.json"
    odd.write_text('{"hello": "world"}\n')
    unknown = runner.invoke(app, ["run", str(odd), "--db", str(tmp_path / "x.duckdb")])
    assert unknown.exit_code == 2 and "odd.json" in unknown.output and "--format" in unknown.output
    bad_format = runner.invoke(app, ["run", str(odd), "--format", "xml"])
    assert bad_format.exit_code == 2 and "native" in bad_format.output


def test_cli_demo_prints_alerts_with_their_chains(tmp_path: Path) -> None:
    db = tmp_path / "demo" / "chainwatch.duckdb"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--sessions", "40", "--show", "2"])
    assert result.exit_code == 0, result.output
    assert "alerts" in result.output and "what to do" in result.output
    assert db.is_file() and (db.parent / "workload.jsonl").is_file()
