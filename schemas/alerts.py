"""Findings (signals from detectors), alerts (what an analyst sees) and chain summaries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.types import Identifier, IdentityKind, Maturity, RiskScore, Severity, UtcDatetime


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: Literal[1] = 1  # == SCHEMA_VERSION


class Mappings(_Record):
    """Framework references: OWASP Agentic AI threats (T#), OWASP NHI Top 10 (NHI#), MITRE ATT&CK."""

    owasp_agentic: tuple[str, ...] = ()
    owasp_nhi: tuple[str, ...] = ()
    mitre_attack: tuple[str, ...] = ()


KeyKind = Literal["session", "agent", "principal", "credential"]


class _Detection(_Record):
    """What findings and alerts share: who, what, how bad, the evidence and what to do."""

    detector_id: Identifier
    detector_version: int = 1
    key_kind: KeyKind = "session"
    key: Identifier = Field(description="The value the detector correlates by (a session id by default).")
    session_id: Identifier
    agent_id: Identifier | None = None
    principal: Identifier | None = None
    identity_kind: IdentityKind | None = Field(
        default=None, description="Who the key's principal is (agent, human, automation, service, unknown)."
    )
    severity: Severity
    risk_score: RiskScore
    title: str = Field(description="What happened, in words.")
    description: str = ""
    event_ids: tuple[str, ...] = Field(description="The events that triggered it, in event-time order.")
    credential_ids: tuple[str, ...] = ()
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    mappings: Mappings = Mappings()
    runbook: str = Field(default="", description="What the analyst should check or revoke first.")
    details: dict[str, Any] = Field(default_factory=dict)


class Finding(_Detection):
    """A detector's signal. Experimental detectors stop here; others become alerts."""

    finding_id: Identifier = Field(description="hash(detector id, key, triggering event ids).")
    maturity: Maturity


class Alert(_Detection):
    """What a SOC analyst receives: a finding that survived dedup and suppression."""

    alert_id: Identifier = Field(description="Equal to the finding id it came from.")


class CredentialUse(_Record):
    """A credential as one session saw it: its lifetime against the session's."""

    credential_id: Identifier
    issued_at: UtcDatetime | None = None
    ttl_seconds: float | None = None
    expires_at: UtcDatetime | None = None
    first_used: UtcDatetime | None = None
    last_used: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    uses: int = 0
    scopes: tuple[str, ...] = ()
    inherited_from_human: bool = False
    issuer: str | None = None


class ChainSummary(_Record):
    """One row per session: the action chain as the audit trail keeps it."""

    session_id: Identifier
    agent_id: str | None = None
    parent_agent_id: str | None = None
    principal: str | None = None
    identity_kind: IdentityKind | None = Field(
        default=None, description="Who the principal is (agent, human, automation, service, unknown)."
    )
    identity_reason: str | None = Field(
        default=None, description="Why: the identities-file rule or the heuristic that decided the kind."
    )
    task: str | None = None
    task_scope: tuple[str, ...] | None = None
    started_at: UtcDatetime
    last_event_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    event_count: int
    tool_calls: int
    distinct_tools: int
    distinct_targets: int
    environments: tuple[str, ...] = ()
    decisions: dict[str, int] = Field(default_factory=dict)
    outcomes: dict[str, int] = Field(default_factory=dict)
    approvers: tuple[str, ...] = ()
    credentials: tuple[CredentialUse, ...] = ()
    max_risk: float = 0.0
    alert_count: int = 0
    finding_count: int = 0
    blast_radius_reachable: int = Field(
        default=0, description="Distinct scopes the session's credentials grant."
    )
    blast_radius_touched: int = Field(default=0, description="Distinct targets it actually touched.")
    blast_radius_weighted: float = Field(default=0.0, description="Touched targets weighted by environment.")
    closed: bool = False
