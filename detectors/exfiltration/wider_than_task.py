"""exfiltration.wider_than_task — the task named one customer, title, device or person; the file sent held
the records of many, selected without naming it.

Why: "send Orbis Retail their October usage report" ends with the usage of all 214 accounts attached; "the
event log of pump SN 1140872" with an export of the whole fleet uploaded to the vendor; "reply to Mr.
Dufresne about his assessment" with a spreadsheet of his 38 neighbours' assessments and exemptions. The
recipient is the right one and the task asked to send something, so neither an unknown destination nor a
document nobody asked for shows it: what is wrong is how wide the data was selected. When the task names
its object (an identifier or number, a person's or an organisation's name; not when it asks for all, every
or the full thing), a call whose result counts 20 or more records (``(4812 rows)``, ``"rows": 214``,
"Exported 342 devices") and whose arguments name none of the task's objects (paths and file names left
out; ids a lookup of the object returned count as naming it) marks the files it made or reported; code that
repeats three of its columns or values, and a call that packs a marked file, carry the mark on. A later
call that sends (a message, a post, an upload; ``detectors/capabilities/``) carrying a marked file is
reported: high. Objects that are only the recipient ("send it to Tom at Northbeam", "send Tom the list")
do not count; comment lines name nothing (``-- for Harbor Bakery`` above a query without it).

Known gaps: data pasted into the text or shared as a link; a selection that names the object and still
reaches others (``WHERE region = …``); counts a result does not state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.provenance.breadth import (
    addressed,
    data_subject,
    file_tokens,
    names_any,
    recipients_words,
    selection_text,
    task_objects,
)
from detectors.provenance.tokens import value_tokens
from detectors.provenance.wide_marks import remember_wide
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAKES = frozenset({Capability.WRITE, Capability.EGRESS, Capability.EXECUTE})


class WiderThanTaskSent(StatefulDetector):
    id: ClassVar[str] = "exfiltration.wider_than_task"
    title: ClassVar[str] = "Records of many sent where the task named one"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1567",))
    runbook: ClassVar[str] = (
        "Ask the recipient to delete the file, tell the owners of the other records if the law requires it,"
        " and make the agent select by the object the task names before it attaches an export."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.provenance is None:
            return state, ()
        objects = task_objects(ctx.provenance.trusted_text)
        if not objects:
            return state, ()  # the task names no one object (or asked for all): nothing to be wider than
        text = selection_text(event.arguments)
        signals: tuple[Signal, ...] = ()
        if state.get("wide") and ctx.acted(event, sinks.SENDS):
            signals = _judge(state["wide"], event, text, objects, ctx.provenance.trusted_text)
        if result := event.result_summary or "":
            makes = bool(ctx.call is not None and ctx.call.evidence.keys() & MAKES)  # not a listing
            remember_wide(state, event.arguments, text, result, objects, makes)
        return state, signals


def _judge(
    wide: dict[str, int], event: ToolCall, text: str, objects: tuple[str, ...], task: str
) -> tuple[Signal, ...]:
    asked = value_tokens(task) | file_tokens(task)  # "publish data/release/survey.csv": the task's file
    sent = sorted(t for t in value_tokens(text) | file_tokens(text) if t in wide and t not in asked)
    if not sent:
        return ()
    recipients = recipients_words(event.arguments)
    missing = [
        o for o in objects if data_subject(task, o) or not (names_any([o], recipients) or addressed(task, o))
    ]
    if not missing:
        return ()  # the names the task gave are only the recipient's ("to Tom at Northbeam"), not the data's
    count = max(wide[t] for t in sent)
    shown = sent[0].split(":", 1)[1]
    title = (
        f"{event.tool} sent {shown} ({count} records), selected without {missing[0]}, which the task named"
    )
    return (
        Signal.of([event], title=title, details={"files": sent[:5], "records": count, "named": missing[:5]}),
    )
