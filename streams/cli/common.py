"""What the ``chainwatch`` commands share: one stdout console, one stderr console, one way to fail, one
way to read ``--since``, one way to open the database."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.text import Text

from streams.settings import load_settings

# Piped output (CI logs, `| less`) gets a wide page rather than rich's 80-column default, so the
# chain timelines stay readable.
console = Console(width=None if sys.stdout.isatty() else 160)
# Errors are never wrapped (a path or a setting name must stay whole to be copied).
err_console = Console(stderr=True, soft_wrap=True)


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
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise ValueError(
                f"--since {value!r} is not a time; use e.g. 24h, 7d, or an ISO 8601 date or time "
                "(2026-01-05, 2026-01-05T09:00:00Z)"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def open_db(db: Path | None, *, write: bool = False) -> duckdb.DuckDBPyConnection:
    """The database ``--db`` names (else CHAINWATCH_DB_PATH): read-only, or through the store to write."""
    path = db or load_settings().db_path
    if not path.is_file():
        raise fail(
            f"{path}: no such database; pass --db or create one with `chainwatch run` / `chainwatch load`"
        )
    if write:
        from streams.store.database import Store

        try:
            # applies the DDL (verdicts, the suppression columns); verdicts are not part of the hash-chained
            # trail, so an analyst needs no integrity key
            return Store(path, audit_trail=False).con
        except duckdb.IOException as exc:
            raise fail(
                f"cannot open {path} for writing ({exc}); another process (the loader?) holds it: "
                "record the verdict when it is stopped, or on its host"
            ) from None
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise fail(f"cannot open {path}: {exc}") from None
