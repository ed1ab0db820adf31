"""credential.ttl_exceeds_task — a credential granted for far longer than its task needed.

Why: the maximum damage a leaked credential can do is bounded by how long it stays valid. A 30-day key
for a five-minute task buys an attacker 30 days. Judged when the session closes, for every credential
issued in the session with a known lifetime (``ttl_seconds``, else ``expires_at - issued_at``), against the
task's duration (first event to the session's end, at least ``MIN_TASK_SECONDS``). It fires when BOTH:

* ratio: lifetime >= ``RATIO`` (10) x task duration, and
* absolute margin: lifetime - task >= ``MARGIN_SECONDS`` (4 h).

The margin keeps the usual cloud defaults quiet (STS: 15 min minimum, 1 h default; OAuth access tokens:
1 h) however short the task; the ratio keeps long tasks with long credentials quiet. A credential that
was revoked within 15 minutes of the end still fires, at low severity: the grant was wrong even if the
teardown saved it.

Known gaps: credentials without a known lifetime are skipped (see ``credential.long_lived_key_created``
and ``credential.never_revoked``); refresh tokens that silently extend access are not modelled; tasks
that legitimately span several sessions look short.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, CloseDetector, KeyKind, Signal
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
RATIO = 10.0
MARGIN_SECONDS = 4 * 3600.0
MIN_TASK_SECONDS = 300.0
REVOKED_IN_TIME_SECONDS = 15 * 60.0


class TtlExceedsTask(CloseDetector):
    id: ClassVar[str] = "credential.ttl_exceeds_task"
    title: ClassVar[str] = "Credential lifetime far longer than its task"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3"), owasp_nhi=("NHI7",), mitre_attack=("T1078",)
    )
    runbook: ClassVar[str] = (
        "Revoke the credential if still valid; cap the issuer's TTL for this agent to the task's length."
    )
    key: ClassVar[KeyKind] = "session"

    def on_close(self, ctx: KeyContext) -> Iterable[Signal]:
        if ctx.first_time is None:
            return
        task = max(MIN_TASK_SECONDS, ctx.duration_seconds)
        end = ctx.ended_at if ctx.ended_at is not None else (ctx.last_time or ctx.first_time)
        for info in ctx.credentials.values():
            if info.issued_session != ctx.key or info.issued_at is None:
                continue
            lifetime = info.ttl_seconds
            if lifetime is None and info.expires_at is not None:
                lifetime = info.expires_at - info.issued_at
            if lifetime is None or lifetime < RATIO * task or lifetime - task < MARGIN_SECONDS:
                continue
            revoked_in_time = info.revoked_at is not None and info.revoked_at <= end + REVOKED_IN_TIME_SECONDS
            ratio = lifetime / task
            yield Signal(
                event_ids=(info.issued_event_id or f"credential:{info.credential_id}",),
                first_time=info.issued_at,
                last_time=end,
                title=f"credential {info.credential_id} valid for {lifetime / 3600:.1f} h for a "
                f"{ctx.duration_seconds / 60:.0f} min task",
                severity=Severity.LOW if revoked_in_time else None,
                details={
                    "credential_id": info.credential_id,
                    "lifetime_seconds": lifetime,
                    "task_seconds": round(ctx.duration_seconds, 1),
                    "ratio": round(ratio, 1),
                    "revoked_in_time": revoked_in_time,
                },
                credential_ids=(info.credential_id,),
                environments=tuple(ctx.environments),
                session_id=ctx.key,
                risk_factor=min(1.5, 1.0 + ratio / 1000.0),
            )
