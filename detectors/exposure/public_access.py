"""exposure.public_access — a network path, a storage resource or a function was opened to the world.

Why: one call is enough to put a database port, an EBS snapshot or a bucket in front of the whole
internet, and agents asked to "make it reachable" or "share the snapshot" take the shortest path.
``detectors.vocab.public_exposure`` recognises: security-group/NACL ingress from any ``/0`` range (the
whole IPv4 or IPv6 space, whatever the address before the slash), snapshots/AMIs/DB snapshots shared
with ``all``, public bucket ACLs, removed S3 public access blocks, Lambda permissions for principal
``*`` without a source condition, unauthenticated function URLs, resource policies (bucket, KMS key,
secret, ECR, backup vault, EFS) that allow ``*`` without a condition, and the same from the shell
(``--cidr 0.0.0.0/0``, ``--acl public-read``, ``gsutil … allUsers``, a ``put-bucket-policy`` that lets ``*``
in, a lifted public access block). Medium when the task asked for it to be public. Denied calls do not fire.

Known gaps: exposure through an internet-facing load balancer, API Gateway or CloudFront in front of a
private resource; a ``/1`` pair of rules that together cover everything; public access granted by a
policy attached elsewhere (an SCP change, an S3 access point); conditioned wildcards are treated as
private even when the condition is meaningless. Sharing with one named account is
``exfiltration.cross_account_share``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors.base import PRINCIPALS, EventDetector, Signal
from detectors.context import KeyContext
from detectors.vocab import EXPOSURE_APIS, is_shell, public_exposure
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""
ASKED_PUBLIC = re.compile(r"\b(public(ly)?|anyone|everyone|the (whole )?(world|internet))\b", re.I)


class PublicAccess(EventDetector):
    id: ClassVar[str] = "exposure.public_access"
    title: ClassVar[str] = "Resource opened to the internet"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "T2"), owasp_nhi=("NHI6",), mitre_attack=("T1562.007", "T1537", "T1530")
    )
    runbook: ClassVar[str] = (
        "Revert the rule/ACL/share now (revoke the ingress, remove 'all' or '*'), then check who reached it."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        # exposure APIs, and shell or CLI tools of any name (``terminal``, ``az`` with an argument list)
        return tool is None or action in EXPOSURE_APIS or is_shell(tool, action)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or event.outcome in (Outcome.DENIED, Outcome.ERROR):
            return ()
        found = public_exposure(event)
        if found is None:
            return ()
        what, severity = found
        asked = ctx.provenance is not None and ASKED_PUBLIC.search(ctx.provenance.trusted_text) is not None
        severity = Severity.MEDIUM if asked else severity  # "host the site on the bucket as a public website"
        title = f"{event.agent_id or ctx.agent_id or 'an agent'} {what}" + (
            ", as the task asked" if asked else ""
        )
        details = {"exposure": what, "action": event.action, "target": event.target, "asked": asked}
        return [Signal.of([event], title=title, severity=severity, details=details)]
