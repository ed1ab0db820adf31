"""The engine's two uses of identity kinds: settle a key's kind as its events arrive, and decide whether
(and how severely) a detector judges that kind."""

from __future__ import annotations

from detectors.base import Detector
from detectors.context import KeyContext
from detectors.identity.resolver import IdentityResolver, Resolution
from schemas.events import AnyEvent
from schemas.types import IdentityKind, Severity, lower_severity


def identify(resolver: IdentityResolver, ctx: KeyContext, event: AnyEvent) -> None:
    """Settle the key's kind with this event (skipped once the kind can no longer change); a call that
    makes a tagged session is remembered first, whatever this key's kind."""
    resolver.learn(event)
    if ctx.identity_from_file or ctx.identity_kind == IdentityKind.AGENT:
        return
    current = (
        Resolution(IdentityKind(ctx.identity_kind), ctx.identity_reason or "", ctx.identity_from_file)
        if ctx.identity_kind
        else None
    )
    settled = resolver.settle(current, resolver.resolve(event))
    ctx.identity_kind = settled.kind.value
    ctx.identity_reason = settled.reason
    ctx.identity_from_file = settled.from_file


def judges(detector: Detector, kind: str | None) -> bool:
    """Does the detector judge keys of this kind at all? (No kind yet: as unknown.)"""
    kind = kind or IdentityKind.UNKNOWN
    return kind in detector.judges or kind in detector.judges_unsure


def judged_severity(detector: Detector, kind: str | None, severity: Severity) -> tuple[Severity, str | None]:
    """The severity a finding gets for this kind, and a note when it was lowered."""
    kind = kind or IdentityKind.UNKNOWN
    if kind in detector.judges or kind not in detector.judges_unsure:
        return severity, None
    lowered = lower_severity(severity)
    return (
        lowered,
        f"judged one severity step lower ({severity} -> {lowered}): the principal's kind is {kind}",
    )
