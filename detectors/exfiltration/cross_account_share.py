"""exfiltration.cross_account_share — a snapshot, AMI or DB snapshot was shared with another AWS account.

Why: sharing a disk snapshot, a machine image or a database snapshot with a foreign account hands that
account a full copy of the data, without a byte crossing the network where anyone could see it
(ModifySnapshotAttribute/ModifyImageAttribute ``createVolumePermission``/``launchPermission`` add,
ModifyDBSnapshotAttribute/ModifyDBClusterSnapshotAttribute ``restore`` valuesToAdd). It is the quietest
bulk exfiltration path in AWS. Fires when an added account differs from the account the call ran in
(CloudTrail's recipient account, else the target's ARN); when that account is unknown every share
fires. Sharing with ``all`` is ``exposure.public_access``'s (critical) job and is not repeated here.

Known gaps: shares to accounts of the same AWS Organization (AMI pipelines, backup accounts) fire too,
since no organization map is available: suppress by target account upstream; sharing through AWS RAM,
AWS Backup copy jobs, S3 bucket policies or KMS grants is not covered; a share followed by its removal
still fires (a copy may already have been made).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors.base import PRINCIPALS, EventDetector, Signal
from detectors.context import KeyContext
from detectors.vocab import SHARE_APIS, own_account, shared_with
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""
ACCOUNT_ID = re.compile(r"\d{12}")


class CrossAccountShare(EventDetector):
    id: ClassVar[str] = "exfiltration.cross_account_share"
    title: ClassVar[str] = "Snapshot or image shared with another AWS account"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "T2"), owasp_nhi=("NHI6",), mitre_attack=("T1537",)
    )
    runbook: ClassVar[str] = (
        "Remove the share (…Attribute with remove), confirm whether the foreign account copied it, revoke the"
        " session's credential."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    actions: ClassVar[frozenset[str] | None] = SHARE_APIS

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or event.outcome in (Outcome.DENIED, Outcome.ERROR):
            return ()
        own = own_account(event)
        # An account id (12 digits) or an organization/OU ARN; other values are no account (a typo, a test).
        foreign = [
            a for a in shared_with(event) if a != own and (ACCOUNT_ID.fullmatch(a) or a.startswith("arn:"))
        ]
        if not foreign:
            return ()
        what = (
            event.target
            or event.arguments.get("snapshotId")
            or event.arguments.get("imageId")
            or event.action
        )
        title = (
            f"{event.agent_id or ctx.agent_id or 'an agent'} shared {what} with account {', '.join(foreign)}"
        )
        details = {"accounts": foreign, "own_account": own, "action": event.action}
        return [Signal.of([event], title=title, details=details)]
