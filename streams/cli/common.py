"""What the ``chainwatch`` commands share: one stdout console, one stderr console, one way to fail, one
way to read ``--since``, one way to open the database."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from streams.store.access import StoreTarget

# Wide enough that no line of a table or a message is ever wrapped; lines are only as long as their text.
PIPE_WIDTH = 10_000


class PipeConsole(Console):
    """What standard output gets when it is not a terminal (``| grep``, ``> file``, CI logs): plain text,
    no colour, tables without box lines, and every row on one line, however long, so that a grep for an
    id finds the whole row."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(width=PIPE_WIDTH, color_system=None, **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        for item in objects:
            _unboxed(item)
        super().print(*objects, **kwargs)

    def rule(self, title: Any = "", *args: Any, **kwargs: Any) -> None:
        """A heading line instead of a rule across ten thousand columns."""
        super().print(title)


def _unboxed(item: Any) -> None:
    if isinstance(item, Table):
        item.box = None
        item.show_edge = False
        for column in item.columns:
            column.overflow = "ignore"
            column.no_wrap = True
    elif isinstance(item, Group):
        for part in item.renderables:
            _unboxed(part)


def stdout_console() -> Console:
    return Console() if sys.stdout.isatty() else PipeConsole()


console = stdout_console()
# Errors are never wrapped (a path or a setting name must stay whole to be copied).
err_console = Console(stderr=True, soft_wrap=True)


def db_path(db: Path | None) -> Path:
    """``--db`` when given, else the CHAINWATCH_DB_PATH setting (default chainwatch.duckdb)."""
    from streams.settings import load_settings

    return db if db is not None else load_settings().db_path


# The store options every command that opens the store shares (docs/lake.md).
DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB file (default: CHAINWATCH_DB_PATH).")]
LakeOption = Annotated[
    str | None,
    typer.Option(
        "--lake",
        help="A DuckLake instead of the DuckDB file: its catalog, a SQLite file or postgres:CONNINFO "
        "(default: CHAINWATCH_LAKE). Readers never wait for the loader writing it.",
    ),
]
LakeDataOption = Annotated[
    Path | None,
    typer.Option(
        "--lake-data",
        help="The lake's data folder, to create it (default: CHAINWATCH_LAKE_DATA, else CATALOG.files/).",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Read the lake as it was: a snapshot number or a time (ISO 8601, UTC without offset); "
        "`chainwatch db snapshots` lists them.",
    ),
]


def store_target(
    db: Path | None, lake: str | None = None, lake_data: Path | None = None, as_of: str | None = None
) -> StoreTarget:
    """The store a command opens: ``--db`` names a DuckDB file, ``--lake`` a DuckLake; without either the
    CHAINWATCH_LAKE setting when set, else CHAINWATCH_DB_PATH. ``--as-of`` needs a lake."""
    from streams.settings import load_settings
    from streams.store.lake import Lake, LakeError, parse_as_of

    if db is not None and lake is not None:
        raise fail("--db and --lake name two different stores; give one of them")
    settings = load_settings()
    catalog = lake if lake is not None else (settings.lake if db is None else None)
    if catalog is None:
        if as_of is not None:
            raise fail(
                f"--as-of {as_of}: a DuckDB file keeps no past snapshots; time travel reads a lake "
                "(--lake CATALOG, docs/lake.md)"
            )
        return db if db is not None else settings.db_path
    try:
        when = parse_as_of(as_of) if as_of is not None else None
    except LakeError as exc:
        raise fail(str(exc)) from None
    return Lake(catalog, lake_data or settings.lake_data, when)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit to raise. The message is shown literally:
    it often quotes user input (paths, values), which must not be read as rich markup."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", message))
    return typer.Exit(code)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """'24h', '7d', '30m', an ISO date or an ISO datetime (UTC when it has no offset)."""
    match = re.fullmatch(r"(\d+)\s*([smhd])", value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        seconds = amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    from streams.store.lake import parse_utc_time

    try:
        return parse_utc_time(value)
    except ValueError:
        raise ValueError(
            f"--since {value!r} is not a time; use e.g. 24h, 7d, or an ISO 8601 date or time "
            "(2026-01-05, 2026-01-05T09:00:00Z)"
        ) from None


def open_db(target: StoreTarget | Path | None, *, write: bool = False) -> duckdb.DuckDBPyConnection:
    """The store ``target`` names (a file or a lake; None: CHAINWATCH_DB_PATH): read-only unless ``write``
    (a verdict); a missing, unreadable or busy file is a clear error (``streams/store/access.py``)."""
    from streams.store.access import open_read_only
    from streams.store.database import Store

    path = store_target(None) if target is None else target
    if write:
        if isinstance(path, Path) and not path.is_file():
            open_read_only(path)  # the same "no such database" message as the readers
        # applies the DDL (verdicts, the suppression columns); no trail writer starts here: a verdict is
        # sealed by one of its own (streams/store/appends.py), which needs the trail's integrity key
        return Store(path, audit_trail=False).con
    return open_read_only(path)
