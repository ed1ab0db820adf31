"""A key's value in a state table: where the worker stood when it last saved the key, and the key's state.

Version 2 (issue 14: state per open session ≤ 2 KB) is one line of JSON, a newline, then the state's stored
bytes (``KeyState.to_bytes()``: version 4, deflated)::

    {"v":2,"p":2,"o":1841,"src":{"agent-events:0":[5120,0]},"seen":1764412345.2,"last":…,"wm":…}\\n<state>

The positions stay JSON, read alone: a redelivery is recognised and the live index rebuilt after a
rebalance without inflating a single state. The state stays bytes, never inside the JSON (base64 would add
a third). Version 1, the whole value as JSON with the state's dict (forms 1-3) under ``state``, is still
read, so that a worker upgraded mid-stream resumes from the changelog; what it saves is version 2.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

import orjson

from detectors.engine import KeyState
from detectors.state_codec import StateFormError

VERSION = 2


@dataclass(frozen=True, slots=True)
class Stored:
    positions: dict[str, Any]  # v, p, o, src, seen, last, wm (docs/streaming.md, "Tables and their values")
    state: bytes | dict[str, Any]  # version 2: the stored bytes; version 1: the to_dict() form

    @classmethod
    def read(cls, raw: bytes) -> Stored:
        """The positions of a table value; its state is read by :meth:`key_state`."""
        head, newline, body = raw.partition(b"\n")
        try:
            positions = orjson.loads(head)
        except orjson.JSONDecodeError as exc:
            raise StateFormError(f"corrupt: the table value's positions are not JSON ({exc})") from None
        if not isinstance(positions, dict) or not isinstance(positions.get("v"), int):
            raise StateFormError("corrupt: the table value does not begin with its positions")
        version = positions["v"]
        if version == 1 and not newline and isinstance(positions.get("state"), dict):
            return cls(positions, positions.pop("state"))
        if version == VERSION and newline:
            return cls(positions, body)
        raise StateFormError(
            f"table value version {version} is not one this chainwatch reads (1-{VERSION}): written by a "
            "newer chainwatch, or corrupt",
            newer=version > VERSION,
        )

    def key_state(self) -> KeyState:
        # version 1's dict through the same checks (once per key: what the worker saves is version 2)
        saved = self.state if isinstance(self.state, bytes) else orjson.dumps(self.state)
        return KeyState.from_bytes(saved)


def encode_value(
    partition: int, offset: int, src: dict[str, Any], seen: float, state: KeyState, saved: bytes
) -> bytes:
    """A table value (version 2) for ``state``, whose stored bytes are ``saved``."""
    positions = {
        "v": VERSION,
        "p": partition,
        "o": offset,
        "src": src,
        "seen": seen,
        "last": state.ctx.last_time,
        "wm": state.max_time,
    }
    return orjson.dumps(positions) + b"\n" + saved


def unreadable(scope: str, key: str, changelog: str, error: StateFormError) -> str:
    """What to log and dead-letter when a key's value cannot be read: the key, why, and the fix."""
    what = f"the saved state of {scope} key {key!r} cannot be read ({error})"
    if error.newer:
        return (
            f"{what}: run the chainwatch that wrote it (or a later one); until then the key's events go to "
            "the dead-letter topic"
        )
    return (
        f"{what}. Its events go to the dead-letter topic until the value is replaced: stop the workers, "
        f"run `chainwatch state forget {scope} {shlex.quote(key)}` (a tombstone with the key "
        f"{orjson.dumps(key).decode()} on {changelog}), and start them again; the key then starts afresh, "
        "without its history"
    )
