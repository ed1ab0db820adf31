"""Rows appended to a sealed table by a writer other than the Store: the analysts' verdicts.

`chainwatch triage` and the triage page record one verdict at a time, on a DuckDB file between the
loader's runs or on a lake while a loader writes it. Each verdict is sealed like a finding or an alert
(``streams/store/integrity.py``): one small transaction inserts the row with its ``row_hash`` and moves
the table's sum in ``integrity_tables``, with the integrity key when one is configured — so the triage
writers need the key the trail was written with, and are refused (nothing written) without it.

The sum is covered by the next anchor. The verdict's transaction anchors it itself only when the trail it
found was anchored up to that moment. Otherwise another writer has rows in flight (a loader between its
periodic anchors) whose own next anchor covers the verdict too — or the last writer stopped uncleanly,
which the next trail writer records anyway: anchoring there would record "unanchored heads" that verify
reports for good, and a verdict recorded beside a running loader must leave a trail that verifies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from streams.store.access import StoreTarget, rollback
from streams.store.backend import DUCKDB_FILE, DUCKLAKE
from streams.store.integrity import IntegrityKeyError, IntegrityWriter, heads_digest
from streams.store.lake import Lake, retrying


def sealing_writer(con: duckdb.DuckDBPyConnection, target: StoreTarget) -> IntegrityWriter:
    """A trail writer for appends on ``con``: refused (IntegrityKeyError) when the key setting differs
    from the trail's; a file from before a table was sealed is sealed now, and anchored when it can be."""
    backend = DUCKLAKE if isinstance(target, Lake) else DUCKDB_FILE
    trail = target if isinstance(target, Path) else target.trail_path
    try:
        writer = IntegrityWriter(con, trail, upsert=backend.upsert)
    except IntegrityKeyError as exc:
        raise IntegrityKeyError(f"nothing was recorded: {exc}") from None
    writer.anchor_every_seconds = math.inf  # an append anchors only as decided below, never "when due"
    if not writer.unanchored_before:
        writer.close()  # anchors the sums it just sealed, if any (its own transaction); else nothing
    return writer


def append_sealed(
    con: duckdb.DuckDBPyConnection, target: StoreTarget, table: str, row: Mapping[str, Any]
) -> None:
    """Insert ``row`` into the sealed ``table`` of the store ``target`` (open on ``con``) with its hash,
    in one transaction of its own; on a lake it is done again when it loses a race to another writer."""

    def once() -> None:
        writer = sealing_writer(con, target)
        values = dict(row)
        con.execute("BEGIN TRANSACTION")
        try:
            writer.reload()  # the sums as this transaction sees them (another writer may have moved them)
            anchored = _anchored(con, writer)
            writer.seal(table, [values], list(values))
            names = list(values)
            con.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [values[n] for n in names],
            )
            writer.finish(time.monotonic())  # stores the table's new sum
            if anchored:
                writer.unanchored_before = False  # checked just now, inside this transaction
                writer.anchor()
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            writer.rolled_back()
            raise
        writer.committed()  # the anchor's line in the manifest (and the external anchor file)

    retrying(once)


def _anchored(con: duckdb.DuckDBPyConnection, writer: IntegrityWriter) -> bool:
    """Whether the last anchor covers the trail as it stands (no writer has rows after it)."""
    last = con.execute(
        "SELECT sessions, heads_digest FROM integrity_runs ORDER BY run_seq DESC LIMIT 1"
    ).fetchone()
    now = heads_digest(con, writer.hasher)
    return tuple(last) == now if last else now[0] == 0
