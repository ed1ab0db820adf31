"""``chainwatch load``: Kafka → DuckDB, the only writer of the database file.

It consumes five topics as one consumer group (``kafka.loader_group_id``):

- the events topic: every message is decoded with ``streams.wire.decode_events`` exactly as the worker
  decodes it, and only the valid events are stored (the worker dead-letters the rest, and those reach
  the database through the dead-letter topic: storing them from here too would count them twice);
- the dead-letter topic, the findings, alerts and chains topics: one record per message (a JSON
  array or JSON lines are read too).

Records are collected into a :class:`streams.store.Batch` (up to ``loader_batch_records`` records or
``loader_batch_seconds``) and written in one DuckDB transaction through Arrow (upserts by id). Offsets
are committed only after that transaction commits (``enable_auto_commit=False``): a crash between the
two redelivers the batch, and the upserts make the second write a no-op. A record the loader cannot
decode becomes a row in ``dead_letters`` (stage ``load``) instead of stopping the loader.

Test hook: with ``CHAINWATCH_LOADER_EXIT_AFTER_DB_COMMIT=N`` the process exits (code 3, no cleanup)
right after its N-th DuckDB commit and before committing the offsets: the crash window the
at-least-once design has to survive. It is for tests only.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import orjson
import pyarrow as pa
from pydantic import BaseModel, ValidationError

from schemas.adapters import ADAPTERS
from schemas.adapters.base import DeadLetter
from schemas.alerts import Alert, ChainSummary, Finding
from schemas.events import AnyEvent, event_to_json
from streams.settings import Settings
from streams.store import Batch, Store
from streams.topics import KafkaUnavailable, require_topics
from streams.wire import FORMAT_HEADER, decode_dead_letter, decode_events

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
    from kafka.errors import KafkaError, KafkaTimeoutError

log = logging.getLogger("chainwatch.loader")

EXIT_AFTER_DB_COMMIT_ENV = "CHAINWATCH_LOADER_EXIT_AFTER_DB_COMMIT"
EXIT_AFTER_DB_COMMIT_CODE = 3
ROLES = ("events", "dead_letters", "findings", "alerts", "chains")
JOIN_GRACE_SECONDS = 60.0  # --until-idle: extra time allowed for the first group join
_RAW_KEPT = 4096

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Record:
    """The parts of a Kafka record the loader reads (kafka-python's ConsumerRecord has them too)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()
    timestamp: int | None = None  # milliseconds (the producer's create time)

    @property
    def origin(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"


def _header(record: Record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return None


def _load_error(record: Record, reason: str) -> DeadLetter:
    raw = (record.value or b"")[:_RAW_KEPT].decode("utf-8", "replace")
    return DeadLetter(record.origin, None, "load", reason, raw)


def _documents(value: bytes) -> list[Any]:
    """One JSON value, a JSON array of them, or JSON lines."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return [orjson.loads(line) for line in value.splitlines() if line.strip()]
    return document if isinstance(document, list) else [document]


def decode_models(record: Record, model: type[M]) -> tuple[list[M], list[DeadLetter]]:
    """The worker's findings/alerts/chains of one message; whatever does not validate is a dead letter."""
    if record.value is None:  # a tombstone (compaction marker): nothing to store
        return [], []
    try:
        documents = _documents(record.value)
    except orjson.JSONDecodeError as exc:
        return [], [_load_error(record, f"{model.__name__}: not valid JSON: {exc}")]
    models: list[M] = []
    letters: list[DeadLetter] = []
    for document in documents:
        try:
            models.append(model.model_validate(document))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "(record)"
            letters.append(_load_error(record, f"{model.__name__}: {first.get('msg')} (field '{where}')"))
    return models, letters


def accepted_events(record: Record, max_event_bytes: int | None = None) -> list[AnyEvent]:
    """The events of an events-topic message that the worker processes, and only those.

    The worker dead-letters (so the dead-letter topic brings to the database): a message whose
    ``chainwatch-format`` header names no adapter, every record that is not a valid event, and an event
    whose JSON is over its repartition limit (``worker.repartition_max_bytes``). The same rules here keep
    the events table equal to what the detectors saw. Events get the record's timestamp as ``ingest_time``
    when they carry none (deterministic: a redelivered record gets the same).
    """
    fmt = (_header(record, FORMAT_HEADER) or "").strip() or None
    if fmt is not None and fmt not in ADAPTERS:
        return []
    stamp = None if record.timestamp is None else datetime.fromtimestamp(record.timestamp / 1000, tz=UTC)
    check_size = max_event_bytes is not None and len(record.value or b"") > max_event_bytes
    events: list[AnyEvent] = []
    for item in decode_events(record.value, record.origin, fmt):
        if isinstance(item, DeadLetter):
            continue
        if item.ingest_time is None and stamp is not None:
            item = item.model_copy(update={"ingest_time": stamp})
        if check_size and max_event_bytes is not None and len(event_to_json(item)) > max_event_bytes:
            continue
        events.append(item)
    return events


def add_record(batch: Batch, role: str, record: Record, max_event_bytes: int | None = None) -> int:
    """Decode one record into ``batch``; returns how many rows it added (dead letters included)."""
    before = len(batch)
    if role == "events":
        batch.events.extend(accepted_events(record, max_event_bytes))
    elif role == "dead_letters":
        if record.value is None:
            batch.dead_letters.append(_load_error(record, "empty dead-letter message"))
        else:
            try:
                batch.dead_letters.append(decode_dead_letter(record.value))
            except (orjson.JSONDecodeError, AttributeError, TypeError) as exc:
                # not the wire format: keep the whole message as the dead letter's raw text
                batch.dead_letters.append(_load_error(record, f"dead letter not in the wire format: {exc}"))
    elif role == "findings":
        findings, letters = decode_models(record, Finding)
        batch.findings.extend(findings)
        batch.dead_letters.extend(letters)
    elif role == "alerts":
        alerts, letters = decode_models(record, Alert)
        batch.alerts.extend(alerts)
        batch.dead_letters.extend(letters)
    elif role == "chains":
        chains, letters = decode_models(record, ChainSummary)
        batch.chains.extend(chains)
        batch.dead_letters.extend(letters)
    else:
        raise ValueError(f"unknown topic role {role!r}")
    return len(batch) - before


def build_batch(
    records: Iterable[Record], roles: dict[str, str], max_event_bytes: int | None = None
) -> Batch:
    """A batch of every record (``roles``: topic name -> role)."""
    batch = Batch()
    for record in records:
        add_record(batch, roles[record.topic], record, max_event_bytes)
    return batch


def commit_offsets(records: Iterable[Record]) -> dict[tuple[str, int], int]:
    """The offsets to commit after ``records`` are stored: the next offset to read, per partition."""
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        offsets[key] = max(offsets.get(key, 0), record.offset + 1)
    return offsets


# Errors a batch's *content* can cause in DuckDB/Arrow (as opposed to I/O): isolate the bad item.
_DATA_ERRORS: tuple[type[BaseException], ...] = (
    duckdb.ConversionException,
    duckdb.ConstraintException,
    duckdb.InvalidInputException,
    duckdb.OutOfRangeException,
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    ValueError,
    TypeError,
)


def write_isolating(store: Store, batch: Batch) -> list[DeadLetter]:
    """Write ``batch``; if its content makes the write fail, write item by item, dead-lettering culprits."""
    try:
        store.write(batch)
        return []
    except _DATA_ERRORS as first_error:
        log.warning("batch write failed (%s); writing its %d rows one by one", first_error, len(batch))
    failed: list[DeadLetter] = []
    singles: list[tuple[Batch, str, str]] = (
        [(Batch(events=[e]), "event", e.event_id) for e in batch.events]
        + [(Batch(chains=[c]), "chain", c.session_id) for c in batch.chains]
        + [(Batch(findings=[f]), "finding", f.finding_id) for f in batch.findings]
        + [(Batch(alerts=[a]), "alert", a.alert_id) for a in batch.alerts]
        + [(Batch(dead_letters=[d]), "dead letter", d.origin) for d in batch.dead_letters]
    )
    for single, kind, ident in singles:
        try:
            store.write(single)
        except _DATA_ERRORS as exc:
            failed.append(
                DeadLetter(
                    f"load:{kind}:{ident}",
                    None,
                    "load",
                    f"could not store {kind} {ident!r}: {type(exc).__name__}: {exc}",
                    "",
                )
            )
    if failed:
        store.write(Batch(dead_letters=failed))
    return failed


@dataclass
class LoaderStats:
    records: Counter[str] = field(default_factory=Counter)  # per role
    rows: int = 0
    batches: int = 0
    commit_failures: int = 0
    write_failures: int = 0
    started: float = field(default_factory=time.monotonic)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": dict(self.records),
            "rows": self.rows,
            "batches": self.batches,
            "commit_failures": self.commit_failures,
            "write_failures": self.write_failures,
            "seconds": round(time.monotonic() - self.started, 3),
        }


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def on_partitions_revoked(self, revoked: Any) -> None:
        # Store and commit what was read from them before another member takes them over.
        self.loader.flush()

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.loader.last_activity = time.monotonic()
        self.loader.joined = True
        log.info("assigned %d partitions", len(assigned))


class Loader:
    """Consume → batch → DuckDB transaction → offset commit, until stopped or idle."""

    def __init__(
        self,
        settings: Settings,
        db_path: Path | str,
        *,
        bootstrap: str | None = None,
        group_id: str | None = None,
        until_idle: float | None = None,
        batch_records: int | None = None,
        batch_seconds: float | None = None,
        on_batch: Callable[[Batch], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db_path = Path(db_path)
        self.bootstrap = bootstrap or settings.kafka.bootstrap_servers
        self.group_id = group_id or settings.kafka.loader_group_id
        self.until_idle = until_idle
        self.batch_records = batch_records or settings.kafka.loader_batch_records
        self.batch_seconds = batch_seconds or settings.kafka.loader_batch_seconds
        self.on_batch = on_batch
        t = settings.topics
        self.roles = {
            t.events: "events",
            t.dead_letters: "dead_letters",
            t.findings: "findings",
            t.alerts: "alerts",
            t.chains: "chains",
        }
        self.stop_event = threading.Event()
        self.stats = LoaderStats()
        self.last_activity = time.monotonic()
        self.joined = False  # the group assigned partitions at least once
        self._pending: list[Record] = []
        self._pending_since: float | None = None
        self._uncommitted: dict[tuple[str, int], int] = {}
        exit_after = os.environ.get(EXIT_AFTER_DB_COMMIT_ENV, "").strip()
        self._exit_after_commits = int(exit_after) if exit_after else None
        self._store: Store | None = None
        self._consumer: Any = None

    # -- lifecycle
    def stop(self) -> None:
        """Ask the loop to finish its current batch, commit and return (safe from a signal handler)."""
        self.stop_event.set()

    def run(self) -> LoaderStats:
        try:
            self._store = Store(self.db_path)
        except duckdb.IOException as exc:
            raise KafkaUnavailable(  # transient from the loader's point of view: retry when the file is free
                f"cannot open {self.db_path} for writing: {exc}; the loader must be the only process "
                "with the database open (stop `chainwatch run` or another loader, or use another --db)"
            ) from None
        try:
            self._consumer = self._connect()
            try:
                self._loop()
            finally:
                self.flush()
                self._consumer.close(autocommit=False)
        finally:
            self._store.close()
        return self.stats

    def _connect(self) -> Any:
        require_topics(self.settings, self.bootstrap, list(self.roles))
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap.split(","),
                client_id=f"{self.settings.kafka.client_id}-loader",
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=self.batch_records,
                session_timeout_ms=10_000,  # a crashed loader's partitions move after 10 s, not 45 s
                heartbeat_interval_ms=1_000,
                request_timeout_ms=int(self.settings.kafka.request_timeout_seconds * 1000),
                allow_auto_create_topics=False,  # (ignored by kafka-python 3.0: see require_topics)
            )
        except KafkaTimeoutError as exc:
            raise KafkaUnavailable(
                f"could not reach Kafka at {self.bootstrap}: {exc}; start the broker "
                "(`make kafka-up`) or pass --bootstrap"
            ) from None
        consumer.subscribe(topics=list(self.roles), listener=_Rebalance(self))
        return consumer

    def _loop(self) -> None:
        consumer = self._consumer
        while not self.stop_event.is_set():
            room = max(1, self.batch_records - len(self._pending))
            polled = consumer.poll(timeout_ms=200, max_records=room)
            now = time.monotonic()
            for records in polled.values():
                for r in records:
                    self._pending.append(
                        Record(r.topic, r.partition, r.offset, r.value, r.headers or (), r.timestamp)
                    )
            if polled:
                self.last_activity = now
                if self._pending_since is None:
                    self._pending_since = now
            if self._pending and (
                len(self._pending) >= self.batch_records
                or now - (self._pending_since or now) >= self.batch_seconds
            ):
                self.flush()
            elif self._uncommitted:
                self._commit()  # an earlier commit failed: retry it
            if self.until_idle is not None and not self._pending:
                # Before the first assignment, allow for the group join (a crashed loader's old member
                # holds it up for a session timeout) on top of the idle time.
                limit = self.until_idle + (0.0 if self.joined else JOIN_GRACE_SECONDS)
                if time.monotonic() - self.last_activity >= limit:
                    log.info("no new records for %.1fs: stopping", self.until_idle)
                    break

    # -- one batch
    def flush(self) -> None:
        """Write the pending records in one transaction, then commit their offsets."""
        if not self._pending:
            if self._uncommitted:
                self._commit()
            return
        assert self._store is not None
        records, self._pending, self._pending_since = self._pending, [], None
        batch = build_batch(records, self.roles, self.settings.worker.repartition_max_bytes)
        failed = write_isolating(self._store, batch)
        self.stats.write_failures += len(failed)
        self.stats.batches += 1
        self.stats.rows += len(batch)
        self.stats.records.update(self.roles[r.topic] for r in records)
        if self.on_batch:
            self.on_batch(batch)
        if self._exit_after_commits is not None and self.stats.batches >= self._exit_after_commits:
            sys.stderr.write(
                f"{EXIT_AFTER_DB_COMMIT_ENV}: exiting after DuckDB commit {self.stats.batches}, "
                "before committing offsets (test hook)\n"
            )
            sys.stderr.flush()
            os._exit(EXIT_AFTER_DB_COMMIT_CODE)
        for key, offset in commit_offsets(records).items():
            self._uncommitted[key] = max(self._uncommitted.get(key, 0), offset)
        self._commit()

    def _commit(self) -> None:
        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in self._uncommitted.items()
        }
        try:
            self._consumer.commit(offsets)
        except KafkaError as exc:
            # The rows are stored; the records will come again (after a rebalance or restart) and the
            # upserts make that harmless. Keep the offsets and try again with the next batch.
            self.stats.commit_failures += 1
            log.warning("offset commit failed (%r); will retry", exc)
            if "CommitFailed" in type(exc).__name__:
                self._uncommitted.clear()  # the partitions moved: their new owner commits them
            return
        self._uncommitted.clear()


def install_signal_handlers(loader: Loader) -> None:
    """SIGTERM and SIGINT finish the current batch, commit and exit."""
    import signal

    def handler(signum: int, frame: object) -> None:
        log.info("signal %d: finishing the current batch", signum)
        loader.stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
