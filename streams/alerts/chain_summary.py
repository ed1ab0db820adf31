"""The session's chain summary an alert view shows: the ``chains`` row the audit trail vouches for.

chainwatch writes one ``chains`` row per session and names its hash in the session's head
(``integrity_heads.chain_hash``, streams/store/integrity.py). Someone with write access to the database can
put a second row for the session before the real one (a forged task, a smaller blast radius): read naively,
that is the row an analyst sees. Here a row is vouched for when its ``row_hash`` is the one the head names
and, when this process holds the trail's key (or the trail has none), when its content still hashes to it.
The vouched row is shown; a second row, a row the trail does not vouch for, or several that cannot be told
apart without the key are flagged with a warning. Which rows were changed is ``chainwatch verify``'s job.
"""

from __future__ import annotations

from typing import Any

import duckdb

from streams.store.integrity import Hasher, IntegrityKeyError, canonical, key_from_env

_VERIFY = "run `chainwatch verify`"


def vouched_chain(
    con: duckdb.DuckDBPyConnection, session_id: str
) -> tuple[dict[str, Any] | None, str | None]:
    """(the session's chains row to show, or None; a warning for the analyst, or None)."""
    cursor = con.execute(
        "SELECT * FROM chains WHERE session_id = ? ORDER BY row_hash NULLS LAST", [session_id]
    )
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    if not rows:
        return None, None
    if "row_hash" not in columns or not _has_table(con, "integrity_heads"):
        return rows[0], None  # a file from before the audit trail: nothing to check the row against
    head = con.execute("SELECT chain_hash FROM integrity_heads WHERE session_id = ?", [session_id]).fetchone()
    if head is None and len(rows) == 1:
        return rows[0], None  # no trail record for the session at all: verify reports that
    named = head[0] if head else None
    hasher = _trail_hasher(con)
    vouched = [row for row in rows if _vouched(row, session_id, named, hasher, columns)]
    if len(vouched) == 1:
        if len(rows) == 1:
            return rows[0], None
        return vouched[0], (
            f"{len(rows)} chain summaries stored for this session: shown is the one the audit trail vouches "
            f"for, the other(s) may be forged; {_VERIFY}"
        )
    if len(rows) == 1:
        return rows[0], (
            f"the session's chain summary is not the one the audit trail recorded: its task and blast radius "
            f"may be forged; {_VERIFY}"
        )
    why = (
        "none is the one the audit trail recorded"
        if not vouched
        else "they cannot be told apart without the trail's integrity key"
    )
    return None, f"{len(rows)} chain summaries stored for this session and {why}: none is shown; {_VERIFY}"


def _vouched(
    row: dict[str, Any], session_id: str, named: str | None, hasher: Hasher | None, columns: list[str]
) -> bool:
    if named is None or row.get("row_hash") != named:
        return False
    if hasher is None:
        return True  # the trail's key is not here: the head's word (the hash it names) is all there is
    try:
        content = canonical(row, columns)
        return (
            hasher.row_hash("chains", session_id, int(row["integrity_seq"]), row["prev_hash"], content)
            == named
        )
    except (TypeError, ValueError, KeyError):  # a hand-edited row (text where a position belongs)
        return False


def _trail_hasher(con: duckdb.DuckDBPyConnection) -> Hasher | None:
    """The hasher the trail was written with, when this process has its key (or the trail has none)."""
    if not _has_table(con, "integrity_runs"):
        return None
    last = con.execute("SELECT key_id FROM integrity_runs ORDER BY run_seq DESC LIMIT 1").fetchone()
    if last is None:
        return None
    try:
        hasher = Hasher(key_from_env())
    except IntegrityKeyError:
        return None
    return hasher if hasher.key_id == last[0] else None


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()
    return bool(found and found[0])
