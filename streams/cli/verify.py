"""``chainwatch verify``: check the tamper-evident audit trail of a database and the Parquet export manifest.

Exit status: 0 everything checks out, 1 something was modified, deleted, inserted or reordered, 2 the
input could not be read (missing file, bad key setting).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer

from streams.cli.common import AsOfOption, LakeDataOption
from streams.store.access import DatabaseUnavailable, StoreTarget
from streams.store.integrity import (
    ANCHOR_ENV,
    IntegrityKeyError,
    Problem,
    Report,
    anchor_path_from_env,
    key_from_env,
    verify_db,
)
from streams.store.lake import Lake, LakeError, parse_as_of

# The exporter's kinds in the words `verify --db` uses.
_PARQUET_KINDS = {
    "missing": "deleted",
    "unexpected": "inserted",
    "modified": "modified",
    "manifest": "modified",
}


def verify_parquet_dir(directory: Path) -> list[Problem]:
    """Check a Parquet export against its ``manifest.json`` with the exporter's own checker
    (``streams.store.export.verify_manifest``), so the writer and the checker of the format cannot drift
    apart."""
    from streams.store.export import verify_manifest

    return [
        Problem(_PARQUET_KINDS.get(p.kind, p.kind), f"{directory}/{p.path}", p.detail)
        for p in verify_manifest(directory)
    ]


def register(app: typer.Typer) -> None:
    """Add the ``verify`` command to the ``chainwatch`` command line."""

    @app.command("verify")
    def verify(
        db: Annotated[Path | None, typer.Option(help="A chainwatch DuckDB file to check.")] = None,
        lake: Annotated[
            str | None, typer.Option(help="A chainwatch DuckLake to check: its catalog (docs/lake.md).")
        ] = None,
        lake_data: LakeDataOption = None,
        as_of: AsOfOption = None,
        parquet: Annotated[
            Path | None, typer.Option(help="A Parquet export folder to check against its manifest.json.")
        ] = None,
        manifest: Annotated[
            Path | None,
            typer.Option(
                help="The run manifest of --db (default: DB.integrity.jsonl beside it) or --lake "
                "(CATALOG.integrity.jsonl beside a SQLite catalog, DATA/chainwatch.integrity.jsonl)."
            ),
        ] = None,
        anchor: Annotated[
            Path | None,
            typer.Option(
                help=f"The append-only copy of the run records kept away from the database (default: "
                f"{ANCHOR_ENV}); a wiped or rolled-back trail cannot match it."
            ),
        ] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable result.")] = False,
    ) -> None:
        """Report every modified, deleted, inserted or reordered row (exit 1), or confirm the trail (exit 0).

        The HMAC key, when the database was written with one, comes from CHAINWATCH_INTEGRITY_KEY or
        CHAINWATCH_INTEGRITY_KEY_FILE (never from the command line).
        """
        if db is None and lake is None and parquet is None:
            _die("give --db PATH (or --lake CATALOG) and/or --parquet DIR")
        if db is not None and lake is not None:
            _die("--db and --lake name two different stores; check one at a time")
        if as_of is not None and lake is None:
            _die(f"--as-of {as_of}: only a lake keeps past snapshots; give --lake CATALOG")
        problems: list[Problem] = []
        summary: dict[str, Any] = {}
        target: StoreTarget | None = db
        if lake is not None:
            try:
                target = Lake(lake, lake_data, parse_as_of(as_of) if as_of else None)
            except LakeError as exc:
                _die(str(exc))
        if target is not None:
            if isinstance(target, Path) and not target.is_file():
                _die(f"--db {db}: no such file")
            try:
                key = key_from_env()
            except IntegrityKeyError as exc:
                _die(str(exc))
            anchor = anchor or anchor_path_from_env()
            try:
                report: Report = verify_db(target, key, manifest, anchor)
            except (DatabaseUnavailable, LakeError) as exc:  # not a DuckDB file, or held by a writer
                _die(f"{_named(target)} cannot be checked: {exc}")
            except duckdb.Error as exc:  # mangled
                _die(
                    f"{_named(target)} cannot be checked ({str(exc).splitlines()[0]}): give a chainwatch "
                    "DuckDB file; if a worker or loader is writing it, stop it or verify a copy of the file"
                )
            except OSError as exc:  # the manifest file (or the database) cannot be read
                _die(
                    f"{exc.filename or target}: cannot be read ({exc.strerror}); check "
                    f"{'--lake' if lake else '--db'} and --manifest"
                )
            problems += report.problems
            summary["db"] = {"sessions": report.sessions, "rows": report.rows, "runs": report.runs}
        if parquet is not None:
            if not parquet.is_dir():
                _die(f"--parquet {parquet}: no such folder")
            problems += verify_parquet_dir(parquet)
            summary["parquet"] = str(parquet)
        if json_output:
            summary["ok"] = not problems
            summary["problems"] = [p.__dict__ for p in problems]
            sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        else:
            for problem in problems:
                print(problem)
            if "db" in summary:
                d = summary["db"]
                print(
                    f"checked {d['rows']} rows of {d['sessions']} sessions "
                    f"and {d['runs']} anchor runs of {target}"
                )
                if anchor is None:
                    print(
                        f"note: no anchor outside the database (--anchor / {ANCHOR_ENV}): a wiped trail "
                        "cannot be told from a new one (docs/security.md)"
                    )
            print(
                f"{len(problems)} problem(s) found" if problems else "integrity verified: no problems found"
            )
        if problems:
            raise typer.Exit(1)


def _named(target: StoreTarget) -> str:
    return f"--db {target}" if isinstance(target, Path) else str(target)


def _die(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)
