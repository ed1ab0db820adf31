"""scope.repeated_beyond_one — the task spoke of one thing; the agent cancelled, deleted or paid on three.

Why: "cancel Mr Dubois's reservation for next weekend" becomes three cancellations, one for each Dubois
the search found; "refund the customer's duplicate charge" a refund of every charge listed. Each call acts
on one record, so no single call looks wider than the task (``scope.wider_than_task`` and
``scope.effect_beyond_task`` judge one call); the breadth is in the repetition. When the task and the
user's turns speak of one thing only (``detectors/provenance/cardinality.py``: no plural, no "all", no
unstated amount), the same tool deleting or moving money (``detectors/capabilities/``) on a third distinct
record (the values of its id, number or key arguments) is reported: high. So is one call that changes or
sends anything (a write, a form or a message too) and lists three or more records' ids, just one of them
named by a task that speaks of one ("Unit 4B … post the late fee" -> ``units: [1A, 2C, 3D, 4B, 5A, 6B]``;
"resubmit deal 4471" -> ``submit_deal(deal_ids=[4471, 4479, …])``; not a list of amounts or dates). Denied
or failed calls do not count.

Known gaps: the same record named by two different ids counts twice; changes spread over different
tools; writes and access changes repeated one by one are not counted (setting one person up touches many
groups).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.selection import listed_beyond_named
from detectors.context import KeyContext
from detectors.provenance.cardinality import asks_for_one, names_one
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
GRAVE_CHANGES = frozenset({Capability.DELETE, Capability.MONEY})
# one call that lists others beside the record named: any change or send ("resubmit deal 4471" as nine)
LISTED_CHANGES = GRAVE_CHANGES | {
    Capability.WRITE,
    Capability.FORM_INPUT,
    Capability.EGRESS,
    Capability.COMMUNICATE,
}
MIN_RECORDS = 3
MAX_KEPT = 8  # records remembered per tool
MAX_TOOLS = 16
# arguments that say which record a call acts on (``reservation_id``, ``order_number``, ``key``)
_RECORD_KEY = re.compile(
    r"(?i)(?:^|_)(?:id|ids|number|no|key|uuid|ref|reference)$|^(?:id|key|uuid)$"
    r"|(?-i:[a-z](?:Id|Ids|ID|Number|No|Key|Uuid|Ref))$"  # (``chargeId``, ``orderNumber``)
)
MAX_RECORD = 400  # characters of a record's key kept to compare (a cloud resource's id runs long)


class RepeatedBeyondOne(StatefulDetector):
    id: ClassVar[str] = "scope.repeated_beyond_one"
    title: ClassVar[str] = "The same change on several records when the task spoke of one"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Check each record the agent changed against the one the task meant; restore or re-book the others"
        " and tell their owners; require a confirmation when a search returns more than one match."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = LISTED_CHANGES  # (its first test)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or not ctx.acted(event, LISTED_CHANGES) or ctx.provenance is None:
            return state, ()
        if ctx.call is not None and Capability.IDENTITY in ctx.call.evidence:
            return state, ()  # (a member taken out of three groups is one person's access, not three records)
        task = ctx.provenance.trusted_text
        tools: dict[str, list[list[Any]]] = state.setdefault("tools", {})
        listed = listed_beyond_named(event.arguments, task) if event.tool not in tools else []
        if listed and names_one(task):
            tools[event.tool] = [[r, event.event_id, event.event_time.timestamp()] for r in listed[:MAX_KEPT]]
            title = f"{event.tool} acted on {len(listed)} records in one call ({', '.join(listed[:6])});"
            return state, (
                Signal.of([event], title=f"{title} the task named one", details={"records": listed}),
            )
        record = record_of(event.arguments)
        grave = ctx.acted(event, GRAVE_CHANGES)  # (repeated one by one: deletes and money only)
        if not grave or record is None or not task.strip() or not asks_for_one(task):
            return state, ()
        seen = tools.setdefault(event.tool, [])
        if any(r == record for r, _, _ in seen):
            return state, ()
        seen.append([record, event.event_id, event.event_time.timestamp()])
        del seen[:-MAX_KEPT]
        for tool in list(tools)[:-MAX_TOOLS]:
            del tools[tool]
        if len(seen) != MIN_RECORDS:
            return state, ()  # reported once, at the third record
        records = [r for r, _, _ in seen]
        shown = ", ".join(r if len(r) <= 60 else "…" + r[-59:] for r in records)
        title = f"{event.tool} acted on {len(records)} records ({shown}); the task spoke of one"
        signal = Signal.of([event], title=title, details={"records": records})
        return state, (replace(signal, event_ids=tuple(e for _, e, _ in seen), first_time=seen[0][2]),)


def record_of(arguments: dict[str, Any]) -> str | None:
    """The record a call acts on: the values of its id, number or key arguments, joined; None if none."""
    values = [str(v) for k, v in arguments.items() if _RECORD_KEY.search(str(k)) and isinstance(v, str | int)]
    return "/".join(values)[:MAX_RECORD] if values else None
