"""credential.cross_session_reuse — a credential issued for one session used in another.

Why: a task-scoped credential belongs to its task. The same credential showing up in a second session
is a copied secret (pasted into a config, left in an environment, lifted from a transcript or a log),
an agent reusing a standing credential across tasks (NHI reuse), or an attacker replaying it — in each
case its use is no longer tied to the intent it was issued for. Keyed by credential (the engine routes
every event with a ``credential_id`` to the credential's own state). The home session is the one the
credential was issued for (``issued_session``); when no issue event was seen, the first session that used
it. It fires once per (credential, other session), high when the home is known from an issue event,
medium when inferred, low when the other session's agent is a sub-agent of an agent that used it at
home (delegation, worth knowing but expected).

CloudTrail note: AssumeRole credentials are issued with ``session_id`` = the new role session that will
use them, so their normal use is not cross-session. Synthetic ``credential:<id>`` sessions (credential
events outside any session) never count as a home or as a reuse.

Known gaps: a credential shared by design (a CI service key used by every run) fires once per new
session — suppressed to one alert per credential per hour, and worth fixing at the source; sessions that
the source splits (a reconnecting agent that gets a new session id) look like reuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, CredentialEvent
from schemas.types import CredentialAction, IdentityKind, Severity

WHY = __doc__ or ""
MAX_REPORTED = 32
SYNTHETIC = "credential:"


class CrossSessionReuse(StatefulDetector):
    id: ClassVar[str] = "credential.cross_session_reuse"
    title: ClassVar[str] = "Credential reused outside the session it was issued for"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3", "T9"), owasp_nhi=("NHI9", "NHI2"), mitre_attack=("T1550", "T1078")
    )
    runbook: ClassVar[str] = (
        "Revoke the credential; find how the second session obtained it (env, config, logs, transcripts)."
    )
    key: ClassVar[KeyKind] = "credential"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call", "credential"})
    suppress_seconds: ClassVar[float] = 3600.0

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        session = event.session_id
        if session.startswith(SYNTHETIC):
            return state, ()
        info = ctx.credentials.get(ctx.key)
        issued = (
            info.issued_session
            if info and info.issued_session and not info.issued_session.startswith(SYNTHETIC)
            else None
        )
        if issued is None and "home" not in state:
            state["home"], state["home_event"] = session, event.event_id
        home = issued or state["home"]
        if session == home:
            agents: list[str] = state.setdefault("home_agents", [])
            for agent in (event.agent_id, getattr(event, "subject", None)):
                if agent and agent not in agents and len(agents) < MAX_REPORTED:
                    agents.append(agent)
            return state, ()
        if isinstance(event, CredentialEvent) and event.action not in (
            CredentialAction.USED,
            CredentialAction.REFRESHED,
        ):
            return state, ()
        reported: list[str] = state.setdefault("reported", [])
        if session in reported or len(reported) >= MAX_REPORTED:
            return state, ()
        reported.append(session)
        delegated = bool(event.parent_agent_id) and event.parent_agent_id in state.get("home_agents", [])
        severity = Severity.LOW if delegated else (None if issued else Severity.MEDIUM)
        origin = (info.issued_event_id if issued and info else None) or state.get("home_event")
        signal = Signal.of(
            [event],
            title=f"credential {ctx.key} of session {home} used in session {session}",
            severity=severity,
            credential_ids=(ctx.key,),
            details={
                "home_session": home,
                "home_known": issued is not None,
                "delegated": delegated,
                "sessions_seen": sorted(ctx.sessions)[:20],
            },
        )
        if origin and origin != event.event_id:
            signal = replace(signal, event_ids=(origin, event.event_id))
        return state, [signal]
