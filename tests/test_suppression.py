"""Suppression rules: file format and errors, matching, expiry, and storage with the rule and reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from schemas.alerts import Alert
from streams.alerts.delivery.pipeline import AlertPipeline
from streams.alerts.suppression import SuppressionFileError, SuppressionRule, SuppressionRules
from streams.alerts.view import list_alerts, load_view
from streams.ingest.replay import replay
from streams.settings import Settings, build_engine
from streams.simulator.workload import simulate, write_jsonl
from streams.store.database import Store, schema_sql

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_alert(**overrides: Any) -> Alert:
    data: dict[str, Any] = {
        "alert_id": "a" * 32,
        "detector_id": "destructive.prod_action",
        "key": "s1",
        "session_id": "s1",
        "agent_id": "deploy-bot-3",
        "principal": "ann@example.com",
        "severity": "high",
        "risk_score": 70.0,
        "title": "deploy-bot-3 deleted a bucket in prod",
        "event_ids": ("e1", "e2"),
        "first_seen": NOW,
        "last_seen": NOW,
    }
    data.update(overrides)
    return Alert(**data)


def rule(**overrides: Any) -> SuppressionRule:
    data: dict[str, Any] = {
        "id": "deploy-bot-staging",
        "detector": "destructive.*",
        "agent": "deploy-bot-*",
        "reason": "the deploy bot recreates staging buckets nightly",
        "owner": "sec-team@example.com",
        "expires": "2026-03-01",
    }
    data.update(overrides)
    return SuppressionRule(**data)


def test_detector_and_agent_globs() -> None:
    rules = SuppressionRules([rule()])
    assert rules.match(make_alert(), None, NOW) is not None
    assert rules.match(make_alert(agent_id="code-assistant-1"), None, NOW) is None
    assert rules.match(make_alert(detector_id="privilege.escalation_chain"), None, NOW) is None


def test_target_pattern_must_hold_for_every_triggering_target() -> None:
    rules = SuppressionRules([rule(target="arn:aws:s3:::staging-*")])
    alert = make_alert()
    assert rules.match(alert, ["arn:aws:s3:::staging-a", "arn:aws:s3:::staging-b"], NOW) is not None
    assert rules.match(alert, ["arn:aws:s3:::staging-a", "arn:aws:s3:::prod-db"], NOW) is None
    assert rules.match(alert, None, NOW) is None  # targets unknown: deliver rather than hide


def test_an_expired_rule_stops_applying() -> None:
    rules = SuppressionRules([rule(expires="2026-01-04")])
    assert rules.match(make_alert(), None, NOW) is None
    assert [r.id for r in rules.expired(NOW)] == ["deploy-bot-staging"]
    assert rules.match(make_alert(), None, NOW - timedelta(days=2)) is not None


def test_file_errors_name_the_file_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "suppressions.yml"
    path.write_text("rules:\n  - id: x\n    detector: '*'\n    reason: because\n    expires: 2026-02-01\n")
    with pytest.raises(SuppressionFileError) as err:
        SuppressionRules.load(path)
    assert str(path) in str(err.value) and "rules.0.owner" in str(err.value)
    path.write_text("rules: [\n")
    with pytest.raises(SuppressionFileError, match="not valid YAML"):
        SuppressionRules.load(path)
    with pytest.raises(SuppressionFileError, match="not found"):
        SuppressionRules.load(tmp_path / "missing.yml")
    with pytest.raises(SuppressionFileError, match="repeated: r1"):
        SuppressionRules([rule(id="r1"), rule(id="r1")])


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workload") / "workload.jsonl"
    sessions = simulate(seed=7, sessions=120, attack_ratio=0.1)
    write_jsonl(sorted((e for s in sessions for e in s.events), key=lambda e: e.event_time), path)
    return path


def _settings(tmp_path: Path, rules_yaml: str) -> Settings:
    rules_file = tmp_path / "suppressions.yml"
    rules_file.write_text(rules_yaml)
    return Settings.model_validate(
        {
            "delivery": {
                "suppression_file": str(rules_file),
                "spool_path": str(tmp_path / "spool.sqlite"),
                "files": [{"name": "jsonl", "path": str(tmp_path / "alerts.jsonl")}],
            }
        }
    )


def test_suppressed_alerts_are_stored_with_the_rule_and_not_delivered(tmp_path: Path, workload: Path) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    settings = _settings(
        tmp_path,
        f"""
rules:
  - id: blast-radius-known
    detector: blast_radius.*
    reason: wildcard credentials of the cloud-ops agents are a known, tracked risk (TICKET-42)
    owner: sec-team@example.com
    expires: {expires}
  - id: old-rule
    detector: "*"
    reason: an expired blanket rule must not hide anything
    owner: nobody@example.com
    expires: 2020-01-01
""",
    )
    pipeline = AlertPipeline.from_settings(settings.delivery)
    assert pipeline is not None and pipeline.deliverer is not None
    db = tmp_path / "cw.duckdb"
    report = replay([str(workload)], build_engine(settings), db_path=db, pipeline=pipeline)
    pipeline.deliverer.drain()
    pipeline.close()
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT alert_id, detector_id, suppressed_by, suppression_reason FROM alerts ORDER BY alert_id"
    ).fetchall()
    assert len(rows) == len(report.alerts)  # nothing dropped
    suppressed = {r[0] for r in rows if r[2] is not None}
    expected = {r[0] for r in rows if r[1].startswith("blast_radius.")}
    assert suppressed == expected and suppressed
    assert all(r[2] == "blast-radius-known" and "TICKET-42" in r[3] for r in rows if r[0] in suppressed)
    listed = {r.alert.alert_id for r in list_alerts(con, include_suppressed=False)}
    assert listed == {r[0] for r in rows} - suppressed
    view = load_view(con, next(iter(suppressed)))
    assert view.suppressed_by == "blast-radius-known" and "TICKET-42" in (view.suppression_reason or "")
    delivered = [
        json.loads(line)["alert"]["alert_id"] for line in (tmp_path / "alerts.jsonl").read_text().splitlines()
    ]
    assert sorted(delivered) == sorted(r[0] for r in rows if r[0] not in suppressed)


def test_databases_from_before_suppression_get_the_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    old_ddl = schema_sql().split("-- Alert triage (issue 6)")[0]
    con = duckdb.connect(str(db))
    con.execute(old_ddl)
    assert "suppressed_by" not in {r[0] for r in con.execute("DESCRIBE alerts").fetchall()}
    con.close()
    with Store(db) as store:
        columns = {r[0] for r in store.query("DESCRIBE alerts")}
        assert {"suppressed_by", "suppression_reason"} <= columns
        assert {r[0] for r in store.query("DESCRIBE verdicts")} == {
            "alert_id",
            "status",
            "note",
            "analyst",
            "recorded_at",
            "verdict_id",  # a verdict is sealed in the audit trail (docs/security.md)
            "row_hash",
        }


def test_a_target_rule_never_hides_an_alert_with_a_targetless_step(tmp_path: Path) -> None:
    """ "Every triggering target matches" cannot hold for a step without a target (a credential event, a
    bash call): such an alert is stored unsuppressed; the same rule suppresses the all-staging alert."""
    from schemas.events import CredentialEvent, ToolCall
    from streams.store.database import Batch

    def call(event_id: str, target: str | None) -> ToolCall:
        return ToolCall(
            event_id=event_id,
            event_time=NOW,
            source="test",
            session_id="s1",
            tool="aws",
            action="DeleteBucket",
            target=target,
        )

    events = [
        call("e1", "arn:aws:s3:::staging-a"),
        call("e2", None),
        CredentialEvent(
            event_id="c1",
            event_time=NOW,
            source="test",
            session_id="s1",
            credential_id="AKIAEXAMPLE",
            action="issued",
        ),
    ]
    alerts = [
        make_alert(alert_id="1" * 32, event_ids=("e1",)),
        make_alert(alert_id="2" * 32, event_ids=("e1", "e2")),
        make_alert(alert_id="3" * 32, event_ids=("e1", "c1")),
    ]
    pipeline = AlertPipeline(SuppressionRules([rule(target="arn:aws:s3:::staging-*", expires="2099-01-01")]))
    with Store(tmp_path / "cw.duckdb") as store:
        batch = Batch(events=events, alerts=alerts)
        pipeline.before_write(store, batch)
    assert set(batch.suppressions) == {"1" * 32}
