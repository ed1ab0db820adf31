"""``chainwatch produce``, ``chainwatch load`` and ``chainwatch topics create|describe``.

Registered on the main CLI by ``streams.cli``; ``python -m streams.cli.kafka …`` runs the same commands
on their own.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from schemas.adapters import FORMATS
from schemas.errors import ChainwatchError
from streams.cli.common import LakeDataOption, LakeOption, fail, store_target
from streams.settings import load_settings

topics_app = typer.Typer(help="Create and inspect the Kafka topics chainwatch uses.", no_args_is_help=True)
state_app = typer.Typer(help="The workers' saved state per key (changelog topics).", no_args_is_help=True)

Bootstrap = Annotated[
    str | None,
    typer.Option(
        "--bootstrap", help="Kafka bootstrap servers (default: CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS)."
    ),
]


def register(app: typer.Typer) -> None:
    app.command("produce")(produce)
    app.command("load")(load)
    app.add_typer(topics_app, name="topics")
    app.add_typer(state_app, name="state")


@state_app.command("forget")
def state_forget(
    scope: Annotated[str, typer.Argument(help="The key's scope: session, agent, principal or credential.")],
    key: Annotated[str, typer.Argument(help="The key, as the dead letter names it (a session id, …).")],
    bootstrap: Bootstrap = None,
) -> None:
    """Forget one key's saved state: a tombstone on its scope's changelog topic.

    For a state that cannot be read (damaged bytes; its events are dead-lettered with this command as the
    fix). Stop the workers first; when they start again they rebuild their tables without the key, which
    starts afresh, without its history. A state written by a newer chainwatch needs that chainwatch, not this.
    """
    from streams.kafka.forget import forget_key

    try:
        topic, partition = forget_key(load_settings(), scope, key, bootstrap)
    except ChainwatchError as exc:
        raise fail(str(exc), 1) from None
    typer.echo(
        f"tombstone for {scope} key {key!r} written to {topic} (partition {partition}); start the workers"
    )


def produce(
    files: Annotated[
        list[str], typer.Argument(help="Input files (JSON, JSON lines, CloudTrail, …) or '-' for stdin.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help=f"One of: {', '.join(FORMATS)}. Detected from each input's content when left out.",
        ),
    ] = None,
    bootstrap: Bootstrap = None,
    batch_events: Annotated[
        int | None,
        typer.Option(
            help="Events per message at most (default: CHAINWATCH_WORKER__BATCH_MAX_EVENTS).", min=1
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Send events from files to the events topic as batch messages keyed by session.

    Records that are not valid events are reported and sent to the dead-letter topic with their reason.
    """
    from schemas.errors import UnreadableInput
    from streams.kafka.bootstrap import BootstrapInvalid
    from streams.kafka.producer import produce_files

    settings = load_settings()
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format {fmt!r} is not known; choose one of: {', '.join(FORMATS)}")
    try:
        report = produce_files(files, settings, fmt=fmt, bootstrap=bootstrap, max_events=batch_events)
    except ChainwatchError as exc:  # a mistake in the command line: 2; the broker side failed: 1
        raise fail(str(exc), 2 if isinstance(exc, UnreadableInput | BootstrapInvalid) else 1) from None
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for entry in report.inputs:
            if entry.error:
                typer.echo(f"{entry.origin}: NOT SENT — {entry.error}", err=True)
            else:
                typer.echo(
                    f"{entry.origin} ({entry.format}): {entry.records} records, {entry.events} events, "
                    f"{entry.dead_letters} dead letters"
                )
        typer.echo(
            f"sent {report.events} events of {report.sessions} sessions in {report.messages} messages "
            f"({report.bytes} bytes, {report.partitions_used} partitions) to {settings.topics.events}"
        )
        if report.dead_letters:
            typer.echo(
                f"{report.dead_letters} invalid records sent to {settings.topics.dead_letters}; "
                "first reasons:",
                err=True,
            )
            for reason in report.reasons:
                typer.echo(f"  - {reason}", err=True)
    if report.failed_inputs:
        raise typer.Exit(2)


def load(
    db: Annotated[
        Path | None, typer.Option(help="DuckDB file to write (default: CHAINWATCH_DB_PATH).")
    ] = None,
    lake: LakeOption = None,
    lake_data: LakeDataOption = None,
    bootstrap: Bootstrap = None,
    group: Annotated[
        str | None, typer.Option(help="Consumer group (default: CHAINWATCH_KAFKA__LOADER_GROUP_ID).")
    ] = None,
    until_idle: Annotated[
        float | None,
        typer.Option(
            help="Exit once nothing new arrived for this many seconds (tests, batch jobs). "
            "Default: run until SIGTERM/SIGINT.",
            min=0.0,
        ),
    ] = None,
    batch_records: Annotated[
        int | None,
        typer.Option(
            help="Records per DuckDB transaction (default: CHAINWATCH_KAFKA__LOADER_BATCH_RECORDS).", min=1
        ),
    ] = None,
    batch_seconds: Annotated[
        float | None,
        typer.Option(
            help="Longest wait before a partial batch is written "
            "(default: CHAINWATCH_KAFKA__LOADER_BATCH_SECONDS).",
            min=0.01,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the counts as JSON at exit.")] = False,
) -> None:
    """Store events, dead letters, findings, alerts and chains from Kafka in DuckDB (a file, or a lake that
    everyone reads while the loader writes: --lake).

    Offsets are committed only after each DuckDB transaction commits; SIGTERM/SIGINT finish the current
    batch, commit and exit.
    """
    import faulthandler
    import signal

    from streams.kafka.loader import Loader, install_signal_handlers

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: every thread's stack

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("kafka", "kafka.coordinator", "kafka.conn"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = load_settings()
    db_path = store_target(db, lake, lake_data)
    from streams.alerts.delivery.pipeline import AlertPipeline

    try:  # suppression rules and alert delivery (docs/alerts.md); None when neither is configured
        pipeline = AlertPipeline.from_settings(settings.delivery, background=True)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    loader = Loader(
        settings,
        db_path,
        bootstrap=bootstrap,
        group_id=group,
        until_idle=until_idle,
        batch_records=batch_records,
        batch_seconds=batch_seconds,
        alert_pipeline=pipeline,
    )
    install_signal_handlers(loader)
    try:
        stats = loader.run()
    except ChainwatchError as exc:
        raise fail(str(exc), 1) from None
    finally:
        if pipeline is not None:
            pipeline.close()
    if json_output:
        typer.echo(json.dumps(stats.to_dict(), indent=2))
    else:
        records = ", ".join(f"{n} {role}" for role, n in sorted(stats.records.items())) or "no records"
        typer.echo(
            f"loaded {records} into {db_path}: {stats.rows} rows in {stats.batches} transactions"
            + (f"; {stats.commit_failures} offset commits retried" if stats.commit_failures else "")
        )


@topics_app.command("create")
def topics_create(bootstrap: Bootstrap = None) -> None:
    """Create the source, dead-letter, findings, alerts and chains topics (existing ones are checked)."""
    from streams.kafka.topics import create_topics

    settings = load_settings()
    try:
        results = create_topics(settings, bootstrap)
    except ChainwatchError as exc:
        raise fail(str(exc), 1) from None
    problems = 0
    for result in results:
        spec = result.spec
        configs = ", ".join(f"{k}={v}" for k, v in spec.configs.items())
        typer.echo(f"{result.status:8} {spec.name} ({spec.role}): {result.partitions} partitions; {configs}")
        for problem in result.problems:
            problems += 1
            typer.echo(f"         ! {problem}", err=True)
    if problems:
        raise typer.Exit(1)


@topics_app.command("describe")
def topics_describe(
    bootstrap: Bootstrap = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="Consumer groups whose committed offsets to show "
            "(default: the loader group and the worker's app id)."
        ),
    ] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Other topics to describe too.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Partitions, offsets and consumer-group lag of chainwatch's topics."""
    from streams.kafka.topics import describe_topics, format_description

    settings = load_settings()
    groups = group or [settings.kafka.loader_group_id, settings.worker.app_id]
    try:
        infos = describe_topics(settings, bootstrap, extra_topics=topic or (), groups=groups)
    except ChainwatchError as exc:
        raise fail(str(exc), 1) from None
    if json_output:
        typer.echo(json.dumps([i.to_dict(groups) for i in infos], indent=2))
    else:
        typer.echo(format_description(infos, groups))
    if any(not i.exists for i in infos if i.role != "other"):
        raise typer.Exit(1)


def main() -> None:
    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
    register(app)
    app()


if __name__ == "__main__":
    main()
