"""How chainwatch puts events and results on Kafka: one place for every producer and consumer.

A message on the events topic carries one event or a batch: a JSON object, a JSON array, or
NDJSON (one event per line). Values are chainwatch's native contract unless the producer sets the
header ``chainwatch-format`` to another adapter name (cloudtrail, openai-chat), in which case the
bytes go through that adapter. The key is the session id when the producer knows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from pydantic import BaseModel

from schemas.adapters import ADAPTERS, parse_bytes
from schemas.adapters.base import DeadLetter, Parsed
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import ChainwatchError
from schemas.events import AnyEvent, event_to_json, trusted_event_from_json

FORMAT_HEADER = "chainwatch-format"
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # larger values are dead-lettered unread


def encode_events(events: Sequence[AnyEvent]) -> bytes:
    """NDJSON: cheap to write, and one broken line costs one event, not the message."""
    return b"\n".join(event_to_json(e) for e in events)


def decode_events(
    value: bytes | None, origin: str, fmt: str | None = None, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> list[Parsed]:
    """Events and dead letters of one message; never raises on bad input. A record over
    ``max_record_bytes`` or with a repeated JSON key is a dead letter, the rest of the message goes on."""
    if value is None or not value.strip():
        return [DeadLetter(origin, None, "parse", "empty message value; send one event or a batch", "")]
    if len(value) > MAX_MESSAGE_BYTES:
        return [
            DeadLetter(
                origin,
                None,
                "parse",
                f"message of {len(value)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit; "
                "split it into smaller batches",
                value[:4096].decode("utf-8", "replace"),
            )
        ]
    name = fmt if fmt in ADAPTERS else "native"
    try:
        return list(parse_bytes(value, origin, name, max_record_bytes=max_record_bytes))
    except (ChainwatchError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        return [
            DeadLetter(
                origin,
                None,
                "parse",
                f"{type(exc).__name__}: {exc}",
                value[:65536].decode("utf-8", "replace"),
            )
        ]


def decode_internal(value: bytes | None, origin: str) -> list[Parsed]:
    """Events of a message chainwatch produced itself (the repartition topics): NDJSON of events that
    were validated and redacted at ingest, so redaction is not run again. Never raises."""
    if not value:
        return [DeadLetter(origin, None, "detect", "empty internal message", "")]
    parsed: list[Parsed] = []
    for number, line in enumerate(value.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            parsed.append(trusted_event_from_json(line))
        except ValueError as exc:
            parsed.append(
                DeadLetter(
                    origin,
                    number,
                    "detect",
                    f"internal message line {number}: {exc}",
                    line[:65536].decode("utf-8", "replace"),
                )
            )
    return parsed


def encode_model(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return orjson.dumps(
        {
            "origin": letter.origin,
            "record_no": letter.record_no,
            "stage": letter.stage,
            "reason": letter.reason,
            "raw": letter.raw,
        }
    )


def decode_dead_letter(value: bytes) -> DeadLetter:
    data = orjson.loads(value)
    return DeadLetter(
        str(data.get("origin", "")),
        data.get("record_no"),
        str(data.get("stage", "parse")),
        str(data.get("reason", "")),
        str(data.get("raw", "")),
    )
