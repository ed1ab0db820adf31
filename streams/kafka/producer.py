"""``chainwatch produce``: files → adapters → batch messages on the events topic.

How events become messages (the worker's cost is per message and per session in a message, so both
are kept low):

1. Events are read through the adapters (``schemas.adapters.parse_bytes``) and grouped by session,
   keeping input order within each session. Records that are not events are counted, reported and
   sent to the dead-letter topic with their reason.
2. Each session is mapped to the partition its id hashes to (murmur2, the same as Kafka's default
   partitioner for the session id as key), so all of a session's events go to one partition, in order.
3. Sessions that land on the same partition share messages: a partition's sessions are packed, one
   after the other, into messages of at most ``worker.batch_max_events`` events and
   ``kafka.max_message_bytes`` bytes (``streams.kafka.wire.encode_events``: NDJSON). A long session spans
   several consecutive messages; many small sessions share one. A message's key is the id of its first
   session; all its other sessions hash to the same partition, and it is sent to that partition
   explicitly. Consumers must not assume one session per message.
4. An event that alone is larger than the byte cap (or than the worker's repartition limit, which the
   worker would dead-letter it for) is not sent; it is dead-lettered here, with the reason.

The grouping works on a window of ``window_events`` events at a time (the whole input when it is
smaller), so memory stays bounded on large files; a session that spans windows keeps its order because
windows are sent one after the other to the same partition.

The producer is kafka-python's idempotent producer (its 3.0 default) with ``acks=all``: broker-side
retries never duplicate or reorder a partition's messages.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.adapters import check_input, detect_format, parse_bytes, read_input
from schemas.adapters.base import DeadLetter
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import ChainwatchError
from schemas.events import AnyEvent
from streams.kafka.bootstrap import unreachable
from streams.kafka.security import kafka_python_kwargs, preflight
from streams.kafka.topics import KafkaUnavailable, require_topics
from streams.kafka.wire import encode_dead_letter, encode_events
from streams.settings import Settings

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError, KafkaTimeoutError
    from kafka.partitioner.default import murmur2

DEFAULT_WINDOW_EVENTS = 100_000
INGEST_TIME_ROOM = 64  # bytes the worker's ingest_time adds to an event's JSON


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` (Java client and kafka-python alike)."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class OutMessage:
    """One message for the events topic."""

    partition: int
    key: bytes
    value: bytes
    events: int
    sessions: tuple[str, ...]


@dataclass
class _Open:
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    sessions: list[str] = field(default_factory=list)


class Packer:
    """Groups events by session and packs each partition's sessions into batch messages (pure logic).
    ``per_session`` gives every session messages of its own (the OTLP receiver: one message per session of
    a request); ``origin`` names the sender in the dead letters of events too large for any message."""

    def __init__(
        self,
        partitions: int,
        *,
        max_events: int,
        max_bytes: int,
        max_event_bytes: int | None = None,
        per_session: bool = False,
        origin: str = "produce",
    ) -> None:
        if partitions < 1 or max_events < 1 or max_bytes < 1:
            raise ValueError("partitions, max_events and max_bytes must be positive")
        self.partitions = partitions
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_event_bytes = min(max_bytes, max_event_bytes or max_bytes)
        self.per_session = per_session
        self.origin = origin
        self._sessions: dict[str, list[bytes]] = {}  # insertion order = first appearance
        self.pending = 0

    def add(self, event: AnyEvent) -> DeadLetter | None:
        """Queue one event; an event too big for any message comes back as a dead letter."""
        line = encode_events([event])
        if len(line) > self.max_event_bytes:
            return DeadLetter(
                origin=f"{self.origin}:{event.session_id}",
                record_no=None,
                stage="produce",
                reason=(
                    f"event {event.event_id!r} is {len(line)} bytes encoded, over the {self.max_event_bytes}-"
                    "byte limit of one event (the message cap CHAINWATCH_KAFKA__MAX_MESSAGE_BYTES and the "
                    "worker's CHAINWATCH_WORKER__REPARTITION_MAX_BYTES); shorten its arguments or result"
                ),
                raw=line[:4096].decode("utf-8", "replace"),
            )
        self._sessions.setdefault(event.session_id, []).append(line)
        self.pending += 1
        return None

    def drain(self) -> list[OutMessage]:
        """Every queued event as messages, in send order (per partition: sessions in first-seen order)."""
        open_: dict[int, _Open] = {}
        messages: list[OutMessage] = []

        def close(partition: int) -> None:
            current = open_.pop(partition, None)
            if current and current.lines:
                value = b"\n".join(current.lines)  # == encode_events(those events): NDJSON
                messages.append(
                    OutMessage(
                        partition,
                        current.sessions[0].encode(),
                        value,
                        len(current.lines),
                        tuple(current.sessions),
                    )
                )

        for session_id, lines in self._sessions.items():
            partition = partition_for(session_id.encode(), self.partitions)
            if self.per_session:
                close(partition)
            for line in lines:
                current = open_.setdefault(partition, _Open())
                separator = 1 if current.lines else 0
                if current.lines and (
                    len(current.lines) >= self.max_events
                    or current.size + separator + len(line) > self.max_bytes
                ):
                    close(partition)
                    current = open_.setdefault(partition, _Open())
                    separator = 0
                current.lines.append(line)
                current.size += separator + len(line)
                if not current.sessions or current.sessions[-1] != session_id:
                    current.sessions.append(session_id)
        for partition in sorted(open_):
            close(partition)
        self._sessions.clear()
        self.pending = 0
        return messages


@dataclass
class InputReport:
    origin: str
    format: str | None
    records: int = 0
    events: int = 0
    dead_letters: int = 0
    error: str | None = None


@dataclass
class ProduceReport:
    inputs: list[InputReport] = field(default_factory=list)
    events: int = 0
    dead_letters: int = 0
    sessions: int = 0
    messages: int = 0
    bytes: int = 0
    partitions_used: int = 0
    reasons: list[str] = field(default_factory=list)  # the first dead-letter reasons, for the report

    @property
    def failed_inputs(self) -> list[InputReport]:
        return [i for i in self.inputs if i.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [vars(i) for i in self.inputs],
            "events": self.events,
            "dead_letters": self.dead_letters,
            "sessions": self.sessions,
            "messages": self.messages,
            "bytes": self.bytes,
            "partitions_used": self.partitions_used,
            "reasons": self.reasons,
        }


def iter_inputs(
    paths: Sequence[str],
    fmt: str | None,
    report: ProduceReport,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[AnyEvent | DeadLetter]:
    """Events and dead letters of every input; an unreadable or unknown input is noted in the report."""
    for path in paths:
        origin = "stdin" if path == "-" else path
        entry = InputReport(origin=origin, format=fmt)
        report.inputs.append(entry)
        try:
            data = read_input(path)
            entry.format = fmt or detect_format(data, origin)
            parsed = parse_bytes(data, origin, entry.format, max_record_bytes=max_record_bytes)
        except (ChainwatchError, OSError) as exc:
            entry.error = str(exc)
            continue
        for item in parsed:
            entry.records += 1
            if isinstance(item, DeadLetter):
                entry.dead_letters += 1
            else:
                entry.events += 1
            yield item


def _bootstrap_wait(settings: Settings) -> dict[str, int]:
    """kafka-python waits 30 s for a first broker whatever the request timeout; the request timeout setting
    (CHAINWATCH_KAFKA__REQUEST_TIMEOUT_SECONDS) bounds that wait too, where the installed version allows."""
    if "bootstrap_timeout_ms" not in KafkaProducer.DEFAULT_CONFIG:
        return {}
    return {"bootstrap_timeout_ms": int(settings.kafka.request_timeout_seconds * 1000)}


class EventProducer:
    """kafka-python's idempotent producer, sending batch messages and dead letters."""

    def __init__(self, settings: Settings, bootstrap: str | None = None) -> None:
        self.settings = settings
        self.topic = settings.topics.events
        self.dead_letter_topic = settings.topics.dead_letters
        servers = bootstrap or settings.kafka.bootstrap_servers
        self.bootstrap = servers
        preflight(settings.kafka, servers)  # wrong TLS/SASL settings: a clear error now, not a 30 s timeout
        try:
            self.producer = KafkaProducer(
                **kafka_python_kwargs(settings.kafka),
                bootstrap_servers=servers.split(","),
                client_id=f"{settings.kafka.client_id}-produce",
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                batch_size=256 * 1024,
                max_request_size=settings.kafka.max_message_bytes + 64 * 1024,
                request_timeout_ms=int(settings.kafka.request_timeout_seconds * 1000),
                allow_auto_create_topics=False,  # (ignored by kafka-python 3.0: see require_topics)
                **_bootstrap_wait(settings),
            )
        except KafkaTimeoutError as exc:
            raise KafkaUnavailable(unreachable(servers, bootstrap, exc)) from None
        self._futures: list[Any] = []

    def partitions(self) -> int:
        require_topics(self.settings, self.bootstrap, [self.topic, self.dead_letter_topic])
        return len(self.producer.partitions_for(self.topic))

    def send(self, message: OutMessage) -> None:
        self._futures.append(
            self.producer.send(self.topic, value=message.value, key=message.key, partition=message.partition)
        )

    def send_dead_letter(self, letter: DeadLetter) -> None:
        self._futures.append(
            self.producer.send(
                self.dead_letter_topic, value=encode_dead_letter(letter), key=letter.origin.encode()
            )
        )

    def flush(self) -> None:
        """Wait until the broker acknowledged every message sent so far; raise on any failure."""
        self.producer.flush(timeout=self.settings.kafka.request_timeout_seconds * 4)
        failures = []
        for future in self._futures:
            try:
                future.get(timeout=self.settings.kafka.request_timeout_seconds)
            except KafkaError as exc:
                failures.append(repr(exc))
        self._futures.clear()
        if failures:
            raise KafkaUnavailable(
                f"{len(failures)} message(s) were not acknowledged by the broker; first: {failures[0]}"
            )

    def close(self) -> None:
        self.producer.close(timeout=10)


def produce(
    items: Iterable[AnyEvent | DeadLetter],
    sink: EventProducer,
    *,
    max_events: int,
    window_events: int = DEFAULT_WINDOW_EVENTS,
    report: ProduceReport | None = None,
    on_message: Callable[[OutMessage], None] | None = None,
) -> ProduceReport:
    """Pack and send ``items``; dead letters go to the dead-letter topic. Returns the counts."""
    report = report or ProduceReport()
    settings = sink.settings
    packer = Packer(
        sink.partitions(),
        max_events=max_events,
        max_bytes=settings.kafka.max_message_bytes,
        # the worker dead-letters an event over its repartition limit (after adding ingest_time): say so now
        max_event_bytes=settings.worker.repartition_max_bytes - INGEST_TIME_ROOM,
    )
    sessions: set[str] = set()
    partitions: set[int] = set()

    def dead(letter: DeadLetter) -> None:
        report.dead_letters += 1
        if len(report.reasons) < 10:
            report.reasons.append(letter.reason)
        sink.send_dead_letter(letter)

    def drain() -> None:
        for message in packer.drain():
            sink.send(message)
            report.messages += 1
            report.bytes += len(message.value)
            partitions.add(message.partition)
            if on_message:
                on_message(message)

    for item in items:
        if isinstance(item, DeadLetter):
            dead(item)
            continue
        letter = packer.add(item)
        if letter is not None:
            dead(letter)
            continue
        report.events += 1
        sessions.add(item.session_id)
        if packer.pending >= window_events:
            drain()
    drain()
    sink.flush()
    report.sessions = len(sessions)
    report.partitions_used = len(partitions)
    return report


def produce_files(
    paths: Sequence[str],
    settings: Settings,
    *,
    fmt: str | None = None,
    bootstrap: str | None = None,
    max_events: int | None = None,
) -> ProduceReport:
    for path in paths:  # a mistyped file name is reported now, not after waiting for the broker
        check_input(path)
    report = ProduceReport()
    sink = EventProducer(settings, bootstrap)
    try:
        produce(
            iter_inputs(paths, fmt, report, settings.max_record_bytes),
            sink,
            max_events=max_events or settings.worker.batch_max_events,
            report=report,
        )
    finally:
        sink.close()
    return report
