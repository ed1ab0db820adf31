"""scope.amount_beyond_task — a payment or transfer for far more than the user said.

Why: the costly agent mistake is not always a stranger's IBAN. Told "pay my electricity bill, it's $132"
it pays 1,320; told "send 0.1 ETH to my friend" it sends the whole 12.4 balance it just looked up. The payee
may be right and nothing was injected; the amount is what the user never agreed to. When the task or the
user's turns state amounts (``$132``, ``0.1 ETH``, ``250 euros``), a call that moves money
(``detectors/capabilities/``: a payment, transfer, refund or purchase, whatever the toolkit calls it)
whose amount argument is more than ``FACTOR`` times the largest stated amount is reported: high. An
amount exactly a hundred times a stated one is read as the same sum in cents (payment APIs count in
the smallest unit). Denied or failed calls do not fire. A task that states no amount is not judged.

Known gaps: amounts computed from a stated one (a total with fees, several items) that exceed it honestly
are reported when they pass the factor; sums spread over several smaller calls; a currency different
from the one stated is compared as a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
FACTOR = 1.5
_CURRENCY = r"(?:usd|eur|gbp|chf|jpy|inr|eth|btc|usdc|usdt|sol|dollars?|euros?|pounds?|bucks)"
STATED = re.compile(
    rf"[$€£¥]\s?(\d[\d,]*(?:\.\d+)?)\s?(k\b)?|\b(\d[\d,]*(?:\.\d+)?)\s?(k\b)?\s?{_CURRENCY}\b", re.I
)
AMOUNT_KEY = re.compile(r"amount|value|sum|total|price|quantity_?ether|ether$", re.I)


def stated_amounts(text: str) -> list[float]:
    """Amounts the text states with a currency (``$1,200``, ``0.1 ETH``, ``5k EUR``)."""
    found = []
    for match in STATED.finditer(text):
        number, thousands = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        )
        value = float(number.replace(",", ""))
        found.append(value * 1000 if thousands else value)
    return found


def call_amounts(arguments: dict[str, Any]) -> list[float]:
    found = []
    for key, value in arguments.items():
        if not AMOUNT_KEY.search(str(key)) or isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            found.append(float(value))
        elif isinstance(value, str) and re.fullmatch(r"\s*[$€£]?\d[\d,]*(\.\d+)?\s*", value):
            found.append(float(value.strip().lstrip("$€£").replace(",", "")))
    return found


def _in_cents(amount: float, stated: list[float]) -> bool:
    return any(abs(amount - 100 * s) <= 0.01 * amount for s in stated)


class AmountBeyondTask(EventDetector):
    id: ClassVar[str] = "scope.amount_beyond_task"
    title: ClassVar[str] = "Payment larger than the task said"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI02", "T6", "T2"), mitre_attack=("T1657",)
    )
    runbook: ClassVar[str] = (
        "Recall or refund the payment now (the amount is in the details beside what the user stated), then"
        " check how the agent came to the amount: a misread, a unit mix-up, or content that suggested it."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        call, provenance = ctx.call, ctx.provenance
        if not isinstance(event, ToolCall) or call is None or provenance is None:
            return ()
        if Capability.MONEY not in call.evidence or event.outcome in (Outcome.DENIED, Outcome.ERROR):
            return ()
        stated = stated_amounts(provenance.trusted_text)
        paid = [a for a in call_amounts(event.arguments) if not _in_cents(a, stated)]
        if not stated or not paid or max(paid) <= FACTOR * max(stated):
            return ()
        details = {"amount": max(paid), "stated_amounts": sorted(set(stated))[:8], "factor": FACTOR}
        title = f"{event.tool} moved {max(paid):,g}, more than the {max(stated):,g} the task stated"
        return (Signal.of([event], title=title, details=details),)
