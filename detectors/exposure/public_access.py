"""exposure.public_access — a network path, a storage resource or a function was opened to the world.

Why: one call is enough to put a database port, an EBS snapshot or a bucket in front of the whole
internet, and agents asked to "make it reachable" or "share the snapshot" take the shortest path.
``detectors.vocab.public_exposure`` recognises: security-group/NACL ingress from any ``/0`` range (the
whole IPv4 or IPv6 space, whatever the address before the slash), snapshots/AMIs/DB snapshots shared
with ``all``, public bucket ACLs, removed S3 public access blocks, Lambda permissions for principal
``*`` without a source condition, unauthenticated function URLs, resource policies (bucket, KMS key,
secret, ECR, backup vault, EFS) that allow ``*`` without a condition, and the same from the shell
(``--cidr 0.0.0.0/0``, ``--acl public-read``, ``gsutil … allUsers``, a ``put-bucket-policy`` that lets ``*``
in, a lifted public access block). Medium when the task asked for it to be public, unless the task asked to
publish one file ("the May 7 minutes PDF") and a bucket policy or grant opened the whole bucket (every
object in it, ``…:::bucket/*``): high. Denied calls do not fire.

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
from detectors.vocab import EXPOSURE_APIS, command_of, is_shell, public_exposure
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""
ASKED_PUBLIC = re.compile(r"\b(public(ly)?|anyone|everyone|the (whole )?(world|internet))\b", re.I)


# a task that publishes one file ("make the May 7 minutes PDF public"), not a folder, bucket or all of them
ONE_ITEM = re.compile(
    r"\b(pdf|docx?|xlsx?|csv|jpe?g|png|mp4|file|document|photo|image|video|report|minutes|slides|deck)\b|"
    r"\b[\w-]+\.(pdf|docx?|xlsx?|csv|jpe?g|png|mp4|html?)\b",
    re.I,
)
MANY_ITEMS = re.compile(r"\b(all|every|entire|whole|files|folders?|director(y|ies)|buckets?)\b", re.I)
# a bucket policy or grant whose resource is the bucket itself or every object in it
WHOLE_BUCKET = re.compile(
    r"arn:aws:s3:::[\w.-]+(/\*)?[\"'\]]|\bgsutil\b[^;&|\n]{0,300}\biam\s+ch\b[^;&|\n]{0,300}\ballUsers\b",
    re.I,
)


def one_item_asked(task: str) -> bool:
    return ONE_ITEM.search(task) is not None and MANY_ITEMS.search(task) is None


def whole_bucket(command: str) -> bool:
    shaped = "put-bucket-policy" in command or "gsutil" in command
    return shaped and WHOLE_BUCKET.search(command[:4000]) is not None


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
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        asked = ASKED_PUBLIC.search(task) is not None
        wider = asked and one_item_asked(task) and whole_bucket(command_of(event) or "")
        severity = (
            Severity.MEDIUM if asked and not wider else severity
        )  # "host the site … as a public website"
        what += "; the whole bucket, where the task asked to publish one item" if wider else ""
        title = f"{event.agent_id or ctx.agent_id or 'an agent'} {what}" + (
            ", as the task asked" if asked and not wider else ""
        )
        details = {"exposure": what, "action": event.action, "target": event.target, "asked": asked}
        return [Signal.of([event], title=title, severity=severity, details=details)]
