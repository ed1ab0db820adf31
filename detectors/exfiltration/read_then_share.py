"""exfiltration.read_then_share — something sensitive was read, then data left for somewhere outside.

Why: exfiltration by an agent is two ordinary calls in a row: read (a secret, a customer export, a
database dump, a new snapshot or backup) and send (a snapshot or AMI shared with another account, a mail
with attachments or a long body to a domain that is neither the principal's nor in the task scope, an
upload or POST to a host outside the task scope). Each is routine alone; the pair within an hour in the
same session is the chain a prompt-injected or rogue agent produces. Reads and sends are
``detectors.vocab.sensitive_read`` and ``outbound_transfer``; a single call that does both (``curl -F
file=@~/.aws/credentials https://…``) fires on its own. Written in Python because "outside" depends on the
session (its principal's mail domain, the hosts of its task scope), which a rule condition cannot read.

Known gaps: data pasted into a short mail body, chat messages, DNS or git pushes to a new remote are not
seen as sends; a send with no known destination counts as outside; reads in another session (or more
than an hour earlier, or more than 16 reads back) are not linked; customer data is recognised by words
in the target (customer, export, pii, backup, dump …), so an innocently named table is missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import PRINCIPALS, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.vocab import SHARE_APIS, may_send, outbound_transfer, own_account, sensitive_read
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""
WINDOW_SECONDS = 3600.0
MAX_READS = 16
DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}", re.I)
PRIVATE = re.compile(
    r"(^|\.)(localhost|internal|local|lan|corp|intranet)$|^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)"
)


def outside(destination: str | None, event: ToolCall, ctx: KeyContext) -> bool:
    """Whether a destination is beyond the session: another account, or a domain it has no business with."""
    if event.action in SHARE_APIS:
        return any(account != own_account(event) for account in (destination or "").split(","))
    if not destination:
        return True
    if PRIVATE.search(destination):
        return False
    known = {m.group(0).lower() for entry in ctx.task_scope or () for m in DOMAIN.finditer(entry)}
    if ctx.principal and "@" in ctx.principal:
        known.add(ctx.principal.rsplit("@", 1)[1].lower())
    return not any(destination == d or destination.endswith("." + d) for d in known)


class ReadThenShare(StatefulDetector):
    id: ClassVar[str] = "exfiltration.read_then_share"
    title: ClassVar[str] = "Sensitive read followed by data sent outside"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.CRITICAL
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "ASI01", "T2", "T6"),
        owasp_nhi=("NHI2",),
        mitre_attack=("T1567", "T1537", "T1048"),
    )
    runbook: ClassVar[str] = (
        "Stop the session and revoke its credential; undo the share, contact the destination's owner and"
        " rotate any secret that was read."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def initial_state(self) -> dict[str, Any]:
        return {"reads": []}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or event.outcome == Outcome.DENIED:
            return state, ()
        now, label, reads = ctx.now, sensitive_read(event), state.get("reads")
        if not label and not reads:
            return state, ()  # fast path: nothing read, nothing to pair a send with
        reads = [r for r in reads or () if abs(now - r[0]) <= WINDOW_SECONDS]  # late events too
        if label:
            reads.append(
                [now, event.event_id, label, event.target, event.credential_id, str(event.environment)]
            )
        sends = reads and may_send(event.tool, event.action)  # most calls cannot send anything
        before = [r for r in reads if r[0] <= now] if sends else []  # a read after the send is no cause
        sent = outbound_transfer(event) if before else None  # nothing read, nothing to pair a send with
        signals = []
        if sent and before and outside(sent[1], event, ctx):
            evidence = before[-5:]
            kinds = " and ".join(sorted({r[2] for r in evidence}))
            credentials = [*(r[4] for r in evidence), event.credential_id]
            signal = Signal(
                event_ids=tuple(dict.fromkeys([*(r[1] for r in evidence), event.event_id])),
                first_time=evidence[0][0],
                last_time=now,
                title=f"{event.agent_id or ctx.agent_id or 'an agent'} read {kinds}, then {sent[0]}",
                details={"reads": [r[2:4] for r in evidence], "sent": sent[0], "destination": sent[1]},
                credential_ids=tuple(dict.fromkeys(c for c in credentials if c)),
                environments=tuple(dict.fromkeys([*(r[5] for r in evidence), str(event.environment)])),
                session_id=event.session_id,
            )
            signals.append(signal)
        state["reads"] = reads[-MAX_READS:]
        return state, signals
