"""``chainwatch receive``: an OTLP/HTTP receiver that turns agent telemetry into chainwatch events.

``POST /v1/traces`` and ``POST /v1/logs`` take OTLP export requests as JSON (``application/json``) or
protobuf (``application/x-protobuf``), optionally gzip-compressed. Protobuf is parsed with the
opentelemetry-proto package's generated classes and turned into the OTLP/JSON shape by
``google.protobuf.json_format``, so both encodings go through the same adapter (``schemas.adapters.otlp``).

Answers follow the OTLP/HTTP specification: 200 with an Export*ServiceResponse in the request's encoding
(``partial_success`` counts the records that became dead letters and says why); 400 for a body that
cannot be decoded (counted, and kept as a dead letter); 401 without the bearer token; 413 above the size
caps; 415 for other content types; 503 with ``Retry-After`` when the sink (Kafka, the database) is down,
so exporters retry. Events go to a :class:`Sink`: Kafka (one batch message per session of a request) or
the embedded engine writing DuckDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hmac
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from schemas.adapters.base import DeadLetter, Parsed
from schemas.adapters.otlp import parse_request
from schemas.adapters.records import (
    DEFAULT_MAX_RECORD_BYTES,
    RECORD_LIMIT_FIX,
    duplicate_reason,
    first_repeated,
    may_repeat_keys,
    oversize_reason,
    repeated_keys,
)
from schemas.errors import ChainwatchError
from schemas.events import AnyEvent, event_to_json
from streams.settings import ReceiverSettings

log = logging.getLogger("chainwatch.receiver")

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
RETRY_AFTER_SECONDS = 5
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class SinkUnavailable(ChainwatchError):
    """The sink cannot take events now; the exporter should retry (503)."""

    terminal = False


class Sink(Protocol):
    def deliver(self, events: Sequence[AnyEvent], letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        """Store or forward one request's events and dead letters; SinkUnavailable asks for a retry.
        Returns the dead letters the sink made itself (events it cannot carry, e.g. too large)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Signal:
    """One OTLP signal: its path, request and response classes, and the partial-success field."""

    path: str
    request: type[Message]
    response: type[Message]
    rejected_field: str


TRACES = Signal(
    "/v1/traces",
    trace_service_pb2.ExportTraceServiceRequest,
    trace_service_pb2.ExportTraceServiceResponse,
    "rejected_spans",
)
LOGS = Signal(
    "/v1/logs",
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    "rejected_log_records",
)


@dataclass
class Counters:
    requests: int = 0
    events: int = 0
    dead_letters: int = 0
    bad_requests: int = 0  # undecodable bodies (400)
    unauthorized: int = 0
    too_large: int = 0
    unavailable: int = 0  # answered 503: the sink was down
    reasons: list[str] = field(default_factory=list)  # the last few 400 reasons, for the log and tests


class BadRequest(Exception):
    """The body cannot be decoded; the message says why."""


class TooLarge(Exception):
    pass


def decode_body(body: bytes, content_type: str, encoding: str, signal: Signal, max_decoded: int) -> Any:
    """The request as an OTLP/JSON document (a dict); raises BadRequest or TooLarge."""
    if encoding == "gzip":
        body = _gunzip(body, max_decoded)
    elif encoding not in ("", "identity"):
        raise BadRequest(f"unsupported Content-Encoding {encoding!r}; send gzip or no encoding")
    if content_type == PROTOBUF:
        message = signal.request()
        try:
            message.ParseFromString(body)
        except (DecodeError, RuntimeError) as exc:
            raise BadRequest(f"body is not a protobuf {signal.request.__name__}: {exc}") from None
        return json_format.MessageToDict(message)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    if may_repeat_keys(body, document):  # readers disagree on which value of a repeated key counts
        slow = repeated_keys(body)
        key = slow if isinstance(slow, str) else first_repeated(slow[0]) if slow else None
        if key is not None:
            raise BadRequest(slow if isinstance(slow, str) else duplicate_reason(key))
    return document


def _gunzip(body: bytes, limit: int) -> bytes:
    """Decompress with a cap, so that a small gzip bomb cannot exhaust memory.

    Every gzip member is read (concatenated members are one valid gzip stream), and a stream cut short
    is refused: a truncated protobuf can still parse, and the records after the cut would be lost
    behind a 200."""
    parts: list[bytes] = []
    size = 0
    rest = body
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(rest, limit - size + 1)
        except zlib.error as exc:
            raise BadRequest(f"Content-Encoding gzip, but the body is not gzip: {exc}") from None
        size += len(out)
        if size > limit or inflater.unconsumed_tail:
            raise TooLarge(
                f"decompressed body over the {limit}-byte limit (CHAINWATCH_RECEIVER__MAX_DECODED_BYTES)"
            )
        if not inflater.eof:
            raise BadRequest("Content-Encoding gzip, but the gzip stream is truncated; send the whole body")
        parts.append(out)
        rest = inflater.unused_data
        if not rest.strip(b"\0"):  # trailing zero padding after the last member is tolerated, as by gzip(1)
            return b"".join(parts)


def encode_response(signal: Signal, rejected: int, message: str, content_type: str) -> bytes:
    response = signal.response()
    if rejected:
        partial = response.partial_success
        setattr(partial, signal.rejected_field, rejected)
        partial.error_message = message
    if content_type == PROTOBUF:
        return bytes(response.SerializeToString())
    return str(json_format.MessageToJson(response, indent=None)).encode()


class Receiver:
    """The aiohttp application; one instance per ``chainwatch receive``."""

    def __init__(
        self,
        sink: Sink,
        settings: ReceiverSettings,
        *,
        insecure_local: bool = False,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    ) -> None:
        token = settings.token.get_secret_value() if settings.token else ""
        if not token and not insecure_local:
            raise ChainwatchError(
                "the receiver needs a bearer token: set CHAINWATCH_RECEIVER__TOKEN (exporters send it with "
                "OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer …'), or start it with --insecure-local "
                "to accept unauthenticated requests on this machine"
            )
        self.sink = sink
        self.settings = settings
        self.max_record_bytes = max_record_bytes
        self.token = token
        self.counters = Counters()
        self._lock = asyncio.Lock()  # one delivery at a time: DuckDB has one writer, Kafka keeps order
        self.app = web.Application(client_max_size=settings.max_body_bytes)
        self.app.router.add_post(TRACES.path, self._handler(TRACES))
        self.app.router.add_post(LOGS.path, self._handler(LOGS))

    def _handler(self, signal: Signal) -> Any:
        async def handle(request: web.Request) -> web.Response:
            return await self.handle(request, signal)

        return handle

    def _authorized(self, request: web.Request) -> bool:
        if not self.token:
            # --insecure-local: only clients on this machine. A browser page can reach 127.0.0.1 too,
            # through a DNS name rebound to it; its requests then carry that name as Host: refused.
            return request.url.host in LOOPBACK_NAMES
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    async def handle(self, request: web.Request, signal: Signal) -> web.Response:
        self.counters.requests += 1
        answer_type = PROTOBUF if request.content_type == PROTOBUF else JSON  # failures too (OTLP spec)
        if not self._authorized(request):
            self.counters.unauthorized += 1
            if not self.token:
                return _error(
                    401,
                    f"Host {request.host!r} is not this machine; --insecure-local serves only "
                    "127.0.0.1 / localhost (set CHAINWATCH_RECEIVER__TOKEN to serve others)",
                    content_type=answer_type,
                )
            return _error(
                401,
                "missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
                content_type=answer_type,
            )
        content_type = request.content_type
        if content_type not in (JSON, PROTOBUF):
            return _error(415, f"Content-Type {content_type!r} is not supported; send {JSON} or {PROTOBUF}")
        if request.content_length is not None and request.content_length > self.settings.max_body_bytes:
            return self._too_large(f"body of {request.content_length} bytes", answer_type)
        try:
            body = await asyncio.wait_for(request.read(), self.settings.body_timeout_seconds)
        except web.HTTPRequestEntityTooLarge:
            return self._too_large("body", answer_type)
        except TimeoutError:
            return _error(
                408,
                f"body not received within {self.settings.body_timeout_seconds:g} s "
                "(CHAINWATCH_RECEIVER__BODY_TIMEOUT_SECONDS)",
                content_type=answer_type,
            )
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        try:
            document = decode_body(body, content_type, encoding, signal, self.settings.max_decoded_bytes)
        except TooLarge as exc:
            return self._too_large(str(exc), answer_type)
        except BadRequest as exc:
            return await self._bad_request(str(exc), body, content_type)
        if not isinstance(document, dict):
            return await self._bad_request(
                f"expected a JSON object, got {type(document).__name__}", body, content_type
            )
        shape = next((k for k in ("resourceSpans", "resourceLogs") if k in document), None)
        if shape and not isinstance(document[shape], list):
            return await self._bad_request(f"{shape} must be a list", body, content_type)
        # A request with neither list is an empty export (unknown fields are ignored, as the spec asks).
        parsed: list[Parsed] = list(parse_request(document, f"receiver{signal.path}", None)) if shape else []
        events, letters = self._within_record_limit(parsed)
        try:
            letters += await self._deliver(events, letters)
        except SinkUnavailable as exc:
            self.counters.unavailable += 1
            log.warning("sink unavailable, asking the exporter to retry: %s", exc)
            return _error(
                503,
                f"temporarily unavailable: {exc}",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                content_type=answer_type,
            )
        self.counters.events += len(events)
        self.counters.dead_letters += len(letters)
        message = "; ".join(letter.reason for letter in letters[:3])
        if len(letters) > 3:
            message += f"; … and {len(letters) - 3} more"
        payload = encode_response(signal, len(letters), message, content_type)
        return web.Response(status=200, body=payload, content_type=content_type)

    async def _deliver(self, events: list[AnyEvent], letters: list[DeadLetter]) -> list[DeadLetter]:
        """Hand the events to the sink in a thread (Kafka and DuckDB clients block), within the timeout.

        A sink that does not answer in time counts as unavailable (503): the exporter retries, and a
        delivery that completes later anyway is not harmful, as event ids are stable and every store
        upserts by id."""
        timeout = self.settings.deliver_timeout_seconds
        async with self._lock:
            try:
                return await asyncio.wait_for(asyncio.to_thread(self.sink.deliver, events, letters), timeout)
            except TimeoutError:
                raise SinkUnavailable(f"no answer within {timeout:g} s") from None

    def _within_record_limit(self, parsed: list[Parsed]) -> tuple[list[AnyEvent], list[DeadLetter]]:
        """Events over CHAINWATCH_MAX_RECORD_BYTES (serialised) are dead letters, as in run and the worker."""
        events: list[AnyEvent] = []
        letters: list[DeadLetter] = []
        for item in parsed:
            if isinstance(item, DeadLetter):
                letters.append(item)
                continue
            size = len(event_to_json(item))
            if size > self.max_record_bytes:
                letters.append(
                    DeadLetter(
                        item.source,
                        None,
                        "receive",
                        f"{oversize_reason(size, self.max_record_bytes)}; fix: {RECORD_LIMIT_FIX}",
                        f"(event {item.event_id} of session {item.session_id}, {size} bytes, not kept)",
                    )
                )
            else:
                events.append(item)
        return events, letters

    def _too_large(self, what: str, answer_type: str) -> web.Response:
        self.counters.too_large += 1
        return _error(
            413,
            f"{what} is over the limit (CHAINWATCH_RECEIVER__MAX_BODY_BYTES / MAX_DECODED_BYTES)",
            content_type=answer_type,
        )

    async def _bad_request(self, reason: str, body: bytes, content_type: str) -> web.Response:
        self.counters.bad_requests += 1
        self.counters.reasons = [*self.counters.reasons[-9:], reason]
        log.warning("400: %s", reason)
        # Not hex: protobuf keeps strings as UTF-8 runs, and the dead letter's redaction must see them
        # (a token inside an undecodable body was stored whole as hex). Other bytes become \xNN escapes.
        raw = body[:65536].decode("utf-8", "backslashreplace")
        letter = DeadLetter("receiver", None, "receive", f"undecodable {content_type} body: {reason}", raw)
        with contextlib.suppress(SinkUnavailable):  # the 400 stands: resending the body cannot fix it
            await self._deliver([], [letter])
        return _error(400, reason, content_type=content_type)


def _error(
    status: int, message: str, headers: dict[str, str] | None = None, content_type: str = JSON
) -> web.Response:
    """The OTLP/HTTP failure body: a google.rpc.Status in the request's encoding (binary protobuf for a
    protobuf request, its JSON form otherwise); the specification does not use ``Status.code``."""
    if content_type == PROTOBUF:
        body = bytes(status_pb2.Status(message=message).SerializeToString())
        return web.Response(status=status, body=body, content_type=PROTOBUF, headers=headers)
    body = orjson.dumps({"code": status, "message": message})
    return web.Response(status=status, body=body, content_type=JSON, headers=headers)


async def start(receiver: Receiver, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``receiver`` on host:port (0 picks a free port); returns the runner and the bound port."""
    # auto_decompress off: the body is inflated here, with the decoded-size cap (a gzip bomb is a 413)
    # keepalive_timeout: aiohttp closes a connection that has not delivered a complete request header this
    # long after it opened or after its previous response (slow-header and idle clients alike)
    runner = web.AppRunner(
        receiver.app,
        access_log=None,
        auto_decompress=False,
        keepalive_timeout=receiver.settings.header_timeout_seconds,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # aiohttp exposes the bound sockets only here
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound


def gzip_body(data: bytes) -> bytes:
    """For clients and tests: a gzip body as OTLP exporters send it."""
    return gzip.compress(data)
