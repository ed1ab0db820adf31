"""``native``: JSON lines (or a JSON array) of chainwatch's own event contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemas.adapters.base import Parsed, RawRecord, read_records, split_records
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent, event_from_dict, event_from_line

NAME = "native"


def looks_like(sample: Any) -> bool:
    return (
        isinstance(sample, dict)
        and sample.get("kind") in {"tool_call", "credential", "session"}
        and ("event_id" in sample)
    )


def parse_record(value: Any, origin: str, record_no: int, line: bytes | None = None) -> tuple[AnyEvent]:
    """``line``: the JSON line ``value`` was read from, if it was one (``event_from_line``: redaction's
    pre-scan runs once on its raw text). A tuple, not a generator: one is made per record."""
    if not isinstance(value, dict):
        raise InvalidRecord(
            f"expected a JSON object, got {type(value).__name__}", fix="one event object per line"
        )
    if value.get("kind") not in {"tool_call", "credential", "session"}:
        raise InvalidRecord(
            f"unknown kind {value.get('kind')!r}",
            field="kind",
            fix="kind must be tool_call, credential or session",
        )
    return (event_from_dict(value) if line is None else event_from_line(value, line),)


def _events_of(record: RawRecord) -> tuple[AnyEvent]:
    return parse_record(record.value, "", record.record_no, record.line)


def parse(
    data: bytes,
    origin: str,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    first_record: int | None = None,
) -> Iterator[Parsed]:
    """``first_record``: ``data`` is a block of lines of a bigger input, starting at that record."""
    records = split_records(data, max_record_bytes=max_record_bytes, first_record=first_record)
    return read_records(records, origin, _events_of)
