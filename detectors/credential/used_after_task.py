"""credential.used_after_task — a session's credential used after the session (its task) ended.

Why: a task-scoped credential should die with its task. A use after the session's end event means the
credential was not revoked and someone (the agent still running, a leaked copy, an attacker who
harvested it from logs or memory) is acting outside any task: nothing the session was asked to do
covers it. It fires once per credential per session, on the first tool call (or ``used`` credential
event) more than ``GRACE_SECONDS`` (60 s, for in-flight calls and clock skew) after the session's end.
A ``start`` event after the end (a resumed session) re-opens the session and clears the condition.
A use the gateway denied still fires, at medium severity: the attempt is the signal.

Known gaps: only uses that arrive with the ended session's id are seen — a copy of the credential used
from another session is ``credential.cross_session_reuse``'s job, because the session end is not routed to
the credential's key. If the stream closes the session for idleness (30 min) before the late use arrives,
the re-opened session has no end time and the use is missed (engine limitation, reported). An end event
that arrives after the use, beyond the allowed lateness, is missed too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, CredentialEvent, SessionEvent
from schemas.types import CredentialAction, IdentityKind, Outcome, SessionAction, Severity

WHY = __doc__ or ""
GRACE_SECONDS = 60.0
MAX_REMEMBERED = 64


class CredentialUsedAfterTask(StatefulDetector):
    id: ClassVar[str] = "credential.used_after_task"
    title: ClassVar[str] = "Credential used after its task ended"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3", "T8"), owasp_nhi=("NHI1", "NHI7"), mitre_attack=("T1078", "T1550")
    )
    runbook: ClassVar[str] = (
        "Revoke the credential now, then find who held it after the session ended (runtime, logs, copies)."
    )
    key: ClassVar[KeyKind] = "session"
    # Session events to see the end (and a resume); tool calls and credential events for the use.
    kinds: ClassVar[frozenset[str] | None] = frozenset({"session", "tool_call", "credential"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if isinstance(event, SessionEvent):
            if event.action == SessionAction.END:
                state["end"] = event.event_id
            elif event.action == SessionAction.START and ctx.ended_at is not None:
                state["resumed"] = ctx.now
            return state, ()
        ended = ctx.ended_at
        cid = event.credential_id
        if ended is None or not cid or ctx.now <= ended + GRACE_SECONDS or state.get("resumed", 0.0) > ended:
            return state, ()
        if isinstance(event, CredentialEvent) and event.action != CredentialAction.USED:
            return state, ()
        reported: list[str] = state.setdefault("reported", [])
        if cid in reported:
            return state, ()
        reported.append(cid)
        del reported[:-MAX_REMEMBERED]
        late = ctx.now - ended
        denied = getattr(event, "outcome", None) == Outcome.DENIED
        evidence = [state["end"], event.event_id] if state.get("end") else [event.event_id]
        signal = Signal.of(
            [event],
            title=f"credential {cid} used {late / 60:.0f} min after the session ended",
            severity=Severity.MEDIUM if denied else None,
            details={
                "credential_id": cid,
                "ended_at": ended,
                "seconds_after_end": round(late, 1),
                "action": getattr(event, "action", None) and str(event.action),
            },
        )
        return state, [replace(signal, event_ids=tuple(evidence), first_time=ended)]
