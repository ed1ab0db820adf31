"""The ``chainwatch`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from schemas.adapters import FORMATS
from schemas.errors import ChainwatchError
from streams.cli import boundary
from streams.cli.common import LakeDataOption, LakeOption, console, err_console, fail, store_target
from streams.settings import build_engine, load_settings

app = typer.Typer(
    name="chainwatch",
    help="Audit-log stream processor for AI-agent security: action chains, detections, DuckDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=boundary.GuardedGroup,  # the one error boundary: messages, not tracebacks (--debug shows them)
)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error instead of its message.")
    ] = False,
) -> None:
    """Audit-log stream processor for AI-agent security: action chains, detections, DuckDB."""
    boundary.set_debug(debug)


@app.command()
def run(
    files: Annotated[list[str], typer.Argument(help="Input files (JSON, JSON lines, or '-' for stdin).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help=f"One of: {', '.join(FORMATS)}. Detected from the content when left out."
        ),
    ] = None,
    db: Annotated[
        Path | None, typer.Option(help="DuckDB file to write (default: CHAINWATCH_DB_PATH).")
    ] = None,
    lake: LakeOption = None,
    lake_data: LakeDataOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
    top: Annotated[int, typer.Option(help="How many top alerts to print.")] = 10,
) -> None:
    """Replay files through every enabled detector into DuckDB (no Kafka needed)."""
    from streams.cli.render import alerts_table, print_summary
    from streams.ingest.replay import replay

    settings = load_settings()
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format {fmt!r} is not known; choose one of: {', '.join(FORMATS)}")
    try:  # a broken rule file (RuleError) or identities file stops the run before any input is read
        engine = build_engine(settings)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    db_path = store_target(db, lake, lake_data)
    show_progress = console.is_terminal and not json_output
    from streams.alerts.delivery.pipeline import AlertPipeline

    try:  # suppression rules and alert delivery (docs/alerts.md); None when neither is configured
        pipeline = AlertPipeline.from_settings(settings.delivery)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    try:
        if show_progress:
            with Progress(
                TextColumn("detecting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("events", total=None)
                report = replay(
                    files,
                    engine,
                    db_path=db_path,
                    fmt=fmt,
                    progress=lambda n: bar.advance(task, n),
                    pipeline=pipeline,
                    max_record_bytes=settings.max_record_bytes,
                )
        else:
            report = replay(
                files,
                engine,
                db_path=db_path,
                fmt=fmt,
                pipeline=pipeline,
                max_record_bytes=settings.max_record_bytes,
            )
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    finally:
        if pipeline is not None:
            from streams.cli.alerts import finish_delivery

            finish_delivery(pipeline, settings.delivery.drain_seconds, err_console)
    if json_output:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    else:
        print_summary(console, report)
        if report.alerts:
            console.print(alerts_table(report.top_alerts(top)))
    # Said, not failed: a file of bad records is a legitimate input (its dead letters are stored), but a
    # wrong --format must not pass in silence.
    for item in report.inputs:
        if item.note:
            err_console.print(Text.assemble(("warning:", "bold yellow"), " ", item.note), highlight=False)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Where to write the native JSON-lines events.")] = Path(
        "simulated.jsonl"
    ),
    seed: Annotated[int, typer.Option(help="Same seed, same output.")] = 7,
    sessions: Annotated[int, typer.Option(help="Number of agent sessions.")] = 60,
    attack_ratio: Annotated[float, typer.Option(help="Share of sessions that are attack chains.")] = 0.1,
) -> None:
    """Write a realistic, seeded workload of agent sessions (benign work with attack chains mixed in)."""
    from streams.simulator.workload import simulate as run_simulation
    from streams.simulator.workload import write_jsonl

    simulated = run_simulation(seed=seed, sessions=sessions, attack_ratio=attack_ratio)
    events = sorted((e for s in simulated for e in s.events), key=lambda e: e.event_time)
    write_jsonl(events, out)
    attacks = sum(1 for s in simulated if s.is_attack)
    console.print(
        f"wrote {len(events)} events of {len(simulated)} sessions ({attacks} attack chains) to {out}"
    )


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="DuckDB file the demo writes.")] = Path("demo/chainwatch.duckdb"),
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
    sessions: Annotated[int, typer.Option(help="Number of simulated sessions.")] = 120,
    show: Annotated[int, typer.Option(help="How many alerts to print with their chains.")] = 5,
) -> None:
    """Simulate agent sessions, detect, write DuckDB, print the alerts with their chains."""
    from streams.cli.render import alerts_table, print_alert, print_summary
    from streams.ingest.replay import replay
    from streams.simulator.workload import simulate as run_simulation
    from streams.simulator.workload import write_jsonl
    from streams.store.database import Store

    simulated = run_simulation(seed=seed, sessions=sessions, attack_ratio=0.1)
    events = sorted((e for s in simulated for e in s.events), key=lambda e: e.event_time)
    db.parent.mkdir(parents=True, exist_ok=True)
    workload = db.parent / "workload.jsonl"
    write_jsonl(events, workload)
    console.print(
        f"simulated {len(simulated)} agent sessions ({sum(s.is_attack for s in simulated)} attack chains)"
        f" → {workload}"
    )
    report = replay([str(workload)], build_engine(load_settings()), db_path=db, fmt="native")
    print_summary(console, report)
    if not report.alerts:
        return
    console.print(alerts_table(report.top_alerts(20), title="alerts"))
    with Store(db, read_only=True) as store:
        for alert in report.top_alerts(show):
            rows = store.con.execute(
                "SELECT event_id, event_time, kind, tool, action, target, environment, decision, outcome, "
                "credential_id FROM events WHERE session_id = ? UNION ALL "
                "SELECT event_id, event_time, 'credential', 'credential', action, credential_id, "
                "NULL, NULL, NULL, "
                "credential_id FROM credentials WHERE session_id = ? ORDER BY event_time, event_id",
                [alert.session_id, alert.session_id],
            ).fetchall()
            names = [
                "event_id",
                "event_time",
                "kind",
                "tool",
                "action",
                "target",
                "environment",
                "decision",
                "outcome",
                "credential_id",
            ]
            print_alert(console, alert, [dict(zip(names, row, strict=True)) for row in rows])
    console.print(
        f"\nQuery it with DuckDB's Python package: [bold]duckdb.connect('{db}', read_only=True)[/] — views "
        "audit_trail, blast_radius_sessions, credential_posture, detector_health and more "
        f"(docs/data-dictionary.md, the notebooks); an alert's page: chainwatch show ALERT_ID --db {db}"
    )


schema_app = typer.Typer(help="The event contract as JSON Schema.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


@schema_app.command("export")
def schema_export(
    out: Annotated[Path, typer.Option(help="Folder for the JSON Schema files.")] = Path("schemas/jsonschema"),
) -> None:
    """Write one JSON Schema file per contract model."""
    from schemas.jsonschema_export import export_json_schemas

    written = export_json_schemas(out)
    for path in written:
        console.print(f"wrote {path}")


def _register_commands() -> None:
    from streams.cli import (
        alerts,
        db,
        detectors,
        evaluate,
        guard,
        kafka,
        model,
        receive,
        tools,
        verify,
        worker,
    )

    detectors.register(app)
    worker.register(app)
    kafka.register(app)
    alerts.register(app)  # alerts, show, triage, ui (docs/alerts.md)
    verify.register(app)
    db.register(app)  # export --parquet, db views (docs/data-dictionary.md)
    receive.register(app)  # receive: the OTLP/HTTP receiver (docs/telemetry.md)
    model.register(app)  # model train/evaluate/show/promote/simulate (docs/models.md)
    evaluate.register(app)  # evaluate: detection quality on labelled runs (docs/detectors-guide.md)
    tools.register(app)  # tools: the tools seen, their capabilities and why (docs/detectors-guide.md)
    guard.register(app)  # guard serve/hook/mcp/flush: decide before a tool call runs (docs/guard.md)


_register_commands()


def main() -> None:
    app(prog_name="chainwatch")


if __name__ == "__main__":
    main()
