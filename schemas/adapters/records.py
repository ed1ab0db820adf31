"""Reading JSON input records strictly (issue 15): a size cap per record and no duplicate keys.

A record over the cap is refused before it is turned into an event (a 50 MB record used to be stored, at
760 MB of memory). A JSON object that repeats a key is refused too: parsers disagree on which value wins
(orjson and Python keep the last, others the first), so the detectors and an analyst reading the raw log
could see different tool names.

Finding duplicates costs almost nothing on the common path: orjson keeps the last value of a repeated key,
so serialising what it parsed gives fewer key/value separators (``:``) than the input had. Only when the
counts differ (or the value is too deep to serialise) is the input read again with Python's parser, which
reports the repeated keys and the records that hold them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# CHAINWATCH_MAX_RECORD_BYTES. 4 MiB: real agent logs carry single events well over 1 MiB (an OpenHands
# browser observation with its screenshot), and the receiver's body cap is the same; far below what would
# strain memory (the cap exists against 50 MB records, issue 15).
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
RECORD_LIMIT_FIX = "split the record or raise CHAINWATCH_MAX_RECORD_BYTES"
DUPLICATE_KEY_FIX = "send each key once per object"
# A colon escaped as \u003a in the input is a plain ':' once serialised: count those too.
_ESCAPED_COLONS = (b"\\u003a", b"\\u003A")


class _Duplicates(dict[str, Any]):
    """An object that repeated a key (only built on the slow path)."""

    repeated: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    repeated = []
    for key, value in pairs:
        if key in seen:
            repeated.append(key)
        seen[key] = value
    if not repeated:
        return seen
    marked = _Duplicates(seen)
    marked.repeated = repeated
    return marked


def may_repeat_keys(raw: bytes, value: Any) -> bool:
    """False when ``value`` (orjson's reading of ``raw``) certainly lost no repeated key."""
    if not isinstance(value, dict | list):
        return False
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # deeper than orjson writes: take the slow path
        return True
    expected = raw.count(b":")
    if b"\\u003" in raw:  # one search spares two counts on the common line
        expected += sum(raw.count(e) for e in _ESCAPED_COLONS)
    return written.count(b":") != expected


def repeated_keys(raw: bytes) -> list[Any] | str | None:
    """Python's reading of ``raw`` with repeated keys marked: the parsed value, or why it cannot be read
    (nested too deeply for Python's parser). Only for the slow path."""
    try:
        parsed: Any = json.loads(raw, object_pairs_hook=_pairs)
    except RecursionError:
        return "nested too deeply to check for repeated keys"
    except ValueError:
        return None
    return [parsed]


def first_repeated(value: Any) -> str | None:
    """The first repeated key inside a value read by :func:`repeated_keys` (iterative walk)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Duplicates):
            return item.repeated[0]
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def own_repeated(value: Any) -> str | None:
    """A key repeated in this very object (not in the objects inside it)."""
    return value.repeated[0] if isinstance(value, _Duplicates) else None


def duplicate_reason(key: str) -> str:
    return (
        f"key {key!r} appears twice in one JSON object: readers disagree on which value counts, so "
        "chainwatch refuses the record"
    )


def oversize_reason(size: int, limit: int) -> str:
    return f"record of {size:,} bytes is over the {limit:,}-byte limit"
