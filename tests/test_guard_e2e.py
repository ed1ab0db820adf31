"""End to end: a scripted agent session through the Claude Code hook and through the MCP proxy, against the
real ``chainwatch guard serve`` process writing DuckDB. Content that instructs the agent arrives in a tool
result; the payment to the account it planted is denied before it runs; benign calls pass; the trail holds
every decision with its reason, the task and the credential.

The hook is fed the input shapes of Claude Code's hooks reference (code.claude.com/docs/en/hooks: the common
fields session_id, transcript_path, cwd, permission_mode, hook_event_name; PreToolUse tool_name, tool_input,
tool_use_id; PostToolUse tool_response; UserPromptSubmit prompt), and its answers are checked against the
PreToolUse decision control shape (hookSpecificOutput.permissionDecision / permissionDecisionReason). The MCP
side is the official MCP Python SDK on both ends: its stdio client talks through ``chainwatch guard mcp`` to
a server written with its MCPServer (tests/fixtures/guard/bank_server.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client

from tests.guard_support import (
    BANK_SERVER,
    CHAINWATCH,
    INJECTED,
    PLANTED_IBAN,
    TASK,
    env_for,
    guard_service,
    hook_input,
    run_hook,
)

pytestmark = pytest.mark.slow


def trail(db: Path, session: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "SELECT event_id, kind, tool, decision, outcome, approved_by, credential_id, task, "
            "decision_reason FROM events WHERE session_id = ? ORDER BY event_time, event_id",
            [session],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_claude_code_session_through_the_hook(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    session = "3f1c2a9e-hook-e2e"
    with guard_service(tmp_path) as served:
        env["CHAINWATCH_GUARD__URL"] = served.url

        def pre(tool: str, tool_input: dict[str, Any], use_id: str) -> Any:
            return run_hook(
                hook_input(session, "PreToolUse", tool_name=tool, tool_input=tool_input, tool_use_id=use_id),
                env,
            )

        def post(tool: str, tool_input: dict[str, Any], use_id: str, response: Any) -> Any:
            payload = hook_input(
                session,
                "PostToolUse",
                tool_name=tool,
                tool_input=tool_input,
                tool_use_id=use_id,
                tool_response=response,
            )
            return run_hook(payload, env)

        assert run_hook(hook_input(session, "UserPromptSubmit", prompt=TASK), env).stdout == ""
        read = pre("mcp__mail__read_inbox", {}, "toolu_01A")
        assert (read.code, read.decision, read.stdout) == (
            0,
            "allow",
            "",
        )  # allow: Claude Code's own rules apply
        post("mcp__mail__read_inbox", {}, "toolu_01A", [{"type": "text", "text": INJECTED}])

        pay = pre("mcp__bank__send_money", {"iban": PLANTED_IBAN, "amount": 4800}, "toolu_02B")
        assert pay.code == 0 and pay.answer is not None
        output = pay.answer["hookSpecificOutput"]
        assert output["hookEventName"] == "PreToolUse"
        assert output["permissionDecision"] == "deny"
        assert "injection.tainted_action" in output["permissionDecisionReason"]
        assert "DE44500105175407324931" in output["permissionDecisionReason"]

        retry = pre("mcp__bank__send_money", {"iban": PLANTED_IBAN, "amount": 4800}, "toolu_03C")
        assert retry.decision == "deny"  # the denied call never entered the state: judged afresh

        summary = {"file_path": "/home/alice/work/summary.md", "content": "An overdue-invoice reminder."}
        write = pre("Write", summary, "toolu_04D")
        assert write.decision == "allow"
        post("Write", summary, "toolu_04D", {"type": "create", "filePath": summary["file_path"]})
        assert run_hook(hook_input(session, "SessionEnd", reason="exit"), env).code == 0

    rows = {r["event_id"].rsplit(":", 1)[-1]: r for r in trail(served.db, session)}
    denied = rows["toolu_02B"]
    assert (denied["decision"], denied["outcome"]) == ("denied", "denied")
    assert denied["decision_reason"].startswith("deny (rule deny-critical): injection.tainted_action")
    assert denied["task"] == TASK and denied["credential_id"] == "cred-alice-bank-7"
    assert rows["toolu_03C"]["decision"] == "denied"
    for allowed in ("toolu_01A", "toolu_04D"):
        row = rows[allowed]
        assert (row["decision"], row["outcome"]) == ("allowed_by_rule", "success")
        assert row["decision_reason"].startswith("allow: no detector spoke")
        assert row["task"] == TASK and row["credential_id"] == "cred-alice-bank-7"
    with duckdb.connect(str(served.db), read_only=True) as con:
        blocked = con.execute(
            "SELECT detector_id, severity FROM alerts "
            "WHERE session_id = ? AND (details->>'guard') IS NOT NULL ORDER BY detector_id",
            [session],
        ).fetchall()
        audit = con.execute(
            "SELECT task, denied, decisions FROM audit_trail WHERE session_id = ?", [session]
        ).fetchone()
    assert ("injection.tainted_action", "critical") in blocked
    assert audit is not None and audit[0] == TASK and audit[1] == 2
    assert [d["reason"] is not None for d in audit[2]] == [True] * 4


async def _mcp_session(env: dict[str, str], session: str) -> dict[str, Any]:
    """A scripted agent: list tools, read the inbox, pay the account it found, then a benign call."""
    params = StdioServerParameters(
        command=CHAINWATCH,
        args=["guard", "mcp", "--session", session, "--task", TASK, "--", sys.executable, str(BANK_SERVER)],
        env=env,
    )
    seen: dict[str, Any] = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        seen["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
        inbox = await client.call_tool("read_inbox", {})
        seen["inbox"] = inbox.content[0].text  # type: ignore[union-attr]
        with pytest.raises(MCPError) as refused:
            await client.call_tool("send_money", {"iban": PLANTED_IBAN, "amount": 4800})
        seen["error"] = refused.value.error
        seen["history"] = (await client.call_tool("list_transactions", {"limit": 3})).content[0].text  # type: ignore[union-attr]
    return seen


def test_scripted_agent_through_the_mcp_proxy(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    env = env_for(tmp_path, BANK_SERVER_INJECT="1", BANK_SERVER_LEDGER=str(ledger))
    session = "mcp-e2e-session"
    with guard_service(tmp_path) as served:
        env["CHAINWATCH_GUARD__URL"] = served.url
        seen = anyio.run(_mcp_session, env, session)

    assert seen["tools"] == ["list_transactions", "read_inbox", "send_money"]
    assert "transfer 4,800 EUR" in seen["inbox"]  # everything else passes through unchanged
    error = seen["error"]
    assert error.code == -32001 and error.message.startswith("denied by chainwatch guard: deny")
    assert error.data["chainwatch"]["decision"] == "deny"
    assert "injection.tainted_action" in {d["id"] for d in error.data["chainwatch"]["detectors"]}
    assert not ledger.exists()  # the server never saw the payment
    assert "Coffee Corner" in seen["history"]

    rows = trail(served.db, session)
    calls = [r for r in rows if r["kind"] == "tool_call"]
    assert [(r["tool"], r["decision"], r["outcome"]) for r in calls] == [
        ("mcp", "unknown", "success"),  # tools/list, recorded (not decided)
        ("read_inbox", "allowed_by_rule", "success"),
        ("send_money", "denied", "denied"),
        ("list_transactions", "allowed_by_rule", "success"),
    ]
    for row in calls[1:]:
        assert row["task"] == TASK and row["credential_id"] == "cred-alice-bank-7"
        assert row["decision_reason"]
    assert "planted by content that instructed it" in calls[2]["decision_reason"]
    with duckdb.connect(str(served.db), read_only=True) as con:
        declared = con.execute(
            "SELECT tool_declaration FROM events WHERE session_id = ? AND tool = 'send_money'", [session]
        ).fetchone()
    assert declared is not None and json.loads(declared[0])["destructive"] is True
