"""credential.over_scoped — a session's credential grants far more than the session touched.

Why: least privilege for agents means the credential's scopes fit the task. When the grant is much
wider than what the session actually did, every extra scope is reach an injected or misaligned agent
could use without needing to escalate. Judged on close, per credential the session issued or used, from
its granted scopes and the session's touched targets and tools. Reasons (any one fires, once per
credential):

* ``wildcard``: a scope that reaches everything (``*``, ``*:*``, ``* arn:aws:*``) — high severity;
* ``unused service wildcard``: ``iam:*``-style scopes on all resources, none of whose service the
  session touched;
* ``many unused scopes``: at least ``MANY_SCOPES`` (8) scopes granted and at most ``USED_RATIO`` (25 %)
  of them used (a scope is used when a touched target falls inside its resource pattern, or, for an
  opaque scope like ``crm:read``, a target or tool shares its namespace).

Known gaps: "used" is inferred from targets, so a scope exercised by a call without a target counts as
unused; scope vocabularies that are neither ``action resource`` pairs nor ``namespace:verb`` tokens are
matched only textually; a credential with no scopes listed is not judged (unknown, not narrow).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, CloseDetector, KeyKind, Signal
from detectors.context import KeyContext
from detectors.helpers import is_service_wildcard, is_wildcard, scope_used
from schemas.alerts import Mappings
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
MANY_SCOPES = 8
USED_RATIO = 0.25


class CredentialOverScoped(CloseDetector):
    id: ClassVar[str] = "credential.over_scoped"
    title: ClassVar[str] = "Credential scopes far wider than what the session touched"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3"), owasp_nhi=("NHI5",), mitre_attack=("T1078",)
    )
    runbook: ClassVar[str] = (
        "Revoke or narrow the credential to the scopes the task used; review what the rest could reach."
    )
    key: ClassVar[KeyKind] = "session"

    def on_close(self, ctx: KeyContext) -> Iterable[Signal]:
        targets, tools = list(ctx.targets), list(ctx.tools)
        for info in ctx.credentials.values():
            if not info.scopes or (info.issued_session != ctx.key and info.uses == 0):
                continue
            used = [s for s in info.scopes if scope_used(s, targets, tools)]
            reasons: list[str] = []
            if any(is_wildcard(s) for s in info.scopes):
                reasons.append("wildcard")
            idle_wild = [s for s in info.scopes if is_service_wildcard(s) and s not in used]
            if idle_wild:
                reasons.append("unused service wildcard")
            if len(info.scopes) >= MANY_SCOPES and len(used) <= USED_RATIO * len(info.scopes):
                reasons.append("many unused scopes")
            if not reasons:
                continue
            yield Signal(
                event_ids=(info.issued_event_id or f"credential:{info.credential_id}",),
                first_time=info.issued_at or ctx.first_time or 0.0,
                last_time=ctx.last_time or ctx.now,
                title=f"credential {info.credential_id} grants {len(info.scopes)} scope(s) "
                f"({', '.join(reasons)}); the session used {len(used)}",
                severity=Severity.HIGH if "wildcard" in reasons else None,
                details={
                    "credential_id": info.credential_id,
                    "reasons": reasons,
                    "granted": list(info.scopes)[:50],
                    "used": used[:50],
                    "unused_service_wildcards": idle_wild,
                    "touched_targets": len(targets),
                },
                credential_ids=(info.credential_id,),
                environments=tuple(ctx.environments),
                session_id=ctx.key,
                risk_factor=min(2.0, 1.0 + (len(info.scopes) - len(used)) / 20.0),
            )
