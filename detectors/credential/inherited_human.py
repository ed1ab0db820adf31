"""credential.inherited_human — an agent acting on a human's own credential instead of a task-scoped one.

Why: most agents today run on whatever their user was logged in with (an SSO session, a personal access
token, an IAM user's access key). That credential carries the human's full standing privilege and outlives
the task, so anything the agent is steered into doing is done with everything the human can do, and the
audit trail cannot tell the agent from the person. It fires once per credential per session when:

* a credential event says ``inherited_from_human`` (the adapters set it: CloudTrail calls made by an
  IAMUser/Root identity, gateways that pass the user's token through), or a tool call uses a credential
  the session already knows as inherited; or
* an agent (``agent_id`` differs from ``principal``) uses a long-lived credential held by the human it acts
  for: an AWS long-term key (``AKIA…``) on behalf of a person, or a known credential with a lifetime of
  7 days or more (or none) whose subject is the principal rather than the agent.

Known gaps: a human credential that no event marks and whose holder is unknown looks like any other; a
service account shared by humans and agents is not a "human" credential here (see
``credential.cross_session_reuse``); CloudTrail cannot tell an agent from the person using the same IAM
user, so that case only fires through the adapter's ``inherited_from_human`` flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import CredentialInfo, KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall
from schemas.types import CredentialAction, IdentityKind, Severity

WHY = __doc__ or ""
LONG_LIVED_SECONDS = 7 * 86400.0
MAX_REMEMBERED = 64


def _human_long_lived(cid: str, info: CredentialInfo | None, event: ToolCall) -> bool:
    if not event.agent_id or not event.principal or event.agent_id == event.principal:
        return False  # no agent distinct from the human: a person using their own key
    if info is None or info.subject is None:
        return cid.startswith("AKIA") and "@" in event.principal  # an IAM user's key, for a person
    lifetime = info.ttl_seconds
    if lifetime is None and info.expires_at is not None:
        lifetime = info.expires_at - (info.issued_at or event.event_time.timestamp())
    long_lived = lifetime is None or lifetime >= LONG_LIVED_SECONDS  # None: no expiry at all
    return (
        long_lived and info.subject != event.agent_id and info.subject in (event.principal, info.on_behalf_of)
    )


class InheritedHumanCredential(StatefulDetector):
    id: ClassVar[str] = "credential.inherited_human"
    title: ClassVar[str] = "Agent acting with a credential inherited from a human"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3", "T9"), owasp_nhi=("NHI5", "NHI7"), mitre_attack=("T1078",)
    )
    runbook: ClassVar[str] = (
        "Give the agent a task-scoped credential; rotate the human's, review what the agent did."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call", "credential"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if isinstance(event, SessionEvent) or not event.credential_id:
            return state, ()
        if isinstance(event, CredentialEvent) and event.action in (
            CredentialAction.REVOKED,
            CredentialAction.EXPIRED,
        ):
            return state, ()
        cid = event.credential_id
        flagged: list[str] = state.setdefault("flagged", [])
        if cid in flagged:
            return state, ()
        info = ctx.credentials.get(cid)
        if (isinstance(event, CredentialEvent) and event.inherited_from_human) or (
            info and info.inherited_from_human
        ):
            reason = "marked inherited_from_human"
        elif isinstance(event, ToolCall) and _human_long_lived(cid, info, event):
            reason = "long-lived credential held by the human the agent acts for"
        else:
            return state, ()
        flagged.append(cid)
        del flagged[:-MAX_REMEMBERED]
        holder = (info.on_behalf_of or info.subject) if info else None
        signal = Signal.of(
            [event],
            title=f"{event.agent_id or 'agent'} uses {holder or event.principal or 'a human'}'s credential"
            f" {cid}",
            details={
                "reason": reason,
                "credential_id": cid,
                "holder": holder,
                "ttl_seconds": info.ttl_seconds if info else None,
                "scopes": list(info.scopes) if info else [],
            },
        )
        if info and info.issued_event_id and info.issued_event_id != event.event_id:
            signal = replace(
                signal,
                event_ids=(info.issued_event_id, event.event_id),
                first_time=min(info.issued_at or signal.first_time, signal.first_time),
            )
        return state, [signal]
