"""``openai-chat``: chat transcripts with tool calls (JSON lines or a JSON array).

Each item is one transcript = one session: its messages in ``messages`` (or ``traj``, as tau-bench
writes them), optional ``tools`` (the declared tools, OpenAI or Anthropic specs) and ``metadata``. It
yields a session start (with the task: the first user message), a ``prompt`` session event for each later
user turn, one :class:`ToolCall` per assistant tool call with its tool result merged in, and a session end.
Calls are read in the shapes toolkits write: OpenAI ``tool_calls``, a plain function name with ``args``
(AgentDojo), Anthropic ``tool_use`` / ``tool_result`` content blocks, legacy ``function_call``.
Transcripts carry no clock, so event times are synthetic: a fixed start plus the message index in
seconds. The field-by-field mapping and the known gaps are in ``docs/adapters.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.adapters.base import Parsed, parse_records, parse_time, split_records, target_of
from schemas.adapters.declarations import function_declarations
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent, SessionEvent, ToolCall, ToolDeclaration
from schemas.types import Decision, Environment, Outcome, SessionAction

NAME = "openai-chat"
SOURCE = "openai-chat"
DEFAULT_AGENT = "openai-chat"
DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)

_ENVIRONMENT_ALIASES = {"production": "prod", "development": "dev", "stage": "staging"}


def looks_like(first_record: Any) -> bool:
    return isinstance(first_record, dict) and (
        isinstance(first_record.get("messages"), list) or isinstance(first_record.get("traj"), list)
    )


def parse(data: bytes, origin: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Parsed]:
    return parse_records(split_records(data, max_record_bytes=max_record_bytes), origin, parse_record)


# ---------------------------------------------------------------------------------------------- helpers


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def content_text(content: Any) -> str | None:
    """A message's content as text: a string, OpenAI content parts, or any JSON value."""
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("content"), str):
                parts.append(part["content"])
        if parts:
            return "\n".join(parts)
    return orjson.dumps(content, default=str).decode()


def parse_arguments(raw: Any) -> dict[str, Any]:
    """``function.arguments``: a JSON string (kept raw under ``_raw`` when it is not a JSON object)."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, str):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {"_raw": raw}
        if isinstance(parsed, dict):
            return parsed
        return {"_raw": raw}
    return {"_raw": orjson.dumps(raw, default=str).decode()}


def _looks_like_error(message: dict[str, Any], text: str | None) -> bool:
    if message.get("isError") is True or message.get("is_error") is True or message.get("error"):
        return True
    if text is None:
        return False
    stripped = text.lstrip()
    if stripped[:6].lower() == "error:":
        return True
    if stripped.startswith("{"):
        try:
            body = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return False
        return isinstance(body, dict) and (body.get("isError") is True or bool(body.get("error")))
    return False


def _environment(value: Any) -> Environment:
    text = (_text(value) or "").lower()
    text = _ENVIRONMENT_ALIASES.get(text, text)
    try:
        return Environment(text)
    except ValueError:
        return Environment.UNKNOWN


def _decision(value: Any) -> Decision:
    try:
        return Decision((_text(value) or "").lower())
    except ValueError:
        return Decision.UNKNOWN


def _task_scope(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list):
        scope = tuple(str(item) for item in value if _text(item))
        return scope or None
    return None


Call = tuple[str | None, str | None, Any]  # (call id, tool name, raw arguments)


def _blocks(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Anthropic content blocks of one type (``tool_use``, ``tool_result``) in a message."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind]


def _call_of(call: dict[str, Any]) -> Call:
    """One entry of ``tool_calls``: OpenAI's ``{"function": {"name", "arguments"}}``, or a plain function
    name with its arguments beside it (``{"function": "send_money", "args": {...}}``, as AgentDojo logs)."""
    function = call.get("function")
    if isinstance(function, dict):
        return (
            _text(call.get("id")),
            _text(function.get("name")) or _text(call.get("name")),
            function.get("arguments", call.get("arguments")),
        )
    arguments = next((call[k] for k in ("arguments", "args", "input") if k in call), None)
    return _text(call.get("id")), _text(function) or _text(call.get("name")), arguments


def _calls_of(message: dict[str, Any]) -> list[Call]:
    """The tool calls of an assistant message: ``tool_calls``, Anthropic ``tool_use`` blocks, legacy
    ``function_call``."""
    calls: list[Call] = []
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        calls.extend(_call_of(call) for call in tool_calls if isinstance(call, dict))
    for block in _blocks(message, "tool_use"):
        calls.append((_text(block.get("id")), _text(block.get("name")), block.get("input")))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        calls.append((None, _text(legacy.get("name")), legacy.get("arguments")))
    return calls


def user_text(content: Any) -> str | None:
    """What the user wrote in a message: its text, without the tool results an Anthropic-style user
    message carries (those are outside content, not the user's words)."""
    if isinstance(content, list):
        parts = [p for p in content if not (isinstance(p, dict) and p.get("type") == "tool_result")]
        if not parts:
            return None
        content = parts
    return content_text(content)


Result = tuple[int, dict[str, Any]]  # (message index, a message-like dict with content and error flags)


def _results_of(messages: list[Any]) -> tuple[dict[str, list[Result]], list[Result]]:
    """Tool results by call id, and those without an id (legacy ``role: function``), in message order."""
    by_id: dict[str, list[Result]] = {}
    anonymous: list[Result] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") in ("tool", "function"):
            call_id = _text(message.get("tool_call_id"))
            (by_id.setdefault(call_id, []) if call_id else anonymous).append((index, message))
        for block in _blocks(message, "tool_result"):
            call_id = _text(block.get("tool_use_id"))
            (by_id.setdefault(call_id, []) if call_id else anonymous).append((index, block))
    return by_id, anonymous


def _declarations(value: dict[str, Any], metadata: dict[str, Any]) -> dict[str, ToolDeclaration]:
    for specs in (value.get("tools"), value.get("functions"), metadata.get("tools")):
        if isinstance(specs, list):
            return function_declarations(specs)
    return {}


# ---------------------------------------------------------------------------------------------- records


def session_id_of(item: dict[str, Any], origin: str, record_no: int) -> str:
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    for value in (item.get("session_id"), metadata.get("session_id"), item.get("id")):
        text = _text(value)
        if text:
            return text
    return f"{os.path.basename(origin) or origin}#{record_no}"


def parse_record(value: Any, origin: str, record_no: int) -> Iterator[AnyEvent]:
    """One transcript -> session start, one ToolCall per tool call, session end."""
    if not isinstance(value, dict):
        raise InvalidRecord(
            f"expected a JSON object (one transcript), got {type(value).__name__}",
            fix='each item must be an object with a "messages" (or "traj") list',
        )
    field = next((f for f in ("messages", "traj") if isinstance(value.get(f), list)), None)
    if field is None:
        field = "traj" if "traj" in value and "messages" not in value else "messages"
    messages = value.get(field)
    if not isinstance(messages, list):
        problem = "missing" if messages is None else f"a {type(messages).__name__}, not a list"
        raise InvalidRecord(
            f"no message list: {field} is {problem}",
            field=field,
            fix='give the chat messages as a list under "messages" (or "traj")',
        )
    metadata = value.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    session = session_id_of(value, origin, record_no)
    start = DEFAULT_START
    if metadata.get("start_time") not in (None, ""):
        start = parse_time(metadata["start_time"], field="metadata.start_time")

    def at(index: int) -> datetime:
        return start + timedelta(seconds=index)

    turns = [
        (index, user_text(m.get("content")))
        for index, m in enumerate(messages)
        if isinstance(m, dict) and m.get("role") == "user"
    ]
    turns = [(index, text) for index, text in turns if text is not None]
    task = turns[0][1] if turns else None
    common: dict[str, Any] = {
        "source": SOURCE,
        "session_id": session,
        "agent_id": _text(metadata.get("agent_id")) or _text(value.get("agent_id")) or DEFAULT_AGENT,
        "parent_agent_id": _text(metadata.get("parent_agent_id")),
        "principal": _text(metadata.get("principal")) or _text(metadata.get("user_id")),
    }
    environment = _environment(metadata.get("environment"))
    decision = _decision(metadata.get("decision"))
    approved_by = _text(metadata.get("approved_by")) if decision is Decision.APPROVED else None
    credential_id = _text(metadata.get("credential_id"))

    yield SessionEvent(
        **common,
        event_id=f"{session}:start",
        event_time=at(0),
        action=SessionAction.START,
        task=task,
        task_scope=_task_scope(metadata.get("task_scope")),
    )

    # Tool results by call id. Ids repeat in real transcripts (tau-bench reuses them), so a call
    # takes the first unclaimed result with its id that comes after it; results without an id (legacy
    # role=function) go, in order, to calls without an id.
    results, anonymous = _results_of(messages)
    declared = _declarations(value, metadata)
    prompts = dict(turns[1:])  # the user's later turns: trusted input that refines the task
    used_ids: set[str] = set()
    for index, message in enumerate(messages):
        if index in prompts:
            yield SessionEvent(
                **common,
                event_id=f"{session}:prompt@{index}",
                event_time=at(index),
                action=SessionAction.PROMPT,
                task=prompts[index],
            )
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for position, (call_id, name, raw_arguments) in enumerate(_calls_of(message)):
            pool = results.get(call_id, []) if call_id else anonymous
            result = next((r for r in pool if r[0] > index), None)
            if result is not None:
                pool.remove(result)
            event_id = f"{session}:{call_id}" if call_id else f"{session}:{index}"
            if not call_id and position:
                event_id += f".{position}"
            if event_id in used_ids:  # a repeated tool_call_id: keep both, deterministically
                event_id += f"@{index}.{position}" if position else f"@{index}"
            used_ids.add(event_id)
            arguments = parse_arguments(raw_arguments)
            tool = name or "unknown"
            result_text = content_text(result[1].get("content")) if result else None
            if result is None:
                outcome = Outcome.UNKNOWN
            elif _looks_like_error(result[1], result_text):
                outcome = Outcome.ERROR
            else:
                outcome = Outcome.SUCCESS
            yield ToolCall(
                **common,
                event_id=event_id,
                event_time=at(index),
                tool=tool,
                action=tool,
                target=target_of(arguments),
                environment=environment,
                arguments=arguments,
                outcome=outcome,
                decision=decision,
                approved_by=approved_by,
                credential_id=credential_id,
                untrusted_content=result is not None,
                result_summary=result_text,
                tool_declaration=declared.get(tool),
            )

    yield SessionEvent(
        **common,
        event_id=f"{session}:end",
        event_time=at(len(messages)),
        action=SessionAction.END,
    )
