"""exfiltration.personal_mailbox — work sent to a colleague's personal mailbox instead of their work address.

Why: "send the excursion summary to Mina on the yield team" ends at ``mina.kovac.87@gmail.com`` with the
process recipe attached, because the directory said her work mailbox is on auto-reply and listed a personal
address "for emergencies"; "get the payroll file to Tom" at his Yahoo address from his signature. The person
is the right one, so no check of unknown recipients sees it: what is wrong is that the organisation's data
left for a mailbox it does not control. A message or upload (``detectors/capabilities/``) to an address at
a consumer mail service (``detectors/capabilities/mailboxes.py``) whose name words are those of an address
the session read at another, non-personal domain — the same person at work — carrying an attachment or
text of some length is reported: high. Quiet when the user wrote that address or asked for a personal or
private one, and for short notes.

Known gaps: a personal address whose mailbox is no form of the person's name (``sunnyday77@…``); a work
address never read in the session; personal domains of a company's own (a family business on Gmail).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.mailboxes import personal_mailbox, work_address_of
from detectors.capabilities.private_data import ATTACH_KEYS, strings_in
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
SENDS = frozenset({Capability.COMMUNICATE, Capability.EGRESS})
MIN_TEXT = 120  # characters of text that carry work, not "are you free at 3?"
# the user asked for the private address ("her personal email", "send it to my Gmail")
_PERSONAL_ASKED = re.compile(
    r"(?i)\b(personal|private|home|own)\s+(e-?mail|mail(box)?|address|account|inbox)|\b(gmail|yahoo|hotmail|"
    r"outlook\.com|icloud|proton\s?mail)\b"
)


class PersonalMailbox(EventDetector):
    id: ClassVar[str] = "exfiltration.personal_mailbox"
    title: ClassVar[str] = "Work sent to a colleague's personal mailbox"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "T2"), mitre_attack=("T1048.003", "T1114")
    )
    runbook: ClassVar[str] = (
        "Ask the colleague to delete the message from the personal mailbox and confirm it was not forwarded;"
        " send it again to the work address; check what the attachment held (export control, personal data)."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = SENDS

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        provenance, call = ctx.provenance, ctx.call
        if (
            not isinstance(event, ToolCall)
            or provenance is None
            or call is None
            or not ctx.acted(event, SENDS)
        ):
            return ()
        to = [t[6:] for t in sinks.send_destinations(event, call) if t.startswith("email:")]
        personal = [a for a in to if personal_mailbox(a)]
        task = provenance.trusted_text
        if not personal or _PERSONAL_ASKED.search(task) or any(a in task.lower() for a in personal):
            return ()
        seen = sorted(t[6:] for t in (*provenance.tainted, *provenance.trusted) if t.startswith("email:"))
        found = [(a, work) for a in personal if (work := work_address_of(a, seen)) is not None]
        if not found:
            return ()
        attached = any(ATTACH_KEYS.match(str(k)) and v for k, v in event.arguments.items())
        text = sum(
            len(s) for k, v in event.arguments.items() if not ATTACH_KEYS.match(str(k)) for s in strings_in(v)
        )
        if not attached and text < MIN_TEXT:
            return ()
        address, work = found[0]
        details = {"personal_address": address, "work_address_read": work, "attachments": attached}
        title = f"{event.tool} sent work to {address}, a personal mailbox of the colleague at {work}"
        return (Signal.of([event], title=title, details=details),)
