"""The sensitive-API table (``data/sensitive_apis.yml``): loaded once, checked field by field, indexed by
action. Each entry is data: the calls it covers, the condition that makes them risky (a condition of the
rule language, ``docs/rules.md``, reading the event and ``facts.*`` from ``detectors.cloud.facts``), its
severity and tier, its ATT&CK / OWASP mappings and the benign look-alike it must not match."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from detectors.expr import CONTRACT_FIELDS, Expression, ExpressionError, compile_expression
from schemas.alerts import Mappings
from schemas.types import IdentityKind, Severity, lower_severity

TABLE_PATH = Path(__file__).resolve().parent / "data" / "sensitive_apis.yml"
TIERS = ("alert", "finding")
# Whom a check judges by default: every principal but AWS services acting on their own.
DEFAULT_JUDGES = frozenset(IdentityKind) - {IdentityKind.SERVICE}
ANY = "*"  # calls: ["*"] (every call) or ["iam:*"] (every call of a service)
# ignore: a denied or failed call is not judged; finding / alert: judged one step lower, as a finding or
# still an alert; probe: judged as severe as a success, as a finding (reaching for a credential the caller
# may not read is the probe a stolen key makes; an application reading its own secret is allowed).
ATTEMPTS = ("ignore", "finding", "alert", "probe")
_KEYS = {
    "id", "calls", "when", "severity", "severity_by_kind", "tier", "attempts", "tactic", "title", "attack",
    "owasp_agentic", "owasp_nhi", "benign", "owner", "deletes", "judges",
}  # fmt: skip
_REQUIRED = ("id", "calls", "severity", "tactic", "title", "attack", "benign")


class TableError(ValueError):
    """A table entry that cannot be used; the message names the entry, the field and the fix."""


@dataclass(frozen=True)
class ApiCheck:
    id: str
    services: tuple[str | None, ...]  # one per call; None: any service
    actions: tuple[str, ...]
    condition: Expression | None
    severity: Severity
    tier: str
    attempts: str
    tactic: str
    title: str
    mappings: Mappings
    benign: str
    owner: str | None = None  # a dedicated detector already alerts on it: listed for coverage only
    deletes: bool = False  # deletes a resource: clean-up of what the same session created weighs far less
    judges: frozenset[IdentityKind] = DEFAULT_JUDGES  # the principal kinds the check applies to
    # the severity for some kinds (a console page or infrastructure code reading or making it weighs less)
    severity_by_kind: tuple[tuple[IdentityKind, Severity], ...] = ()

    def grade(self, kind: IdentityKind, attempt: bool) -> tuple[Severity, bool, dict[str, Any]]:
        """Severity, alert or not, and the finding's details for one call by a principal of this kind: the
        kind's own severity where the entry gives one; a denied or failed call as ``attempts`` says."""
        severity = dict(self.severity_by_kind).get(kind, self.severity)
        details: dict[str, Any] = {"check": self.id, "tactic": self.tactic, "benign_look_alike": self.benign}
        if severity != self.severity:
            details["kind_note"] = f"{severity} for a principal of kind {kind} ({self.severity} otherwise)"
        alert = self.tier == "alert"
        if attempt:
            alert = alert and self.attempts == "alert"
            severity = severity if self.attempts == "probe" else lower_severity(severity)
        return severity, alert, details

    def covers(self, tool: str, action: str) -> bool:
        return any(
            a in (action, ANY) and (s is None or s == tool or tool == "aws")
            for s, a in zip(self.services, self.actions, strict=True)
        )


def _strings(where: str, value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise TableError(f"{where}: give a string or a list of strings, got {value!r}")
    return tuple(values)


def _kinds(where: str, value: Any) -> frozenset[IdentityKind]:
    try:
        return frozenset(IdentityKind(v) for v in _strings(where, value))
    except ValueError:
        raise TableError(f"{where}: kinds among {', '.join(k.value for k in IdentityKind)}") from None


def _severity(where: str, value: Any) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise TableError(f"{where}: one of {', '.join(s.value for s in Severity)}") from None


def _severity_by_kind(where: str, value: Any) -> tuple[tuple[IdentityKind, Severity], ...]:
    if not isinstance(value, dict) or not value:
        raise TableError(f"{where}: give a mapping of kind to severity, e.g. {{human: info}}")
    return tuple(
        (next(iter(_kinds(f"{where}.{kind}", kind))), _severity(f"{where}.{kind}", severity))
        for kind, severity in value.items()
    )


def _entry(where: str, raw: Any) -> ApiCheck:
    if not isinstance(raw, dict):
        raise TableError(f"{where}: each entry is a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise TableError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise TableError(f"{where}: missing {', '.join(missing)}")
    where = f"{where} ({raw['id']})"
    services: list[str | None] = []
    actions: list[str] = []
    for call in _strings(f"{where}.calls", raw["calls"]):
        service, _, action = call.rpartition(":")
        services.append(service or None)
        actions.append(action)
    severity = _severity(f"{where}.severity", raw["severity"])
    tier, attempts = raw.get("tier", "alert"), raw.get("attempts", "ignore")
    if tier not in TIERS:
        raise TableError(f"{where}.tier: one of {', '.join(TIERS)}")
    if attempts not in ATTEMPTS:
        raise TableError(f"{where}.attempts: one of {', '.join(ATTEMPTS)}")
    condition = None
    if raw.get("when"):
        try:
            condition = compile_expression(str(raw["when"]), CONTRACT_FIELDS | {"facts"})
        except ExpressionError as exc:
            raise TableError(f"{where}.when: {exc}") from None
    return ApiCheck(
        id=str(raw["id"]),
        services=tuple(services),
        actions=tuple(actions),
        condition=condition,
        severity=severity,
        tier=tier,
        attempts=attempts,
        tactic=str(raw["tactic"]),
        title=str(raw["title"]),
        mappings=Mappings(
            owasp_agentic=_strings(f"{where}.owasp_agentic", raw.get("owasp_agentic") or ["T2"]),
            owasp_nhi=_strings(f"{where}.owasp_nhi", raw.get("owasp_nhi") or ["NHI5"]),
            mitre_attack=_strings(f"{where}.attack", raw["attack"]),
        ),
        benign=str(raw["benign"]),
        owner=str(raw["owner"]) if raw.get("owner") else None,
        deletes=bool(raw.get("deletes", False)),
        judges=_kinds(f"{where}.judges", raw["judges"]) if "judges" in raw else DEFAULT_JUDGES,
        severity_by_kind=_severity_by_kind(f"{where}.severity_by_kind", raw["severity_by_kind"])
        if "severity_by_kind" in raw
        else (),
    )


def load_table(path: Path = TABLE_PATH) -> tuple[ApiCheck, ...]:
    """Every entry of the table, checked; a bad entry raises TableError naming it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise TableError(f"{path}: expected a mapping with a 'checks' list")
    checks = tuple(_entry(f"{path}: checks[{i}]", raw) for i, raw in enumerate(data["checks"]))
    seen: set[str] = set()
    for check in checks:
        if check.id in seen:
            raise TableError(f"{path}: duplicate check id {check.id!r}")
        seen.add(check.id)
    return checks


def index_by_action(checks: tuple[ApiCheck, ...]) -> Mapping[str, tuple[ApiCheck, ...]]:
    index: dict[str, list[ApiCheck]] = {}
    for check in checks:
        for action in dict.fromkeys(check.actions):
            index.setdefault(action, []).append(check)
    return {action: tuple(found) for action, found in index.items()}


class CallIndex:
    """The checks that judge a principal kind, cover a (service, call) pair and whose condition's static part
    (kind, tool, action) it passes, memoised: a call only meets the conditions that can hold for it."""

    MAX_PAIRS = 50_000  # an unbounded vocabulary of calls must not grow memory forever

    def __init__(self, by_action: Mapping[str, tuple[ApiCheck, ...]]) -> None:
        self.by_action = by_action
        self._memo: dict[tuple[IdentityKind, str, str], tuple[ApiCheck, ...]] = {}

    def __call__(self, judged: IdentityKind, tool: str, action: str) -> tuple[ApiCheck, ...]:
        found = self._memo.get((judged, tool, action))
        if found is None:
            probe = {"kind": "tool_call", "tool": tool, "action": action}
            found = tuple(
                check
                for check in (*self.by_action.get(action, ()), *self.by_action.get(ANY, ()))
                if judged in check.judges
                and check.covers(tool, action)
                and (
                    check.condition is None
                    or check.condition.prefilter is None
                    or check.condition.prefilter(probe, {})
                )
            )
            if len(self._memo) >= self.MAX_PAIRS:
                self._memo.clear()
            self._memo[(judged, tool, action)] = found
        return found
