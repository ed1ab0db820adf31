"""behaviour.machine_speed_sensitive — five or more sensitive calls within five seconds.

Why: a person approving or typing sensitive operations does not issue five of them in five seconds;
an agent running a loop, a script or an attacker's playbook does. At that speed no human in the loop
can follow, so the speed itself is the signal, whatever the calls are. "Sensitive" is the shared
vocabulary ``detectors.vocab.is_sensitive``: identity, permission, network and key changes, secret
reads, destructive calls, audit tampering, public exposure, snapshot sharing, backdoors and money
movement. Attempts count (denied or failed calls too): machine-speed probing is the same behaviour.
A threshold written in Python because "sensitive" is that vocabulary, not a list a rule could inline.
After it fires it stays quiet for a minute, so one burst is one finding.

Known gaps: a burst paced just under the threshold (one call every 1.1 s) is missed; legitimate
automation that runs through an agent session (terraform applying IAM in bulk from one tool call is
one event, but an agent provisioning users one call at a time is not) fires; event times come from the
source, so transcripts without real clocks (synthetic one-second steps) can fire or hide bursts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.vocab import is_sensitive, may_be_sensitive
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
THRESHOLD = 5
WINDOW_SECONDS = 5.0
QUIET_SECONDS = 60.0


class MachineSpeedSensitive(StatefulDetector):
    id: ClassVar[str] = "behaviour.machine_speed_sensitive"
    title: ClassVar[str] = "Sensitive actions at machine speed"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("T10", "ASI10", "ASI09"), owasp_nhi=("NHI5",))
    runbook: ClassVar[str] = (
        "Pause the agent; read the burst's calls in order; revoke the credential if they were not its task."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    windows: ClassVar[dict[str, float]] = {"window": WINDOW_SECONDS}  # what the engine may drop (issue 14)
    deadlines: ClassVar[tuple[str, ...]] = ("quiet_until",)

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return tool is None or may_be_sensitive(tool, action)  # most calls are plain reads and writes

    def initial_state(self) -> dict[str, Any]:
        return {"window": [], "quiet_until": None}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or not is_sensitive(event):
            return state, ()
        now = ctx.now
        if now < (state.get("quiet_until") or now):
            return state, ()
        window = [w for w in state.get("window", []) if abs(now - w[0]) <= WINDOW_SECONDS]
        window.append([now, event.event_id, event.action])
        if len(window) < THRESHOLD:
            state["window"] = window
            return state, ()
        state["window"], state["quiet_until"] = [], now + QUIET_SECONDS
        first, last = min(w[0] for w in window), max(w[0] for w in window)
        actions = Counter(w[2] for w in window).most_common(3)
        summary = ", ".join(f"{action} x{count}" for action, count in actions)
        agent = event.agent_id or ctx.agent_id or "an agent"
        title = f"{agent} made {len(window)} sensitive calls in {last - first:.1f}s ({summary})"
        signal = Signal(
            event_ids=tuple(w[1] for w in window),
            first_time=first,
            last_time=last,
            title=title,
            details={"calls": len(window), "actions": dict(actions)},
            credential_ids=(event.credential_id,) if event.credential_id else (),
            environments=(str(event.environment),),
            session_id=event.session_id,
        )
        return state, [signal]
