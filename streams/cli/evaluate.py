"""``chainwatch evaluate``: detection quality against labelled runs (docs/detectors-guide.md, "Measuring")."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.table import Table

from schemas.types import Severity
from streams.alerts.evaluation import (
    OVERALL,
    Evaluation,
    LabelError,
    Rates,
    evaluate,
    labels_from_verdicts,
    read_labels,
)
from streams.cli.common import console, fail, open_db

SEVERITIES = tuple(str(s) for s in Severity)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _row(table: Table, name: str, rates: Rates) -> None:
    table.add_row(
        name,
        str(rates.flagged_positives + rates.flagged_negatives),
        f"{rates.flagged_positives}/{rates.positives}",
        f"{rates.flagged_negatives}/{rates.negatives}",
        _share(rates.recall),
        _share(rates.false_alarm_rate),
        _share(rates.precision),
        str(rates.flagged_unlabelled),
    )


def print_evaluation(result: Evaluation) -> None:
    table = Table(title=f"Runs flagged by an alert at {result.min_severity} or above")
    for column in ("detector", "runs flagged", "positives flagged", "negatives flagged"):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for column in ("recall", "false-alarm rate", "precision", "unlabelled flagged"):
        table.add_column(column, justify="right")
    for detector, rates in sorted(result.detectors.items(), key=lambda kv: (-kv[1].flagged_positives, kv[0])):
        _row(table, detector, rates)
    table.add_section()
    _row(table, OVERALL, result.overall)
    console.print(table)
    console.print(
        f"{result.sessions} sessions in the database; labelled: {result.positives} positive, "
        f"{result.negatives} negative; unlabelled: {len(result.unlabelled)} "
        f"({result.overall.flagged_unlabelled} of them flagged)."
    )
    if result.missing:
        examples = ", ".join(result.missing[:5])
        console.print(
            f"[yellow]{len(result.missing)} labelled sessions are not in the database[/] (e.g. {examples}): "
            "check the session ids, or replay those runs."
        )


def evaluate_command(
    db: Annotated[
        Path | None, typer.Option("--db", help="DuckDB file (default: CHAINWATCH_DB_PATH).")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help='JSON lines {"session_id": …, "label": attack|benign|1|0|…}, one per run.'),
    ] = None,
    verdicts: Annotated[
        bool, typer.Option("--verdicts", help="Label sessions by the analysts' verdicts instead of a file.")
    ] = False,
    min_severity: Annotated[
        str,
        typer.Option(
            help=f"A run is flagged by an alert at this severity or above: {', '.join(SEVERITIES)}."
        ),
    ] = "high",
    include_suppressed: Annotated[
        bool, typer.Option(help="Count alerts a suppression rule silenced as flags too.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Recall, false-alarm rate and precision of every detector on labelled runs."""
    if (labels is None) == (not verdicts):
        raise fail("give the labels: --labels FILE (JSON lines of session_id and label) or --verdicts")
    if min_severity not in SEVERITIES:
        raise fail(
            f"--min-severity {min_severity!r} is not a severity; choose one of: {', '.join(SEVERITIES)}"
        )
    try:
        file_labels = read_labels(labels) if labels is not None else None
    except LabelError as exc:
        raise fail(str(exc)) from None
    con = open_db(db)
    try:
        known = file_labels if file_labels is not None else labels_from_verdicts(con)
        result = evaluate(con, known, Severity(min_severity), include_suppressed=include_suppressed)
    except (duckdb.CatalogException, duckdb.BinderException) as exc:  # no such table, or an older one
        raise fail(f"not a chainwatch database ({exc}); write one with `chainwatch run`") from None
    finally:
        con.close()
    if json_output:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    print_evaluation(result)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
