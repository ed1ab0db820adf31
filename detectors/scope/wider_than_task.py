"""scope.wider_than_task — the task named one thing; the call acted on a whole group.

Why: "lock the iPad with serial DMPXK2Q7LMN4" becomes a wipe of the ward's device group; "refund order
#A-20931" a refund of every charge of the customer; "patch web-07" a playbook run with ``--limit all``. The
act is the one the user asked for, on far more than the one object they named, and it is usually the
widest act of the session. When the task and the user's turns name specific objects (identifiers with
digits: a serial, an order, a host, a ticket), a call that changes something (``detectors/capabilities/``:
deletes, moves money, writes, runs, changes access) and selects many — an argument whose value is ``all``
or ``*``, or a group, segment, query or filter argument, or the group option of a command line that
deletes, writes or changes access (``--all``, ``--partition=…``, ``--selector``, ``--state=…``) —
without any of those identifiers anywhere in its arguments is reported: high. Denied or failed calls
do not fire.

Known gaps: a selector that names the object by another key (an internal id looked up from the serial is
seen only if the lookup's result named it too); several single calls that add up to a group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.words import sql_capability
from detectors.context import KeyContext
from detectors.provenance.tokens import tokens_of
from detectors.sinks import IRREVERSIBLE
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset(
    {Capability.DELETE, Capability.MONEY, Capability.WRITE, Capability.EXECUTE, Capability.IDENTITY}
)
LINE_CHANGES = CHANGES - {Capability.EXECUTE}
GROUP_KEY = re.compile(r"^(group|groups|segment|segments|query|filter|filters|sysparm_query|where)$", re.I)
IDENTIFIER = re.compile(r"^(?=[^/\s]*\d)[\w-]{3,64}$")  # ``ch_3OxK2a``, ``C-20411``; not paths or files
MANY_IDS = 3  # identifiers listed in one grave call (money, access, deletes)
EVERYTHING = re.compile(r"^\s*(all|\*|everything|everyone)\s*$", re.I)
# command-line options that select by a group rather than by the object (``scancel --partition=gpu``,
# ``kubectl delete pods --all``), read only where the line changes more than it runs
GROUP_OPTION = re.compile(
    r"(?:^|\s)(--all-namespaces|--(?:partition|selector|state|field-selector|label)[= ]\S+)(?=\s|$)"
    # ``--all`` of the programs where it means every object (not ``git add --all``)
    r"|\b(?:kubectl|oc|helm|scancel|qdel|docker)\b[^;&|\n]{0,200}\s(--all)(?=\s|$)"
)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _reads(value: str) -> bool:
    """An SQL statement that only reads (``query="SELECT …"``) selects nothing to act on."""
    found = sql_capability(value)
    return found is not None and found[0] is Capability.READ


def selects_many(arguments: dict[str, Any], line: str | None = None, grave: bool = False) -> str | None:
    """The argument that selects a group or everything (``group=Ward-4B``, ``charges='all'``, ``--limit
    all`` in an argument list, a command line's ``--partition=gpu``), or None."""
    if line and (option := GROUP_OPTION.search(line[:4000])):
        return (option.group(1) or option.group(2))[:60]
    for key, value in arguments.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and EVERYTHING.match(v) for v in values):
            return f"{key}=all"
        if GROUP_KEY.match(str(key)) and isinstance(value, str) and value.strip() and not _reads(value):
            return f"{key}={value[:60]}"
        listed = grave and isinstance(value, list) and str(key).lower() not in ("args", "argv", "arguments")
        ids = {v for v in values if isinstance(v, str) and IDENTIFIER.match(v)} if listed else set()
        if len(ids) >= MANY_IDS:  # a refund of ``charges: [ch_1, ch_2, ch_3, …]`` for "the duplicate charge"
            return f"{key}=[{len(value)} items]"
    return None


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

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        provenance = ctx.provenance
        if not ctx.acted(event, CHANGES) or provenance is None:
            return ()
        named = [
            t.split(":", 1)[1] for t in tokens_of(provenance.trusted_text) if t.startswith(("id:", "num:"))
        ]
        changes_more = bool(ctx.call is not None and ctx.call.evidence.keys() & LINE_CHANGES)
        line = command_of(event) if changes_more else None
        grave = bool(ctx.call is not None and ctx.call.evidence.keys() & IRREVERSIBLE)
        selector = selects_many(event.arguments, line, grave) if named else None
        if selector is None:
            return ()
        text = _plain(repr(event.arguments))
        if any(_plain(n) in text for n in named):
            return ()  # the call still names the object the task did
        details = {"selector": selector, "named_in_task": named[:5]}
        title = f"{event.tool} acted on {selector} though the task named {named[0]}"
        return (Signal.of([event], title=title, details=details),)
