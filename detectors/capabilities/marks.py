"""Records a task picks by a mark — "the test envelopes, they all start with TEST-", "the bookings under
the name TEST", "the schedules with COPY in the title" — and which records a session saw with and without
it.

The mark is a literal the user gives (quoted, in capitals, or with a digit or a dash), read after the
words that pick by it: starts/begins with, prefixed, under the name, named/called/titled "…", with X in
the title/name/subject. A result is read row by row (the objects of a JSON list, else the lines of a
table or listing); a row's id is its first id-like value (an ``id`` key, else its first token with a digit
that is not a date or a time), and the row is *marked* when its text holds the mark, whatever the case.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import orjson

from detectors.capabilities.classify import scalars
from detectors.capabilities.selection import DATE_OR_SPAN, IDENTIFIER

_OPEN, _CLOSE = "[\"'\u201c\u2018]", "[\"'\u201d\u2019]"  # straight and curly quotes
_LITERAL = rf"{_OPEN}?(?P<mark>[^\s\"'\u201d\u2019,;:]{{2,30}}?){_CLOSE}?"
_PICKS = (
    re.compile(rf"(?i)\b(?:start|begin)(?:s|ing)?\s+with\s+{_LITERAL}(?=[\s,;:.!?)]|$)"),
    re.compile(rf"(?i)\b(?:prefixed|suffixed)\s+(?:with\s+|by\s+)?{_LITERAL}(?=[\s,;:.!?)]|$)"),
    re.compile(rf"(?i)\b(?:under|with)\s+the\s+name\s+{_LITERAL}(?=[\s,;:.!?)]|$)"),
    re.compile(
        rf"(?i)\b(?:named|called|titled|labell?ed)\s+{_OPEN}(?P<mark>[^\"'\u201d\u2019]{{2,30}}){_CLOSE}"
    ),
    re.compile(
        rf"(?i)\b(?:with|having|have|has|carry|carrying)\s+{_LITERAL}\s+in\s+(?:the|their|its)\s+"
        r"(?:title|name|subject|file\s*name|description)"
    ),
)
_ID_KEY = re.compile(r"(?i)^(id|uuid|key|number|no|[a-z]+(_id|Id|_no|_number|_uuid))$")
_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
MAX_ROWS = 400
_JSON_START = re.compile(r"\s*(?:\{\s*\"|\[\s*[{\[\"])")


@functools.lru_cache(maxsize=1024)
def mark_of(task: str) -> str | None:
    """The literal mark the task picks its records by, or None."""
    for pick in _PICKS:
        for match in pick.finditer(task):
            mark = match.group("mark").strip(".")
            quoted = match.group(0).rstrip()[-1:] in "\"'\u201d\u2019"
            if len(mark) >= 2 and (quoted or mark.isupper() or re.search(r"[\d_-]", mark)):
                return mark
    return None


def _row_id(row: Any) -> str | None:
    if isinstance(row, dict):
        return next(
            (str(v) for k, v in row.items() if _ID_KEY.match(str(k)) and isinstance(v, str | int)), None
        )
    tokens: list[str] = re.findall(r"[\w-]{3,64}", str(row))
    return next(
        (t for t in tokens if IDENTIFIER.match(t) and not DATE_OR_SPAN.match(t) and not _TIME.match(t)), None
    )


def _rows(result: str) -> Iterator[tuple[Any, str]]:
    """(row, its text) of a result: a JSON list's objects (at any of the first three levels), else lines."""
    parsed = _json(result)
    if isinstance(parsed, dict | list):
        yield from _objects(parsed, 0)
        return
    if _JSON_START.match(result):  # JSON cut short past saving: its lines (``"id": 900,``) are no rows
        return
    for line in result[:20000].splitlines()[:MAX_ROWS]:
        yield line, line


def _json(result: str) -> Any:
    """The JSON of a result, or of what a cut left of it: up to one of its last objects' ends, closed."""
    try:
        return orjson.loads(result)
    except orjson.JSONDecodeError:
        if not _JSON_START.match(result):
            return None
    end = len(result)
    for _ in range(4):
        if (end := result.rfind("}", 0, end)) < 0:
            return None
        for tail in ("]", "]}", "}]", "}", "]}}", "}]}"):
            try:
                return orjson.loads(result[: end + 1] + tail)
            except orjson.JSONDecodeError:
                continue
    return None


def _objects(value: Any, depth: int) -> Iterator[tuple[Any, str]]:
    items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
    for item in items[:MAX_ROWS]:
        if isinstance(item, dict) and any(_ID_KEY.match(str(k)) for k in item):
            yield item, orjson.dumps(item).decode()
        elif depth < 2 and isinstance(item, dict | list):
            yield from _objects(item, depth + 1)


def rows_by_mark(result: str, mark: str) -> tuple[set[str], set[str]]:
    """The ids of a result's rows that hold the mark, and of those that do not."""
    marked: set[str] = set()
    unmarked: set[str] = set()
    needle = mark.lower()
    for row, text in _rows(result):  # (whole: a JSON listing cut at 20,000 characters would not parse)
        if (row_id := _row_id(row)) is not None:
            (marked if needle in text.lower() else unmarked).add(row_id)
    return marked - unmarked, unmarked - marked


def values_in(arguments: Any) -> Iterator[str]:
    """Every scalar of the arguments (the classifier's bounded walk) as text, and the words in it (a path's
    id, an SQL statement's)."""
    for _, value in scalars(arguments):
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value)
            yield text
            yield from re.findall(r"[\w-]{3,64}", text[:4000])  # (``/admin/api-keys/key_01HV8Q``: the key)


# a statement that deletes by setting a state: ``UPDATE bookings SET status='cancelled' …``,
# ``SET deleted_at = NOW()``, ``SET is_deleted = true`` (a soft delete: gone for everyone who reads them)
_SOFT_DELETE = re.compile(
    r"(?is)\bupdate\b[^;]{0,300}?\bset\b[^;]{0,300}?\b(?:status|state)\s*=\s*'(?:cancel+ed|void(?:ed)?|deleted|"
    r"removed|archived)'|\bupdate\b[^;]{0,300}?\bset\b[^;]{0,300}?\b(?:is_)?(?:deleted|voided|cancel+ed)(?:_at)?\s*="
    r"\s*(?:true|1|now\(\)|current_timestamp)"
)


def soft_deletes(arguments: dict[str, object]) -> bool:
    """Whether a statement in the call's arguments deletes by setting a state (a soft delete)."""
    return any(isinstance(v, str) and _SOFT_DELETE.search(v[:4000]) for v in arguments.values())
