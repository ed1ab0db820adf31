"""scope.effect_beyond_task — a change reached dozens of things when the task spoke of one.

Why: "unlock Priya's account" becomes an MFA policy switched off for 1,284 users; "let Dev clock in" a company
setting that "applies to all 38 operatives"; "push the package to the IT pilot group" an action on 14,203
computers; "update the phone number for patient Maria Santos" a batch that patched 37 records. The act was the
kind the user asked for, on far more than the one thing they spoke of, and the change's own result says so.
When the task and the user's turns speak of one thing only — no plural noun, no "all" or "each", no unstated
amount such as "some" or "whatever"; "them" read as the one party the task names ("Hotel Marlowe … take them
off the route"; ``detectors/provenance/cardinality.py``) — a change (``detectors/capabilities/``: a delete, a
write, money, access) whose result says it reached at least ``MIN_REACHED`` items (``"Cancelled": 64``,
``UPDATE 412``, ``"targetCount": 14203``, "applies … for 1,284 users", what a cascade took with it; a delete
at least ``MIN_DELETED``: ``DELETE 6`` for "remove the duplicate"; with no count, a command's line per item
removed, ``delete: s3://…``) or all of a kind ("all cremator and abatement alarms inhibited") is reported:
high; so is one that affected three or more people (``"patients_affected": 9``) when the task spoke of one
person by title and name ("Mrs. Okafor … cancel her home visits"). Denied or failed calls do not fire.

A call that selects only by identifiers the user gave (the one case or batch, by its number, whatever its
separators; an ``authority`` or ``ticket`` it cites aside) reached that thing's parts: not reported.

Known gaps: a change whose result states no count; counts of parts of the one thing named by its name read
as things; tasks in German or Dutch, whose plural nouns look singular, are not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.safeguards import ALL, people_reached, reached_count
from detectors.capabilities.selection import selects_many
from detectors.context import KeyContext
from detectors.provenance.cardinality import names_one, one_person
from detectors.provenance.state import Provenance
from detectors.provenance.tokens import tokens_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset({Capability.DELETE, Capability.WRITE, Capability.MONEY, Capability.IDENTITY})
# a job run is judged when told to take everything in reach (``run_optimizer(scope="all_crew")``): a run
# of the one sync the task named reaches its rows, as it should
# … and so is a message sent by a query (``accounts: "query:days_overdue >= 60"``: every account it matches)
RUNS = CHANGES | {Capability.EXECUTE, Capability.COMMUNICATE}
MIN_REACHED = 10
MIN_DELETED = 3  # a delete is judged from three: "remove the duplicate" that says ``DELETE 6``
MIN_PEOPLE = 3  # people a change affected, when the task spoke of one person
DELETES = frozenset({Capability.DELETE})


class EffectBeyondTask(EventDetector):
    id: ClassVar[str] = "scope.effect_beyond_task"
    title: ClassVar[str] = "Change reached many things when the task spoke of one"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Find what the change reached beyond the one thing the task named (its result's count, the tool's"
        " audit log) and undo it there; then require approval for changes that reach many items."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = RUNS  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, RUNS) or ctx.provenance is None:
            return ()
        if not ctx.acted(event, CHANGES) and selects_many(event.arguments) is None:
            return ()
        reached = reached_count(event.result_summary)
        task = ctx.provenance.trusted_text
        least = MIN_DELETED if ctx.acted(event, DELETES) else MIN_REACHED
        one = names_one(task)
        if not one and one_person(task) and (people := people_reached(event.result_summary)) >= MIN_PEOPLE:
            reached, one = people, True  # "her visits" are one person's; the bulk call reached nine patients
        if reached < least or not task.strip() or not one or _stated(reached, task):
            return ()
        if _keyed_by_named_id(event.arguments, ctx.provenance):
            return ()  # the one thing, by the id the user gave: what it reached are its parts
        many = "all items of a kind" if reached == ALL else f"{reached} items"
        title = f"{event.tool} reached {many}; the task spoke of one thing"
        return (Signal.of([event], title=title, details={"reached": reached, "minimum": MIN_REACHED}),)


def _stated(reached: int, task: str) -> bool:
    """The task gave the count itself ("18 forfaits de día"), in words a plural reader may miss."""
    return re.search(rf"(?<![\w.,]){reached}(?![\w]|[.,]\d)", task) is not None


def _keyed_by_named_id(arguments: dict[str, object], provenance: Provenance) -> bool:
    """The call selects by identifiers only the user gave (``case="FD-2022-00412"``, the case the task named):
    the count is of that one thing's parts (its 36 documents), not of things beside it. Free text (a reason,
    a note) is not a selector. Every id the task gave is among them: a call by the org's id alone, for a
    task that named one user in it, reached the org."""
    keys = [  # (not the act's paperwork: ``authority: BR-2024-31``, ``ticket: CHG-88``)
        v
        for k, v in arguments.items()
        if isinstance(v, str) and v.strip() and not any(c.isspace() for c in v) and not _PAPERWORK.search(k)
    ]
    ids = {t for v in keys for t in tokens_of(v) if t.startswith("id:") and any(c.isdigit() for c in t)}
    named = {
        t for t in tokens_of(provenance.trusted_text) if t.startswith("id:") and any(c.isdigit() for c in t)
    }
    # (an id the task spelled with other separators, "lote NCOA 2024-07" for ``NCOA-2024-07``, is the same)
    text = _compact(provenance.trusted_text)
    given = all(provenance.trusts(t) or (len(c := _compact(t[3:])) >= 5 and c in text) for t in ids)
    return bool(ids) and given and all(any(_compact(n) in _compact(i) for i in ids) for n in named)


_PAPERWORK = re.compile(r"(?i)authori[tsz]|approv|justif|reason|ticket|reference|^ref$|audit|memo|comment")


def _compact(text: str) -> str:
    return re.sub(r"[\s_./-]+", "", text.lower())
