"""chainwatch contracts: events, findings, alerts, chain summaries; adapters; DuckDB DDL.

Depends on pydantic and the standard library only (an import-linter contract in pyproject.toml enforces it).
"""

from schemas.alerts import Alert, ChainSummary, CredentialUse, Finding, Mappings
from schemas.events import (
    AnyEvent,
    CredentialEvent,
    SessionEvent,
    ToolCall,
    event_from_dict,
    event_from_json,
    event_to_json,
)
from schemas.types import (
    CredentialAction,
    Decision,
    Environment,
    Maturity,
    Outcome,
    SessionAction,
    Severity,
)

__all__ = [
    "Alert",
    "AnyEvent",
    "ChainSummary",
    "CredentialAction",
    "CredentialEvent",
    "CredentialUse",
    "Decision",
    "Environment",
    "Finding",
    "Mappings",
    "Maturity",
    "Outcome",
    "SessionAction",
    "SessionEvent",
    "Severity",
    "ToolCall",
    "event_from_dict",
    "event_from_json",
    "event_to_json",
]
