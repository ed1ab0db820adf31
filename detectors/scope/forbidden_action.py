"""scope.forbidden_action — the agent did what the task said not to do.

Why: users fence an agent in with a negation: "show me what Terraform would change — don't apply anything
yet", "draft a reply but do not send it", "clean up the branch without deleting the tags". An agent that
applies, sends or deletes anyway has ignored the one explicit limit it was given, whatever it read. The
task's negations are read by ``detectors/provenance/intent.py`` (``forbidden_in``: the verb right after
"don't", "do not", "never", "without", "must not", "avoid"); a call breaks one when the forbidden verb is
what it does — the verb is in its name or its command line (``terraform apply``, ``send_email``,
``git push``) and the call changes something — or, for the grave acts (deleting, moving money, changing
access, sending a message or data), when the call has that capability whatever its name. "Don't change
anything (yet)" or "don't run anything now" is broken by any change the task did not itself ask for; a
verb the task also asks for ("purge them … never purge OPEN permits") only by a call naming the object.
High; denied calls do not fire.

Known gaps: negations the lexicon has no verb for ("don't touch prod"); limits stated as conditions
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
from detectors.provenance.intent import DO_ANYTHING, GENERIC_CHANGES, Intent, lexicon_of, limited_verb
from detectors.sinks import ANSWERS, IRREVERSIBLE
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
# acts grave enough that the capability alone breaks the limit, whatever the call is named
GRAVE = frozenset(
    {Capability.DELETE, Capability.MONEY, Capability.IDENTITY, Capability.COMMUNICATE, Capability.EGRESS}
)
# grave acts named every which way (remove, purge, drop; pay, transfer): the capability alone breaks the limit
SILENT = IRREVERSIBLE
_UNGRANTS = frozenset({"revoke", "unassign", "detach", "unlink", "unshare", "withdraw", "offboard"})
_REMOVE = frozenset({"remove"})
_RIGHTS = frozenset("permission permissions access right rights role roles member membership grant".split())


def _breaks(
    capability: Capability, verb: str, verbs: set[str], changes: set[Capability], intent: Intent
) -> bool:
    """The call does the forbidden verb (or, for a grave act, a word of the same kind: ``post`` for "don't
    send"), changing something; it deletes, moves money or changes access when the task forbade that; or,
    under "don't change anything", it makes a change the task did not itself ask for."""
    if verb in GENERIC_CHANGES:  # (running a program changes nothing by itself: ``alembic history``)
        changes = changes - {Capability.EXECUTE}
    if verb in GENERIC_CHANGES and intent.asks and set(intent.implied) <= ANSWERS:
        return bool(changes)  # "research the fix and tell me, don't change anything yet": every change
    if verb in GENERIC_CHANGES or verb.endswith(" else"):
        return bool(changes - set(intent.implied))  # "prepare the checklist, but don't change anything else"
    # (a word of the same kind, unless it only takes away a right the task itself asks to remove: "Remove his
    # access … don't delete his account" lets ``revoke_operator`` through, never ``purge_user`` nor a send)
    like = verbs & lexicon_of(capability)
    ungrants = (
        capability == Capability.DELETE and capability in intent.implied and like <= _UNGRANTS | _REMOVE
    )
    ungrants = ungrants and (like <= _UNGRANTS or bool(verbs & _RIGHTS))  # ``remove_mailbox_permission``
    # (nor a word the task itself asks for beside the limit: "DEACTIVATE (do not delete) the user")
    alike = (
        capability in GRAVE & changes and not ungrants and not like & set(intent.implied.get(capability, ()))
    )
    if changes and (verb in verbs or (alike and like)):
        return True
    # a grave act named otherwise, unless the task also asks for it ("remove her from the VPN group. Don't
    # delete the mailbox": which delete breaks the limit is then for the call's own words to say)
    return capability in SILENT and capability in changes and capability not in intent.implied


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
        forbidden = tuple((c, v) for c, w in forbidden if (v := limited_verb(w, where)) is not None)
        broken = [(c, v) for c, v in forbidden if _breaks(c, v, verbs, changes, provenance.intent)]
        # ("… don't execute anything now": a call that schedules its act runs nothing; "don't change" holds)
        if scheduled(event.arguments) and any(v in DO_ANYTHING for _, v in provenance.intent.forbidden):
            broken = [(c, v) for c, v in broken if v not in GENERIC_CHANGES]
        if not broken:
            return ()
        details = {"forbidden": [f"{c.value} ({v!r})" for c, v in forbidden], "capabilities": sorted(changes)}
        title = f"{event.tool} did what the task ruled out ({broken[0][1]!r})"
        return (Signal.of([event], title=title, details=details),)
