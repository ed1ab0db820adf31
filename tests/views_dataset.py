"""A small dataset, built from the contract's models, whose view results are computed by hand in
tests/test_views.py (and reused by the Parquet round-trip tests).

Three sessions over two days (UTC):

* ``s1`` (agent-a for alice, 2026-03-02 10:00): task-scoped credential ``c1`` (issuer sts, TTL 3600 s,
  three scopes: two S3 patterns the calls match, ``kms:Decrypt`` that nothing uses); three calls —
  allowed in prod, approved by bob in staging, denied in dev (``logs/a`` is touched in prod and dev);
  session end at +100 s, revocation at +160 s (60 s after the task ended).
* ``s2`` (agent-a for carol, 11:00): inherited human credential ``h1`` (issuer iam, scope ``*``, no TTL,
  never revoked); bypass permission mode; two calls (unknown env, prod); no end event (last event +10 s).
* ``s3`` (agent-b, 2026-03-03 09:00, streamed: every event has an ingest time): no credential; three
  read_file calls in dev, one of them 390 s older than the newest event already ingested (late) and one
  270 s older (within the 300 s allowed lateness).

Alerts: ``a1`` never_revoked on s2 (risk 80), ``a2`` escalation on s2 (risk 95), ``a3`` never_revoked on s1
(risk 40, suppressed by rule ``rule-1``). Findings: one per alert, plus ``f4`` (never_revoked on s1, held
back by the engine's suppression) and ``f5`` (an experimental detector on s3, 2026-03-03). Verdicts: a1
true-positive then false-positive (the latest wins), a2 true-positive and benign recorded in the same
instant (a tie: the graver, true-positive, wins). Dead letters: a parse failure on
2026-03-03 and a validation failure on 2026-03-04.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.adapters.base import DeadLetter
from schemas.alerts import Alert, ChainSummary, Finding
from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall
from schemas.types import (
    CredentialAction,
    Decision,
    Environment,
    Maturity,
    Outcome,
    SessionAction,
    Severity,
)
from streams.store.database import Batch, Store, dead_letter_row

T1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # s1 starts
T2 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # s2 starts
T3 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # s3 starts


def at(base: datetime, seconds: float) -> datetime:
    return base + timedelta(seconds=seconds)


C1_SCOPES = ("kms:Decrypt", "s3:GetObject arn:aws:s3:::logs/*", "s3:PutObject arn:aws:s3:::logs/*")


def _call(
    event_id: str, when: datetime, session: str, agent: str, tool: str, action: str, target: str, **extra: Any
) -> ToolCall:
    return ToolCall(
        event_id=event_id,
        event_time=when,
        source="test",
        session_id=session,
        agent_id=agent,
        tool=tool,
        action=action,
        target=target,
        **extra,
    )


def events() -> list[AnyEvent]:
    s1: list[AnyEvent] = [
        SessionEvent(
            event_id="s1-start",
            event_time=T1,
            source="test",
            session_id="s1",
            agent_id="agent-a",
            principal="alice",
            action=SessionAction.START,
            task="rotate the logs",
        ),
        CredentialEvent(
            event_id="s1-issued",
            event_time=at(T1, 1),
            source="test",
            session_id="s1",
            agent_id="agent-a",
            credential_id="c1",
            action=CredentialAction.ISSUED,
            subject="agent-a",
            on_behalf_of="alice",
            scopes=C1_SCOPES,
            ttl_seconds=3600,
            expires_at=at(T1, 3601),
            issuer="sts",
        ),
        _call(
            "s1-get",
            at(T1, 10),
            "s1",
            "agent-a",
            "aws",
            "GetObject",
            "arn:aws:s3:::logs/a",
            environment=Environment.PROD,
            decision=Decision.ALLOWED_BY_RULE,
            outcome=Outcome.SUCCESS,
            credential_id="c1",
        ),
        _call(
            "s1-put",
            at(T1, 20),
            "s1",
            "agent-a",
            "aws",
            "PutObject",
            "arn:aws:s3:::logs/b",
            environment=Environment.STAGING,
            decision=Decision.APPROVED,
            approved_by="bob",
            outcome=Outcome.SUCCESS,
            credential_id="c1",
        ),
        _call(
            "s1-del",
            at(T1, 30),
            "s1",
            "agent-a",
            "aws",
            "DeleteObject",
            "arn:aws:s3:::logs/a",
            environment=Environment.DEV,
            decision=Decision.DENIED,
            outcome=Outcome.DENIED,
            credential_id="c1",
        ),
        CredentialEvent(
            event_id="s1-used",
            event_time=at(T1, 40),
            source="test",
            session_id="s1",
            agent_id="agent-a",
            credential_id="c1",
            action=CredentialAction.USED,
        ),
        SessionEvent(
            event_id="s1-end",
            event_time=at(T1, 100),
            source="test",
            session_id="s1",
            agent_id="agent-a",
            action=SessionAction.END,
        ),
        CredentialEvent(
            event_id="s1-revoked",
            event_time=at(T1, 160),
            source="test",
            session_id="s1",
            agent_id="agent-a",
            credential_id="c1",
            action=CredentialAction.REVOKED,
        ),
    ]
    s2: list[AnyEvent] = [
        SessionEvent(
            event_id="s2-start",
            event_time=T2,
            source="test",
            session_id="s2",
            agent_id="agent-a",
            principal="carol",
            action=SessionAction.START,
            task="clean up IAM users",
        ),
        CredentialEvent(
            event_id="s2-issued",
            event_time=T2,
            source="test",
            session_id="s2",
            agent_id="agent-a",
            credential_id="h1",
            action=CredentialAction.ISSUED,
            subject="carol",
            scopes=("*",),
            issuer="iam",
            inherited_from_human=True,
        ),
        SessionEvent(
            event_id="s2-mode",
            event_time=at(T2, 1),
            source="test",
            session_id="s2",
            agent_id="agent-a",
            action=SessionAction.PERMISSION_MODE,
            permission_mode="bypassPermissions",
        ),
        _call(
            "s2-cat",
            at(T2, 5),
            "s2",
            "agent-a",
            "bash",
            "exec",
            "/etc/passwd",
            decision=Decision.AUTO_ALLOWED,
            outcome=Outcome.SUCCESS,
            credential_id="h1",
        ),
        _call(
            "s2-user",
            at(T2, 10),
            "s2",
            "agent-a",
            "iam",
            "CreateUser",
            "arn:aws:iam::1:user/x",
            environment=Environment.PROD,
            decision=Decision.AUTO_ALLOWED,
            outcome=Outcome.SUCCESS,
            credential_id="h1",
        ),
    ]
    s3: list[AnyEvent] = [
        SessionEvent(
            event_id="s3-start",
            event_time=T3,
            ingest_time=T3,
            source="test",
            session_id="s3",
            agent_id="agent-b",
            action=SessionAction.START,
            task="summarise the README",
        ),
        _call(
            "s3-read",
            at(T3, 10),
            "s3",
            "agent-b",
            "read_file",
            "read",
            "README.md",
            ingest_time=at(T3, 10),
            environment=Environment.DEV,
            decision=Decision.AUTO_ALLOWED,
        ),
        SessionEvent(
            event_id="s3-end",
            event_time=at(T3, 30),
            ingest_time=at(T3, 30),
            source="test",
            session_id="s3",
            agent_id="agent-b",
            action=SessionAction.END,
        ),
        # ingested after the end (newest so far 09:00:30): 390 s older -> late; 270 s older -> on time
        _call(
            "s3-late",
            at(T3, -360),
            "s3",
            "agent-b",
            "read_file",
            "read",
            "notes.txt",
            ingest_time=at(T3, 60),
            environment=Environment.DEV,
            decision=Decision.AUTO_ALLOWED,
        ),
        _call(
            "s3-ontime",
            at(T3, -240),
            "s3",
            "agent-b",
            "read_file",
            "read",
            "README.md",
            ingest_time=at(T3, 90),
            environment=Environment.DEV,
            decision=Decision.AUTO_ALLOWED,
        ),
    ]
    return s1 + s2 + s3


def chains() -> list[ChainSummary]:
    return [
        ChainSummary(
            session_id="s1",
            agent_id="agent-a",
            principal="alice",
            task="rotate the logs",
            started_at=T1,
            last_event_at=at(T1, 160),
            ended_at=at(T1, 100),
            event_count=8,
            tool_calls=3,
            distinct_tools=1,
            distinct_targets=2,
            max_risk=40.0,
            alert_count=1,
            finding_count=2,
            closed=True,
        ),
        ChainSummary(
            session_id="s2",
            agent_id="agent-a",
            principal="carol",
            task="clean up IAM users",
            started_at=T2,
            last_event_at=at(T2, 10),
            event_count=5,
            tool_calls=2,
            distinct_tools=2,
            distinct_targets=2,
            max_risk=95.0,
            alert_count=2,
            finding_count=2,
            closed=True,
        ),
        ChainSummary(
            session_id="s3",
            agent_id="agent-b",
            task="summarise the README",
            started_at=at(T3, -360),
            last_event_at=at(T3, 30),
            ended_at=at(T3, 30),
            event_count=5,
            tool_calls=3,
            distinct_tools=1,
            distinct_targets=2,
            max_risk=5.0,
            finding_count=1,
            closed=True,
        ),
    ]


def _detection(ident: str, detector: str, session: str, risk: float, when: datetime) -> dict[str, Any]:
    return {
        "detector_id": detector,
        "session_id": session,
        "key": session,
        "agent_id": "agent-a",
        "severity": Severity.HIGH,
        "risk_score": risk,
        "title": f"{detector} on {session}",
        "event_ids": (f"{session}-start",),
        "first_seen": when,
        "last_seen": when,
    }


ALERTS = {
    "a1": ("credential.never_revoked", "s2", 80.0, at(T2, 10)),
    "a2": ("privilege.escalation_chain", "s2", 95.0, at(T2, 10)),
    "a3": ("credential.never_revoked", "s1", 40.0, at(T1, 100)),
}


def alerts() -> list[Alert]:
    return [Alert(alert_id=ident, **_detection(ident, *spec)) for ident, spec in ALERTS.items()]


def findings() -> list[Finding]:
    found = [
        Finding(finding_id=ident, maturity=Maturity.STABLE, **_detection(ident, *spec))
        for ident, spec in ALERTS.items()
    ]
    held = _detection("f4", "credential.never_revoked", "s1", 40.0, at(T1, 100))
    held["details"] = {"suppressed_by": "dedup"}
    found.append(Finding(finding_id="f4", maturity=Maturity.STABLE, **held))
    found.append(
        Finding(
            finding_id="f5",
            maturity=Maturity.EXPERIMENTAL,
            **_detection("f5", "behaviour.anomaly", "s3", 5.0, at(T3, 10)),
        )
    )
    return found


VERDICTS = [
    ("a1", "true-positive", "looked real", "ana", at(T2, 3600)),
    ("a1", "false-positive", "a test account", "ben", at(T2, 5400)),
    ("a2", "true-positive", None, "ana", at(T2, 3600)),
    ("a2", "benign", "same instant: a tie", "cem", at(T2, 3600)),  # a tie: the graver verdict wins
]

DEAD_LETTERS = [
    (DeadLetter(origin="in.jsonl", record_no=4, stage="parse", reason="not JSON", raw="{oops"), at(T3, 3600)),
    (
        DeadLetter(origin="in.jsonl", record_no=9, stage="validate", reason="event_time missing", raw="{}"),
        datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
    ),
]


def build(path: Path) -> Path:
    """Write the dataset to a DuckDB file through the store (the views are created on open)."""
    with Store(path) as store:
        store.write(
            Batch(
                events=events(),
                chains=chains(),
                findings=findings(),
                alerts=alerts(),
                suppressions={"a3": ("rule-1", "known noisy session")},
            )
        )
        store.con.executemany(
            "INSERT INTO verdicts (alert_id, status, note, analyst, recorded_at) VALUES (?, ?, ?, ?, ?)",
            [list(v) for v in VERDICTS],
        )
        for letter, received in DEAD_LETTERS:
            row = dead_letter_row(letter, received)
            store.con.execute(
                "INSERT INTO dead_letters (dead_letter_id, origin, record_no, stage, reason, raw, "
                "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    row[n]
                    for n in (
                        "dead_letter_id",
                        "origin",
                        "record_no",
                        "stage",
                        "reason",
                        "raw",
                        "received_at",
                    )
                ],
            )
    return path
