"""``mcp``: JSON-RPC logs of Model Context Protocol traffic (MCP specification 2025-06-18).

Input: JSON lines (or a JSON array), one logged JSON-RPC message per record, either bare (the record is
the message, with a ``timestamp`` beside ``jsonrpc``) or wrapped in an envelope::

    {"timestamp": "2025-11-03T09:00:01Z", "session_id": "…", "server": "github",
     "headers": {"Mcp-Session-Id": "…"}, "message": {"jsonrpc": "2.0", "id": 7, "method": "tools/call", …}}

* ``tools/call`` requests are matched to their responses by JSON-RPC id (within the session and server):
  one ToolCall at the request's time, with the result merged in. ``isError: true`` in the result is a tool
  error; a JSON-RPC ``error`` response is a protocol error; a request never answered has outcome unknown.
* ``tools/list`` results become one ToolCall ``mcp`` / ``tools/list`` holding each tool's declared
  description and annotations, with short digests of description, annotations and input schema. The
  annotations are the server's claims (untrusted hints, never a reason to trust a call); the detector
  ``injection.mcp_tool_changed`` compares listings within a session.
* The session is the envelope's ``session_id``, else the logged ``Mcp-Session-Id`` transport header
  (any case), else ``mcp:<file name>``.

Other methods, notifications and unparseable lines: see ``docs/telemetry.md``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.adapters.base import (
    DeadLetter,
    Parsed,
    describe_validation_error,
    parse_time,
    split_records,
    target_of,
    unreadable,
)
from schemas.adapters.declarations import mcp_declaration
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import InvalidRecord
from schemas.events import ToolCall, ToolDeclaration
from schemas.redaction import redact_text
from schemas.types import Outcome

NAME = "mcp"
SOURCE = "mcp"
TIME_KEYS = ("timestamp", "time", "ts")
MESSAGE_KEYS = ("message", "msg", "payload")
SESSION_HEADER = "mcp-session-id"
MAX_DESCRIPTION = 1000  # characters of a tool description kept in the listing event (the digest covers all)
# (session, server) -> tool name -> what the server's latest tools/list declared about it
Declared = dict[tuple[str, str | None], dict[str, ToolDeclaration]]


def looks_like(first_record: Any) -> bool:
    if not isinstance(first_record, dict):
        return False
    message = _message(first_record)
    return isinstance(message, dict) and message.get("jsonrpc") == "2.0"


def _message(record: Mapping[str, Any]) -> Any:
    if record.get("jsonrpc") is not None:
        return record
    return next((record[k] for k in MESSAGE_KEYS if k in record), None)


def _letter(error: InvalidRecord, raw: Any) -> DeadLetter:
    """A dead letter whose reason is redacted like its raw record (reasons quote ids and exceptions)."""
    error.reason = redact_text(error.reason)
    return DeadLetter.from_error(error, raw)


def digest(value: Any) -> str:
    """A short, stable digest of a JSON value (sorted keys), to compare definitions without storing them."""
    canonical = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(canonical).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Logged:
    record_no: int
    time: datetime
    session: str
    server: str | None
    message: dict[str, Any]
    raw: Any


def _read(value: Any, record_no: int, default_session: str) -> Logged:
    if not isinstance(value, dict):
        raise InvalidRecord(
            f"expected a JSON object, got {type(value).__name__}", fix="one logged message per line"
        )
    message = _message(value)
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise InvalidRecord(
            "no JSON-RPC 2.0 message",
            field="message",
            fix='log the message under "message" (or as the record itself) with "jsonrpc": "2.0"',
        )
    stamp = next((value[k] for k in TIME_KEYS if value.get(k) not in (None, "")), None)
    if stamp is None:
        raise InvalidRecord(
            "logged message without a time",
            field="timestamp",
            fix="log each message with an ISO-8601 timestamp",
        )
    headers: dict[str, Any] = value["headers"] if isinstance(value.get("headers"), dict) else {}
    header_session = next((v for k, v in headers.items() if str(k).lower() == SESSION_HEADER and v), None)
    session = value.get("session_id") or value.get("sessionId") or header_session or default_session
    server = value.get("server") or value.get("server_name")
    try:
        when = parse_time(stamp, field="timestamp")
    except (OverflowError, OSError, ValueError):  # an epoch beyond what a datetime holds
        raise InvalidRecord(
            f"timestamp {stamp!r} is out of range",
            field="timestamp",
            fix="log each message with an ISO-8601 timestamp",
        ) from None
    return Logged(
        record_no=record_no,
        time=when,
        session=str(session),
        server=str(server) if server else None,
        message=message,
        raw=value,
    )


def parse(data: bytes, origin: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Parsed]:
    default_session = f"mcp:{os.path.basename(origin) or origin}"
    pending: dict[tuple[str, str | None, str], Logged] = {}
    declared: Declared = {}
    for record in split_records(data, max_record_bytes=max_record_bytes):
        if record.error is not None:
            yield _letter(unreadable(record, origin), record.raw)
            continue
        try:
            logged = _read(record.value, record.record_no, default_session)
            yield from _step(logged, pending, origin, declared)
        except InvalidRecord as exc:
            exc.origin = exc.origin or origin
            exc.record_no = exc.record_no if exc.record_no is not None else record.record_no
            yield _letter(exc, record.value)
        except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError, OSError) as exc:
            error = InvalidRecord(
                f"unexpected message shape: {exc}",
                origin=origin,
                record_no=record.record_no,
                fix="check the message against the MCP schema (2025-06-18)",
            )
            yield _letter(error, record.value)
    for logged in pending.values():  # requests never answered: the call happened, its outcome is unknown
        yield from _unanswered(logged, origin, declared)


def _unanswered(logged: Logged, origin: str, declared: Declared) -> Iterator[Parsed]:
    """A ``tools/call`` whose response never came (or cannot be told apart): outcome unknown."""
    if logged.message.get("method") != "tools/call":
        return
    try:
        yield _tool_call(logged, None, declared)
    except (ValidationError, TypeError, ValueError) as exc:  # a dead letter, not a crash (issue 9)
        field, reason = (
            describe_validation_error(exc) if isinstance(exc, ValidationError) else (None, str(exc))
        )
        error = InvalidRecord(
            reason,
            origin=origin,
            record_no=logged.record_no,
            field=field,
            fix="see the event contract in docs/contract.md",
        )
        yield _letter(error, logged.raw)


def _step(
    logged: Logged,
    pending: dict[tuple[str, str | None, str], Logged],
    origin: str,
    declared: Declared,
) -> Iterator[Parsed]:
    message = logged.message
    method, ident = message.get("method"), message.get("id")
    if method is not None and not isinstance(method, str):  # else silently dropped (issue 9 fuzzing)
        raise InvalidRecord(
            f"method must be a string, not {type(method).__name__}",
            field="message.method",
            fix="log JSON-RPC 2.0 messages as sent",
        )
    if ident is None and method == "tools/call":  # a logged call must not vanish for lack of an id (issue 9)
        raise InvalidRecord(
            "tools/call without an id", field="message.id", fix="log JSON-RPC 2.0 requests with their id"
        )
    if ident is None:
        return  # a notification (or a response to a notification, which JSON-RPC does not have)
    key = (logged.session, logged.server, orjson.dumps(ident).decode())
    if method is not None:
        if method == "tools/call" and not isinstance((message.get("params") or {}).get("name"), str):
            raise InvalidRecord(
                "tools/call without a tool name", field="message.params.name", fix="log the full request"
            )
        # An id still pending is reused (a client that restarts its counter, or a server-to-client request
        # such as sampling/createMessage numbered from its own counter): the earlier call is not dropped,
        # it is emitted with an unknown outcome, and the response goes to the latest request.
        superseded = pending.pop(key, None)
        if superseded is not None:
            yield from _unanswered(superseded, origin, declared)
        pending[key] = logged  # every request, so that its response is recognised (initialize, ping, …)
        return
    request = pending.pop(key, None)
    if request is None:
        raise InvalidRecord(
            f"response to unknown request id {ident!r}",
            field="message.id",
            fix="log the request too (same session and server), before its response",
        )
    if request.message.get("method") == "tools/call":
        try:
            call = _tool_call(request, logged, declared)
        except (TypeError, ValueError, AttributeError, KeyError):
            # the call happened even if its response cannot be read: keep it (outcome unknown), and the
            # response line becomes the dead letter
            yield from _unanswered(request, origin, declared)
            raise
        yield call
    elif request.message.get("method") == "tools/list":
        yield from _listing(request, logged, declared)


def _event_id(request: Logged) -> str:
    return f"{SOURCE}:{request.session}:{request.message.get('id')}@{request.record_no}"


def content_text(result: Mapping[str, Any]) -> str | None:
    """A ``tools/call`` result as text: its text content blocks, else its structured content as JSON."""
    content = result.get("content")
    parts = [
        str(part.get("text"))
        for part in (content if isinstance(content, list) else [])
        if isinstance(part, dict) and part.get("type") == "text" and part.get("text") is not None
    ]
    if parts:
        return "\n".join(parts)
    if result.get("structuredContent") is not None:
        return orjson.dumps(result["structuredContent"], default=str).decode()
    return None


def _tool_call(request: Logged, response: Logged | None, declared: Declared) -> ToolCall:
    params = request.message.get("params") or {}
    name = str(params["name"])
    arguments = params.get("arguments")
    arguments = dict(arguments) if isinstance(arguments, dict) else ({"_raw": arguments} if arguments else {})
    outcome, summary, untrusted = Outcome.UNKNOWN, None, False
    if response is not None:
        error, result = response.message.get("error"), response.message.get("result")
        if isinstance(error, dict):
            outcome = Outcome.ERROR
            summary = f"JSON-RPC error {error.get('code')}: {error.get('message')}"
        elif isinstance(result, dict):
            outcome = Outcome.ERROR if result.get("isError") is True else Outcome.SUCCESS
            summary, untrusted = content_text(result), True
    duration = (response.time - request.time).total_seconds() * 1000 if response else None
    return ToolCall(
        event_id=_event_id(request),
        event_time=request.time,
        source=SOURCE,
        session_id=request.session,
        agent_id=_client(request),
        tool=name,
        action=name,
        target=target_of(arguments),
        arguments=arguments,
        outcome=outcome,
        duration_ms=max(duration, 0.0) if duration is not None else None,
        untrusted_content=untrusted,
        result_summary=summary,
        tool_declaration=declared.get((request.session, request.server), {}).get(name),
    )


def listed_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """One tool of a ``tools/list`` answer as the listing event keeps it: its description (cut), annotations,
    and digests of description, annotations and input schema (for ``injection.mcp_tool_changed``)."""
    description = tool.get("description") or ""
    annotations = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    return {
        "description": str(description)[:MAX_DESCRIPTION],
        "annotations": annotations,
        "description_digest": digest(description),
        "annotations_digest": digest(annotations),
        "input_schema_digest": digest(tool.get("inputSchema")),
    }


def _client(logged: Logged) -> str | None:
    client = logged.raw.get("client") or logged.raw.get("client_name")
    return str(client) if client else None


def _listing(request: Logged, response: Logged, declared: Declared) -> Iterator[ToolCall]:
    result = response.message.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
        if isinstance(response.message.get("error"), dict):
            return  # a failed listing declares nothing
        raise InvalidRecord(
            "tools/list result without a tools list", field="message.result.tools", fix="log it whole"
        )
    tools: dict[str, Any] = {}
    declarations: dict[str, ToolDeclaration] = {}
    for tool in result["tools"]:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise InvalidRecord(
                "a listed tool without a name",
                field="message.result.tools.name",
                fix="log the listing unmodified",
            )
        tools[tool["name"]] = listed_tool(tool)
        declarations[tool["name"]] = mcp_declaration(tool)
    # the server's latest listing declares the tools of its later calls in this session (a re-listing
    # replaces it: what the model was last told is what it acted on)
    declared[(request.session, request.server)] = declarations
    yield ToolCall(
        event_id=_event_id(request),
        event_time=response.time,
        source=SOURCE,
        session_id=request.session,
        agent_id=_client(request),
        tool="mcp",
        action="tools/list",
        target=f"mcp-server:{request.server}" if request.server else None,
        arguments={"server": request.server, "tools": tools},
        outcome=Outcome.SUCCESS,
        untrusted_content=True,  # tool descriptions are the server's text, read by the model
        result_summary=f"{len(tools)} tools listed",
    )
