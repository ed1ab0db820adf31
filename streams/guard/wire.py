"""What the service reads: proposed calls and reported events as JSON, with the few defaults a client may
leave out filled in (the event contract still validates them, and redacts their secrets).

A proposal may omit ``event_id`` (one is made), ``event_time`` (now), ``source`` (``guard``), ``action`` (the
tool's name) and ``target`` (read from the arguments, as the adapters do); ``kind`` is ``tool_call``. A
report carries events of any kind; a tool call reported as executed has the proposal's ``event_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.adapters.base import DeadLetter, describe_validation_error, target_of
from schemas.events import AnyEvent, ToolCall, event_from_dict

SOURCE = "guard"
MAX_EVENTS_PER_REPORT = 1000


class BadCall(ValueError):
    """A proposal or report the service cannot read; the message names the field."""


def _filled(data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    filled = dict(data)
    filled.setdefault("kind", "tool_call")
    filled.setdefault("source", SOURCE)
    if not filled.get("event_time"):
        filled["event_time"] = now
    if filled["kind"] == "tool_call":
        if not filled.get("event_id"):
            filled["event_id"] = f"{SOURCE}:{uuid.uuid4().hex}"
        if not filled.get("action") and isinstance(filled.get("tool"), str):
            filled["action"] = filled["tool"]
        arguments = filled.get("arguments")
        if not filled.get("target") and isinstance(arguments, Mapping):
            filled["target"] = target_of(arguments)
    elif not filled.get("event_id"):
        filled["event_id"] = f"{SOURCE}:{uuid.uuid4().hex}"
    return filled


def read_event(data: Any, now: datetime | None = None) -> AnyEvent:
    if not isinstance(data, Mapping):
        raise BadCall(f"expected a JSON object (an event), got {type(data).__name__}")
    try:
        return event_from_dict(_filled(data, now or datetime.now(UTC)))
    except ValidationError as exc:
        field, message = describe_validation_error(exc)
        raise BadCall(f"field '{field}': {message}; see docs/contract.md") from None


def read_proposal(data: Any, now: datetime | None = None) -> ToolCall:
    """The body of ``POST /v1/decide``: one tool call (``{"call": {…}}`` or the call itself)."""
    if isinstance(data, Mapping) and isinstance(data.get("call"), Mapping):
        data = data["call"]
    if isinstance(data, Mapping) and data.get("kind", "tool_call") != "tool_call":
        raise BadCall(f"a decision is asked for a tool call, not a {data.get('kind')!r} event")
    event = read_event(data, now)
    assert isinstance(event, ToolCall)
    return event


def read_report(data: Any, now: datetime | None = None) -> tuple[list[AnyEvent], list[DeadLetter]]:
    """The body of ``POST /v1/report``: ``{"events": [...]}`` or ``{"event": {...}}``. An event that does not
    validate becomes a dead letter with the reason (the others are still taken)."""
    if not isinstance(data, Mapping):
        raise BadCall(f'expected {{"events": [...]}}, got {type(data).__name__}')
    items = data.get("events")
    if items is None and "event" in data:
        items = [data["event"]]
    if not isinstance(items, list):
        raise BadCall('expected {"events": [...]} or {"event": {...}}')
    if len(items) > MAX_EVENTS_PER_REPORT:
        raise BadCall(f"{len(items)} events in one report; send at most {MAX_EVENTS_PER_REPORT}")
    events: list[AnyEvent] = []
    letters: list[DeadLetter] = []
    for number, item in enumerate(items):
        try:
            events.append(read_event(item, now))
        except BadCall as exc:
            raw = orjson.dumps(item, default=str).decode()
            letters.append(DeadLetter("guard/v1/report", number, "report", str(exc), raw))
    return events, letters
