"""Claude Code's OpenTelemetry events (OTLP log records) as chainwatch events.

Follows Claude Code's monitoring documentation (code.claude.com/docs/en/monitoring-usage, as of
Claude Code v2.1.216). Every event carries the standard attributes (``session.id``, ``user.*``,
``organization.id``) and ``event.sequence``, a per-session counter used for ids and ordering.

| event | becomes |
| --- | --- |
| ``claude_code.tool_result`` | a ToolCall (outcome from ``success``, decision from ``decision_source``) |
| ``claude_code.tool_decision``, ``decision = reject`` | a denied ToolCall (accepted: see tool_result) |
| ``claude_code.permission_mode_changed`` | SessionEvent ``permission_mode`` with ``to_mode`` |
| ``claude_code.user_prompt`` | SessionEvent ``start`` whose task is the prompt (when logged) |
| ``claude_code.auth`` | ToolCall ``auth`` / ``login`` or ``logout`` |
| ``claude_code.mcp_server_connection`` | ToolCall ``mcp`` / ``connect`` or ``disconnect`` |

Any other Claude Code event (``api_request``, ``assistant_response``, …) and any non-Claude-Code log
record is skipped: it is not an agent action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from schemas.adapters.base import parse_time, target_of
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent, SessionEvent, ToolCall
from schemas.ids import record_id
from schemas.types import Decision, Environment, Outcome, SessionAction

SOURCE = "claude-code"
PREFIX = "claude_code."
EVENTS = frozenset(
    {
        "tool_result",
        "tool_decision",
        "permission_mode_changed",
        "user_prompt",
        "auth",
        "mcp_server_connection",
    }
)
PRINCIPAL_KEYS = ("user.email", "user.account_uuid", "user.account_id", "user.id", "enduser.id")
REDACTED_PROMPT = "<REDACTED>"  # what Claude Code sends unless OTEL_LOG_USER_PROMPTS=1
# Tools whose results carry outside content (a web page, another server's answer).
UNTRUSTED_TOOLS = frozenset({"WebFetch", "WebSearch"})
# Permission decision sources: current names, and the shorter spellings some exporters and older
# versions use. user_abort was reported as user_reject before Claude Code v2.1.216.
ALLOWING_SOURCES = {"config": Decision.ALLOWED_BY_RULE, "hook": Decision.ALLOWED_BY_RULE}
APPROVING_SOURCES = frozenset({"user_permanent", "user_temporary", "user"})
REJECTING_SOURCES = frozenset({"user_abort", "user_reject", "abort", "reject"})
REJECT_DECISIONS = frozenset({"reject", "deny", "denied", "block"})

NanosTime = Callable[..., datetime]


def event_name(raw: Mapping[str, Any], attrs: Mapping[str, Any], resource: Mapping[str, Any]) -> str | None:
    """The short event name (``tool_result``) of a Claude Code record, or None for any other record."""
    for candidate in (raw.get("eventName"), _body_text(raw)):
        if isinstance(candidate, str) and candidate.startswith(PREFIX):
            return candidate[len(PREFIX) :]
    short = attrs.get("event.name")
    if isinstance(short, str) and resource.get("service.name") == "claude-code":
        return short[len(PREFIX) :] if short.startswith(PREFIX) else short
    return None


def _body_text(raw: Mapping[str, Any]) -> str | None:
    body = raw.get("body")
    if isinstance(body, dict) and isinstance(body.get("stringValue"), str):
        return str(body["stringValue"])
    return None


def sequence(attrs: Mapping[str, Any]) -> int:
    value = attrs.get("event.sequence")
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _params(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {"_raw": value}
        return parsed if isinstance(parsed, dict) else {"_raw": value}
    return {}


def _time(raw: Mapping[str, Any], attrs: Mapping[str, Any], nanos_time: NanosTime) -> datetime:
    if raw.get("timeUnixNano") not in (None, "", "0", 0):
        return nanos_time(raw["timeUnixNano"], field="timeUnixNano")
    if attrs.get("event.timestamp"):
        try:
            return parse_time(attrs["event.timestamp"], field="event.timestamp")
        except (OverflowError, OSError, ValueError):  # an epoch beyond what a datetime holds
            raise InvalidRecord(
                f"event.timestamp {attrs['event.timestamp']!r} is out of range",
                field="event.timestamp",
                fix="send an ISO-8601 time",
            ) from None
    return nanos_time(raw.get("observedTimeUnixNano"), field="timeUnixNano")


def events(
    raw: Mapping[str, Any], attrs: Mapping[str, Any], resource: Mapping[str, Any], nanos_time: NanosTime
) -> list[AnyEvent]:
    """The events of one log record (an empty list for records that are not agent actions)."""
    name = event_name(raw, attrs, resource)
    if name not in EVENTS:
        return []
    session = attrs.get("session.id") or resource.get("session.id")
    if not session:
        raise InvalidRecord(
            f"claude_code.{name} without a session",
            field="session.id",
            fix="forward Claude Code's events with their standard attributes (session.id is on every event)",
        )
    user = next(
        (str(attrs.get(k) or resource.get(k)) for k in PRINCIPAL_KEYS if attrs.get(k) or resource.get(k)),
        None,
    )
    seq = attrs.get("event.sequence")
    common: dict[str, Any] = {
        "event_id": f"{SOURCE}:{session}:{seq}" if seq is not None else record_id(SOURCE, raw),
        "event_time": _time(raw, attrs, nanos_time),
        "source": SOURCE,
        "session_id": str(session),
        "agent_id": str(resource.get("service.name") or SOURCE),
        "principal": user or _text(attrs.get("organization.id") or resource.get("organization.id")),
    }
    common["environment"] = environment_of(attrs, resource)
    return BUILDERS[name](attrs, common)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _decision(attrs: Mapping[str, Any], principal: str | None) -> tuple[Decision, str | None]:
    source = str(attrs.get("decision_source") or attrs.get("source") or "").lower()
    verdict = str(attrs.get("decision_type") or attrs.get("decision") or "").lower()
    if verdict in REJECT_DECISIONS or source in REJECTING_SOURCES:
        return Decision.DENIED, None
    if source in APPROVING_SOURCES:
        return Decision.APPROVED, principal or "user"
    return ALLOWING_SOURCES.get(source, Decision.UNKNOWN), None


def _tool(attrs: Mapping[str, Any]) -> tuple[str, str, dict[str, Any], bool]:
    """(tool, action, arguments, untrusted) from tool_name, tool_parameters and tool_input."""
    name = attrs.get("tool_name")
    if not name:
        raise InvalidRecord("tool event without a tool name", field="tool_name", fix="send tool_name")
    name = str(name)
    params = _params(attrs.get("tool_parameters"))
    arguments = _params(attrs.get("tool_input"))
    for key, value in params.items():
        arguments.setdefault(key, value)
    server, mcp_tool = params.get("mcp_server_name"), params.get("mcp_tool_name")
    if server and mcp_tool:
        return f"mcp__{server}__{mcp_tool}", str(mcp_tool), arguments, True
    if name.startswith("mcp__") or name == "mcp_tool":
        return name, name.rsplit("__", 1)[-1], arguments, True
    if name == "Bash":
        command = params.get("full_command") or params.get("bash_command")
        if command and "command" not in arguments:
            arguments["command"] = command
        return name, "exec", arguments, False
    return name, name, arguments, name in UNTRUSTED_TOOLS


ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")  # current, deprecated
ENVIRONMENTS = {
    "prod": Environment.PROD,
    "production": Environment.PROD,
    "prd": Environment.PROD,
    "staging": Environment.STAGING,
    "stage": Environment.STAGING,
    "stg": Environment.STAGING,
    "dev": Environment.DEV,
    "development": Environment.DEV,
}


def environment_of(*maps: Mapping[str, Any]) -> Environment:
    """The resource's ``deployment.environment.name`` as a chainwatch environment (else unknown)."""
    for attrs in maps:
        for key in ENVIRONMENT_KEYS:
            value = attrs.get(key)
            if isinstance(value, str) and value.strip():
                return ENVIRONMENTS.get(value.strip().lower(), Environment.UNKNOWN)
    return Environment.UNKNOWN


def _tool_result(attrs: Mapping[str, Any], common: dict[str, Any]) -> list[AnyEvent]:
    tool, action, arguments, untrusted = _tool(attrs)
    decision, approved_by = _decision(attrs, common["principal"])
    success = _flag(attrs.get("success"))
    outcome = Outcome.UNKNOWN if success is None else (Outcome.SUCCESS if success else Outcome.ERROR)
    error = attrs.get("error") or attrs.get("error_type")
    duration = attrs.get("duration_ms")
    return [
        ToolCall(
            **common,
            tool=tool,
            action=action,
            target=target_of(arguments),
            arguments=arguments,
            outcome=outcome,
            decision=decision,
            approved_by=approved_by,
            duration_ms=float(duration)
            if isinstance(duration, int | float | str) and duration != ""
            else None,
            untrusted_content=untrusted,
            result_summary=str(error) if error and outcome == Outcome.ERROR else None,
        )
    ]


def _tool_decision(attrs: Mapping[str, Any], common: dict[str, Any]) -> list[AnyEvent]:
    decision, _ = _decision(attrs, common["principal"])
    if decision != Decision.DENIED:
        return []  # an accepted call is reported again by its tool_result, with the same decision source
    tool, action, arguments, _ = _tool(attrs)
    source = attrs.get("source") or attrs.get("decision_source")
    return [
        ToolCall(
            **common,
            tool=tool,
            action=action,
            target=target_of(arguments),
            arguments=arguments,
            outcome=Outcome.DENIED,
            decision=Decision.DENIED,
            result_summary=f"rejected ({source})" if source else "rejected",
        )
    ]


def _permission_mode(attrs: Mapping[str, Any], common: dict[str, Any]) -> list[AnyEvent]:
    mode = attrs.get("to_mode") or attrs.get("new_mode") or attrs.get("mode")
    if not mode:
        raise InvalidRecord(
            "permission_mode_changed without the new mode",
            field="to_mode",
            fix="send to_mode (e.g. bypassPermissions)",
        )
    return [SessionEvent(**_session(common), action=SessionAction.PERMISSION_MODE, permission_mode=str(mode))]


def _user_prompt(attrs: Mapping[str, Any], common: dict[str, Any]) -> list[AnyEvent]:
    prompt = attrs.get("prompt")
    task = str(prompt) if prompt and prompt != REDACTED_PROMPT else None
    return [SessionEvent(**_session(common), action=SessionAction.START, task=task)]


def _session(common: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in common.items() if k != "environment"}  # session events have no environment


def _auth(attrs: Mapping[str, Any], common: dict[str, Any]) -> list[AnyEvent]:
    action = str(attrs.get("action") or "auth")
    success = _flag(attrs.get("success"))
    arguments = {
        k: attrs[k] for k in ("auth_method", "error_category", "status_code") if attrs.get(k) is not None
    }
    return [
        ToolCall(
            **common,
            tool="auth",
            action=action,
            arguments=arguments,
            outcome=Outcome.UNKNOWN if success is None else (Outcome.SUCCESS if success else Outcome.ERROR),
            result_summary=_text(attrs.get("error_category")),
        )
    ]


def _mcp_connection(attrs: Mapping[str, Any], common: dict[str, Any]) -> list[AnyEvent]:
    status = str(attrs.get("status") or "")
    keys = ("transport_type", "server_scope", "is_plugin", "plugin.name", "error_code", "status")
    arguments = {k: attrs[k] for k in keys if attrs.get(k) is not None}
    server = _text(attrs.get("server_name"))
    return [
        ToolCall(
            **common,
            tool="mcp",
            action="disconnect" if status == "disconnected" else "connect",
            target=f"mcp-server:{server}" if server else None,
            arguments=arguments,
            outcome=Outcome.ERROR if status == "failed" else (Outcome.SUCCESS if status else Outcome.UNKNOWN),
            duration_ms=float(attrs["duration_ms"])
            if isinstance(attrs.get("duration_ms"), int | float)
            else None,
            result_summary=_text(attrs.get("error") or attrs.get("error_code")),
        )
    ]


BUILDERS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], list[AnyEvent]]] = {
    "tool_result": _tool_result,
    "tool_decision": _tool_decision,
    "permission_mode_changed": _permission_mode,
    "user_prompt": _user_prompt,
    "auth": _auth,
    "mcp_server_connection": _mcp_connection,
}
