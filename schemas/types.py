"""Shared constrained types and enumerations of the contract (one place, used by every model)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

SCHEMA_VERSION = 1

# Every time in the contract lies in this range (UTC): epoch numbers start in 1970 by definition and no
# agent acted before it; the end is the last instant a datetime holds (9999-12-31 is a common "never
# expires"). Anything outside is a dead letter with its reason, never an OverflowError that stops a run.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime.max.replace(tzinfo=UTC)
TIME_RANGE = f"{EARLIEST_TIME:%Y-%m-%d} to {LATEST_TIME:%Y-%m-%d} UTC"
# Epoch numbers carry no unit; it is read from the magnitude, one documented rule for every input:
# below 1e11 seconds (to year 5138), below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
_RANGE_SECONDS = (LATEST_TIME - EARLIEST_TIME).total_seconds()
EPOCH_UNITS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6), (math.inf, 1e9))
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def epoch_to_datetime(value: float, per_second: float | None = None) -> datetime:
    """An epoch number as UTC: in units of ``1/per_second`` s when the format says (OTLP: nanoseconds,
    1e9), else seconds, milliseconds, microseconds or nanoseconds by magnitude (EPOCH_UNITS)."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"epoch time {value!r} is out of range (before 1970; supported: {TIME_RANGE})")
    divisor = per_second or next(d for limit, d in EPOCH_UNITS if value < limit)
    seconds = value / divisor
    if seconds > _RANGE_SECONDS:
        raise ValueError(f"epoch time {value!r} is out of range (supported: {TIME_RANGE})")
    return _in_range(EARLIEST_TIME + timedelta(seconds=seconds))


def _in_range(value: datetime) -> datetime:
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise ValueError(f"time {value.isoformat()} is out of range (supported: {TIME_RANGE})")
    return value


def _epoch(value: Any) -> Any:
    # Numbers (and numeric strings) follow EPOCH_UNITS, not pydantic's own rule (which reads a negative
    # number as milliseconds and knows no micro- or nanoseconds).
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return epoch_to_datetime(float(value))
        except OverflowError:
            raise ValueError(f"epoch time {value!r} is out of range (supported: {TIME_RANGE})") from None
    return value


def as_contract_time(value: datetime) -> datetime:
    """``value`` in UTC inside the contract's range, or ValueError saying why not."""
    # Naive timestamps are taken as UTC: every source we read writes UTC, and mixing
    # naive and aware datetimes would make ordering raise deep inside the engine.
    if value.tzinfo is None:
        return _in_range(value.replace(tzinfo=UTC))
    try:
        return _in_range(value.astimezone(UTC))
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in year 10000 in UTC
        raise ValueError(f"time {value.isoformat()} is out of range (supported: {TIME_RANGE})") from None


UtcDatetime = Annotated[datetime, BeforeValidator(_epoch), AfterValidator(as_contract_time)]
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
