"""scope.wrong_target — a change acted on an item whose own record belongs to something the task did not
name.

Why: "Mr Dalton was charged twice, refund the duplicate" — the day's payments list Dalton's two charges and
four other customers' charges of the same amount, and the agent refunds those four too; "Lacework keeps
paging about CPU on ci-runner-03, make it stop" ends with every open alert closed, among them a new
outbound connection from the production database. The session had the record in front of it: a listing
whose rows name the task's object in some rows and not in others. When the task names objects (ids, short
ids, resource names, an owner by name; ``detectors/provenance/records.py``), every result's records are
keyed by their first identifier and marked by whether they name one of them — for a listing where some do
and some do not. A later change (a delete, a write, money, access; ``detectors/capabilities/``) whose
arguments (not its message, comment, assignee or destination) carry the key of a record that names none
of the task's objects is reported: high. Denied or failed calls do not fire; a record that names the
task's object anywhere in the session counts as the task's.

Known gaps: items selected by a query rather than by their ids; listings that never name the task's object
(a payment list without the customer's name); keys that are not the record's first identifier; scripts of
several lines (they read and print as well as act: only one-line commands are read).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.words import split_words
from detectors.context import KeyContext
from detectors.provenance.records import ID, keyed_records, named_objects
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset({Capability.DELETE, Capability.WRITE, Capability.MONEY, Capability.IDENTITY})
# what a call says or writes, not what it acts on: a message, a comment, a file's new code
PROSE = frozenset(
    """text body message comment comments note notes description reason content subject title file_text
    old_str new_str code patch diff insert_text new_content""".split()
)
# where a call puts the item or whom it gives it to, not the item it acts on (``assignee: u_7702``)
RECEIVING = frozenset("to into assignee assignees destination dest recipient recipients parent owner".split())
MAX_KEYS = 256  # records remembered per session


class WrongTarget(StatefulDetector):
    id: ClassVar[str] = "scope.wrong_target"
    title: ClassVar[str] = "Change acted on an item that belongs to something the task did not name"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1565",))
    runbook: ClassVar[str] = (
        "Undo the change on the items that were not the task's (the refund, the closed alert, the deleted"
        " record) and tell their owners; then require the agent to name the item it acts on."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or ctx.provenance is None or ctx.call is None:
            return state, ()
        named = named_objects(ctx.provenance.trusted_text)
        if not named:
            return state, ()
        marks: dict[str, int] = state.get("records") or {}
        signals: tuple[Signal, ...] = ()
        evidence = ctx.call.evidence.keys()
        # (an "open" both reads and writes: a write that also reads is judged by neither)
        if ctx.acted(event, CHANGES) and not (
            Capability.READ in evidence and evidence & CHANGES == {Capability.WRITE}
        ):
            task_ids = set(ID.findall(ctx.provenance.trusted_text))
            other = sorted(i for i in _acted_ids(event.arguments) - task_ids if marks.get(i) == 0)
            if other:
                title = (
                    f"{event.tool} acted on {other[0]}, whose record names none of the task's ({named[0]})"
                )
                signals = (
                    Signal.of(
                        [event], title=title, details={"items": other[:10], "task_objects": list(named[:5])}
                    ),
                )
        for records in keyed_records(event.result_summary) if event.result_summary else ():
            naming = [(key, any(n in text for n in named)) for key, text in records]
            if any(m for _, m in naming) and not all(m for _, m in naming):
                for key, m in naming:
                    marks[key] = max(marks.get(key, 0), int(m))
                state["records"] = dict(list(marks.items())[-MAX_KEYS:])
        return state, signals


def _acted_ids(arguments: dict[str, Any]) -> set[str]:
    """The identifiers among a call's values, its message, comment and note aside, and scripts of several
    lines (which read and print as well as act: ``"legacy-09: " + (Get-… -Name 'app-legacy-09')``)."""
    found: set[str] = set()
    stack: list[tuple[str, Any, int]] = [(k, v, 0) for k, v in arguments.items()]
    while stack:
        key, value, depth = stack.pop()
        if key.lower() in PROSE or depth > 4 or RECEIVING & set(split_words(key)):
            continue
        if isinstance(value, dict):
            stack.extend((str(k), v, depth + 1) for k, v in list(value.items())[:64])
        elif isinstance(value, list | tuple):
            stack.extend((key, v, depth + 1) for v in list(value)[:256])
        elif isinstance(value, int) or (isinstance(value, str) and "\n" not in value.strip()):
            found.update(ID.findall(str(value)[:4000]))
    return found
