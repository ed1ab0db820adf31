"""Who a record says may receive it: ``authorized_recipients``, ``approved_distribution``, ``permitted_
contacts`` and the like in a tool result, with the files the same record names (a transcript's volumes, a
case's exhibits). A protective order, a data-sharing agreement or a client's instructions put that list in
the record; a send of its files to anyone else is outside it."""

from __future__ import annotations

import posixpath
import re
from typing import Any

import orjson

MAX_ITEMS = 64
_LIST_KEY = re.compile(
    r"(?i)^(?:authori[sz]ed|approved|permitted|allowed)_?(?:recipients?|emails?|contacts?|distribution|"
    r"parties|recipient_emails)$|^distribution_?list$"
)
_HINT = re.compile(r"(?i)authori[sz]ed_?|approved_?|permitted_?|allowed_?|distribution")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_FILE = re.compile(r"^[\w .()-]+\.[A-Za-z0-9]{2,5}$")


def authorized_lists(result: str) -> list[tuple[list[str], list[str]]]:
    """(addresses, file names) of each record in a JSON result that lists who may receive it; the file
    names are the record's own (any string value that looks like a file name, anywhere in the record)."""
    text = result.strip()
    if not text.startswith(("{", "[")) or "@" not in text or _HINT.search(text) is None:
        return []  # (most results: no list of who may receive; told without parsing them)
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    records: list[tuple[list[str], list[str]]] = []
    stack: list[tuple[Any, int]] = [(found, 0)]
    while stack and len(records) < MAX_ITEMS:
        item, depth = stack.pop()
        if isinstance(item, list) and depth < 4:
            stack += [(x, depth + 1) for x in item[:MAX_ITEMS]]
        elif isinstance(item, dict):
            allowed = [
                a.lower()
                for k, v in item.items()
                if _LIST_KEY.match(str(k)) and isinstance(v, list)
                for a in v
                if isinstance(a, str) and _EMAIL.match(a.strip())
            ]
            if allowed:
                records.append((allowed, sorted(set(_file_names(item)))[:MAX_ITEMS]))
            elif depth < 4:
                stack += [(v, depth + 1) for v in item.values() if isinstance(v, list | dict)]
    return records


def _file_names(value: Any, depth: int = 0) -> list[str]:
    if isinstance(value, str):
        return [value.strip().lower()] if _FILE.match(value.strip()) else []
    if isinstance(value, dict) and depth < 4:
        return [f for v in list(value.values())[:MAX_ITEMS] for f in _file_names(v, depth + 1)]
    if isinstance(value, list) and depth < 4:
        return [f for v in value[:MAX_ITEMS] for f in _file_names(v, depth + 1)]
    return []


def base_name(path: str) -> str:
    return posixpath.basename(path.strip().rstrip("/")).lower()
