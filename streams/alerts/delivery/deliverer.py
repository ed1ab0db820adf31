"""Routing into the spool, and draining the spool into the sinks with retries and backoff."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from schemas.errors import ChainwatchError
from schemas.types import SEVERITY_RANK
from streams.alerts.delivery.formats import render
from streams.alerts.delivery.sinks import JsonLines, PermanentFailure, Sink, TransientFailure, Webhook
from streams.alerts.delivery.spool import Spool
from streams.alerts.view import AlertView
from streams.settings import DeliverySettings

log = logging.getLogger("chainwatch.delivery")
MIN_SECRET_CHARS = 16


class DeliveryConfigError(ChainwatchError):
    """The delivery block of the settings cannot work as written."""


@dataclass
class DrainStats:
    delivered: int = 0
    failed_attempts: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def build_sinks(config: DeliverySettings) -> list[Sink]:
    sinks: list[Sink] = []
    if config.webhooks and config.webhook_secret is None:
        raise DeliveryConfigError(
            "delivery.webhooks is set but no signing secret: set CHAINWATCH_DELIVERY__WEBHOOK_SECRET "
            "(receivers verify every request with it; see docs/alerts.md)"
        )
    if config.webhooks and len(config.webhook_secret.get_secret_value()) < MIN_SECRET_CHARS:  # type: ignore[union-attr]
        # (checked here, not by a pydantic constraint, whose error message would quote the secret)
        raise DeliveryConfigError(
            f"CHAINWATCH_DELIVERY__WEBHOOK_SECRET is shorter than {MIN_SECRET_CHARS} characters; "
            "use a random one, e.g. `openssl rand -hex 32`"
        )
    for hook in config.webhooks:
        assert config.webhook_secret is not None
        sinks.append(Webhook(hook, config.webhook_secret.get_secret_value().encode()))
    sinks.extend(JsonLines(f) for f in config.files)
    names = [s.name for s in sinks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DeliveryConfigError(
            f"delivery sink names must be unique (they key the spool); repeated: {', '.join(repeated)}"
        )
    return sinks


class Deliverer:
    """Puts alerts into the spool for every sink whose severity floor they reach, and drains it."""

    def __init__(
        self,
        config: DeliverySettings,
        *,
        sinks: Sequence[Sink] | None = None,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.sinks = {s.name: s for s in (sinks if sinks is not None else build_sinks(config))}
        self.spool = spool or Spool(config.spool_path)
        self.clock = clock

    def close(self) -> None:
        self.spool.close()

    def routes(self, severity: str) -> list[Sink]:
        rank = SEVERITY_RANK[severity]  # type: ignore[index]
        return [s for s in self.sinks.values() if rank >= SEVERITY_RANK[s.min_severity]]  # type: ignore[index]

    def submit(self, views: Iterable[AlertView]) -> int:
        """Spool every view for its routes (suppressed ones are skipped); returns the rows newly queued."""
        rows = []
        for view in views:
            if view.suppressed_by is not None:
                continue
            severity = str(view.alert.severity)
            bodies: dict[str, bytes] = {}
            for sink in self.routes(severity):
                body = bodies.get(sink.format) or render(view, sink.format)
                bodies[sink.format] = body
                rows.append((sink.name, view.alert.alert_id, severity, body))
        return self.spool.enqueue(rows, now=self.clock())

    def backoff(self, attempts: int) -> float:
        """Delay before attempt ``attempts + 1``: doubling from the initial delay, capped, with jitter."""
        base = min(
            self.config.backoff_max_seconds, self.config.backoff_initial_seconds * 2 ** max(0, attempts)
        )
        return float(base * random.uniform(0.8, 1.0))

    def drain(self, *, max_rows: int = 1000) -> DrainStats:
        """One pass over the due rows. A sink that fails is held back for the rest of the pass."""
        stats = DrainStats()
        down: set[str] = set()
        # Rows of a sink removed from the configuration stay in the spool until it returns; they are not
        # selected, or they would fill the batch and, always due, keep the waits at zero (a busy loop).
        for item in self.spool.due(self.clock(), limit=max_rows, sinks=self.sinks):
            if item.sink in down:
                continue
            sink = self.sinks[item.sink]
            try:
                sink.send(item.alert_id, item.body)
            except TransientFailure as exc:
                retry_at = self.clock() + self.backoff(item.attempts)
                self.spool.mark_failed(item.sink, item.alert_id, str(exc), retry_at)
                self.spool.postpone_sink(item.sink, retry_at)
                down.add(item.sink)
                stats.failed_attempts += 1
                stats.errors.append(str(exc))
                log.warning("delivery of %s to %s failed (%s); retrying", item.alert_id, item.sink, exc)
                continue
            except PermanentFailure as exc:
                self.spool.mark_rejected(item.sink, item.alert_id, str(exc))
                stats.rejected += 1
                stats.errors.append(str(exc))
                log.error("%s rejected alert %s: %s (kept in the spool)", item.sink, item.alert_id, exc)
                continue
            self.spool.mark_delivered(item.sink, item.alert_id, self.clock())
            stats.delivered += 1
        return stats

    def drain_until_empty(self, max_seconds: float, stop: threading.Event | None = None) -> DrainStats:
        """Drain, sleeping until the next due row, until nothing is pending or time is up."""
        total = DrainStats()
        deadline = time.monotonic() + max_seconds
        waiter = stop or threading.Event()
        while True:
            stats = self.drain()
            total.delivered += stats.delivered
            total.failed_attempts += stats.failed_attempts
            total.rejected += stats.rejected
            total.errors.extend(stats.errors)
            due = self.spool.next_due(self.sinks)
            if due is None or waiter.is_set():
                return total
            wait = max(0.0, due - self.clock())
            if time.monotonic() + wait > deadline:
                return total
            waiter.wait(wait)


class DeliveryThread(threading.Thread):
    """Drains the spool in the background of a long-running process (the loader)."""

    def __init__(self, deliverer: Deliverer, poll_seconds: float = 1.0) -> None:
        super().__init__(name="chainwatch-delivery", daemon=True)
        self.deliverer = deliverer
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._halt = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.deliverer.drain()
            except Exception:  # never let the loader lose its deliverer; the rows stay in the spool
                log.exception("delivery pass failed")
            due = self.deliverer.spool.next_due(self.deliverer.sinks)
            wait = self.poll_seconds if due is None else min(self.poll_seconds, max(0.0, due - time.time()))
            self._wake.wait(wait)
            self._wake.clear()
