"""The faust worker: chainwatch's streaming topology (topics, tables, agents), declared once.

::

    events topic ──ingest──► <app>-<scope>-repartition (one per engine scope) ──detect[scope]──► findings
      (batches)     │          ▲ ticks from the leader's timer                      │ state table   alerts
                    ▼                                                                ▼ (changelog)  chains
               dead letters ◄────────────────────────────────────────────────────────┘

- **ingest** parses each message with :func:`streams.kafka.wire.decode_events` (the replay path's adapters and
  contract), dead-letters what it cannot read, and forwards the events to one repartition topic per
  engine scope: the events of a batch are grouped by target partition (Kafka's murmur2 of the key) and sent
  as one NDJSON message per partition, never one message per event.
- **detect[scope]** reads its repartition topic, groups each message's events by key, and per key loads
  the key's state from a changelog-backed table, runs :meth:`Engine.process_key` and writes the table once.
- **ticks**: faust tables can only be written while a stream is being iterated, so the leader's timer
  sends a small control message to every partition of every repartition topic; when detect reads one it
  closes the partition's idle keys and lets time pass for the others (absence deadlines).

Guarantees: at-least-once with idempotent state. The table value of a key remembers the repartition
message (partition, offset) and, per source partition, the source message (offset, chunk) last applied, so
neither a redelivered repartition message nor a re-sent ingest batch applies the same events twice.
Outputs carry deterministic ids (sinks upsert) and are acknowledged before the state that produced them
is saved. faust's ``exactly_once`` is not used (open data-loss bugs upstream).

Why a factory (:func:`create_app`) and not a module-level app: topic names, partition counts, the app id
and the engine come from :class:`Settings` at run time, tests need a fresh app (faust tables keep their
state for the life of the app), and the worker is started by ``chainwatch worker`` / :func:`run_worker`,
never by faust's own ``faust -A module:app`` command line, which is what a module-level app is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import faust
import orjson
from faust.exceptions import PartitionsMismatch
from kafka.partitioner.default import murmur2

from detectors.engine import Engine, KeyState, Output
from detectors.registry import RuleReloader
from detectors.state_codec import StateFormError
from schemas.adapters import ADAPTERS
from schemas.adapters.base import DeadLetter
from schemas.events import AnyEvent, event_to_json
from schemas.redaction import redact_text
from streams.kafka.security import faust_credentials
from streams.kafka.skipped import Hole, Positions, read_offsets
from streams.kafka.stored import Stored, encode_value, unreadable
from streams.kafka.topics import TopicSpec, topic_specs
from streams.kafka.wire import FORMAT_HEADER, decode_events, decode_internal, encode_dead_letter, encode_model
from streams.settings import (
    Settings,
    build_engine,  # noqa: F401  (re-exported: tests and benchmarks use it)
    model_detectors_for,
)

log = logging.getLogger("chainwatch.worker")

CONTROL_HEADER = "chainwatch-control"  # on repartition messages: b"tick" marks a sweep request
SOURCE_HEADER = "chainwatch-source"  # on repartition messages: where the events came from (JSON)
TICK = b"tick"
# Table values (a key's engine state) can outgrow the broker's 1 MiB default: the changelog topics and the
# producer allow more. Repartition messages stay under settings.worker.repartition_max_bytes.
CHANGELOG_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
PRODUCER_MAX_REQUEST_BYTES = CHANGELOG_MAX_MESSAGE_BYTES + 64 * 1024
STATS_LOG_SECONDS = 30.0
_RAW_KEEP = 65536  # bytes of an input kept in a dead letter


# ------------------------------------------------------------------------------------------ names


def repartition_topic(settings: Settings, scope: str) -> str:
    """Name of the repartition topic of an engine scope (``chainwatch-session-repartition``)."""
    return f"{settings.worker.app_id}-{scope}-repartition"


def table_name(scope: str) -> str:
    return f"{scope}-state"


def changelog_topic(settings: Settings, scope: str) -> str:
    """Name of the changelog topic faust keeps for a scope's state table (compacted, never time-retained)."""
    return f"{settings.worker.app_id}-{table_name(scope)}-changelog"


def leader_topic(settings: Settings) -> str:
    """faust's leader-election topic (one partition; its owner runs the tick timer)."""
    return f"{settings.worker.app_id}-__assignor-__leader"


def internal_topic_specs(settings: Settings, scopes: Iterable[str]) -> list[TopicSpec]:
    """The worker's own topics, as :func:`streams.kafka.topics.topic_specs` describes the public ones."""
    n = settings.topics.partitions
    specs = [TopicSpec("leader", leader_topic(settings), 1, {}, "faust leader election (the tick timer)")]
    for scope in scopes:
        specs.append(
            TopicSpec(
                f"repartition.{scope}",
                repartition_topic(settings, scope),
                n,
                {"cleanup.policy": "delete"},
                f"events batched by {scope} key, and sweep ticks",
            )
        )
        specs.append(
            TopicSpec(
                f"changelog.{scope}",
                changelog_topic(settings, scope),
                n,
                {"cleanup.policy": "compact", "max.message.bytes": str(CHANGELOG_MAX_MESSAGE_BYTES)},
                f"state of the {scope} table (compacted, never time-retained)",
            )
        )
    return specs


def topic_names(settings: Settings, scopes: Iterable[str]) -> dict[str, str]:
    """Every topic the worker uses, by role (``events``, ``repartition.session``, ``changelog.session``…)."""
    return {
        spec.role: spec.name for spec in [*topic_specs(settings), *internal_topic_specs(settings, scopes)]
    }


# ------------------------------------------------------------------------------------------ routing


@lru_cache(maxsize=65536)
def _key_hash(key: str) -> int:
    return int(murmur2(key.encode("utf-8", "surrogatepass"))) & 0x7FFFFFFF


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key bytes, made positive, mod the partition count)."""
    return _key_hash(key) % partitions


def split_by_partition(
    keyed: Iterable[tuple[str, bytes]], partitions: int, max_bytes: int
) -> list[tuple[int, bytes]]:
    """``(key, event JSON)`` pairs to ``(partition, NDJSON value)`` messages: one per target partition, more
    only where a partition's share would exceed ``max_bytes``. A key's events stay together and in order."""
    buckets: dict[int, dict[str, list[bytes]]] = {}
    for key, line in keyed:
        buckets.setdefault(partition_for(key, partitions), {}).setdefault(key, []).append(line)
    messages: list[tuple[int, bytes]] = []
    for partition in sorted(buckets):
        chunk: list[bytes] = []
        size = 0
        for lines in buckets[partition].values():
            for line in lines:
                if chunk and size + len(line) + 1 > max_bytes:
                    messages.append((partition, b"\n".join(chunk)))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line) + 1
        if chunk:
            messages.append((partition, b"\n".join(chunk)))
    return messages


def header(message: Any, name: str) -> bytes | None:
    """A header's value from a faust message (headers come as a list of pairs or a mapping)."""
    headers = getattr(message, "headers", None)
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key == name:
            return value if isinstance(value, bytes) else str(value).encode()
    return None


def origin_of(message: Any) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"


# ------------------------------------------------------------------------------------------ values


class Outgoing(NamedTuple):
    """One message to send: every message the worker produces goes through :meth:`Topology.send`."""

    topic: str
    key: bytes | None
    value: bytes
    partition: int | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class Counts:
    """What a message did (returned by the handlers) and, summed, what the worker did (``Topology.stats``)."""

    messages: int = 0
    events: int = 0  # events read by the ingest agent
    scoped_events: int = 0  # events read by the detect agents (once per scope an event has a key for)
    dead_letters: int = 0
    repartitioned: int = 0  # repartition messages sent
    ticks: int = 0
    keys_applied: int = 0  # (key, batch) pairs whose state was updated
    keys_duplicate: int = 0  # (key, batch) pairs skipped because already applied (redelivery)
    keys_advanced: int = 0
    keys_closed: int = 0
    findings: int = 0
    alerts: int = 0
    chains: int = 0
    late_events: int = 0
    errors: int = 0  # unexpected failures, each also dead-lettered and logged
    skipped_offsets: int = 0  # input offsets faust never handed to an agent (streams/kafka/skipped.py) ...
    recovered_offsets: int = 0  # ... and of those, the ones read back from the broker and handled

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def count_output(self, out: Output) -> None:
        self.findings += len(out.findings)
        self.alerts += len(out.alerts)
        self.chains += len(out.chains)
        self.late_events += out.late_events


@dataclass(slots=True)
class KeyMeta:
    """What the sweep needs to know about a live key without loading its state."""

    seen: float  # wall clock of its last events (or of when this worker took the partition over)
    last_time: float | None  # event time of its latest event
    advanced_to: float  # event time its detectors have been brought up to


@dataclass
class _Work:
    key: str
    state: KeyState | None  # None: the key closed, delete it
    out: Output
    stored: Stored | None
    saved: bytes | None = None  # the state's stored bytes, when already made


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the broker is away or busy, not the message being wrong."""
    return (
        bool(getattr(exc, "retriable", False))
        or isinstance(exc, TimeoutError | ConnectionError)
        or type(exc).__name__ in {"KafkaTimeoutError", "KafkaConnectionError", "NodeNotReadyError"}
    )


def _source_pos(message: Any) -> tuple[str, tuple[int, int]] | None:
    raw = header(message, SOURCE_HEADER)
    if raw is None:
        return None
    try:
        data = orjson.loads(raw)
        return f"{data['t']}:{int(data['p'])}", (int(data["o"]), int(data["c"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def already_applied(
    stored: Mapping[str, Any], partition: int, offset: int, source: tuple[str, tuple[int, int]] | None
) -> bool:
    """Whether a key's stored state already contains this message's events."""
    if stored.get("p") == partition and stored.get("o", -1) >= offset:
        return True  # this repartition message (or a later one) was applied: a redelivery
    if source is not None:
        last = stored.get("src", {}).get(source[0])
        if last is not None and (int(last[0]), int(last[1])) >= source[1]:
            return True  # the ingest agent forwarded the same source message again (it was redelivered)
    return False


# ------------------------------------------------------------------------------------------ topology


class Topology:
    """The faust app with its topics, tables and agents, and the logic the agents run.

    Everything that leaves the process goes through :meth:`send` (unit tests replace it) or through a
    table write (faust's changelog).
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        # Rule files reload without a restart (checked on every tick); an engine given by a test is fixed.
        self.reloader = RuleReloader(settings.engine.rules_dirs) if engine is None else None
        self._reported_errors: list[str] = []
        # Model detectors (when a model file is configured) outlive rule reloads: one handle, re-read on ticks
        self.model_detectors = model_detectors_for(settings) if engine is None else []
        self.engine = engine or Engine(
            (self.reloader.catalog.detectors if self.reloader else []) + self.model_detectors,
            settings.engine.engine_settings(),
        )
        self.scopes: tuple[str, ...] = tuple(self.engine.scopes)
        self.partitions = settings.topics.partitions
        self.clock: Callable[[], float] = time.time
        self.stats = Counts()
        self.ready = False
        self.names = topic_names(settings, self.scopes)
        self.app = self._make_app()
        # The topics `chainwatch topics create` makes, with the same configs (chains compacted, a larger
        # message limit on events), so a worker started first creates them the same way.
        self._topics: dict[str, Any] = {
            spec.name: self._topic(spec.name, spec.configs) for spec in topic_specs(settings)
        }
        self.events_topic = self._topics[settings.topics.events]
        self.repartition_topics: dict[str, Any] = {}
        self.tables: dict[str, Any] = {}
        for scope in self.scopes:
            name = repartition_topic(settings, scope)
            self.repartition_topics[scope] = self._topics[name] = self._topic(name)
            self.tables[scope] = self.app.Table(
                table_name(scope),
                partitions=self.partitions,
                # faust derives the codecs from the types, never pickle: the key JSON, the value bytes we
                # encode ourselves (streams/kafka/stored.py: positions as JSON, the state deflated)
                key_type=str,
                value_type=bytes,
                extra_topic_configs={"max.message.bytes": CHANGELOG_MAX_MESSAGE_BYTES},
                help=f"Engine state per {scope} key (compacted changelog).",
            )
            codecs = (self.tables[scope].key_serializer, self.tables[scope].value_serializer)
            assert codecs == ("json", "raw"), f"state tables must use the JSON and raw codecs, not {codecs}"
        # Per scope and repartition partition: the live keys (rebuilt from the table after a rebalance)
        # and the event-time watermark (the latest event time seen on that partition).
        self.live: dict[str, dict[int, dict[str, KeyMeta]]] = {s: {} for s in self.scopes}
        self.watermarks: dict[str, dict[int, float]] = {s: {} for s in self.scopes}
        # ... and the wall clock of the partition's last events (or of when this worker took it over). A key
        # is idle on the wall clock only once its whole partition is: while the partition still receives
        # events (a backlog being read, a takeover catching up), the key's own events may be in that
        # backlog, and event time (the watermark) decides, as in a replay.
        self.partition_seen: dict[str, dict[int, float]] = {s: {} for s in self.scopes}
        # ... and the keys of its latest events message. `chainwatch produce` packs a partition's sessions one
        # after the other, so the watermark is the newest time of the sessions packed before: a session whose
        # run of messages is still being read looks idle in event time to a tick that falls between two of
        # them. A key of the latest message is in such a run and is never closed for event-time idleness.
        self.latest_keys: dict[str, dict[int, set[str]]] = {s: {} for s in self.scopes}
        # The last offset an agent was handed per partition, to notice messages faust never hands over.
        self.positions = Positions()
        self._declare_agents()

    # -- declaration
    def _make_app(self) -> Any:
        s, w = self.settings, self.settings.worker
        brokers = [f"kafka://{host.strip()}" for host in s.kafka.bootstrap_servers.split(",") if host.strip()]
        return faust.App(
            w.app_id,
            broker=brokers,
            broker_credentials=faust_credentials(s.kafka),  # TLS / SASL (streams/kafka/security.py)
            broker_client_id=s.kafka.client_id,
            autodiscover=False,
            origin="streams.kafka.topology",
            datadir=str(w.data_dir),
            store="memory://",  # no rocksdb here: state is rebuilt from the changelog topics on start
            key_serializer="raw",
            value_serializer="raw",  # topics carry bytes; we encode and decode ourselves (never pickle)
            processing_guarantee="at_least_once",  # exactly_once has open data-loss bugs upstream
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=w.broker_session_timeout,
            broker_heartbeat_interval=w.broker_heartbeat_interval,
            broker_rebalance_timeout=w.broker_rebalance_timeout,
            topic_partitions=s.topics.partitions,
            topic_replication_factor=s.topics.replication_factor,
            # Standbys only help a disk store; with the memory store faust drops them after recovery anyway.
            table_standby_replicas=0,
            # On a rebalance, finish the events already taken before offsets are committed.
            stream_wait_empty=True,
            producer_acks=-1,
            producer_max_request_size=PRODUCER_MAX_REQUEST_BYTES,
            web_enabled=w.web_enabled,
            web_bind=w.web_host,
            web_host=w.web_host,
            web_port=w.web_port,
        )

    def _topic(self, name: str, config: Mapping[str, Any] | None = None) -> Any:
        # internal=True: faust also declares the topic on start (run_worker has made them all already,
        # see streams.kafka.worker.prepare_topics); raw codecs: we encode and decode the bytes ourselves.
        return self.app.topic(
            name,
            key_serializer="raw",
            value_serializer="raw",
            partitions=self.partitions,
            internal=True,
            config=dict(config or {}),
        )

    def _declare_agents(self) -> None:
        app = self.app

        # The agents never yield: faust answers a yielding agent's input that carries a Faust-Ag-ReplyTo
        # header by producing to the topic the header names, which a hostile producer could abuse.
        async def ingest(stream: Any) -> None:
            async for event in stream.events():
                await self.handle_ingest(event.message)

        self.ingest_agent = app.agent(self.events_topic, name="chainwatch.ingest")(ingest)
        self.detect_agents: dict[str, Any] = {}
        for scope in self.scopes:
            self.detect_agents[scope] = app.agent(
                self.repartition_topics[scope], name=f"chainwatch.detect.{scope}"
            )(self._detect_fun(scope))

        async def send_ticks(app: Any) -> None:
            await self.send_ticks()

        app.timer(self.settings.worker.sweep_interval_seconds, on_leader=True, name="chainwatch.ticks")(
            send_ticks
        )

        last: dict[str, int] = {}

        async def log_stats(app: Any) -> None:
            now = asdict(self.stats)
            if now != last:
                log.info("chainwatch stats: %s", " ".join(f"{k}={v}" for k, v in now.items() if v))
                last.clear()
                last.update(now)

        app.timer(STATS_LOG_SECONDS, name="chainwatch.stats")(log_stats)

        async def stats_page(web: Any, request: Any) -> Any:
            return web.json(self.snapshot())

        app.page("/chainwatch/stats/")(stats_page)
        app.on_partitions_revoked.connect(self._on_revoked, weak=False)
        app.on_rebalance_complete.connect(self._on_rebalance_complete, weak=False)

    def _detect_fun(self, scope: str) -> Callable[[Any], Awaitable[None]]:
        async def detect(stream: Any) -> None:
            async for event in stream.events():
                await self.handle_detect(scope, event.message)

        return detect

    # -- sending
    async def send(self, msg: Outgoing) -> Awaitable[Any]:
        """Hand one message to the producer; returns the delivery future. Replaced in unit tests."""
        topic = self._topics[msg.topic]
        fut: Awaitable[Any] = await topic.send(
            key=msg.key, value=msg.value, partition=msg.partition, headers=list(msg.headers) or None
        )
        return fut

    async def deliver(self, messages: Sequence[Outgoing], *, confirm: bool) -> None:
        """Send messages; with ``confirm``, return only once the broker acknowledged every one.

        A transient failure (broker away, timeout) is retried with backoff, for as long as it takes: giving
        up would lose data under at-least-once. Any other failure raises (the caller dead-letters).
        """
        pending = list(messages)
        attempt = 0
        while pending:
            failed: list[Outgoing] = []
            last: BaseException | None = None
            sent: list[tuple[Outgoing, Awaitable[Any]]] = []
            for msg in pending:
                try:
                    sent.append((msg, await self.send(msg)))
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    failed.append(msg)
                    last = exc
            if confirm and sent:
                results = await asyncio.gather(*(fut for _, fut in sent), return_exceptions=True)
                for (msg, _), result in zip(sent, results, strict=True):
                    if isinstance(result, BaseException):
                        if not isinstance(result, Exception) or not is_transient(result):
                            raise result
                        failed.append(msg)
                        last = result
            if not failed:
                return
            attempt += 1
            delay = min(30.0, 0.25 * 2**attempt)
            log.warning(
                "sending %d message(s) failed (%r); retry %d in %.1fs", len(failed), last, attempt, delay
            )
            await asyncio.sleep(delay)
            pending = failed

    def _dead_letter(self, letter: DeadLetter, key: bytes | None) -> Outgoing:
        return Outgoing(
            self.settings.topics.dead_letters,
            key,
            encode_dead_letter(letter),
            headers=(("chainwatch-stage", letter.stage.encode()),),
        )

    def _failure_letter(self, message: Any, stage: str, exc: BaseException) -> DeadLetter:
        value = message.value if isinstance(message.value, bytes) else b""
        raw = redact_text(value[:_RAW_KEEP].decode("utf-8", "replace"))
        return DeadLetter(origin_of(message), None, stage, f"{type(exc).__name__}: {exc}", raw)

    def _outputs(self, out: Output) -> list[Outgoing]:
        t = self.settings.topics
        msgs = [Outgoing(t.findings, f.session_id.encode(), encode_model(f)) for f in out.findings]
        msgs += [Outgoing(t.alerts, a.session_id.encode(), encode_model(a)) for a in out.alerts]
        msgs += [Outgoing(t.chains, c.session_id.encode(), encode_model(c)) for c in out.chains]
        return msgs

    # -- ingest
    async def handle_ingest(self, message: Any) -> Counts:
        """Parse one message of the events topic and forward its events; never raises."""
        await self.catch_up(message, self._handle_ingest)
        return await self._handle_ingest(message)

    async def _handle_ingest(self, message: Any) -> Counts:
        counts = Counts(messages=1)
        try:
            await self._ingest(message, counts)
        except PartitionsMismatch as exc:  # a misconfiguration no message can fix
            await self._fatal(exc)
        except Exception as exc:
            log.exception(
                "ingest failed on %s; the message goes to the dead-letter topic", origin_of(message)
            )
            counts.errors += 1
            counts.dead_letters += 1
            await self._send_quietly(
                [self._dead_letter(self._failure_letter(message, "ingest", exc), message.key)]
            )
        self.stats.add(counts)
        return counts

    async def _ingest(self, message: Any, counts: Counts) -> None:
        origin = origin_of(message)
        fmt_raw = header(message, FORMAT_HEADER)
        fmt = fmt_raw.decode("utf-8", "replace").strip() if fmt_raw else None
        value = message.value if isinstance(message.value, bytes | None) else str(message.value).encode()
        if fmt and fmt not in ADAPTERS:
            parsed: list[Any] = [
                DeadLetter(
                    origin,
                    None,
                    "parse",
                    f"header {FORMAT_HEADER}={fmt!r} names no adapter; use one of: {', '.join(ADAPTERS)}",
                    redact_text((value or b"")[:_RAW_KEEP].decode("utf-8", "replace")),
                )
            ]
        else:
            parsed = decode_events(value, origin, fmt, self.settings.max_record_bytes)
        letters: list[DeadLetter] = []
        events: list[AnyEvent] = []
        now = None
        for item in parsed:
            if isinstance(item, DeadLetter):
                letters.append(item)
                continue
            if item.ingest_time is None:
                if now is None:
                    now = datetime.fromtimestamp(self.clock(), tz=UTC)
                item = item.model_copy(update={"ingest_time": now})
            events.append(item)
        max_bytes = self.settings.worker.repartition_max_bytes
        lines: list[bytes] = []
        kept: list[AnyEvent] = []
        for event in events:
            line = event_to_json(event)
            if len(line) > max_bytes:
                letters.append(
                    DeadLetter(
                        origin,
                        None,
                        "ingest",
                        f"event {event.event_id} is {len(line)} bytes, over the "
                        f"{max_bytes}-byte repartition limit; shrink its arguments",
                        line[:_RAW_KEEP].decode("utf-8", "replace"),
                    )
                )
                continue
            lines.append(line)
            kept.append(event)
        outgoing = [self._dead_letter(letter, message.key) for letter in letters]
        for scope in self.scopes:
            topic = repartition_topic(self.settings, scope)
            keyed = [
                (key, line)
                for event, line in zip(kept, lines, strict=True)
                if (key := self.engine.key_of(scope, event)) is not None
            ]
            chunks: dict[int, int] = {}
            for partition, value_bytes in split_by_partition(keyed, self.partitions, max_bytes):
                chunk = chunks[partition] = chunks.get(partition, -1) + 1
                source = orjson.dumps(
                    {"t": message.topic, "p": message.partition, "o": message.offset, "c": chunk}
                )
                outgoing.append(Outgoing(topic, None, value_bytes, partition, ((SOURCE_HEADER, source),)))
                counts.repartitioned += 1
        await self.deliver(outgoing, confirm=False)  # faust flushes the producer before it commits offsets
        counts.events += len(kept)
        counts.dead_letters += len(letters)

    # -- detect
    async def handle_detect(self, scope: str, message: Any) -> Counts:
        """Apply one repartition message (events or a tick) to the scope's keys; never raises."""

        async def handle(one: Any) -> Counts:
            return await self._handle_detect(scope, one)

        await self.catch_up(message, handle)
        return await handle(message)

    async def _handle_detect(self, scope: str, message: Any) -> Counts:
        counts = Counts(messages=1)
        try:
            if header(message, CONTROL_HEADER) == TICK:
                counts.ticks += 1
                await self._sweep(scope, message, counts)
            else:
                await self._detect(scope, message, counts)
        except PartitionsMismatch as exc:  # a misconfiguration no message can fix
            await self._fatal(exc)
        except Exception as exc:
            log.exception(
                "detect[%s] failed on %s; the message goes to the dead-letter topic",
                scope,
                origin_of(message),
            )
            counts.errors += 1
            counts.dead_letters += 1
            await self._send_quietly(
                [self._dead_letter(self._failure_letter(message, f"detect.{scope}", exc), message.key)]
            )
        self.stats.add(counts)
        return counts

    async def _detect(self, scope: str, message: Any, counts: Counts) -> None:
        origin = origin_of(message)
        partition, offset = int(message.partition), int(message.offset)
        letters: list[DeadLetter] = []
        groups: dict[str, list[AnyEvent]] = {}
        for item in decode_internal(message.value, origin):
            if isinstance(item, DeadLetter):
                letters.append(item)
                continue
            key = self.engine.key_of(scope, item)
            if key is None:
                letters.append(
                    DeadLetter(
                        origin,
                        None,
                        f"detect.{scope}",
                        f"event {item.event_id} has no {scope} key",
                        event_to_json(item).decode(),
                    )
                )
                continue
            groups.setdefault(key, []).append(item)
            counts.scoped_events += 1
        source = _source_pos(message)
        table = self.tables[scope]
        live = self._live(scope, partition)
        work: list[_Work] = []
        for key, events in groups.items():
            try:
                raw = table.get(key)
                stored = Stored.read(raw) if raw is not None else None
                if stored is not None and already_applied(stored.positions, partition, offset, source):
                    counts.keys_duplicate += 1
                    continue
                state, out = self.engine.process_key(
                    scope, key, stored.key_state() if stored is not None else None, events
                )
            except StateFormError as exc:  # never an empty state instead: the key's history would be lost
                reason = self._unreadable(scope, key, exc, counts)
                letters.append(
                    DeadLetter(
                        origin,
                        None,
                        f"detect.{scope}",
                        reason,
                        b"\n".join(event_to_json(e) for e in events).decode(),
                    )
                )
                continue
            except Exception as exc:  # a detector bug must cost these events, not the stream
                log.exception("detect[%s]: the engine failed on key %r at %s", scope, key, origin)
                counts.errors += 1
                letters.append(
                    DeadLetter(
                        origin,
                        None,
                        f"detect.{scope}",
                        f"{type(exc).__name__}: {exc}",
                        b"\n".join(event_to_json(e) for e in events).decode(),
                    )
                )
                continue
            work.append(_Work(key, state, out, stored))
        await self._publish(work, counts)
        now = self.clock()
        watermark = self.watermarks[scope].get(partition, -math.inf)
        for done in work:
            saved = done.state
            assert saved is not None
            src = dict(done.stored.positions.get("src", {})) if done.stored else {}
            if source is not None:
                src[source[0]] = list(source[1])
            table[done.key] = encode_value(partition, offset, src, now, saved, saved.to_bytes())
            live[done.key] = KeyMeta(
                now, saved.ctx.last_time, saved.max_time if saved.max_time is not None else -math.inf
            )
            if saved.max_time is not None:
                watermark = max(watermark, saved.max_time)
            counts.keys_applied += 1
        if watermark > -math.inf:
            self.watermarks[scope][partition] = watermark
        if groups:
            self.partition_seen[scope][partition] = now
            self.latest_keys[scope][partition] = set(groups)
        if letters:
            counts.dead_letters += len(letters)
            await self.deliver([self._dead_letter(letter, message.key) for letter in letters], confirm=False)

    async def catch_up(self, message: Any, handle: Callable[[Any], Awaitable[Counts]]) -> None:
        """Before ``message``: handle, in order, the messages of its partition that faust never handed to an
        agent (streams/kafka/skipped.py), read back from the broker, and ack them so commits move on."""
        topic, partition = str(message.topic), int(message.partition)
        hole = self.positions.advance(
            topic, partition, int(message.offset), self._committed(topic, partition)
        )
        if hole is None:
            return
        self.stats.skipped_offsets += hole.size
        try:
            missed = await asyncio.to_thread(self.read_offsets, hole)
        except Exception:
            log.exception(
                "%s[%d]: could not read back offsets %d..%d", topic, partition, hole.first, hole.last
            )
            missed = []
        log.warning(
            "%s[%d]: offsets %d..%d were never handed to the worker (faust, upstream #596); %d read back "
            "from the broker and handled before offset %d",
            topic,
            partition,
            hole.first,
            hole.last,
            len(missed),
            message.offset,
        )
        for record in missed:
            await handle(record)
            self.stats.recovered_offsets += 1
            with contextlib.suppress(Exception):  # faust's bookkeeping; a failure only delays commits
                self.app.consumer.ack(record)

    def read_offsets(self, hole: Hole) -> list[Any]:
        """The records of ``hole`` from the broker (blocking). Replaced in unit tests."""
        return read_offsets(self.settings, hole)

    def _committed(self, topic: str, partition: int) -> int | None:
        """The group's committed offset of a partition as faust's consumer last saw it (None if unknown)."""
        try:
            committed = self.app.consumer._committed_offset.get((topic, partition))
        except Exception:  # no consumer (unit tests): the check then starts at the first message
            return None
        return committed if isinstance(committed, int) else None

    def reload_rules(self) -> bool:
        """Pick up changed or new rule files. A broken file is logged and the running set is kept; so
        is a set that needs a key scope this topology has no topics for (that needs a restart)."""
        if self.reloader is None or not self.reloader.poll():
            if self.reloader is not None and self.reloader.last_errors != self._reported_errors:
                self._reported_errors = list(self.reloader.last_errors)
                for error in self._reported_errors:
                    log.error("rule file rejected, the previous rule set keeps running: %s", error)
            return False
        fresh = Engine(
            self.reloader.catalog.detectors + self.model_detectors, self.settings.engine.engine_settings()
        )
        if set(fresh.scopes) - set(self.scopes):
            log.error(
                "the new rule set needs key scopes %s this worker has no topics for; restart it",
                sorted(set(fresh.scopes) - set(self.scopes)),
            )
            return False
        self.engine = fresh
        log.info("rule set reloaded: %d detectors", len(fresh.detectors))
        return True

    async def _sweep(self, scope: str, message: Any, counts: Counts) -> None:
        """A tick: close the partition's idle keys, bring the others' detectors up to the watermark."""
        self.reload_rules()
        self.engine.refresh()  # a new model file is picked up without a restart
        partition, offset = int(message.partition), int(message.offset)
        table = self.tables[scope]
        live = self._live(scope, partition)
        now = self.clock()
        watermark = self.watermarks[scope].get(partition)
        partition_seen = self.partition_seen[scope].get(partition, -math.inf)
        in_run = self.latest_keys[scope].get(partition, set())
        idle_wall = self.settings.worker.session_idle_seconds
        idle_event = self.engine.settings.idle_timeout_seconds
        work: list[_Work] = []
        for key, meta in list(live.items()):
            wall_idle = now - max(meta.seen, partition_seen) >= idle_wall
            event_idle = (
                watermark is not None
                and meta.last_time is not None
                and watermark - meta.last_time >= idle_event
                and key not in in_run
            )
            behind = watermark is not None and meta.advanced_to < watermark
            if not (wall_idle or event_idle or behind):
                continue
            raw = table.get(key)
            if raw is None:
                del live[key]
                continue
            try:
                stored = Stored.read(raw)
                if already_applied(stored.positions, partition, offset, None):
                    continue  # a redelivered tick
                state = stored.key_state()
            except StateFormError as exc:
                # said once, not on every tick; the key's next events are dead-lettered with the reason
                self._unreadable(scope, key, exc, counts)
                del live[key]
                continue
            if state.closed:
                # Closed keys are kept (engine.closed_retention_seconds, wall clock here) so that a
                # credential used long after its session went idle is still judged against it.
                if now - meta.seen >= self.engine.settings.closed_retention_seconds:
                    work.append(_Work(key, None, Output(), stored))
                continue
            try:
                if wall_idle or (
                    event_idle and watermark is not None and self.engine.is_idle(state, watermark)
                ):
                    work.append(_Work(key, state, self.engine.close_key(scope, key, state), stored))
                    counts.keys_closed += 1
                    continue
                assert watermark is not None
                out = self.engine.advance_key(scope, key, state, watermark)
            except Exception:
                log.exception("detect[%s]: the engine failed sweeping key %r", scope, key)
                counts.errors += 1
                continue
            meta.advanced_to = watermark
            if out.findings and scope == "session":
                out.chains.append(self.engine.chain_summary(state))
            saved = state.to_bytes()
            if out.findings or out.alerts or saved != stored.state:
                work.append(_Work(key, state, out, stored, saved))
        await self._publish(work, counts)
        for item in work:
            if item.state is None:
                del table[item.key]  # closed and past its retention
                live.pop(item.key, None)
            else:
                assert item.stored is not None
                positions = item.stored.positions
                table[item.key] = encode_value(
                    partition,
                    offset,
                    dict(positions.get("src", {})),
                    float(positions.get("seen", now)),
                    item.state,
                    item.saved if item.saved is not None else item.state.to_bytes(),
                )
                counts.keys_advanced += 1

    async def _publish(self, work: Sequence[_Work], counts: Counts) -> None:
        outgoing: list[Outgoing] = []
        for item in work:
            outgoing += self._outputs(item.out)
            counts.count_output(item.out)
        # Outputs first and acknowledged: once the state is saved, a redelivery skips these events, so
        # their findings must already be on the broker.
        await self.deliver(outgoing, confirm=self.settings.worker.confirm_outputs)

    def _unreadable(self, scope: str, key: str, error: StateFormError, counts: Counts) -> str:
        """Log a key whose table value cannot be read (the key, why, the fix) and count it; the stream goes
        on. Returns the reason, for the dead letter of the key's events."""
        reason = unreadable(scope, key, changelog_topic(self.settings, scope), error)
        log.error("detect[%s]: %s", scope, reason)
        counts.errors += 1
        return reason

    def _live(self, scope: str, partition: int) -> dict[str, KeyMeta]:
        """The partition's live keys; after a rebalance rebuilt once from the (recovered) table."""
        index = self.live[scope].get(partition)
        if index is not None:
            return index
        index = self.live[scope][partition] = {}
        now = self.clock()
        self.partition_seen[scope][partition] = now
        watermark = self.watermarks[scope].get(partition, -math.inf)
        for key, raw in self.tables[scope].items():
            try:
                value = Stored.read(raw).positions
            except StateFormError as exc:
                self._unreadable(scope, key, exc, self.stats)
                continue
            if value.get("p") != partition:
                continue
            wm = value.get("wm")
            # Inactivity counts from when this worker took the partition over: downtime is not idleness
            # (the session's events may still wait in the events topic).
            index[key] = KeyMeta(
                max(float(value.get("seen", 0.0)), now),
                value.get("last"),
                wm if wm is not None else -math.inf,
            )
            if wm is not None:
                watermark = max(watermark, wm)
        if watermark > -math.inf:
            self.watermarks[scope][partition] = watermark
        log.info("detect[%s]: partition %d has %d live keys", scope, partition, len(index))
        return index

    # -- ticks, rebalances, failures
    async def send_ticks(self) -> None:
        """Ask every partition of every repartition topic to sweep (the leader's timer)."""
        value = orjson.dumps({"at": self.clock()})
        ticks = [
            Outgoing(
                repartition_topic(self.settings, scope), None, value, partition, ((CONTROL_HEADER, TICK),)
            )
            for scope in self.scopes
            for partition in range(self.partitions)
        ]
        await self._send_quietly(ticks)

    async def _send_quietly(self, messages: Sequence[Outgoing]) -> None:
        try:
            await self.deliver(messages, confirm=False)
        except Exception:
            log.exception(
                "could not send %d message(s) to %s", len(messages), sorted({m.topic for m in messages})
            )

    async def _fatal(self, exc: BaseException) -> None:
        log.critical("chainwatch worker stops: %s", exc)
        await self.app.crash(exc)

    async def _on_revoked(self, sender: Any, revoked: Iterable[Any] = (), **kwargs: Any) -> None:
        self.ready = False
        for tp in revoked:
            for scope, topic in self.repartition_topics.items():
                if tp.topic == topic.get_topic_name():
                    self.live[scope].pop(tp.partition, None)
                    self.watermarks[scope].pop(tp.partition, None)
                    self.partition_seen[scope].pop(tp.partition, None)
                    self.latest_keys[scope].pop(tp.partition, None)
            self.positions.forget(tp.topic, tp.partition)

    async def _on_rebalance_complete(self, sender: Any, **kwargs: Any) -> None:
        self.ready = True
        log.info("chainwatch worker ready: %s", self.assignment())

    def assignment(self) -> dict[str, list[int]]:
        try:
            assigned = self.app.assignor.assigned_actives()
        except Exception:
            return {}
        result: dict[str, list[int]] = {}
        for tp in assigned:
            result.setdefault(tp.topic, []).append(tp.partition)
        return {topic: sorted(parts) for topic, parts in sorted(result.items())}

    def snapshot(self) -> dict[str, Any]:
        """The worker's counters and state, as served on ``/chainwatch/stats/``."""
        return {
            "ready": self.ready,
            "app_id": self.settings.worker.app_id,
            "topics": self.names,
            "assigned": self.assignment(),
            "live_keys": {s: {p: len(keys) for p, keys in by_p.items()} for s, by_p in self.live.items()},
            "watermarks": self.watermarks,
            "counts": asdict(self.stats),
        }


def build_topology(settings: Settings, engine: Engine | None = None) -> Topology:
    return Topology(settings, engine)


def create_app(settings: Settings, engine: Engine | None = None) -> faust.App:
    """The faust app for these settings (topics, tables and agents declared)."""
    app: faust.App = build_topology(settings, engine).app
    return app
