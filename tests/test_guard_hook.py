"""The Claude Code hook when things go wrong: the service down, hung or refusing; a broken input. It answers
within its hard time limit by the configured default, and nothing it saw is lost: what the service could not
take waits in the spool and reaches the trail once it is back (``chainwatch guard flush``)."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.guard_support import (
    CHAINWATCH,
    PLANTED_IBAN,
    TASK,
    env_for,
    guard_service,
    hook_input,
    run_hook,
)

SESSION = "hook-outage-session"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a hung service."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def pre(use_id: str, tool: str = "mcp__bank__send_money") -> dict[str, object]:
    return hook_input(
        SESSION,
        "PreToolUse",
        tool_name=tool,
        tool_input={"iban": PLANTED_IBAN, "amount": 10},
        tool_use_id=use_id,
    )


@pytest.mark.parametrize(("default", "answer"), [("ask", "ask"), ("deny", "deny"), ("allow", "allow")])
def test_service_down_answers_the_configured_default(tmp_path: Path, default: str, answer: str) -> None:
    env = env_for(tmp_path, CHAINWATCH_GUARD__URL=f"http://127.0.0.1:{free_port()}")
    run = run_hook(pre("toolu_down"), env, "--on-unavailable", default)
    assert run.code == 0 and run.decision == answer
    if answer != "allow":
        reason = run.answer["hookSpecificOutput"]["permissionDecisionReason"]  # type: ignore[index]
        assert "service unavailable" in reason and f"answered {default} by configuration" in reason


def test_a_hung_service_is_answered_within_the_time_limit(tmp_path: Path, silent_server: str) -> None:
    env = env_for(tmp_path, CHAINWATCH_GUARD__URL=silent_server, CHAINWATCH_GUARD__TIMEOUT_SECONDS="1")
    run = run_hook(pre("toolu_hung"), env, "--on-unavailable", "deny")
    assert run.code == 0 and run.decision == "deny"
    assert run.seconds < 6  # 1 s limit plus interpreter start; without the limit it would wait forever
    post = hook_input(
        SESSION,
        "PostToolUse",
        tool_name="Bash",
        tool_input={"command": "ls"},
        tool_use_id="t2",
        tool_response={"stdout": "a.txt", "stderr": ""},
    )
    quiet = run_hook(post, env)
    assert quiet.code == 0 and quiet.stdout == "" and quiet.seconds < 6


def test_unreadable_input_gets_the_default(tmp_path: Path) -> None:
    env = env_for(tmp_path, CHAINWATCH_GUARD__URL=f"http://127.0.0.1:{free_port()}")
    done = subprocess.run(
        [CHAINWATCH, "guard", "hook", "--on-unavailable", "deny"],
        input="{not json",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and '"permissionDecision":"deny"' in done.stdout
    assert "stdin is not JSON" in done.stderr


def test_a_wrong_token_is_refused_and_the_default_answers(tmp_path: Path) -> None:
    with guard_service(tmp_path) as served:
        env = env_for(
            tmp_path, CHAINWATCH_GUARD__URL=served.url, CHAINWATCH_GUARD__TOKEN="not-the-token-at-all"
        )
        run = run_hook(pre("toolu_token"), env, "--on-unavailable", "deny")
    assert run.decision == "deny"
    assert "HTTP 401" in run.answer["hookSpecificOutput"]["permissionDecisionReason"]  # type: ignore[index]


def test_what_happened_during_an_outage_reaches_the_trail_later(tmp_path: Path) -> None:
    port = free_port()
    env = env_for(tmp_path, CHAINWATCH_GUARD__URL=f"http://127.0.0.1:{port}")
    assert run_hook(hook_input(SESSION, "UserPromptSubmit", prompt=TASK), env).code == 0  # spooled
    asked = run_hook(pre("toolu_A", "WebFetch"), env)  # default ask: the human let it run
    assert asked.decision == "ask"
    done = hook_input(
        SESSION,
        "PostToolUse",
        tool_name="WebFetch",
        tool_input={"url": "https://example.com"},
        tool_use_id="toolu_A",
        tool_response={"result": "Example Domain", "code": 200},
    )
    run_hook(done, env)
    refused = run_hook(pre("toolu_B"), env, "--on-unavailable", "deny")
    assert refused.decision == "deny"
    failed = hook_input(
        SESSION,
        "PostToolUseFailure",
        tool_name="Bash",
        tool_input={"command": "make"},
        tool_use_id="toolu_C",
        error="make: *** No rule to make target",
    )
    run_hook(failed, env)

    with guard_service(tmp_path, "--port", str(port)) as served:
        flushed = subprocess.run(
            [CHAINWATCH, "guard", "flush"], env=env, capture_output=True, text=True, timeout=60
        )
        assert flushed.returncode == 0, flushed.stdout + flushed.stderr
        assert "sent 4 spooled reports" in flushed.stdout and "0 left" in flushed.stdout
    with duckdb.connect(str(served.db), read_only=True) as con:
        found = con.execute(
            "SELECT split_part(event_id, ':', 3), kind, decision, outcome, approved_by, decision_reason, "
            "task FROM events WHERE session_id = ? ORDER BY event_time",
            [SESSION],
        ).fetchall()
    by_id = {row[0]: row for row in found}
    assert by_id["prompt"][1:2] == ("session",)
    web = by_id["toolu_A"]
    assert web[2:5] == ("approved", "success", "alice@example.com")  # asked while down, then it ran
    assert "answered ask by configuration" in web[5] and web[6] == TASK
    assert by_id["toolu_B"][2:4] == ("denied", "denied") and "answered deny" in by_id["toolu_B"][5]
    assert by_id["toolu_C"][2:4] == ("unknown", "error")
