"""The bodies a sink receives: the alert view as JSON, an OCSF Detection Finding, a Slack message."""

from __future__ import annotations

from typing import Any

import orjson

from schemas.redaction import redact_value
from streams.alerts.ocsf import to_ocsf
from streams.alerts.view import AlertView

SLACK_EMOJI = {"critical": ":rotating_light:", "high": ":red_circle:", "medium": ":large_orange_diamond:"}
SECTION_LIMIT = 3000  # Slack refuses a section text over 3,000 characters (and with it the whole message)
HEADER_LIMIT = 150  # plain_text of a header block


def slack_escape(text: object) -> str:
    """Audited text as Slack shows it, never as control sequences.

    Titles, tasks, targets and agent names come from the agents being audited. Slack's mrkdwn reads
    ``<!channel>``, ``<@U123>`` and ``<https://evil|revoke here>`` as mentions and disguised links, so
    ``&``, ``<`` and ``>`` are escaped as Slack documents. Formatting marks (``*``, ``_``, ``~``,
    backquote) are kept: at worst they change emphasis.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cap(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(view: AlertView) -> dict[str, Any]:
    """A Slack incoming-webhook body: a text fallback and Block Kit sections."""
    alert = view.alert
    esc = slack_escape
    sev = str(alert.severity)
    headline = f"{sev.upper()} risk {alert.risk_score:.0f}: {alert.title}"  # plain_text: no markup read
    who = (
        f"*detector* `{esc(alert.detector_id)}` v{alert.detector_version}   "
        f"*session* `{esc(alert.session_id)}`\n"
        f"*agent* {esc(alert.agent_id or '-')}   *on behalf of* {esc(alert.principal or '-')}"
    )
    if view.task:
        who += f"\n*task* {esc(view.task)}"
    steps = [
        esc(
            f"{e.time:%Y-%m-%d %H:%M:%S} {e.tool or e.kind} {e.action or ''} {e.target or ''} "
            f"({e.decision or '-'})"
        )
        for e in view.triggering_events
    ]
    creds = [
        f"`{esc(c.credential_id)}` issued {c.issued_at or '?'} ttl {c.ttl_seconds or '?'}s "
        f"last use {c.last_used or '?'} — {c.state}"
        for c in view.credentials
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cap(headline, HEADER_LIMIT)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cap(who)}},
    ]
    if steps:
        text = _cap("*triggering steps*\n" + "\n".join(steps))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if creds:
        text = _cap("*credentials*\n" + "\n".join(creds))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if alert.runbook:
        text = _cap(f"*what to do* {esc(alert.runbook)}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"alert `{alert.alert_id}`"}]})
    fallback = f"{SLACK_EMOJI.get(sev, '')} {esc(headline)}".strip()  # notifications read it as mrkdwn
    return {"text": _cap(fallback), "blocks": blocks}


def document(view: AlertView, fmt: str) -> dict[str, Any]:
    """The alert in ``fmt`` (json: the view; ocsf: a Detection Finding; slack), redacted once more before
    it leaves: events are redacted when they are parsed, but detector details and titles are built later,
    and every output (a webhook, a file, `chainwatch alerts --json`, the triage page) is a copy outside
    our control."""
    if fmt == "json":
        body = view.to_dict()
    elif fmt == "ocsf":
        body = to_ocsf(view)
    elif fmt == "slack":
        body = slack_message(view)
    else:
        raise ValueError(f"unknown delivery format {fmt!r}; use json, ocsf or slack")
    redacted: dict[str, Any] = redact_value(body)
    return redacted


def render(view: AlertView, fmt: str) -> bytes:
    """The body a sink sends for ``fmt`` (see :func:`document`)."""
    return orjson.dumps(document(view, fmt))
