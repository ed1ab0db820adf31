"""``chainwatch detectors …``: the detection engineer's loop — list, scaffold, test, backtest."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from detectors.base import Detector
from detectors.cases import load_cases, run_case
from detectors.engine import Engine, Runner
from detectors.registry import Catalog, kind_of, load_catalog
from detectors.scaffold import scaffold
from schemas.errors import ChainwatchError
from streams.cli.common import LakeOption, console, fail, store_target
from streams.settings import identity_resolver_for, load_settings

if TYPE_CHECKING:
    from detectors.sigma_rules import Skipped

detectors_app = typer.Typer(help="List, scaffold, test and backtest detectors.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(detectors_app, name="detectors")


SigmaOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--sigma", help="A folder of Sigma rules (repeatable), beside CHAINWATCH_ENGINE__SIGMA_DIRS."
    ),
]


def _catalog() -> Catalog:
    """The catalog the engine would run: the built-in detectors plus CHAINWATCH_ENGINE__RULES_DIRS; a
    broken rule file stops the command with its file, line and fix."""
    try:
        return load_catalog(load_settings().engine.rules_dirs)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None


def _with_sigma(extra: list[Path] | None) -> tuple[list[Detector], list[Skipped]]:
    """The catalog (with CHAINWATCH_ENGINE__RULES_DIRS), then the Sigma rules of the settings and of
    ``--sigma`` folders."""
    from detectors.sigma_rules import load_sigma_rules

    detectors: list[Detector] = list(_catalog().detectors)
    dirs = [*load_settings().engine.sigma_dirs, *(extra or [])]
    if not dirs:
        return detectors, []
    loaded = load_sigma_rules(dirs, taken_ids=[d.id for d in detectors])
    return detectors + loaded.detectors, loaded.skipped


def _judged(detector: Detector) -> str:
    kinds = sorted(k.value for k in detector.judges)
    unsure = sorted(k.value for k in detector.judges_unsure)
    return " ".join(kinds) + (f" (lower: {' '.join(unsure)})" if unsure else "")


@detectors_app.command("list")
def list_detectors(sigma: SigmaOption = None) -> None:
    """Every registered detector (and the Sigma rules given): id, title, severity, maturity, kind, key, the
    identity kinds it judges, mappings; then the Sigma rules that could not be translated, with why."""
    table = Table(show_header=True, header_style="bold")
    for name in ("id", "title", "severity", "maturity", "kind", "key", "judges", "mappings"):
        table.add_column(name, overflow="fold")
    detectors, skipped = _with_sigma(sigma)
    for detector in detectors:
        m = detector.mappings
        table.add_row(
            detector.id,
            detector.title,
            str(detector.severity),
            str(detector.maturity),
            kind_of(detector),
            detector.key,
            _judged(detector),
            " ".join([*m.owasp_agentic, *m.owasp_nhi, *m.mitre_attack]),
        )
    console.print(table)
    if skipped:
        untranslated = Table(title="Sigma rules not translated", show_header=True, header_style="bold")
        for name in ("file", "title", "why"):
            untranslated.add_column(name, overflow="fold")
        for item in skipped:
            untranslated.add_row(item.path, item.title, item.reason)
        console.print(untranslated)


@detectors_app.command("new")
def new_detector(
    detector_id: Annotated[str, typer.Argument(help="<family>.<name>, e.g. exfiltration.dns_tunnel")],
    kind: Annotated[
        str, typer.Option(help="rule (a YAML sequence rule) or python (a detector class).")
    ] = "rule",
    root: Annotated[Path, typer.Option(help="Repository root to write into.")] = Path("."),
) -> None:
    """Scaffold a detector and its case file (in a chainwatch checkout: detectors/ and tests/cases/)."""
    if not (root / "detectors").is_dir():  # never start a detectors/ tree in whatever folder we are in
        raise fail(
            f"{root.resolve()} is not a chainwatch checkout (it has no detectors/ folder): run this in "
            "the repository's root or pass --root PATH; a rule of your own can also live in any folder "
            "listed in CHAINWATCH_ENGINE__RULES_DIRS (docs/rules.md)"
        )
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
    db: Annotated[Path | None, typer.Option(help="DuckDB file with history (or give --lake).")] = None,
    lake: LakeOption = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time (ISO-8601).")
    ] = None,
    sigma: SigmaOption = None,
) -> None:
    """Run one detector (a catalog detector or a Sigma rule) over the stored history and report the alerts
    it would have raised."""
    from streams.store.database import Store, load_events

    if db is None and lake is None:
        raise fail("give the history to replay: --db FILE or --lake CATALOG")
    history = store_target(db, lake)
    if isinstance(history, Path) and not history.is_file():
        raise fail(f"{db}: no such DuckDB file; run `chainwatch run … --db {db}` first")
    found = [d for d in _with_sigma(sigma)[0] if d.id == detector_id]
    if not found:
        raise fail(
            f"no detector '{detector_id}'; `chainwatch detectors list` shows the ids (and --sigma DIR rules)"
        )
    detector = found[0]
    with Store(history, read_only=True) as store:
        events = load_events(store, since)
    runner = Runner(Engine([detector], identities=identity_resolver_for(load_settings())))
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
