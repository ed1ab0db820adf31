"""The sums a call moves, as its arguments or its own result state them (``scope.amount_beyond_task``)."""

from __future__ import annotations

import re
from typing import Any

AMOUNT_KEY = re.compile(r"amount|value|sum|total|price|quantity_?ether|ether$", re.I)


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


def whole_amount(arguments: dict[str, Any]) -> bool:
    """An amount argument that takes whatever was paid (``amount: "full"``, ``"all"``, ``"max"``)."""
    return any(
        isinstance(v, str) and WHOLE.match(v) for k, v in arguments.items() if AMOUNT_KEY.search(str(k))
    )


WHOLE = re.compile(r"(?i)^\s*(full|all|max|maximum|entire|total|everything)\s*$")
RESULT_AMOUNT = re.compile(r"\"(charged|amount_charged|amount_paid|paid|total_charged)\"\s*:\s*(\d+(\.\d+)?)")


def result_amounts(result: str | None) -> list[float]:
    """What the call's own result says it charged (a booking made by quote id carries no amount)."""
    return [float(m.group(2)) for m in RESULT_AMOUNT.finditer((result or "")[:4000])]


# what is left once stated sums are taken off, as what the task pays ("deduct the $180 and send the rest",
# "envia o resto", "den Rest überweisen"): the sum paid is computed from amounts the task did not state, so
# the stated ones bound nothing ("leave the rest of the order alone" pays nothing)
_PAYING = (
    r"(?:send|pay|refund|return|transfer|wire|remit|credit|mail|envia|envía|envie|paga|pague|devolve|devolva|"
    r"devuelve|transfiere|transfere|reembolsa|überweise|überweisen|zahle|zahlen|erstatte|erstatten|schicke|"
    r"envoie|envoyez|rembourse|remboursez|verse|versez|vire|virez|invia|rimborsa|restituisci|stuur|betaal)"
)
# ("send the rest of the complaints to Maria", "return the rest of the stock": the rest of no money)
_OF_MONEY = (
    r"(?!\s+of\s+(?!(?:(?:the|her|his|their|its|my|our|your|this|that)\s+)?"
    r"(?:deposits?|balances?|money|amounts?|sums?|funds?|payments?|refunds?|bond|credit|cash|fees?)\b)[a-z])"
)
REMAINDER = re.compile(
    rf"(?i)\b{_PAYING}\b(?:\W+\w+){{0,3}}?\W+(?:the (?:rest|remainder|remaining (?:amount|balance|sum))\b"
    rf"{_OF_MONEY}"
    r"|what(?:ever)?(?:'s| is) left\b|(?:o|el|le|il|de|den|das|het|lo) (?:resto|reste|rest|restant|restante|"
    r"restbetrag)\b|(?:restbetrag|restbedrag)\b|lo que queda|ce qui reste|quel che resta)"
    r"|(?:den|das) (?:rest|restbetrag)\W+(?:\w+\W+){0,3}?(?:überweisen|zahlen|erstatten|schicken)"
    r"|残り|残额|剩余"
)


def remainder_asked(text: str) -> bool:
    """Whether the task asks to pay what is left after its stated sums (a deposit less a deduction)."""
    return REMAINDER.search(text[:4000]) is not None
