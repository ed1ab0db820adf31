"""scope.more_than_counted — the change reached many times more items than the session itself counted
for the task.

Why: "delete the old draft listings from 2022" — the agent's first listing says 23 drafts, and the batch
delete it then runs reports 61 products gone, 38 of them live; "remove next week's duplicate bookings" —
37 duplicates counted, ``DELETE 2913``. Agents look before they act, so the session usually holds its own
measure of the task's set: the first listing or count it read of what the change acts on (its tool's
noun: ``search_issues`` for ``bulk_update_issues``, not ``list_repos``; else the same service's first; a
page that says more follow is no count; with none, the number the task itself gives: "refund her two
tickets", ``detectors/provenance/cardinality.py``). When a change (a delete, a write, money,
access; ``detectors/capabilities/``) reports how many items it reached (``"deleted": 2029``, ``DELETE
2913``, a delete's ``"count": 61``) and that is at least twice the session's first count and ten more,
the act went past what the agent had in front of it: high. Not when the task asked for all, every or the
whole of something; denied or failed calls do not fire.

Known gaps: a first count of something else under the same noun or service (a lookup of one record is
ignored); changes whose result states no count; counts spread over many calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.safeguards import affected_count
from detectors.context import KeyContext
from detectors.provenance.breadth import listed_count, namespace, set_count, tool_kinds
from detectors.provenance.cardinality import stated_counts
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset({Capability.DELETE, Capability.WRITE, Capability.MONEY, Capability.IDENTITY})
LOOKS = frozenset({Capability.READ, Capability.FETCH})
FACTOR, MARGIN = 2, 10
# ("they all have card numbers starting TEST-": all of the set the task described, not all there is)
ALL_ASKED = re.compile(r"(?i)(?<!they )(?<!these )(?<!those )\b(all|every|everything|each|whole|entire)\b")


class MoreThanCounted(StatefulDetector):
    id: ClassVar[str] = "scope.more_than_counted"
    title: ClassVar[str] = "Change reached far more items than the session counted"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "List what the change reached beyond the task's set (the items the first listing did not hold) and"
        " restore them from backups or the tool's trash; require a dry run and approval for bulk changes."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.call is None or not (result := event.result_summary or ""):
            return state, ()
        evidence, kinds, service = ctx.call.evidence.keys(), tool_kinds(event.tool), namespace(event.tool)
        firsts: dict[str, int] = state.get("firsts") or {}
        # the session's own measure of the task's set: its first count of each kind, by a call that only
        # looks (a ``SELECT`` through ``mysql_exec`` runs a query and changes nothing)
        if evidence & LOOKS and not evidence & CHANGES:
            if (count := set_count(result)) >= 2 and (new := (kinds | {service}) - firsts.keys()):
                state["firsts"] = dict(list({**firsts, **dict.fromkeys(sorted(new), count)}.items())[-16:])
            return state, ()
        # a count of the things the change reaches (its tool's kind), else the first of the same service
        counted = [firsts[k] for k in kinds if k in firsts] or [firsts.get(service, 0)]
        if not evidence & CHANGES:
            return state, ()
        if not max(counted) and ctx.provenance is not None:
            return state, _beyond_stated(event, result, ctx.provenance.trusted_text)
        if not max(counted):
            return state, ()
        return state, _judge(event, result, max(counted), Capability.DELETE in evidence, ctx)


def _beyond_stated(event: ToolCall, result: str, task: str) -> tuple[Signal, ...]:
    """With no count of its own, the task's ("refund her two tickets"), against the result's count of the
    same things (``"tickets_voided": 212``; a count of their parts, ``rows``, is another thing)."""
    for number, noun in stated_counts(task):
        stem = noun[:-1] if noun.endswith("s") else noun
        root = re.escape(stem[:-1] if stem.endswith("e") else stem)
        pattern = rf"\"(\w*{root}\w*)\"\s*:\s*(\d{{1,9}})\b(?![.,]\d)"
        found = re.findall(pattern, result[:4000], re.I)
        reached = max((int(n) for key, n in found if not _NO_COUNT_KEY.search(key)), default=0)
        if len(stem) >= 4 and reached >= max(FACTOR * number, number + MARGIN) and not ALL_ASKED.search(task):
            title = f"{event.tool} reached {reached} {noun}; the task itself spoke of {number}"
            return (Signal.of([event], title=title, details={"reached": reached, "task_count": number}),)
    return ()


# a key that names one of the things or what it costs, not how many (``"ticket_id": 48213``, ``ticketNo``)
_NO_COUNT_KEY = re.compile(
    r"(?:^|[_-])(?i:ids?|numbers?|no|nr|num|ref|code|price|amount|cost|fee)$"
    r"|[a-z](?:Ids?|Numbers?|No|Nr|Num|Ref|Code|Price|Amount|Cost|Fee)$"
)


def _judge(event: ToolCall, result: str, first: int, deletes: bool, ctx: KeyContext) -> tuple[Signal, ...]:
    reached = affected_count(result) or (listed_count(result) if deletes else 0)
    if reached < max(FACTOR * first, first + MARGIN):
        return ()
    task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
    if ALL_ASKED.search(task):
        return ()
    title = f"{event.tool} reached {reached} items; the session's first count of the task's set was {first}"
    return (Signal.of([event], title=title, details={"reached": reached, "first_count": first}),)
