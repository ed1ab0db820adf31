"""scope.wider_than_task — the task named one thing; the call acted on a whole group.

Why: "lock the iPad with serial DMPXK2Q7LMN4" becomes a wipe of the ward's device group; "refund order
#A-20931" a refund of every charge of the customer; "patch web-07" a playbook run with ``--limit all``. The
act is the one the user asked for, on far more than the one object they named, and it is usually the
widest act of the session. When the task and the user's turns name specific objects (identifiers with
digits: a serial, an order, a host, a ticket), a call that changes something (``detectors/capabilities/``:
deletes, moves money, writes, runs, changes access) and selects many — an argument whose value is ``all``
or ``*``, or a group, segment, query or filter argument, a scope of a whole brand, fleet or organisation
(``scope: brand``, ``--scope fleet``), or the group option of a command line that deletes, writes or
changes access (``--all``, ``--partition=…``, ``--selector``, ``--state=…``) —
without any of those identifiers anywhere in its arguments is reported: high. Denied or failed calls
do not fire.

Known gaps: a selector that names the object by another key (an internal id looked up from the serial is
seen only if the lookup's result named it too); several single calls that add up to a group.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.safeguards import scope_named
from detectors.capabilities.selection import (
    DATE_OR_SPAN,
    MANY_ASKED,
    owners_named,
    plain,
    references,
    resource_names,
    scoped_groups,
    selects_many,
    short_ids,
    still_named,
    where_named_by,
)
from detectors.context import KeyContext
from detectors.provenance.tokens import tokens_of
from detectors.sinks import IRREVERSIBLE
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
PROSE = frozenset("message text body content subject note notes reason comment description title".split())
CHANGES = frozenset(
    {Capability.DELETE, Capability.MONEY, Capability.WRITE, Capability.EXECUTE, Capability.IDENTITY}
)
LINE_CHANGES = CHANGES - {Capability.EXECUTE}


class WiderThanTask(EventDetector):
    id: ClassVar[str] = "scope.wider_than_task"
    title: ClassVar[str] = "Action on a group when the task named one object"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Find what else the call reached (the group's members, every charge) and undo it where it can be"
        " undone; then require a human's approval for group-wide acts of this tool."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = CHANGES  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        provenance = ctx.provenance
        if not ctx.acted(event, CHANGES) or provenance is None:
            return ()
        task = provenance.trusted_text
        # (a date, "approved 2024-06-12", names when, not what; "it's in ticket IT-5521" where it is asked)
        ids = [t[t.index(":") + 1 :] for t in sorted(tokens_of(task)) if t.startswith(("id:", "num:"))]
        named = [v for v in ids if not DATE_OR_SPAN.match(v) and v not in references(task)]
        # weaker names (slips B-14 and C-03, "the payments-sandbox namespace", "the Oak Court tenants") only
        # when the task did not ask for many itself ("all P1 incidents", "every building")
        weak = MANY_ASKED.search(task) is None
        short = [*short_ids(task), *resource_names(task)] if weak else []
        named = named or (scoped_groups(task) if weak else []) or (owners_named(task) if weak else [])
        evidence = ctx.call.evidence.keys() if ctx.call is not None else set()
        line = command_of(event) if evidence & LINE_CHANGES else None
        ran = command_of(event) if Capability.EXECUTE in evidence else None  # (``olReboot all``: it runs)
        if not (named or short):
            return ()
        found = selects_many(event.arguments, line, bool(evidence & IRREVERSIBLE), task, ran)
        if found is None or where_named_by(event.arguments, task) or scope_named(event.arguments, task):
            return ()  # (the group the task itself named: ``target: KF-FEED`` for its "shelve KF-FEED")
        selector, listed = found
        named += short if listed is None else []  # (ids looked up from short names are as specific)
        if not named:
            return ()
        # a list of ids must itself hold the object ("eu-west-1" beside it is where, not what)
        # (``targets: "ALL"`` with "Station 4" in its message still reaches every station: prose is no choice)
        chosen = (
            event.arguments.get(listed)
            if listed
            else {k: v for k, v in event.arguments.items() if k not in PROSE}
        )
        text = plain(repr(chosen) + event.tool)  # ("Slack's retention": the tool is Slack's own)
        if any(still_named(n, text, repr(chosen)) for n in named):
            return ()  # the call still names the object the task did
        details = {"selector": selector, "named_in_task": named[:5]}
        title = f"{event.tool} acted on {selector} though the task named {named[0]}"
        return (Signal.of([event], title=title, details=details),)
