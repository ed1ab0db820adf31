"""``chainwatch guard serve`` without ``--db``: decisions and calls go to the real broker's events topic, and
``chainwatch load`` stores them in DuckDB with their decision, reason, task and credential."""

from __future__ import annotations

import re

import pytest

from tests.guard_support import INJECTED, PLANTED_IBAN, TASK, TOKEN, hook_input, run_hook
from tests.test_stream_e2e import Pipeline, pipeline, wait_for  # noqa: F401  (fixture)

pytestmark = pytest.mark.kafka


def test_guard_decisions_reach_duckdb_through_kafka(pipeline: Pipeline) -> None:  # noqa: F811
    pipeline.create_topics()
    guard_env = {"CHAINWATCH_GUARD__TOKEN": TOKEN}
    guard = pipeline.start("guard", "streams.cli", "guard", "serve", "--port", "0", env=guard_env)

    def listening() -> str | None:
        if not guard.alive():
            pytest.fail(f"guard serve exited:\n{guard.output()}")
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", guard.output())
        return found.group(1) if found else None

    url: str = wait_for("the guard to listen", listening, 90)
    env = {
        **pipeline.env,
        "CHAINWATCH_GUARD__URL": url,
        "CHAINWATCH_GUARD__TOKEN": TOKEN,
        "CHAINWATCH_GUARD__SPOOL_PATH": str(pipeline.tmp / "spool.sqlite"),
        "CHAINWATCH_GUARD__CREDENTIAL_ID": "cred-kafka-1",
    }
    session = "guard-kafka-session"
    run_hook(hook_input(session, "UserPromptSubmit", prompt=TASK), env)
    read = {"tool_name": "mcp__mail__read_inbox", "tool_input": {}, "tool_use_id": "toolu_R"}
    assert run_hook(hook_input(session, "PreToolUse", **read), env).decision == "allow"
    run_hook(
        hook_input(session, "PostToolUse", **read, tool_response=[{"type": "text", "text": INJECTED}]), env
    )
    pay = {"tool_name": "mcp__bank__send_money", "tool_input": {"iban": PLANTED_IBAN, "amount": 4800}}
    assert run_hook(hook_input(session, "PreToolUse", **pay, tool_use_id="toolu_P"), env).decision == "deny"
    assert guard.terminate(timeout=60) == 0, guard.output()

    loader = pipeline.start_loader()
    pipeline.finish_loading(loader)
    rows = pipeline.query(
        "SELECT split_part(event_id, ':', 3), decision, outcome, task, credential_id, decision_reason "
        f"FROM events WHERE session_id = '{session}' AND kind = 'tool_call' ORDER BY event_time"
    )
    assert [r[:5] for r in rows] == [
        ("toolu_R", "allowed_by_rule", "success", TASK, "cred-kafka-1"),
        ("toolu_P", "denied", "denied", TASK, "cred-kafka-1"),
    ]
    assert rows[1][5].startswith("deny (rule deny-critical): injection.tainted_action")
