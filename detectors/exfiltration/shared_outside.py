"""exfiltration.shared_outside — private data posted to a channel a listing showed is shared with another
organisation.

Why: "ask the volunteer coordinators who can cover Saturday" ends with each patient's address, diagnosis
and key-safe code in a Slack Connect channel that a partner charity's sixty members read; "update the
vendor on the outage" with the customer list in the channel shared with the vendor. The channel is the
team's usual place and its name says nothing; the listing the agent read before posting does
(``is_ext_shared``, ``connected_orgs``, ``shared_with_external``: ``detectors/capabilities/outside.py``).
A message or post to such a channel (by its id or name) whose text carries two or more values of a tool
result that held private data (health records, government ids, bank details, a list of people:
``detectors/capabilities/private_data.py``, as ``exfiltration.private_data_beyond_task`` marks them) is
high; medium when the task itself named the channel.

Known gaps: a channel shared outside that no result of the session listed as such; private data read
before that listing (results are marked only once a shared channel is known: most sessions have none); data in
words the reader does not mark (a diagnosis in prose of a result with no such column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.outside import outside_places
from detectors.capabilities.private_data import (
    contact_read,
    people_named_in,
    private_kind,
    selected_kind,
    strings_in,
)
from detectors.capabilities.selection import plain
from detectors.context import KeyContext
from detectors.provenance.private_marks import marks_of
from detectors.provenance.tokens import value_tokens
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAX_MARKED, MAX_PLACES, MIN_CARRIED = 64, 32, 2
SENDS = frozenset({Capability.COMMUNICATE, Capability.EGRESS})
CHANNEL_KEYS = frozenset(
    "channel channel_id channel_name conversation conversation_id room room_id space space_id chat_id".split()
)


class SharedOutside(StatefulDetector):
    id: ClassVar[str] = "exfiltration.shared_outside"
    title: ClassVar[str] = "Private data posted to a channel shared with another organisation"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1567",))
    runbook: ClassVar[str] = (
        "Delete the message, ask the other organisation's admins to purge it from their side, tell the people"
        " whose data it held, and post such requests in the organisation's own channels."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.call is None:
            return state, ()
        places, marked = state.get("places") or [], state.get("marked") or {}
        signals = _judge(event, ctx, places, marked) if places and marked and ctx.acted(event, SENDS) else ()
        if result := event.result_summary or "":
            if found := outside_places(result):
                state["places"] = places = [*places, *map(list, found)][-MAX_PLACES:]
            if not places:
                return state, signals  # (what a result holds matters once a channel shared outside is known)
            contact = bool(state.get("contact")) or contact_read(event, ctx.call)
            state["contact"] = 1 if contact else 0
            new = marks_of(event.arguments, result, contact, marked)
            # (and the people a result with private data names: a post tells their story by name)
            if kind := private_kind(result[:20_000], contact) or selected_kind(event.arguments):
                new |= {f"person:{n}": kind for n in people_named_in(result[:20_000])[:MAX_MARKED]}
            if new:
                state["marked"] = dict(list({**marked, **new}.items())[-MAX_MARKED:])
        return state, signals


def _judge(event: ToolCall, ctx: KeyContext, places: list[list[str]], marked: dict[str, str]) -> list[Signal]:
    where = {plain(v) for k, v in event.arguments.items() if k.lower() in CHANNEL_KEYS and isinstance(v, str)}
    place = next((p for p in places if {plain(p[0]), plain(p[1])} & where - {""}), None)
    if place is None:
        return []
    texts = [s for k, v in event.arguments.items() if k.lower() not in CHANNEL_KEYS for s in strings_in(v)]
    carried = sorted({t for s in texts for t in value_tokens(s) if t in marked})
    carried += [t for t in marked if t.startswith("person:") and any(t[7:] in s for s in texts)]
    if len(carried) < MIN_CARRIED:
        return []
    # (named as written, ``#ops-bridge``: "the front desk team" is the people, not ``front-desk``)
    task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
    named = any(len(p) >= 4 and re.search(rf"(?i)(?<![\w-]){re.escape(p)}(?![\w-])", task) for p in place)
    kinds = sorted({marked[t] for t in carried})
    where_to = place[1] or place[0]
    title = f"{event.tool} posted {' and '.join(kinds)} to {where_to}, shared with another organisation"
    details = {"channel": place, "kinds": kinds, "carried_values": carried[:8], "task_named_channel": named}
    return [Signal.of([event], title=title, severity=Severity.MEDIUM if named else None, details=details)]
