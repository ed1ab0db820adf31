"""``openhands``: OpenHands event logs, the event stream an OpenHands agent writes (a popular open agent).

Input: a JSON array of OpenHands events (one session per file: a saved trajectory, as in
OpenAgentSafety), events one per line (one session per input), a JSON-lines file whose lines are such
arrays (one session per line), or evaluation output lines ``{"instance_id": …, "history": [...]}`` (one
session per line). An event is an *action* (``action``, ``args``, ``tool_call_metadata``) or an
*observation* (``observation``, ``content``, ``extras``) that answers the action whose ``id`` is its
``cause``; every event has ``id``, ``timestamp`` and ``source`` (``user``, ``agent``, ``environment``).

* the first user ``message`` is the task (the session start); later user messages are the user's further
  turns (``prompt`` session events): trusted input, unlike what the tools bring back;
* every agent action that runs a tool (``run``, ``run_ipython``, ``read``, ``edit``, ``browse``,
  ``browse_interactive``, ``chat``, ``call_tool_mcp``, ``delegate``, …) is one ToolCall with its observation
  merged in: result, outcome (exit code, errors), duration;
* ``finish`` / ``reject`` end the session; ``think``, agent ``message`` and ``recall`` are the agent's own
  talk and bookkeeping, not tool calls; a ``system`` action's ``tools`` list declares the tools.

The field-by-field mapping and the known gaps are in ``docs/adapters.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.adapters.base import (
    DeadLetter,
    Parsed,
    RawRecord,
    as_dead_letter,
    parse_time,
    split_records,
    target_of,
    unreadable,
)
from schemas.adapters.declarations import function_declarations
from schemas.adapters.openai_chat import parse_arguments
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent, SessionEvent, ToolCall, ToolDeclaration
from schemas.types import Outcome, SessionAction

NAME = "openhands"
SOURCE = "openhands"
DEFAULT_AGENT = "openhands"
EVENT_SOURCES = frozenset({"user", "agent", "environment"})

# Agent actions that are the agent's own talk or bookkeeping, not a tool acting on anything.
NOT_TOOLS = frozenset(
    {
        "message",
        "think",
        "recall",
        "system",
        "change_agent_state",
        "null",
        "condensation",
        "condensation_request",
    }
)
ENDS = frozenset({"finish", "reject"})
# Observations that carry what the agent or the runtime itself wrote, not outside content: an edit echoes
# the agent's own change, an error is the runtime's message. Everything else (command output, file
# contents, web pages, other people's chat replies, MCP results) came from outside the agent.
OWN_OBSERVATIONS = frozenset(
    {"edit", "error", "user_rejected", "think", "null", "agent_state_changed", "recall"}
)
# OpenHands' own bookkeeping in ``args``, kept out of the call's arguments when the model's tool call
# itself is not in the log.
INTERNAL_ARGS = frozenset(
    {
        "thought",
        "impl_source",
        "blocking",
        "hidden",
        "confirmation_state",
        "is_input",
        "include_extra",
        "kernel_init_code",
        "image_urls",
        "wait_for_response",
        "is_confirmed",
    }
)
PYTHON_TRACEBACK = "Traceback (most recent call last)"


def _is_event(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("source") in EVENT_SOURCES
        and ("action" in value or "observation" in value)
        and "timestamp" in value
    )


def looks_like(first_record: Any) -> bool:
    if isinstance(first_record, list):
        return bool(first_record) and _is_event(first_record[0])
    if isinstance(first_record, dict) and isinstance(first_record.get("history"), list):
        history = first_record["history"]
        return bool(history) and _is_event(history[0])
    return _is_event(first_record)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One OpenHands event with where it came from (for dead letters)."""

    record_no: int
    position: int  # 1-based place in its session
    value: Any


def parse(data: bytes, origin: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Parsed]:
    """The first record decides the shape: an event (every record is an event of one session, named after
    the input) or a session (every record is a list of events or a ``history`` wrapper)."""
    stem = os.path.splitext(os.path.basename(origin))[0] or origin
    loose: list[_Entry] = []  # events given one per record: together they are one session
    one_session: bool | None = None
    for record in split_records(data, max_record_bytes=max_record_bytes):
        if record.error is not None:
            yield DeadLetter.from_error(unreadable(record, origin), record.raw)
            continue
        value = record.value
        wrapped = isinstance(value, dict) and isinstance(value.get("history"), list)
        if one_session is None:
            one_session = not (isinstance(value, list) or wrapped)
        if one_session:
            loose.append(_Entry(record.record_no, len(loose) + 1, value))
        elif isinstance(value, list):
            entries = [_Entry(record.record_no, i, e) for i, e in enumerate(value, 1)]
            yield from _session(entries, f"{stem}#{record.record_no}", origin, record.record_no)
        elif wrapped:
            entries = [_Entry(record.record_no, i, e) for i, e in enumerate(value["history"], 1)]
            yield from _session(entries, _history_session(value, stem, record), origin, record.record_no)
        else:
            error = InvalidRecord(
                f"expected a session (a list of OpenHands events, or an object with a history list), got"
                f" {type(value).__name__}",
                fix="give one session per line, as the lines before this one",
            )
            yield as_dead_letter(error, origin, record.record_no, value)
    if loose:
        yield from _session(loose, stem, origin)


def _history_session(value: dict[str, Any], stem: str, record: RawRecord) -> str:
    for key in ("session_id", "instance_id", "id"):
        if isinstance(value.get(key), str | int) and str(value[key]).strip():
            return str(value[key]).strip()
    return f"{stem}#{record.record_no}"


# ---------------------------------------------------------------------------------------------- a session


@dataclass
class _Session:
    session: str
    origin: str
    declarations: dict[str, ToolDeclaration] = field(default_factory=dict)
    observations: dict[str, dict[str, Any]] = field(default_factory=dict)  # by the id of their cause
    known_ids: set[str] = field(default_factory=set)
    task: str | None = None  # the first user message: the session's task
    first_user: int | None = None  # its position
    started: bool = False
    ended: bool = False
    last_time: datetime | None = None

    def common(self) -> dict[str, Any]:
        return {"source": SOURCE, "session_id": self.session, "agent_id": DEFAULT_AGENT}

    def event_id(self, entry: _Entry) -> str:
        ident = _scalar_id(entry.value.get("id"))
        return f"{self.session}:{ident}" if ident is not None else f"{self.session}:#{entry.position}"


def _is_user_message(value: dict[str, Any]) -> bool:
    return value.get("source") == "user" and value.get("action") == "message"


def _session(
    entries: list[_Entry], session: str, origin: str, record_no: int | None = None
) -> Iterator[Parsed]:
    state = _Session(session, origin)
    if not entries:
        error = InvalidRecord("an empty session: the list holds no events", fix="give the session's events")
        yield as_dead_letter(error, origin, record_no or 1, [])
        return
    good: list[_Entry] = []
    letters = 0
    for entry in entries:  # first pass: shapes, ids, the task, tool declarations, observations by cause
        try:
            _check_shape(entry.value)
        except InvalidRecord as exc:
            letters += 1
            yield _letter(exc, entry, state)
            continue
        good.append(entry)
        value = entry.value
        if value.get("id") is not None:
            state.known_ids.add(_key(value["id"]))
        if _is_user_message(value) and state.first_user is None:
            state.first_user, state.task = entry.position, _message_text(value)
        if value.get("action") == "system" and isinstance(value.get("args"), dict):
            state.declarations.update(function_declarations(value["args"].get("tools")))
        if "observation" in value and value.get("cause") is not None:
            state.observations.setdefault(_key(value["cause"]), value)
    for entry in good:  # second pass: events in log order
        try:
            yield from _events_of(entry, state)
        except InvalidRecord as exc:
            letters += 1
            yield _letter(exc, entry, state)
        except (ValidationError, TypeError, ValueError, KeyError, AttributeError) as exc:
            letters += 1  # a shape the log format does not have (an id that is an object, …)
            yield as_dead_letter(exc, origin, entry.record_no, entry.value, where=_where(entry))
    if state.started and not state.ended and state.last_time is not None:
        yield SessionEvent(
            **state.common(), event_id=f"{session}:end", event_time=state.last_time, action=SessionAction.END
        )
    if not state.started and not letters:  # nothing could be placed in time: say so rather than lose it
        error = InvalidRecord(
            "no event of this log has a readable timestamp",
            field="timestamp",
            fix="give the events as OpenHands writes them, each with its ISO-8601 timestamp",
        )
        yield _letter(error, entries[0], state)


def _scalar_id(ident: Any) -> str | None:
    """An event id or cause as text: OpenHands ids are numbers (strings accepted); anything else is no id."""
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        return None
    return str(ident)[:200]


def _key(ident: Any) -> str:
    """An id or cause as a comparable key; a value that is no id never matches another."""
    text = _scalar_id(ident)
    return f"{type(ident).__name__}:{text}" if text is not None else f"not-an-id@{id(ident)}"


def _where(entry: _Entry) -> str:
    ident = _scalar_id(entry.value.get("id")) if isinstance(entry.value, dict) else None
    return f"event #{entry.position}" + (f" (id {ident})" if ident is not None else "")


def _letter(error: InvalidRecord, entry: _Entry, state: _Session) -> DeadLetter:
    return as_dead_letter(error, state.origin, entry.record_no, entry.value, where=_where(entry))


def _check_shape(value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidRecord(
            f"an OpenHands event must be a JSON object, got {type(value).__name__}",
            fix="give the event log as written by OpenHands (a list of event objects)",
        )
    kind = value.get("action", value.get("observation"))
    if not isinstance(kind, str) or not kind:
        raise InvalidRecord(
            "neither an action nor an observation",
            field="action",
            fix='every OpenHands event has an "action" or an "observation" name',
        )
    if "args" in value and value["args"] is not None and not isinstance(value["args"], dict):
        raise InvalidRecord(
            f"args must be an object, not {type(value['args']).__name__}",
            field="args",
            fix="log it as written",
        )


def _time(value: dict[str, Any]) -> datetime:
    return parse_time(value.get("timestamp"), field="timestamp")


def _readable_time(value: dict[str, Any]) -> datetime | None:
    try:
        return _time(value)
    except InvalidRecord:
        return None


def _events_of(entry: _Entry, state: _Session) -> Iterator[AnyEvent]:
    """The events of one OpenHands event: the session start comes with the first one that has a time."""
    value = entry.value
    when = _readable_time(value)
    if when is not None:
        if not state.started:
            state.started = True
            yield SessionEvent(
                **state.common(),
                event_id=f"{state.session}:start",
                event_time=when,
                action=SessionAction.START,
                task=state.task,
            )
        state.last_time = max(state.last_time or when, when)
    if "observation" in value and "action" not in value:
        cause = value.get("cause")
        if cause is not None and _key(cause) not in state.known_ids:
            raise InvalidRecord(
                f"observation answers event {_scalar_id(cause) or 'that is no id'}, which is not in this log",
                field="cause",
                fix="give the whole event log, with the action this observation answers",
            )
        return  # observations are merged into their action's ToolCall
    action = value["action"]
    if _is_user_message(value):
        if entry.position != state.first_user:  # the first one is the task, on the session start
            yield SessionEvent(
                **state.common(),
                event_id=state.event_id(entry),
                event_time=_time(value),
                action=SessionAction.PROMPT,
                task=_message_text(value),
            )
    elif value.get("source") != "agent" or action in NOT_TOOLS:
        return
    elif action in ENDS:
        if not state.ended:
            state.ended = True
            yield SessionEvent(
                **state.common(),
                event_id=f"{state.session}:end",
                event_time=_time(value),
                action=SessionAction.END,
            )
    else:
        yield _tool_call(entry, state, _time(value))


def _message_text(value: dict[str, Any]) -> str | None:
    args = value.get("args") or {}
    text = args.get("content") if isinstance(args.get("content"), str) else value.get("message")
    return text if isinstance(text, str) and text.strip() else None


# ---------------------------------------------------------------------------------------------- tool calls


def _model_call(value: dict[str, Any]) -> Mapping[str, Any] | None:
    """The model's own tool call behind an action (``tool_call_metadata.model_response``), by its id."""
    metadata = value.get("tool_call_metadata")
    if not isinstance(metadata, dict):
        return None
    response = metadata.get("model_response")
    choices = response.get("choices") if isinstance(response, dict) else None
    wanted = metadata.get("tool_call_id")
    for choice in choices if isinstance(choices, list) else []:
        message = choice.get("message") if isinstance(choice, dict) else None
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict) and call.get("id") == wanted and isinstance(call.get("function"), dict):
                function: Mapping[str, Any] = call["function"]
                return function
    return None


def _tool_and_arguments(value: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    args = value.get("args") or {}
    metadata = value.get("tool_call_metadata")
    function_name = metadata.get("function_name") if isinstance(metadata, dict) else None
    if value["action"] == "call_tool_mcp" and isinstance(args.get("name"), str):
        # an MCP tool: its own name and arguments, not OpenHands' wrapper
        arguments = args.get("arguments")
        return args["name"], parse_arguments(arguments) if arguments is not None else {}
    tool = function_name if isinstance(function_name, str) and function_name else value["action"]
    call = _model_call(value)
    if call is not None and call.get("arguments") is not None:
        return tool, parse_arguments(call["arguments"])
    return tool, {k: v for k, v in args.items() if k not in INTERNAL_ARGS and v not in (None, "")}


def _exit_code(extras: Mapping[str, Any]) -> Any:
    metadata = extras.get("metadata")
    if isinstance(metadata, dict) and "exit_code" in metadata:
        return metadata["exit_code"]
    return extras.get("exit_code")


def _outcome(observation: dict[str, Any] | None, text: str | None) -> Outcome:
    if observation is None:
        return Outcome.UNKNOWN
    kind = observation.get("observation")
    if kind == "user_rejected":
        return Outcome.DENIED
    if kind == "error":
        return Outcome.ERROR
    found = observation.get("extras")
    extras: Mapping[str, Any] = found if isinstance(found, dict) else {}
    code = _exit_code(extras)
    if isinstance(code, int) and not isinstance(code, bool):
        # -1: the command did not finish (timed out, or still running and waiting for input)
        return Outcome.SUCCESS if code == 0 else Outcome.UNKNOWN if code == -1 else Outcome.ERROR
    if observation.get("success") is False or extras.get("error") is True:
        return Outcome.ERROR
    stripped = (text or "").lstrip()
    if stripped[:6].upper() == "ERROR:" or (kind == "run_ipython" and PYTHON_TRACEBACK in stripped):
        return Outcome.ERROR
    return Outcome.SUCCESS


def _duration_ms(action_time: datetime, observation: dict[str, Any] | None) -> float | None:
    if observation is None:
        return None
    try:
        answered = _time(observation)
    except InvalidRecord:
        return None
    return max((answered - action_time).total_seconds() * 1000, 0.0)


def _tool_call(entry: _Entry, state: _Session, when: datetime) -> ToolCall:
    value = entry.value
    tool, arguments = _tool_and_arguments(value)
    observation = state.observations.get(_key(value["id"])) if value.get("id") is not None else None
    text = observation.get("content") if observation is not None else None
    text = text if isinstance(text, str) else (observation.get("message") if observation else None)
    result = text if isinstance(text, str) and text else None
    untrusted = observation is not None and observation.get("observation") not in OWN_OBSERVATIONS
    return ToolCall(
        **state.common(),
        event_id=state.event_id(entry),
        event_time=when,
        tool=tool,
        action=value["action"],
        target=target_of(arguments) or _npc(value.get("args") or {}),
        arguments=arguments,
        outcome=_outcome(observation, result),
        duration_ms=_duration_ms(when, observation),
        untrusted_content=untrusted and result is not None,
        result_summary=result,
        tool_declaration=state.declarations.get(tool),
    )


def _npc(arguments: Mapping[str, Any]) -> str | None:
    """The person a ``chat`` action talks to (OpenHands names them ``npc_name`` in the action's args)."""
    name = arguments.get("npc_name")
    return name.strip() if isinstance(name, str) and name.strip() else None
