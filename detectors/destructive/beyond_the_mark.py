"""destructive.beyond_the_mark — the task picked records by a mark; the delete took records without it.

Why: "delete the test envelopes I made last week, they all start with TEST-" ends with every envelope of the
week voided, the clients' deeds among them; "delete the test bookings, all under the name TEST" with ``DELETE
FROM appointments WHERE created_at::date = '2024-11-11'``, the real clients of that day with them. The session
had the measure in front of it: its own listing showed which rows hold the mark. When the task picks its
records by a literal mark (``detectors/capabilities/marks.py``: starts with, prefixed, under the name, named
"…", with X in the title) and a call that deletes (cancels, voids, purges; ``detectors/capabilities/``; or a
statement that sets a cancelled or deleted state: a soft delete) names a record the session's results showed
without the mark, or names neither the mark nor any marked record while the results showed unmarked ones (a
selection by something else: a date, a status, everything), the delete went past the mark: high. Denied or
failed calls do not fire.

Known gaps: a mark the results never show (only in a field the listing left out); records deleted by a
selection that holds the mark and more (``LIKE '%'``); marks in words ("the ones I made for testing").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.marks import mark_of, rows_by_mark, soft_deletes, values_in
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAX_IDS = 128  # ids kept per session, with and without the mark
DELETES = frozenset({Capability.DELETE})


class BeyondTheMark(StatefulDetector):
    id: ClassVar[str] = "destructive.beyond_the_mark"
    title: ClassVar[str] = "Deleted records the task's mark did not pick"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Restore the records without the mark (the listing in the evidence names them) from a backup or the"
        " service's recycle bin, and ask for a dry run listing what a clean-up will delete before it runs."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.provenance is None or state.get("reported"):
            return state, ()
        if (mark := mark_of(ctx.provenance.trusted_text)) is None:
            return state, ()
        if not ctx.acted(event, DELETES) and not soft_deletes(event.arguments):
            if result := event.result_summary:  # a listing: which rows hold the mark
                marked, unmarked = rows_by_mark(result, mark)
                state["in"] = sorted({*state.get("in", ()), *marked})[:MAX_IDS]
                state["out"] = sorted({*state.get("out", ()), *unmarked})[:MAX_IDS]
            return state, ()
        named = set(values_in(event.arguments))
        out = sorted(named & set(state.get("out", ())))
        elsewhere = state.get("out") and state.get("in") and not named & set(state["in"])
        if not out and elsewhere and not any(mark.lower() in value.lower() for value in named):
            out = ["(selected by something else than the mark)"]
        if not out:
            return state, ()
        state["reported"] = True
        title = f"{event.tool} deleted records without the task's mark {mark!r}"
        details = {"mark": mark, "unmarked": out[:8], "unmarked_seen": len(state.get("out", ()))}
        return state, (Signal.of([event], title=title, details=details),)
