"""Parquet export for data lakes: every table partitioned by UTC day (hive layout), a manifest of file
hashes, and the analytic views recreated over the files.

Layout written by ``export_parquet(db, DIR)``::

    DIR/manifest.json
    DIR/events/day=2026-01-05/data_0.parquet
    DIR/alerts/day=2026-01-05/data_0.parquet
    DIR/<table without a timestamp>/data_0.parquet

The export reads one snapshot (a single read transaction), writes into a temporary sibling directory and
moves it into place only when complete, so DIR is either the previous export or the new one, never half.
``verify_manifest(DIR)`` reports files that were modified, removed or added since the export.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import duckdb

from schemas.errors import ChainwatchError
from streams.store.access import StoreTarget, open_read_only
from streams.store.lake import SCHEMA_MARKER
from streams.store.views import views_sql

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "chainwatch-parquet-manifest"
MANIFEST_VERSION = 1
PARTITION = "day"

# The timestamp that decides each table's day; other tables use their first TIMESTAMPTZ column,
# and a table without one is written as a single unpartitioned file.
PARTITION_COLUMNS = {
    "events": "event_time",
    "credentials": "event_time",
    "chains": "started_at",
    "findings": "first_seen",
    "alerts": "first_seen",
    "dead_letters": "received_at",
    "verdicts": "recorded_at",
}

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# A table's name becomes a directory of the export: only names that cannot leave it (no '/', '..', or an
# absolute path, which DuckDB allows in a quoted identifier) and that every Parquet reader can open.
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ExportError(ChainwatchError):
    """The export or the lake views cannot be made; the message says which input and what to do."""


@dataclass
class TableExport:
    table: str
    rows: int
    partition_column: str | None
    files: int = 0


@dataclass
class ExportReport:
    out_dir: Path
    tables: list[TableExport] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "files": self.files,
            "bytes": self.bytes,
            "tables": [vars(t) for t in self.tables],
        }


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def _base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] != SCHEMA_MARKER]  # a lake's DDL version is no data


def _partition_column(table: str, columns: list[tuple[str, str]]) -> str | None:
    names = [n for n, _ in columns]
    if PARTITION in names:
        raise ExportError(
            f"table {table} has a column named {PARTITION!r}, which the export needs for its day "
            "partitions; rename that column before exporting"
        )
    preferred = PARTITION_COLUMNS.get(table)
    if preferred in names:
        return preferred
    return next((n for n, kind in columns if kind == "TIMESTAMP WITH TIME ZONE"), None)


def _connect_read_only(db_path: StoreTarget) -> duckdb.DuckDBPyConnection:
    return open_read_only(db_path)  # missing or held by a writer: a DatabaseUnavailable saying so


def _write_table(con: duckdb.DuckDBPyConnection, table: str, target: Path) -> TableExport:
    if not _TABLE_NAME.match(table):
        raise ExportError(
            f"table {table!r}: its name would not stay a plain directory of the export (only letters, "
            "digits and _ are exported); rename or drop that table in a copy of the database, then export"
        )
    columns = _columns(con, table)
    part = _partition_column(table, columns)
    select = ", ".join(_quote_ident(n) for n, _ in columns)
    rows = int(con.execute(f"SELECT count(*) FROM {_quote_ident(table)}").fetchone()[0])  # type: ignore[index]
    order = ", ".join(_quote_ident(n) for n, _ in columns[:1])
    target.mkdir(parents=True, exist_ok=True)
    if part is None or not rows:
        # a table without a timestamp, or without rows (a zero-row file still carries its columns)
        con.execute(
            f"COPY (SELECT {select} FROM {_quote_ident(table)} ORDER BY {order}) "
            f"TO {_quote_literal(str(target / 'data_0.parquet'))} (FORMAT parquet)"
        )
    else:
        day = f"CAST(timezone('UTC', {_quote_ident(part)}) AS DATE) AS {PARTITION}"
        ordered = f"ORDER BY {_quote_ident(part)}, {order}"
        con.execute(
            f"COPY (SELECT {select}, {day} FROM {_quote_ident(table)} {ordered}) "
            f"TO {_quote_literal(str(target))} (FORMAT parquet, PARTITION_BY ({PARTITION}))"
        )
    files = sum(1 for _ in target.rglob("*.parquet"))
    return TableExport(table=table, rows=rows, partition_column=part, files=files)


def _chainwatch_version() -> str:
    try:
        return importlib.metadata.version("chainwatch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _data_files(root: Path) -> Iterator[str]:
    """Every file under root except the manifest, as sorted relative POSIX paths."""
    found = [
        PurePosixPath(p.relative_to(root).as_posix())
        for p in root.rglob("*")
        if p.is_file() or p.is_symlink()
    ]
    yield from sorted(str(p) for p in found if str(p) != MANIFEST)


def write_manifest(root: Path) -> dict[str, Any]:
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "chainwatch_version": _chainwatch_version(),
        "files": [
            {"path": rel, "sha256": _sha256(root / rel), "bytes": (root / rel).stat().st_size}
            for rel in _data_files(root)
        ],
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _is_export(path: Path) -> bool:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT


def _check_target(out_dir: Path, overwrite: bool) -> None:
    """Refuse before any work what the final move would refuse: a file, a foreign folder, an export
    that may not be replaced."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"--parquet {out_dir}: exists and is not a directory; choose a directory path")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not _is_export(out_dir):
            raise ExportError(
                f"--parquet {out_dir}: the directory is not empty and holds no chainwatch export "
                f"({MANIFEST} missing); choose a new or empty directory"
            )
        if not overwrite:
            raise ExportError(
                f"--parquet {out_dir}: holds a previous export; pass --overwrite to replace it "
                "or choose another directory"
            )


def _replace_dir(staged: Path, out_dir: Path, overwrite: bool) -> None:
    _check_target(out_dir, overwrite)  # again: the folder may have changed while the export ran
    if out_dir.is_dir() and any(out_dir.iterdir()):
        retired = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(retired)
        try:
            staged.rename(out_dir)
        except OSError:
            retired.rename(out_dir)  # put the previous export back: the folder is never left empty
            raise
        shutil.rmtree(retired)
        return
    if out_dir.is_dir():
        out_dir.rmdir()
    staged.rename(out_dir)


def export_parquet(db_path: StoreTarget, out_dir: Path, *, overwrite: bool = False) -> ExportReport:
    """Write every table of the DuckDB file (or lake) as day-partitioned Parquet plus ``manifest.json``."""
    out_dir = out_dir.resolve()
    _check_target(out_dir, overwrite)
    con = _connect_read_only(db_path)
    staged = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    report = ExportReport(out_dir=out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir()
        con.execute("BEGIN TRANSACTION")  # one snapshot for every table
        for table in _base_tables(con):
            report.tables.append(_write_table(con, table, staged / table))
        con.execute("COMMIT")
        manifest = write_manifest(staged)
        report.files = len(manifest["files"])
        report.bytes = sum(int(f["bytes"]) for f in manifest["files"])
        _replace_dir(staged, out_dir, overwrite)
    except (OSError, duckdb.Error) as exc:
        # a full disk, a folder without write permission: said about the export, not as a traceback
        raise ExportError(
            f"--parquet {out_dir}: the export failed ({exc}); nothing was replaced: free space or fix the "
            "folder's permissions, then export again"
        ) from None
    finally:
        con.close()
        shutil.rmtree(staged, ignore_errors=True)
    return report


# -- verification


ProblemKind = Literal["manifest", "missing", "modified", "unexpected"]


@dataclass(frozen=True)
class ManifestProblem:
    """One way the directory differs from its manifest."""

    kind: ProblemKind
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


def _entry_problem(entry: Any, index: int) -> str | None:
    if not isinstance(entry, dict):
        return f"files[{index}] is not an object"
    path, digest, size = entry.get("path"), entry.get("sha256"), entry.get("bytes")
    if not isinstance(path, str) or not path:
        return f"files[{index}].path is missing or not a string"
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path or path == MANIFEST:
        return f"files[{index}].path {path!r} must be a relative POSIX path inside the export"
    if not isinstance(digest, str) or not _HEX64.match(digest):
        return f"files[{index}].sha256 must be 64 lowercase hex digits"
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return f"files[{index}].bytes must be a non-negative integer"
    return None


def verify_manifest(root: Path | str) -> list[ManifestProblem]:
    """Compare a Parquet export with its manifest: every listed file present with the same size and
    SHA-256, and no file that the manifest does not list. An empty list means the export is intact."""
    root = Path(root)
    manifest_path = root / MANIFEST
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [ManifestProblem("manifest", MANIFEST, f"no manifest in {root}; is this a chainwatch export?")]
    except (OSError, ValueError) as exc:
        return [ManifestProblem("manifest", MANIFEST, f"cannot read it as JSON: {exc}")]
    if not isinstance(data, dict):
        return [ManifestProblem("manifest", MANIFEST, "must be a JSON object")]
    header = []
    if data.get("format") != MANIFEST_FORMAT:
        header.append(f"format is {data.get('format')!r}, expected {MANIFEST_FORMAT!r}")
    if data.get("version") != MANIFEST_VERSION:
        header.append(f"version is {data.get('version')!r}, this chainwatch reads {MANIFEST_VERSION}")
    if not isinstance(data.get("files"), list):
        header.append("files must be a list")
    if header:
        return [ManifestProblem("manifest", MANIFEST, d) for d in header]

    problems: list[ManifestProblem] = []
    listed: set[str] = set()
    for index, entry in enumerate(data["files"]):
        wrong = _entry_problem(entry, index)
        if wrong:
            problems.append(ManifestProblem("manifest", MANIFEST, wrong))
            continue
        rel = entry["path"]
        if rel in listed:
            problems.append(ManifestProblem("manifest", MANIFEST, f"{rel} is listed twice"))
            continue
        listed.add(rel)
        file = root / rel
        if not file.is_file():
            problems.append(ManifestProblem("missing", rel, "listed in the manifest but not on disk"))
            continue
        size = file.stat().st_size
        if size != entry["bytes"]:
            problems.append(ManifestProblem("modified", rel, f"{size} bytes, manifest says {entry['bytes']}"))
        elif _sha256(file) != entry["sha256"]:
            problems.append(ManifestProblem("modified", rel, "SHA-256 differs from the manifest"))
    for rel in _data_files(root):
        if rel not in listed:
            problems.append(ManifestProblem("unexpected", rel, "on disk but not in the manifest"))
    return problems


# -- the analytic views over the Parquet files


def _table_source(folder: Path) -> str | None:
    """The relation one exported table's files form, with the ``day`` column when it is day-partitioned
    (a zero-row table with a timestamp gets a NULL ``day``, so its shape does not depend on having rows)."""
    if any(folder.glob(f"{PARTITION}=*/*.parquet")):
        return (
            f"SELECT * FROM read_parquet({_quote_literal(str(folder / '*' / '*.parquet'))}, "
            f"hive_partitioning = true, hive_types = {{'{PARTITION}': DATE}})"
        )
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return None
    source = f"read_parquet({_quote_literal(str(folder / '*.parquet'))})"
    probe = duckdb.connect()
    try:
        columns = probe.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    finally:
        probe.close()
    if _partition_column(folder.name, [(str(c[0]), str(c[1])) for c in columns]) is None:
        return f"SELECT * FROM {source}"
    return f"SELECT *, CAST(NULL AS DATE) AS {PARTITION} FROM {source}"


def parquet_views_sql(root: Path | str) -> str:
    """SQL that defines one view per exported table (named like the table, reading its Parquet files,
    plus a ``day`` column for partition pruning) followed by the analytic views of schemas/sql/views.sql."""
    root = Path(root).resolve()
    if not (root / MANIFEST).is_file():
        raise ExportError(f"--parquet {root}: no {MANIFEST}; give the directory `chainwatch export` wrote")
    lines = [f"-- chainwatch lake views over {root}", ""]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        source = _table_source(folder)
        if source is None:
            raise ExportError(
                f"--parquet {root}: {folder.name}/ holds no Parquet file; re-export the database "
                "with `chainwatch export`"
            )
        lines.append(f"CREATE OR REPLACE VIEW {_quote_ident(folder.name)} AS {source};")
    return "\n".join(lines) + "\n\n" + views_sql()


def create_parquet_views(con: duckdb.DuckDBPyConnection, root: Path | str) -> None:
    """Create the table views and the analytic views over an export in ``con``'s database."""
    sql = parquet_views_sql(root)
    tables = {
        str(r[0])
        for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
    }
    clash = sorted(tables & {p.name for p in Path(root).iterdir() if p.is_dir()})
    if clash:
        raise ExportError(
            f"the database already has tables named {', '.join(clash)}; the lake views take those names: "
            "create them in a separate DuckDB file"
        )
    con.execute("BEGIN TRANSACTION")  # all the views or none
    try:
        con.execute(sql)
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise ExportError(
            f"cannot create the lake views over {root}: {exc}; was it written by `chainwatch export` "
            "of this version?"
        ) from None
