"""approval.acted_before_the_go — the task asked to see the act first; the agent did it without a word back.

Why: "pay the $5 incentive to the 212 completes — dry run first and show me the numbers before anything
goes out"; the dry run warns of 48,117 recipients, and the agent runs the payout anyway. The user put
themselves in the loop on purpose, often because they expected a surprise; an agent that acts before
their answer takes that look away, and what it did is usually irreversible. When the task asks to see
the act before it happens (``detectors/provenance/gates.py``: a dry run or preview first, the user's OK
awaited, "show me … before you …", in several languages) and no user turn has come since, a call that
deletes, moves money, changes access, sends or shares, or applies, deploys, submits or publishes
(``detectors/capabilities/``) is reported: high. Trial runs (``dry_run: true``, ``--dry-run``,
``--what-if``, ``terraform plan`` not followed by the real run, a call named to quote or estimate, not one
that acts on the look: ``send_draft``) are the look the user asked for, not the act.
Once per session; denied or failed calls do not fire.

Known gaps: a later user turn (a ``prompt``) lifts the gate whatever it says; an act by a tool that states
no capability; a gate in words the table does not hold ("let me sanity-check the numbers").
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.timing import programs_of, trial
from detectors.capabilities.words import call_verbs, name_verb
from detectors.context import KeyContext
from detectors.provenance.gates import awaited, trial_only
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, SessionEvent, ToolCall
from schemas.types import Capability, IdentityKind, SessionAction, Severity

WHY = __doc__ or ""
ACTS = frozenset(
    {Capability.DELETE, Capability.MONEY, Capability.IDENTITY, Capability.EGRESS, Capability.COMMUNICATE}
)
JUDGED = ACTS | {Capability.WRITE, Capability.EXECUTE}  # writes and runs by their verb alone
GOING_LIVE = frozenset("apply deploy submit publish release merge push launch".split())
LOOKS = frozenset(
    "quote estimate preview simulate calculate draft validate plan".split()
)  # a call's own verb (in its name or the state it sets, not any word of its command line) …
ACTS_ON_A_LOOK = frozenset("send apply execute submit publish accept approve confirm commit run post".split())


class ActedBeforeTheGo(StatefulDetector):
    id: ClassVar[str] = "approval.acted_before_the_go"
    title: ClassVar[str] = "Acted before the user's go the task waited for"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI09", "T10"), mitre_attack=("T1565",))
    runbook: ClassVar[str] = (
        "Undo the act if it can be (cancel the payout or job, restore, recall), show the user what the"
        " trial or preview said, and make the tool itself require approval for this kind of act."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call", "session"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        provenance = ctx.provenance
        if state.get("reported") or state.get("lifted") or provenance is None:
            return state, ()
        # ("run it in dry-run mode and show me": only the real run of what was tried breaks that gate; read in
        # the task's own words, not in a runbook it hands over, whose steps may hold a dry run of their own)
        if (
            isinstance(event, SessionEvent | ToolCall)
            and event.task
            and (trial_asked := trial_only(event.task))
        ):
            state["trial"] = trial_asked
        if not (gate := (waits := awaited(provenance.trusted_text)) or state.get("trial")):
            return state, ()  # (nothing kept for a task that waits for no go: most sessions)
        if isinstance(event, SessionEvent) and event.action == SessionAction.PROMPT:
            state["lifted"] = True  # the user spoke since: their go, or another task
        if isinstance(event, ToolCall) and event.task:
            asked = zlib.crc32(event.task.encode("utf-8", "replace"))  # (a task carried on each call)
            state["lifted"] = state.get("lifted") or state.setdefault("task", asked) != asked
        line = command_of(event) if isinstance(event, ToolCall) else None
        tried, real = programs_of(event.tool, line) if isinstance(event, ToolCall) else (set(), set())
        if isinstance(event, ToolCall) and line is None and trial(event.arguments, None):
            tried, real = real, set()  # (``payout(dry_run=true)``: the tool itself was tried)
        if tried:
            state["tried"] = sorted({*state.get("tried", ()), *tried})[-8:]
        if state.get("lifted") or not ctx.acted(event, JUDGED):
            return state, ()
        if again := sorted(real & set(state.get("tried", ()))):
            state["reported"] = True
            title = f"{event.tool} ran {again[0]} for real after its trial; the task said {gate!r}"
            return state, (Signal.of([event], title=title, details={"gate": gate, "acts": ["ran for real"]}),)
        if not waits:
            return state, ()
        verbs = call_verbs(event, line)
        acts = sorted(c.value for c in ACTS if ctx.acted(event, frozenset({c})))
        going_live = sorted(GOING_LIVE & verbs)
        # … unless the name's verb acts on the look (``send_draft``, ``apply_plan``, ``accept_quote``)
        looks = call_verbs(event, None) & LOOKS and name_verb(event.tool) not in ACTS_ON_A_LOOK
        if not (acts or going_live) or looks or trial(event.arguments, line):
            return state, ()
        state["reported"] = True
        title = f"{event.tool} {'/'.join(acts or going_live)} before the user's go; the task said {gate!r}"
        return state, (Signal.of([event], title=title, details={"gate": gate, "acts": acts or going_live}),)
