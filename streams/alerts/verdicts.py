"""Analysts' verdicts on alerts: append-only rows in ``verdicts``, the latest per alert wins.

Shared by ``chainwatch triage`` and the triage page, so both record a verdict the same way: sealed in the
audit trail like an alert (``streams/store/appends.py``), so that ``chainwatch verify`` reports a verdict
edited, deleted or inserted behind chainwatch's back.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from schemas.ids import stable_hash
from streams.store.access import StoreTarget
from streams.store.appends import append_sealed

VERDICTS = ("true-positive", "false-positive", "benign")


def record_verdict(
    con: duckdb.DuckDBPyConnection,
    alert_id: str,
    status: str,
    note: str | None,
    analyst: str | None,
    *,
    target: StoreTarget,
) -> str:
    """Append a verdict (the latest per alert wins) to the store ``target`` open on ``con``; returns the
    full alert id. Needs the integrity key the trail was written with (``IntegrityKeyError`` otherwise)."""
    from streams.alerts.view import resolve_alert_id

    if status not in VERDICTS:
        raise ValueError(f"status {status!r} is not a verdict; choose one of: {', '.join(VERDICTS)}")
    full_id = resolve_alert_id(con, alert_id)
    recorded_at = datetime.now(UTC)
    row = {
        "verdict_id": stable_hash(
            "verdict", full_id, status, note or "", analyst or "", recorded_at.isoformat()
        ),
        "alert_id": full_id,
        "status": status,
        "note": note,
        "analyst": analyst,
        "recorded_at": recorded_at,
    }
    # One small transaction of its own; on a lake it never waits for the loader, and is done again in the
    # rare case it commits in the same instant as the loader (streams/store/lake.py).
    append_sealed(con, target, "verdicts", row)
    return full_id
