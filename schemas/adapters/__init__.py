"""Source adapters: pure functions from a real format's bytes to events and dead letters.

Each adapter module has ``NAME``, ``looks_like(first_record) -> bool`` and
``parse(data: bytes, origin: str, *, max_record_bytes: int) -> Iterator[Parsed]``; records are read with
``base.split_records``, which enforces the record size cap and refuses repeated JSON keys.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from schemas.adapters import cloudtrail, mcp, native, openai_chat, openhands, otlp
from schemas.adapters.base import DeadLetter, Parsed, split_records
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import UnknownFormat, UnreadableInput

ADAPTERS: dict[str, ModuleType] = {
    module.NAME: module for module in (native, openai_chat, openhands, cloudtrail, otlp, mcp)
}
FORMATS = tuple(ADAPTERS)
# Formats whose records are independent JSON lines: a big input can be parsed block by block
# (``parse_block``) instead of read whole. The others are documents, or (MCP) pair lines with each other.
LINE_FORMATS = frozenset({native.NAME})

__all__ = [
    "ADAPTERS",
    "FORMATS",
    "LINE_FORMATS",
    "DeadLetter",
    "Parsed",
    "check_input",
    "detect_format",
    "parse_block",
    "parse_bytes",
    "read_input",
]

STDIN = "-"


def read_input(path: str) -> bytes:
    """The bytes of one input: a file, or standard input for '-'."""
    if path == STDIN:
        return sys.stdin.buffer.read()
    check_input(path)
    return Path(path).read_bytes()


def check_input(path: str) -> None:
    """Raise :class:`UnreadableInput` unless ``path`` is '-' or an existing file (not a folder)."""
    if path == STDIN:
        return
    file = Path(path)
    if file.is_dir():
        raise UnreadableInput(
            f"{path} is a folder, not a file; give the files in it (e.g. {file / '*.jsonl'}) or '-' for stdin"
        )
    if not file.is_file():
        raise UnreadableInput(
            f"{path}: no such file; give a path to a JSON / JSON-lines file or '-' for stdin"
        )


def detect_format(data: bytes, origin: str = "input") -> str:
    """Recognise the format from the first readable record."""
    head = data.lstrip()[:1]
    if head == b"{" and b'"Records"' in data[:4096]:
        return cloudtrail.NAME
    for record in split_records(data, unwrap_key="Records"):
        if record.error is not None:
            continue
        for module in (native, cloudtrail, openai_chat, openhands, otlp, mcp):
            if module.looks_like(record.value):
                return str(module.NAME)
        break
    raise UnknownFormat(
        f"{origin}: could not recognise the format from its first record; "
        f"pass --format with one of: {', '.join(FORMATS)}"
    )


def parse_bytes(
    data: bytes, origin: str, fmt: str | None = None, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Parsed]:
    """Events and dead letters of one input, in input order; a record over ``max_record_bytes`` or with a
    repeated JSON key is a dead letter (``schemas/adapters/records.py``)."""
    name = fmt or detect_format(data, origin)
    if name not in ADAPTERS:
        raise UnknownFormat(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}")
    parsed: Iterator[Parsed] = ADAPTERS[name].parse(data, origin, max_record_bytes=max_record_bytes)
    return parsed


def parse_block(
    data: bytes,
    origin: str,
    fmt: str,
    *,
    first_record: int,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[Parsed]:
    """Events and dead letters of a block of whole lines cut from a bigger input of a line format
    (:data:`LINE_FORMATS`), whose first line is record ``first_record`` of that input."""
    if fmt not in LINE_FORMATS:
        raise UnknownFormat(f"{fmt!r} is not read block by block; one of: {', '.join(sorted(LINE_FORMATS))}")
    parsed: Iterator[Parsed] = native.parse(
        data, origin, max_record_bytes=max_record_bytes, first_record=first_record
    )
    return parsed
