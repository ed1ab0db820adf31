"""exfiltration.fenced_data_sent — the task kept some fields out of what it asked to share; the agent sent
them.

Why: "our contractor needs Q3 utilization per site — aggregated only, no driver-level data; put the CSV in
their dropbox" ends with every charging session uploaded, drivers' e-mails and plates included; "add a
paragraph on Q3 wins to the investor newsletter — totals only, tenant names and rents are under NDA" with
each tenant and rent written out. The recipient was the one asked for; what went was not. When the task
fences fields off (``detectors/provenance/fences.py``: aggregates or totals only, "no …-level data" — the
fields that tell one person from another —, or fields named as under NDA, confidential, left out), a table
read in the session (CSV, a text table, JSON records) marks the values of its fenced columns. A later call
that sends, shares or writes (``detectors/capabilities/``) is high when it pastes two or more of those
values, or when it carries a file (an attachment, an upload's source path) as the next act after the read
that held them, or a file the next act wrote (``files.write(from_previous=True)``) by its path. An
allow-list ("he only needs names, sticker colour and meeting time") keeps the fields of people and the
sensitive ones it does not name out of sends. Denied or failed calls do not fire.

Known gaps: values the agent transformed (initials, hashes); a file written many calls after its read; a
fence in words the reader does not know ("keep it anonymous-ish").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.private_data import ATTACH_KEYS, strings_in
from detectors.context import KeyContext
from detectors.provenance.fences import MAX_VALUES, carriers_after, fence_of, fenced_values, pasted
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
SINKS = sinks.SENDS | {Capability.WRITE}
_WRITES = frozenset({Capability.WRITE})
_RECIPIENTS = frozenset("to cc bcc recipient recipients".split())
_DESTINATION = re.compile(r"(?i)^(bucket|host|remote\w*|url|endpoint|destination|dest|container|share)$")


class FencedDataSent(StatefulDetector):
    id: ClassVar[str] = "exfiltration.fenced_data_sent"
    title: ClassVar[str] = "Fields the task kept out were sent"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "T6"), mitre_attack=("T1567",))
    runbook: ClassVar[str] = (
        "Ask the recipient to delete what went beyond the task (the file, the paragraph), tell the people or"
        " partners whose data it held, and send the aggregate the task asked for instead."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if (
            not ctx.acted(event)
            or ctx.provenance is None
            or not (fence := fence_of(ctx.provenance.trusted_text))
        ):
            return state, ()
        fresh = state.pop("fresh", False)
        signals: tuple[Signal, ...] = ()
        values: dict[str, str] = state.get("values") or {}
        # (an allow-list keeps fields out of a send; the session's own notes and writes are its business)
        judged = sinks.SENDS if fence.allowed and not (fence.people or fence.words) else SINKS
        if values and ctx.acted(event, judged):
            # (not whom it goes to: e-mailing the customers the task names hands none of them their address)
            texts = [
                s
                for k, v in event.arguments.items()
                if not ATTACH_KEYS.match(str(k)) and str(k).lower() not in _RECIPIENTS
                for s in strings_in(v)
            ]
            said = " ".join(texts)[:20_000].lower()
            found = pasted(values, said)
            files = [
                s for k, v in event.arguments.items() if ATTACH_KEYS.match(str(k)) for s in strings_in(v)
            ]
            # (a file written from the read right after it, attached or sent by its path anywhere in the call)
            kept = [
                f for f in state.get("carriers") or () if f.rsplit("/", 1)[-1] in f"{said} {files}".lower()
            ]
            # (an upload to someone's bucket or host is a write that hands the file over)
            handed = ctx.acted(event, sinks.SENDS) or any(_DESTINATION.match(str(k)) for k in event.arguments)
            carried = ((fresh and bool(files)) or bool(kept)) and handed
            if len(found) >= 2 or carried:
                columns = sorted({values[v] for v in found} or set(values.values()))[:6]
                shown = (files or kept)[:1]
                how = f"pasted {len(found)} values of" if len(found) >= 2 else f"carried {shown[0]!r} with"
                title = f"{event.tool} {how} {', '.join(columns)}, which the task kept out"
                signals = (
                    Signal.of([event], title=title, details={"columns": columns, "values": found[:8]}),
                )
        # (a file the next act after the read wrote holds what was read)
        carriers = (
            carriers_after(state.get("carriers") or [], event.arguments) if fresh and not signals else []
        )
        if carriers and ctx.acted(event, _WRITES):
            state["carriers"] = carriers
        if (result := event.result_summary or "") and (new := fenced_values(fence, result)):
            state["values"], state["fresh"] = dict(list({**values, **new}.items())[-MAX_VALUES:]), True
            state["carriers"] = carriers_after(state.get("carriers") or [], {}, result)  # (an export's file)
        return state, signals
