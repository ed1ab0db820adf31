"""The analytic views (schemas/sql/views.sql) on a small known dataset (tests/views_dataset.py): every
figure below is computed by hand from that dataset's docstring, not read back from the views."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from detectors.rules import ALLOWED_LATENESS
from schemas.types import ENVIRONMENT_WEIGHT
from streams.store.database import Store
from streams.store.views import view_names, views_sql
from tests import views_dataset as ds

DAY1 = date(2026, 3, 2)
DAY2 = date(2026, 3, 3)
DAY3 = date(2026, 3, 4)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ds.build(tmp_path_factory.mktemp("views") / "known.duckdb")


@pytest.fixture
def con(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    found = rows(con, sql)
    assert len(found) == 1, found
    return found[0]


def test_the_store_creates_every_view(con: duckdb.DuckDBPyConnection) -> None:
    created = {
        r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    assert set(view_names()) <= created
    assert {"audit_trail", "blast_radius_sessions", "credential_posture", "agent_activity"} <= created
    assert {"detector_health", "ingest_health"} <= created


def test_environment_weights_are_the_contracts(con: duckdb.DuckDBPyConnection) -> None:
    weights = dict(con.execute("SELECT environment, weight FROM environment_weights").fetchall())
    assert weights == {str(env): weight for env, weight in ENVIRONMENT_WEIGHT.items()}


def test_late_events_use_the_engines_allowed_lateness() -> None:
    assert f"INTERVAL {int(ALLOWED_LATENESS)} SECOND" in views_sql()


def test_credential_lifetimes(con: duckdb.DuckDBPyConnection) -> None:
    c1 = one(con, "SELECT * FROM credential_lifetimes WHERE credential_id = 'c1'")
    assert c1["issuer"] == "sts" and c1["subject"] == "agent-a" and c1["on_behalf_of"] == "alice"
    assert c1["inherited_from_human"] is False
    assert c1["scopes"] == list(ds.C1_SCOPES)
    assert c1["issued_at"] == ds.at(ds.T1, 1)
    assert c1["ttl_seconds"] == 3600.0
    assert c1["first_used"] == ds.at(ds.T1, 10)  # the first call that carried it
    assert c1["last_used"] == ds.at(ds.T1, 40)  # its own `used` event
    assert c1["uses"] == 4  # three calls + one used event
    assert c1["revoked_at"] == ds.at(ds.T1, 160)
    assert c1["sessions"] == 1
    h1 = one(con, "SELECT * FROM credential_lifetimes WHERE credential_id = 'h1'")
    assert h1["inherited_from_human"] is True and h1["scopes"] == ["*"]
    assert h1["ttl_seconds"] is None and h1["revoked_at"] is None and h1["uses"] == 2


def test_session_credentials_set_lifetime_against_the_task(con: duckdb.DuckDBPyConnection) -> None:
    s1 = one(con, "SELECT * FROM session_credentials WHERE session_id = 's1'")
    assert s1["credential_id"] == "c1"
    assert s1["task_ended_at"] == ds.at(ds.T1, 100)  # the end event, not the later revocation
    assert s1["task_seconds"] == 100.0
    assert s1["ttl_over_task"] == 36.0  # 3600 s TTL for a 100 s task
    assert s1["revoked_after_task_seconds"] == 60.0
    assert s1["never_revoked"] is False and s1["uses_in_session"] == 4
    s2 = one(con, "SELECT * FROM session_credentials WHERE session_id = 's2'")
    assert s2["task_ended_at"] == ds.at(ds.T2, 10)  # no end event: the last event
    assert s2["task_seconds"] == 10.0
    assert s2["never_revoked"] is True
    assert s2["ttl_over_task"] is None and s2["revoked_after_task_seconds"] is None
    assert con.execute("SELECT count(*) FROM session_credentials WHERE session_id = 's3'").fetchone() == (0,)


def test_audit_trail_keeps_intent_decisions_credentials_and_alerts_together(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert [r[0] for r in con.execute("SELECT session_id FROM audit_trail ORDER BY 1").fetchall()] == [
        "s1",
        "s2",
        "s3",
    ]
    s1 = one(con, "SELECT * FROM audit_trail WHERE session_id = 's1'")
    assert s1["task"] == "rotate the logs" and s1["principal"] == "alice"
    assert (s1["tool_calls"], s1["allowed"], s1["approved"], s1["denied"]) == (3, 1, 1, 1)
    assert s1["approvers"] == ["bob"]
    assert [(d["event_id"], d["decision"], d["approved_by"]) for d in s1["decisions"]] == [
        ("s1-get", "allowed_by_rule", None),
        ("s1-put", "approved", "bob"),
        ("s1-del", "denied", None),
    ]
    assert s1["decisions"][2]["environment"] == "dev" and s1["decisions"][2]["outcome"] == "denied"
    (cred,) = s1["credential_lifetimes"]
    assert cred["credential_id"] == "c1" and cred["ttl_seconds"] == 3600.0
    assert cred["issued_at"] == ds.at(ds.T1, 1) and cred["revoked_at"] == ds.at(ds.T1, 160)
    assert cred["first_used"] == ds.at(ds.T1, 10) and cred["last_used"] == ds.at(ds.T1, 40)
    assert cred["revoked_after_task_seconds"] == 60.0
    assert (s1["credentials"], s1["credentials_never_revoked"]) == (1, 0)
    assert (s1["alerts"], s1["alerts_suppressed"]) == (1, 1)
    assert s1["alert_list"][0]["suppressed_by"] == "rule-1"
    assert s1["max_risk"] == 40.0 and s1["task_seconds"] == 100.0

    s2 = one(con, "SELECT * FROM audit_trail WHERE session_id = 's2'")
    assert s2["permission_modes"] == ["bypassPermissions"]
    assert (s2["tool_calls"], s2["allowed"], s2["approved"], s2["denied"]) == (2, 2, 0, 0)
    assert s2["approvers"] == []
    assert (s2["credentials"], s2["credentials_never_revoked"]) == (1, 1)
    assert [(a["alert_id"], a["risk_score"]) for a in s2["alert_list"]] == [("a2", 95.0), ("a1", 80.0)]
    assert s2["max_risk"] == 95.0

    s3 = one(con, "SELECT * FROM audit_trail WHERE session_id = 's3'")
    assert (s3["tool_calls"], s3["credentials"], s3["alerts"]) == (3, 0, 0)
    assert s3["credential_lifetimes"] is None and s3["alert_list"] is None


def test_granted_scopes_know_which_scopes_were_used(con: duckdb.DuckDBPyConnection) -> None:
    found = {
        (r[0], r[1], r[2]): r[3:]
        for r in con.execute(
            "SELECT session_id, credential_id, scope, wildcard, used_in_session, used_by_credential "
            "FROM granted_scopes"
        ).fetchall()
    }
    assert found == {
        ("s1", "c1", "kms:Decrypt"): (False, False, False),  # no target or tool names kms
        ("s1", "c1", "s3:GetObject arn:aws:s3:::logs/*"): (False, True, True),  # logs/a matches the glob
        ("s1", "c1", "s3:PutObject arn:aws:s3:::logs/*"): (False, True, True),
        ("s2", "h1", "*"): (True, True, True),  # a full wildcard is used by any touch
    }


def test_blast_radius_per_session_largest_first(con: duckdb.DuckDBPyConnection) -> None:
    found = rows(con, "SELECT * FROM blast_radius_sessions")
    assert [r["session_id"] for r in found] == ["s2", "s1", "s3"]  # wildcard first, then by weighted reach
    s2, s1, s3 = found
    # s2: scope '*', touched /etc/passwd (unknown 0.6) and an IAM user (prod 1.0)
    assert (s2["wildcard"], s2["reachable_scopes"], s2["scopes_used"], s2["touched_targets"]) == (
        True,
        1,
        1,
        2,
    )
    assert s2["touched_weighted"] == pytest.approx(1.6) and s2["touched_prod"] == 1
    # s1: three scopes, kms unused; logs/a (prod and dev: counted once, at prod) and logs/b (staging 0.4)
    assert (s1["wildcard"], s1["reachable_scopes"], s1["scopes_used"], s1["scopes_unused"]) == (
        False,
        3,
        2,
        1,
    )
    assert s1["environment_weight"] == 1.0 and s1["reachable_weighted"] == 3.0
    assert (s1["touched_targets"], s1["touched_prod"]) == (2, 1)
    assert s1["touched_weighted"] == pytest.approx(1.4)
    # s3: nothing reachable, two dev targets
    assert (s3["credentials"], s3["reachable_scopes"], s3["reachable_weighted"]) == (0, 0, 0.0)
    assert s3["touched_weighted"] == pytest.approx(0.4) and s3["environment_weight"] == 0.2


def test_blast_radius_per_credential(con: duckdb.DuckDBPyConnection) -> None:
    found = rows(con, "SELECT * FROM blast_radius_credentials")
    assert [r["credential_id"] for r in found] == ["h1", "c1"]
    h1, c1 = found
    assert (h1["wildcard"], h1["inherited_from_human"], h1["touched_targets"]) == (True, True, 2)
    assert h1["touched_weighted"] == pytest.approx(1.6) and h1["revoked_at"] is None
    assert (c1["reachable_scopes"], c1["scopes_unused"], c1["touched_targets"], c1["touched_prod"]) == (
        3,
        1,
        2,
        1,
    )
    assert c1["touched_weighted"] == pytest.approx(1.4) and c1["reachable_weighted"] == 3.0


def test_credential_posture_by_agent_and_issuer(con: duckdb.DuckDBPyConnection) -> None:
    found = {
        (r["level"], r["agent_id"], r["issuer"]): r for r in rows(con, "SELECT * FROM credential_posture")
    }
    assert set(found) == {
        ("all", None, None),
        ("agent", "agent-a", None),
        ("agent", "agent-b", None),
        ("issuer", None, "(no credential)"),
        ("issuer", None, "iam"),
        ("issuer", None, "sts"),
        ("agent_issuer", "agent-a", "iam"),
        ("agent_issuer", "agent-a", "sts"),
        ("agent_issuer", "agent-b", "(no credential)"),
    }
    total = found[("all", None, None)]
    assert (total["sessions"], total["sessions_inherited_human"]) == (3, 1)
    assert total["inherited_human_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert (total["credentials"], total["credentials_never_revoked"], total["never_revoked_share"]) == (
        2,
        1,
        0.5,
    )
    assert total["ttl_p50_seconds"] == 3600.0  # h1 has no TTL
    assert total["task_p50_seconds"] == 55.0  # median of the 100 s and 10 s tasks that held credentials
    assert total["ttl_over_task_p50"] == 36.0 and total["ttl_exceeds_task"] == 1
    assert (total["revocation_p50_seconds"], total["revocation_max_seconds"]) == (60.0, 60.0)
    agent_a = found[("agent", "agent-a", None)]
    assert (agent_a["sessions"], agent_a["inherited_human_share"]) == (2, 0.5)
    agent_b = found[("agent", "agent-b", None)]
    assert (agent_b["sessions"], agent_b["credentials"], agent_b["inherited_human_share"]) == (1, 0, 0.0)
    assert agent_b["never_revoked_share"] is None
    iam = found[("issuer", None, "iam")]
    assert (iam["inherited_human_share"], iam["never_revoked_share"], iam["task_p50_seconds"]) == (
        1.0,
        1.0,
        10.0,
    )
    sts = found[("agent_issuer", "agent-a", "sts")]
    assert (sts["never_revoked_share"], sts["revocation_p90_seconds"]) == (0.0, 60.0)


def test_agent_activity_per_day_with_first_seen(con: duckdb.DuckDBPyConnection) -> None:
    found = rows(con, "SELECT * FROM agent_activity")
    assert [(r["agent_id"], r["day"]) for r in found] == [("agent-a", DAY1), ("agent-b", DAY2)]
    a, b = found
    assert (a["sessions"], a["tool_calls"], a["distinct_tools"], a["distinct_targets"]) == (2, 5, 3, 4)
    assert a["tools"] == ["aws", "bash", "iam"]
    assert a["environments"] == ["dev", "prod", "staging", "unknown"]
    assert (a["prod_calls"], a["denied_calls"]) == (2, 1)
    assert (a["new_tools"], a["new_targets"], a["new_environments"]) == (3, 4, 4)
    assert (b["tool_calls"], b["distinct_targets"], b["new_targets"], b["prod_calls"]) == (3, 2, 2, 0)

    first = {(r["agent_id"], r["facet"], r["value"]): r for r in rows(con, "SELECT * FROM agent_first_seen")}
    assert len(first) == 15  # agent-a: 3 tools, 4 targets, 4 envs; agent-b: 1 tool, 2 targets, 1 env
    bash = first[("agent-a", "tool", "bash")]
    assert (bash["first_event_id"], bash["first_session_id"], bash["uses"]) == ("s2-cat", "s2", 1)
    assert first[("agent-a", "target", "arn:aws:s3:::logs/a")]["uses"] == 2
    assert first[("agent-b", "tool", "read_file")]["first_seen_at"] == ds.at(ds.T3, -360)


def test_detector_health_counts_suppressions_and_verdicts(con: duckdb.DuckDBPyConnection) -> None:
    found = {(r["detector_id"], r["day"]): r for r in rows(con, "SELECT * FROM detector_health")}
    assert set(found) == {
        ("behaviour.anomaly", DAY2),
        ("credential.never_revoked", DAY1),
        ("privilege.escalation_chain", DAY1),
    }
    never = found[("credential.never_revoked", DAY1)]
    assert (never["findings"], never["suppressed_in_engine"]) == (3, 1)
    assert (never["alerts"], never["suppressed_by_rule"], never["delivered"]) == (2, 1, 1)
    # a1's latest verdict (false-positive) replaces its earlier true-positive; a3 has none
    assert (never["true_positive"], never["false_positive"], never["benign"], never["unreviewed"]) == (
        0,
        1,
        0,
        1,
    )
    assert never["false_positive_rate"] == 1.0
    # a2: true-positive and benign recorded in the same instant; the tie goes to the graver verdict
    escalation = found[("privilege.escalation_chain", DAY1)]
    assert (escalation["true_positive"], escalation["benign"], escalation["false_positive_rate"]) == (
        1,
        0,
        0.0,
    )
    anomaly = found[("behaviour.anomaly", DAY2)]
    assert (anomaly["findings"], anomaly["alerts"], anomaly["false_positive_rate"]) == (1, 0, None)


def test_ingest_health_counts_late_and_dead_lettered_events(con: duckdb.DuckDBPyConnection) -> None:
    found = {r["day"]: r for r in rows(con, "SELECT * FROM ingest_health")}
    assert list(found) == [DAY1, DAY2, DAY3]
    assert (found[DAY1]["events"], found[DAY1]["credential_events"], found[DAY1]["late_events"]) == (9, 4, 0)
    assert (found[DAY2]["events"], found[DAY2]["late_events"]) == (5, 1)  # s3-late only, not s3-ontime
    assert (found[DAY2]["dead_letters"], found[DAY2]["dead_parse"]) == (1, 1)
    assert (found[DAY3]["events"], found[DAY3]["dead_letters"], found[DAY3]["dead_validate"]) == (0, 1, 1)


def test_days_are_utc_days_whatever_the_sessions_time_zone(db: Path) -> None:
    # UTC+14: 10:00 and 11:00 UTC on 2026-03-02 are already 2026-03-03 there; the views must not follow it.
    local = duckdb.connect(str(db), read_only=True)
    local.execute("SET TimeZone = 'Pacific/Kiritimati'")
    try:
        activity = [
            (r[0], r[1]) for r in local.execute("SELECT agent_id, day FROM agent_activity").fetchall()
        ]
        health = {r[0] for r in local.execute("SELECT day FROM detector_health").fetchall()}
        ingest = [r[0] for r in local.execute("SELECT day FROM ingest_health").fetchall()]
        shifted = local.execute(
            "SELECT CAST(started_at AS DATE) FROM chains WHERE session_id = 's1'"
        ).fetchone()
    finally:
        local.close()
    assert shifted == (DAY2,)  # the session's own time zone does move the day: the test can tell
    assert activity == [("agent-a", DAY1), ("agent-b", DAY2)]
    assert health == {DAY1, DAY2}
    assert ingest == [DAY1, DAY2, DAY3]


def test_views_keep_their_shape_when_tables_gain_columns(tmp_path: Path) -> None:
    path = ds.build(tmp_path / "grown.duckdb")
    with Store(path) as store:
        before = {v: store.query(f"SELECT * FROM {v} ORDER BY ALL") for v in view_names()}
        for table in ("events", "credentials", "chains", "alerts", "findings"):
            store.con.execute(f"ALTER TABLE {table} ADD COLUMN zz_added VARCHAR DEFAULT 'x'")
    with Store(path) as store:  # reopening recreates the views over the grown tables
        after = {v: store.query(f"SELECT * FROM {v} ORDER BY ALL") for v in view_names()}
    assert after == before


def test_a_database_from_before_the_views_gets_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        for view in reversed(view_names()):
            store.con.execute(f"DROP VIEW {view}")
    with Store(path) as store:
        assert store.query("SELECT count(*) FROM audit_trail") == [(0,)]


# -- the data dictionary (docs/data-dictionary.md) documents every view column, and its queries run

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _sections(markdown: str) -> dict[str, str]:
    """Heading name(s) in backticks -> the text of that section (up to the next heading)."""
    found: dict[str, str] = {}
    parts = re.split(r"^#{2,3} (.+)$", markdown, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        for name in re.findall(r"`(\w+)`", heading.split(" — ")[0]):
            found[name] = body
    return found


def _sql_blocks(markdown: str) -> list[str]:
    # "```sql lake" blocks attach a lake (their paths are placeholders); tests/test_lake.py runs what
    # `chainwatch db attach` prints instead
    return re.findall(r"^```sql\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def test_data_dictionary_documents_every_column_of_every_view_and_table(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sections = _sections((DOCS / "data-dictionary.md").read_text(encoding="utf-8"))
    tables = ("events", "credentials", "chains", "findings", "alerts", "verdicts", "dead_letters")
    missing = []
    for relation in [*view_names(), *tables]:
        assert relation in sections, f"docs/data-dictionary.md has no section for {relation}"
        for (column,) in con.execute(f"SELECT column_name FROM (DESCRIBE {relation})").fetchall():
            if f"`{column}`" not in sections[relation]:
                missing.append(f"{relation}.{column}")
    assert missing == []


@pytest.fixture(scope="module")
def demo_like_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from streams.simulator.demo import ensure_demo_db

    return ensure_demo_db(tmp_path_factory.mktemp("demo") / "chainwatch.duckdb", sessions=60)


@pytest.mark.parametrize("page", ["data-dictionary.md", "data-model.md"])
def test_every_sql_block_of_the_docs_runs_on_the_demo(page: str, demo_like_db: Path) -> None:
    blocks = _sql_blocks((DOCS / page).read_text(encoding="utf-8"))
    if page == "data-dictionary.md":
        assert len(blocks) >= 5
    connection = duckdb.connect(str(demo_like_db), read_only=True)
    for block in blocks:
        for statement in (s for s in block.split(";") if s.strip() and not _only_comments(s)):
            assert connection.execute(statement).fetchall(), f"no rows on the demo for:\n{statement}"
    connection.close()


def _only_comments(statement: str) -> bool:
    return all(line.strip().startswith("--") or not line.strip() for line in statement.splitlines())


def test_cli_db_views_recreates_the_views_of_an_existing_database(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from streams.cli.main import app

    path = ds.build(tmp_path / "cw.duckdb")
    raw = duckdb.connect(str(path))
    raw.execute("DROP VIEW ingest_health")
    raw.execute("DROP VIEW detector_health")
    raw.close()
    result = CliRunner().invoke(app, ["db", "views", "--db", str(path)])
    assert result.exit_code == 0, result.output
    check = duckdb.connect(str(path), read_only=True)
    assert check.execute("SELECT sum(late_events) FROM ingest_health").fetchone() == (1,)
    check.close()
    missing = CliRunner().invoke(app, ["db", "views", "--db", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code == 2 and "no such DuckDB file" in missing.output
