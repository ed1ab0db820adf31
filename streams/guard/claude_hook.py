"""``chainwatch guard hook``: the Claude Code hook command (docs/guard.md has the settings.json snippet).

Claude Code runs it with one JSON object on stdin; ``hook_event_name`` says which event:

* ``PreToolUse`` (``tool_name``, ``tool_input``, ``tool_use_id``): asks the service and prints
  ``{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny" | "ask",
  "permissionDecisionReason": …}}``; on allow it prints nothing, so Claude Code's own permission rules
  still apply (the guard never grants what they would ask for);
* ``PostToolUse`` (``tool_response``) and ``PostToolUseFailure`` (``error``): report the executed call with
  its result; the result of a tool that reads outside content (the web, files, shell output, any MCP
  server) is marked untrusted, which is what the injection detectors follow;
* ``UserPromptSubmit`` (``prompt``): the task (a session ``start`` with the prompt, as chainwatch's Claude
  Code telemetry adapter reads it); ``SessionEnd``: the session's end. Other events are ignored.

Hard limits: the whole run answers within ``CHAINWATCH_GUARD__TIMEOUT_SECONDS`` (a watchdog prints the
configured default and exits if anything hangs). When the service is down, a PreToolUse gets
``CHAINWATCH_GUARD__ON_UNAVAILABLE`` (allow = fail open, deny = fail closed, ask) and its decision is
spooled; reports are spooled too and sent by a later hook run (or ``chainwatch guard flush``).

Standard library and orjson only (see ``client.py``): this runs on every tool call.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.guard.client import ClientConfig, GuardClient, Unavailable

SOURCE = "claude-code-hook"
DEFAULT_AGENT = "claude-code"
# Tools whose results carry content from outside the user's own words: a web page, a file, a command's
# output. MCP tools (mcp__<server>__<tool>) always do.
UNTRUSTED_TOOLS = frozenset({"WebFetch", "WebSearch", "Read", "Grep", "Bash", "BashOutput", "NotebookRead"})
MAX_RESULT = 4000


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def call_id(data: dict[str, Any]) -> str:
    """The same id at PreToolUse and PostToolUse: Claude Code's tool_use_id, else a digest of the call."""
    session = str(data.get("session_id") or "unknown")
    use_id = data.get("tool_use_id")
    if use_id:
        return f"{SOURCE}:{session}:{use_id}"
    digest = hashlib.sha256(
        orjson.dumps([data.get("tool_name"), data.get("tool_input")], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()[:24]
    return f"{SOURCE}:{session}:{digest}"


def tool_and_action(name: str) -> tuple[str, str]:
    if name.startswith("mcp__"):
        return name, name.rsplit("__", 1)[-1]
    return name, "exec" if name == "Bash" else name


def base(data: dict[str, Any], config: ClientConfig) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "session_id": str(data.get("session_id") or "unknown"),
        "agent_id": config.agent_id or DEFAULT_AGENT,
        "principal": config.who(),
    }


def tool_call(data: dict[str, Any], config: ClientConfig) -> dict[str, Any]:
    name = str(data.get("tool_name") or "unknown")
    tool, action = tool_and_action(name)
    arguments = data.get("tool_input")
    call: dict[str, Any] = {
        **base(data, config),
        "kind": "tool_call",
        "event_id": call_id(data),
        "event_time": now_iso(),
        "tool": tool,
        "action": action,
        "arguments": arguments if isinstance(arguments, dict) else {"input": arguments},
        "environment": config.environment,
    }
    if config.credential_id:
        call["credential_id"] = config.credential_id
    return call


def summary(response: Any) -> str:
    """A tool response as text: its stdout/stderr, content or result, else its JSON."""
    if isinstance(response, str):
        text = response
    elif isinstance(response, list):  # MCP content blocks
        text = "\n".join(
            str(b.get("text")) if isinstance(b, dict) and b.get("text") is not None else str(b)
            for b in response
        )
    elif isinstance(response, dict):
        parts = [
            str(response[k]) for k in ("stdout", "stderr", "result", "content", "output") if response.get(k)
        ]
        file = response.get("file")
        if isinstance(file, dict) and file.get("content"):
            parts.append(str(file["content"]))
        text = "\n".join(parts) if parts else orjson.dumps(response, default=str).decode()
    else:
        text = "" if response is None else str(response)
    return text[:MAX_RESULT]


def untrusted(tool: str) -> bool:
    return tool.startswith("mcp__") or tool in UNTRUSTED_TOOLS


class Answer:
    """Prints exactly one answer, whoever comes first: the hook or the watchdog."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = False

    def give(self, text: str) -> bool:
        with self._lock:  # written under the lock: the watchdog may end the process right after
            if self.done:
                return False
            self.done = True
            if text:
                sys.stdout.write(text + "\n")
            sys.stdout.flush()
        return True


def pre_tool_use(decision: str, reason: str) -> str:
    if decision == "allow":
        return ""  # no objection: Claude Code's own permission rules decide as usual
    return orjson.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": f"chainwatch guard: {reason}",
            }
        }
    ).decode()


def decided_while_down(client: GuardClient, event_id: str, config: ClientConfig) -> dict[str, Any]:
    """What this hook answered at PreToolUse while the service was down (kept in the spool), for the
    executed call's record: the call ran, so an "ask" was approved by the human at the terminal."""
    kept = client.spool.get(event_id)
    if kept is None or not kept.get("decision_reason"):
        return {}
    fields: dict[str, Any] = {"decision_reason": kept["decision_reason"]}
    if kept.get("decision") == "allowed_by_rule":
        fields["decision"] = "allowed_by_rule"
    elif kept.get("decision") in (None, "unknown"):
        fields.update(decision="approved", approved_by=config.who())
    return fields


def fallback_reason(config: ClientConfig, why: str) -> str:
    return f"service unavailable ({why[:200]}); answered {config.on_unavailable} by configuration"


def handle(data: dict[str, Any], client: GuardClient, answer: Answer, deadline: float) -> None:
    config = client.config
    event = str(data.get("hook_event_name") or "")
    if event == "PreToolUse":
        call = tool_call(data, config)
        try:
            verdict = client.decide(call, deadline)
            answer.give(pre_tool_use(str(verdict["decision"]), str(verdict.get("reason") or "")))
        except Unavailable as exc:
            reason = fallback_reason(config, str(exc))
            answer.give(pre_tool_use(config.on_unavailable, reason))
            decided = {**call, "decision_reason": reason}
            if config.on_unavailable == "deny":
                decided.update(decision="denied", outcome="denied")
            elif config.on_unavailable == "allow":
                decided["decision"] = "allowed_by_rule"
            client.spool.put(
                call["event_id"], orjson.dumps(decided), executed=config.on_unavailable == "deny"
            )
        return
    answer.give("")  # nothing to say to Claude Code for the other events: do not keep it waiting
    if event in ("PostToolUse", "PostToolUseFailure"):
        call = tool_call(data, config)
        failed = event == "PostToolUseFailure"
        call["outcome"] = "error" if failed else "success"
        text = summary(data.get("error") if failed else data.get("tool_response"))
        if text:
            call["result_summary"] = text
        call["untrusted_content"] = bool(text) and not failed and untrusted(call["tool"])
        if config.spool_path.exists():
            call.update(decided_while_down(client, call["event_id"], config))
        reported = client.report_or_spool(call, executed=True, deadline=deadline)
    elif event == "UserPromptSubmit" and data.get("prompt"):
        start = {**base(data, config), "kind": "session", "action": "start", "task": str(data["prompt"])}
        start.update(event_id=f"{SOURCE}:{start['session_id']}:prompt:{time.time_ns()}", event_time=now_iso())
        reported = client.report_or_spool(start, executed=True, deadline=deadline)
    elif event == "SessionEnd":
        end = {**base(data, config), "kind": "session", "action": "end"}
        end.update(event_id=f"{SOURCE}:{end['session_id']}:end", event_time=now_iso())
        reported = client.report_or_spool(end, executed=True, deadline=deadline)
    else:
        return
    if reported and config.spool_path.exists():
        client.drain(deadline)  # the service is back: send what earlier runs kept


def run(config: ClientConfig, stdin: bytes) -> int:
    """The hook's whole run; always exits 0 with at most one answer (a broken input gets the default too)."""
    deadline = time.monotonic() + config.timeout_seconds
    answer = Answer()
    try:
        data = orjson.loads(stdin)
    except orjson.JSONDecodeError as exc:
        data = {}
        sys.stderr.write(f"chainwatch guard hook: stdin is not JSON ({exc}); answering the default\n")
    if not isinstance(data, dict):
        data = {}
    is_pre = data.get("hook_event_name") == "PreToolUse" or not data

    def watchdog() -> None:
        reason = fallback_reason(config, f"no answer within {config.timeout_seconds:g} s")
        answer.give(pre_tool_use(config.on_unavailable, reason) if is_pre else "")
        os._exit(0)  # a hung connection or a locked spool must not hold Claude Code (reports are spooled)

    timer = threading.Timer(max(0.0, deadline - time.monotonic() - 0.05), watchdog)
    timer.daemon = True
    timer.start()
    client = GuardClient(config)
    try:
        if not data:
            answer.give(pre_tool_use(config.on_unavailable, "unreadable hook input"))
        else:
            handle(data, client, answer, deadline)
    except Exception as exc:  # never a traceback in Claude Code's way: the default, and why on stderr
        sys.stderr.write(f"chainwatch guard hook: {type(exc).__name__}: {exc}\n")
        answer.give(pre_tool_use(config.on_unavailable, f"hook error: {exc}") if is_pre else "")
    finally:
        timer.cancel()
        client.close()
    return 0


def main(argv: list[str]) -> int:
    """``chainwatch guard hook [--timeout S] [--on-unavailable allow|ask|deny] [--url URL]`` (lean argv)."""
    import argparse

    parser = argparse.ArgumentParser(prog="chainwatch guard hook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="The service (default: CHAINWATCH_GUARD__URL).")
    parser.add_argument(
        "--timeout", type=float, help="Hard limit in seconds (CHAINWATCH_GUARD__TIMEOUT_SECONDS)."
    )
    parser.add_argument("--on-unavailable", choices=("allow", "ask", "deny"), help="Answer when it is down.")
    parser.add_argument("--environment", choices=("prod", "staging", "dev", "unknown"))
    parser.add_argument("--credential-id", help="The credential the agent runs with.")
    parser.add_argument("--agent-id", help=f"Agent id on the calls (default {DEFAULT_AGENT}).")
    args = parser.parse_args(argv)
    try:
        config = ClientConfig.from_env(
            url=args.url,
            timeout_seconds=args.timeout,
            on_unavailable=args.on_unavailable,
            environment=args.environment,
            credential_id=args.credential_id,
            agent_id=args.agent_id,
        )
    except ValueError as exc:
        sys.stderr.write(f"chainwatch guard hook: {exc}\n")
        return 1  # a non-blocking error for Claude Code; the message names the variable to fix
    return run(config, sys.stdin.buffer.read())
