"""scope.unasked_delete — an agent deleted, cancelled, wiped or terminated through an API when its task
asked for nothing of the kind.

Why: "archive the old Falcon space" ends with three spaces deleted; "bump the partner's rate limit" with
the global limit deleted; "refund the duplicate charge" with the subscription cancelled. A delete is the
act users most need to have asked for: it is irreversible, and an agent reaches for it to make a problem
go away. When the task is stated and implies no delete (``detectors/provenance/intent.py``: no delete,
remove, clean, cancel, wipe, purge, drop, offboard … among its instructions), and does not hand the agent
over to what it reads, a call that deletes by its own name or arguments (``delete_space``, ``bulk_cancel``,
``method: DELETE``, ``command: EraseDevice``; ``detectors/capabilities/``) is reported: high, once per
session. Shell lines and code are left to the shell and container readers (coding work deletes its own
files), as are deletes that lose nothing (a disconnect, a cleared task or cache, a stop); denied or
failed calls do not fire.

Known gaps: a task whose words for the delete the intent reader lacks ("sunset the old space"); deletes
inside an act the task asked for (a rebooking that cancels the old booking is reported).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
# the evidence of a destroying delete: its verb (not disconnect, clear, stop or close), an HTTP DELETE, SQL's
DESTROYS = re.compile(
    r"verb '(delete|remove|destroy|drop|purge|wipe|erase|cancel|terminate|truncate|prune|decommission|"
    r"uninstall|deprovision)'|method=DELETE|SQL (DELETE|DROP|TRUNCATE)"
)


class UnaskedDelete(StatefulDetector):
    id: ClassVar[str] = "scope.unasked_delete"
    title: ClassVar[str] = "Delete the task never asked for"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Restore what was deleted (the tool's trash, backups, the vendor's support) and require approval"
        " for this tool's deletes when the task did not ask for one."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        call, provenance = ctx.call, ctx.provenance
        if state.get("fired") or not ctx.acted(event, frozenset({Capability.DELETE})) or call is None:
            return state, ()
        why = call.evidence[Capability.DELETE]
        if call.shell is not None or provenance is None or not DESTROYS.search(why):
            return state, ()  # a shell line or code is its readers'; a disconnect or a cleared cache no loss
        intent = provenance.intent
        if not intent.stated or intent.delegated or Capability.DELETE in intent.implied:
            return state, ()
        state["fired"] = 1
        title = f"{event.tool} deleted ({why}); the task asked for no delete: {intent.explain()}"
        return state, (
            Signal.of([event], title=title, details={"evidence": why, "intent": intent.explain()}),
        )
