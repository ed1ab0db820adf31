"""Analysts' verdicts on alerts: append-only rows in ``verdicts``, the latest per alert wins.

Shared by ``chainwatch triage`` and the triage page, so both record a verdict the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from streams.store.lake import retrying

VERDICTS = ("true-positive", "false-positive", "benign")


def record_verdict(
    con: duckdb.DuckDBPyConnection, alert_id: str, status: str, note: str | None, analyst: str | None
) -> str:
    """Append a verdict (the latest per alert wins); returns the full alert id."""
    from streams.alerts.view import resolve_alert_id

    if status not in VERDICTS:
        raise ValueError(f"status {status!r} is not a verdict; choose one of: {', '.join(VERDICTS)}")
    full_id = resolve_alert_id(con, alert_id)
    recorded = [full_id, status, note, analyst, datetime.now(UTC)]
    # One small transaction of its own; on a lake it never waits for the loader, and is done again in the
    # rare case it commits in the same instant as the loader (streams/store/lake.py).
    retrying(
        lambda: con.execute(
            "INSERT INTO verdicts (alert_id, status, note, analyst, recorded_at) VALUES (?, ?, ?, ?, ?)",
            recorded,
        )
    )
    return full_id
