"""Triage commands: ``chainwatch alerts``, ``show``, ``triage``, ``deliver`` and ``ui`` (docs/alerts.md)."""

from __future__ import annotations

import getpass
import json
import sys
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from schemas.errors import ChainwatchError
from streams.alerts.verdicts import VERDICTS, record_verdict
from streams.cli.common import (
    AsOfOption,
    DbOption,
    LakeOption,
    console,
    err_console,
    fail,
    open_db,
    parse_since,
    store_target,
)
from streams.settings import load_settings

if TYPE_CHECKING:
    from streams.alerts.delivery.pipeline import AlertPipeline


SEVERITIES = ("info", "low", "medium", "high", "critical")


def alerts(
    db: DbOption = None,
    lake: LakeOption = None,
    as_of: AsOfOption = None,
    since: Annotated[
        str | None, typer.Option(help="Only alerts last seen after: 24h, 7d, or an ISO time.")
    ] = None,
    severity: Annotated[
        str | None, typer.Option(help="Minimum severity: info, low, medium, high, critical.")
    ] = None,
    detector: Annotated[
        str | None, typer.Option(help="Detector id, or a prefix ending in '.' or '*'.")
    ] = None,
    suppressed: Annotated[bool, typer.Option(help="Include suppressed alerts.")] = True,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 200,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object (the alert view) per line.")
    ] = False,
    ocsf: Annotated[bool, typer.Option("--ocsf", help="One OCSF 1.8.0 Detection Finding per line.")] = False,
    follow: Annotated[bool, typer.Option("--follow", help="Tail the Kafka alerts topic live.")] = False,
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers (with --follow).")] = None,
    from_beginning: Annotated[bool, typer.Option(help="With --follow: start at the oldest alert.")] = False,
    max_alerts: Annotated[
        int | None, typer.Option(help="With --follow: stop after this many alerts.", hidden=True)
    ] = None,
    idle_seconds: Annotated[
        float | None, typer.Option(help="With --follow: stop after this long without alerts.", hidden=True)
    ] = None,
) -> None:
    """List alerts from DuckDB (newest first), or follow the alerts topic live with --follow."""
    if json_output and ocsf:
        raise fail("--json and --ocsf are exclusive: choose one output format")
    if severity is not None and severity not in SEVERITIES:
        raise fail(f"--severity {severity!r} is not known; choose one of: {', '.join(SEVERITIES)}")
    try:
        since_time = parse_since(since) if since else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    if follow:
        if ocsf:
            raise fail(
                "--follow prints alerts as the topic carries them; --ocsf needs the database (drop --follow)"
            )
        _follow(bootstrap, severity, detector, json_output, from_beginning, max_alerts, idle_seconds)
        return
    from streams.alerts.delivery.formats import document
    from streams.alerts.render import alert_list_table
    from streams.alerts.view import list_alerts, load_view

    con = open_db(store_target(db, lake, as_of=as_of))
    rows = list_alerts(
        con,
        since=since_time,
        min_severity=severity,
        detector=detector,
        include_suppressed=suppressed,
        limit=limit,
    )
    if json_output or ocsf:
        for row in rows:
            view = load_view(con, row.alert.alert_id)
            sys.stdout.write(json.dumps(document(view, "ocsf" if ocsf else "json"), default=str) + "\n")
        return
    if not rows:
        console.print("no alerts match")
        return
    console.print(alert_list_table(rows, title=f"{len(rows)} alerts"))
    console.print("open one with [bold]chainwatch show ID[/] (an id prefix is enough)")


def _follow(
    bootstrap: str | None,
    severity: str | None,
    detector: str | None,
    json_output: bool,
    from_beginning: bool,
    max_alerts: int | None,
    idle_seconds: float | None,
) -> None:
    import time

    from schemas.alerts import Alert
    from schemas.redaction import redact_value
    from schemas.types import SEVERITY_RANK
    from streams.alerts.render import SEVERITY_STYLE, printable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import KafkaError

    from streams.kafka.bootstrap import unreachable
    from streams.kafka.security import kafka_python_kwargs, preflight

    settings = load_settings()
    servers = bootstrap or settings.kafka.bootstrap_servers
    topic = settings.topics.alerts
    try:
        preflight(settings.kafka, servers)  # wrong TLS/SASL settings: a clear error now, not a 30 s timeout
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    try:
        consumer = KafkaConsumer(
            **kafka_python_kwargs(settings.kafka),  # TLS / SASL as configured for every Kafka client
            bootstrap_servers=servers.split(","),
            client_id=f"{settings.kafka.client_id}-alerts-follow",
            enable_auto_commit=False,
            request_timeout_ms=int(settings.kafka.request_timeout_seconds * 1000),
        )
        partitions = consumer.partitions_for_topic(topic)
    except KafkaError as exc:
        raise fail(unreachable(servers, bootstrap, exc), 1) from None
    if not partitions:
        raise fail(f"topic {topic!r} does not exist on {servers}; run `chainwatch topics create`", 1)
    assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    if from_beginning:
        consumer.seek_to_beginning(*assigned)
    else:
        consumer.seek_to_end(*assigned)
    for partition in assigned:  # resolve the start now: an alert published after the banner is shown
        consumer.position(partition)
    floor = SEVERITY_RANK[severity] if severity else -1  # type: ignore[index]
    shown = 0
    last = time.monotonic()
    err_console.print(f"following {topic} on {servers} (Ctrl-C to stop)", soft_wrap=True)
    try:
        while max_alerts is None or shown < max_alerts:
            polled = consumer.poll(timeout_ms=500)
            if not polled:
                if idle_seconds is not None and time.monotonic() - last > idle_seconds:
                    break
                continue
            last = time.monotonic()
            for records in polled.values():
                for record in records:
                    for alert in _alerts_of(record.value, Alert):
                        if SEVERITY_RANK[alert.severity] < floor or not _detector_matches(
                            alert.detector_id, detector
                        ):
                            continue
                        shown += 1
                        if json_output:
                            record = redact_value(alert.model_dump(mode="json"))  # as every output
                            sys.stdout.write(json.dumps(record) + "\n")
                            sys.stdout.flush()
                        else:
                            sev = str(alert.severity)
                            console.print(
                                Text.assemble(
                                    f"{alert.last_seen:%Y-%m-%d %H:%M:%S}  ",
                                    (f"{sev:8}", SEVERITY_STYLE.get(sev, "")),
                                    printable(
                                        f"  {alert.risk_score:3.0f}  {alert.detector_id}  {alert.title}  "
                                    ),
                                    (printable(alert.alert_id[:12]), "dim"),
                                ),
                                highlight=False,
                            )
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


def _detector_matches(detector_id: str, wanted: str | None) -> bool:
    if not wanted:
        return True
    if wanted.endswith(("*", ".")):
        return detector_id.startswith(wanted.rstrip("*"))
    return detector_id == wanted


def _alerts_of(value: bytes | None, model: Any) -> list[Any]:
    """The alerts of one topic message (one object, an array or JSON lines); others are skipped."""
    from pydantic import ValidationError

    if not value:
        return []
    try:
        data = json.loads(value)
        documents = data if isinstance(data, list) else [data]
    except ValueError:
        documents = []
        for line in value.splitlines():
            try:
                documents.append(json.loads(line))
            except ValueError:
                continue
    found = []
    for doc in documents:
        try:
            found.append(model.model_validate(doc))
        except ValidationError as exc:
            err_console.print(f"[yellow]skipped a record that is not an alert:[/] {exc.error_count()} errors")
    return found


def show(
    alert_id: Annotated[str, typer.Argument(help="Alert id (a unique prefix of 6+ characters is enough).")],
    db: DbOption = None,
    lake: LakeOption = None,
    as_of: AsOfOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="The alert view as JSON.")] = False,
    ocsf: Annotated[bool, typer.Option("--ocsf", help="The OCSF 1.8.0 Detection Finding.")] = False,
) -> None:
    """One alert: what happened, the chain as a timeline (triggering steps ▶), credential lifetimes."""
    from streams.alerts.delivery.formats import document
    from streams.alerts.render import print_alert_page
    from streams.alerts.view import AlertNotFound, load_view

    con = open_db(store_target(db, lake, as_of=as_of))
    try:
        view = load_view(con, alert_id)
    except AlertNotFound as exc:
        raise fail(str(exc), 1) from None
    if json_output or ocsf:
        sys.stdout.write(json.dumps(document(view, "ocsf" if ocsf else "json"), indent=2, default=str) + "\n")
        return
    print_alert_page(console, view)


def triage(
    alert_id: Annotated[str, typer.Argument(help="Alert id (a unique prefix of 6+ characters is enough).")],
    status: Annotated[str, typer.Option(help="true-positive, false-positive or benign.")],
    note: Annotated[str | None, typer.Option(help="Why: what you checked, what you found.")] = None,
    analyst: Annotated[str | None, typer.Option(help="Who decided (default: your login name).")] = None,
    db: DbOption = None,
    lake: LakeOption = None,
) -> None:
    """Record an analyst's verdict on an alert (append-only; the latest one counts)."""
    from streams.alerts.view import AlertNotFound

    if status not in VERDICTS:
        raise fail(f"--status {status!r} is not a verdict; choose one of: {', '.join(VERDICTS)}")
    target = store_target(db, lake)
    con = open_db(target, write=True)
    try:
        full_id = record_verdict(con, alert_id, status, note, analyst or getpass.getuser(), target=target)
    except AlertNotFound as exc:
        raise fail(str(exc), 1) from None
    finally:
        con.close()
    console.print(f"recorded [bold]{status}[/] for alert {full_id}")


def deliver(
    status: Annotated[
        bool, typer.Option("--status", help="Show the spool's counts and failures only.")
    ] = False,
    retry_rejected: Annotated[
        bool, typer.Option(help="Queue again what an endpoint refused (HTTP 4xx).")
    ] = False,
    seconds: Annotated[float, typer.Option(help="Keep retrying for at most this long.")] = 60.0,
) -> None:
    """Send what the delivery spool still holds (after an endpoint outage), or show its state."""
    from streams.alerts.delivery.deliverer import Deliverer
    from streams.alerts.render import printable

    settings = load_settings().delivery
    if not settings.spool_path.exists():  # say so, and create no spool file where none is needed
        if not settings.enabled:
            sinks = "CHAINWATCH_DELIVERY__WEBHOOKS, CHAINWATCH_DELIVERY__FILES"
            console.print(
                f"no delivery sinks are configured ({sinks}) and there is no spool at "
                f"{settings.spool_path}: nothing to deliver (docs/alerts.md)",
                highlight=False,
            )
            return
        if status:
            console.print(f"nothing spooled yet: {settings.spool_path} does not exist", highlight=False)
            return
    try:
        deliverer = Deliverer(settings)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    try:
        if retry_rejected:
            console.print(f"queued {deliverer.spool.retry_rejected()} rejected deliveries again")
        if not status:
            stats = deliverer.drain_until_empty(seconds)
            console.print(
                f"delivered {stats.delivered}, failed attempts {stats.failed_attempts}, "
                f"rejected {stats.rejected}"
            )
        for sink, counts in deliverer.spool.counts().items():
            console.print(f"{sink}: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
            if sink not in deliverer.sinks and counts.get("pending"):
                console.print(
                    f"  [yellow]{sink} is no longer configured[/]: its {counts['pending']} pending rows wait "
                    "until a sink of that name is configured again (CHAINWATCH_DELIVERY__WEBHOOKS / FILES)"
                )
        for sink, alert, state, attempts, error in deliverer.spool.problems():
            # the error quotes the endpoint's answer: text, not markup or terminal controls
            detail = printable(f" {sink} {alert} after {attempts} attempts: {error}")
            console.print(Text.assemble("  ", (state, "yellow"), detail), highlight=False)
    finally:
        deliverer.close()


def finish_delivery(pipeline: AlertPipeline, seconds: float, out: Console) -> None:
    """After `chainwatch run`: send what was spooled (up to ``seconds``), report, close."""
    try:
        if pipeline.suppressed:
            out.print(f"{pipeline.suppressed} alerts suppressed (stored with the rule that matched)")
        if pipeline.deliverer is not None:
            stats = pipeline.deliverer.drain_until_empty(seconds)
            pending = sum(c.get("pending", 0) for c in pipeline.deliverer.spool.counts().values())
            out.print(
                f"delivery: {pipeline.queued} queued, {stats.delivered} delivered"
                + (
                    f", {pending} still pending in {pipeline.deliverer.config.spool_path} "
                    "(`chainwatch deliver` sends them)"
                    if pending
                    else ""
                )
            )
    finally:
        pipeline.close()


def ui(
    db: DbOption = None,
    lake: LakeOption = None,
    host: Annotated[
        str, typer.Option(help="Bind address (keep 127.0.0.1 unless behind a proxy).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8765,
    insecure_local: Annotated[
        bool,
        typer.Option("--insecure-local", help="No bearer token (only for a local, single-user machine)."),
    ] = False,
) -> None:
    """A small triage web page: alert list with filters, chain timeline, verdict buttons.

    It requires a bearer token, read from CHAINWATCH_UI_TOKEN or generated and printed at start.
    """
    from streams.alerts.ui.server import serve
    from streams.store.access import open_read_only

    path = store_target(db, lake)
    open_read_only(path).close()  # missing, not a database, or held by a writer: say so before serving
    try:
        serve(path, host=host, port=port, insecure_local=insecure_local, out=err_console)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise fail(f"cannot listen on {host}:{port} ({exc}); pick another --port (0: any free one)") from None


def register(app: typer.Typer) -> None:
    app.command("alerts")(alerts)
    app.command("show")(show)
    app.command("triage")(triage)
    app.command("deliver")(deliver)
    app.command("ui")(ui)
    from streams.cli import analysts  # the page's per-analyst tokens: chainwatch analysts issue/revoke/list

    analysts.register(app)
