"""The one decision function: a proposed tool call and its session's state in; allow, ask or deny out, with
the detectors that spoke, a risk score and a one-line reason.

Predictive mode: every detector of the catalog runs as if the call ran now (``Engine.predict``: the
engine's own ``process_key`` on a copy of each key's state), and the policy (``policy.py``) turns what
would fire into a decision. Nothing changes the real state here: the caller feeds the call for real only
when it is reported as executed (``live.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from detectors.engine import Engine, KeyState
from schemas.alerts import Alert, Finding
from schemas.events import ToolCall
from schemas.types import Capability, Decision, Outcome
from streams.guard.policy import Answer, Judgement, Policy

MAX_REASON = 600  # characters of the one-line reason (it is shown to the agent, the human and stored)

StateOf = Callable[[str, str], KeyState | None]


@dataclass(frozen=True)
class Verdict:
    call: ToolCall  # the proposal as judged (outcome unknown, capabilities set)
    decision: Answer  # the answer: what the policy decided, or allow in a dry run
    judged: Answer  # what the policy decided
    reason: str
    risk: float  # the highest risk score of the findings that counted (0: none)
    rule: str | None  # the policy rule that decided (None: the default)
    detectors: tuple[str, ...]  # the detectors that spoke, strictest first
    findings: tuple[Finding, ...] = field(default=(), repr=False)  # everything the prediction found
    alerts: tuple[Alert, ...] = field(default=(), repr=False)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The HTTP answer of ``POST /v1/decide``."""
        return {
            "call_id": self.call.event_id,
            "session_id": self.call.session_id,
            "decision": self.decision,
            "judged": self.judged,
            "reason": self.reason,
            "risk": self.risk,
            "rule": self.rule,
            "dry_run": self.dry_run,
            "detectors": [
                {"id": f.detector_id, "severity": str(f.severity), "risk": f.risk_score, "title": f.title}
                for f in _by_detector(self.findings, self.detectors)
            ],
        }


def proposal(call: ToolCall) -> ToolCall:
    """The call as it is judged: nothing has happened yet (no outcome, decision or result)."""
    if (
        call.outcome == Outcome.UNKNOWN
        and call.decision == Decision.UNKNOWN
        and call.result_summary is None
        and not call.untrusted_content
    ):
        return call
    return call.model_copy(
        update={
            "outcome": Outcome.UNKNOWN,
            "decision": Decision.UNKNOWN,
            "approved_by": None,
            "result_summary": None,
            "untrusted_content": False,
            "duration_ms": None,
        }
    )


def decide(
    engine: Engine, state_of: StateOf, call: ToolCall, policy: Policy, *, dry_run: bool = False
) -> Verdict:
    """Judge ``call`` as if it ran now against the live state ``state_of(scope, key)`` returns."""
    call = proposal(call)
    classification = engine.classify(call)
    call = call.with_capabilities(classification.capabilities)
    findings: list[Finding] = []
    alerts: list[Alert] = []
    for scope in engine.scopes:
        key = engine.key_of(scope, call)
        if key is None:
            continue
        out = engine.predict(scope, key, state_of(scope, key), call)
        findings.extend(out.findings)
        alerts.extend(out.alerts)
    judgement = policy.judge(call, classification.capabilities, findings)
    dry = dry_run or policy.dry_run
    decision: Answer = "allow" if dry else judgement.decision
    return Verdict(
        call=call,
        decision=decision,
        judged=judgement.decision,
        reason=reason_of(judgement, classification.capabilities, dry),
        risk=max((s.finding.risk_score for s in judgement.spoken), default=0.0),
        rule=judgement.rule,
        detectors=tuple(dict.fromkeys(s.finding.detector_id for s in judgement.spoken)),
        findings=tuple(findings),
        alerts=tuple(alerts),
        dry_run=dry,
    )


def reason_of(judgement: Judgement, capabilities: tuple[Capability, ...], dry_run: bool) -> str:
    """One line: the decision, the rule, the strictest finding and how many more spoke."""
    head = f"{judgement.decision} (rule {judgement.rule})" if judgement.rule else judgement.decision
    if dry_run and judgement.decision != "allow":
        head = f"dry run, would {head}"
    spoken = judgement.spoken
    if not spoken:
        can = ", ".join(c.value for c in capabilities) or "nothing known"
        text = f"{head}: no detector spoke (the call can: {can})"
    else:
        top = spoken[0].finding
        text = f"{head}: {top.detector_id} ({top.severity}, risk {top.risk_score:g}): {top.title}"
        others = list(dict.fromkeys(s.finding.detector_id for s in spoken[1:] if s.finding is not top))
        if others:
            text += f"; also {', '.join(others)}"
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _by_detector(findings: tuple[Finding, ...], order: tuple[str, ...]) -> list[Finding]:
    """The riskiest finding of each detector that spoke, in the verdict's order."""
    best: dict[str, Finding] = {}
    for finding in findings:
        kept = best.get(finding.detector_id)
        if kept is None or finding.risk_score > kept.risk_score:
            best[finding.detector_id] = finding
    return [best[d] for d in order if d in best]
