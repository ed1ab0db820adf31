"""``chainwatch detectors …``: the detection engineer's loop — list, scaffold, test, backtest."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from detectors.cases import load_cases, run_case
from detectors.engine import Engine, Runner
from detectors.registry import Catalog, kind_of, load_catalog
from detectors.scaffold import scaffold
from schemas.errors import ChainwatchError
from streams.cli.common import fail
from streams.settings import load_settings

console = Console()
detectors_app = typer.Typer(help="List, scaffold, test and backtest detectors.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(detectors_app, name="detectors")


def _catalog() -> Catalog:
    """The catalog the engine would run: the built-in detectors plus CHAINWATCH_ENGINE__RULES_DIRS; a
    broken rule file stops the command with its file, line and fix."""
    try:
        return load_catalog(load_settings().engine.rules_dirs)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None


@detectors_app.command("list")
def list_detectors() -> None:
    """Every registered detector: id, title, severity, maturity, kind, mappings."""
    table = Table(show_header=True, header_style="bold")
    for name in ("id", "title", "severity", "maturity", "kind", "key", "mappings"):
        table.add_column(name, overflow="fold")
    for detector in _catalog().detectors:
        m = detector.mappings
        table.add_row(
            detector.id,
            detector.title,
            str(detector.severity),
            str(detector.maturity),
            kind_of(detector),
            detector.key,
            " ".join([*m.owasp_agentic, *m.owasp_nhi, *m.mitre_attack]),
        )
    console.print(table)


@detectors_app.command("new")
def new_detector(
    detector_id: Annotated[str, typer.Argument(help="<family>.<name>, e.g. exfiltration.dns_tunnel")],
    kind: Annotated[
        str, typer.Option(help="rule (a YAML sequence rule) or python (a detector class).")
    ] = "rule",
    root: Annotated[Path, typer.Option(help="Repository root to write into.")] = Path("."),
) -> None:
    """Scaffold a detector and its case file."""
    try:
        written = scaffold(detector_id, kind, root)
    except ValueError as exc:
        raise fail(str(exc)) from None
    for path in written:
        console.print(f"wrote {path}")
    console.print(
        f"next: fill in the condition and the cases, then `chainwatch detectors test {detector_id}`"
    )


@detectors_app.command("test")
def test_detectors(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Detector ids (default: all with case files).")
    ] = None,
    cases_dir: Annotated[Path, typer.Option(help="Folder of case files.")] = Path("tests/cases"),
) -> None:
    """Run detectors' case files (positive, negative, edge) without Kafka; exit 1 on any failure."""
    catalog = _catalog()
    files = sorted(cases_dir.rglob("*.yml"))
    failures = 0
    ran = 0
    table = Table(show_header=True, header_style="bold")
    for name in ("result", "case", "expect", "detail"):
        table.add_column(name, overflow="fold")
    for path in files:
        for case in load_cases(path):
            if ids and case.detector_id not in ids:
                continue
            ran += 1
            try:
                result = run_case(catalog.by_id(case.detector_id), case)
                passed, message = result.passed, result.message
            except (KeyError, ValueError) as exc:
                passed, message = False, str(exc)
            failures += not passed
            table.add_row(
                "[green]pass[/]" if passed else "[bold red]FAIL[/]", case.test_id, case.expect, message
            )
    console.print(table)
    console.print(f"{ran - failures} passed, {failures} failed")
    if ran == 0:
        console.print(f"[yellow]no case files found for {ids or 'any detector'} under {cases_dir}[/]")
        raise typer.Exit(1)
    if failures:
        raise typer.Exit(1)


@detectors_app.command("backtest")
def backtest(
    detector_id: Annotated[str, typer.Argument(help="The detector to try on history.")],
    db: Annotated[Path, typer.Option(help="DuckDB file with history.")],
    since: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time (ISO-8601).")
    ] = None,
) -> None:
    """Run one detector over the stored history and report the alerts it would have raised."""
    from streams.store.database import Store, load_events

    if not db.is_file():
        raise fail(f"{db}: no such DuckDB file; run `chainwatch run … --db {db}` first")
    try:
        detector = _catalog().by_id(detector_id)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    with Store(db, read_only=True) as store:
        events = load_events(store, since)
    runner = Runner(Engine([detector]))
    output = runner.feed(events)
    output.extend(runner.flush())
    console.print(
        f"{detector_id}: {len(events)} events replayed, {len(output.findings)} findings, "
        f"{len(output.alerts)} alerts would have been raised"
    )
    per_day = Counter(a.first_seen.date().isoformat() for a in output.alerts)
    per_agent = Counter(a.agent_id or "-" for a in output.alerts)
    for title, counts in (("per day", per_day), ("per agent", per_agent)):
        table = Table(title=f"alerts {title}", show_header=True, header_style="bold")
        table.add_column(title.split()[1])
        table.add_column("alerts", justify="right")
        for name, count in sorted(counts.items()):
            table.add_row(name, str(count))
        console.print(table)
    for alert in sorted(output.alerts, key=lambda a: a.first_seen)[:20]:
        console.print(
            f"  {alert.first_seen:%Y-%m-%d %H:%M:%S}  {alert.severity!s:8}  {alert.title}"
            f"  [{alert.session_id}]"
        )
