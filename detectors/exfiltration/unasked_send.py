"""exfiltration.unasked_send — data the session read was sent somewhere nobody named, by a send the task
never asked for.

Why: the agent that leaks without any injection does it in plain sight: it reads customer rows, salaries
or a patient record, then posts them to a paste site, mails them to a personal address or fills them into
a third-party form. This follows the data rather than the words: the call can send (egress, a message, a
form; ``detectors/capabilities/``), the task implies no such act (``detectors/provenance/intent.py``), its
destination is not one trusted input named nor inside the organisation's network, and its payload carries
two or more values earlier tool results brought (addresses, numbers, identifiers, names). High. When the
destination was planted by instructing content, the alert is ``injection.tainted_action``'s.

Second shape, whatever the payload carries: the task asked for no send at all ("summarise the memo for
me", "what were my wages?") or a command line or a file argument uploads what the task did not ask to
upload (``curl -F file=@data.parquet``, ``aws s3 sync``, ``gh gist create``, ``body_file: /tmp/x.csv``), to a
destination nobody named — an address, a channel or handle, a bucket — with text, files or attachments.

A text-only note to the team's own channel or role mailbox (``#ops``; ``ap-team@``, ``office@`` at a domain
no outside content brought, not a public mail service) is the agent reporting back: medium.

When the task named where its sends go ("five bullets I can post in #leadership", "to the members mailing
list": a list or group argument is that list), a send of that kind elsewhere is judged the same way.

Values that came in the same content as the destination (the references of the mail whose sender is
answered) are not counted: they go back to where they came from.

Known gaps: summaries carry no values (seen only in the second shape); sends with no destination (a
hand-off to a human agent) are not judged; a task that asks for a send covers every send of its kind; a
push to a git remote the agent added.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.context import KeyContext
from detectors.provenance.tokens import distinct, shown
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
MIN_VALUES = 2


class UnaskedSend(EventDetector):
    id: ClassVar[str] = "exfiltration.unasked_send"
    title: ClassVar[str] = "Data read in the session sent where nobody asked"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "ASI06", "T2", "T6"), mitre_attack=("T1567", "T1048", "T1041")
    )
    runbook: ClassVar[str] = (
        "Find what was sent and to whom (the payload values name the records); ask the destination to delete"
        " it, notify the data owner, and narrow the agent's send tools to the destinations its tasks need."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        provenance, call = ctx.provenance, ctx.call
        if not isinstance(event, ToolCall) or provenance is None or call is None:
            return ()
        sends = [c for c in sinks.SINKS if c in sinks.SENDS and c in call.evidence]  # a stable order
        if not sends or Capability.MONEY in call.evidence or sinks.saves_draft(event):
            return ()  # a payment is the money detectors' to judge; a draft waits for the user to send it
        if event.outcome in (Outcome.DENIED, Outcome.ERROR) or not provenance.intent.stated:
            return ()
        off_task = provenance.off_task(sends)
        if not off_task and not sinks.task_names_places(provenance.trusted_text):
            return ()  # the task asked for a send of this kind and left where to the agent
        where = sinks.send_destinations(event, call)
        task = provenance.trusted_text
        if sinks.into_named_folder(event, task) or sinks.to_named_list(event, task):
            return ()  # "put the report in Recon/2024-03 on SharePoint", "to our press list": where it said
        if any(sinks.named_by_user(t, provenance) or sinks.internal(t) for t in where):
            return ()  # one the user named ("Sarah" for ``@sarah.chen``), or inside the organisation
        planted = provenance.tainted_values(event.arguments, event.target)
        if any(planted[t].score >= sinks.ADDRESSED for t in where if t in planted):
            return ()  # content that instructed the agent chose the destination: injection.tainted_action
        no_send_asked = (
            sinks.answer_only(provenance)
            or not provenance.intent.implied.keys() & sinks.SENDS  # no message, upload or share asked at all
            or not off_task  # a send of the asked kind, to a place other than the ones the task named
            or sinks.forwards(event)
            or (Capability.EGRESS in off_task and (call.shell is not None or sinks.uploads_file(event)))
        )
        if no_send_asked and (found := sinks.handed_over(event, call, provenance, where, sends)):
            return found  # the task asked for no send at all, or a command line uploaded unasked
        if not where:
            return ()  # a hand-off with no destination (to a human agent, this chat)
        # (values of the mail that brought the address go back to its author: a reply carries them home)
        home = {planted[t].event_id for t in where if t in planted}
        carried = {t: s for t, s in planted.items() if t not in where and s.event_id not in home}
        if len(distinct(carried)) < MIN_VALUES:
            return ()
        to = ", ".join(shown(t) for t in sorted(where)[:2])
        values = ", ".join(shown(t) for t in list(carried)[:4])
        details = {
            "carried_values": list(carried)[:16],
            "destinations": sorted(where)[:8],
            "off_task": [c.value for c in off_task],
            "intent": provenance.intent.explain(),
            "source_events": sorted({s.event_id for s in carried.values()})[:8],
        }
        title = f"{event.tool} sent {values} read earlier to {to}, a send the task did not ask for"
        signal = Signal.of([event], title=title, details=details)
        return (sinks.with_sources(signal, list(carried.values())),)
