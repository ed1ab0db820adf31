"""``chainwatch analysts``: issue and revoke the triage page's per-analyst tokens (docs/alerts.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from streams.alerts.ui.analysts import ANALYSTS_FILE_ENV, AnalystFileError, issue, read_entries, revoke
from streams.cli.common import console, fail

analysts_app = typer.Typer(
    help="Per-analyst tokens of the triage page (chainwatch ui).", no_args_is_help=True
)
FileOption = Annotated[
    Path | None, typer.Option("--file", help=f"The analysts file (default: {ANALYSTS_FILE_ENV}).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(analysts_app, name="analysts")


def _file(path: Path | None) -> Path:
    chosen = path or (Path(os.environ[ANALYSTS_FILE_ENV]) if os.environ.get(ANALYSTS_FILE_ENV) else None)
    if chosen is None:
        raise fail(f"give --file PATH or set {ANALYSTS_FILE_ENV}")
    return chosen


@analysts_app.command("issue")
def issue_token(
    name: Annotated[str, typer.Argument(help="The analyst's name, as verdicts will record it.")],
    file: FileOption = None,
) -> None:
    """Issue (or replace) NAME's token and print it once; the file keeps only its SHA-256."""
    path = _file(file)
    try:
        token = issue(path, name)
    except AnalystFileError as exc:
        raise fail(str(exc)) from None
    console.print(f"token for {name} (shown once; hand it over privately): {token}", highlight=False)
    console.print(f"the triage page reads {path} when {ANALYSTS_FILE_ENV} names it", highlight=False)


@analysts_app.command("revoke")
def revoke_token(
    name: Annotated[str, typer.Argument(help="The analyst whose token stops working.")],
    file: FileOption = None,
) -> None:
    """Revoke NAME's token; a running triage page refuses it from the next request on."""
    path = _file(file)
    try:
        removed = revoke(path, name)
    except AnalystFileError as exc:
        raise fail(str(exc)) from None
    if not removed:
        raise fail(f"{path} has no analyst {name!r}")
    console.print(f"revoked the token of {name}", highlight=False)


@analysts_app.command("list")
def list_analysts(file: FileOption = None) -> None:
    """The analysts who hold a token (names only)."""
    try:
        names = sorted(read_entries(_file(file)))
    except AnalystFileError as exc:
        raise fail(str(exc)) from None
    for name in names:
        console.print(name, highlight=False)
