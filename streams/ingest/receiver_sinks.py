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
from streams.alerts.delivery.pipeline import AlertPipeline
from streams.ingest.receiver import SinkUnavailable
from streams.kafka.producer import INGEST_TIME_ROOM, EventProducer, Packer
from streams.settings import Settings
from streams.store.database import Batch, Store, write_with_hooks

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.errors import KafkaError


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
        try:
            producer, partitions = self._connect()
            packer = Packer(
                partitions,  # each session where its key hashes: as `chainwatch produce`
                max_events=self.settings.worker.batch_max_events,
                max_bytes=self.settings.kafka.max_message_bytes,
                # the worker dead-letters an event over its repartition limit: a larger one would also be
                # refused by the broker on every retry
                max_event_bytes=self.settings.worker.repartition_max_bytes - INGEST_TIME_ROOM,
                per_session=True,
                origin="receiver",
            )
            oversized = [letter for event in events if (letter := packer.add(event)) is not None]
            for message in packer.drain():
                producer.send(message)
            for letter in [*letters, *oversized]:
                producer.send_dead_letter(letter)
            producer.flush()
        except (ChainwatchError, KafkaError) as exc:  # broker down, timeouts, topics missing
            self.close()  # reconnect on the next request
            where = self.bootstrap or self.settings.kafka.bootstrap_servers
            raise SinkUnavailable(f"Kafka at {where}: {exc}") from None
        return oversized

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
