"""Which arguments of a call narrow what it acts on — an exclusion, a suppression list, a filter, a
condition — and whether a call's result says it failed (``scope.filter_dropped_on_retry``)."""

from __future__ import annotations

import re
from typing import Any

# argument names that take people or rows out of the act, or keep it to some of them
_NARROWING = re.compile(
    r"(?i)^(?:suppress\w*|exclu\w*|except\w*|omit\w*|skip_?list|block_?list|deny_?list|dnc\w*|do_?not_?\w+|"
    r"filters?|where|predicate|condition|conditions|only\w*|segment_?filter|query_?filter)$"
)
# a result that says the call did not go through: an error object, an HTTP 4xx/5xx, a rejected argument
# (not an empty one: ``{"error": null, "sent": 311}`` went through)
_FAILED = re.compile(
    r"(?i)^\W{0,3}(?:error|failed|exception)\b(?!\"?\s*[:=]\s*(?:(?:null|false|none|0)\b|\"\"|''|\[\]|\{\}))|"
    r"\b[45]\d\d\s+(?:bad request|"
    r"unprocessable|forbidden|not found|conflict|internal server error)\b|\bunknown\s+(?:field|parameter|"
    r"argument|option|column|key)\b|\bunsupported\s+(?:field|parameter|filter|option)\b"
)


def narrowing_keys(arguments: dict[str, Any]) -> list[str]:
    """The names of the call's arguments that narrow it and hold something (not an empty filter, nor a switch
    left off: ``exclude_archived: false`` leaves everyone in)."""
    return sorted(
        str(k)
        for k, v in arguments.items()
        if _NARROWING.match(str(k)) and v is not False and v not in (None, "", [], {}, 0)
    )


def failed(result: str) -> bool:
    return _FAILED.search(result[:400]) is not None
