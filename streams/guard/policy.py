"""The guard's policy: which findings of a predicted call deny it, ask the human, or let it run.

A policy file (YAML, ``CHAINWATCH_GUARD__POLICY_FILE`` or ``guard serve --policy``)::

    dry_run: false          # true: decide and record, but always answer allow
    default: allow          # for a call no rule matched
    experimental: false     # findings of experimental detectors count only when true
    rules:                  # first matching rule decides each finding; the strictest finding decides the call
      - {name: deny-critical-prod, severity: critical, environments: [prod], decision: deny}
      - {name: planted-payee, detectors: ["injection.tainted_action"], decision: deny}
      - {name: ask-high, severity: high, decision: ask}
      - {name: payments-in-prod, capabilities: [money], environments: [prod], decision: ask}

A rule with ``severity`` or ``detectors`` judges findings (``severity`` means "at least"); a rule without
either judges the call itself, findings or not (the last example asks before every payment in prod).
``environments``, ``agents`` (glob patterns on the agent id) and ``capabilities`` (what the call can do,
any of) narrow any rule. Strictness: deny > ask > allow, so an ``allow`` rule for one noisy detector never
overrides another detector's ``deny``. Without a file the defaults below apply (docs/guard.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.alerts import Finding
from schemas.errors import ChainwatchError
from schemas.events import ToolCall
from schemas.types import SEVERITY_RANK, Capability, Environment, Maturity, Severity

Answer = Literal[
    "allow", "ask", "deny"
]  # what the guard answers (the contract's Decision is who let a call run)
STRICTNESS: dict[str, int] = {"allow": 0, "ask": 1, "deny": 2}


class PolicyError(ChainwatchError):
    """The policy file cannot be used; the message names the file, the field and the fix."""


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(None, description="Shown in reasons and the audit trail.")
    decision: Answer
    severity: Severity | None = Field(None, description="Findings of at least this severity.")
    detectors: tuple[str, ...] = Field((), description="Detector ids (glob patterns).")
    environments: tuple[Environment, ...] = Field((), description="The call's environment is one of these.")
    agents: tuple[str, ...] = Field((), description="The call's agent id matches one of these globs.")
    capabilities: tuple[Capability, ...] = Field((), description="The call can do any of these.")

    @property
    def judges_findings(self) -> bool:
        return self.severity is not None or bool(self.detectors)

    @property
    def label(self) -> str:
        return self.name or f"{self.decision}-rule"

    def applies_to(self, call: ToolCall, capabilities: Sequence[Capability]) -> bool:
        """The rule's narrowing conditions on the call (environment, agent, capabilities)."""
        if self.environments and call.environment not in self.environments:
            return False
        if self.agents and not any(fnmatchcase(call.agent_id or "", a) for a in self.agents):
            return False
        return not self.capabilities or any(c in capabilities for c in self.capabilities)

    def matches(self, finding: Finding) -> bool:
        if self.severity is not None and SEVERITY_RANK[finding.severity] < SEVERITY_RANK[self.severity]:
            return False
        return not self.detectors or any(fnmatchcase(finding.detector_id, d) for d in self.detectors)


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(name="deny-critical", severity=Severity.CRITICAL, decision="deny"),
    Rule(name="ask-high", severity=Severity.HIGH, decision="ask"),
)


@dataclass(frozen=True)
class Spoken:
    """One finding of the prediction and what the policy made of it."""

    finding: Finding
    decision: Answer
    rule: str  # the label of the rule that decided it; "" when the policy's default did


@dataclass(frozen=True)
class Judgement:
    decision: Answer
    rule: str | None  # the rule that set the decision; None: the default
    spoken: tuple[Spoken, ...]  # every finding that counted, strictest first


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    dry_run: bool = False
    default: Answer = "allow"
    experimental: bool = False
    rules: tuple[Rule, ...] = DEFAULT_RULES

    def judge(
        self, call: ToolCall, capabilities: Sequence[Capability], findings: Iterable[Finding]
    ) -> Judgement:
        rules = [r for r in self.rules if r.applies_to(call, capabilities)]
        spoken: list[Spoken] = []
        for finding in findings:
            if finding.maturity == Maturity.EXPERIMENTAL and not self.experimental:
                continue
            rule = next((r for r in rules if r.judges_findings and r.matches(finding)), None)
            spoken.append(
                Spoken(finding, rule.decision, rule.label) if rule else Spoken(finding, self.default, "")
            )
        spoken.sort(key=lambda s: (-STRICTNESS[s.decision], -s.finding.risk_score))
        options: list[tuple[Answer, str | None]] = [(s.decision, s.rule or None) for s in spoken]
        call_rule = next((r for r in rules if not r.judges_findings), None)
        if call_rule is not None:
            options.append((call_rule.decision, call_rule.label))
        decision, rule_name = max(options, key=lambda o: STRICTNESS[o[0]], default=(self.default, None))
        return Judgement(decision, rule_name, tuple(spoken))


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path`` (the defaults when None); a bad file raises PolicyError saying where."""
    if path is None:
        return Policy()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML ({exc}); fix the syntax") from None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy is a mapping (dry_run, default, experimental, rules)")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "(file)"
        raise PolicyError(
            f"{path}: field '{where}': {first.get('msg', 'invalid')}; see docs/guard.md for the policy fields"
        ) from None
