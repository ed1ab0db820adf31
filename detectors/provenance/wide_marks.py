"""What the records a session sends were selected by (``exfiltration.wider_than_task``): the files made
from a wide selection — 20 or more records, chosen without naming the task's object — and what code or a
packing call derives from them."""

from __future__ import annotations

from typing import Any

from detectors.capabilities.private_data import columns_in
from detectors.provenance.breadth import (
    AGGREGATES,
    MIN_RECORDS,
    file_tokens,
    files_of,
    names_any,
    read_by_name,
    record_count,
    without_comments,
)
from detectors.provenance.tokens import value_tokens

MAX_KEPT = 32  # marked files and linked ids per session
MIN_SHARED = 3  # columns or values code repeats from a wide query: it re-reads the same rows


def remember_wide(
    state: dict[str, Any],
    arguments: dict[str, Any],
    text: str,
    result: str,
    objects: tuple[str, ...],
    makes: bool,
) -> None:
    """Mark the files a call made from a selection of 20 or more records that names none of the task's
    objects (``text``: its arguments' strings; ``makes``: it writes, exports or runs, not only lists), and
    the ids a lookup of an object returned (they name it too)."""
    linked: list[str] = state.get("linked") or []
    tokens = value_tokens(text) | file_tokens(text)
    wide: dict[str, int] = state.get("wide") or {}
    count = record_count(result)
    if count < MIN_RECORDS:  # code re-reading a wide query's rows, or packing a file made from them
        queries = state.get("queries") or ()
        fingerprint = _fingerprint(text, tokens) if queries else set()
        shared = [n for columns, n in queries if len(set(columns) & fingerprint) >= MIN_SHARED]
        packed = [] if AGGREGATES.search(text) else [wide[t] for t in tokens if t in wide]
        count = max([*shared, *packed], default=0)
    elif (
        names_any(objects, without_comments(text))
        or tokens & set(linked)
        or (not makes and read_by_name(objects, text))
    ):
        count = (
            0  # selected by the object (or an id its lookup returned), or a file read that is named for it
        )
    else:
        queries = [*(state.get("queries") or ()), (sorted(_fingerprint(text, tokens))[:12], count)]
        state["queries"] = queries[-4:]
    if count >= MIN_RECORDS and (files := files_of(arguments, result, makes)):
        state["wide"] = dict(list({**wide, **dict.fromkeys(sorted(files), count)}.items())[-MAX_KEPT:])
    if names_any(objects, result[:4000]):  # a lookup of the object: the ids it returned name it too
        ids = sorted(t for t in value_tokens(result[:4000]) if t.startswith(("id:", "num:")))
        state["linked"] = list(dict.fromkeys([*linked, *ids]))[-MAX_KEPT:]


def _fingerprint(text: str, tokens: frozenset[str] | set[str]) -> set[str]:
    """A query's columns and ids (``tokens``: the text's value tokens, read once by the caller)."""
    return columns_in([text]) | {t for t in tokens if t.startswith(("id:", "num:"))}
