"""Shared constrained types and enumerations of the contract (one place, used by every model)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

SCHEMA_VERSION = 1


def _as_utc(value: datetime) -> datetime:
    # Naive timestamps are taken as UTC: every source we read writes UTC, and mixing
    # naive and aware datetimes would make ordering raise deep inside the engine.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=512)]
ShortText = Annotated[str, StringConstraints(max_length=8192)]
RiskScore = Annotated[float, Field(ge=0.0, le=100.0)]


class Environment(StrEnum):
    """How sensitive the environment an action touches is; production weighs most."""

    PROD = "prod"
    STAGING = "staging"
    DEV = "dev"
    UNKNOWN = "unknown"


ENVIRONMENT_WEIGHT: dict[Environment, float] = {
    Environment.PROD: 1.0,
    Environment.UNKNOWN: 0.6,
    Environment.STAGING: 0.4,
    Environment.DEV: 0.2,
}


class Outcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    DENIED = "denied"
    UNKNOWN = "unknown"


class Decision(StrEnum):
    """Who let a tool call run: the audit trail keeps intent, decision and credential together."""

    AUTO_ALLOWED = "auto_allowed"
    ALLOWED_BY_RULE = "allowed_by_rule"
    APPROVED = "approved"
    DENIED = "denied"
    UNKNOWN = "unknown"


class CredentialAction(StrEnum):
    ISSUED = "issued"
    USED = "used"
    REFRESHED = "refreshed"
    REVOKED = "revoked"
    EXPIRED = "expired"


class SessionAction(StrEnum):
    START = "start"
    END = "end"
    PERMISSION_MODE = "permission_mode"
    # A later turn of the human the agent works for (the text in ``task``): trusted input that refines
    # the task, and clears values that untrusted content also brought (detectors/provenance.py).
    PROMPT = "prompt"


class Capability(StrEnum):
    """What a tool call can do, whatever the tool is called (detectors/capabilities/). Detectors reason
    about these, never about tool names; a call may have several (a shell line that reads and uploads)."""

    READ = "read"  # reads data or state
    WRITE = "write"  # creates or changes data or state
    DELETE = "delete"  # removes data, resources or history
    EXECUTE = "execute"  # runs code or commands
    COMMUNICATE = "communicate"  # messages people: e-mail, chat, post, comment, invite
    EGRESS = "egress"  # sends data out of the system: upload, share, publish, outbound POST
    FETCH = "fetch"  # an outbound request for outside content (a URL; its query can carry data)
    FORM_INPUT = "form_input"  # fills or submits a form (browser, web UI)
    MONEY = "money"  # moves money: pays, transfers, refunds, buys, books
    IDENTITY = "identity"  # changes identities or permissions: users, roles, groups, keys, ACLs
    SECRET = "secret"  # reads or handles secrets and credentials


class IdentityKind(StrEnum):
    """Who a principal is (issue 13): agent-centric detectors judge agents; people, CI and AWS services are
    judged by the detectors written for them. Resolved from the user's identities file first, then from
    documented heuristics (docs/detectors-guide.md, "Identity kinds")."""

    AGENT = "agent"
    HUMAN = "human"
    AUTOMATION = "automation"  # CI, infrastructure-as-code (Terraform, CloudFormation, CDK, Pulumi)
    SERVICE = "service"  # an AWS service acting on its own (service principals, AWSServiceRoleFor*)
    UNKNOWN = "unknown"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK: dict[Severity, int] = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}

SEVERITY_BY_RANK: dict[int, Severity] = {rank: severity for severity, rank in SEVERITY_RANK.items()}


def lower_severity(severity: Severity, steps: int = 1) -> Severity:
    """``steps`` ranks lower, never below info."""
    return SEVERITY_BY_RANK[max(0, SEVERITY_RANK[severity] - steps)]


# Base risk of a finding by severity, before environment and blast-radius weighting.
SEVERITY_RISK: dict[Severity, float] = {
    Severity.INFO: 5.0,
    Severity.LOW: 20.0,
    Severity.MEDIUM: 45.0,
    Severity.HIGH: 70.0,
    Severity.CRITICAL: 90.0,
}


class Maturity(StrEnum):
    """Experimental detectors emit findings only; stable ones raise alerts."""

    EXPERIMENTAL = "experimental"
    TEST = "test"
    STABLE = "stable"
