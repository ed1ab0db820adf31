"""approval.sensitive_auto_allowed — a sensitive change went through with no human approving it.

Why: agent gateways decide each tool call: ``auto_allowed`` (the agent's own permission mode or an
allow-list let it run), ``approved`` (a person said yes), ``allowed_by_rule`` (an access policy, such
as the IAM policy behind a CloudTrail record), ``denied``. Creating identities, changing permissions or
network rules and minting keys are the calls a human should see before they run; one that was
auto-allowed means the human-in-the-loop control was not there when it mattered. The vocabulary is
``detectors.vocab.sensitive_category`` (IAM/KMS/EC2/S3/Lambda APIs, agent tools such as ``create_user``
or ``add_collaborator``, and the same operations through ``aws``/``gcloud``/``az``/``kubectl`` CLIs), and for
a tool of any name its capabilities: a call that changes access or moves money (``detectors/capabilities``).
CloudTrail records carry ``allowed_by_rule`` and never fire: the cloud enforced a policy, which is not
a statement about approval.

Known gaps: gateways that do not report a decision (``unknown``) are not judged; approval given once
for a whole batch or session is not distinguishable from per-call approval; sensitive operations
whose name and arguments say nothing of access or money (an in-house ``run_job`` tool) are missed unless a
tool manifest says what they do. One alert per session per 10 minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, Signal
from detectors.context import KeyContext
from detectors.vocab import category_of, command_of, is_shell, may_change_access_or_money, sensitive_category
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Decision, IdentityKind, Outcome, Severity

WHY = __doc__ or ""


class SensitiveAutoAllowed(EventDetector):
    id: ClassVar[str] = "approval.sensitive_auto_allowed"
    title: ClassVar[str] = "Sensitive change auto-allowed without human approval"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "ASI09", "T3", "T10"), owasp_nhi=("NHI5",), mitre_attack=("T1098", "T1136")
    )
    runbook: ClassVar[str] = (
        "Review the change with its owner; undo it (delete the key/user, revert the rule), require approval."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    suppress_seconds: ClassVar[float] = 600.0

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return (
            tool is None
            or is_shell(tool, action)
            or category_of(tool, action) is not None
            or may_change_access_or_money(tool, action)
        )

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or event.decision != Decision.AUTO_ALLOWED:
            return ()
        if event.outcome == Outcome.DENIED:
            return ()
        category = sensitive_category(event)
        if category is None:
            return ()
        command = command_of(event)
        did = (
            f"`{command[:120]}`"
            if command
            else event.action + (f" on {event.target}" if event.target else "")
        )
        title = (
            f"{event.agent_id or ctx.agent_id or 'an agent'} ran {did} ({category}) without human approval"
        )
        details = {"category": category, "action": event.action, "decision": str(event.decision)}
        return [Signal.of([event], title=title, details=details)]
