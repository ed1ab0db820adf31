"""Terminal rendering of replay summaries and alerts with their chain timeline (rich)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.alerts import Alert
from streams.alerts.render import SEVERITY_STYLE, detail_notes, plain
from streams.ingest.replay import ReplayReport


def print_summary(console: Console, report: ReplayReport) -> None:
    table = Table(title="chainwatch run", show_header=True, header_style="bold")
    table.add_column("input")
    table.add_column("format")
    table.add_column("events", justify="right")
    table.add_column("sessions", justify="right")
    table.add_column("dead letters", justify="right")
    for item in report.inputs:
        table.add_row(item.origin, item.format, str(item.events), str(item.sessions), str(item.dead_letters))
    console.print(table)
    console.print(
        f"[bold]{report.events}[/] events in [bold]{report.sessions}[/] sessions, "
        f"[bold]{report.dead_letters}[/] dead letters, {report.late_events} late events, "
        f"[bold]{report.findings}[/] findings, [bold]{len(report.alerts)}[/] alerts"
    )
    if report.alerts:
        parts = [
            Text(f"{sev}: {n}", style=SEVERITY_STYLE.get(sev, ""))
            for sev, n in report.alerts_by_severity().items()
        ]
        console.print(Text("alerts by severity  ").append(Text("  ").join(parts)))
    if report.db_path:
        console.print(f"written to [bold]{report.db_path}[/]")


def alerts_table(alerts: Sequence[Alert], title: str = "top alerts") -> Table:
    table = Table(title=title, show_header=True, header_style="bold", expand=False)
    table.add_column("severity")
    table.add_column("risk", justify="right")
    table.add_column("detector")
    table.add_column("title", overflow="fold")
    table.add_column("session", overflow="fold")
    for alert in alerts:
        sev = str(alert.severity)
        table.add_row(
            Text(sev, style=SEVERITY_STYLE.get(sev, "")),
            f"{alert.risk_score:.0f}",
            plain(alert.detector_id),
            plain(alert.title),
            plain(alert.session_id),
        )
    return table


def timeline_table(alert: Alert, events: Sequence[dict[str, Any]]) -> Table:
    """The alert's session as a timeline; the events that triggered the alert are marked ▶."""
    triggered = set(alert.event_ids)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for name in ("", "time", "tool", "action", "target", "env", "decision", "outcome", "credential"):
        table.add_column(name, overflow="fold")
    for event in events:
        mark = "▶" if event["event_id"] in triggered else " "
        when = event["event_time"]
        text = when.strftime("%Y-%m-%d %H:%M:%S") if isinstance(when, datetime) else str(when)
        style = "bold" if mark == "▶" else "dim"
        columns = ("action", "target", "environment", "decision", "outcome", "credential_id")
        table.add_row(
            mark,
            text,
            plain(event.get("tool") or event.get("kind")),
            *(plain(event.get(column)) for column in columns),
            style=style,
        )
    return table


def print_alert(console: Console, alert: Alert, events: Sequence[dict[str, Any]]) -> None:
    sev = str(alert.severity)
    console.rule(
        Text(f"{sev.upper()}  risk {alert.risk_score:.0f}  {alert.title}", style=SEVERITY_STYLE.get(sev, ""))
    )
    console.print(
        Text.assemble(
            ("detector ", "bold"),
            f"{alert.detector_id} v{alert.detector_version}",
            ("   session ", "bold"),
            alert.session_id,
            ("   agent ", "bold"),
            alert.agent_id or "-",
            ("   on behalf of ", "bold"),
            alert.principal or "-",
            ("   kind ", "bold"),
            alert.identity_kind or "-",
        )
    )
    for note in detail_notes(alert.details):
        console.print(Text.assemble(("note ", "bold"), note))
    if alert.credential_ids:
        console.print(Text.assemble(("credentials ", "bold"), ", ".join(alert.credential_ids)))
    mappings = alert.mappings
    tags = [*mappings.owasp_agentic, *mappings.owasp_nhi, *mappings.mitre_attack]
    if tags:
        console.print(Text.assemble(("mappings ", "bold"), " ".join(tags)))
    console.print(timeline_table(alert, events))
    console.print(Text.assemble(("what to do ", "bold"), alert.runbook))
