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
