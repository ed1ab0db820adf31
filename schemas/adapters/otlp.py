"""``otlp``: OpenTelemetry OTLP/JSON traces and logs (GenAI tool spans, MCP spans, Claude Code events).

Input: OTLP/JSON export requests, as an OTLP/HTTP exporter sends them and the Collector's file exporter
writes them: ``{"resourceSpans": [...]}`` (ExportTraceServiceRequest) or ``{"resourceLogs": [...]}``
(ExportLogsServiceRequest), one document or one per line. Attribute values are OTLP ``AnyValue``s
(``stringValue``, ``intValue`` as a string-encoded int64, ``boolValue``, ``doubleValue``, ``arrayValue``,
``kvlistValue``, ``bytesValue``); trace and span ids are hex.

* Spans (OpenTelemetry GenAI semantic conventions v1.41.1): an ``execute_tool`` span, or an MCP
  ``tools/call`` span, is one ToolCall. Its session and agent come from the nearest ``invoke_agent``
  ancestor in the same request, else from the same attributes copied onto the tool span.
* Log records: Claude Code's events (``claude_code.*``, see ``otlp_claude``).

A span or log record that cannot be read becomes a dead letter naming its path in the request
(``resourceSpans[0].scopeSpans[0].spans[3]``), the field and the fix; the rest of the request still
parses. Spans and log records that are not agent actions (chat spans, ``api_request`` events, …) are
skipped: they are valid telemetry, not errors. The mapping tables are in ``docs/telemetry.md``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.adapters import otlp_claude
from schemas.adapters.base import (
    DeadLetter,
    Parsed,
    describe_validation_error,
    split_records,
    target_of,
    unreadable,
)
from schemas.adapters.otlp_claude import environment_of
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent, SessionEvent, ToolCall, ToolDeclaration
from schemas.redaction import redact_text
from schemas.types import Outcome, SessionAction, epoch_to_datetime

NAME = "otlp"
SOURCE = "otlp"
STATUS_ERROR = 2  # Status.code STATUS_CODE_ERROR
MAX_DEPTH = 32  # nesting of arrayValue/kvlistValue we follow; deeper values are kept as text

# Attribute names, current first; the deprecated or pre-standard spellings still emitted in the wild after.
CONVERSATION_KEYS = ("gen_ai.conversation.id", "session.id", "gen_ai.session.id")
AGENT_ID_KEYS = ("gen_ai.agent.id", "gen_ai.agent.name")
PRINCIPAL_KEYS = ("enduser.id", "user.id", "user.email")
JSONRPC_ID_KEYS = ("jsonrpc.request.id", "rpc.jsonrpc.request_id")


def looks_like(first_record: Any) -> bool:
    return isinstance(first_record, dict) and (
        isinstance(first_record.get("resourceSpans"), list)
        or isinstance(first_record.get("resourceLogs"), list)
    )


def parse(data: bytes, origin: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Parsed]:
    for record in split_records(data, max_record_bytes=max_record_bytes):
        if record.error is not None:
            yield DeadLetter.from_error(unreadable(record, origin), record.raw)
            continue
        yield from parse_request(record.value, origin, record.record_no)


def parse_request(document: Any, origin: str, record_no: int | None = 1) -> Iterator[Parsed]:
    """Events and dead letters of one export request; never raises on bad input."""
    if not isinstance(document, dict) or not (
        isinstance(document.get("resourceSpans"), list) or isinstance(document.get("resourceLogs"), list)
    ):
        got = type(document).__name__ if not isinstance(document, dict) else f"keys {sorted(document)[:6]}"
        error = InvalidRecord(
            f"expected an OTLP export request, got {got}",
            origin=origin,
            record_no=record_no,
            field="resourceSpans",
            fix="send an ExportTraceServiceRequest ({'resourceSpans': [...]}) or "
            "ExportLogsServiceRequest ({'resourceLogs': [...]}) in OTLP/JSON",
        )
        yield DeadLetter.from_error(error, document)
        return
    if isinstance(document.get("resourceSpans"), list):
        yield from _spans_request(document["resourceSpans"], origin, record_no)
    if isinstance(document.get("resourceLogs"), list):
        yield from _logs_request(document["resourceLogs"], origin, record_no)


# ------------------------------------------------------------------------------------------- values


def any_value(value: Any, depth: int = 0) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain value (int64 strings become ints, bytes become base64)."""
    if not isinstance(value, dict) or not value:
        return None
    if depth > MAX_DEPTH:
        return orjson.dumps(value, default=str).decode()[:4096]
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        raw = value["intValue"]
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise InvalidRecord(
                f"intValue {raw!r} is not an integer",
                field="intValue",
                fix="encode int64 as a decimal string",
            ) from None
    if "doubleValue" in value:
        raw = value["doubleValue"]
        if not isinstance(raw, int | float | str) or isinstance(raw, bool) or raw == "":
            return None
        try:
            return float(raw)  # "NaN", "Infinity" are the proto3 JSON spellings of those doubles
        except ValueError:
            raise InvalidRecord(
                f"doubleValue {raw!r} is not a number",
                field="doubleValue",
                fix="encode doubles as JSON numbers (or NaN / Infinity as strings)",
            ) from None
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return [any_value(item, depth + 1) for item in items]
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values") or [], depth + 1)
    if "bytesValue" in value:
        return str(value["bytesValue"])  # already base64 in OTLP/JSON: kept as it is
    return None


def attributes(items: Any, depth: int = 0) -> dict[str, Any]:
    """A ``KeyValue`` list as a dict (a later duplicate key wins, as in the SDKs)."""
    if items is None:
        return {}
    if not isinstance(items, list):
        raise InvalidRecord(
            f"attributes must be a list of {{key, value}}, got {type(items).__name__}",
            field="attributes",
            fix="encode attributes as [{'key': ..., 'value': {'stringValue': ...}}]",
        )
    out: dict[str, Any] = {}
    for number, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            # the position, not the value: a key-less attribute may well hold a secret
            raise InvalidRecord(
                f"attribute {number} ({type(item).__name__}) has no string key",
                field="attributes.key",
                fix="give every attribute a key",
            )
        out[item["key"]] = any_value(item.get("value"), depth)
    return out


def nanos_time(value: Any, *, field: str) -> datetime:
    """``*UnixNano`` (a uint64, string-encoded in OTLP/JSON) as an aware UTC datetime."""
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        raise InvalidRecord(
            f"unreadable time {value!r}",
            field=field,
            fix='give nanoseconds since the epoch, e.g. "1732880000000000000"',
        ) from None
    if nanos <= 0:
        raise InvalidRecord("missing or zero time", field=field, fix="set the span/record time")
    try:
        return epoch_to_datetime(nanos, per_second=1e9)  # OTLP says nanoseconds: the unit is explicit
    except (OverflowError, ValueError):  # beyond the contract's time range
        raise InvalidRecord(
            f"time {value!r} is out of range",
            field=field,
            fix='give nanoseconds since the epoch, e.g. "1732880000000000000"',
        ) from None


def hex_id(value: Any, *, field: str, size: int) -> str:
    """A trace/span id as lowercase hex; base64 (protobuf's JSON mapping) is accepted and converted."""
    if not isinstance(value, str) or not value:
        raise InvalidRecord(f"missing {field}", field=field, fix=f"give a {size * 2}-digit hex id")
    text = value.lower()
    if len(text) == size * 2 and all(c in "0123456789abcdef" for c in text):
        return text
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) == size:
        return raw.hex()
    raise InvalidRecord(
        f"unreadable {field} {value!r:.60}", field=field, fix=f"give a {size * 2}-digit hex id"
    )


def first(attrs: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> str | None:
    """The first non-empty value of ``keys``, looking in each attribute map in turn."""
    maps = list(attrs)
    for key in keys:
        for attrs_map in maps:
            value = attrs_map.get(key)
            if value not in (None, "", [], {}):
                return str(value)
    return None


def json_object(value: Any) -> dict[str, Any]:
    """Tool arguments: an object, or a JSON string of one (kept under ``_raw`` when it is not)."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {"_raw": value}
        return parsed if isinstance(parsed, dict) else {"_raw": value}
    return {"_raw": orjson.dumps(value, default=str).decode()}


def result_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()


def _dead(exc: InvalidRecord, origin: str, record_no: int | None, path: str, raw: Any) -> DeadLetter:
    exc.origin = exc.origin or origin
    exc.record_no = exc.record_no if exc.record_no is not None else record_no
    # reasons quote values (an unreadable id, an exception's text): redacted like the raw record
    exc.reason = redact_text(f"{path}: {exc.reason}")
    return DeadLetter.from_error(exc, raw)


def guarded(build: Any, raw: Any, origin: str, record_no: int | None, path: str) -> Iterator[Parsed]:
    """Run ``build()`` (a list of events); anything it cannot read becomes one dead letter for ``path``."""
    try:
        yield from build()
    except InvalidRecord as exc:
        yield _dead(exc, origin, record_no, path, raw)
    except ValidationError as exc:
        field, message = describe_validation_error(exc)
        error = InvalidRecord(message, field=field, fix="see the event contract in docs/contract.md")
        yield _dead(error, origin, record_no, path, raw)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError, OSError) as exc:
        error = InvalidRecord(
            f"unexpected shape: {exc}", fix="check the record against the OTLP/JSON encoding"
        )
        yield _dead(error, origin, record_no, path, raw)


def _scopes(
    resources: list[Any], scope_key: str, items_key: str, origin: str, record_no: int | None
) -> Iterator[tuple[str, dict[str, Any], Any] | DeadLetter]:
    """(path, resource attributes, item) for every span/log record; unreadable containers dead-lettered."""
    for r, resource in enumerate(resources):
        where = f"{'resourceSpans' if scope_key == 'scopeSpans' else 'resourceLogs'}[{r}]"
        try:
            if not isinstance(resource, dict):
                raise InvalidRecord(
                    f"expected an object, got {type(resource).__name__}", fix="one object per resource"
                )
            resource_attrs = attributes((resource.get("resource") or {}).get("attributes"))
            scopes = resource.get(scope_key) or []
            if not isinstance(scopes, list):
                raise InvalidRecord(
                    f"{scope_key} is not a list", field=scope_key, fix=f"make {scope_key} a list"
                )
        except (InvalidRecord, AttributeError) as exc:
            error = (
                exc
                if isinstance(exc, InvalidRecord)
                else InvalidRecord(str(exc), fix="check the resource shape")
            )
            yield _dead(error, origin, record_no, where, resource)
            continue
        for s, scope in enumerate(scopes):
            items = scope.get(items_key) if isinstance(scope, dict) else None
            if not isinstance(items, list):
                error = InvalidRecord(
                    f"{items_key} missing or not a list", field=items_key, fix=f"give {items_key} as a list"
                )
                yield _dead(error, origin, record_no, f"{where}.{scope_key}[{s}]", scope)
                continue
            for i, item in enumerate(items):
                yield f"{where}.{scope_key}[{s}].{items_key}[{i}]", resource_attrs, item


# -------------------------------------------------------------------------------------------- spans


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    raw: dict[str, Any]
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    attrs: dict[str, Any]
    resource: dict[str, Any]

    @property
    def operation(self) -> str | None:
        op = self.attrs.get("gen_ai.operation.name")
        if op:
            return str(op)
        # Before gen_ai.operation.name was set on every span, the span name carried the operation.
        head = self.name.split(" ", 1)[0]
        return head if head in ("execute_tool", "invoke_agent", "create_agent") else None

    @property
    def is_tool(self) -> bool:
        return self.operation == "execute_tool" or self.attrs.get("mcp.method.name") == "tools/call"

    @property
    def tool_name(self) -> str | None:
        value = self.attrs.get("gen_ai.tool.name")
        if value:
            return str(value)
        # An MCP span without gen_ai.tool.name names its target after the method: "tools/call get_weather".
        if self.attrs.get("mcp.method.name") == "tools/call" and " " in self.name:
            return self.name.split(" ", 1)[1].strip() or None
        if self.name.startswith("execute_tool "):
            return self.name.split(" ", 1)[1].strip() or None
        return None


def _read_span(path: str, raw: Any, resource: dict[str, Any]) -> Span:
    if not isinstance(raw, dict):
        raise InvalidRecord(f"expected a span object, got {type(raw).__name__}", fix="one object per span")
    parent = raw.get("parentSpanId")
    return Span(
        path=path,
        raw=raw,
        trace_id=hex_id(raw.get("traceId"), field="traceId", size=16),
        span_id=hex_id(raw.get("spanId"), field="spanId", size=8),
        parent_id=hex_id(parent, field="parentSpanId", size=8) if parent else None,
        name=str(raw.get("name") or ""),
        attrs=attributes(raw.get("attributes")),
        resource=resource,
    )


def _spans_request(resources: list[Any], origin: str, record_no: int | None) -> Iterator[Parsed]:
    spans: list[Span] = []
    for item in _scopes(resources, "scopeSpans", "spans", origin, record_no):
        if isinstance(item, DeadLetter):
            yield item
            continue
        path, resource_attrs, raw = item
        try:
            spans.append(_read_span(path, raw, resource_attrs))
        except InvalidRecord as exc:
            yield _dead(exc, origin, record_no, path, raw)
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError, OSError) as exc:
            error = InvalidRecord(
                f"unexpected shape: {exc}", fix="check the span against the OTLP/JSON encoding"
            )
            yield _dead(error, origin, record_no, path, raw)
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    for span in spans:
        if span.is_tool:
            if _duplicate_mcp_span(span, by_id):
                continue
            yield from guarded(
                lambda span=span: _tool_call(span, by_id), span.raw, origin, record_no, span.path
            )
        elif span.operation == "invoke_agent":
            yield from guarded(
                lambda span=span: _agent_start(span, by_id), span.raw, origin, record_no, span.path
            )


def _duplicate_mcp_span(span: Span, by_id: Mapping[tuple[str, str], Span]) -> bool:
    """An MCP span under a tool span of the same tool describes the same call: an MCP client span inside
    an execute_tool span (the MCP conventions ask instrumentations not to create both, but some do), or
    the MCP server's span under the client's when both export to the same request (the trace context is
    propagated in ``params._meta``). The outermost span is the call."""
    if span.attrs.get("mcp.method.name") != "tools/call" or span.parent_id is None:
        return False  # a framework's execute_tool span is the call itself
    parent = by_id.get((span.trace_id, span.parent_id))
    return parent is not None and parent.is_tool and parent.tool_name == span.tool_name


def _agents_above(span: Span, by_id: Mapping[tuple[str, str], Span]) -> list[Span]:
    """``invoke_agent`` ancestors of ``span``, nearest first (stops at a cycle or a missing parent)."""
    found: list[Span] = []
    seen = {span.span_id}
    current = span
    while current.parent_id and current.parent_id not in seen:
        parent = by_id.get((current.trace_id, current.parent_id))
        if parent is None:
            break
        seen.add(parent.span_id)
        if parent.operation == "invoke_agent":
            found.append(parent)
        current = parent
    return found


def _context(span: Span, by_id: Mapping[tuple[str, str], Span]) -> dict[str, str | None]:
    agents = _agents_above(span, by_id)
    nearest = [agents[0].attrs] if agents else []
    session = first([*nearest, span.attrs, *(a.attrs for a in agents[1:]), span.resource], CONVERSATION_KEYS)
    session = session or first([span.attrs], ("mcp.session.id",))
    agent = first([*nearest, span.attrs], AGENT_ID_KEYS) or first([span.resource], ("service.name",))
    parent_agent = first([agents[1].attrs], AGENT_ID_KEYS) if len(agents) > 1 else None
    return {
        "session_id": session or f"otel-trace:{span.trace_id}",
        "agent_id": agent,
        "parent_agent_id": parent_agent if parent_agent != agent else None,
        "principal": first([span.attrs, *(a.attrs for a in agents), span.resource], PRINCIPAL_KEYS),
    }


def _tool_call(span: Span, by_id: Mapping[tuple[str, str], Span]) -> list[AnyEvent]:
    name = span.tool_name
    if not name:
        raise InvalidRecord(
            "a tool span without a tool name",
            field="gen_ai.tool.name",
            fix="set gen_ai.tool.name on execute_tool spans (required by the GenAI conventions)",
        )
    start = nanos_time(span.raw.get("startTimeUnixNano"), field="startTimeUnixNano")
    end_raw = span.raw.get("endTimeUnixNano")
    duration = None
    if end_raw not in (None, "", "0", 0):
        duration = max((nanos_time(end_raw, field="endTimeUnixNano") - start).total_seconds() * 1000, 0.0)
    status = span.raw.get("status") or {}
    failed = (isinstance(status, dict) and status.get("code") in (STATUS_ERROR, "STATUS_CODE_ERROR")) or bool(
        span.attrs.get("error.type")
    )
    arguments = json_object(span.attrs.get("gen_ai.tool.call.arguments"))
    result = result_text(span.attrs.get("gen_ai.tool.call.result"))
    if failed and result is None:
        message = status.get("message") if isinstance(status, dict) else None
        error_type = span.attrs.get("error.type")
        result = ": ".join(str(p) for p in (error_type, message) if p) or None
    return [
        ToolCall(
            event_id=f"{span.trace_id}-{span.span_id}",
            event_time=start,
            source=SOURCE,
            tool=name,
            action=name,
            target=target_of(arguments) or span.attrs.get("mcp.resource.uri"),
            arguments=arguments,
            outcome=Outcome.ERROR if failed else Outcome.SUCCESS,
            environment=environment_of(span.attrs, span.resource),
            duration_ms=duration,
            untrusted_content=span.attrs.get("gen_ai.tool.call.result") is not None,
            result_summary=result,
            tool_declaration=_declaration(span.attrs),
            **_context(span, by_id),
        )
    ]


def _declaration(attrs: Mapping[str, Any]) -> ToolDeclaration | None:
    """``gen_ai.tool.description`` (GenAI conventions) as the tool's declaration; the conventions define no
    attributes for MCP annotations, so none are read."""
    description = attrs.get("gen_ai.tool.description")
    if not isinstance(description, str) or not description.strip():
        return None
    return ToolDeclaration(description=description.strip(), source="otel")


def _agent_start(span: Span, by_id: Mapping[tuple[str, str], Span]) -> list[AnyEvent]:
    """An ``invoke_agent`` span whose (opt-in) input messages carry a user text: the session's task."""
    task = _first_user_text(span.attrs.get("gen_ai.input.messages"))
    if task is None:
        return []
    context = _context(span, by_id)
    own = first([span.attrs], CONVERSATION_KEYS)
    if own:
        context["session_id"] = own
    context["agent_id"] = first([span.attrs], AGENT_ID_KEYS) or context["agent_id"]
    return [
        SessionEvent(
            event_id=f"{span.trace_id}-{span.span_id}:start",
            event_time=nanos_time(span.raw.get("startTimeUnixNano"), field="startTimeUnixNano"),
            source=SOURCE,
            action=SessionAction.START,
            task=task,
            **context,
        )
    ]


def _first_user_text(messages: Any) -> str | None:
    if isinstance(messages, str):
        try:
            messages = orjson.loads(messages)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(messages, list):
        return None
    for message in messages:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        for part in message.get("parts") or []:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("content"), str):
                return str(part["content"])
    return None


# --------------------------------------------------------------------------------------------- logs


def _logs_request(resources: list[Any], origin: str, record_no: int | None) -> Iterator[Parsed]:
    collected: list[tuple[tuple[str, float, int, int], AnyEvent]] = []
    sequences: dict[str, int] = {}
    for item in _scopes(resources, "scopeLogs", "logRecords", origin, record_no):
        if isinstance(item, DeadLetter):
            yield item
            continue
        path, resource_attrs, raw = item

        def build(raw: Any = raw, resource_attrs: dict[str, Any] = resource_attrs) -> list[AnyEvent]:
            if not isinstance(raw, dict):
                raise InvalidRecord(
                    f"expected a log record object, got {type(raw).__name__}", fix="one per record"
                )
            attrs = attributes(raw.get("attributes"))
            built = otlp_claude.events(raw, attrs, resource_attrs, nanos_time)
            sequence = otlp_claude.sequence(attrs)
            for event in built:
                sequences[event.event_id] = sequence
            return built

        for got in guarded(build, raw, origin, record_no, path):
            if isinstance(got, DeadLetter):
                yield got
                continue
            order = (
                got.session_id,
                got.event_time.timestamp(),
                sequences.get(got.event_id, 0),
                len(collected),
            )
            collected.append((order, got))
    # Claude Code numbers a session's events (event.sequence); batches may interleave sessions and
    # millisecond timestamps tie, so events leave in (session, time, sequence) order.
    collected.sort(key=lambda pair: pair[0])
    yield from (event for _, event in collected)
