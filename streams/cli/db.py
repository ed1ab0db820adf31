"""``chainwatch export`` and ``chainwatch db …``: the data team's entry points — a Parquet lake with a
manifest, and the analytic views over the DuckDB file or over the lake."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from streams.cli.common import AsOfOption, LakeOption, console, fail, store_target
from streams.store.access import connect
from streams.store.export import (
    ExportError,
    create_parquet_views,
    export_parquet,
    parquet_views_sql,
    verify_manifest,
)
from streams.store.views import ViewsError, refresh_views, view_names, views_sql

db_app = typer.Typer(
    help="The analytic views for data teams (docs/data-dictionary.md).", no_args_is_help=True
)


def export(
    parquet: Annotated[
        Path, typer.Option(help="Directory to write: one folder per table, partitioned by day.")
    ],
    db: Annotated[
        Path | None, typer.Option(help="DuckDB file to export (default: CHAINWATCH_DB_PATH).")
    ] = None,
    lake: LakeOption = None,
    as_of: AsOfOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a previous export in the same directory.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
) -> None:
    """Write every table as Parquet partitioned by UTC day (hive layout) with a manifest of file hashes."""
    db_path = store_target(db, lake, as_of=as_of)
    try:
        report = export_parquet(db_path, parquet, overwrite=overwrite)
    except ExportError as exc:
        raise fail(str(exc)) from None
    if json_output:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    for table in report.tables:
        by = f"by day of {table.partition_column}" if table.partition_column else "unpartitioned"
        console.print(f"{table.table:<16} {table.rows:>9} rows  {table.files:>4} files  {by}")
    console.print(
        f"wrote {report.files} files ({report.bytes} bytes) and manifest.json to {report.out_dir}\n"
        f"Views over it: chainwatch db views --parquet {report.out_dir} --db lake.duckdb"
    )


@db_app.command("views")
def views(
    parquet: Annotated[
        Path | None, typer.Option(help="A `chainwatch export` directory to define the views over.")
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            help="DuckDB file to create the views in. Without --parquet: the chainwatch database "
            "(default CHAINWATCH_DB_PATH); with --parquet: any file of yours (without it: print the SQL)."
        ),
    ] = None,
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL instead of creating anything.")] = False,
    verify: Annotated[
        bool, typer.Option(help="With --parquet: refuse a lake whose files differ from its manifest.")
    ] = True,
) -> None:
    """Create (or print) the analytic views, over the chainwatch database or over a Parquet export."""
    if parquet is None:
        if sql:
            sys.stdout.write(views_sql())
            return
        from streams.settings import load_settings

        db_path = db or load_settings().db_path
        if not db_path.is_file():
            raise fail(f"--db {db_path}: no such DuckDB file; give the file `chainwatch run/load` wrote")
        try:
            refresh_views(db_path)
        except ViewsError as exc:
            raise fail(str(exc)) from None
        console.print(f"views in {db_path}: {', '.join(view_names())}")
        return
    if verify:
        problems = verify_manifest(parquet)
        if problems:
            listing = "\n".join(f"  {p}" for p in problems[:20])
            raise fail(
                f"--parquet {parquet}: the files differ from manifest.json ({len(problems)} problem(s)):\n"
                f"{listing}\nre-export, or pass --no-verify to define the views anyway"
            )
    try:
        if sql or db is None:
            sys.stdout.write(parquet_views_sql(parquet))
            return
        con = connect(db, read_only=False)
        try:
            create_parquet_views(con, parquet)
        finally:
            con.close()
    except ExportError as exc:
        raise fail(str(exc)) from None
    console.print(f"views over {parquet.resolve()} in {db}: tables as views, then {', '.join(view_names())}")


@db_app.command("snapshots")
def snapshots(
    lake: LakeOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per snapshot.")] = False,
) -> None:
    """The lake's committed snapshots (number, time, what changed): what `--as-of` can go back to."""
    from streams.store.lake import Lake, snapshots

    target = store_target(None, lake)
    if not isinstance(target, Lake):
        raise fail("a DuckDB file keeps no snapshots; give the lake with --lake CATALOG (or CHAINWATCH_LAKE)")
    con = connect(target, read_only=True)
    try:
        listed = snapshots(con)
    finally:
        con.close()
    for number, when, changes, message in listed:
        if json_output:
            record = {"snapshot": number, "time": when.isoformat(), "changes": changes, "message": message}
            sys.stdout.write(json.dumps(record) + "\n")
            continue
        changed = "; ".join(f"{kind} {', '.join(map(str, items))}" for kind, items in changes.items())
        console.print(f"{number:>7}  {when:%Y-%m-%d %H:%M:%S.%f%z}  {changed}", highlight=False)


@db_app.command("attach")
def attach(
    lake: LakeOption = None,
    as_of: AsOfOption = None,
    alias: Annotated[str, typer.Option(help="The name to attach the lake under.")] = "chainwatch",
) -> None:
    """Print the SQL that attaches the lake read-only in your own DuckDB (the same DuckDB version, with the
    extension packages chainwatch pins): a notebook or BI tool reads it while the loader writes."""
    from streams.store.lake import Lake, LakeError, reader_statements

    target = store_target(None, lake, as_of=as_of)
    if not isinstance(target, Lake):
        raise fail("give the lake with --lake CATALOG (or CHAINWATCH_LAKE); a DuckDB file is opened as it is")
    if not alias.isidentifier():
        raise fail(f"--alias {alias!r}: use a plain name (letters, digits, _)")
    try:
        sys.stdout.write("".join(f"{statement};\n" for statement in reader_statements(target, alias)))
    except LakeError as exc:
        raise fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.add_typer(db_app, name="db")
