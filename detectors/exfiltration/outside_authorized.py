"""exfiltration.outside_authorized — a record's files sent to someone its own list of authorized recipients
leaves out.

Why: a deposition transcript under a protective order lists who may receive it; a new "paralegal" writes
from a free-mail address asking for the rough draft, and the agent attaches it. A data-sharing agreement's
record, a patient's release of information, a client's distribution list: the record itself says who may
have its files (``authorized_recipients``, ``approved_distribution``, ``permitted_contacts``, a
``distribution_list``; ``detectors/capabilities/authorized.py``). A message or upload that attaches a file
that such a record names, to any address the list does not hold, is high, whoever asked: the list is the
record owner's limit, not the agent's to widen. The task naming the address does not lift it either.

Known gaps: a file renamed or converted before it is sent; lists that give names or firms, not addresses;
a recipient given access by a share link rather than an attachment.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.authorized import authorized_lists, base_name
from detectors.capabilities.private_data import ATTACH_KEYS, RECIPIENT_KEYS, strings_in
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAX_RECORDS = 16
SENDS = frozenset({Capability.COMMUNICATE, Capability.EGRESS})


class OutsideAuthorized(StatefulDetector):
    id: ClassVar[str] = "exfiltration.outside_authorized"
    title: ClassVar[str] = "A record's files sent outside its authorized recipients"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1567", "T1114"))
    runbook: ClassVar[str] = (
        "Recall or ask the recipient to delete the files, tell the record's owner (a protective order may"
        " require notice to the court or the parties), and verify new contacts against the record's list."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event):
            return state, ()
        records: list[list[list[str]]] = state.get("records") or []
        signals = _judge(event, records) if records and ctx.acted(event, SENDS) else []
        if found := authorized_lists(event.result_summary or ""):
            state["records"] = [*records, *([a, f] for a, f in found if f)][-MAX_RECORDS:]
        return state, signals


def _judge(event: ToolCall, records: list[list[list[str]]]) -> list[Signal]:
    attached = {
        base_name(s) for k, v in event.arguments.items() if ATTACH_KEYS.match(str(k)) for s in strings_in(v)
    }
    to = {
        s.strip().lower()
        for k, v in event.arguments.items()
        if str(k).lower() in RECIPIENT_KEYS
        for s in strings_in(v)
        if "@" in s
    }
    for allowed, files in records:
        sent = sorted(attached & set(files))
        outside = sorted(to - set(allowed))
        if sent and outside:
            title = f"{event.tool} sent {sent[0]} to {outside[0]}, outside the record's authorized recipients"
            details = {"files": sent, "recipients_outside": outside, "authorized": allowed[:8]}
            return [Signal.of([event], title=title, details=details)]
    return []
