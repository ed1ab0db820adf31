"""evasion.audit_logging_disabled — audit logging or security telemetry switched off or narrowed.

Why: an agent (or whoever steers it) that stops the audit trail makes everything after it deniable;
stopping CloudTrail is step one of most cloud intrusions and there is no benign reason for an agent to
do it in passing. ``detectors.vocab.audit_tampering`` covers CloudTrail (StopLogging, DeleteTrail, event
selectors that drop management or write events, UpdateTrail turning regions/global events/validation
off, Lake stores), VPC flow logs, Route 53 resolver query logs, GuardDuty (detector deleted or disabled,
detached, auto-archive filters), AWS Config, Security Hub, Access Analyzer, Macie, S3 access logging,
audit log groups, and the host-side equivalents (``auditctl -D``, stopping auditd/rsyslog/falco,
``history -c``, ``unset HISTFILE``, truncating ``/var/log``). A denied attempt still fires, at medium
severity: the intent is the signal.

Known gaps: redirecting logs rather than stopping them (a new trail bucket the attacker owns, an S3
lifecycle rule that expires the log bucket, a KMS key policy that locks readers out); CloudWatch alarm
and EventBridge rule deletion; tampering from a script file the shell runs. One alert per session per
5 minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import PRINCIPALS, EventDetector, Signal
from detectors.context import KeyContext
from detectors.vocab import audit_tampering, may_tamper
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""


class AuditLoggingDisabled(EventDetector):
    id: ClassVar[str] = "evasion.audit_logging_disabled"
    title: ClassVar[str] = "Audit logging disabled"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("T8", "ASI10", "T13"),
        owasp_nhi=("NHI5",),
        mitre_attack=("T1562.008", "T1562.001", "T1070.003", "T1070.002"),
    )
    runbook: ClassVar[str] = (
        "Re-enable logging (StartLogging, recreate the trail or flow log), revoke the session's credential,"
        " then review what it did while unlogged."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    suppress_seconds: ClassVar[float] = 300.0

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return tool is None or may_tamper(tool, action)  # shell calls, audit APIs and tools

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall):
            return ()
        if event.outcome == Outcome.ERROR:
            return ()  # the call failed for another reason than a denial (no such trail): nothing changed
        found = audit_tampering(event)
        if found is None:
            return ()
        what, severity = found
        denied = event.outcome == Outcome.DENIED
        on = f" ({event.target})" if event.target else ""
        attempted = "attempted (denied): " if denied else ""
        title = f"{event.agent_id or ctx.agent_id or 'an agent'} {attempted}{what}{on}"
        details = {"tampering": what, "action": event.action, "outcome": str(event.outcome)}
        return [
            Signal.of([event], title=title, severity=Severity.MEDIUM if denied else severity, details=details)
        ]
