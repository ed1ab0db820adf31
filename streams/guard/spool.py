"""The clients' local spool: what the service could not take yet, kept until it can (nothing the agent did is
lost from the audit trail).

One SQLite row per event id (WAL, ``synchronous=FULL``: a report that was spooled survives a crash). A
call's executed report replaces its earlier "decided while the service was down" record, never the other
way round. Standard library and orjson only: the hook imports it on every tool call.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson

_DDL = """
CREATE TABLE IF NOT EXISTS reports (
    event_id     TEXT PRIMARY KEY,
    body         BLOB NOT NULL,        -- the event as JSON
    executed     INTEGER NOT NULL,     -- 1: the call ran (or a non-call event); 0: only decided
    enqueued_at  REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
"""


class ReportSpool:
    def __init__(self, path: Path | str, busy_timeout_ms: int = 1000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: the MCP proxy closes it from its main thread; its users serialise access
        self._con = sqlite3.connect(
            str(self.path), isolation_level=None, timeout=busy_timeout_ms / 1000, check_same_thread=False
        )
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.executescript(_DDL)

    def put(self, event_id: str, body: bytes, *, executed: bool, error: str = "") -> None:
        self._con.execute(
            "INSERT INTO reports (event_id, body, executed, enqueued_at, last_error) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (event_id) DO UPDATE SET body = excluded.body, executed = excluded.executed, "
            "last_error = excluded.last_error WHERE excluded.executed >= reports.executed",
            [event_id, body, int(executed), time.time(), error[:500]],
        )

    def get(self, event_id: str) -> dict[str, Any] | None:
        row = self._con.execute("SELECT body FROM reports WHERE event_id = ?", [event_id]).fetchone()
        if row is None:
            return None
        kept = orjson.loads(row[0])
        return kept if isinstance(kept, dict) else None

    def discard(self, event_id: str) -> None:
        """A call's executed report reached the service: its "decided" record is no longer needed."""
        self._con.execute("DELETE FROM reports WHERE event_id = ? AND executed = 0", [event_id])

    def oldest(self, limit: int = 200) -> list[tuple[str, bytes]]:
        rows = self._con.execute(
            "SELECT event_id, body FROM reports ORDER BY enqueued_at, event_id LIMIT ?", [limit]
        ).fetchall()
        return [(str(r[0]), bytes(r[1])) for r in rows]

    def delivered(self, event_ids: list[str]) -> None:
        self._con.executemany("DELETE FROM reports WHERE event_id = ?", [[i] for i in event_ids])

    def failed(self, event_ids: list[str], error: str) -> None:
        self._con.executemany(
            "UPDATE reports SET attempts = attempts + 1, last_error = ? WHERE event_id = ?",
            [[error[:500], i] for i in event_ids],
        )

    def count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM reports").fetchone()[0])

    def close(self) -> None:
        self._con.close()
