"""Per-event coverage of high-signal AWS API calls, from a data table (issue 13).

Why: single calls that are risky on their own — stopping CloudTrail, reading a secure parameter with
decryption, creating a Roles Anywhere trust anchor, launching GPU instances, sharing a snapshot with another
account — were missed when they fit no sequence or threshold. ``data/sensitive_apis.yml`` lists them: the
calls, the condition that makes each risky (``facts.*`` from ``detectors.cloud.facts``), severity, tier
(alert, or a building-block finding), ATT&CK / OWASP mappings and the benign look-alike it must not match.
Entries with an ``owner`` are covered by a dedicated detector and stay quiet here (one call, one alert).
Denied or failed calls are judged only where the entry says so (``attempts``), one step lower (credential
reads: as severe — the denial is the probe); an unknown outcome counts as done. Each entry judges the kinds
it names (``judges``; default: all but AWS services), some at a severity of their own (``severity_by_kind``).
A delete of what the same session created (``detectors.cloud.teardown``) is clean-up: an info finding that
says so; a delete by automation (infrastructure-as-code, CI) is one step lower and a finding.

Known gaps: a call is judged alone — what only a chain shows stays with the sequence and threshold rules;
conditions read what CloudTrail records (no resource tags, no account inventory: "another account" may be
one of your own).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import ALL_KINDS, Signal, StatefulDetector
from detectors.cloud.facts import CallView, render
from detectors.cloud.table import ANY, ApiCheck, CallIndex, index_by_action, load_table
from detectors.cloud.teardown import CREATE_PREFIXES, cleanup_of, is_create, remember_created
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import SEVERITY_RANK, IdentityKind, Outcome, Severity, lower_severity

WHY = __doc__ or ""


class SensitiveApi(StatefulDetector):
    id: ClassVar[str] = "cloud.sensitive_api"
    title: ClassVar[str] = "High-signal AWS API call"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = ALL_KINDS  # each check names whom it judges
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("T2", "ASI02"), owasp_nhi=("NHI5",))
    runbook: ClassVar[str] = (
        "Read the check's id and benign look-alike in the details; confirm with the principal's owner that "
        "the call was intended; if not, revoke the credential and undo the change (the title says which)."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def __init__(self) -> None:
        self.checks = load_table()
        self.by_action = index_by_action(tuple(c for c in self.checks if c.owner is None))
        self.for_call = CallIndex(self.by_action)

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return ANY in self.by_action or action in self.by_action or action.startswith(CREATE_PREFIXES)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall):
            return state, ()
        if is_create(event):
            remember_created(state, event)
        kind = IdentityKind(ctx.identity_kind or IdentityKind.UNKNOWN)
        checks = self.for_call(kind, event.tool, event.action)
        if not checks:
            return state, ()
        view = CallView(event)
        signals = [s for check in checks if (s := self._judge(check, view, state, ctx)) is not None]
        if len(signals) <= 1:
            return state, signals
        # One call, one finding (its id is a hash of detector, key and event): the gravest check speaks,
        # the others are named in its details.
        signals.sort(key=lambda s: (s.alert, SEVERITY_RANK[s.severity or Severity.INFO]), reverse=True)
        first, rest = signals[0], signals[1:]
        first.details["also_matched"] = [s.details["check"] for s in rest]
        return state, [first]

    def _judge(
        self, check: ApiCheck, view: CallView, state: dict[str, Any], ctx: KeyContext
    ) -> Signal | None:
        event: ToolCall = view._event
        attempt = event.outcome in (Outcome.DENIED, Outcome.ERROR)  # unknown: it may have happened
        if attempt and check.attempts == "ignore":
            return None
        if check.condition is not None and not check.condition.evaluate(view, {}):
            return None
        kind = IdentityKind(ctx.identity_kind or IdentityKind.UNKNOWN)
        severity, alert, details = check.grade(kind, attempt)
        if attempt:
            details["attempt"] = f"the call did not succeed ({event.outcome})"
        if check.deletes:
            cleaned = cleanup_of(state, event)
            if cleaned is not None:
                severity, alert = Severity.INFO, False
                details["teardown_note"] = f"clean-up: deletes {cleaned}, which this session created earlier"
            elif ctx.identity_kind == IdentityKind.AUTOMATION:
                severity, alert = lower_severity(severity), False
                details["teardown_note"] = "a delete by automation (infrastructure-as-code, CI): a finding"
        return Signal.of(
            [event],
            title=render(check.title, view),
            severity=severity,
            details=details,
            mappings=check.mappings,
            alert=alert,
        )
