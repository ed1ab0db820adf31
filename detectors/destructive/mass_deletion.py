"""Why: deleting many different resources in minutes is how ransomware, a wiped account or a runaway
clean-up looks, in any environment: S3 objects, EBS volumes and snapshots, instances, DynamoDB items, IAM
users, repository files through an agent tool. One delete is routine; ten distinct targets in five minutes
is not. Counts successful (and errored) calls whose action is an AWS Delete*/Terminate*/Purge*/Destroy*/
Drop*/BatchDelete* API (minus ``detectors.vocab.ROUTINE_DELETES``: SQS DeleteMessage, SSM TerminateSession,
tag and session clean-up, service ENIs) or an agent tool named delete_*/drop_*/destroy_*/purge_*/wipe_*/
truncate_*/erase_*/terminate_*, by distinct target.

Set-up and teardown (issue 13): a delete of what the same session created earlier
(``detectors.cloud.teardown``) is clean-up and weighs a tenth; infrastructure-as-code and CI principals
(identity kind ``automation``) create and destroy by the dozen, so their threshold is
``AUTOMATION_THRESHOLD``. The alert says how much of the burst was clean-up and which threshold applied.

Known gaps: one call that deletes many things (DeleteObjects with a key list, ``rm -rf``, terraform destroy)
counts once here and is destructive.prod_action's job; deletes without a target are not counted; lifecycle
rules and S3 batch jobs delete server-side without a call per object; resources created before the window
are not known as clean-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import PRINCIPALS, Signal, StatefulDetector
from detectors.cloud.teardown import CREATE_PREFIXES, cleanup_of, is_create, is_delete, remember_created
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""


class MassDeletion(StatefulDetector):
    id: ClassVar[str] = "destructive.mass_deletion"
    title: ClassVar[str] = "Mass deletion"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "T2", "ASI08"), owasp_nhi=("NHI5",), mitre_attack=("T1485", "T1490")
    )
    runbook: ClassVar[str] = (
        "Stop the session and revoke its credential; restore from versioning, snapshots or backups, "
        "starting with prod."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    WINDOW: ClassVar[float] = 300.0
    THRESHOLD: ClassVar[float] = 10.0
    AUTOMATION_THRESHOLD: ClassVar[float] = 40.0
    CLEANUP_WEIGHT: ClassVar[float] = 0.1
    MAX_WINDOW: ClassVar[int] = 512

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return action.startswith(CREATE_PREFIXES) or is_delete(tool or "", action)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall):
            return state, ()
        if is_create(event):
            remember_created(state, event)
            return state, ()
        if event.outcome == Outcome.DENIED or not event.target or not is_delete(event.tool, event.action):
            return state, ()
        now = event.event_time.timestamp()
        cleaned = cleanup_of(state, event)
        window: list[list[Any]] = [d for d in state.get("deletes", []) if now - d[0] <= self.WINDOW]
        if all(d[1] != event.target for d in window):
            window.append([now, event.target, event.event_id, cleaned is not None])
        state["deletes"] = window[-self.MAX_WINDOW :]
        weight = sum(self.CLEANUP_WEIGHT if d[3] else 1.0 for d in window)
        automation = ctx.identity_kind == IdentityKind.AUTOMATION
        threshold = self.AUTOMATION_THRESHOLD if automation else self.THRESHOLD
        if weight < threshold:
            return state, ()
        state["deletes"] = []  # one alert per burst
        cleanup = sum(1 for d in window if d[3])
        who = event.agent_id or ctx.agent_id or "a principal"
        title = f"{who} deleted {len(window)} distinct resources within {self.WINDOW / 60:g} minutes"
        details: dict[str, Any] = {"deleted": len(window), "threshold": threshold, "cleanup": cleanup}
        if cleanup:
            details["teardown_note"] = (
                f"{cleanup} of the {len(window)} deletes are clean-up of resources this session created "
                f"(weighed {self.CLEANUP_WEIGHT:g} each)"
            )
        if automation:
            details["threshold_note"] = f"automation principal: its own threshold of {threshold:g} applies"
            title += f" (automation threshold {threshold:g})"
        evidence = [d[2] for d in window]
        return state, [
            Signal(
                event_ids=tuple(evidence),
                first_time=window[0][0],
                last_time=now,
                title=title + f" (latest: {event.action} on {event.target})",
                details=details,
                session_id=event.session_id,
            )
        ]
