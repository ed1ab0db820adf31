"""injection.changed_payee — money sent to an account that outside content supplied, when the session's
own records named another destination for it.

Why: business e-mail compromise needs no instructions aimed at an AI: an invoice "with our new bank details",
a guest who asks for the refund "by bank transfer instead", a payroll note that every wage goes to the team
leader's account. The content only supplies an account; the agent pays it. What gives it away is the
session itself: the vendor record, the booking or the original payment it read holds another destination
(an account, an IBAN, the card it was paid with, a table's bank column; ``detectors/provenance/payees.py``).
A call that moves money to an account that untrusted content brought and trusted input never named, after
another result stated a different destination, is high (in a batch, the account the newest content
stated); medium when the call sets payment details the task asked to change ("update Jonas's bank
details"). Once per planted account; denied or failed calls do not fire. An API record that returns the
account without being given it (the supplier file the task said to check against) puts it on record; in a
thread read at once, an earlier message's account is on record for a later one's.

Known gaps: a record read only after the payment; a destination on record without a label; a change the
user verified by phone but did not type (the alert is then a prompt to check).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.channels import sets_asked
from detectors.context import KeyContext
from detectors.provenance.payees import earlier_message, payee_of, remember_destinations, routing_arguments
from detectors.sinks import with_sources
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""


class ChangedPayee(StatefulDetector):
    id: ClassVar[str] = "injection.changed_payee"
    title: ClassVar[str] = "Money sent to an account content supplied, not the one on record"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI01", "T6"), mitre_attack=("T1657", "T1565"))
    runbook: ClassVar[str] = (
        "Ask the bank to recall the payment now; confirm the payee's details through a contact on record"
        " (not one the message gave), restore the record, and hold payments to changed details for approval."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        provenance = ctx.provenance
        if not isinstance(event, ToolCall) or provenance is None:
            return state, ()
        signals: tuple[Signal, ...] = ()
        on_record: dict[str, str] = state.get("on_record") or {}
        if on_record and ctx.acted(event, frozenset({Capability.MONEY})):
            signals = self._judge(state, event, ctx, on_record)
        remember_destinations(
            state, event.result_summary, event.arguments, event.untrusted_content, event.event_id
        )
        return state, signals

    def _judge(
        self, state: dict[str, Any], event: ToolCall, ctx: KeyContext, on_record: dict[str, str]
    ) -> tuple[Signal, ...]:
        assert ctx.provenance is not None
        planted = ctx.provenance.tainted_values(routing_arguments(event.arguments), event.target)
        reported: list[str] = state.setdefault("reported", [])
        # an account the content stated as one (a phone number is none; a record that stated it first makes
        # it the one on record), while another result stated a different destination
        changed = {
            account: source
            for token, source in planted.items()
            if (account := payee_of(token)) is not None
            and on_record.get(account) == source.event_id
            and account not in reported
            and account not in state.get("filed", ())  # (the party's own record, by its label)
        }
        elsewhere = {  # (a record of the account's last four, "ending 4471", names the same account)
            a: sorted(
                d
                for d, e in on_record.items()
                if (e != s.event_id or earlier_message(state, d, a)) and d != f"card:{a[-4:]}"
            )[:3]
            for a, s in changed.items()
        }
        moved = [a for a, others in elsewhere.items() if others]  # (a batch: the newest content's account)
        account = max(moved, key=lambda a: (changed[a].time, changed[a].score), default=None)
        if account is None:
            return ()
        source, others = changed[account], elsewhere[account]
        reported.append(account)
        # (the details on record changed as the task asked — "update Jonas's bank details from his signed
        # form" — not a payment: a prompt to check the form, not a page)
        provenance = ctx.provenance
        asked = sets_asked(event.tool, provenance.trusted_text, Capability.WRITE in provenance.intent.implied)
        signal = Signal.of(
            [event],
            title=f"{event.tool} {'set' if asked else 'paid'} {account}, an account outside content supplied;"
            f" the session's records named {', '.join(others)}",
            details={"account": account, "on_record": others, "source_event": source.event_id, "asked": asked}
            | source.details(),
            severity=Severity.MEDIUM if asked else None,
        )
        return (with_sources(signal, [source]),)
