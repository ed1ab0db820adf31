"""Data marked as held, and deletes that reach it (``destructive.held_data_deleted``).

A note beside the data (``LEGAL_HOLD.txt``, a ``README`` in ``_hold/``, a bucket object) says in plain
words that what is there must be kept: under a legal or evidence hold, until someone releases it, not to
be deleted. ``marks_in`` finds those words (``data/holds.yml``, several languages, accents folded);
``covers`` tells whether a delete's path reaches a marked path (the same path, or a folder or prefix above
it) without the line leaving it out by name (``--exclude``, ``grep -v``, ``! -path``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from detectors.provenance.languages import fold

TABLE = Path(__file__).with_name("data") / "holds.yml"
_PATHLIKE = re.compile(r"^(?:/|~/|[a-z][a-z0-9+.-]{1,9}://[\w.-]+|[A-Za-z]:\\)")
_OFF = re.compile(r"[\"']?\s*[:=]\s*[\"']?(?:false|no|none|null|off|0)\b")
PATH_KEYS_DEPTH = 2  # how deep argument mappings are searched for paths


@cache
def _pattern() -> re.Pattern[str]:
    table: dict[str, list[str]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    phrases = sorted({fold(p) for words in table.values() for p in words}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"[\s_-]+") for p in phrases) + r")")


def marks_in(text: str) -> str | None:
    """The first hold mark in ``text`` (folded), if any."""
    if not text:
        return None
    text = text[:20_000]
    folded = text.lower() if text.isascii() else fold(text)  # (most results: ASCII, nothing to fold)
    for found in _pattern().finditer(folded):
        if not _OFF.match(folded, found.end()):  # ``"legal_hold": false`` marks nothing
            return found.group(0)
    return None


def paths_in(arguments: dict[str, Any], depth: int = 0) -> list[str]:
    """Path-like string values of the arguments (``/srv/x``, ``s3://bucket/key``)."""
    found: list[str] = []
    for value in arguments.values():
        if isinstance(value, str) and _PATHLIKE.match(value) and "\n" not in value:
            found.append(value)
        elif isinstance(value, dict) and depth < PATH_KEYS_DEPTH:
            found += paths_in(value, depth + 1)
    return found


def _root(path: str) -> str:
    """The folder or prefix a delete names, without a trailing glob or slash (``/srv/data/*``)."""
    return re.sub(r"[/*]+$", "", path) or "/"


def covers(deleted: str, held: str, line: str) -> bool:
    """Whether deleting ``deleted`` (as ``line`` does) reaches ``held``, a marked path."""
    root, target = _root(deleted), _root(held)
    if target == root:
        return True  # the held path itself
    if not target.startswith(root + "/") and root != "/":
        return False
    below = [part for part in target[len(root) :].split("/") if part]
    # a line that leaves something out by name (``--exclude``, ``! -path``, ``-not``, ``grep -v``) and names
    # a part of the held path leaves it out
    return not (_LEAVES_OUT.search(line) and any(part in line for part in below))


_LEAVES_OUT = re.compile(r"--exclude|\s!\s|\s-not\s|grep\s+-\w*v|-prune|--ignore|--skip")
