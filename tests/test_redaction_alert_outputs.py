"""Redaction holds in what chainwatch sends to people: delivered alerts (JSON, OCSF, Slack bodies), the
triage commands' output. The same seeded corpus as tests/test_redaction_everywhere.py goes in through
`chainwatch run` with file sinks configured; every byte that comes out is searched for the raw secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from streams.alerts.delivery.formats import render
from streams.alerts.view import load_view
from tests.secret_corpus import leaks, native_records, secret_corpus
from tests.test_stream_e2e import REPO

CORPUS = secret_corpus(seed=9)


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def risky_calls_carrying_secrets() -> list[dict[str, object]]:
    """Prod deletes of distinct databases, each carrying one secret in its arguments, result and target:
    they raise alerts whose evidence holds the secrets (before redaction)."""
    return [
        {
            "schema_version": 1,
            "kind": "tool_call",
            "source": "redaction-corpus",
            "session_id": "outputs-s1",
            "agent_id": "coding-agent-7",
            "principal": "dev@example.com",
            "event_id": f"outputs-delete-{n}",
            "event_time": f"2026-02-01T11:00:{n:02d}Z",
            "tool": "delete_database",
            "action": "delete_database",
            "target": f"postgres://admin:{secret.value[-12:]}@db-{n}.prod/app",
            "environment": "prod",
            "decision": "auto_allowed",
            "arguments": {"connection": secret.context, "nested": {"token": secret.value}},
            "result_summary": f"dropped; used {secret.context}",
        }
        for n, secret in enumerate(CORPUS)
    ]


def assert_no_leak(where: str, text: str) -> None:
    found = leaks(CORPUS, text)
    assert not found, f"{where}: {len(found)} raw secret fragment(s) of kinds {sorted({k for k, _ in found})}"


def test_alerts_leave_chainwatch_redacted_in_every_format(tmp_path: Path) -> None:
    records = native_records(CORPUS, session="outputs-s1") + risky_calls_carrying_secrets()
    source = tmp_path / "corpus.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    db, as_json, as_ocsf = tmp_path / "cw.duckdb", tmp_path / "alerts.jsonl", tmp_path / "alerts.ocsf.jsonl"
    sinks = [
        {"name": "json", "path": str(as_json), "format": "json", "min_severity": "info"},
        {"name": "ocsf", "path": str(as_ocsf), "format": "ocsf", "min_severity": "info"},
    ]
    env = {
        "CHAINWATCH_DELIVERY__FILES": json.dumps(sinks),
        "CHAINWATCH_DELIVERY__SPOOL_PATH": str(tmp_path / "spool.sqlite"),
    }
    outputs = [cli("run", str(source), "--format", "native", "--db", str(db), env=env)]

    with duckdb.connect(str(db), read_only=True) as con:
        alert_ids = [r[0] for r in con.execute("SELECT alert_id FROM alerts").fetchall()]
        # the corpus is risky work in production: it must raise alerts, or this test checks nothing
        assert alert_ids, "the secret corpus raised no alert"
        slack = [render(load_view(con, alert_id), "slack").decode() for alert_id in alert_ids]
    assert len(as_json.read_text().splitlines()) == len(alert_ids)
    assert len(as_ocsf.read_text().splitlines()) == len(alert_ids)
    assert "[REDACTED:" in as_json.read_text()

    outputs.append(cli("alerts", "--db", str(db), "--json"))
    outputs.append(cli("alerts", "--db", str(db), "--ocsf"))
    for alert_id in alert_ids:
        outputs.append(cli("show", alert_id, "--db", str(db)))

    assert_no_leak("file sink (json)", as_json.read_text())
    assert_no_leak("file sink (ocsf)", as_ocsf.read_text())
    assert_no_leak("slack bodies", "\n".join(slack))
    assert_no_leak("triage command output", "\n".join(outputs))
