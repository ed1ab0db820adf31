"""Places a listing says are shared with other organisations: a Slack Connect channel (``is_ext_shared``,
``connected_orgs``), a Teams shared channel or a group with outside members (``shared_with_external``,
``external_members``). A post there reaches people outside the organisation, whatever its name says."""

from __future__ import annotations

from typing import Any

import orjson

MAX_LISTED = 200  # objects of one result looked at
_FLAGS = frozenset(
    {"is_ext_shared", "is_externally_shared", "shared_with_external", "external", "is_external"}
)
_PARTNERS = frozenset({"connected_orgs", "external_orgs", "external_members", "shared_with_orgs"})
_NAME_KEYS = ("name", "display_name", "displayName", "title")


def outside_places(result: str) -> list[tuple[str, str]]:
    """(id, name) of each place a JSON result lists as shared with another organisation, in its order; the
    id or the name may be empty. Nothing for a result that is no JSON."""
    text = result.strip()
    if not text.startswith(("{", "[")) or "ext" not in text:
        return []
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    places: list[tuple[str, str]] = []
    stack: list[tuple[Any, int]] = [(found, 0)]
    seen = 0
    while stack and seen < MAX_LISTED:
        item, depth = stack.pop(0)
        if isinstance(item, list) and depth < 4:
            stack += [(x, depth + 1) for x in item[:MAX_LISTED]]
        elif isinstance(item, dict):
            seen += 1
            if _shared_outside(item):
                name = next((str(item[k]) for k in _NAME_KEYS if isinstance(item.get(k), str)), "")
                places.append((str(item.get("id") or ""), name))
            elif depth < 4:
                stack += [(v, depth + 1) for v in item.values() if isinstance(v, list | dict)]
    return places


def _shared_outside(item: dict[str, Any]) -> bool:
    return any(item.get(k) is True for k in _FLAGS) or any(
        isinstance(item.get(k), list) and item[k] for k in _PARTNERS
    )
