"""Deterministic identifiers: replaying the same input yields the same ids, so sinks can upsert."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson


def stable_hash(*parts: str, length: int = 32) -> str:
    """A hex digest over the parts, separated so that ("ab", "c") and ("a", "bc") differ."""
    digest = hashlib.blake2b(digest_size=length // 2)
    for part in parts:
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def record_id(source: str, record: Any) -> str:
    """Id for a source record that carries none of its own: a hash of its canonical JSON."""
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return f"{source}:{stable_hash(canonical)}"


def finding_id(detector_id: str, key: str, event_ids: Iterable[str]) -> str:
    """Same detector, same key, same triggering events: same finding, however often it is replayed."""
    return stable_hash(detector_id, key, *sorted(event_ids))
