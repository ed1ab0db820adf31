"""The durable local spool: one SQLite row per (sink, alert id), kept after delivery.

SQLite in WAL mode with ``synchronous=FULL``: an enqueue that returned survives a crash or power loss.
The row is the idempotency record too: ``INSERT OR IGNORE`` on (sink, alert id) means an alert the
loader reads twice (Kafka at-least-once) or a replay writes again is queued once, and a delivered row
is never sent again. States: ``pending`` (due at ``next_attempt``), ``delivered``, ``rejected`` (the
endpoint refused it for good, e.g. HTTP 400: kept with the reason, re-queued by ``retry_rejected``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_DDL = """
CREATE TABLE IF NOT EXISTS deliveries (
    sink          TEXT NOT NULL,
    alert_id      TEXT NOT NULL,
    severity      TEXT NOT NULL,
    body          BLOB NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  REAL NOT NULL,
    last_error    TEXT,
    enqueued_at   REAL NOT NULL,
    delivered_at  REAL,
    PRIMARY KEY (sink, alert_id)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt);
"""


@dataclass(frozen=True)
class Delivery:
    sink: str
    alert_id: str
    severity: str
    body: bytes
    attempts: int
    enqueued_at: float


class Spool:
    """Thread-safe: the loader enqueues while a background deliverer drains."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute("PRAGMA busy_timeout=10000")
        self._con.executescript(_DDL)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def enqueue(self, items: Iterable[tuple[str, str, str, bytes]], now: float | None = None) -> int:
        """Queue (sink, alert id, severity, body) rows in one transaction; returns how many were new."""
        when = now if now is not None else time.time()
        rows = [(sink, alert_id, severity, body, when, when) for sink, alert_id, severity, body in items]
        if not rows:
            return 0
        with self._lock:
            before = self._con.total_changes
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.executemany(
                    "INSERT OR IGNORE INTO deliveries "
                    "(sink, alert_id, severity, body, next_attempt, enqueued_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            return self._con.total_changes - before

    def due(
        self, now: float | None = None, limit: int = 100, sinks: Iterable[str] | None = None
    ) -> list[Delivery]:
        """Pending rows whose next attempt is due, oldest first; only those of ``sinks`` when given (rows
        of a sink no longer configured wait for it, and must not fill the batch of the others)."""
        when = now if now is not None else time.time()
        selected = None if sinks is None else json.dumps(list(sinks))  # NULL: every sink
        with self._lock:
            rows = self._con.execute(
                "SELECT sink, alert_id, severity, body, attempts, enqueued_at FROM deliveries "
                "WHERE state = 'pending' AND next_attempt <= ? AND (? IS NULL OR sink IN (SELECT value "
                "FROM json_each(?))) ORDER BY enqueued_at, rowid LIMIT ?",
                [when, selected, selected, limit],
            ).fetchall()
        return [Delivery(r[0], r[1], r[2], bytes(r[3]), r[4], r[5]) for r in rows]

    def next_due(self, sinks: Iterable[str] | None = None) -> float | None:
        """When the next pending row (of ``sinks``, when given) is due."""
        selected = None if sinks is None else json.dumps(list(sinks))  # NULL: every sink
        with self._lock:
            row = self._con.execute(
                "SELECT min(next_attempt) FROM deliveries WHERE state = 'pending' "
                "AND (? IS NULL OR sink IN (SELECT value FROM json_each(?)))",
                [selected, selected],
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def mark_delivered(self, sink: str, alert_id: str, now: float | None = None) -> None:
        self._set(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, "
            "last_error = NULL WHERE sink = ? AND alert_id = ?",
            [now if now is not None else time.time(), sink, alert_id],
        )

    def mark_failed(self, sink: str, alert_id: str, error: str, next_attempt: float) -> None:
        self._set(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_attempt = ? "
            "WHERE sink = ? AND alert_id = ?",
            [error[:1000], next_attempt, sink, alert_id],
        )

    def mark_rejected(self, sink: str, alert_id: str, error: str) -> None:
        self._set(
            "UPDATE deliveries SET state = 'rejected', attempts = attempts + 1, last_error = ? "
            "WHERE sink = ? AND alert_id = ?",
            [error[:1000], sink, alert_id],
        )

    def postpone_sink(self, sink: str, next_attempt: float) -> None:
        """The endpoint is down: hold its other pending rows back too, instead of hammering it."""
        self._set(
            "UPDATE deliveries SET next_attempt = max(next_attempt, ?) WHERE sink = ? AND state = 'pending'",
            [next_attempt, sink],
        )

    def retry_rejected(self, sink: str | None = None) -> int:
        with self._lock:
            cursor = self._con.execute(
                "UPDATE deliveries SET state = 'pending', next_attempt = 0 WHERE state = 'rejected' "
                "AND (? IS NULL OR sink = ?)",
                [sink, sink],
            )
            return cursor.rowcount

    def counts(self) -> dict[str, dict[str, int]]:
        """sink -> state -> rows."""
        with self._lock:
            rows = self._con.execute(
                "SELECT sink, state, count(*) FROM deliveries GROUP BY sink, state ORDER BY sink, state"
            ).fetchall()
        result: dict[str, dict[str, int]] = {}
        for sink, state, n in rows:
            result.setdefault(sink, {})[state] = n
        return result

    def problems(self, limit: int = 20) -> list[tuple[str, str, str, int, str | None]]:
        """(sink, alert id, state, attempts, last error) of rows not delivered yet that have failed."""
        with self._lock:
            return self._con.execute(
                "SELECT sink, alert_id, state, attempts, last_error FROM deliveries "
                "WHERE state != 'delivered' AND last_error IS NOT NULL ORDER BY enqueued_at LIMIT ?",
                [limit],
            ).fetchall()

    def _set(self, sql: str, params: list[object]) -> None:
        with self._lock:
            self._con.execute(sql, params)
