"""scope.quantity_beyond_task — an order or booking for many times the quantity the user asked for.

Why: "we need 200 bearings" becomes a purchase order for 5,000 because the price break starts at 1,000;
"book two seats" becomes twenty; "add 3 licences" becomes 30. The supplier and the item are right, nothing
was injected, and the money follows the quantity. When the task or the user's turns state counts (plain
numbers: "200", "3 licences"; years, identifiers and part numbers are not counts), a call that moves money
or writes (``detectors/capabilities/``) whose quantity argument (``qty``, ``quantity``, ``count``,
``units``, ``seats``, ``licenses`` …, nested order lines and a form's quantity box included) is more than
``FACTOR`` times the largest stated count is reported: high. Denied or failed calls do not fire.

Known gaps: quantities in a unit other than the task's (boxes of 100 against single items); counts spelled
as words ("two"); many orders that add up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.words import split_words
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
FACTOR = 2.0
ORDERS = frozenset({Capability.MONEY, Capability.WRITE, Capability.FORM_INPUT})
FIELD_KEYS = ("selector", "field", "name", "element", "target")
QUANTITY_KEY = re.compile(
    r"^(qty|quantity|quantities|count|units|unit_count|seats|licen[cs]es|licen[cs]e_count|pieces|"
    r"num_\w+|number_of_\w+)$",
    re.I,
)
# a count in prose: digits standing alone (not part of "BRG-6204", "2RS", "v1.2", "#4411")
COUNT = re.compile(r"(?<![\w.#/$€£-])(\d{1,3}(?:,\d{3})+|\d+)(?![\w%/-]|\.\d)")


# a day (1-31) beside its month ("14 March", "March 14th", "le 3 mai"): a date; not "150 mayo sachets"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sept|sep|oct|nov|dec|janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|"
    r"octobre|novembre|décembre|decembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
    r"octubre|noviembre|diciembre|januar|februar|märz|maerz|juni|juli|oktober|dezember|gennaio|febbraio|"
    r"aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|januari|februari|maart|mei|augustus|"
    r"janeiro|fevereiro|março|marco|maio|junho|julho|setembro|outubro|novembro|dezembro)"
)
_MONTH_AFTER = re.compile(rf"(?i)(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\.?\s+(?:of\s+|de\s+)?{_MONTH}\b")
_MONTH_BEFORE = re.compile(rf"(?i)\b{_MONTH}\.?\s+(?:0?[1-9]|[12]\d|3[01])$")


def stated_counts(text: str) -> list[float]:
    counts = [
        float(m.group(1).replace(",", ""))
        for m in COUNT.finditer(text)
        if not _MONTH_AFTER.match(text, m.start())
        and not _MONTH_BEFORE.search(text, max(0, m.start() - 12), m.end())
    ]
    return [c for c in counts if not 1900 <= c <= 2100]  # years are dates, not counts


def quantities(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, float]]:
    """(key, number) for every quantity argument, order lines included."""
    if depth > 4:
        return
    if isinstance(value, dict):
        field = next((str(value[k]) for k in FIELD_KEYS if isinstance(value.get(k), str)), "")
        if "value" in value and {"qty", "quantity", "count"} & set(
            split_words(field)
        ):  # a form's quantity box
            yield from quantities(value["value"], "quantity", depth + 1)
        for child_key, child in list(value.items())[:64]:
            yield from quantities(child, str(child_key), depth + 1)
    elif isinstance(value, list):
        for item in value[:64]:
            yield from quantities(item, key, depth + 1)
    elif QUANTITY_KEY.match(key) and not isinstance(value, bool):
        try:
            yield key, float(str(value).replace(",", ""))
        except ValueError:
            return


class QuantityBeyondTask(EventDetector):
    id: ClassVar[str] = "scope.quantity_beyond_task"
    title: ClassVar[str] = "Order for far more than the quantity the task stated"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=())
    runbook: ClassVar[str] = (
        "Cancel or amend the order before it ships or is invoiced (the supplier's portal, the ERP's change"
        " order), and require a human's approval for quantities above what a task states."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = ORDERS  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, ORDERS) or ctx.provenance is None:
            return ()
        stated = stated_counts(ctx.provenance.trusted_text)
        if not stated:
            return ()
        most = max(stated)
        over = [(k, q) for k, q in quantities(event.arguments) if q > FACTOR * most]
        if not over:
            return ()
        key, quantity = over[0]
        title = f"{event.tool} ordered {key}={quantity:g}; the task stated at most {most:g}"
        details = {"argument": key, "quantity": quantity, "stated": sorted(set(stated))[-5:]}
        return (Signal.of([event], title=title, details=details),)
