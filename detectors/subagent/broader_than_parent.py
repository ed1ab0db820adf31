"""subagent.broader_than_parent — a sub-agent holding access its parent's task does not cover.

Why: delegation should only narrow access: a sub-agent spawned for part of a task needs at most what
its parent holds. A child running with scopes the parent never had (or a wildcard) means the delegation
minted fresh privilege — a confused-deputy path where a compromised or injected child escapes the
parent's guard rails. Per session, the detector remembers which agent held which credential (issue
``subject`` or the agent that used it). When an event of a sub-agent (``parent_agent_id`` set) uses or
receives a credential with known scopes, each scope is checked against:

1. the scopes of the parent's credentials in this session (``helpers.covers``: glob on action and
   resource, ``*`` covers all); or, when the parent holds no known scopes here,
2. the session's ``task_scope`` resource globs (an ``action resource`` scope's resource must fall inside
   one; opaque scopes like ``crm:read`` cannot be compared with resource globs and are skipped); and always
3. a wildcard scope (``*``) held by the child but not by the parent is broader.

It fires once per (sub-agent, credential) with the uncovered scopes as evidence.

Known gaps: a parent and child in different sessions are compared only against the child session's
task scope (keys do not see each other); parent and child scopes in incomparable vocabularies (OAuth
``repo`` vs AWS actions) count as uncovered; a child that uses the parent's own credential is never
broader here, even if that credential was already too broad (``credential.over_scoped`` covers that).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.helpers import covers, is_wildcard, matches_any, split_scope, split_task_scope
from schemas.alerts import Mappings
from schemas.events import AnyEvent, CredentialEvent, SessionEvent
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
MAX_HELD = 32


class SubagentBroaderThanParent(StatefulDetector):
    id: ClassVar[str] = "subagent.broader_than_parent"
    title: ClassVar[str] = "Sub-agent holds broader access than its parent"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "ASI07", "T3", "T13"), owasp_nhi=("NHI5",), mitre_attack=("T1078", "T1134")
    )
    runbook: ClassVar[str] = (
        "Revoke the sub-agent's credential and re-issue one derived from (and no wider than) the parent's."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call", "credential"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if isinstance(event, SessionEvent) or not event.credential_id:
            return state, ()
        cid = event.credential_id
        holder = (event.subject if isinstance(event, CredentialEvent) else None) or event.agent_id
        if not holder:
            return state, ()
        held: dict[str, list[str]] = state.setdefault("held", {})
        if cid not in held.get(holder, []) and (holder in held or len(held) < MAX_HELD):
            held[holder] = [*held.get(holder, []), cid][-MAX_HELD:]
        parent = event.parent_agent_id
        if not parent:
            return state, ()  # fast path: not a sub-agent
        info = ctx.credentials.get(cid)
        mark = f"{holder}|{cid}"
        if info is None or not info.scopes or mark in state.get("done", []):
            return state, ()
        parent_cids = held.get(parent, [])
        if cid in parent_cids:
            return state, ()
        parent_scopes = [s for c in parent_cids if (p := ctx.credentials.get(c)) for s in p.scopes]
        if parent_scopes:
            basis = "parent credentials"
            wider = [s for s in info.scopes if not any(covers(p, s) for p in parent_scopes)]
        else:
            resources = split_task_scope(ctx.task_scope or ())[1]
            basis = "task scope" if resources else "wildcard only"
            wider = [
                s
                for s in info.scopes
                if is_wildcard(s)
                or (
                    (resource := split_scope(s)[1]) is not None
                    and bool(resources)
                    and not matches_any(resource, resources)
                )
            ]
        if not wider:
            return state, ()
        state["done"] = [*state.get("done", []), mark][-MAX_HELD:]
        return state, [
            Signal.of(
                [event],
                title=f"sub-agent {holder} of {parent} holds {len(wider)} scope(s) its parent does not",
                details={
                    "credential_id": cid,
                    "parent_agent_id": parent,
                    "basis": basis,
                    "broader_scopes": wider[:30],
                    "parent_scopes": parent_scopes[:30],
                },
                credential_ids=(cid,),
            )
        ]
