"""The records a tool result lists and the objects a task names (``scope.wrong_target``): each record of a
listing (an object of a JSON array, else a line of text) by its key — its first identifier, a value with a
digit such as ``p_9Ab4`` or ``889141`` (not a year) — and the names of the task's objects (ids, short ids,
resource names, owners by name), without those the task sets apart ("leave the server room (C-114)")."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import orjson

from detectors.capabilities.environments import PRODUCTION_VALUE, production_names_in
from detectors.capabilities.selection import owners_named, resource_names, short_ids
from detectors.provenance.tokens import tokens_of

# an identifier: a word of 4-40 characters with a digit, not part of a longer dotted or hyphenated word
ID = re.compile(r"(?<![\w.-])(?=[\w-]*\d)[A-Za-z0-9][\w-]{3,40}(?![\w-])")
_YEAR = re.compile(r"^(19|20)\d\d$|^\d{4}-\d\d-\d\d|^\d\d?[-/]\d\d?[-/]\d{2,4}$")  # years and dates
MAX_RESULT = 20_000  # longer results are read on their first characters
# words after which a task names what to leave alone ("but leave C-114", "except the server room"; not
# someone "on leave")
_APART = re.compile(
    r"(?i)(?<!on )\b(leave|leaving|except|excluding|exclude|not|skip|keep|apart from|other than)\b"
)
_APART_REACH = 60  # characters after such a word


@functools.lru_cache(maxsize=1024)
def named_objects(task: str) -> tuple[str, ...]:
    """The task's objects by name, in lower case, as a listing's record would spell them: ids and numbers
    with their kind, short ids, resource names, owners by name; not those after "leave", "except", "not" …
    (narrower than ``breadth.task_objects``, which takes any capitalised name and gives up on "all")."""
    names = [t.split(":", 1)[1] for t in sorted(tokens_of(task)) if t.startswith(("id:", "num:"))]
    names += [*short_ids(task), *resource_names(task), *owners_named(task)]
    apart = [m.end() for m in _APART.finditer(task)]
    lowered = task.lower()
    kept = [
        n for n in dict.fromkeys(x.lower() for x in names if len(x) >= 3)
        if not any(0 <= lowered.find(n, end) - end <= _APART_REACH for end in apart)
    ]  # fmt: skip
    return tuple(kept)


@functools.lru_cache(maxsize=512)
def keyed_records(text: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Every listing of a result (a JSON list of objects, or the lines of a text), as (key, record text
    in lower case) for each of its records that has an identifier."""
    listings = []
    for records, lines in _listings(text[:MAX_RESULT]):
        keyed = []
        for values, record in records:
            key = next((i for i in ID.findall(values) if not _YEAR.match(i)), None)
            # a line of text is a record only when it starts with its key (a table's row, not code or prose)
            if key is not None and not (lines and not record.lstrip().startswith(key)):
                keyed.append((key, record.lower()))
        if keyed:
            listings.append(tuple(keyed))
    return tuple(listings)


def _listings(text: str) -> list[tuple[list[tuple[str, str]], bool]]:
    """The listings of a result, each record as (its values, its text), each listing with whether its
    records are lines of text."""
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        # a document's lines are no records, and its lists are apart (a booking's flights are not its
        # payments): only a list of objects is a listing; a text that does not parse is not read
        try:
            lists = _lists_of_objects(orjson.loads(stripped), 0)
            # (keyed by its values: a field's name with a digit, ``ipv4``, is no record's key)
            return [([(_values(r), orjson.dumps(r).decode()) for r in found], False) for found in lists]
        except orjson.JSONDecodeError:
            return []
    return [([(line, line) for line in text.splitlines() if line.strip()], True)]


def _values(value: Any, depth: int = 0) -> str:
    """A JSON value's scalars, in order, one a line (to a depth: a record's first ones are its key)."""
    if isinstance(value, dict | list) and depth < 4:
        return "\n".join(
            _values(v, depth + 1) for v in (value.values() if isinstance(value, dict) else value)
        )
    return "" if value is None or isinstance(value, bool | dict | list) else str(value)


def _lists_of_objects(value: Any, depth: int) -> Iterator[list[Any]]:
    if depth > 4:
        return
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            yield value
        for v in value:
            yield from _lists_of_objects(v, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _lists_of_objects(v, depth + 1)


def production_records(result: str) -> frozenset[str]:
    """What a result shows as production: named resources and variables
    (``detectors.capabilities.environments.production_names_in``), and the ids of a listing's records whose
    own values say production (``{"id": "ws-9Pz…", "name": "shop-prod", "tags": ["prod"]}``)."""
    lowered = result[:8000].lower()
    if "prod" not in lowered and "prd" not in lowered:
        return frozenset()
    records = {key for rows in keyed_records(result) for key, text in rows if PRODUCTION_VALUE.search(text)}
    return production_names_in(result) | records
