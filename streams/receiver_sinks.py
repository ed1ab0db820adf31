"""Where ``chainwatch receive`` puts a request's events: Kafka, or the embedded engine and DuckDB."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import duckdb

from detectors.engine import Engine, Output, Runner
from schemas.adapters.base import DeadLetter
from schemas.errors import ChainwatchError
from schemas.events import AnyEvent
from streams.delivery.pipeline import AlertPipeline
from streams.producer import INGEST_TIME_ROOM, EventProducer, OutMessage, partition_for
from streams.receiver import SinkUnavailable
from streams.settings import Settings
from streams.store import Batch, Store, write_with_hooks
from streams.wire import encode_events

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.errors import KafkaError


def by_session(events: Sequence[AnyEvent]) -> dict[str, list[AnyEvent]]:
    """Events grouped by session, input order kept within each."""
    groups: dict[str, list[AnyEvent]] = {}
    for event in events:
        groups.setdefault(event.session_id, []).append(event)
    return groups


def chunks(events: list[AnyEvent], max_events: int, max_bytes: int) -> list[tuple[bytes, int]]:
    """NDJSON messages of at most ``max_events`` events and ``max_bytes`` bytes (every event fits alone:
    ``KafkaSink._fit`` dead-letters larger ones first)."""
    messages: list[tuple[bytes, int]] = []
    current: list[AnyEvent] = []
    size = 0
    for event in events:
        line = len(encode_events([event])) + 1
        if current and (len(current) >= max_events or size + line > max_bytes):
            messages.append((encode_events(current), len(current)))
            current, size = [], 0
        current.append(event)
        size += line
    if current:
        messages.append((encode_events(current), len(current)))
    return messages


class KafkaSink:
    """One batch message per session of a request (the session id as key), sent and acknowledged before
    the receiver answers 200: a 200 means the events are on the broker."""

    def __init__(self, settings: Settings, bootstrap: str | None = None) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self._producer: EventProducer | None = None
        self._partitions = 0
        self._lock = threading.Lock()  # a delivery abandoned after the receiver's timeout may still run

    def _connect(self) -> tuple[EventProducer, int]:
        if self._producer is None:
            producer = EventProducer(self.settings, self.bootstrap)
            try:
                self._partitions = producer.partitions()  # also checks that the topics exist
            except BaseException:
                producer.close()
                raise
            self._producer = producer
        return self._producer, self._partitions

    def deliver(self, events: Sequence[AnyEvent], letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        with self._lock:
            return self._deliver(events, letters)

    def _deliver(self, events: Sequence[AnyEvent], letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        fitting, oversized = self._fit(events)
        try:
            producer, partitions = self._connect()
            for session_id, group in by_session(fitting).items():
                key = session_id.encode()
                partition = partition_for(key, partitions)  # where the key hashes: as `chainwatch produce`
                limits = (self.settings.worker.batch_max_events, self.settings.kafka.max_message_bytes)
                for value, count in chunks(group, *limits):
                    producer.send(OutMessage(partition, key, value, count, (session_id,)))
            for letter in [*letters, *oversized]:
                producer.send_dead_letter(letter)
            producer.flush()
        except (ChainwatchError, KafkaError) as exc:  # broker down, timeouts, topics missing
            self.close()  # reconnect on the next request
            where = self.bootstrap or self.settings.kafka.bootstrap_servers
            raise SinkUnavailable(f"Kafka at {where}: {exc}") from None
        return oversized

    def _fit(self, events: Sequence[AnyEvent]) -> tuple[list[AnyEvent], list[DeadLetter]]:
        """Events that fit one message (and the worker's repartition limit); the others as dead letters,
        as `chainwatch produce` does: a larger event would be refused by the broker on every retry."""
        limit = min(
            self.settings.kafka.max_message_bytes,
            self.settings.worker.repartition_max_bytes - INGEST_TIME_ROOM,
        )
        fitting: list[AnyEvent] = []
        oversized: list[DeadLetter] = []
        for event in events:
            line = encode_events([event])
            if len(line) <= limit:
                fitting.append(event)
                continue
            reason = (
                f"event {event.event_id!r} is {len(line)} bytes encoded, over the {limit}-byte limit of one "
                "event (CHAINWATCH_KAFKA__MAX_MESSAGE_BYTES, CHAINWATCH_WORKER__REPARTITION_MAX_BYTES); "
                "shorten its arguments or result"
            )
            oversized.append(
                DeadLetter(f"receiver:{event.session_id}", None, "produce", reason, line[:4096].decode())
            )
        return fitting, oversized

    def close(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.close()
            self._producer = None


class EmbeddedSink:
    """The detection engine in this process, writing events, findings, alerts and chains to DuckDB.

    With an :class:`AlertPipeline` (suppression rules, delivery sinks: the settings' ``delivery`` block)
    the alerts are handled as `chainwatch run` and `load` handle them: marked by the suppression rules
    before they are stored, then queued in the delivery spool."""

    def __init__(self, engine: Engine, db_path: Path, pipeline: AlertPipeline | None = None) -> None:
        self.runner = Runner(engine)
        self.db_path = db_path
        self.store = Store(db_path)
        self.pipeline = pipeline
        self._lock = threading.Lock()

    def deliver(self, events: Sequence[AnyEvent], letters: Sequence[DeadLetter]) -> list[DeadLetter]:
        ordered = sorted(events, key=lambda e: e.event_time)  # stable: ties keep the request's order
        with self._lock:
            try:
                output = self.runner.feed(ordered) if ordered else Output()
                self._write(
                    Batch(
                        events=list(ordered),
                        chains=output.chains,
                        findings=output.findings,
                        alerts=output.alerts,
                        dead_letters=list(letters),
                    )
                )
            except (OSError, duckdb.Error, sqlite3.Error) as exc:
                raise SinkUnavailable(f"database {self.db_path}: {exc}") from None
        return []

    def _write(self, batch: Batch) -> None:
        write_with_hooks(self.store, batch, self.pipeline, Store.write)

    def close(self) -> None:
        """Close every open session (their chain summaries) and the database."""
        with self._lock:
            output = self.runner.flush()
            self._write(Batch(chains=output.chains, findings=output.findings, alerts=output.alerts))
            self.store.close()
