"""A Sigma detection rule as a chainwatch detector: the compiled predicate, the rule's level as severity,
its ATT&CK tags as mappings, and its id, level, tags and author kept in every finding's details."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from sigma.rule import SigmaRule, SigmaRuleBase

from detectors.base import EventDetector, Signal
from detectors.context import KeyContext
from detectors.sigma_rules.matcher import Predicate, Prefilter
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Maturity, Severity

LEVELS = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
_ATTACK_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
SIGMA_SOURCES = frozenset({"cloudtrail"})  # logsource aws/cloudtrail: events of the cloudtrail adapter


def sigma_info(rule: SigmaRuleBase, path: str) -> dict[str, Any]:
    """What the alert keeps of the rule (details.sigma)."""
    return {
        "id": str(rule.id) if rule.id else None,
        "title": rule.title,
        "level": str(rule.level) if rule.level else None,
        "status": str(rule.status) if rule.status else None,
        "author": rule.author,
        "tags": [str(t) for t in rule.tags],
        "file": path,
    }


def sigma_metadata(rule: SigmaRuleBase, detector_id: str, path: str) -> dict[str, Any]:
    """Class attributes shared by rule and correlation detectors."""
    techniques = tuple(m[1].upper() for t in rule.tags if (m := _ATTACK_TECHNIQUE.match(str(t))))
    falsepositives = "; ".join(str(f) for f in rule.falsepositives)
    return {
        "id": detector_id,
        "title": rule.title or detector_id,
        "description": (rule.description or "").strip()
        + (f"\nFalse positives (from the rule): {falsepositives}" if falsepositives else ""),
        "severity": LEVELS.get(str(rule.level) if rule.level else "medium", Severity.MEDIUM),
        "maturity": Maturity.STABLE if str(rule.status or "") == "stable" else Maturity.TEST,
        "mappings": Mappings(mitre_attack=techniques),
        "runbook": "Sigma rule "
        + (f"{rule.title}" if rule.title else detector_id)
        + (f" by {rule.author}" if rule.author else "")
        + ": check the call against the rule's false positives"
        + (f" ({falsepositives})" if falsepositives else "")
        + "; read the rule's references.",
        "source_file": path,
        "sigma": sigma_info(rule, path),
    }


class SigmaRuleDetector(EventDetector):
    """Base of the classes the loader builds, one per translated Sigma rule."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    needs: ClassVar[frozenset[str]] = frozenset()  # a Sigma rule reads the CloudTrail record's fields only
    sigma: ClassVar[dict[str, Any]] = {}
    predicate: ClassVar[Predicate]
    prefilter: ClassVar[Prefilter]

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return type(self).prefilter(action) is not False

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or event.source not in SIGMA_SOURCES:
            return ()
        if not type(self).predicate(event):
            return ()
        title = f"{self.title} ({event.action} by {event.agent_id or ctx.agent_id or 'unknown'})"
        return [Signal.of([event], title=title, details={"sigma": self.sigma})]


def rule_detector(
    rule: SigmaRule, detector_id: str, path: str, predicate: Predicate, prefilter: Prefilter
) -> SigmaRuleDetector:
    attrs = sigma_metadata(rule, detector_id, path)
    attrs["predicate"] = staticmethod(predicate)
    attrs["prefilter"] = staticmethod(prefilter)
    cls: type[SigmaRuleDetector] = type(f"Sigma_{detector_id.replace('.', '_')}", (SigmaRuleDetector,), attrs)
    return cls()
