"""``chainwatch load``: Kafka → DuckDB, the only writer of the database file.

It consumes five topics as one consumer group (``kafka.loader_group_id``):

- the events topic: every message is decoded with ``streams.kafka.wire.decode_events`` exactly as the worker
  decodes it, and only the valid events are stored (the worker dead-letters the rest, and those reach
  the database through the dead-letter topic: storing them from here too would count them twice);
- the dead-letter topic, the findings, alerts and chains topics: one record per message (a JSON
  array or JSON lines are read too).

Records are collected into a :class:`streams.store.database.Batch` (up to ``loader_batch_records`` records or
``loader_batch_seconds``) and written in one DuckDB transaction through Arrow (upserts by id). Offsets
are committed only after that transaction commits (``enable_auto_commit=False``): a crash between the
two redelivers the batch, and the upserts make the second write a no-op. A record the loader cannot
decode becomes a row in ``dead_letters`` (stage ``load``) instead of stopping the loader.

Test hook: with ``CHAINWATCH_LOADER_EXIT_AFTER_DB_COMMIT=N`` the process exits (code 3, no cleanup)
right after its N-th DuckDB commit and before committing the offsets: the crash window the
at-least-once design has to survive. It is for tests only.
"""

from __future__ import annotations

import contextlib
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
from streams.alerts.delivery.pipeline import AlertPipeline
from streams.kafka.bootstrap import unreachable
from streams.kafka.security import kafka_python_kwargs
from streams.kafka.topics import KafkaUnavailable, require_topics
from streams.kafka.wire import FORMAT_HEADER, decode_dead_letter, decode_events
from streams.settings import Settings, classifier_for
from streams.store.access import StoreTarget
from streams.store.database import Batch, Store, write_with_hooks

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import AsyncConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
    from kafka.errors import KafkaError, KafkaTimeoutError

log = logging.getLogger("chainwatch.loader")

EXIT_AFTER_DB_COMMIT_ENV = "CHAINWATCH_LOADER_EXIT_AFTER_DB_COMMIT"
EXIT_AFTER_DB_COMMIT_CODE = 3
ROLES = ("events", "dead_letters", "findings", "alerts", "chains")
JOIN_GRACE_SECONDS = 60.0  # --until-idle: extra time allowed for the first group join
STALL_SECONDS = 10.0  # nothing received for this long: check the consumer still makes progress
POLL_MS = 500
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
        + [(Batch(alerts=[a], suppressions=batch.suppressions), "alert", a.alert_id) for a in batch.alerts]
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
    kafka_errors: int = 0  # polls that failed because the broker was away (retried)
    reconnects: int = 0  # consumers replaced by the watchdog
    started: float = field(default_factory=time.monotonic)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": dict(self.records),
            "rows": self.rows,
            "batches": self.batches,
            "commit_failures": self.commit_failures,
            "kafka_errors": self.kafka_errors,
            "reconnects": self.reconnects,
            "write_failures": self.write_failures,
            "seconds": round(time.monotonic() - self.started, 3),
        }


class _Rebalance(AsyncConsumerRebalanceListener):  # type: ignore[misc]
    """Store and commit what was read before partitions move.

    kafka-python 3.0 runs rebalance listeners on its IO thread, where the blocking ``commit()`` raises
    ("Cannot block on net.run() from the IO thread"): this listener is the async kind and awaits the
    commit future instead.
    """

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    async def on_partitions_revoked(self, revoked: Any) -> None:
        loader = self.loader
        loader.write_pending()
        if not loader._uncommitted:
            return
        try:
            await loader._consumer.commit_async(loader.offsets_to_commit())
        except Exception as exc:  # the rows are stored; whoever gets the partitions re-reads and upserts
            loader.stats.commit_failures += 1
            log.warning("offset commit before the rebalance failed (%r)", exc)
        loader._uncommitted.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.loader.last_activity = time.monotonic()
        self.loader.joined = True
        log.info("assigned %d partitions", len(assigned))


class Loader:
    """Consume → batch → DuckDB transaction → offset commit, until stopped or idle."""

    def __init__(
        self,
        settings: Settings,
        db_path: StoreTarget | str,
        *,
        bootstrap: str | None = None,
        group_id: str | None = None,
        until_idle: float | None = None,
        batch_records: int | None = None,
        batch_seconds: float | None = None,
        on_batch: Callable[[Batch], None] | None = None,
        alert_pipeline: AlertPipeline | None = None,
    ) -> None:
        self.settings = settings
        self.db_path: StoreTarget = Path(db_path) if isinstance(db_path, str) else db_path  # file or lake
        self.bootstrap = bootstrap or settings.kafka.bootstrap_servers
        self.given_bootstrap = bootstrap  # None: from the settings (named in errors)
        self.group_id = group_id or settings.kafka.loader_group_id
        self.until_idle = until_idle
        self.batch_records = batch_records or settings.kafka.loader_batch_records
        self.batch_seconds = batch_seconds or settings.kafka.loader_batch_seconds
        self.on_batch = on_batch
        self.alert_pipeline = alert_pipeline  # suppression before the write, delivery spool after it
        # what each stored tool call can do, classified as the worker's engine classifies it
        self.classifier = classifier_for(settings)
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
        self._failures = 0  # consecutive failed polls
        self._last_record = self._last_check = time.monotonic()  # for the watchdog
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
                **kafka_python_kwargs(self.settings.kafka),  # require_topics above ran the security preflight
                bootstrap_servers=self.bootstrap.split(","),
                client_id=f"{self.settings.kafka.client_id}-loader",
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=self.batch_records,
                session_timeout_ms=6_000,  # broker minimum: a crashed loader blocks its group 6 s, not 45
                heartbeat_interval_ms=1_000,
                request_timeout_ms=int(self.settings.kafka.request_timeout_seconds * 1000),
                allow_auto_create_topics=False,  # (ignored by kafka-python 3.0: see require_topics)
            )
        except KafkaTimeoutError as exc:
            raise KafkaUnavailable(unreachable(self.bootstrap, self.given_bootstrap, exc)) from None
        # Know every topic's partitions before the first join: an assignment computed from metadata that
        # lacks them is empty, and kafka-python 3.0 did not always rejoin when the metadata came in.
        for topic in self.roles:
            consumer.partitions_for_topic(topic)
        consumer.subscribe(topics=list(self.roles), listener=_Rebalance(self))
        return consumer

    def _reconnect(self, why: str) -> None:
        """Store what is pending, drop the consumer and join the group again with a new one."""
        log.warning("%s: reconnecting with a new consumer", why)
        self.stats.reconnects += 1
        self.write_pending()  # (its offsets cannot be committed by a member the group has dropped)
        with contextlib.suppress(Exception):
            self._consumer.close(autocommit=False)
        self._uncommitted.clear()  # the new member re-reads from the committed offsets; upserts absorb it
        self.joined = False
        self._consumer = self._connect()
        self.last_activity = self._last_record = self._last_check = time.monotonic()

    def _watchdog(self, now: float) -> None:
        """Replace a consumer that has stopped receiving while its partitions still have records.

        kafka-python 3.0 can lose a group join: when ``poll``'s timer runs out while JoinGroup/SyncGroup are
        in flight and the join completes before the next ``poll``, the result is never applied; the member
        sends no heartbeats, is expired by the coordinator, and fetches nothing, silently, for good (seen
        here in about one run in five). A consumer left without partitions for as long is replaced too.
        """
        if now - self._last_record < STALL_SECONDS or now - self._last_check < STALL_SECONDS:
            return
        self._last_check = now
        consumer = self._consumer
        assigned = list(consumer.assignment())
        if not assigned:
            if self.joined:
                self._reconnect(f"no partitions assigned for {STALL_SECONDS:.0f}s")
            return
        timeout_ms = int(self.settings.kafka.request_timeout_seconds * 1000)
        try:
            end = consumer.end_offsets(assigned)
            behind = [tp for tp in assigned if consumer.position(tp, timeout_ms=timeout_ms) < end.get(tp, 0)]
        except KafkaError as exc:
            self._reconnect(f"checking the consumer's progress failed ({exc!r})")
            return
        if behind:
            self._reconnect(
                f"nothing received for {now - self._last_record:.0f}s while {len(behind)} partitions "
                "have unread records"
            )

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            room = max(1, self.batch_records - len(self._pending))
            try:
                polled = self._consumer.poll(timeout_ms=POLL_MS, max_records=room)
            except KafkaError as exc:
                if not is_transient(exc):
                    raise
                self._back_off(exc)
                continue
            self._failures = 0
            now = time.monotonic()
            for records in polled.values():
                for r in records:
                    self._pending.append(
                        Record(r.topic, r.partition, r.offset, r.value, r.headers or (), r.timestamp)
                    )
            if polled:
                self.last_activity = self._last_record = now
                if self._pending_since is None:
                    self._pending_since = now
            if self._pending and (
                len(self._pending) >= self.batch_records
                or now - (self._pending_since or now) >= self.batch_seconds
            ):
                self.flush()
            elif self._uncommitted:
                self._commit()  # an earlier commit failed: retry it
            else:
                self._watchdog(now)
            if self.until_idle is not None and not self._pending:
                # Before the first assignment, allow for the group join (a crashed loader's old member
                # holds it up for a session timeout) on top of the idle time.
                limit = self.until_idle + (0.0 if self.joined else JOIN_GRACE_SECONDS)
                if time.monotonic() - self.last_activity >= limit:
                    log.info("no new records for %.1fs: stopping", self.until_idle)
                    break

    def _back_off(self, exc: BaseException) -> None:
        """The broker is away (restart, network): wait and poll again; the pending records stay."""
        self._failures += 1
        self.stats.kafka_errors += 1
        delay = min(5.0, 0.2 * 2 ** min(self._failures, 5))
        log.warning("Kafka unavailable (%s: %s); retrying in %.1fs", type(exc).__name__, exc, delay)
        self.last_activity = time.monotonic()  # an outage is not idleness
        self.stop_event.wait(delay)

    # -- one batch
    def flush(self) -> None:
        """Write the pending records in one transaction, then commit their offsets."""
        self.write_pending()
        if self._uncommitted:
            self._commit()

    def write_pending(self) -> None:
        """Write the pending records in one DuckDB transaction; their offsets become due for commit."""
        if not self._pending:
            return
        assert self._store is not None
        records, self._pending, self._pending_since = self._pending, [], None
        batch = build_batch(records, self.roles, self.settings.worker.repartition_max_bytes)
        batch.events = [self.classifier.enrich(e) for e in batch.events]  # the `capabilities` column
        # spooled before the offsets are committed: at-least-once into the spool
        failed = write_with_hooks(self._store, batch, self.alert_pipeline, write_isolating)
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

    def offsets_to_commit(self) -> dict[Any, Any]:
        return {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in self._uncommitted.items()
        }

    def _commit(self) -> None:
        offsets = self.offsets_to_commit()
        try:
            self._consumer.commit(offsets, timeout_ms=int(self.settings.kafka.request_timeout_seconds * 1000))
        except KafkaError as exc:
            # The rows are stored; the records will come again (after a rebalance or restart) and the
            # upserts make that harmless. Keep the offsets and try again with the next batch.
            self.stats.commit_failures += 1
            log.warning("offset commit failed (%r); will retry", exc)
            if "CommitFailed" in type(exc).__name__:
                self._uncommitted.clear()  # the partitions moved: their new owner commits them
            return
        self._uncommitted.clear()


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the broker or the group coordinator is away or moving, not a bug or a bad record."""
    return bool(getattr(exc, "retriable", False)) or type(exc).__name__ in {
        "RebalanceInProgressError",
        "IllegalGenerationError",
        "UnknownMemberIdError",
        "CommitFailedError",
    }


def install_signal_handlers(loader: Loader) -> None:
    """SIGTERM and SIGINT finish the current batch, commit and exit."""
    import signal

    def handler(signum: int, frame: object) -> None:
        log.info("signal %d: finishing the current batch", signum)
        loader.stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
