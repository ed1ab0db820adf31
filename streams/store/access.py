"""Opening the DuckDB file, and saying plainly why it could not be opened.

DuckDB lets one process write a file, or any number of processes read it, never both at once. So the
tools that only read (``alerts``, ``show``, ``backtest``, the triage page between verdicts) open it
read-only and only for as long as they need it, and a writer that finds the file taken says which
process holds it instead of showing DuckDB's lock error. Every opening goes through :func:`connect`, for
either backend: a DuckDB file (a ``Path``) or a DuckLake (a :class:`~streams.store.lake.Lake`), where
readers never wait for the writer and the lock explanations do not apply.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb

from schemas.errors import ChainwatchError
from streams.store.lake import Lake, LakeError, open_lake

DB_SETTING = "--db (or CHAINWATCH_DB_PATH)"
LOCK_WAIT_SECONDS = 1.0  # a verdict or a short read holds the file for milliseconds: wait that out
_LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_RETRY_EVERY = 0.05

StoreTarget = Path | Lake  # where the store lives: a DuckDB file, or a DuckLake


class DatabaseUnavailable(ChainwatchError):
    """The database file cannot be opened: missing, not a database, not writable, or in use."""


class DatabaseLocked(DatabaseUnavailable):
    """Another process has the file open in a mode that excludes ours. Transient: it may let go."""

    terminal = False

    def __init__(self, message: str, holder: str | None) -> None:
        super().__init__(message)
        self.holder = holder


def open_read_only(
    target: StoreTarget, *, wait_seconds: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    """A read-only connection (never takes the write lock); clear errors when it cannot be had."""
    return connect(target, read_only=True, wait_seconds=wait_seconds)


def connect(
    target: StoreTarget, *, read_only: bool, wait_seconds: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file or the lake ``target`` names. A file's lock held by another process is waited
    on for up to ``wait_seconds``, then every failure becomes a :class:`DatabaseUnavailable` that names the
    file, the cause and the fix; a lake never waits for its writer (its failures are a ``LakeError``)."""
    if isinstance(target, Lake):
        try:
            return open_lake(target, read_only=read_only)
        except LakeError as exc:
            raise DatabaseUnavailable(str(exc)) from None
    path = target
    if read_only and not path.exists():
        raise DatabaseUnavailable(
            f"{path}: no such database; give the file `chainwatch run` or `chainwatch load` wrote "
            f"with {DB_SETTING}"
        )
    if read_only and path.is_dir():
        raise DatabaseUnavailable(f"{path} is a folder, not a database file; give the file with {DB_SETTING}")
    if not read_only:
        _make_parent(path)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            problem = explain(path, exc, writing=not read_only)
        if not isinstance(problem, DatabaseLocked) or time.monotonic() >= deadline:
            raise problem
        time.sleep(_RETRY_EVERY)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second cursor on ``con`` that reads the same database: a new cursor starts in DuckDB's default
    catalog, which for a lake connection is the empty in-memory one, not the lake."""
    found = con.execute("SELECT current_database()").fetchone()
    other = con.cursor()
    if found is not None:
        other.execute('USE "' + str(found[0]).replace('"', '""') + '"')
    return other


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any: a COMMIT that failed (a lake writer that lost a race) has
    already ended it, and a second error here would hide the first."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DatabaseUnavailable(
            f"cannot create {path}: a part of {path.parent} is a file, not a folder; "
            f"give another path with {DB_SETTING}"
        ) from None
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create the folder {path.parent} for {path}: {exc.strerror}; "
            f"give a path in a writable folder with {DB_SETTING}"
        ) from None


def explain(path: Path, exc: BaseException, *, writing: bool) -> DatabaseUnavailable:
    """DuckDB's error on opening ``path`` as a one-line message with what to do."""
    text = str(exc)
    held = _LOCK_HELD.search(text)
    if held:
        holder = describe_process(int(held["pid"]), held["program"])
        if writing:
            return DatabaseLocked(
                f"{path} is open in another process ({holder}); DuckDB allows one writer and no readers "
                "beside it: wait for that process to finish or stop it, then run this again (nothing was "
                "written)",
                holder,
            )
        return DatabaseLocked(
            f"{path} is being written by another process ({holder}); DuckDB lets readers in only when no "
            "process writes: wait for it to finish, or stop it (`chainwatch load` and `receive --db` hold "
            "the file while they run)",
            holder,
        )
    for reason in ("Permission denied", "Read-only file system"):
        if reason in text:
            what = "write" if writing else "read"
            return DatabaseUnavailable(
                f"cannot {what} {path}: {reason.lower()} (a {what}able file in a {what}able folder is "
                f"needed, DuckDB also writes {path.name}.wal beside it); give another path with "
                f"{DB_SETTING}"
            )
    if "Not a directory" in text:
        return DatabaseUnavailable(
            f"cannot open {path}: a part of {path.parent} is a file, not a folder; give another path with "
            f"{DB_SETTING}"
        )
    if "not a valid DuckDB database file" in text:
        return DatabaseUnavailable(
            f"{path} is not a DuckDB database file; give the right file with {DB_SETTING}"
        )
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return DatabaseUnavailable(f"cannot open {path}: {first_line.removeprefix('IO Error: ')}")


def describe_process(pid: int, program: str) -> str:
    """``PID 123: chainwatch ui --db cw.duckdb`` when the process's command line can be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"PID {pid}: {program}"
    args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    if len(args) > 2 and args[1:3] == ["-m", "streams.cli"]:  # python -m streams.cli …
        args = ["chainwatch", *args[3:]]
    elif args and Path(args[0]).name != "chainwatch" and len(args) > 1 and Path(args[1]).name == "chainwatch":
        args = args[1:]  # the console script run by its interpreter
    if args and Path(args[0]).name == "chainwatch":
        args[0] = "chainwatch"
    command = " ".join(args) or program
    return f"PID {pid}: {command if len(command) <= 120 else command[:119] + '…'}"
