"""A tamper-evident audit trail over the stored events and chain summaries.

Every session's stored events (the ``events`` and ``credentials`` tables) form a hash chain in the order
chainwatch first wrote them: row *n* carries ``integrity_seq = n``, ``prev_hash`` (row *n-1*'s hash, or the
session's genesis value) and ``row_hash`` over a canonical serialisation of the whole row. The session's
``chains`` row hangs off the event it was written after (``integrity_seq`` = that event's sequence number).
``integrity_heads`` keeps each session's current head, and ``integrity_runs`` anchors a digest of all heads
when a writer closes (and every :data:`ANCHOR_EVERY_SECONDS` while it writes), each run linked to the one
before; the same run records are appended to a manifest file beside the database so that a copy kept
elsewhere can catch a rollback of the whole database.

A lake may have several writers at once (loaders sharing a PostgreSQL catalog). There each writer also
records its opening and its closing as runs (``run_event``), and every anchor takes the writers' turn
(``streams.store.lake.take_turn``), so that two anchors never take the same ``run_seq``. A writer that opens
on heads the last anchor does not cover is then told apart from one that opens beside a running writer
whose latest writes are not anchored yet: the runs before it say which writers were open, and ``verify``
accepts the difference once each of those has anchored again (it would have anchored the same heads).

With ``CHAINWATCH_INTEGRITY_KEY`` (or ``CHAINWATCH_INTEGRITY_KEY_FILE``) every hash is an HMAC-SHA256: someone
with write access to the database but not the key cannot recompute them. Without a key they are plain
SHA-256: accidental or careless changes are caught, a deliberate attacker who can write the file and the
manifest can recompute everything. docs/security.md has the threat model.

Events are immutable facts: a redelivered event id (at-least-once Kafka, a re-run replay) is not written
again, so the chain is never broken by redelivery and an upsert cannot silently rewrite stored evidence.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import math
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from enum import Enum
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from schemas.errors import ChainwatchError
from streams.store.access import StoreTarget, cursor, open_read_only, rollback
from streams.store.backend import DUCKDB_FILE, Backend
from streams.store.lake import retrying, take_turn

KEY_ENV = "CHAINWATCH_INTEGRITY_KEY"
KEY_FILE_ENV = "CHAINWATCH_INTEGRITY_KEY_FILE"
ANCHOR_EVERY_SECONDS = 60.0
MANIFEST_SUFFIX = ".integrity.jsonl"
INTEGRITY_COLUMNS = ("integrity_seq", "prev_hash", "row_hash")
CHAINED_EVENT_TABLES = ("events", "credentials")  # both hold a session's events; one sequence over both
CHAINED_TABLES = (*CHAINED_EVENT_TABLES, "chains")
ID_COLUMNS = {"events": "event_id", "credentials": "event_id", "chains": "session_id"}
HASH_VERSION = "cw-integrity-v2"  # v2: length-prefixed parts, NULL columns left out
_VERSION_PART = len(HASH_VERSION.encode()).to_bytes(8, "big") + HASH_VERSION.encode()
ANCHOR_ENV = "CHAINWATCH_INTEGRITY_ANCHOR"  # an append-only file away from the database (docs/security.md)
# Tables whose rows are derived results rather than a session's events: no order to chain, so each row
# carries a hash of its content and the table a running sum of those hashes (a multiset digest): a row
# edited, added or removed changes one or the other, and the anchors cover the sums.
SEALED_TABLES = {
    "findings": "finding_id",
    "alerts": "alert_id",
    "dead_letters": "dead_letter_id",
    "verdicts": "verdict_id",  # appended one at a time by the triage writers (streams/store/appends.py)
}
# Sealed tables whose rows had no id before they were sealed: the SQL that gives each such row one, once,
# when a file from before is sealed (the table has no other column to update a row by).
IDS_FOR_OLD_ROWS = {
    "verdicts": "'old-' || sha256(concat_ws(chr(31), alert_id, status, coalesce(note, ''), "
    "coalesce(analyst, ''), epoch_us(recorded_at)::VARCHAR))",
}
_DIGEST_MODULUS = 1 << 256

DDL = (
    [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}"
        for table in CHAINED_TABLES
        for column, kind in (("integrity_seq", "BIGINT"), ("prev_hash", "VARCHAR"), ("row_hash", "VARCHAR"))
    ]
    + [
        """CREATE TABLE IF NOT EXISTS integrity_heads (
            session_id  VARCHAR PRIMARY KEY,
            event_seq   BIGINT NOT NULL,      -- sequence number of the session's last stored event (0: none)
            event_hash  VARCHAR NOT NULL,     -- its row_hash (the genesis value when there is none)
            chain_hash  VARCHAR,              -- row_hash of the session's chains row, if any
            head_hash   VARCHAR NOT NULL      -- hash over the three above and the session id
        )""",
        """CREATE TABLE IF NOT EXISTS integrity_runs (
            run_seq       BIGINT PRIMARY KEY, -- 1, 2, ... in the order the anchors were written
            run_id        VARCHAR NOT NULL,   -- one writer's open..close; several anchors per long run
            anchored_at   TIMESTAMPTZ NOT NULL,
            key_id        VARCHAR,            -- fingerprint of the HMAC key, NULL when unkeyed
            sessions      BIGINT NOT NULL,    -- sessions in integrity_heads at that moment
            heads_digest  VARCHAR NOT NULL,   -- hash over every session head, in session_id order
            prev_run_hash VARCHAR NOT NULL,
            run_hash      VARCHAR NOT NULL,
            unanchored_before BOOLEAN NOT NULL -- the heads this writer found differed from the last anchor
        )""",
        # On a lake: open (a writer started), anchor (periodic) or close; NULL in a DuckDB file's runs.
        "ALTER TABLE integrity_runs ADD COLUMN IF NOT EXISTS run_event VARCHAR",
        """CREATE TABLE IF NOT EXISTS integrity_tables (
            table_name  VARCHAR PRIMARY KEY,  -- one of SEALED_TABLES
            row_count   BIGINT NOT NULL,
            digest      VARCHAR NOT NULL,     -- sum of the rows' row_hash values mod 2^256, as hex
            table_hash  VARCHAR NOT NULL      -- hash over the three above
        )""",
    ]
    + [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS row_hash VARCHAR" for table in SEALED_TABLES]
)


class IntegrityKeyError(ChainwatchError, ValueError):
    """The integrity key setting cannot be used (unreadable file, empty value); a ChainwatchError so
    that `chainwatch run` and `load` stop with its message instead of a traceback."""


# --------------------------------------------------------------------------- hashing


@dataclass(frozen=True)
class Hasher:
    """SHA-256, or HMAC-SHA256 when a key is set; ``key_id`` names the key without revealing it."""

    key: bytes | None = field(default=None, repr=False)  # never in a repr, a log line or a traceback

    @property
    def key_id(self) -> str | None:
        if self.key is None:
            return None
        return hmac.new(self.key, b"chainwatch integrity key id", hashlib.sha256).hexdigest()[:16]

    def digest(self, *parts: str | bytes) -> str:
        # Each part is length-prefixed: session ids come from agents' input and may hold any character,
        # so a separator alone could let two different part lists serialise to the same message. The parts
        # are fed to the hash one by one (the same message, without building it).
        if self.key is None:
            state: Any = hashlib.sha256(_VERSION_PART)
        else:
            state = self._keyed().copy()
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            state.update(len(data).to_bytes(8, "big"))
            state.update(data)
        return str(state.hexdigest())

    def _keyed(self) -> hmac.HMAC:
        """The HMAC state after the version part, built once and copied per digest."""
        base: hmac.HMAC | None = self.__dict__.get("_hmac_base")
        if base is None:
            assert self.key is not None
            base = hmac.new(self.key, _VERSION_PART, hashlib.sha256)
            object.__setattr__(self, "_hmac_base", base)  # a cache on a frozen dataclass
        return base

    def genesis(self, session_id: str) -> str:
        return self.digest("genesis", session_id)

    def row_hash(self, table: str, session_id: str, seq: int, prev_hash: str, canonical: bytes) -> str:
        return self.digest("row", table, session_id, str(seq), prev_hash, canonical)

    def head_hash(self, session_id: str, event_seq: int, event_hash: str, chain_hash: str | None) -> str:
        return self.digest("head", session_id, str(event_seq), event_hash, chain_hash or "-")

    def sealed_row_hash(self, table: str, canonical: bytes) -> str:
        return self.digest("sealed", table, canonical)

    def table_hash(self, table: str, row_count: int, digest: str) -> str:
        return self.digest("table", table, str(row_count), digest)

    def run_hash(self, record: Mapping[str, Any]) -> str:
        hashed = [str(record[f]) for f in RUN_FIELDS if f != "run_hash"]  # the hash covers every other field
        event = record.get(RUN_EVENT)
        if event is not None:  # only lake runs have one: a DuckDB file's run hashes stay as they were
            hashed += ["event", str(event)]
        return self.digest("run", *hashed)


def key_from_env(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The HMAC key from ``CHAINWATCH_INTEGRITY_KEY`` or the file ``CHAINWATCH_INTEGRITY_KEY_FILE`` names."""
    env = os.environ if environ is None else environ
    value = env.get(KEY_ENV)
    path = env.get(KEY_FILE_ENV)
    if value is not None and path is not None:
        raise IntegrityKeyError(f"set only one of {KEY_ENV} and {KEY_FILE_ENV}, not both")
    if path is not None:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise IntegrityKeyError(f"{KEY_FILE_ENV}={path} cannot be read: {exc.strerror}") from None
    if value is None:
        return None
    if len(value.strip()) < 16:
        name = KEY_FILE_ENV if path is not None else KEY_ENV
        raise IntegrityKeyError(
            f"{name}: the integrity key must be at least 16 characters (e.g. `openssl rand -hex 32`)"
        )
    return value.strip().encode()


def _plain(value: Any) -> Any:
    """One spelling per value, identical for what is written and what DuckDB gives back."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # orjson would write null for all three
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


_AS_IS = (str, int, float, bool, type(None))


def canonical(row: Mapping[str, Any], columns: Sequence[str]) -> bytes:
    """The row's content as sorted-key JSON over the table's columns (integrity columns left out).

    NULL columns are left out too, so a column added to the table later (NULL in every older row) does not
    change the hash of the rows written before it; a value set to or from NULL still changes the content.

    One encoding, written by orjson in one call: datetimes (passed through to :func:`_spelled`) in UTC with
    microseconds, enums as their values, tuples as lists. What orjson would spell differently from
    :func:`_plain` (a non-finite float, written as null; a datetime inside a mapping) takes the
    value-by-value path, which gives the same bytes.
    """
    content = {
        name: value
        for name in columns
        if (value := row.get(name)) is not None and name not in INTEGRITY_COLUMNS
    }
    if dict not in map(type, content.values()):
        try:
            encoded = orjson.dumps(content, option=_CANONICAL, default=_spelled)
        except TypeError:
            encoded = b""  # a type orjson does not write: the value-by-value path says which
        if encoded and b"null" not in encoded:  # no NaN/±infinity turned into null
            return encoded
    return _canonical_by_value(content)


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_NO_OFFSET = timedelta(0)


def _spelled(value: Any) -> Any:
    if isinstance(value, datetime) and value.utcoffset() == _NO_OFFSET:
        return value.isoformat(timespec="microseconds")  # already UTC: _plain's spelling, without converting
    if isinstance(value, datetime | date):
        return _plain(value)
    if isinstance(value, time_of_day):
        return value.isoformat()  # how orjson itself writes a time
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _canonical_by_value(content: Mapping[str, Any]) -> bytes:
    plain_content = {}
    for name, value in content.items():
        # the common scalars as they are (NaN and ±infinity go through _plain: orjson would write null)
        plain = type(value) in _AS_IS and not (type(value) is float and not math.isfinite(value))
        plain_content[name] = value if plain else _plain(value)
    return orjson.dumps(plain_content, option=orjson.OPT_SORT_KEYS)


# --------------------------------------------------------------------------- the write path


@dataclass
class Head:
    event_seq: int
    event_hash: str
    chain_hash: str | None


@dataclass
class IntegrityWriter:
    """Adds the integrity columns to a batch's rows and keeps the heads and the run anchors.

    The Store calls :meth:`prepare` inside its write transaction before upserting, then :meth:`finish`
    after the upserts, and :meth:`close` when it closes.
    """

    con: duckdb.DuckDBPyConnection
    db_path: Path
    hasher: Hasher = field(default_factory=lambda: Hasher(key_from_env()))
    # How rows are upserted by id, and whether other writers may commit beside this one
    # (streams/store/backend.py)
    backend: Backend = DUCKDB_FILE
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    anchor_every_seconds: float = ANCHOR_EVERY_SECONDS
    _dirty: bool = False
    _last_anchor: float = field(default_factory=time.monotonic)
    _touched: dict[str, Head] = field(default_factory=dict)
    _pending_manifest: list[dict[str, Any]] = field(default_factory=list)
    skipped_redeliveries: int = 0
    # Whether the heads found on opening differ from the last anchor (a crashed writer, or changes made
    # between runs, or on a lake a writer running beside it): recorded in this writer's first anchor, so
    # a later anchor cannot silently bless them.
    unanchored_before: bool = False
    _sealed: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (rows, digest sum)
    _sealed_touched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        last = self._last_run()
        if last and last[2] != self.hasher.key_id:
            # Chaining on with another key (or none) would leave a trail no single key can verify.
            raise IntegrityKeyError(
                f"{self.db_path} was written with integrity key id {last[2] or 'none (no key)'}, this writer "
                f"has {self.hasher.key_id or 'no key'}: set {KEY_ENV} (or {KEY_FILE_ENV}) to the key the "
                "file was written with, or start a new database file to change keys"
            )
        if self.backend.several_writers:
            retrying(self._record_opening)
            return
        now = heads_digest(self.con, self.hasher)
        self.unanchored_before = (tuple(last[:2]) != now) if last else now[0] > 0
        self._load_sealed()
        missing = [t for t in SEALED_TABLES if t not in self._sealed]
        if missing:  # a file from before these tables were sealed: hash what they hold, once
            self.con.execute("BEGIN TRANSACTION")
            try:
                for table in missing:
                    self._seal_existing(table)
                self._store_sealed()
                self.con.execute("COMMIT")
            except BaseException:
                rollback(self.con)
                raise
            self._dirty = True  # the next anchor covers the new sums

    @property
    def upsert(self) -> Callable[[str, str, str], str]:
        return self.backend.upsert

    def _last_run(self) -> tuple[Any, ...] | None:
        return self.con.execute(
            "SELECT sessions, heads_digest, key_id FROM integrity_runs ORDER BY run_seq DESC LIMIT 1"
        ).fetchone()

    def _record_opening(self) -> None:
        """On a lake, in one transaction: whether the heads differ from the last anchor, the sealed tables'
        sums if the lake has none yet, and an ``open`` run over the heads as found. The runs before it
        then say which writers were open when this one started (see :func:`_check_runs`)."""

        def record() -> None:
            last = self._last_run()
            now = heads_digest(self.con, self.hasher)
            self.unanchored_before = (tuple(last[:2]) != now) if last else now[0] > 0
            self._load_sealed()
            for table in [t for t in SEALED_TABLES if t not in self._sealed]:  # a new lake
                self._seal_existing(table)
            self._store_sealed()
            self.anchor(OPEN)

        self._anchoring(record)

    def reload(self) -> None:
        """Re-read what other writers may have changed since (the sealed tables' sums): a lake has several
        writers, so the Store calls this at the start of each of its transactions there."""
        self._load_sealed()

    def _load_sealed(self) -> None:
        rows = self.con.execute("SELECT table_name, row_count, digest FROM integrity_tables").fetchall()
        self._sealed = {name: (int(count), int(digest, 16)) for name, count, digest in rows}
        self._sealed_touched = set()

    def _seal_existing(self, table: str) -> None:
        columns = _columns(self.con, table)
        key = SEALED_TABLES[table]
        if table in IDS_FOR_OLD_ROWS:
            self.con.execute(f"UPDATE {table} SET {key} = {IDS_FOR_OLD_ROWS[table]} WHERE {key} IS NULL")
        count, total, updates = 0, 0, []
        for row in _dict_rows(self.con, f"SELECT * FROM {table}"):
            row_hash = self.hasher.sealed_row_hash(table, canonical(row, columns))
            updates.append((row_hash, row[key]))
            count, total = count + 1, total + int(row_hash, 16)
        if updates:
            self.con.executemany(f"UPDATE {table} SET row_hash = ? WHERE {key} = ?", updates)
        self._sealed[table] = (count, total % _DIGEST_MODULUS)
        self._sealed_touched.add(table)

    def seal(self, table: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
        """Hash the rows about to be upserted into a sealed table (one per id) and update its digest: the
        rows they replace leave the sum, the new ones enter it. Inside the Store's write transaction."""
        if not rows:
            return
        key = SEALED_TABLES[table]
        count, total = self._sealed.get(table, (0, 0))
        replaced = self.con.execute(
            f"SELECT row_hash FROM {table} WHERE {key} IN (SELECT unnest(?::VARCHAR[]))",
            [[r[key] for r in rows]],
        ).fetchall()
        for (old_hash,) in replaced:
            count -= 1
            total -= _hash_number(old_hash)
        for row in rows:
            row["row_hash"] = self.hasher.sealed_row_hash(table, canonical(row, columns))
            count += 1
            total += int(row["row_hash"], 16)
        self._sealed[table] = (count, total % _DIGEST_MODULUS)
        self._sealed_touched.add(table)

    def _store_sealed(self) -> None:
        for table in sorted(self._sealed_touched):
            count, total = self._sealed[table]
            digest = f"{total:064x}"
            self.con.execute(
                self.upsert(
                    "integrity_tables",
                    "table_name",
                    "(SELECT ?::VARCHAR AS table_name, ?::BIGINT AS row_count, ?::VARCHAR AS digest, "
                    "?::VARCHAR AS table_hash)",
                ),
                [table, count, digest, self.hasher.table_hash(table, count, digest)],
            )
        self._sealed_touched = set()

    @staticmethod
    def install(con: duckdb.DuckDBPyConnection) -> None:
        for statement in DDL:
            con.execute(statement)

    def _heads(self, sessions: Iterable[str]) -> dict[str, Head]:
        wanted = sorted(set(sessions))
        if not wanted:
            return {}
        rows = self.con.execute(
            "SELECT session_id, event_seq, event_hash, chain_hash FROM integrity_heads "
            "WHERE session_id IN (SELECT unnest(?::VARCHAR[]))",
            [wanted],
        ).fetchall()
        heads = {s: Head(0, self.hasher.genesis(s), None) for s in wanted}
        for session_id, seq, event_hash, chain_hash in rows:
            heads[session_id] = Head(int(seq), event_hash, chain_hash)
        return heads

    def _existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        column = ID_COLUMNS[table]
        rows = self.con.execute(
            f"SELECT {column} FROM {table} WHERE {column} IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
        ).fetchall()
        return {r[0] for r in rows}

    def prepare(
        self,
        event_rows: Mapping[str, list[dict[str, Any]]],
        chain_rows: list[dict[str, Any]],
        columns: Mapping[str, Sequence[str]],
    ) -> dict[str, list[dict[str, Any]]]:
        """Chain the new event rows of each table (in batch order) and hash the chain rows.

        Returns the rows to upsert per table: event rows whose id is already stored are dropped (a
        redelivery: the stored row and its place in the chain stay as they are).
        """
        kept: dict[str, list[dict[str, Any]]] = {}
        sessions: set[str] = {r["session_id"] for r in chain_rows}
        for table, rows in event_rows.items():
            unique: dict[str, dict[str, Any]] = {}
            for r in rows:  # the first occurrence of an id in the batch is the one written
                unique.setdefault(r[ID_COLUMNS[table]], r)
            existing = self._existing_ids(table, list(unique))
            self.skipped_redeliveries += len(existing) + len(rows) - len(unique)
            ordered = [r for key, r in unique.items() if key not in existing]
            kept[table] = ordered
            sessions.update(r["session_id"] for r in ordered)
        heads = self._heads(sessions)
        # One sequence per session over both event tables; events before credentials within a batch.
        for table in CHAINED_EVENT_TABLES:
            for row in kept.get(table, []):
                head = heads[row["session_id"]]
                seq = head.event_seq + 1
                row_hash = self.hasher.row_hash(
                    table, row["session_id"], seq, head.event_hash, canonical(row, columns[table])
                )
                row.update(integrity_seq=seq, prev_hash=head.event_hash, row_hash=row_hash)
                head.event_seq, head.event_hash = seq, row_hash
        for row in chain_rows:
            head = heads[row["session_id"]]
            row.update(integrity_seq=head.event_seq, prev_hash=head.event_hash)
            row["row_hash"] = self.hasher.row_hash(
                "chains",
                row["session_id"],
                head.event_seq,
                head.event_hash,
                canonical(row, columns["chains"]),
            )
        self._touched = heads
        return kept

    def finish(self, now: float) -> None:
        """After the upserts, in the same transaction: store the new heads, anchor a run when due."""
        if self._sealed_touched:
            self._store_sealed()
            self._dirty = True
        heads, self._touched = self._touched, {}
        if heads:
            stored_chains = dict(
                self.con.execute(
                    "SELECT session_id, row_hash FROM chains "
                    "WHERE session_id IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(heads)],
                ).fetchall()
            )
            records = []
            for session_id, head in heads.items():
                chain_hash = stored_chains.get(session_id)  # the winner of the conditional chains upsert
                if head.event_seq == 0 and chain_hash is None:
                    continue
                records.append(
                    (
                        session_id,
                        head.event_seq,
                        head.event_hash,
                        chain_hash,
                        self.hasher.head_hash(session_id, head.event_seq, head.event_hash, chain_hash),
                    )
                )
            if records:
                names = ("session_id", "event_seq", "event_hash", "chain_hash", "head_hash")
                table = pa.table(
                    {n: [r[i] for r in records] for i, n in enumerate(names)},
                    schema=pa.schema([(n, pa.int64() if n == "event_seq" else pa.string()) for n in names]),
                )
                self.con.register("incoming_heads", table)
                try:
                    self.con.execute(self.upsert("integrity_heads", "session_id", "incoming_heads"))
                finally:
                    self.con.unregister("incoming_heads")
                self._dirty = True
        if self._dirty and now - self._last_anchor >= self.anchor_every_seconds:
            # a long-running writer (the loader) anchors periodically, not only at close
            self.anchor(ANCHOR if self.backend.several_writers else None)
            self._last_anchor = now

    def anchor(self, event: str | None = None) -> dict[str, Any] | None:
        """Write one ``integrity_runs`` row over the current heads (inside the caller's transaction): when
        something was written since the last one, or always for a lake writer's ``event`` (open, anchor,
        close). On a lake the anchor takes the writers' turn first: another writer's anchor committed
        meanwhile makes this transaction fail at commit, to be done again after it (never two runs with
        the same number, or two runs linked to the same one)."""
        if not self._dirty and event is None:
            return None
        if self.backend.several_writers:
            take_turn(self.con)
        sessions, digest = heads_digest(self.con, self.hasher)
        previous = self.con.execute(
            "SELECT run_seq, run_hash FROM integrity_runs ORDER BY run_seq DESC LIMIT 1"
        ).fetchone()
        record: dict[str, Any] = {
            "run_seq": (previous[0] + 1) if previous else 1,
            "run_id": self.run_id,
            "anchored_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "key_id": self.hasher.key_id,
            "sessions": sessions,
            "heads_digest": digest,
            "prev_run_hash": previous[1] if previous else self.hasher.digest("first run"),
            "unanchored_before": self.unanchored_before,
        }
        if event is not None:
            record[RUN_EVENT] = event
        record["run_hash"] = self.hasher.run_hash(record)
        names = [*RUN_FIELDS, *([RUN_EVENT] if event is not None else [])]
        self.con.execute(
            f"INSERT INTO integrity_runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [record[k] for k in names],
        )
        self._pending_manifest.append(record)
        return record

    def committed(self) -> None:
        """The transaction that wrote anchors committed: append them to the manifest file. Only now is
        what they cover anchored (a transaction rolled back, or lost to another writer, anchored nothing)."""
        if not self._pending_manifest:
            return
        self._dirty = False
        self.unanchored_before = False  # reported once, by this writer's first anchor
        lines = b"".join(orjson.dumps(record) + b"\n" for record in self._pending_manifest)
        with open(manifest_path(self.db_path), "ab") as handle:
            handle.write(lines)
        anchor = anchor_path_from_env()
        if anchor is not None:  # the copy an intruder on the database host cannot rewrite (docs/security.md)
            with open(anchor, "ab") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
        self._pending_manifest.clear()

    def rolled_back(self) -> None:
        self._pending_manifest.clear()
        self._touched = {}
        self._load_sealed()  # the sums in memory included the rolled-back rows

    def close(self) -> None:
        """Anchor what was written since the last anchor (its own small transaction); a lake writer always
        records its closing, done again while it loses the race to another writer's anchor."""
        if self.backend.several_writers:
            retrying(lambda: self._anchor_alone(CLOSE))
        elif self._dirty:
            self._anchor_alone(None)

    def _anchor_alone(self, event: str | None) -> None:
        self._anchoring(lambda: self.anchor(event))

    def _anchoring(self, work: Callable[[], object]) -> None:
        """``work`` (which anchors) in a transaction of its own: committed, then its runs go to the
        manifest; or rolled back, and the sums in memory with it."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            work()
            self.con.execute("COMMIT")
        except BaseException:
            rollback(self.con)
            self.rolled_back()
            raise
        self.committed()


RUN_FIELDS = (
    "run_seq",
    "run_id",
    "anchored_at",
    "key_id",
    "sessions",
    "heads_digest",
    "prev_run_hash",
    "run_hash",
    "unanchored_before",
)
RUN_EVENT = "run_event"  # a lake writer's runs only (see the module docstring)
OPEN, ANCHOR, CLOSE = "open", "anchor", "close"


def manifest_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + MANIFEST_SUFFIX)


def anchor_path_from_env(environ: Mapping[str, str] | None = None) -> Path | None:
    """The external anchor file (``CHAINWATCH_INTEGRITY_ANCHOR``): every run record is appended there too."""
    value = (os.environ if environ is None else environ).get(ANCHOR_ENV)
    return Path(value) if value else None


def _hash_number(value: Any) -> int:
    """A stored row_hash as a number for the digest sum; a missing or mangled one counts as 0."""
    try:
        return int(str(value), 16) if value is not None else 0
    except ValueError:
        return 0


def heads_digest(con: duckdb.DuckDBPyConnection, hasher: Hasher) -> tuple[int, str]:
    """(number of sessions, one hash over every session's head_hash in session_id order)."""
    total = hashlib.sha256()
    count = 0
    cursor = con.execute("SELECT session_id, head_hash FROM integrity_heads ORDER BY session_id")
    while chunk := cursor.fetchmany(50_000):
        for session_id, head_hash in chunk:
            total.update(orjson.dumps([session_id, head_hash]) + b"\n")  # unambiguous for any session id
            count += 1
    # The sealed tables' sums too (absent in files from before they were sealed: their digest is unchanged).
    sealed = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'integrity_tables'"
    ).fetchone()
    if not sealed or not sealed[0]:
        return count, hasher.digest("heads", str(count), total.hexdigest())
    for name, table_hash in con.execute(
        "SELECT table_name, table_hash FROM integrity_tables ORDER BY table_name"
    ).fetchall():
        total.update(orjson.dumps(["table", name, table_hash]) + b"\n")
    return count, hasher.digest("heads", str(count), total.hexdigest())


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`verify_db`.

    ``kind``: modified | deleted | inserted | reordered (rows), anchor (run records), key (wrong key).
    """

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.where}: {self.detail}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    sessions: int = 0
    rows: int = 0
    runs: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, where: str, detail: str) -> None:
        self.problems.append(Problem(kind, where, detail))


def _row_where(table: str, row: Mapping[str, Any]) -> str:
    return f"{table} {ID_COLUMNS[table]}={row.get(ID_COLUMNS[table])!r} session={row.get('session_id')!r}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _dict_rows(con: duckdb.DuckDBPyConnection, sql: str) -> Iterable[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    while chunk := cursor.fetchmany(20_000):
        for values in chunk:
            yield dict(zip(names, values, strict=True))


class _SessionCheck:
    """Walks one session's event rows in sequence order and reports every break of its hash chain."""

    # Hash computations the search for moved rows may spend in one verify: mass tampering (every row of
    # a big session edited) must not turn verify into hours of hashing; past it, rows are "modified".
    SEARCH_BUDGET = 500_000

    def __init__(self, report: Report, hasher: Hasher, columns: Mapping[str, Sequence[str]]) -> None:
        self.report, self.hasher, self.columns = report, hasher, columns
        self.search_budget = self.SEARCH_BUDGET
        self.seq_of_hash: dict[str, int] = {}  # row_hash -> stored position, of the session being walked

    def run(self, session_id: str, rows: list[tuple[str, dict[str, Any]]]) -> dict[int, str]:
        """Returns {seq: row_hash} of the rows that verified (for the chain row and head checks)."""
        hashes: dict[int, str] = {}

        def has_hash(tr: tuple[str, dict[str, Any]]) -> bool:
            return tr[1].get("row_hash") is not None and tr[1].get("integrity_seq") is not None

        for table, row in (tr for tr in rows if not has_hash(tr)):
            self.report.add(
                "inserted", _row_where(table, row), "row has no integrity hash (not written by chainwatch)"
            )
        tracked = sorted(filter(has_hash, rows), key=lambda tr: int(tr[1]["integrity_seq"]))
        max_seq = max((int(r["integrity_seq"]) for _t, r in tracked), default=0)
        self.seq_of_hash = {r["row_hash"]: int(r["integrity_seq"]) for _t, r in tracked}
        expected_seq, expected_prev = 1, self.hasher.genesis(session_id)
        for table, row in tracked:
            seq, where = int(row["integrity_seq"]), _row_where(table, row)
            content = canonical(row, self.columns[table])
            intact = (
                self.hasher.row_hash(table, session_id, seq, row["prev_hash"], content) == row["row_hash"]
            )
            if not intact:
                moved = self._original_position(table, session_id, row, content, max_seq)
                if moved is not None:
                    self.report.add(
                        "reordered", where, f"stored at position {seq}, written at position {moved}"
                    )
                else:
                    self.report.add("modified", where, f"content does not match its hash (position {seq})")
            if seq < expected_seq:
                self.report.add("inserted", where, f"a second row claims position {seq} of the session")
                continue
            if seq > expected_seq:
                missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
                self.report.add(
                    "deleted", f"session={session_id!r}", f"row(s) at position {missing} are missing"
                )
            elif row["prev_hash"] != expected_prev and intact:
                self.report.add(
                    "reordered",
                    where,
                    f"does not link to the row before it (position {seq}): inserted or moved",
                )
            if intact:
                hashes[seq] = row["row_hash"]
            expected_seq, expected_prev = seq + 1, row["row_hash"]
        return hashes

    def _original_position(
        self, table: str, session_id: str, row: Mapping[str, Any], content: bytes, max_seq: int
    ) -> int | None:
        """The position whose hash this unchanged row carries, when someone only moved it (bounded search)."""
        # First the likely one: right after the row its prev_hash names (where that row is stored now).
        predecessor = 0 if row["prev_hash"] == self.hasher.genesis(session_id) else None
        if predecessor is None:
            predecessor = self.seq_of_hash.get(row["prev_hash"])
        likely = [predecessor + 1] if predecessor is not None else []
        for candidate in itertools.chain(likely, range(1, min(max_seq, 10_000) + 1)):
            if self.search_budget <= 0:
                return None
            self.search_budget -= 1
            if (
                self.hasher.row_hash(table, session_id, candidate, row["prev_hash"], content)
                == row["row_hash"]
            ):
                return candidate
        return None


def verify_db(
    db_path: StoreTarget, key: bytes | None = None, manifest: Path | None = None, anchor: Path | None = None
) -> Report:
    """Check every chained row, session head, sealed table and run anchor of a chainwatch database or lake
    (opened read-only); ``anchor``: the external append-only copy of the run records, which a wiped or
    rolled-back database cannot match. A lake opened at a past snapshot (``--as-of``) is checked as it was
    then: run records written after it are not expected in it, and the rows it holds after its last anchor
    are checked by their hash chain alone."""
    report = Report()
    hasher = Hasher(key)
    past = not isinstance(db_path, Path) and db_path.as_of is not None
    trail = db_path if isinstance(db_path, Path) else db_path.trail_path
    con = open_read_only(db_path)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"integrity_heads", "integrity_runs"} <= tables:
            report.add(
                "anchor", str(db_path), "has no integrity tables: not written by a chainwatch with integrity"
            )
            return report
        if not _check_key(con, hasher, report):
            return report
        columns = {t: _columns(con, t) for t in CHAINED_TABLES}
        stripped = [t for t in CHAINED_TABLES if not set(INTEGRITY_COLUMNS) <= set(columns[t])]
        if stripped:  # a table dropped, or its hash columns removed: nothing of it can be checked
            for table in stripped:
                report.add(
                    "deleted",
                    table,
                    "the table or its integrity columns are gone: its rows cannot be checked",
                )
            return report
        _check_null_keys(con, report)
        heads = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT session_id, event_seq, event_hash, chain_hash, head_hash FROM integrity_heads "
                "WHERE session_id IS NOT NULL"
            ).fetchall()
        }
        chains = _chain_rows(con, heads, report)
        check = _SessionCheck(report, hasher, columns)
        seen: set[str] = set()
        # One ordered pass over each event table, merged by session: bounded memory, linear time.
        session_check = _GuardedSessionCheck(report, hasher, columns, check, heads)
        for session_id, rows in _sessions(con):
            report.rows += len(rows)
            session_check(session_id, rows, chains.get(session_id))
            seen.add(session_id)
        for session_id in sorted(set(chains) - seen):  # a chain row whose session has no stored event
            session_check(session_id, [], chains[session_id])
            seen.add(session_id)
        for session_id in sorted(set(heads) - seen):
            event_seq = heads[session_id][0]
            report.add(
                "deleted", f"session={session_id!r}", f"all {event_seq} stored row(s) of the session are gone"
            )
        report.sessions = len(seen)
        try:  # hand-edited run or digest records (a text where a number belongs): a finding, not a crash
            _check_sealed_tables(con, hasher, report, tables)
            _check_runs(con, hasher, report, manifest or manifest_path(trail), anchor, past=past)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            report.add(
                "modified", "integrity_runs", f"integrity records cannot be read ({type(exc).__name__})"
            )
    finally:
        con.close()
    return report


@dataclass
class _GuardedSessionCheck:
    """One session's rows, chain row and head. Verify never crashes on what it reads: a value of the wrong
    type in a hand-edited row (text where a position belongs, NULL in a NOT NULL column of a recreated
    table) is itself a finding."""

    report: Report
    hasher: Hasher
    columns: Mapping[str, Sequence[str]]
    check: _SessionCheck
    heads: Mapping[str, tuple[Any, ...]]

    def __call__(
        self, session_id: str, rows: list[tuple[str, dict[str, Any]]], chain: dict[str, Any] | None
    ) -> None:
        try:
            hashes = self.check.run(session_id, rows) if rows else {}
            _check_chain_row(self.report, self.hasher, self.columns, session_id, chain, hashes)
            _check_head(self.report, self.hasher, session_id, self.heads.get(session_id), rows, chain)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self.report.add(
                "modified",
                f"session={session_id!r}",
                f"integrity values cannot be read ({type(exc).__name__})",
            )


def _check_null_keys(con: duckdb.DuckDBPyConnection, report: Report) -> None:
    """Rows whose session (or id) is NULL belong to no chain: chainwatch never writes them."""
    for table in CHAINED_TABLES:
        id_column = ID_COLUMNS[table]
        (count,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE session_id IS NULL OR {id_column} IS NULL"
        ).fetchone() or (0,)
        if count:
            report.add(
                "inserted",
                table,
                f"{count} row(s) with a NULL session_id or {id_column} (not written by chainwatch)",
            )


def _chain_rows(
    con: duckdb.DuckDBPyConnection, heads: Mapping[str, tuple[Any, ...]], report: Report
) -> dict[str, dict[str, Any]]:
    """One chain row per session. A second row for a session (possible once the key constraint is dropped)
    is reported; the row kept for the checks is the one the session's head names, else the first."""
    by_session: dict[str, list[dict[str, Any]]] = {}
    for row in _dict_rows(con, "SELECT * FROM chains WHERE session_id IS NOT NULL"):
        by_session.setdefault(row["session_id"], []).append(row)
    chosen: dict[str, dict[str, Any]] = {}
    for session_id, rows in by_session.items():
        head = heads.get(session_id)
        named = head[2] if head else None
        keep = next((r for r in rows if named is not None and r.get("row_hash") == named), rows[0])
        chosen[session_id] = keep
        for extra in rows:
            if extra is not keep:
                report.rows += 1
                report.add(
                    "inserted",
                    _row_where("chains", extra),
                    "a second chain row for the session (forged summary)",
                )
    return chosen


def _check_sealed_tables(
    con: duckdb.DuckDBPyConnection, hasher: Hasher, report: Report, tables: set[str]
) -> None:
    """Every row of findings, alerts and dead_letters against its hash, and each table against its sum."""
    if "integrity_tables" not in tables:
        return
    sums = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT table_name, row_count, digest, table_hash FROM integrity_tables"
        ).fetchall()
    }
    for table, id_column in SEALED_TABLES.items():
        if table not in sums:
            continue  # no writer since these tables were sealed: nothing to compare with
        row_count, digest, table_hash = sums[table]
        where = f"integrity_tables table={table!r}"
        if hasher.table_hash(table, int(row_count), str(digest)) != table_hash:
            report.add("modified", where, "the table's digest record does not match its hash")
            continue
        columns = _columns(con, table)
        if "row_hash" not in columns:
            report.add(
                "deleted", table, "the table or its row_hash column is gone: its rows cannot be checked"
            )
            continue
        count, total = 0, 0
        for row in _dict_rows(con, f"SELECT * FROM {table}"):
            report.rows += 1
            row_where = f"{table} {id_column}={row.get(id_column)!r}"
            stored = row.get("row_hash")
            if stored is None:
                report.add("inserted", row_where, "row has no integrity hash (not written by chainwatch)")
                continue
            if hasher.sealed_row_hash(table, canonical(row, columns)) != stored:
                report.add("modified", row_where, "content does not match its hash")
            count, total = count + 1, total + _hash_number(stored)
        if count != int(row_count):
            kind = "deleted" if count < int(row_count) else "inserted"
            report.add(kind, table, f"{count} row(s) stored, {row_count} written by chainwatch")
        elif f"{total % _DIGEST_MODULUS:064x}" != digest:
            report.add("modified", table, "the rows are not the ones chainwatch wrote (rows replaced)")


def _sessions(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """(session id, its rows of every event table), sessions in id order; rows without a session are
    reported by _check_null_keys."""

    def tagged(table: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        rows = cursor(con).execute(
            f"SELECT * FROM {table} WHERE session_id IS NOT NULL "
            "ORDER BY session_id, integrity_seq NULLS LAST"
        )
        names = [d[0] for d in rows.description]
        while chunk := rows.fetchmany(20_000):
            for values in chunk:
                row = dict(zip(names, values, strict=True))
                yield row["session_id"], table, row

    merged = heapq.merge(*(tagged(t) for t in CHAINED_EVENT_TABLES), key=lambda item: item[0])
    for session_id, group in itertools.groupby(merged, key=lambda item: item[0]):
        yield session_id, [(table, row) for _s, table, row in group]


def _check_key(con: duckdb.DuckDBPyConnection, hasher: Hasher, report: Report) -> bool:
    used = {r[0] for r in con.execute("SELECT DISTINCT key_id FROM integrity_runs").fetchall()}
    if not used or used == {hasher.key_id}:
        return True
    wrote = ", ".join(sorted(k or "none" for k in used))
    report.add(
        "key",
        "integrity_runs",
        f"written with integrity key id {wrote}, verifying with {hasher.key_id or 'no key'}: set "
        f"{KEY_ENV} (or {KEY_FILE_ENV}) to the key the writer used",
    )
    return False


def _check_chain_row(
    report: Report,
    hasher: Hasher,
    columns: Mapping[str, Sequence[str]],
    session_id: str,
    row: dict[str, Any] | None,
    event_hashes: Mapping[int, str],
) -> None:
    if row is None:
        return
    report.rows += 1
    where = _row_where("chains", row)
    if row.get("row_hash") is None or row.get("integrity_seq") is None:
        report.add("inserted", where, "chain row has no integrity hash (not written by chainwatch)")
        return
    seq = int(row["integrity_seq"])
    expected = hasher.row_hash("chains", session_id, seq, row["prev_hash"], canonical(row, columns["chains"]))
    if expected != row["row_hash"]:
        report.add("modified", where, "chain summary does not match its hash")
    elif seq == 0 and row["prev_hash"] != hasher.genesis(session_id):
        report.add("reordered", where, "chain summary does not link to its session")
    elif seq > 0 and event_hashes.get(seq) not in (None, row["prev_hash"]):
        report.add(
            "reordered", where, f"chain summary does not link to the session's event at position {seq}"
        )


def _check_head(
    report: Report,
    hasher: Hasher,
    session_id: str,
    head: tuple[Any, ...] | None,
    rows: list[tuple[str, dict[str, Any]]],
    chain: dict[str, Any] | None,
) -> None:
    where = f"session={session_id!r}"
    if head is None:
        report.add("inserted", where, "session has rows but no recorded head (added outside chainwatch)")
        return
    event_seq, event_hash, chain_hash, head_hash = int(head[0]), head[1], head[2], head[3]
    if hasher.head_hash(session_id, event_seq, event_hash, chain_hash) != head_hash:
        report.add("modified", f"integrity_heads {where}", "head record does not match its hash")
        return
    stored_max = max(
        (int(r["integrity_seq"]) for _t, r in rows if r.get("integrity_seq") is not None), default=0
    )
    if stored_max < event_seq:
        missing = f"{stored_max + 1}" if stored_max + 1 == event_seq else f"{stored_max + 1}..{event_seq}"
        report.add("deleted", where, f"the session's last row(s), position {missing}, are missing")
    elif stored_max > event_seq:
        report.add("inserted", where, f"row(s) after the recorded head (position {event_seq}) were added")
    else:
        last = [r for _t, r in rows if r.get("integrity_seq") == event_seq]
        if event_seq and last and all(r.get("row_hash") != event_hash for r in last):
            report.add("modified", where, f"the row at the head position {event_seq} is not the one written")
    if chain_hash is not None and chain is None:
        report.add("deleted", where, "the session's chain summary row is missing")
    elif chain is not None and chain.get("row_hash") is not None and chain.get("row_hash") != chain_hash:
        report.add("modified", f"chains session={session_id!r}", "chain summary is not the one last written")


def _check_runs(
    con: duckdb.DuckDBPyConnection,
    hasher: Hasher,
    report: Report,
    manifest: Path,
    anchor: Path | None = None,
    *,
    past: bool = False,
) -> None:
    # run_event: a lake writer's runs; a DuckDB file from before it has no such column
    names = [*RUN_FIELDS, *([RUN_EVENT] if RUN_EVENT in _columns(con, "integrity_runs") else [])]
    runs = [
        dict(zip(names, r, strict=True))
        for r in con.execute(f"SELECT {', '.join(names)} FROM integrity_runs ORDER BY run_seq").fetchall()
    ]
    report.runs = len(runs)
    prev = hasher.digest("first run")
    open_writers: set[str] = set()  # lake writers that recorded their opening and not yet their closing
    for expected_seq, run in enumerate(runs, start=1):
        run["anchored_at"] = _plain(run["anchored_at"])
        where = f"integrity_runs run_seq={run['run_seq']}"
        if run["run_seq"] != expected_seq:
            report.add("deleted", where, f"anchor run(s) before it are missing (expected run {expected_seq})")
        if run["prev_run_hash"] != prev or hasher.run_hash(run) != run["run_hash"]:
            report.add(
                "modified", where, "anchor run does not match its hash or does not link to the run before"
            )
        if run["unanchored_before"]:
            _check_unanchored_start(report, where, runs, expected_seq - 1, open_writers, past=past)
        if run.get(RUN_EVENT) == OPEN:
            open_writers.add(run["run_id"])
        elif run.get(RUN_EVENT) == CLOSE:
            open_writers.discard(run["run_id"])
        prev = run["run_hash"]
    heads_now = heads_digest(con, hasher)
    if past:  # a snapshot taken while a writer ran: rows after its last anchor are normal there
        pass
    elif runs and (runs[-1]["sessions"], runs[-1]["heads_digest"]) != heads_now:
        report.add(
            "anchor",
            f"integrity_runs run_seq={runs[-1]['run_seq']}",
            "session heads changed after the last anchor (rows written after it: an unclean stop of the "
            "writer, or tampering)",
        )
    elif not runs and heads_now[0]:
        report.add(
            "anchor",
            "integrity_runs",
            "no anchor run for the stored sessions (never closed cleanly, or deleted)",
        )
    _check_manifest_file(report, runs, manifest, past=past)
    if anchor is not None:
        if not anchor.exists():
            report.add(
                "anchor", str(anchor), "the anchor file is missing: it must exist once a writer has run"
            )
        elif not anchor.read_bytes().strip():
            report.add("anchor", str(anchor), "the anchor file is empty: no writer has recorded a run in it")
        elif anchor.resolve() != manifest.resolve():
            _check_manifest_file(report, runs, anchor, past=past)


def _check_unanchored_start(
    report: Report,
    where: str,
    runs: Sequence[Mapping[str, Any]],
    index: int,
    open_writers: set[str],
    *,
    past: bool,
) -> None:
    """A writer started on heads the last anchor did not cover. Alone, that is an unclean stop before it or
    a change made between runs. On a lake, beside writers that were open then (their latest writes not
    anchored yet), it is expected, as long as each of them anchored again afterwards: that anchor covers
    the same heads. One that never did stopped uncleanly (or still runs: verify again once it stops)."""
    run = runs[index]
    beside = open_writers - {run["run_id"]} if run.get(RUN_EVENT) == OPEN else set()
    if not beside:
        report.add(
            "anchor",
            where,
            "this writer started on session heads that differed from the anchor before it: the previous "
            "writer stopped uncleanly, or the file was changed between runs",
        )
        return
    silent = beside - {later["run_id"] for later in runs[index + 1 :]}
    if silent and not past:  # at a past snapshot, their later anchors are not in it yet
        report.add(
            "anchor",
            where,
            "this writer started on session heads that differed from the last anchor while writer(s) "
            f"{', '.join(sorted(silent))} were running, and they recorded no anchor after that: they "
            "stopped uncleanly, or still run (verify again once they have stopped)",
        )


def _check_manifest_file(
    report: Report, runs: list[dict[str, Any]], manifest: Path, *, past: bool = False
) -> None:
    """The run records copied beside (or away from) the database must agree with the table (at a past
    snapshot: the records up to its last run; the later ones were written after it)."""
    if not manifest.exists():
        if runs:
            report.add(
                "anchor",
                str(manifest),
                "manifest file is missing (keep it with the database, or pass --manifest)",
            )
        return
    recorded: dict[int, dict[str, Any]] = {}
    for number, line in enumerate(manifest.read_bytes().splitlines(), start=1):
        try:
            record = orjson.loads(line)
            recorded[int(record["run_seq"])] = record
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            report.add("modified", f"{manifest}:{number}", "line is not a run record")
    in_db = {int(r["run_seq"]): r for r in runs}
    if past:
        last = max(in_db, default=0)
        recorded = {seq: record for seq, record in recorded.items() if seq <= last}
    for run_seq, record in sorted(recorded.items()):
        run = in_db.get(run_seq)
        if run is None:
            report.add(
                "deleted",
                f"integrity_runs run_seq={run_seq}",
                f"recorded in {manifest.name} but not in the database (rolled back?)",
            )
        elif record.get("run_hash") != run["run_hash"]:
            report.add("modified", f"integrity_runs run_seq={run_seq}", f"differs from {manifest.name}")
    for run_seq in sorted(set(in_db) - set(recorded)):
        report.add("inserted", f"integrity_runs run_seq={run_seq}", f"not recorded in {manifest.name}")
