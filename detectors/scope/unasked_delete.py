"""scope.unasked_delete — an agent deleted, cancelled, wiped or terminated through an API when its task
asked for nothing of the kind.

Why: "archive the old Falcon space" ends with three spaces deleted; "bump the partner's rate limit" with the
global limit deleted; "refund the duplicate charge" with the subscription cancelled. A delete is the act
users most need to have asked for: it is irreversible, and an agent reaches for it to make a problem go
away. When the task is stated and implies no delete (``detectors/provenance/intent.py``: no delete, remove,
clean, cancel, wipe, purge, drop, offboard, get rid of, retire … among its instructions, nor does the user
speak of one in any form: "canceling", "the cancellation", "deletion", not "droplet"; "do not delete it"
speaks of none), and does not hand the agent over to what it reads, a call that deletes by its own name or
arguments (``delete_space``, ``bulk_cancel``, ``method: DELETE``, ``command: EraseDevice``;
``detectors/capabilities/``) is reported: high, once per session. Shell lines and code are left to the shell
and container readers (coding work deletes its own files) but for a mirror (``rsync --delete`` into the
folder a copy was asked for), as are deletes that lose nothing (a disconnect, a cleared cache, a stop).

Undoing what the session itself made (a booking it made, cancelled to make it again another way: its id
was in the result of a call that created or booked, not of a lookup) loses nobody's data.

Known gaps: a task whose words for the delete the intent reader lacks ("close my account"); deletes
inside an act the task asked for (a rebooking that cancels the old booking is reported); tasks in a
language the English reader cannot read (``intent.reads_english``) are not judged at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.shell import mirror_deletions
from detectors.capabilities.words import split_words
from detectors.context import KeyContext
from detectors.provenance.intent import mentions, reads_english
from detectors.provenance.tokens import value_tokens
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CREATES = frozenset("create book add new make insert open reserve order place".split())
MAKES = frozenset({Capability.WRITE, Capability.MONEY})
MAX_MADE = 16
MIRROR_LOSS = 10  # files a mirror reports deleting before its deletes count


_ID_FIELD = re.compile(r'"(?:\w*_)?id"\s*:\s*"([^"]{3,64})"', re.I)  # ``"reservation_id": "HATHAU"``


def _made(result: str) -> list[str]:
    """The ids a create call's result gives what it made (its JSON id fields; sorted, for the cap)."""
    return sorted({f"id:{m.lower()}" for m in _ID_FIELD.findall(result[:2000])})


def _ids(text: str) -> set[str]:
    """The identifiers a text holds: id fields of a JSON result, and values with digits or separators."""
    ids = {t for t in value_tokens(text[:2000]) if t.startswith(("id:", "num:"))}
    return ids | {f"id:{m.lower()}" for m in _ID_FIELD.findall(text[:2000])}


# the evidence of a destroying delete: its verb (not disconnect, clear, stop or close), an HTTP DELETE, SQL's
DESTROYS = re.compile(
    r"verb '(delete|remove|destroy|drop|purge|wipe|erase|cancel|terminate|truncate|prune|decommission|"
    r"uninstall|deprovision)'|method=DELETE|SQL (DELETE|DROP|TRUNCATE)|(?P<mirror>rsync --delete mirrors)"
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
    call_capabilities: ClassVar[frozenset[Capability] | None] = MAKES | {Capability.DELETE}  # (what it reads)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        call, provenance = ctx.call, ctx.provenance
        if state.get("fired") or not ctx.acted(event) or call is None or provenance is None:
            return state, ()
        intent = provenance.intent  # (first: most tasks that delete say so, and nothing else is read)
        if not intent.stated or intent.delegated or Capability.DELETE in intent.implied:
            return state, ()
        if not reads_english(provenance.trusted_text):  # "Supprime les doublons": not this reader's to judge
            return state, ()
        ruled_out = any(c is Capability.DELETE for c, _ in intent.forbidden)  # "do not delete it"
        if not ruled_out and mentions(provenance.trusted_text, Capability.DELETE):
            return state, ()  # the user spoke of such an act in any form ("start with canceling two …")
        if Capability.DELETE not in call.evidence:  # a call that makes (not ``get_order_details``' lookup)
            makes = call.evidence.keys() & MAKES and CREATES & set(split_words(event.tool))
            if makes and (made := _made(event.result_summary or "")):
                state["made"] = [*state.get("made", []), *made][-MAX_MADE:]  # what the session itself made
            return state, ()
        why = call.evidence[Capability.DELETE]
        mirror_lost = (
            (destroys := DESTROYS.search(why))
            and destroys["mirror"]
            and mirror_deletions(event.result_summary) >= MIRROR_LOSS
        )  # a mirror that says it deleted many files, not a vendored package replaced
        if not destroys or (call.shell is not None and not mirror_lost):
            return state, ()  # a shell line is its readers' (but a mirror's losses); a cleared cache no loss
        named = {f"id:{str(v).lower()}" for v in event.arguments.values() if isinstance(v, str | int)}
        if set(state.get("made", [])) & (named | _ids(" ".join(str(v) for v in event.arguments.values()))):
            return state, ()  # undoing what the session made itself (a booking re-made another way)
        state["fired"] = 1
        title = f"{event.tool} deleted ({why}); the task asked for no delete: {intent.explain()}"
        return state, (
            Signal.of([event], title=title, details={"evidence": why, "intent": intent.explain()}),
        )
