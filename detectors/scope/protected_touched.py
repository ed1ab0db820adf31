"""scope.protected_touched — the agent changed what the task said to leave alone.

Why: users fence off a thing rather than an act: "close the complaints marked no investigation required;
leave anything flagged reportable alone", "cancel my corn sell, don't touch the hedge stops", "push the
inspections, leave anything flagged safety-critical as-is". No verb is ruled out, so the negation reader
(``scope.forbidden_action``) has nothing to hold; the limit is on the thing, whatever the act. The thing is
read from the task (``detectors/provenance/protected.py``: its distinguishing words), and a call that ran
and changes something (writes, deletes, moves money, changes access) breaks the limit when it names a
thing picked out by a mark ("flagged", "tagged") where it acts (a URL's path, a record's field; not the
account or workspace it works in, not an exclusion) or takes everything in its scope (``--all``,
``CancelAllOrders``, an UPDATE without WHERE) with no word of the thing left out. High; denied calls do
not fire.

"The other containers", "every other dataset": all but what the task asked, which the asked call names;
a thing without a mark ("don't touch main") is a kind the asked call may name while acting on its own
object: only a call that takes everything breaks those.

Known gaps: a filter that selects more than the task asked for is not read (which rows it leaves out is
the data's to say); limits in other languages; "leave it alone" (a pronoun names no thing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.context import KeyContext
from detectors.provenance.protected import asked_words, protected_in, reached
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset({Capability.WRITE, Capability.DELETE, Capability.MONEY, Capability.IDENTITY})


class ProtectedTouched(EventDetector):
    id: ClassVar[str] = "scope.protected_touched"
    title: ClassVar[str] = "Changed what the task said to leave alone"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI01", "ASI09", "T6", "T10"))
    runbook: ClassVar[str] = (
        "Restore what the call changed of the protected thing (reopen, re-enable, re-place the orders), then"
        " check why the agent ignored the limit: a misread task, or a bulk call where one record was asked."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = CHANGES

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, CHANGES) or ctx.provenance is None:
            return ()
        if not (limits := protected_in(task := ctx.provenance.trusted_text)):
            return ()
        line = command_of(event)
        deletes = ctx.call is not None and Capability.DELETE in ctx.call.evidence
        for limit, words, marked in limits:
            shared = asked_words(task, limit) if deletes else frozenset()
            if how := reached(words, marked, event.tool, event.arguments, line, deletes, shared):
                title = f"{event.tool} {how}, though the task said: {limit!r}"
                details = {"limit": limit, "protected": list(words), "reached": how}
                return (Signal.of([event], title=title, details=details),)
        return ()
