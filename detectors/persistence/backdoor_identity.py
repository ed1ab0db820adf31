"""persistence.backdoor_identity — a way back in was left: a password, key, trust, code or federation path.

Why: the durable damage of a hijacked agent is not what it did but what it left behind. Each of these
outlives the session and the agent's own credential: a console password set or reset for another IAM
user (CreateLoginProfile/UpdateLoginProfile), an access key or SSH key minted for another user, a role
whose trust policy now admits another account or ``*`` (UpdateAssumeRolePolicy, CreateRole), a Lambda
function whose code was replaced, that gained a layer (higher when the layer is another account's) or
that another account or anyone may invoke (AddPermission), an IAM Roles Anywhere trust anchor, an
external SAML/OIDC identity provider, a federation token whose inline policy allows ``*``, and an SSH
key appended to ``authorized_keys`` from the shell. The vocabulary is ``detectors.vocab.backdoor_reason``.
Self-service (a user resetting their own password or minting their own key) is not flagged.

Known gaps: UpdateFunctionCode is also every ordinary deployment, so it fires at medium severity and
CI deploy principals need a suppression upstream; a trust to an account of the same AWS Organization
counts as external (no org map); when the own account is unknown (native events without an account in
the target ARN) every account principal counts as external; backdoors built in several harmless-looking
steps (a new user, then a group membership) are ``privilege.escalation_chain``'s job. One alert per
session per 5 minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import PRINCIPALS, EventDetector, Signal
from detectors.context import KeyContext
from detectors.vocab import BACKDOOR_APIS, backdoor_reason
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""


class BackdoorIdentity(EventDetector):
    id: ClassVar[str] = "persistence.backdoor_identity"
    title: ClassVar[str] = "Backdoor identity, trust or code left behind"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3", "T9", "ASI10"),
        owasp_nhi=("NHI1", "NHI7", "NHI5"),
        mitre_attack=("T1098.001", "T1098.003", "T1098.004", "T1136.003", "T1484.002", "T1525"),
    )
    runbook: ClassVar[str] = (
        "Remove what was left (delete the key/login profile, restore the trust policy or function version,"
        " remove the permission/anchor/provider), then revoke the session's credential."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    actions: ClassVar[frozenset[str] | None] = BACKDOOR_APIS | {"exec", "run", "shell"}
    suppress_seconds: ClassVar[float] = 300.0

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or event.outcome == Outcome.DENIED:
            return ()
        found = backdoor_reason(event)
        if found is None:
            return ()
        what, severity = found
        title = f"{event.agent_id or ctx.agent_id or 'an agent'} {what}"
        details = {"backdoor": what, "action": event.action, "target": event.target}
        return [Signal.of([event], title=title, severity=severity, details=details)]
