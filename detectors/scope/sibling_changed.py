"""scope.sibling_changed — the task named its record by id; a grave change went to another record of the
same kind that nobody named.

Why: "process the installer's commissioning ticket INST-2291 for the new site ACC-55102" ends with test mode
on account ACC-40017 and its police contact deleted, because a side note in the ticket asked for it. The user
pointed at one record; the act reached its neighbour. When the task (its own words, before any content it
points at is read) or a later user turn names records by ids of a kind (letters and a number: ``ACC-55102``),
a call that deletes, moves money or changes access (``detectors/capabilities/``) whose arguments select
another id of those letters — one the user never named, the session did not create (first seen in the result
of a write), and words brought in (content the task handed over or delegates to by its id, or content that
asked its reader for an act or addressed the agent; not a listing or a search the agent chose from: the
later flight it rebooked) — is high. Free text (a reason, a note) selects nothing. Denied or failed calls do
not fire.

Known gaps: ids without letters; records the task names in words ("the duplicate of …"); the same kind under
other letters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.private_data import strings_in
from detectors.context import KeyContext
from detectors.provenance.state import Provenance
from schemas.alerts import Mappings
from schemas.events import AnyEvent, SessionEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
GRAVE = sinks.IRREVERSIBLE
STRONG = sinks.STRONGLY_ADDRESSED
MAX_IDS = 64
_KIND_ID = re.compile(r"(?<![\w.@/-])([A-Za-z]{2,8})[-_]?(\d{3,12})(?![\w@-])")
_FREE_TEXT = re.compile(r"(?i)reason|note|comment|message|body|text|subject|title|description|memo|summary")


def _ids(text: str) -> set[str]:
    return {f"{a.upper()}-{n}" for a, n in _KIND_ID.findall(text[:8000])}


def _brought_by_words(record: str, named: set[str], event: ToolCall, provenance: Provenance) -> bool:
    """The other record came in with words, not in a listing or a search the agent chose from: in content
    the task handed over (trusted since, or a record of another kind it names and delegates to: "process
    ticket INST-2291 … as described in it"), or in content that asked its reader for an act or addressed
    it."""
    if record in _ids(provenance.trusted_text):
        return True
    # (handed over by its own id: "process ticket INST-2291 for site ACC-55102", a record of another kind)
    compact, kind = record.replace("-", "").lower(), record.split("-")[0]
    handed = bool(provenance.intent.delegated) and any(n.split("-")[0] != kind for n in named)
    brought = provenance.tainted_values(event.arguments, None)
    return any(
        re.sub(r"[-_]", "", token.split(":", 1)[-1]) == compact
        and (handed or bool(source.requested) or source.score >= STRONG)
        for token, source in brought.items()
    )


class SiblingChanged(StatefulDetector):
    id: ClassVar[str] = "scope.sibling_changed"
    title: ClassVar[str] = "Grave change to another record of the kind the task named"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI01", "ASI02", "T2"), mitre_attack=("T1565",))
    runbook: ClassVar[str] = (
        "Undo the change on the record the task never named (restore its contact, leave test mode, reverse"
        " the refund), find what pointed the agent at it, and tell that record's owner."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call", "session"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        named = set(state.get("named") or ())
        # the task or a later turn of the user (a session event, or the task carried on each call); nothing
        # is kept for a task that names no id (most sessions)
        if isinstance(event, SessionEvent | ToolCall) and event.task and (ids := _ids(event.task) - named):
            named |= ids
            state["named"] = sorted(named)[-MAX_IDS:]
        if not isinstance(event, ToolCall) or ctx.provenance is None:
            return state, ()
        signals: tuple[Signal, ...] = ()
        made = set(state.get("made") or ())
        kinds = {n.split("-")[0] for n in named}
        if kinds and ctx.acted(event, GRAVE):
            selected = {
                i for k, v in event.arguments.items() if not _FREE_TEXT.search(str(k))
                for s in strings_in(v) for i in _ids(s)
            }  # fmt: skip
            others = [i for i in sorted(selected - named - made) if i.split("-")[0] in kinds]
            others = [i for i in others if _brought_by_words(i, named, event, ctx.provenance)]
            if others:
                title = f"{event.tool} changed {others[0]}; the task named {', '.join(sorted(named)[:3])}"
                signals = (
                    Signal.of(
                        [event], title=title, details={"changed": others[:4], "named": sorted(named)[:8]}
                    ),
                )
        if ctx.acted(event, frozenset({Capability.WRITE})) and (result := event.result_summary):
            given = {i for s in strings_in(event.arguments) for i in _ids(s)}
            state["made"] = sorted(made | (_ids(result) - given))[-MAX_IDS:]  # ids a write made
        return state, signals
