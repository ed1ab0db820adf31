"""The DuckLake backend: the store's tables in a lake (a catalog database plus Parquet data files).

A DuckDB file lets one process write it and nobody read it meanwhile; a DuckLake lets the loader commit
snapshots while any number of readers (``chainwatch alerts``/``show``/``ui``, notebooks, BI tools) read the
last committed one, and every committed snapshot stays queryable (time travel, ``--as-of``). The catalog is
a SQLite file for one host (put in WAL mode here, so readers never wait for a commit) or a PostgreSQL
database for several hosts and several loaders; the data files go to ``DATA_PATH`` (docs/lake.md).

The extension binaries come from PyPI packages pinned to the installed DuckDB (pyproject.toml) and are
loaded from the package path with DuckDB's signature check left on: nothing is downloaded at run time, and
a missing, mismatched or altered package is an error that names it.

What DuckLake does not have, and how the store does without it: no PRIMARY KEY or UNIQUE constraint, so no
``INSERT OR REPLACE``/``ON CONFLICT``; the store upserts by id with ``MERGE INTO`` instead
(``streams/store/backend.py``), and the DDL keeps the key columns ``NOT NULL`` (:func:`lake_ddl`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from schemas.errors import ChainwatchError

Result = TypeVar("Result")

LAKE_SETTING = "--lake (or CHAINWATCH_LAKE)"
ALIAS = "chainwatch"  # the name the lake is attached under in chainwatch's own connections
SCHEMA_MARKER = "chainwatch_schema"  # one row per DDL version applied (see ensure_schema)
TURN_TABLE = "chainwatch_turns"  # one row that writers update to take turns (see take_turn)
# Created with the DDL (in its one transaction, so once); a second row would do no harm: a turn updates all.
_TURN_DDL = [
    f"CREATE TABLE IF NOT EXISTS {TURN_TABLE} (turns BIGINT NOT NULL)",
    f"INSERT INTO {TURN_TABLE} SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {TURN_TABLE})",
]
POSTGRES_PREFIXES = ("postgres:", "postgresql:")
# extension -> the PyPI package that ships its signed binary for this DuckDB version
EXTENSION_PACKAGES = {
    "ducklake": "duckdb-extension-ducklake",
    "sqlite_scanner": "duckdb-extension-sqlite-scanner",
    "postgres_scanner": "duckdb-extension-postgres-scanner",
    "parquet": "duckdb-extension-parquet",
}
_PRIMARY_KEY = re.compile(r"\bPRIMARY\s+KEY\b", re.IGNORECASE)


class LakeError(ChainwatchError):
    """The lake cannot be opened or written as asked; the message names the setting and the fix."""


class ExtensionError(LakeError):
    """A DuckDB extension the lake needs is missing, built for another DuckDB, or fails its signature."""


@dataclass(frozen=True)
class AsOf:
    """A committed snapshot to read: its number, or the last one committed at a time."""

    version: int | None = None
    time: datetime | None = None

    def __str__(self) -> str:
        return f"snapshot {self.version}" if self.version is not None else f"{self.time:%Y-%m-%d %H:%M:%S%z}"


def parse_utc_time(text: str) -> datetime:
    """An ISO 8601 date or datetime (``Z`` allowed), UTC when it has no offset; ValueError otherwise."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_as_of(value: str) -> AsOf:
    """``--as-of``: a snapshot number (``42``) or a time (ISO 8601 date or datetime, UTC without offset)."""
    if value.strip().isdigit():
        return AsOf(version=int(value.strip()))
    try:
        return AsOf(time=parse_utc_time(value))
    except ValueError:
        raise LakeError(
            f"--as-of {value!r} is neither a snapshot number nor a time; give e.g. 42, "
            "2026-01-05T14:05:00Z or 2026-01-05 (`chainwatch db snapshots --lake …` lists them)"
        ) from None


@dataclass(frozen=True)
class Lake:
    """Where a lake lives: ``catalog`` is a SQLite file path, or ``postgres:CONNINFO`` (libpq key=value
    pairs, e.g. ``postgres:dbname=chainwatch host=db``); ``data_path`` the folder of its Parquet files
    (needed to create the lake; afterwards the catalog remembers it)."""

    catalog: str
    data_path: Path | None = None
    as_of: AsOf | None = None

    @property
    def is_postgres(self) -> bool:
        return self.catalog.startswith(POSTGRES_PREFIXES)

    @property
    def sqlite_path(self) -> Path | None:
        return None if self.is_postgres else Path(self.catalog.removeprefix("sqlite:"))

    @property
    def uri(self) -> str:
        if self.is_postgres:
            return "ducklake:postgres:" + self.catalog.split(":", 1)[1]
        return f"ducklake:sqlite:{self.sqlite_path}"

    @property
    def default_data_path(self) -> Path | None:
        """``CATALOG.files/`` beside a SQLite catalog; a PostgreSQL lake needs ``--lake-data``."""
        sqlite = self.sqlite_path
        return sqlite.with_name(sqlite.name + ".files") if sqlite is not None else None

    @property
    def trail_path(self) -> Path:
        """The file whose name the integrity manifest takes (``….integrity.jsonl``): the SQLite catalog's,
        or ``chainwatch`` in the data folder of a PostgreSQL lake."""
        sqlite = self.sqlite_path
        if sqlite is not None:
            return sqlite
        if self.data_path is None:
            raise LakeError(
                f"{self}: a PostgreSQL lake keeps its integrity manifest in its data folder; give it with "
                "--lake-data (or CHAINWATCH_LAKE_DATA)"
            )
        return self.data_path / "chainwatch"

    @property
    def extensions(self) -> tuple[str, ...]:
        return ("parquet", "ducklake", "postgres_scanner" if self.is_postgres else "sqlite_scanner")

    def at(self, as_of: AsOf | None) -> Lake:
        return replace(self, as_of=as_of)

    def __str__(self) -> str:
        if self.is_postgres:  # never print a password that may be in the conninfo
            shown = re.sub(r"password=\S+", "password=…", self.catalog)
        else:
            shown = str(self.sqlite_path)
        return f"lake {shown}" + (f" at {self.as_of}" if self.as_of else "")


# --------------------------------------------------------------------------- extensions


def extension_file(name: str) -> Path:
    """The signed binary of extension ``name`` inside its PyPI package, for the installed DuckDB."""
    package = EXTENSION_PACKAGES[name]
    module = package.replace("-", "_")
    wanted = duckdb.__version__
    install = f"pip install '{package}=={wanted}'"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ExtensionError(
            f"the lake needs the DuckDB extension {name!r}, shipped by the PyPI package {package}, which "
            f"is not installed: {install} (or reinstall chainwatch, which pins it)"
        )
    try:
        shipped = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        shipped = "unknown"
    binary = Path(spec.origin).parent / "extensions" / f"v{wanted}" / f"{name}.duckdb_extension"
    if shipped != wanted or not binary.is_file():
        raise ExtensionError(
            f"the PyPI package {package} {shipped} does not ship the {name!r} extension for DuckDB {wanted} "
            f"(its binary loads only into the DuckDB it was built for): {install}"
        )
    return binary


def load_extension(con: duckdb.DuckDBPyConnection, name: str, binary: Path | None = None) -> None:
    """Load ``name`` from its package (signature checked by DuckDB); statically linked ones are kept."""
    found = con.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = ?", [name]).fetchone()
    if found is not None and found[0]:
        return  # built into this DuckDB wheel (parquet, json): nothing to load
    path = binary or extension_file(name)
    try:
        con.execute(f"LOAD {_literal(str(path))}")
    except duckdb.Error as exc:
        package = EXTENSION_PACKAGES[name]
        raise ExtensionError(
            f"DuckDB refused the {name!r} extension of the PyPI package {package} ({path}): "
            f"{str(exc).splitlines()[0]}; reinstall it: pip install --force-reinstall "
            f"'{package}=={duckdb.__version__}'"
        ) from None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- connections


def open_lake(lake: Lake, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to an in-memory DuckDB with the lake attached as ``chainwatch`` and in use, so the
    store's SQL (unqualified table names) runs unchanged. ``lake.as_of`` attaches that snapshot."""
    sqlite = lake.sqlite_path
    if sqlite is not None and read_only and not sqlite.is_file():
        raise LakeError(
            f"{sqlite}: no such lake catalog; give the catalog `chainwatch load --lake` wrote with "
            f"{LAKE_SETTING}"
        )
    if lake.as_of is not None and not read_only:
        raise LakeError(f"{lake}: a past snapshot can only be read; drop --as-of to write")
    creating = sqlite is not None and not sqlite.exists()
    if sqlite is not None and creating and not read_only:
        _prepare_sqlite_catalog(sqlite)
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for name in lake.extensions:
            load_extension(con, name)
        data_path = lake.data_path or (lake.default_data_path if creating else None)
        if data_path is not None and not read_only:
            data_path.mkdir(parents=True, exist_ok=True)
        attach = attach_sql(lake, read_only=read_only, data_path=None if read_only else data_path)
        _attach(con, lake, attach)
        con.execute(f"USE {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


_NOT_CREATED_YET = "creating a new DuckLake is explicitly disabled"  # DuckDB: read-only, no DuckLake tables


def _attach(con: duckdb.DuckDBPyConnection, lake: Lake, attach: str, attempts: int = 10) -> None:
    """ATTACH the lake. Two writers creating a new PostgreSQL-catalogued lake at once (two loaders started
    together) both try to create DuckLake's catalog tables, and the one that comes second fails on them;
    attaching again, it finds the catalog the first one created. A reader that comes while the first
    loader is creating the lake finds the catalog file without DuckLake's tables in it: it waits for them
    the same way (a few seconds), then says what the file is."""
    for attempt in range(attempts):
        try:
            con.execute(attach)
            return
        except duckdb.Error as exc:
            text = str(exc)
            racing = (
                "Failed to initialize DuckLake" in text
                and any(sign in text for sign in ("duplicate key value", "already exists"))
            ) or _NOT_CREATED_YET in text
            if not racing or attempt == attempts - 1:
                raise explain_lake(lake, exc) from None
            time.sleep(0.1 * (attempt + 1))


def attach_sql(
    lake: Lake, *, read_only: bool = True, alias: str = ALIAS, data_path: Path | None = None
) -> str:
    """The ``ATTACH`` statement of ``lake`` (at ``lake.as_of`` when set)."""
    options = ["READ_ONLY"] if read_only else []
    if data_path is not None:
        options.append(f"DATA_PATH {_literal(str(data_path.resolve()) + '/')}")
    if lake.as_of is not None and lake.as_of.version is not None:
        options.append(f"SNAPSHOT_VERSION {lake.as_of.version}")
    elif lake.as_of is not None and lake.as_of.time is not None:
        options.append(f"SNAPSHOT_TIME {_literal(lake.as_of.time.isoformat())}")
    clause = f" ({', '.join(options)})" if options else ""
    return f"ATTACH {_literal(lake.uri)} AS {alias}{clause}"


def reader_statements(lake: Lake, alias: str = ALIAS) -> list[str]:
    """What a data team runs in its own DuckDB (the same version, with the extension packages installed)
    to read the lake beside the loader: load the extensions from their packages, attach read-only, use
    it. ``chainwatch db attach`` prints them; the notebooks run them."""
    probe = duckdb.connect()
    try:
        built_in = {
            r[0]
            for r in probe.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()
        }
    finally:
        probe.close()
    loads = [f"LOAD {_literal(str(extension_file(n)))}" for n in lake.extensions if n not in built_in]
    return [*loads, attach_sql(lake, alias=alias), f"USE {alias}"]


def _prepare_sqlite_catalog(path: Path) -> None:
    """Create the catalog file in WAL journaling (a property of the file, kept from then on): with the
    default rollback journal every reader waits while the loader commits. Only when it is created: this
    is Python's own SQLite, and a second SQLite library closing the file in a process where DuckDB's has
    it open drops that one's POSIX locks (SQLite's "multiple copies of SQLite in one process" hazard)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(path), timeout=30)
        try:
            if con.execute("PRAGMA journal_mode").fetchone() != ("wal",):
                con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()
    except (OSError, sqlite3.Error) as exc:
        raise LakeError(
            f"cannot create or open the lake catalog {path}: {exc}; give a writable path with {LAKE_SETTING}"
        ) from None


def explain_lake(lake: Lake, exc: BaseException) -> LakeError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if _NOT_CREATED_YET in text:
        return LakeError(
            f"{lake}: the catalog holds no DuckLake yet: a loader may be creating it (try again in a "
            f"moment), or the file is not one `chainwatch load --lake` wrote; give that catalog with "
            f"{LAKE_SETTING}"
        )
    if "No snapshot found" in text:
        return LakeError(
            f"{lake}: {text.split('Error: ', 1)[-1]}; list the snapshots with "
            "`chainwatch db snapshots --lake …`"
        )
    if lake.is_postgres and ("connect" in text.lower() or "connection" in text.lower()):
        return LakeError(f"{lake}: cannot reach the PostgreSQL catalog ({text}); check the conninfo")
    if "DATA_PATH" in text or "data path" in text.lower():
        return LakeError(f"{lake}: {text}; give the data folder with --lake-data (or CHAINWATCH_LAKE_DATA)")
    return LakeError(f"cannot open {lake}: {text}")


# --------------------------------------------------------------------------- DDL and upserts


def lake_ddl(sql: str) -> str:
    """The store's DDL as DuckLake takes it: key columns stay NOT NULL, without the constraint."""
    return _PRIMARY_KEY.sub("NOT NULL", sql)


def ensure_schema(con: duckdb.DuckDBPyConnection, statements: list[str]) -> bool:
    """Apply the DDL once per version of it: every DDL statement is a new snapshot in a lake, and two
    loaders replacing the same view at once conflict (the one that loses is done again by
    :func:`retrying`, and then finds the DDL applied). Returns whether it ran."""
    statements = [*statements, *_TURN_DDL]
    digest = hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA_MARKER} (ddl_hash VARCHAR NOT NULL, applied_at TIMESTAMPTZ)"
    )
    if con.execute(f"SELECT 1 FROM {SCHEMA_MARKER} WHERE ddl_hash = ?", [digest]).fetchone():
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in statements:
            con.execute(lake_ddl(statement))
        con.execute(f"INSERT INTO {SCHEMA_MARKER} VALUES (?, ?)", [digest, datetime.now(UTC)])
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):  # a failed COMMIT has already ended it
            con.execute("ROLLBACK")
        raise
    return True


def take_turn(con: duckdb.DuckDBPyConnection) -> None:
    """Make the open transaction conflict with every other one that takes a turn before it commits.

    DuckLake lets two transactions that only insert into a table commit side by side (two integrity anchors
    reading the same last run would both take its next number), while two that update one table conflict
    at commit, the rows they touch notwithstanding. So every transaction that must follow the others one at
    a time updates the one row of ``chainwatch_turns``; the one that commits second fails and is done again
    on the new snapshot by :func:`retrying`."""
    con.execute(f"UPDATE {TURN_TABLE} SET turns = turns + 1")


def is_conflict(exc: BaseException) -> bool:
    """Another writer committed first and this transaction cannot simply follow it: a change that conflicts
    (DuckLake retried and gave up), or a SQLite catalog whose read snapshot went stale under another
    writer's commit ("database is locked" at once, whatever the busy timeout). Done again on the new
    snapshot, the whole write goes through."""
    text = str(exc)
    return isinstance(exc, duckdb.Error) and any(
        sign in text
        for sign in ("Transaction conflict", "Failed to commit DuckLake transaction", "database is locked")
    )


def retrying(work: Callable[[], Result], *, attempts: int = 20, backoff_seconds: float = 0.05) -> Result:
    """``work()`` (one whole transaction), done again while it loses a race to another lake writer."""
    for attempt in range(attempts):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_conflict(exc) or attempt == attempts - 1:
                raise
            time.sleep(backoff_seconds * (attempt + 1))
    raise AssertionError("unreachable")


def snapshots(con: duckdb.DuckDBPyConnection) -> list[tuple[int, datetime, dict[str, list[str]], str | None]]:
    """(snapshot id, commit time, what changed, commit message) of every snapshot, oldest first."""
    rows = con.execute(
        f"SELECT snapshot_id, snapshot_time, changes, commit_message FROM {ALIAS}.snapshots() "
        "ORDER BY snapshot_id"
    ).fetchall()
    return [(int(r[0]), r[1], dict(r[2] or {}), r[3]) for r in rows]
