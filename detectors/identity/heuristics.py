"""The documented heuristics that give a principal its kind when the identities file says nothing.

In order (the first that applies decides):

1. Not an audit log (native, OTLP, MCP, transcripts): **agent**, by construction.
2. An agent runtime's marks: a user agent naming an agent framework, a role session name / source
   identity that is an ``agent`` word (``agent-42``, ``support_agent``, ``bedrock-agent-…``), or a
   principal or STS session tag ``agent`` set to true / yes / 1 (``detectors.identity.session_tags``):
   **agent**.
3. CloudFormation acting for a stack (``invokedBy`` cloudformation), or a Terraform / OpenTofu,
   CloudFormation, CDK, Pulumi, Crossplane or Ansible user agent, or a CI session name (GitHub Actions,
   GitLab, Buildkite, CircleCI, Jenkins): **automation**.
4. An AWS service: ``userIdentity.type`` AWSService, a service-linked role (``AWSServiceRoleFor*``,
   path ``aws-service-role/``), a call another service made for the caller (``invokedBy``), or an event
   AWS generated itself (``eventType`` AwsServiceEvent): **service**.
5. A person at the console: a console sign-in (signin.amazonaws.com), a console session
   (``sessionCredentialFromConsole``), a console or browser user agent, an IAM Identity Center
   (``AWSReservedSSO_*``) or SAML session, the root user: **human**.
6. Anything else (an IAM user's access key from a script, an application role): **unknown**.

Known gaps: an agent that calls AWS through a plain SDK with a human-looking session name is unknown
until the identities file names it; a person running Terraform by hand is automation.
"""

from __future__ import annotations

import re

from detectors.identity.facts import PrincipalFacts
from schemas.types import IdentityKind

# Agent frameworks and runtimes that put their name in the SDK user agent (botocore's ``user_agent_extra``).
_AGENT_USER_AGENT = re.compile(
    r"bedrock-agent|strands-agents|langchain|langgraph|llama[-_]?index|crewai|autogen|openai-agents|"
    r"claude-code|claude-agent|anthropic|mcp-server|\bmcp/|agentcore|smolagents|pydantic-ai",
    re.IGNORECASE,
)
_AGENT_WORD = re.compile(r"(?:^|[-_.:/@ ])(?:ai-?)?agents?(?:$|[-_.:/@ ]|\d)", re.IGNORECASE)
_IAC_USER_AGENT = re.compile(
    r"terraform|opentofu|hashicorp|cloudformation|aws-cdk|\bcdk/|pulumi|crossplane|ansible",
    re.IGNORECASE,
)
_CI_SESSION = re.compile(r"github|gitlab|buildkite|circleci|jenkins|codebuild|codepipeline", re.IGNORECASE)
_CONSOLE_USER_AGENT = re.compile(
    r"^(?:\[?mozilla/|console\.(?:[a-z0-9-]+\.)?amazonaws\.com|signin\.amazonaws\.com)", re.IGNORECASE
)
_TRUE_TAG = frozenset({"true", "yes", "1"})
_HUMAN_IDENTITY_TYPES = frozenset({"Root", "SAMLUser", "IdentityCenterUser"})
# invokedBy values that mean "a person did it through the console", not "a service acted".
_CONSOLE_INVOKERS = frozenset({"signin.amazonaws.com", "console.amazonaws.com"})


def heuristic_kind(facts: PrincipalFacts) -> tuple[IdentityKind, str]:
    """The kind and the reason, by the rules in the module docstring."""
    if not facts.audit_log:
        return IdentityKind.AGENT, f"agent telemetry ({facts.source}): an agent by construction"
    if _AGENT_USER_AGENT.search(facts.user_agent):
        return IdentityKind.AGENT, "user agent names an agent framework"
    for key, value in facts.tags:
        if key.lower() == "agent" and value.strip().lower() in _TRUE_TAG:
            return IdentityKind.AGENT, f"principal or session tag {key}={value}"
    for label, value in (("session name", facts.session_name), ("source identity", facts.source_identity)):
        if value and _AGENT_WORD.search(value):
            return IdentityKind.AGENT, f"{label} '{value}' names an agent"
    if facts.invoked_by == "cloudformation.amazonaws.com":
        return IdentityKind.AUTOMATION, "CloudFormation acting for a stack"
    if _IAC_USER_AGENT.search(facts.user_agent):
        return IdentityKind.AUTOMATION, "infrastructure-as-code user agent"
    if facts.session_name and _CI_SESSION.search(facts.session_name):
        return IdentityKind.AUTOMATION, f"CI session name '{facts.session_name}'"
    if (
        facts.identity_type == "AWSService"
        or facts.role_name.startswith("AWSServiceRoleFor")
        or facts.role_path.startswith("aws-service-role")
        or (facts.invoked_by.endswith(".amazonaws.com") and facts.invoked_by not in _CONSOLE_INVOKERS)
        or facts.event_type == "AwsServiceEvent"
    ):
        return IdentityKind.SERVICE, "an AWS service principal or service-linked role"
    if (
        facts.from_console
        or facts.invoked_by in _CONSOLE_INVOKERS
        or facts.event_source == "signin.amazonaws.com"
        or _CONSOLE_USER_AGENT.search(facts.user_agent)
        or facts.role_name.startswith("AWSReservedSSO_")
        or facts.identity_type in _HUMAN_IDENTITY_TYPES
    ):
        return IdentityKind.HUMAN, "console sign-in, console session or a person's identity"
    return IdentityKind.UNKNOWN, "no rule of the identities file and no heuristic applies"
