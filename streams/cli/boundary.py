"""The command line's one error boundary: every failure a user can cause is printed as one or two lines
(what, where, how to fix) with an exit code, never as a traceback; ``chainwatch --debug …`` shows it.

Exit codes: 0 done; 1 the work failed (an alert not found, Kafka unreachable, a bug); 2 a mistake in the
input, a setting, a path or the command line (nothing was changed).
"""

from __future__ import annotations

import errno
from typing import Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from schemas.errors import ChainwatchError

MISTAKE = 2
FAILURE = 1

_debug = False

# errno -> what to do about it, for a file or folder the command had to read or write
_OS_FIXES = {
    errno.EACCES: "choose a path you may write to (or read from)",
    errno.EPERM: "choose a path you may write to (or read from)",
    errno.EROFS: "the file system is read-only: choose a path on a writable one",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOSPC: "the disk is full: free some space or choose another disk",
    errno.EEXIST: "the path exists already: choose another one",
}


def set_debug(enabled: bool) -> None:
    """``--debug`` (the root option): let exceptions through with their traceback."""
    global _debug
    _debug = enabled


class GuardedGroup(TyperGroup):
    """The root command group: what a command raises is turned into ``error: …`` on stderr and an exit
    code here, inside click, so the console script and in-process runners (tests) behave the same."""

    # ``ctx`` is click's Context, which typer either re-exports or vendors (typer._click) depending on its
    # version within our pinned range; neither spelling type-checks against both, hence Any.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if _debug or isinstance(exc, typer.Exit | typer.Abort) or hasattr(exc, "exit_code"):
                raise  # --debug; and usage errors, `typer.Exit`, Ctrl-C, which click reports itself
            code, message = describe(exc)
            _print_error(message)
            raise typer.Exit(code) from None


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and the message for an exception that reached the boundary."""
    if isinstance(exc, ChainwatchError) or _deliberate(exc):
        return MISTAKE, str(exc)
    if isinstance(exc, OSError) and (exc.filename is not None or exc.errno in _OS_FIXES):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        reason = (exc.strerror or str(exc)).lower()
        fix = _OS_FIXES.get(exc.errno or 0, "check the path and its permissions")
        return MISTAKE, f"{where}{reason}; {fix}"
    first = (str(exc).strip().splitlines() or [""])[0]
    return FAILURE, (
        f"unexpected {type(exc).__name__}: {first}. This is a bug in chainwatch: rerun with "
        "`chainwatch --debug …` for the traceback and report it"
    )


def _deliberate(exc: BaseException) -> bool:
    """Errors the detection side raises on purpose (a broken rule file, a bad detector pack): they are
    ValueErrors there; once they derive from ChainwatchError this check adds nothing."""
    from detectors.registry import DetectorLoadError
    from detectors.rules import RuleError

    return isinstance(exc, RuleError | DetectorLoadError)


def _print_error(message: str) -> None:
    from streams.cli.common import err_console

    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
