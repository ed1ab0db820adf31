"""What an event says about who made it: the principal facts that identities files and heuristics match.

CloudTrail records carry the caller (``arguments.user_identity``, written by the cloudtrail adapter), the
user agent and the session name inside an assumed-role ARN; agent telemetry (native, OTLP, MCP,
transcripts) carries the agent and principal ids. Pure functions of one event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from schemas.events import AnyEvent, ToolCall

# Sources that are audit logs of a cloud account: their principals may be anyone. Every other source is
# agent telemetry (an agent runtime, gateway, MCP proxy or transcript): an agent by construction.
AUDIT_LOG_SOURCES = frozenset({"cloudtrail"})

_ASSUMED_ROLE = re.compile(r"^arn:[^:]+:sts::\d*:assumed-role/(?P<role>[^/]+)/(?P<session>.+)$")
_FEDERATED = re.compile(r"^arn:[^:]+:sts::\d*:federated-user/(?P<session>.+)$")


@dataclass(frozen=True, slots=True)
class PrincipalFacts:
    """The fields an identities-file rule can match (all optional; empty string = unknown)."""

    source: str
    arn: str = ""
    role: str = ""  # the role ARN behind an assumed-role session
    role_name: str = ""
    role_path: str = ""
    session_name: str = ""
    user_agent: str = ""
    source_identity: str = ""
    identity_type: str = ""
    invoked_by: str = ""
    event_source: str = ""
    event_type: str = ""  # CloudTrail's eventType: AwsServiceEvent is AWS acting, not a principal's call
    principal: str = ""
    agent_id: str = ""
    from_console: bool = False
    tags: tuple[tuple[str, str], ...] = ()  # tags the event itself carries (arguments.principal_tags)

    @property
    def audit_log(self) -> bool:
        return self.source in AUDIT_LOG_SOURCES


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def facts_of(event: AnyEvent) -> PrincipalFacts:
    """The principal facts of one event."""
    arguments: dict[str, Any] = event.arguments if isinstance(event, ToolCall) else {}
    identity = arguments.get("user_identity")
    identity = identity if isinstance(identity, dict) else {}
    context = identity.get("sessionContext")
    context = context if isinstance(context, dict) else {}
    issuer = context.get("sessionIssuer")
    issuer = issuer if isinstance(issuer, dict) else {}
    arn = _text(identity.get("arn")) or (_text(event.agent_id) if event.source in AUDIT_LOG_SOURCES else "")
    role = _text(issuer.get("arn")) if _text(issuer.get("type")) == "Role" else ""
    session_name, role_name, role_path = "", "", ""
    match = _ASSUMED_ROLE.match(arn) or _FEDERATED.match(arn)
    if match:
        session_name = match["session"]
        if "role" in match.groupdict():
            role_name = match["role"]
            principal = _text(event.principal)
            role = role or (principal if ":role/" in principal else "")
    if role:
        resource = role.split(":", 5)[-1]  # role/path/Name
        parts = resource.split("/")
        role_name, role_path = parts[-1], "/".join(parts[1:-1])
    raw_tags = arguments.get("principal_tags")
    tags = tuple(sorted((str(k), str(v)) for k, v in raw_tags.items())) if isinstance(raw_tags, dict) else ()
    return PrincipalFacts(
        source=event.source,
        arn=arn,
        role=role,
        role_name=role_name,
        role_path=role_path,
        session_name=session_name,
        user_agent=_text(arguments.get("user_agent")),
        source_identity=_text(context.get("sourceIdentity")),
        identity_type=_text(identity.get("type")),
        invoked_by=_text(identity.get("invokedBy")),
        event_source=_text(arguments.get("event_source")),
        event_type=_text(arguments.get("event_type")),
        principal=_text(event.principal),
        agent_id=_text(event.agent_id),
        from_console=_text(identity.get("sessionCredentialFromConsole")) == "true",
        tags=tags,
    )
