"""The decision function and the service's live state, in process, writing a real DuckDB trail: predictive
mode leaves the state alone, denied calls are recorded but never fed, reports settle decisions, calls never
reported expire, dry runs only log, and a restart restores the sessions from the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from detectors.engine import Engine
from detectors.registry import load_catalog
from schemas.events import AnyEvent, ToolCall
from streams.guard.live import Guard
from streams.guard.policy import Policy, Rule
from streams.guard.trail import DuckDBTrail
from streams.guard.wire import read_event, read_proposal, read_report
from streams.store.database import Store
from tests.guard_support import INJECTED, PLANTED_IBAN, TASK

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
SESSION = "live-session"
ENGINE = Engine(load_catalog().detectors)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def common(**extra: Any) -> dict[str, Any]:
    return {
        "session_id": SESSION,
        "agent_id": "claude-code",
        "principal": "alice@example.com",
        "credential_id": "cred-7",
        **extra,
    }


def start(task: str = TASK) -> AnyEvent:
    session = {k: v for k, v in common().items() if k != "credential_id"}
    return read_event(
        {
            **session,
            "kind": "session",
            "action": "start",
            "task": task,
            "event_id": "start",
            "event_time": at(0),
        }
    )


def inbox(outcome: str = "success") -> AnyEvent:
    return read_event(
        {
            **common(),
            "event_id": "read-1",
            "tool": "read_inbox",
            "event_time": at(5),
            "outcome": outcome,
            "untrusted_content": True,
            "result_summary": INJECTED,
        }
    )


def payment(event_id: str = "pay-1", seconds: float = 10) -> ToolCall:
    return read_proposal(
        {
            **common(),
            "event_id": event_id,
            "tool": "send_money",
            "event_time": at(seconds),
            "arguments": {"iban": PLANTED_IBAN, "amount": 4800},
        }
    )


def benign(event_id: str = "note-1", seconds: float = 12) -> ToolCall:
    return read_proposal(
        {
            **common(),
            "event_id": event_id,
            "tool": "write_file",
            "event_time": at(seconds),
            "arguments": {"path": "/home/alice/notes/summary.md", "content": "A supplier reminder."},
        }
    )


def ran(call: ToolCall, outcome: str = "success", **fields: Any) -> AnyEvent:
    """The call as its client reports it after it ran (or was refused)."""
    return read_event({**call.model_dump(mode="json", exclude_none=True), "outcome": outcome, **fields})


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[Guard]:
    made = Guard(ENGINE, Policy(), DuckDBTrail.open(tmp_path / "trail.duckdb"))
    yield made
    made.close()


def settle(guard: Guard, events: list[AnyEvent]) -> None:
    _, written = guard.report(events)
    assert written is not None
    written.result(timeout=30)


def test_the_injected_payment_is_denied_recorded_and_never_fed(guard: Guard, tmp_path: Path) -> None:
    settle(guard, [start(), inbox()])
    state = guard.state_of("session", SESSION)
    assert state is not None
    before = orjson.dumps(state.to_dict())

    verdict, written = guard.decide(payment())
    assert verdict.decision == "deny" and verdict.rule == "deny-critical"
    assert verdict.detectors[0] == "injection.tainted_action" and verdict.risk > 70
    assert written is not None
    written.result(timeout=30)
    assert orjson.dumps(state.to_dict()) == before  # predictive: nothing moved, not even after the denial

    again, _ = guard.decide(payment("pay-2", 20))
    assert again.decision == "deny"  # a retry is judged afresh
    ok, _ = guard.decide(benign())
    assert ok.decision == "allow" and ok.reason.startswith("allow: no detector spoke")
    guard.close()
    db = tmp_path / "trail.duckdb"
    assert rows(
        db,
        "SELECT event_id, decision, outcome, task, credential_id FROM events WHERE tool = 'send_money' "
        "ORDER BY 1",
    ) == [
        ("pay-1", "denied", "denied", TASK, "cred-7"),
        ("pay-2", "denied", "denied", TASK, "cred-7"),
    ]
    assert rows(db, "SELECT decision, outcome, decision_reason FROM events WHERE event_id = 'note-1'") == [
        ("allowed_by_rule", "unknown", ok.reason + "; no report of its execution followed")
    ]


def test_without_the_injection_the_same_payment_passes(guard: Guard) -> None:
    # the user asked for this payment: no injection planted the account, so nothing stands in its way (a
    # payment in a task that only asked for a summary is itself off task: scope.acted_on_a_question)
    settle(guard, [start(f"Pay 4,800 EUR to {PLANTED_IBAN} for the March invoice.")])
    verdict, _ = guard.decide(payment())
    assert verdict.decision == "allow", verdict.reason


def test_a_report_settles_the_decision_and_moves_the_state(guard: Guard, tmp_path: Path) -> None:
    settle(guard, [start()])
    verdict, _ = guard.decide(benign())
    assert "note-1" in guard.pending
    executed = ran(benign(), result_summary="written")
    settle(guard, [executed, executed])  # sent twice (a client retry): fed once
    state = guard.state_of("session", SESSION)
    assert state is not None and state.ctx.tool_calls == 1 and "note-1" not in guard.pending
    guard.close()
    assert rows(
        tmp_path / "trail.duckdb",
        "SELECT decision, outcome, decision_reason, task FROM events WHERE event_id = 'note-1'",
    ) == [("allowed_by_rule", "success", verdict.reason, TASK)]
    assert rows(
        tmp_path / "trail.duckdb", "SELECT task, tool_calls FROM chains WHERE session_id = ?", [SESSION]
    ) == [(TASK, 1)]


def test_an_asked_call_that_ran_was_approved_by_the_human(tmp_path: Path) -> None:
    policy = Policy(rules=(Rule(name="ask-injection", detectors=("injection.*",), decision="ask"),))
    guard = Guard(ENGINE, policy, DuckDBTrail.open(tmp_path / "trail.duckdb"))
    settle(guard, [start(), inbox()])
    verdict, _ = guard.decide(payment())
    assert (verdict.decision, verdict.rule) == ("ask", "ask-injection")
    settle(guard, [ran(payment())])
    guard.decide(payment("pay-2", 20))
    settle(guard, [ran(payment("pay-2", 20), "denied")])  # the human said no
    guard.close()
    assert rows(
        tmp_path / "trail.duckdb",
        "SELECT event_id, decision, approved_by, outcome FROM events WHERE tool = 'send_money' ORDER BY 1",
    ) == [
        ("pay-1", "approved", "alice@example.com", "success"),
        ("pay-2", "denied", None, "denied"),
    ]


def test_a_dry_run_answers_allow_and_records_what_it_would_have_done(tmp_path: Path) -> None:
    guard = Guard(ENGINE, Policy(), DuckDBTrail.open(tmp_path / "trail.duckdb"), dry_run=True)
    settle(guard, [start(), inbox()])
    verdict, written = guard.decide(payment())
    assert (verdict.decision, verdict.judged, verdict.dry_run) == ("allow", "deny", True)
    assert verdict.reason.startswith("dry run, would deny (rule deny-critical)") and written is None
    settle(guard, [ran(payment())])
    guard.close()
    assert rows(
        tmp_path / "trail.duckdb", "SELECT decision, decision_reason FROM events WHERE event_id = 'pay-1'"
    ) == [("allowed_by_rule", verdict.reason)]


def test_calls_never_reported_expire_asked_ones_with_an_unknown_decision(tmp_path: Path) -> None:
    now = [1000.0]
    policy = Policy(rules=(Rule(name="ask-injection", detectors=("injection.*",), decision="ask"),))
    guard = Guard(
        ENGINE, policy, DuckDBTrail.open(tmp_path / "trail.duckdb"), pending_seconds=60, clock=lambda: now[0]
    )
    settle(guard, [start(), inbox()])
    guard.decide(payment())
    now[0] += 59
    assert guard.expire() is None
    now[0] += 2
    expired = guard.expire()
    assert expired is not None
    expired.result(timeout=30)
    assert guard.counters.expired == 1 and not guard.pending
    guard.close()
    found = rows(
        tmp_path / "trail.duckdb",
        "SELECT decision, outcome, decision_reason FROM events WHERE event_id = 'pay-1'",
    )
    assert found[0][:2] == ("unknown", "unknown") and found[0][2].endswith(
        "no report of its execution followed"
    )


def test_a_restart_restores_the_sessions_from_the_database(tmp_path: Path) -> None:
    db = tmp_path / "trail.duckdb"
    first = Guard(ENGINE, Policy(), DuckDBTrail.open(db))
    settle(first, [start(), inbox()])
    first.decide(payment())  # denied: stored, and must stay out of the restored state too
    first.close()

    second = Guard(ENGINE, Policy(), None)
    with Store(db) as store:
        fed = second.restore(store, T0 - timedelta(hours=1))
    assert fed == 2  # the start and the read; the denied payment is history, not state
    verdict, _ = second.decide(payment("pay-9", 30))
    assert verdict.decision == "deny" and verdict.detectors[0] == "injection.tainted_action"

    cold = Guard(ENGINE, Policy(), None)
    with Store(db) as store:
        assert cold.restore(store, datetime.now(UTC) + timedelta(hours=1)) == 0  # nothing that recent


def test_a_report_keeps_the_good_events_and_dead_letters_the_rest(guard: Guard, tmp_path: Path) -> None:
    events, letters = read_report({"events": [{**common(), "tool": "ls", "outcome": "success"}, {"tool": 7}]})
    assert len(events) == 1 and len(letters) == 1 and "session_id': Field required" in letters[0].reason
    _, written = guard.report(events, letters)
    assert written is not None
    written.result(timeout=30)
    guard.close()
    assert rows(tmp_path / "trail.duckdb", "SELECT origin, stage FROM dead_letters") == [
        ("guard/v1/report", "report")
    ]
