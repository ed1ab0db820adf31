"""`chainwatch show`: one alert as a terminal page (rich): header, evidence timeline, lifetimes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from streams.alerts.view import AlertRow, AlertView, CredentialLifetime

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


# Characters that would act on the analyst's terminal instead of being shown: C0/C1 controls (ESC starts
# sequences that clear the screen, rewrite lines, set the clipboard via OSC 52), DEL, and the bidi
# overrides that display text in another order than it is stored. Rich drops some (BEL, CR), not ESC.
_UNPRINTABLE = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (
        *range(0x00, 0x20),
        0x7F,
        *range(0x80, 0xA0),
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
}


def printable(value: object) -> str:
    """Audited text (titles, targets, tasks, ids) as it may be written to a terminal: every control
    character shown as an escape (``\\x1b``), never sent as one."""
    return str(value).translate(_UNPRINTABLE)


def plain(value: object) -> Text:
    """Audited text (titles, targets, tool names) shown literally: never read as rich markup or emoji, and
    control characters (terminal escapes) shown escaped, never sent."""
    return Text("" if value is None else printable(value))


BAR_WIDTH = 60
DECISION_STYLE = {"denied": "red", "auto_allowed": "yellow", "bypassed": "bold red", "approved": "green"}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def alert_list_table(rows: Sequence[AlertRow], title: str = "alerts") -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    for name, justify in (
        ("id", "left"),
        ("last seen", "left"),
        ("severity", "left"),
        ("risk", "right"),
        ("detector", "left"),
        ("title", "left"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        alert = row.alert
        sev = str(alert.severity)
        if row.suppressed_by:
            status = Text(printable(f"suppressed ({row.suppressed_by})"), style="dim")
        elif row.verdict:
            status = Text(
                printable(row.verdict), style="green" if row.verdict != "true-positive" else "bold red"
            )
        else:
            status = Text("new")
        table.add_row(
            Text(printable(alert.alert_id[:12])),
            _when(alert.last_seen),
            Text(sev, style=SEVERITY_STYLE.get(sev, "")),
            f"{alert.risk_score:.0f}",
            Text(printable(alert.detector_id)),
            Text(printable(alert.title)),
            status,
        )
    return table


def _timeline(view: AlertView) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for name in ("", "time", "tool", "action", "target", "env", "decision", "outcome", "credential"):
        table.add_column(name, overflow="fold")
    for event in view.events:
        style = "bold" if event.triggering else "dim"
        decision = event.decision or ""
        # Text cells, never markup: targets and actions come from the audited systems (a target such as
        # "…:secret:prod/…" or "[red]" must print as it is).
        table.add_row(
            Text("▶", style="bold red") if event.triggering else "",
            _when(event.time),
            Text(printable(event.tool or event.kind)),
            Text(printable(event.action or "")),
            Text(printable(event.target or "")),
            Text(printable(event.environment or "")),
            Text(printable(decision), style=DECISION_STYLE.get(decision, "") if event.triggering else ""),
            Text(printable(event.outcome or "")),
            Text(printable(event.credential_id or "")),
            style=style,
        )
    return table


def _credential_end(cred: CredentialLifetime) -> datetime | None:
    if cred.revoked_at:
        return cred.revoked_at
    if cred.expires_at:
        return cred.expires_at
    if cred.issued_at and cred.ttl_seconds is not None:
        return cred.issued_at + timedelta(seconds=cred.ttl_seconds)
    return None


def lifetimes(view: AlertView, width: int = BAR_WIDTH) -> RenderableType | None:
    """The credentials' lifetimes drawn against the session's on one time axis.

    The axis spans the session and every use and revocation; a credential that stays valid past its
    end runs off the right edge with how long it outlived the session.
    """
    if not view.credentials or view.session_started is None:
        return None
    session_end = view.session_ended or (view.events[-1].time if view.events else view.session_started)
    points = [view.session_started, session_end]
    for cred in view.credentials:
        points += [p for p in (cred.issued_at, cred.first_used, cred.last_used, cred.revoked_at) if p]
    start, end = min(points), max(points)
    span = max((end - start).total_seconds(), 1.0)

    def col(moment: datetime) -> int:
        return min(width - 1, max(0, round((moment - start).total_seconds() / span * (width - 1))))

    def bar(first: datetime, last: datetime | None, style: str) -> Text:
        left = col(first)
        right = col(last) if last is not None and last <= end else width - 1
        text = Text(" " * left)
        text.append("█" * (right - left + 1), style=style)
        text.append(" " * (width - right - 1))
        return text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(
        Text("lifetimes", style="bold"),
        Text(f"{_when(start)} {'─' * (width - 40)} {_when(end)}", style="dim"),
        Text(f"axis {_duration(span)}", style="dim"),
    )
    grid.add_row(
        "session",
        bar(view.session_started, session_end, "cyan"),
        f"{_when(view.session_started)} → {_when(view.session_ended) if view.session_ended else 'open'}",
    )
    for cred in view.credentials:
        began = cred.issued_at or cred.first_used or start
        finish = _credential_end(cred)
        style = "green" if cred.state == "revoked" else "bold red"
        note = f"issued {_when(cred.issued_at)}"
        if cred.ttl_seconds is not None:
            note += f", TTL {_duration(cred.ttl_seconds)}"
        note += f", last use {_when(cred.last_used)}, {cred.uses} uses, "
        if cred.revoked_at:
            note += f"revoked {_when(cred.revoked_at)}"
        else:
            note += "NOT revoked"
            if finish is not None and finish > session_end:
                note += f", valid {_duration((finish - session_end).total_seconds())} past the session"
            elif finish is None:
                note += ", no expiry known"
        grid.add_row(
            Text(printable(cred.credential_id)), bar(began, finish if finish else None, style), Text(note)
        )
        marks = [" "] * width
        for event in view.events:
            if event.credential_id == cred.credential_id and event.kind == "tool_call":
                c = col(event.time)
                if marks[c] != "▲":  # a triggering call wins its column
                    marks[c] = "▲" if event.triggering else "·"
        uses = Text()
        for mark in marks:
            uses.append(mark, style="bold red" if mark == "▲" else "")
        grid.add_row(Text("  used", style="dim"), uses, Text("▲ triggering call  · other call", style="dim"))
    return grid


def detail_notes(details: dict[str, Any]) -> list[str]:
    """What an analyst must read before the timeline: why the severity was lowered (identity kind), that
    a deletion was clean-up, which Sigma rule fired (with its level, author and tags)."""
    notes = [str(details[k]) for k in ("identity_note", "teardown_note") if details.get(k)]
    sigma = details.get("sigma")
    if isinstance(sigma, dict):
        tags = " ".join(str(t) for t in sigma.get("tags") or ())
        notes.append(
            f"Sigma rule {sigma.get('title')} ({sigma.get('id') or 'no id'}), level {sigma.get('level')}, "
            f"by {sigma.get('author') or 'unknown author'}" + (f", tags {tags}" if tags else "")
        )
    return notes


def alert_page(view: AlertView) -> RenderableType:
    alert = view.alert
    sev = str(alert.severity)
    lines: list[RenderableType] = []
    head = Text()
    head.append(f" {sev.upper()} ", style=SEVERITY_STYLE.get(sev, ""))
    head.append(f"  risk {alert.risk_score:.0f}  ", style="bold")
    head.append(printable(alert.title), style="bold")
    lines.append(head)
    lines.append(
        Text.assemble(
            ("alert ", "bold"),
            printable(alert.alert_id),
            ("   detector ", "bold"),
            printable(f"{alert.detector_id} v{alert.detector_version}"),
        )
    )
    lines.append(
        Text.assemble(
            ("session ", "bold"),
            printable(alert.session_id),
            ("   agent ", "bold"),
            printable(alert.agent_id or "-"),
            ("   on behalf of ", "bold"),
            printable(alert.principal or "-"),
            ("   kind ", "bold"),
            printable(alert.identity_kind or "-"),
        )
    )
    for note in detail_notes(alert.details):
        lines.append(Text.assemble(("note ", "bold"), printable(note)))
    if view.integrity_warning:
        lines.append(Text.assemble(("INTEGRITY ", "bold red"), printable(view.integrity_warning)))
    if view.task:
        lines.append(Text.assemble(("task ", "bold"), printable(view.task)))
    seen = Text.assemble(
        ("first seen ", "bold"), _when(alert.first_seen), ("   last seen ", "bold"), _when(alert.last_seen)
    )
    if view.blast_radius:
        radius = view.blast_radius
        seen.append("   blast radius ", style="bold")
        seen.append(
            f"reachable {radius['reachable']:.0f}, touched {radius['touched']:.0f}, "
            f"weighted {radius['weighted']:.1f}"
        )
    lines.append(seen)
    tags = [*alert.mappings.owasp_agentic, *alert.mappings.owasp_nhi, *alert.mappings.mitre_attack]
    if tags:
        lines.append(Text.assemble(("mappings ", "bold"), printable(" ".join(tags))))
    if view.suppressed_by:
        lines.append(
            Text.assemble(
                ("SUPPRESSED ", "bold yellow"),
                printable(f"by rule {view.suppressed_by}: {view.suppression_reason or ''}"),
            )
        )
    if view.verdict:
        verdict = view.verdict
        lines.append(
            Text.assemble(
                ("verdict ", "bold"),
                printable(
                    f"{verdict.status} by {verdict.analyst or '?'} at {_when(verdict.recorded_at)}"
                    + (f": {verdict.note}" if verdict.note else "")
                ),
            )
        )
    lines.append(Text(""))
    lines.append(_timeline(view))
    bars = lifetimes(view)
    if bars is not None:
        lines.append(Text(""))
        lines.append(bars)
    lines.append(Text(""))
    lines.append(Text.assemble(("what to do ", "bold"), printable(alert.runbook or "-")))
    return Group(*lines)


def print_alert_page(console: Console, view: AlertView) -> None:
    console.print(alert_page(view))
