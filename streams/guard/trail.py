"""Where the guard's decisions and calls go: the normal pipeline, so the audit trail holds intent, decision,
approver and credential together.

* :class:`DuckDBTrail` writes batches through ``write_with_hooks`` (the replay's and the loader's path:
  hash-chained rows, suppression, alert delivery) in a background thread, coalescing what queued up
  meanwhile into one transaction;
* :class:`KafkaTrail` sends the events to the events topic (one batch message per session, acknowledged),
  where the worker detects on them like on any other events and the loader stores them.

``submit`` returns a future that completes when the batch is committed (or acknowledged by the broker), so
``POST /v1/report`` can answer only once the report is durable.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

from streams.alerts.delivery.pipeline import AlertPipeline
from streams.ingest.receiver_sinks import KafkaSink
from streams.settings import Settings
from streams.store.database import Batch, Store, write_with_hooks

log = logging.getLogger("chainwatch.guard")
MAX_COALESCED = 512  # batches merged into one write at most


class Trail(Protocol):
    def submit(self, batch: Batch) -> Future[None]: ...

    def close(self) -> None: ...


class _Writer:
    """A background thread that hands queued batches, merged, to ``write``; futures complete after it."""

    def __init__(self, name: str) -> None:
        self._queue: queue.Queue[tuple[Batch, Future[None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, batch: Batch) -> Future[None]:
        future: Future[None] = Future()
        self._queue.put((batch, future))
        return future

    def write(self, batch: Batch) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item]
            while len(items) < MAX_COALESCED:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this write
                    break
                items.append(more)
            merged = Batch()
            for batch, _ in items:
                merged.events.extend(batch.events)
                merged.chains.extend(batch.chains)
                merged.findings.extend(batch.findings)
                merged.alerts.extend(batch.alerts)
                merged.dead_letters.extend(batch.dead_letters)
            try:
                self.write(merged)
            except Exception as exc:  # the futures carry it to whoever waits; the thread keeps going
                log.warning("audit trail write failed: %s", exc)
                for _, future in items:
                    future.set_exception(exc)
            else:
                for _, future in items:
                    future.set_result(None)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class DuckDBTrail(_Writer):
    def __init__(self, store: Store, pipeline: AlertPipeline | None = None) -> None:
        self.store = store
        self.pipeline = pipeline
        super().__init__("chainwatch-guard-duckdb")

    @classmethod
    def open(cls, path: Path, pipeline: AlertPipeline | None = None) -> DuckDBTrail:
        return cls(Store(path), pipeline)

    def write(self, batch: Batch) -> None:
        if len(batch):
            write_with_hooks(self.store, batch, self.pipeline, Store.write)

    def close(self) -> None:
        super().close()
        self.store.close()


class KafkaTrail(_Writer):
    """Events only: the worker computes findings, alerts and chains from them as from any source."""

    def __init__(self, settings: Settings, bootstrap: str | None = None) -> None:
        self.sink = KafkaSink(settings, bootstrap)
        super().__init__("chainwatch-guard-kafka")

    def write(self, batch: Batch) -> None:
        if batch.events or batch.dead_letters:
            self.sink.deliver(batch.events, batch.dead_letters)

    def close(self) -> None:
        super().close()
        self.sink.close()
