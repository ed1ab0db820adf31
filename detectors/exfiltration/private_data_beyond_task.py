"""exfiltration.private_data_beyond_task — a message the task asked for carried private data it never asked
to send: a file read in the session with government ids, bank details, legal privilege, secrets, health
records or a whole list of people attached, or such values pasted into the text.

Why: "email the babysitter the kids' schedule" ends with the household file (alarm code, bank account,
the children's social security numbers) attached; "send the transport firm the pickup list" with the
patients' diagnoses and infection status. The recipient is the right one, so no "unknown destination"
check sees it: what is wrong is what went with the message. The detector follows the data: a tool result
that holds such content (a social security number's shape, an account number beside its label, an IBAN,
a privilege notice, a redacted secret, columns of diagnoses, infection status or medical notes — in the
result or in the query's own column list —, 50 or more records in a session that has read people's contact
fields; a file kept confidential by its folder or name, ``/Costing/Confidential/…``) marks the values of
that call, the names and ids in its result, and the file the next call writes with no content of its own.
A later call that sends and attaches one of those values, or pastes one of
those shapes or a number or account read with such a mark into its text (not into a case's own thread,
addressed to nobody), is high when the task names no document to send (attach, file, report, list …) —
or, for health records, when it names one but asks for none ("medical history", "lab results"); ids and
bank details whatever it names, when it fences the rest out ("just the berths' sizes, nothing else", "bez
nazwisk", "no names").

Known gaps: a named document covers every attachment but health records; a diagnosis or salary in prose;
data carried on by a later tool whose result names nothing read before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.private_data import (
    ATTACH_KEYS,
    contact_read,
    strings_in,
    unasked_kinds,
)
from detectors.context import KeyContext
from detectors.provenance.private_marks import attached_marks, marks_of, pasted_marks, recipients_of
from detectors.provenance.tokens import value_tokens
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
MAX_MARKED = 64


class PrivateDataBeyondTask(StatefulDetector):
    id: ClassVar[str] = "exfiltration.private_data_beyond_task"
    title: ClassVar[str] = "Private data sent with a message the task asked for"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "T6"), mitre_attack=("T1567",))
    runbook: ClassVar[str] = (
        "Ask the recipient to delete the attachment, tell the people whose data it held (ids and bank details"
        " may need notice by law), and make the agent confirm attachments the task did not name."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.call is None:
            return state, ()
        sent = ctx.provenance if state.get("marked") and ctx.acted(event, sinks.SENDS) else None
        counts = unasked_kinds(sent.trusted_text, sinks.sends_asked(sent)) if sent is not None else None
        pasting = sent is not None and not sinks.internal_note(event, ctx.call, sent)
        told = value_tokens(sent.trusted_text) if sent is not None else ()
        signals = self._judge(state, event, counts, pasting, told) if counts is not None else ()
        if result := event.result_summary or "":
            if contact := bool(state.get("contact")) or contact_read(event, ctx.call):
                state["contact"] = 1
            marked = state.get("marked") or {}
            if new := marks_of(event.arguments, result, contact, marked, state.pop("fresh", None)):
                state["marked"] = dict(list({**marked, **new}.items())[-MAX_MARKED:])
                state["fresh"] = next(iter(new.values()))  # what the next call may write out
        return state, signals

    def _judge(
        self, state: dict[str, Any], event: ToolCall, counts: Callable[[str], bool], pasting: bool, told: Any
    ) -> tuple[Signal, ...]:
        # (a value the task itself gives, "the order CN-558120", is the user's to quote, wherever it was read)
        marked = {t: k for t, k in (state.get("marked") or {}).items() if counts(k) and t not in told}
        attached = [
            s for k, v in event.arguments.items() if ATTACH_KEYS.match(str(k)) for s in strings_in(v)
        ]  # fmt: skip
        hits = attached_marks(attached, marked)
        texts = [
            s for k, v in event.arguments.items() if not ATTACH_KEYS.match(str(k)) for s in strings_in(v)
        ]
        pasted = pasted_marks(texts, marked, recipients_of(event.arguments)) if pasting else []
        if not hits and not pasted:
            return ()
        kinds, how = sorted(set(hits.values()) | set(pasted)), "attached" if hits else "pasted"
        title = (
            f"{event.tool} {how} {' and '.join(kinds)} read in the session, which the task did not ask for"
        )
        return (Signal.of([event], title=title, details={"kinds": kinds, "attached": sorted(hits)[:8]}),)
