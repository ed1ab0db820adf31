"""blast_radius.over_threshold — what a session's identity could reach is over the acceptable radius.

Why: the design's "identity blast radius" is the maximum impact an agent could have before anyone
revokes its access — not what it did, but what it could do. A session whose credentials reach many
sensitive scopes is one prompt injection away from a large incident even if every call so far was
benign. Judged on close, over the union of the scopes of every credential the session saw:

* each scope weighs by sensitivity (``detectors.helpers.scope_weight``): read 1, write 2,
  admin/IAM/secrets/KMS/payments/delete 3, a whole service 4 (5 for IAM/STS/KMS/secrets/…);
* a full wildcard (``*``) counts as everything: the radius is unbounded;
* the sum is scaled by the most sensitive environment the session touched
  (``0.5 + 0.5 x weight``: prod 1.0, unknown 0.8, staging 0.7, dev 0.6).

It fires when the weighted radius reaches ``THRESHOLD`` (25: e.g. five whole-service grants in prod, or
a dozen write scopes); ``risk_factor`` grows with radius / threshold (capped at 2).

Known gaps: the radius is computed from declared scopes; a credential whose scopes are not reported
(most CloudTrail roles: the role's policies are not in the event) counts as zero; resource patterns are
not expanded (``s3:GetObject *`` weighs as one scope).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, CloseDetector, KeyKind, Signal
from detectors.context import KeyContext
from detectors.helpers import is_wildcard, scope_weight
from schemas.alerts import Mappings
from schemas.types import ENVIRONMENT_WEIGHT, Environment, IdentityKind, Severity

WHY = __doc__ or ""
THRESHOLD = 25.0


class BlastRadiusOverThreshold(CloseDetector):
    id: ClassVar[str] = "blast_radius.over_threshold"
    title: ClassVar[str] = "Identity blast radius over threshold"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "ASI08", "T3"), owasp_nhi=("NHI5",), mitre_attack=("T1078",)
    )
    runbook: ClassVar[str] = (
        "Revoke the session's broadest credential first; re-issue one scoped to the task's resources."
    )
    key: ClassVar[KeyKind] = "session"

    def on_close(self, ctx: KeyContext) -> Iterable[Signal]:
        scopes = sorted(ctx.reachable_scopes())
        if not scopes:
            return
        env_weight = max(
            (
                ENVIRONMENT_WEIGHT.get(Environment(e), 0.6)
                for e in ctx.environments
                if e in Environment._value2member_map_
            ),
            default=0.6,
        )
        wildcard = [s for s in scopes if is_wildcard(s)]
        radius = float("inf") if wildcard else sum(scope_weight(s) for s in scopes) * (0.5 + 0.5 * env_weight)
        if radius < THRESHOLD:
            return
        holders = [i for i in ctx.credentials.values() if i.scopes]
        first = min((i.issued_at for i in holders if i.issued_at is not None), default=ctx.first_time or 0.0)
        ids = tuple(i.issued_event_id or f"credential:{i.credential_id}" for i in holders)
        yield Signal(
            event_ids=ids[:20],
            first_time=first,
            last_time=ctx.last_time or ctx.now,
            title="session can reach everything (wildcard scope)"
            if wildcard
            else f"session can reach {len(scopes)} scopes, weighted radius {radius:.0f} >= {THRESHOLD:.0f}",
            severity=Severity.CRITICAL if wildcard else None,
            details={
                "reachable": len(scopes),
                "weighted_radius": None if wildcard else round(radius, 1),
                "threshold": THRESHOLD,
                "wildcards": wildcard,
                "touched_targets": len(ctx.targets),
                "scopes": scopes[:50],
            },
            credential_ids=tuple(i.credential_id for i in holders),
            environments=tuple(ctx.environments),
            session_id=ctx.key,
            risk_factor=2.0 if wildcard else min(2.0, radius / THRESHOLD),
        )
