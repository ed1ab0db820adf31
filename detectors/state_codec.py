"""A key's saved state as stored bytes: version 4 (issue 14: state per open session ≤ 2 KB).

Version 4 is the JSON of ``KeyState.to_dict()`` (the form of version 3, unchanged) deflated with a preset
dictionary (``detectors/state_dictionary.py``: names and texts the code fixes, nothing learnt from a
workload), behind a header of six bytes::

    [4] [dictionary id] [CRC-32 of the JSON, 4 bytes big-endian] [raw deflate of the JSON]

Why not zlib's own wrapper: it would spend ten bytes (its header, the dictionary's Adler-32, the data's
Adler-32) and name the dictionary by a checksum only. Here the id says which dictionary to read with (so a
later dictionary cannot silently misread a state written with an earlier one), and the CRC, taken over
the JSON that comes out, catches corrupt bytes, a truncated value and a wrong dictionary alike.
Each state is deflated alone: a table value must be readable alone.

Bytes that begin with ``{`` are the JSON of versions 1-3 and are read as they are.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from importlib import resources
from typing import Any

import orjson

FORM = 4
WRITE_WITH = 1  # the dictionary new states are written with
# Every dictionary ever used, by id -> SHA-256 of its file (detectors/state_dicts/<id>.zdict). Never change
# or drop an entry: states written with it would no longer read. A new dictionary takes a new id.
DICTIONARIES: dict[int, str] = {
    1: "d8aa3da9624326e1053c629e7e9e7278bac5a465e20fe6c4aa4a279a67449b5e",
}
_HEADER = struct.Struct(">BBI")
# zlib's default level and memory: levels 7-9 save ~2 bytes a state for 3-12 % more time, 4 and below cost
# 40+ bytes; a smaller window or memory level costs bytes too (the dictionary must stay within reach)
_LEVEL = 6
_RAW = -15  # raw deflate with a 32 KB window: the header above replaces zlib's


class StateFormError(ValueError):
    """Stored state bytes that cannot be read. ``newer``: a later chainwatch wrote them (the fix is to run
    that version), not damage."""

    def __init__(self, message: str, *, newer: bool = False) -> None:
        super().__init__(message)
        self.newer = newer


def encode(saved: dict[str, Any]) -> bytes:
    """The stored bytes (version 4) of ``KeyState.to_dict()``."""
    text = orjson.dumps(saved)
    deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, _RAW, zlib.DEF_MEM_LEVEL, zdict=_dictionary(WRITE_WITH))
    return _HEADER.pack(FORM, WRITE_WITH, zlib.crc32(text)) + deflate.compress(text) + deflate.flush()


def decode(data: bytes) -> dict[str, Any]:
    """The ``to_dict()`` form (any version) of stored bytes; :class:`StateFormError` if they cannot be
    read — never an empty state."""
    if data[:1] == b"{":
        return _json(data, "JSON state (form 1-3)")
    if len(data) < _HEADER.size:
        raise StateFormError(f"truncated: {len(data)} bytes, fewer than a version-{FORM} header")
    form, dictionary, crc = _HEADER.unpack_from(data)
    if form != FORM:
        raise StateFormError(
            f"form {form} is not one this chainwatch reads (1-{FORM}): written by a newer chainwatch, "
            "or corrupt",
            newer=form > FORM,
        )
    if dictionary not in DICTIONARIES:
        raise StateFormError(
            f"written with dictionary {dictionary}, which this chainwatch does not have (it has "
            f"{sorted(DICTIONARIES)}): a newer chainwatch wrote it, or the bytes are corrupt",
            newer=dictionary > max(DICTIONARIES),
        )
    inflate = zlib.decompressobj(_RAW, zdict=_dictionary(dictionary))
    try:
        text = inflate.decompress(data[_HEADER.size :])
    except zlib.error as exc:
        raise StateFormError(f"corrupt: the deflate stream does not read ({exc})") from None
    if not inflate.eof:
        raise StateFormError(f"truncated: the deflate stream of {len(data)} bytes stops before its end")
    if inflate.unused_data:
        raise StateFormError(f"corrupt: {len(inflate.unused_data)} bytes after the deflate stream")
    if zlib.crc32(text) != crc:
        raise StateFormError("corrupt: the checksum of the state read back does not match")
    return _json(text, "deflated state")


def dictionary(ident: int) -> bytes:
    """The dictionary of this id, checked against its pinned digest (a file edited in place must not
    silently misread the states written with it)."""
    data = (resources.files("detectors") / "state_dicts" / f"{ident}.zdict").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != DICTIONARIES[ident]:
        raise RuntimeError(
            f"detectors/state_dicts/{ident}.zdict is not dictionary {ident} (sha256 {digest}, pinned "
            f"{DICTIONARIES[ident]}): restore the file; a new dictionary takes a new id"
        )
    return data


_dictionary = functools.cache(dictionary)  # read and checked once per process


def _json(text: bytes, what: str) -> dict[str, Any]:
    try:
        saved = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise StateFormError(f"corrupt: the {what} is not JSON ({exc})") from None
    if not isinstance(saved, dict):
        raise StateFormError(f"corrupt: the {what} is a {type(saved).__name__}, not an object")
    return saved
