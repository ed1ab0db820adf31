"""scope.forbidden_action — the agent did what the task said not to do.

Why: users fence an agent in with a negation: "show me what Terraform would change — don't apply anything
yet", "draft a reply but do not send it", "clean up the branch without deleting the tags". An agent that
applies, sends or deletes anyway has ignored the one explicit limit it was given, whatever it read. The
task's negations are read by ``detectors/provenance/intent.py`` (``forbidden_in``: the verb right after
"don't", "do not", "never", "without", "must not", "avoid"); a call breaks one when the forbidden verb is
what it does — the verb is in its name or its command line (``terraform apply``, ``send_email``,
``git push``) and the call changes something — or, for the grave acts (deleting, moving money, changing
access, sending a message or data), when the call has that capability whatever its name. "Don't change
anything (yet)", "don't run anything now" or work fenced to reading ("tell me the gaps. Read-only, just a
report.") is broken by any change the task did not itself ask for; a
verb the task also asks for ("purge them … never purge OPEN permits") only by a call naming the object.
High; denied calls do not fire.

"Do NOT touch the shutdown interlock" is broken by any change of a call that names the thing (its
words or numbers after "touch", up to a comma or a clause: ``NH3_INTERLOCK_ENABLE``; "don't touch 4 and
6": a call on rooms ``[4, 5, 6]``); "don't send or cancel
anything" rules out both verbs.

Known gaps: negations the lexicon has no verb for ("don't ship it yet"); limits stated as conditions
("only if the tests pass"); a user's later turn that lifts the limit still counts as the limit. A call
that schedules its act for later (``run_at``, ``scheduled_for``, ``cron``) breaks no "don't … anything now".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.timing import scheduled
from detectors.capabilities.words import call_verbs
from detectors.context import KeyContext
from detectors.limits import breaks, set_values
from detectors.provenance.intent import DO_ANYTHING, GENERIC_CHANGES, limited_verb
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""


class ForbiddenAction(EventDetector):
    id: ClassVar[str] = "scope.forbidden_action"
    title: ClassVar[str] = "Action the task ruled out"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI01", "ASI09", "T6", "T10"))
    runbook: ClassVar[str] = (
        "Reverse what the call did if it can be (roll back the apply, recall the message, restore the"
        " deletion), then check why the agent ignored the limit: a misread task, or content that overrode it."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        call, provenance = ctx.call, ctx.provenance
        if not ctx.acted(event) or call is None or provenance is None:
            return ()
        if not (forbidden := provenance.intent.forbidden):
            return ()
        verbs = call_verbs(event, command_of(event))
        changes = set(call.evidence) - {Capability.READ, Capability.FETCH, Capability.SECRET}
        where = f"{event.target or ''} {event.arguments}"  # ("never run against hist-prod-*": only there)
        # ("don't touch the incidents folder": a thing the call sets, by a field or a value; a shell line or a
        # note that names it to leave it out, ``-not -path '*incidents*'``, does not touch it)
        settings = "" if call.shell is not None else set_values(event)
        limits = [
            (c, v, " on " in w)
            for c, w in forbidden
            if (v := limited_verb(w, settings if w.startswith("touch on ") else where)) is not None
        ]
        broken = [(c, v) for c, v, named in limits if breaks(c, v, verbs, changes, provenance.intent, named)]
        forbidden = tuple((c, v) for c, v, _ in limits)
        # ("… don't execute anything now": a call that schedules its act runs nothing; "don't change" holds)
        if scheduled(event.arguments) and any(v in DO_ANYTHING for _, v in provenance.intent.forbidden):
            broken = [(c, v) for c, v in broken if v not in GENERIC_CHANGES]
        if not broken:
            return ()
        details = {"forbidden": [f"{c.value} ({v!r})" for c, v in forbidden], "capabilities": sorted(changes)}
        title = f"{event.tool} did what the task ruled out ({broken[0][1]!r})"
        return (Signal.of([event], title=title, details=details),)
