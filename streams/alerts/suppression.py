"""Suppression and allowlist rules from a reviewed YAML file.

A rule names the detector(s), optionally the agent, principal and target patterns (shell globs), and
always a reason, an owner and an expiry: an allowlist nobody owns and nothing ends is how real attacks
hide. A matching alert is still stored, with the rule id and reason in ``alerts.suppressed_by`` and
``alerts.suppression_reason``; it is only kept from delivery. An expired rule stops applying.
Format and examples: docs/alerts.md.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.alerts import Alert
from schemas.errors import ChainwatchError


class SuppressionFileError(ChainwatchError):
    """The suppression file cannot be read or a rule in it is invalid."""


class SuppressionRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        min_length=1, description="Stable name of the rule, stored with every alert it suppresses."
    )
    detector: str = Field(min_length=1, description="Detector id or glob (e.g. credential.*).")
    agent: str | None = Field(default=None, description="Glob on the alert's agent id.")
    principal: str | None = Field(default=None, description="Glob on the human the agent acted for.")
    target: str | None = Field(
        default=None, description="Glob every triggering event's target must match (all of them)."
    )
    reason: str = Field(min_length=3, description="Why this is expected behaviour.")
    owner: str = Field(min_length=1, description="Who reviewed it and answers for it.")
    expires: datetime = Field(description="Date or UTC datetime after which the rule stops applying.")

    @field_validator("expires", mode="before")
    @classmethod
    def _date_is_end_of_day(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value.strip()) == 10:  # a bare date: valid through that day (UTC)
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                return value
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("expires", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def active(self, now: datetime) -> bool:
        return now <= self.expires

    def matches(self, alert: Alert, targets: Sequence[str] | None) -> bool:
        if not fnmatch.fnmatchcase(alert.detector_id, self.detector):
            return False
        if self.agent is not None and not fnmatch.fnmatchcase(alert.agent_id or "", self.agent):
            return False
        if self.principal is not None and not fnmatch.fnmatchcase(alert.principal or "", self.principal):
            return False
        if self.target is not None:
            # Unknown targets (events not stored yet) never match: the alert is delivered, not hidden.
            if not targets:
                return False
            return all(fnmatch.fnmatchcase(t, self.target) for t in targets)
        return True


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[SuppressionRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Suppression:
    rule_id: str
    reason: str


class SuppressionRules:
    """The rules of one file, applied at a given time."""

    def __init__(self, rules: Iterable[SuppressionRule], source: str = "<rules>") -> None:
        self.rules = tuple(rules)
        self.source = source
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise SuppressionFileError(
                f"{source}: rule ids must be unique; repeated: {', '.join(duplicates)}"
            )

    @classmethod
    def load(cls, path: Path) -> SuppressionRules:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise SuppressionFileError(
                f"{path}: suppression file not found; create it or unset "
                "CHAINWATCH_DELIVERY__SUPPRESSION_FILE"
            ) from None
        except yaml.YAMLError as exc:
            raise SuppressionFileError(f"{path}: not valid YAML: {exc}") from None
        try:
            parsed = _File.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise SuppressionFileError(
                f"{path}: invalid suppression rules ({problems}); every rule needs id, detector, reason, "
                "owner and expires (see docs/alerts.md)"
            ) from None
        return cls(parsed.rules, str(path))

    def expired(self, now: datetime) -> list[SuppressionRule]:
        return [r for r in self.rules if not r.active(now)]

    def match(self, alert: Alert, targets: Sequence[str] | None, now: datetime) -> Suppression | None:
        for rule in self.rules:
            if rule.active(now) and rule.matches(alert, targets):
                return Suppression(rule.id, rule.reason)
        return None

    def apply(
        self,
        alerts: Iterable[Alert],
        targets_of: Callable[[Alert], Sequence[str] | None],
        now: datetime | None = None,
    ) -> dict[str, tuple[str, str]]:
        """alert id -> (rule id, reason) for every alert a rule suppresses."""
        when = now or datetime.now(UTC)
        result: dict[str, tuple[str, str]] = {}
        for alert in alerts:
            hit = self.match(alert, targets_of(alert), when)
            if hit is not None:
                result[alert.alert_id] = (hit.rule_id, hit.reason)
        return result
