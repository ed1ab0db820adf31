"""The DuckDB store: DDL from the schemas package, batched Arrow upserts by id, one transaction
per write. The replay runner and the Kafka loader are its only writers.

Two backends behind the one class: a DuckDB file (the embedded default) or a DuckLake (``--lake``, for the
streaming loader, read by everyone while it writes): same tables, views, upserts by id and integrity chain;
``streams/store/backend.py`` holds the SQL that differs, ``streams/store/lake.py`` the lake's connection.
"""

from __future__ import annotations

import importlib.resources
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
import pyarrow as pa

from schemas.adapters.base import DeadLetter
from schemas.alerts import Alert, ChainSummary, Finding
from schemas.events import AnyEvent, CredentialEvent
from schemas.ids import stable_hash
from streams.store import lake as lakes
from streams.store.access import StoreTarget, connect, rollback
from streams.store.backend import DUCKDB_FILE, DUCKLAKE, Backend
from streams.store.integrity import DDL as INTEGRITY_DDL
from streams.store.integrity import IntegrityWriter
from streams.store.views import create_views, views_sql

TABLES = ("events", "credentials", "chains", "findings", "alerts", "dead_letters")
PRIMARY_KEYS = {
    "events": "event_id",
    "credentials": "event_id",
    "chains": "session_id",
    "findings": "finding_id",
    "alerts": "alert_id",
    "dead_letters": "dead_letter_id",
}

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    "VARCHAR[]": pa.list_(pa.string()),
}


def schema_sql() -> str:
    return (importlib.resources.files("schemas") / "sql" / "schema.sql").read_text(encoding="utf-8")


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


# Rows of events are read straight from the model's fields (``__dict__``: the validated values, no copy of
# the tree as model_dump makes); only the values a column stores in another shape are converted.
def event_row(event: AnyEvent) -> dict[str, Any]:
    data = dict(event.__dict__)
    data["arguments"] = _json(data.get("arguments"))
    data["task_scope"] = list(data["task_scope"]) if data.get("task_scope") is not None else None
    data["action"] = str(data["action"]) if data.get("action") is not None else None
    declaration = data.get("tool_declaration")
    data["tool_declaration"] = _json(declaration.model_dump()) if declaration is not None else None
    capabilities = data.get("capabilities")
    data["capabilities"] = [str(c) for c in capabilities] if capabilities is not None else None
    return data


def credential_row(event: CredentialEvent) -> dict[str, Any]:
    data = dict(event.__dict__)
    data["scopes"] = list(data["scopes"])
    return data


def chain_row(chain: ChainSummary) -> dict[str, Any]:
    data = chain.model_dump(mode="json")
    for name in ("decisions", "outcomes", "credentials"):
        data[name] = _json(data[name])
    for name in ("started_at", "last_event_at", "ended_at"):
        data[name] = getattr(chain, name)
    return data


def finding_row(finding: Finding | Alert) -> dict[str, Any]:
    data = finding.model_dump(mode="python")
    data["mappings"] = _json(finding.mappings.model_dump(mode="json", exclude={"schema_version"}))
    data["details"] = _json(data["details"])
    data["event_ids"] = list(data["event_ids"])
    data["credential_ids"] = list(data["credential_ids"])
    return data


def alert_row(alert: Alert, suppression: tuple[str, str] | None = None) -> dict[str, Any]:
    data = finding_row(alert)
    data["suppressed_by"], data["suppression_reason"] = suppression or (None, None)
    return data


def dead_letter_row(letter: DeadLetter, received_at: datetime | None = None) -> dict[str, Any]:
    return {
        "dead_letter_id": stable_hash(letter.origin, str(letter.record_no), letter.stage, letter.raw),
        "origin": letter.origin,
        "record_no": letter.record_no,
        "stage": letter.stage,
        "reason": letter.reason,
        "raw": letter.raw,
        "received_at": received_at or datetime.now(UTC),
    }


@dataclass
class Batch:
    """Everything one write puts in the database, in one transaction."""

    events: list[AnyEvent] = field(default_factory=list)
    chains: list[ChainSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # alert id -> (rule id, reason) of the suppression rule that matched it (streams/alerts/suppression.py)
    suppressions: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return (
            len(self.events)
            + len(self.chains)
            + len(self.findings)
            + len(self.alerts)
            + len(self.dead_letters)
        )


class Store:
    def __init__(
        self, target: StoreTarget | str, *, read_only: bool = False, audit_trail: bool = True
    ) -> None:
        """``target``: a DuckDB file, or a :class:`~streams.store.lake.Lake`. ``audit_trail=False`` opens it
        for the triage writers (verdicts only): the DDL is applied, but no trail writer starts, so no
        integrity key is needed and :meth:`write` is refused."""
        self.target: StoreTarget = Path(target) if isinstance(target, str) else target
        self.backend: Backend = DUCKLAKE if isinstance(self.target, lakes.Lake) else DUCKDB_FILE
        # missing file, no permission, another process holding it: a DatabaseUnavailable saying so
        self.con = connect(self.target, read_only=read_only)
        self._integrity: IntegrityWriter | None = None
        if not read_only:
            try:
                self._apply_ddl()
                if audit_trail:  # a bad or mismatched integrity key fails here: the file is released below
                    self._integrity = IntegrityWriter(self.con, self.path, backend=self.backend)
            except BaseException:
                self.con.close()
                raise
        self._schemas = {table: self._arrow_schema(table) for table in TABLES}

    @property
    def path(self) -> Path:
        """The DuckDB file, or the file the lake's integrity manifest is named after."""
        return self.target if isinstance(self.target, Path) else self.target.trail_path

    def _apply_ddl(self) -> None:
        if isinstance(self.target, lakes.Lake):  # once per DDL version: each statement is a lake snapshot
            statements = [schema_sql(), *INTEGRITY_DDL, views_sql()]
            lakes.retrying(lambda: lakes.ensure_schema(self.con, statements))  # two loaders starting at once
            return
        self.con.execute(schema_sql())
        IntegrityWriter.install(self.con)  # hash-chain columns and tables (streams/store/integrity.py)
        create_views(self.con)  # analytic views for data teams (schemas/sql/views.sql)

    def _arrow_schema(self, table: str) -> pa.Schema:
        columns = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_catalog = current_database() ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns])

    def close(self) -> None:
        try:
            if self._integrity is not None:
                self._integrity.close()  # anchor this run's session heads
        finally:
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing
    def write(self, batch: Batch) -> None:
        """Upsert the whole batch in one transaction (all or nothing); on a lake, a transaction that lost a
        race with another writer's commit is done again from the batch on the new snapshot (all or nothing:
        nothing is lost or doubled)."""
        if self.backend is DUCKDB_FILE:
            self._write_once(batch)
        else:
            lakes.retrying(lambda: self._write_once(batch))

    def _write_once(self, batch: Batch) -> None:
        tool_events = [event_row(e) for e in batch.events if not isinstance(e, CredentialEvent)]
        credentials = [credential_row(e) for e in batch.events if isinstance(e, CredentialEvent)]
        # Later summaries of the same session win inside one batch.
        chains = [chain_row(c) for c in {c.session_id: c for c in batch.chains}.values()]
        if self._integrity is None:
            raise ValueError(
                f"{self.target} was opened read-only or for triage only; events, chains and alerts are "
                "written through a Store opened with its audit trail"
            )
        self.con.execute("BEGIN TRANSACTION")
        try:
            if self.backend is DUCKLAKE:  # other loaders may have moved the sealed tables' sums since
                self._integrity.reload()
            # Integrity columns; already-stored event ids are dropped (events are immutable once stored).
            kept = self._integrity.prepare(
                {"events": tool_events, "credentials": credentials},
                chains,
                {t: self._schemas[t].names for t in ("events", "credentials", "chains")},
            )
            # New ids only (prepare dropped stored ones and repeats): inserted without an upsert's lookups
            # (on a lake, appended instead of merged: a MERGE scans the table for the ids).
            self._insert("events", kept["events"])
            self._insert("credentials", kept["credentials"])
            self._upsert_chains(chains)
            derived = {
                "findings": [finding_row(f) for f in batch.findings],
                "alerts": [alert_row(a, batch.suppressions.get(a.alert_id)) for a in batch.alerts],
                "dead_letters": [dead_letter_row(d) for d in batch.dead_letters],
            }
            for table, rows in derived.items():
                unique = list({row[PRIMARY_KEYS[table]]: row for row in rows}.values())  # last one wins
                self._integrity.seal(table, unique, self._schemas[table].names)  # row_hash, table sums
                self._upsert(table, unique)
            self._integrity.finish(time.monotonic())
            self.con.execute("COMMIT")
        except BaseException:
            rollback(self.con)
            self._integrity.rolled_back()
            raise
        self._integrity.committed()

    def _table(self, table: str, rows: Sequence[dict[str, Any]], *, unique: bool = False) -> pa.Table:
        """``rows`` as Arrow, converted row by row in C++ (``from_pylist``: missing keys are NULL); the last
        row of an id wins unless the caller says they are ``unique`` already."""
        if not unique:
            rows = list({row[PRIMARY_KEYS[table]]: row for row in rows}.values())
        return pa.Table.from_pylist(rows, schema=self._schemas[table])

    def _upsert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        self._load(table, rows, self.backend.upsert(table, PRIMARY_KEYS[table], "incoming"))

    def _insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """``rows`` have new, distinct ids (the integrity writer dropped stored ones and repeats)."""
        self._load(table, rows, f"INSERT INTO {table} SELECT * FROM incoming", unique=True)

    def _load(self, table: str, rows: Sequence[dict[str, Any]], sql: str, *, unique: bool = False) -> None:
        if not rows:
            return
        arrow = self._table(table, rows, unique=unique)
        self.con.register("incoming", arrow)
        try:
            self.con.execute(sql)
        finally:
            self.con.unregister("incoming")

    def _upsert_chains(self, rows: Sequence[dict[str, Any]]) -> None:
        """A redelivered older summary must not overwrite a newer one: keep the most advanced."""
        columns = self._schemas["chains"].names
        self._load(
            "chains", rows, self.backend.upsert("chains", "session_id", "incoming", columns, _more_advanced)
        )

    # -- reading
    def counts(self) -> dict[str, int]:
        return {t: int(self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}  # type: ignore[index]

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()


def _more_advanced(new: str, stored: str) -> str:
    return (
        f"{new}.event_count > {stored}.event_count "
        f"OR ({new}.event_count = {stored}.event_count AND ({new}.closed OR NOT {stored}.closed))"
    )


_STORAGE_ONLY_COLUMNS = frozenset({"integrity_seq", "prev_hash", "row_hash"})


def event_from_row(kind: str, row: dict[str, Any]) -> AnyEvent:
    """A stored row (of `events` when kind is "event", of `credentials` when "credential") as its event."""
    from schemas.events import event_from_dict

    # The integrity columns (streams/store/integrity.py) belong to the stored row, not to the event.
    data = {k: v for k, v in row.items() if v is not None and k not in _STORAGE_ONLY_COLUMNS}
    if kind == "credential":
        data["kind"] = "credential"
    else:
        for name in ("arguments", "tool_declaration"):
            if name in data:
                data[name] = orjson.loads(data[name])
    if data.get("kind") == "session":
        for name in (
            "tool",
            "target",
            "environment",
            "arguments",
            "outcome",
            "decision",
            "untrusted_content",
            "tool_declaration",
            "capabilities",
        ):
            data.pop(name, None)
    elif data.get("kind") == "tool_call":
        data.pop("permission_mode", None)
    return event_from_dict(data)


class AlertHooks(Protocol):
    """What happens to a batch's alerts around its write (streams/alerts/delivery/pipeline.py)."""

    def before_write(self, store: Store, batch: Batch) -> None: ...

    def after_write(self, store: Store, batch: Batch) -> None: ...


Written = TypeVar("Written")


def write_with_hooks(
    store: Store, batch: Batch, hooks: AlertHooks | None, write: Callable[[Store, Batch], Written]
) -> Written:
    """``write`` the batch as every writer (replay, loader, receiver) does: suppression marks the alerts
    before they are stored, and only once the write committed do they go to the delivery spool."""
    if hooks is not None:
        hooks.before_write(store, batch)
    written = write(store, batch)
    if hooks is not None:
        hooks.after_write(store, batch)
    return written


def load_events(store: Store, since: datetime | None = None) -> list[AnyEvent]:
    """Rebuild the stored history as events (for backtests), in event-time order."""
    events: list[AnyEvent] = []
    where = "WHERE event_time >= ?" if since else ""
    params = [since] if since else []
    for table, kind in (("events", "event"), ("credentials", "credential")):
        cursor = store.con.execute(f"SELECT * FROM {table} {where}", params)
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            events.append(event_from_row(kind, dict(zip(names, row, strict=True))))
    events.sort(key=lambda e: e.event_time)
    return events
