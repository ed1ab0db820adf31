"""injection.tainted_action — a call acted on a value that outside content planted, and the content was
instructing the agent or the act was not what the task asked for.

Why: indirect prompt injection is the agent-specific attack. An e-mail, web page, file, review or API
answer the agent reads carries instructions, and the agent follows them with its own credentials: it pays
an IBAN, mails an address, invites a user, visits a URL, uploads to a host that the *content* supplied. The
call looks legitimate alone; what gives it away is provenance: its destination first entered the session
through untrusted content (``ctx.provenance``: addresses, URLs, hosts, IBANs, wallets, identifiers, paths,
short names a tool result brings, minus those trusted input mentions) and it reaches a sink
(``detectors.sinks``: money, access, data or messages leaving, a delete, a form, a fetched URL).

Provenance alone is not enough: users ask agents to act on what they read ("pay the bill in this e-mail",
"reply to the sender"). So it fires only when another signal agrees: the source instructed the agent
(content model score >= ``STRONGLY_ADDRESSED``, ``detectors/provenance/addressing.py``) and the act is off
the task or moves money, changes access or sends data out; or the content *asked its reader for this very
act* (``intent.requests_of``), the task did not, and the agent did it with the content's value; or a
message spreads a link the content asked to spread. A fetch that fills data into a URL the content gave
(``…/s.png?d=`` + the user's notes: the markdown-image leak) is a send; a message is steered only by
where it goes or a link it spreads (a planted address quoted in a report to the team steers nothing).
Critical when money or access moves off the task, high otherwise; the details name the planted values.

Known gaps: paraphrased, split or computed values; a destination the user also typed is trusted; results
are cut at 4,000 characters; one report per planted value per session; instructions without a value are
``injection.off_task_action``'s; content that plants a payee without instructing the agent scores low.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors import sinks as sink
from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.provenance.tokens import shown
from detectors.sinks import GRAVE, STRONGLY_ADDRESSED, acting_sinks, asking_sources, label, steering_values
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability as C
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
MAX_FIRED = 64  # planted values remembered as already reported, per session


class TaintedAction(StatefulDetector):
    id: ClassVar[str] = "injection.tainted_action"
    title: ClassVar[str] = "Action on a value planted by untrusted content"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    version: ClassVar[int] = 2
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI02", "T6", "T2"), mitre_attack=("T1565", "T1048", "T1657")
    )
    runbook: ClassVar[str] = (
        "Stop or reverse the action (payment recall, revoke the invitation, delete the share); quarantine"
        " the source content, then review what else the session did after it read that content."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[C] | None] = frozenset(C) - {C.READ, C.WRITE, C.EXECUTE, C.SECRET}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        provenance, call = ctx.provenance, ctx.call
        if not isinstance(event, ToolCall) or provenance is None or call is None or not provenance.tainted:
            return state, ()
        sinks = acting_sinks(call, event, provenance)
        if not sinks:
            return state, ()  # no value can matter to a call without a sink: skip tokenising it
        fired = state.get("fired", [])
        hits = steering_values(provenance, event, call, sinks, fired)
        if not hits:
            return state, ()
        intent = provenance.intent
        grave = [c for c in sinks if c in GRAVE]
        off_task = (  # no task: nobody asked for it
            provenance.off_task(sinks, unless_addressed_above=STRONGLY_ADDRESSED) if intent.stated else grave
        )
        source = max(hits.values(), key=lambda s: (s.score, s.time))
        asked = asking_sources(provenance, hits, sinks, off_task, event, call)  # or content instructed it
        copied = sink.copied_in(event, call, provenance, hits)  # a planted reader beside the asked one
        if not asked and (source.score < STRONGLY_ADDRESSED or not (off_task or grave or copied)):
            return state, ()
        source = asked[0] if asked and source.score < STRONGLY_ADDRESSED else source
        state["fired"] = [*fired, *hits][-MAX_FIRED:]  # a second payment to the same IBAN: the same attack
        severity = Severity.CRITICAL if set(off_task) & {C.MONEY, C.IDENTITY} else Severity.HIGH
        act = label(off_task or grave or sinks) + (", off the task" if off_task else "")
        values = ", ".join(shown(t) for t in list(hits)[:4])
        details = {
            "tainted_values": list(hits),
            "source_events": sorted({s.event_id for s in hits.values()}),
            **source.details(),
            "sinks": [c.value for c in sinks],
            "off_task": [c.value for c in off_task],
            "intent": intent.explain(),
            "evidence": {c.value: call.evidence.get(c, "data filled into the content's URL") for c in sinks},
        }
        title = f"{event.tool} ({act}) used {values}, planted by content that instructed it"
        signal = Signal.of([event], title=title, severity=severity, details=details)
        return state, (sink.with_sources(signal, list(hits.values())),)
