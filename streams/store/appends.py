"""Rows appended to a sealed table by a writer other than the Store: the analysts' verdicts.

`chainwatch triage` and the triage page record one verdict at a time, on a DuckDB file between the
loader's runs or on a lake while loaders write it. Each verdict is sealed like a finding or an alert
(``streams/store/integrity.py``): one small transaction inserts the row with its ``row_hash`` and moves
the table's sum in ``integrity_tables``, with the integrity key when one is configured — so the triage
writers need the key the trail was written with, and are refused (nothing written) without it.

How the new sum gets anchored depends on the store:

- On a DuckDB file the verdict's transaction anchors it itself when the trail it found was anchored up to
  that moment. Otherwise the last writer stopped uncleanly, which the next trail writer records anyway
  (anchoring here would only repeat that finding).
- On a lake the verdict is a writer like a loader: it records its opening and its closing as runs
  (``run_event``). Opened beside a loader whose latest batches are not anchored yet, its opening says so,
  and ``verify`` accepts that once the loader has anchored again; its closing run anchors the verdict.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from streams.store.access import StoreTarget, rollback
from streams.store.backend import DUCKDB_FILE, DUCKLAKE
from streams.store.integrity import IntegrityKeyError, IntegrityWriter, heads_digest
from streams.store.lake import Lake, retrying


@contextmanager
def sealing_writer(con: duckdb.DuckDBPyConnection, target: StoreTarget) -> Iterator[IntegrityWriter]:
    """A trail writer for appends on ``con``: refused (IntegrityKeyError) when the key setting differs
    from the trail's. On a file, tables from before they were sealed are sealed now (and anchored when the
    trail was anchored); on a lake the writer's opening and, on leaving, its closing are recorded."""
    backend = DUCKLAKE if isinstance(target, Lake) else DUCKDB_FILE
    trail = target if isinstance(target, Path) else target.trail_path
    try:
        writer = IntegrityWriter(con, trail, backend=backend)
    except IntegrityKeyError as exc:
        raise IntegrityKeyError(f"nothing was recorded: {exc}") from None
    writer.anchor_every_seconds = math.inf  # an append anchors only as decided here, never "when due"
    if not backend.several_writers and not writer.unanchored_before:
        writer.close()  # anchors the sums it just sealed, if any (its own transaction); else nothing
    try:
        yield writer
    finally:
        if backend.several_writers:
            writer.close()  # the closing run, which anchors what this writer added


def check_sealing_key(con: duckdb.DuckDBPyConnection, target: StoreTarget) -> None:
    """Refuse (IntegrityKeyError, nothing written) a key setting that could not seal a verdict in this
    trail: what a triage writer checks when it starts. On a lake it is a writer's opening and closing."""
    with sealing_writer(con, target):
        return


def append_sealed(
    con: duckdb.DuckDBPyConnection, target: StoreTarget, table: str, row: Mapping[str, Any]
) -> None:
    """Insert ``row`` into the sealed ``table`` of the store ``target`` (open on ``con``) with its hash,
    in one transaction of its own; on a lake it is done again when it loses a race to another writer."""

    def once() -> None:
        with sealing_writer(con, target) as writer:
            values = dict(row)
            con.execute("BEGIN TRANSACTION")
            try:
                writer.reload()  # the sums as this transaction sees them (another writer may have moved them)
                anchor_now = not writer.backend.several_writers and _anchored(con, writer)
                writer.seal(table, [values], list(values))
                names = list(values)
                con.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                    [values[n] for n in names],
                )
                writer.finish(time.monotonic())  # stores the table's new sum
                if anchor_now:
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
