"""credential.never_revoked — a session's credential still valid 15 minutes after the session ended.

Why: the point of a task-scoped credential is that it stops working when the task does. One that is
neither revoked nor expired within ``WINDOW_SECONDS`` (15 min) of its session's end event is a live,
unattended secret: it can be replayed from logs, memory or a compromised runtime until it finally
expires (or forever). A credential whose own expiry falls inside the window is fine — short TTLs are a
valid way to end a credential. Judged when the session closes (idle timeout or end of input), from what
the session saw: issued here (``issued_session`` is this session), its revocation and expiry times.
Findings carry a higher risk the longer the credential stays valid (no expiry at all weighs most).

Known gaps: sessions without an end event are not judged (they may still be running); a revocation
that arrives under another session id (e.g. CloudTrail ``DeleteAccessKey`` lands in ``aws-key:<id>``) is
not seen, so such keys can be reported although revoked; when the input ends less than 15 minutes after
a session's end, closing confirms the absence early (the engine's close semantics, as for ``absent``
rule steps).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, CloseDetector, KeyKind, Signal
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
WINDOW_SECONDS = 15 * 60.0


class CredentialNeverRevoked(CloseDetector):
    id: ClassVar[str] = "credential.never_revoked"
    title: ClassVar[str] = "Credential not revoked after its session ended"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3"), owasp_nhi=("NHI1", "NHI7"), mitre_attack=("T1078",)
    )
    runbook: ClassVar[str] = (
        "Revoke the credential, then fix the agent runtime's teardown so it revokes on session end."
    )
    key: ClassVar[KeyKind] = "session"

    def on_close(self, ctx: KeyContext) -> Iterable[Signal]:
        ended = ctx.ended_at
        if ended is None:
            return
        deadline = ended + WINDOW_SECONDS
        for info in ctx.credentials.values():
            if info.issued_session != ctx.key or info.issued_at is None or info.issued_at > ended:
                continue
            if info.revoked_at is not None and info.revoked_at <= deadline:
                continue
            if info.expires_at is not None and info.expires_at <= deadline:
                continue
            valid_until = min(t for t in (info.revoked_at, info.expires_at, float("inf")) if t is not None)
            open_for = valid_until - ended
            factor = 1.5 if open_for == float("inf") else min(1.5, 1.0 + open_for / (7 * 86400.0))
            yield Signal(
                event_ids=(info.issued_event_id or f"credential:{info.credential_id}",),
                first_time=info.issued_at,
                last_time=max(ended, ctx.last_time or ended),
                title=f"credential {info.credential_id} still valid "
                + ("with no expiry" if open_for == float("inf") else f"{open_for / 60:.0f} min")
                + " after its session ended",
                details={
                    "credential_id": info.credential_id,
                    "ended_at": ended,
                    "revoked_at": info.revoked_at,
                    "expires_at": info.expires_at,
                    "valid_after_end_seconds": None if open_for == float("inf") else round(open_for, 1),
                },
                credential_ids=(info.credential_id,),
                environments=tuple(ctx.environments),
                session_id=ctx.key,
                risk_factor=factor,
            )
