"""`chainwatch alerts / show / triage` on the seeded simulator's alerts (stable ids), with a snapshot."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from streams.alerts.view import list_alerts
from streams.cli import alerts as cli_alerts
from streams.cli.alerts import parse_since
from streams.cli.main import app
from streams.settings import Settings
from tests.demo_support import seeded_demo_db

REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots"
# The simulator (seed 7, 120 sessions) makes this privilege-escalation chain; its id is a hash of the
# detector, the session and the triggering events, so it is stable.
KNOWN_ALERT = "bf3cb0624f95ba86f2161a36d6760b76"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_demo_db(tmp_path_factory.mktemp("triage"))


@pytest.fixture
def plain_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fixed-width console without colour, whatever terminal runs the tests."""
    monkeypatch.setattr(cli_alerts, "console", Console(width=160, color_system=None, force_terminal=False))
    yield


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_show_renders_the_known_alert_like_the_snapshot(demo_db: Path, plain_console: None) -> None:
    result = invoke("show", KNOWN_ALERT[:10], "--db", str(demo_db))
    assert result.exit_code == 0, result.output
    text = "\n".join(line.rstrip() for line in result.stdout.splitlines()) + "\n"
    snapshot = SNAPSHOTS / "show_privilege_escalation.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text)
    assert text == snapshot.read_text(), "rerun with UPDATE_SNAPSHOTS=1 after a deliberate change"
    # What the snapshot must show, independently of its layout:
    assert "CRITICAL" in text and "risk 94" in text and "privilege.escalation_chain v1" in text
    assert "task investigate why the nightly backup job" in text
    marked = [line for line in text.splitlines() if line.startswith("▶")]
    assert [m.split()[4] for m in marked] == ["CreateUser", "AttachUserPolicy", "CreateAccessKey"]
    assert "TTL 60m" in text and "revoked 2026-01-05 09:23:54" in text
    assert "what to do Delete the new user's access key" in text


def test_show_json_carries_the_view(demo_db: Path) -> None:
    result = invoke("show", KNOWN_ALERT, "--db", str(demo_db), "--json")
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert view["alert"]["alert_id"] == KNOWN_ALERT
    assert [e["action"] for e in view["events"] if e["triggering"]] == [
        "CreateUser",
        "AttachUserPolicy",
        "CreateAccessKey",
    ]
    (credential,) = view["credentials"]
    assert credential["state"] == "revoked" and credential["ttl_seconds"] == 3600.0
    assert view["blast_radius"] == {"reachable": 5.0, "touched": 3.0, "weighted": 3.0}


def test_alerts_filters(demo_db: Path) -> None:
    def ids(*args: str) -> list[dict[str, object]]:
        result = invoke("alerts", "--db", str(demo_db), "--json", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["alert"] for line in result.stdout.splitlines()]

    everything = ids()
    con = duckdb.connect(str(demo_db), read_only=True)
    total = con.execute("SELECT count(*) FROM alerts").fetchone()
    assert total is not None and len(everything) == total[0]
    critical = ids("--severity", "critical")
    assert critical and all(a["severity"] == "critical" for a in critical) and len(critical) < len(everything)
    high_up = ids("--severity", "high")
    assert {a["severity"] for a in high_up} == {"high", "critical"}
    credential = ids("--detector", "credential.")
    assert credential and all(str(a["detector_id"]).startswith("credential.") for a in credential)
    assert ids("--detector", "privilege.escalation_chain")[0]["detector_id"] == "privilege.escalation_chain"
    assert ids("--since", "2026-01-05T09:50:00Z") and all(
        str(a["last_seen"]) >= "2026-01-05T09:50:00" for a in ids("--since", "2026-01-05T09:50:00Z")
    )
    assert ids("--since", "2030-01-01") == []


def test_alerts_table_and_errors(demo_db: Path, plain_console: None) -> None:
    result = invoke("alerts", "--db", str(demo_db), "--severity", "critical")
    assert result.exit_code == 0 and KNOWN_ALERT[:12] in result.stdout
    bad = invoke("alerts", "--db", str(demo_db), "--severity", "urgent")
    assert bad.exit_code == 2 and "--severity 'urgent'" in bad.output
    missing = invoke("show", "ffffffffffff", "--db", str(demo_db))
    assert missing.exit_code == 1 and "no alert 'ffffffffffff'" in missing.output
    nodb = invoke("alerts", "--db", str(demo_db.parent / "nope.duckdb"))
    assert nodb.exit_code == 2 and "no such database" in nodb.output
    with pytest.raises(ValueError, match="--since 'yesterday'"):
        parse_since("yesterday")


def test_triage_records_verdicts_latest_wins_and_the_fp_rate_query(
    demo_db: Path, tmp_path: Path, plain_console: None
) -> None:
    db = tmp_path / "triage.duckdb"
    db.write_bytes(demo_db.read_bytes())
    con = duckdb.connect(str(db), read_only=True)
    other = con.execute(
        "SELECT alert_id FROM alerts WHERE detector_id = 'privilege.escalation_chain' AND alert_id != ?",
        [KNOWN_ALERT],
    ).fetchone()
    con.close()
    assert other is not None
    steps = [
        (KNOWN_ALERT[:8], "false-positive", "first look"),
        (KNOWN_ALERT, "true-positive", "user created by the agent; key revoked"),
        (other[0], "benign", "sanctioned maintenance user"),
    ]
    for alert_id, status, note in steps:
        result = invoke(
            "triage", alert_id, "--status", status, "--note", note, "--analyst", "ana", "--db", str(db)
        )
        assert result.exit_code == 0, result.output
    bad = invoke("triage", KNOWN_ALERT, "--status", "maybe", "--db", str(db))
    assert bad.exit_code == 2 and "true-positive, false-positive, benign" in " ".join(bad.output.split())

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT alert_id, status, note, analyst FROM verdicts ORDER BY recorded_at").fetchall()
    assert [r[1] for r in rows] == ["false-positive", "true-positive", "benign"]  # append-only
    assert rows[0][0] == KNOWN_ALERT and rows[0][3] == "ana"
    shown = invoke("show", KNOWN_ALERT, "--db", str(db), "--json")
    assert json.loads(shown.stdout)["verdict"]["status"] == "true-positive"  # the latest wins
    # The documented per-detector false-positive query runs as published.
    docs = (REPO / "docs" / "alerts.md").read_text()
    match = re.search(r"\*\*False-positive rate per detector\*\*.*?```sql\n(.*?)```", docs, re.S)
    assert match
    (row,) = con.execute(match.group(1)).fetchall()
    assert row[:4] == ("privilege.escalation_chain", 2, 1, 1) and row[4] == 0.0


def test_a_verdict_tie_goes_to_the_graver_status_as_in_detector_health(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "tie.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with duckdb.connect(str(db)) as con:
        for status in ("benign", "true-positive", "false-positive"):  # one microsecond, three analysts
            con.execute(
                "INSERT INTO verdicts (alert_id, status, note, analyst, recorded_at) "
                "VALUES (?, ?, 'tie', 'ana', TIMESTAMPTZ '2026-11-29 12:00:00+00')",
                [KNOWN_ALERT, status],
            )
    shown = invoke("show", KNOWN_ALERT, "--db", str(db), "--json")
    assert json.loads(shown.stdout)["verdict"]["status"] == "true-positive"
    with duckdb.connect(str(db), read_only=True) as con:
        listed = {row.alert.alert_id: row.verdict for row in list_alerts(con, detector="privilege.")}
        assert listed[KNOWN_ALERT] == "true-positive"  # the queue's status column
        counted = con.execute(
            "SELECT sum(true_positive), sum(benign) FROM detector_health "
            "WHERE detector_id = 'privilege.escalation_chain'"
        ).fetchone()
    assert counted == (1, 0)


def test_audited_text_is_printed_literally_never_as_markup(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Targets come from audited systems: ':secret:' is not an emoji and '[…]' is not a style."""
    monkeypatch.setattr(cli_alerts, "console", Console(width=400, color_system=None, force_terminal=False))
    con = duckdb.connect(str(demo_db), read_only=True)
    row = con.execute(
        "SELECT alert_id FROM alerts WHERE detector_id = 'credential.used_after_task' "
        "AND session_id = 'sim-7-s00069'"
    ).fetchone()
    con.close()
    assert row is not None
    result = invoke("show", row[0], "--db", str(demo_db))
    assert result.exit_code == 0, result.output
    assert "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/crm/api-key-" in result.stdout
    assert "NOT revoked, valid 59m past the session" in result.stdout


@pytest.mark.kafka
def test_follow_tails_the_alerts_topic_live(kafka_broker: object, demo_db: Path, tmp_path: Path) -> None:
    """`chainwatch alerts --follow` prints alerts published after it started, filtered by severity."""
    import subprocess
    import sys
    import time
    import uuid
    import warnings

    from streams.alerts.view import list_alerts
    from streams.kafka.topics import create_topics
    from streams.kafka.wire import encode_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka import KafkaProducer

    bootstrap = kafka_broker.bootstrap  # type: ignore[attr-defined]
    topic = f"alerts-follow-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CHAINWATCH_TOPICS__ALERTS": topic, "CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap}
    settings = Settings.model_validate(
        {"kafka": {"bootstrap_servers": bootstrap}, "topics": {"alerts": topic}}
    )
    create_topics(settings)
    con = duckdb.connect(str(demo_db), read_only=True)
    alerts = [row.alert for row in list_alerts(con)]
    con.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    critical = [a for a in alerts if a.severity == "critical"]
    producer.send(topic, value=encode_model(critical[0]))  # published before the follow: not shown
    producer.flush()
    log = tmp_path / "follow.err"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "alerts",
                "--follow",
                "--json",
                "--severity",
                "critical",
                "--max-alerts",
                str(len(critical)),
                "--idle-seconds",
                "60",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while "following" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        for alert in alerts:  # every severity, the early one again
            producer.send(topic, value=encode_model(alert))
        producer.flush()
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        producer.close()
    assert proc.returncode == 0, log.read_text()
    shown = [json.loads(line)["alert_id"] for line in out.decode().splitlines()]
    assert sorted(shown) == sorted(a.alert_id for a in critical)  # each once: the early one was not read


def test_json_and_ocsf_output_is_redacted_like_a_webhook_body(demo_db: Path, tmp_path: Path) -> None:
    """A secret a detector copied into its details or title never reaches the terminal output either
    (it is a copy outside chainwatch's control, like a webhook body)."""
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    db = tmp_path / "secret.duckdb"
    db.write_bytes(demo_db.read_bytes())
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE alerts SET details = ?, title = ? WHERE alert_id = ?",
        [
            json.dumps({"command": f"git push https://x:{token}@github.com/o/r"}),
            f"leaked {token}",
            KNOWN_ALERT,
        ],
    )
    con.close()
    for args in (
        ("alerts", "--db", str(db), "--json"),
        ("alerts", "--db", str(db), "--ocsf"),
        ("show", KNOWN_ALERT, "--db", str(db), "--json"),
        ("show", KNOWN_ALERT, "--db", str(db), "--ocsf"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert token not in result.stdout and "[REDACTED:" in result.stdout, args


def test_a_very_long_session_keeps_every_triggering_step() -> None:
    """Above TIMELINE_LIMIT events the timeline is cut around the triggering steps; the steps themselves
    (the evidence) are never the part that is cut, even when their neighbours do not all fit."""
    from datetime import UTC, datetime, timedelta

    from streams.alerts.view import TIMELINE_LIMIT, TimelineEvent, _around_triggers

    start = datetime(2026, 1, 5, tzinfo=UTC)
    events = [
        TimelineEvent(
            f"e{i:05d}",
            start + timedelta(seconds=i),
            "tool_call",
            "bash",
            "exec",
            None,
            None,
            None,
            None,
            None,
            i % 7 == 0,
        )
        for i in range(7 * TIMELINE_LIMIT)
    ]
    kept = _around_triggers(events)
    assert len(kept) == TIMELINE_LIMIT
    assert [e.event_id for e in kept if e.triggering] == [e.event_id for e in events if e.triggering][
        :TIMELINE_LIMIT
    ]
    assert kept == sorted(kept, key=lambda e: e.time)
    few = [*events[:1], *(e for e in events[1:1000] if not e.triggering), events[7 * 429]]  # both triggering
    short = _around_triggers(few)
    assert [e.event_id for e in short if e.triggering] == [few[0].event_id, few[-1].event_id]
    assert len(short) <= 5 + 2 * 7


def test_terminal_control_sequences_in_audited_text_are_shown_not_sent(
    demo_db: Path, tmp_path: Path, plain_console: None
) -> None:
    """A target or title carrying ESC sequences (clear the screen, set the clipboard with OSC 52) or a
    bidi override must not act on the analyst's terminal: rich drops BEL and CR, not ESC."""
    db = tmp_path / "escapes.duckdb"
    db.write_bytes(demo_db.read_bytes())
    con = duckdb.connect(str(db))
    con.execute("UPDATE alerts SET title = ? WHERE alert_id = ?", ["ok\x1b[2J\u202edone", KNOWN_ALERT])
    con.execute(
        "UPDATE events SET target = ? WHERE event_id = (SELECT event_ids[1] FROM alerts WHERE alert_id = ?)",
        ["arn:x\x1b]52;c;ZXZpbA==\x1b\\", KNOWN_ALERT],
    )
    con.close()
    for args in (("show", KNOWN_ALERT), ("alerts", "--severity", "critical")):
        result = invoke(*args, "--db", str(db))
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
        assert "ok\\x1b[2J\\u202edone" in result.stdout
    shown = invoke("show", KNOWN_ALERT, "--db", str(db)).stdout
    assert "arn:x\\x1b]52;c;ZXZpbA==\\x1b\\" in shown
