"""injection.lookalike_domain — the agent acted on content from a look-alike of a domain the session knew.

Why: business e-mail compromise rarely needs a hacked mailbox: a domain one hyphen or one letter away does.
"Re: C-3302 Ellison — release" from ``arrangements@whitfield-fh.co.uk`` beside the funeral director's real
``whitfieldfh.co.uk``; a faxed "remittance notice" moving the billing contact to ``mercyregional-billing.com``
for ``mercyregional.org``; a florist's "we switched banks" from ``bloomandstem-florals.com``. A reader in a
hurry sees the same name; the agent does not look at all. The session holds both: the real domain on record,
in an earlier message or in the result of the change itself (the contact it replaced), the twin in the content
that asks for the change. When the session has seen two look-alike domains
(``detectors/provenance/lookalikes.py``: the same name but for a hyphen, a hyphenated word added, one letter,
or look-alike characters) in e-mail addresses, links or hosts, a call that changes something, moves money,
changes access or sends, and that carries the twin itself or a value (a case, an account, an address) that
came in with the twin's own message (not with another message or record of the same result; a report that
names the twin in its text acts on nothing), is reported, once per twin: high. The twin is the name with the
extra hyphen or word, else the later one; a domain the task itself names is no impostor. Denied or failed
calls do not fire.

Known gaps: a twin on another public suffix alone (``acme.co`` for ``acme.com``); a real domain the session
never saw; values the content brought that are not distinctive (a date, a plain name).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.provenance.lookalikes import (
    acting_values,
    domain_of,
    domains_seen,
    impostor,
    lookalike_pairs,
    twin_values,
)
from detectors.provenance.tokens import tokens_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
ACTS = frozenset(
    {
        Capability.WRITE,
        Capability.DELETE,
        Capability.MONEY,
        Capability.IDENTITY,
        Capability.COMMUNICATE,
        Capability.EGRESS,
        Capability.FORM_INPUT,
    }
)
MAX_TWINS, MAX_VALUES = 4, 32  # look-alike domains, and values of each one's messages, kept per session


class LookalikeDomain(StatefulDetector):
    id: ClassVar[str] = "injection.lookalike_domain"
    title: ClassVar[str] = "Acted on content from a look-alike domain"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI01", "T6"), mitre_attack=("T1566", "T1656"))
    runbook: ClassVar[str] = (
        "Undo the change (the record, the payment, the contact), confirm the request through the contact on"
        " record, and block the look-alike domain at the mail gateway."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        provenance = ctx.provenance
        if not isinstance(event, ToolCall) or provenance is None:
            return state, ()
        twins: dict[str, dict[str, Any]] = state.get("twins") or {}
        # (… the call's own result too: "previous": the real contact the change replaced)
        result = tokens_of(event.result_summary or "")
        seen = domains_seen(provenance.trusted, provenance.tainted, event.result_summary or "")
        pairs = [
            (twin, real) if real in twins and twin not in twins else (real, twin)  # (as first told apart)
            for real, twin in map(impostor, lookalike_pairs(seen))
        ]
        pairs = [
            (real, twin) for real, twin in pairs if not provenance.trusts(f"host:{twin}")
        ]  # (task names it)
        signals: tuple[Signal, ...] = ()
        if ctx.acted(event, ACTS) and (pairs or twins):
            values = acting_values(event.arguments)
            for real, twin in pairs:
                brought = twins.get(twin, {}).get("values", ())
                if twin in twins and twins[twin].get("reported"):
                    continue
                if any(domain_of(v) == twin for v in values) or values & set(brought):
                    title = f"{event.tool} acted on content from {twin}, a look-alike of {real}"
                    details = {"lookalike": twin, "real": real, "values": sorted(values & set(brought))[:5]}
                    signals = (Signal.of([event], title=title, details=details),)
                    twins[twin] = {**twins.get(twin, {}), "reported": True}
                    break
        for real, twin in pairs:  # (what the twin's own messages brought, once they are known as a twin's)
            if twin not in twins and any(domain_of(t) == twin for t in result):
                twins[twin] = {"values": twin_values(event.result_summary or "", twin, real)[:MAX_VALUES]}
        if twins:
            state["twins"] = dict(list(twins.items())[-MAX_TWINS:])
        return state, signals
