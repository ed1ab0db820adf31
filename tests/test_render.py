"""Audited text is shown literally in the terminal: an agent controls titles, targets and tool names."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from schemas.alerts import Alert
from schemas.types import Severity
from streams.cli.render import alerts_table, print_alert

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOSTILE_TARGET = "arn:aws:secretsmanager:secret:prod/db [bold red]FAKE[/] [link=http://x]y[/link]"


def hostile_alert() -> Alert:
    return Alert(
        alert_id="a1",
        detector_id="exfiltration.secret_read",
        key="s1",
        session_id="s1",
        agent_id="bot[/]",
        severity=Severity.HIGH,
        risk_score=70.0,
        title="read :secret: [blink]now[/blink]",
        event_ids=("e1",),
        first_seen=T0,
        last_seen=T0,
        runbook="revoke [red]x[/red]",
    )


def rendered(draw: object) -> str:
    console = Console(width=400, record=True, color_system=None)
    console.print(draw)
    return console.export_text()


def test_alert_page_prints_markup_and_emoji_codes_literally() -> None:
    console = Console(width=400, record=True, color_system=None)
    event = {
        "event_id": "e1",
        "event_time": T0,
        "tool": "aws",
        "action": "[i]get[/i]",
        "target": HOSTILE_TARGET,
    }
    print_alert(console, hostile_alert(), [event])
    text = console.export_text()
    assert HOSTILE_TARGET in text
    assert "[i]get[/i]" in text
    assert "read :secret: [blink]now[/blink]" in text
    assert "agent bot[/]" in text
    assert "revoke [red]x[/red]" in text


def test_alerts_table_prints_titles_literally() -> None:
    text = rendered(alerts_table([hostile_alert()]))
    assert ":secret: [blink]now[/blink]" in text


def test_terminal_escapes_in_audited_text_are_shown_not_sent() -> None:
    alert = hostile_alert().model_copy(update={"title": "ok\x1b[2J\x1b]52;c;ZXZpbA==\x07 \u202eevil"})
    text = rendered(alerts_table([alert]))
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "\\u202e" in text
