"""What every adapter shares: reading JSON containers, dead letters, and pydantic errors made readable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from schemas.adapters.records import (
    DEFAULT_MAX_RECORD_BYTES,
    DUPLICATE_KEY_FIX,
    RECORD_LIMIT_FIX,
    duplicate_reason,
    first_repeated,
    may_repeat_keys,
    oversize_reason,
    own_repeated,
    repeated_keys,
)
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent
from schemas.redaction import redact_text, redact_value
from schemas.secret_memory import KNOWN_SECRETS
from schemas.types import TIME_RANGE, as_contract_time, epoch_to_datetime

MAX_DEAD_LETTER_RAW = 65536  # bytes of the original record kept with a dead letter


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input that could not become an event, kept with the reason instead of being dropped."""

    origin: str
    record_no: int | None
    stage: str
    reason: str
    raw: str

    def __post_init__(self) -> None:
        # Dead letters are stored and forwarded like events: secrets in them are redacted too (the reason
        # may quote a value from the record).
        # with the secrets the session read last in this context remembered (its own, in from_error)
        with KNOWN_SECRETS.last_session():
            object.__setattr__(self, "raw", redact_text(self.raw[:MAX_DEAD_LETTER_RAW]))
            object.__setattr__(self, "reason", redact_text(self.reason))

    @classmethod
    def from_error(cls, error: InvalidRecord, raw: Any, stage: str = "parse") -> DeadLetter:
        # redacted with the secrets its record's session taught (schemas/secret_memory), or, where the record
        # names none, those of the session the adapter read last: the one this record failed in
        session_id = raw.get("session_id") if isinstance(raw, dict) else None
        with KNOWN_SECRETS.session(session_id) if session_id else KNOWN_SECRETS.last_session():
            return cls(
                origin=error.origin,
                record_no=error.record_no,
                stage=stage,
                reason=error.describe(),
                raw=_raw_text(_redacted_record(raw)),
            )


def _redacted_record(raw: Any) -> Any:
    """A parsed record redacted like an event (key names, name/value pairs) before it becomes text: the
    text pass in ``__post_init__`` alone would keep ``{"pwd": "…"}``."""
    if isinstance(raw, dict | list):
        try:
            return redact_value(raw)
        except RecursionError:  # nested deeper than Python recurses: _raw_text keeps only the reason
            return raw
    return raw


def _raw_text(raw: Any) -> str:
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw
    else:
        try:
            text = orjson.dumps(raw, default=str).decode()
        except TypeError:  # nested deeper than orjson writes (255 levels): keep the reason, not the record
            text = f"(a {type(raw).__name__} nested too deeply to keep as text)"
    return text[:MAX_DEAD_LETTER_RAW]


Parsed = AnyEvent | DeadLetter


class RawRecord(NamedTuple):
    """One record of an input: its position (1-based) and either its value or why it is unreadable. (A named
    tuple, not a frozen dataclass: one is made per record, and a frozen dataclass is three times the cost.)"""

    record_no: int
    value: Any
    error: str | None = None
    raw: str = ""
    fix: str | None = None  # for a refused record: what to do (default: "each line must be one JSON value")
    line: bytes | None = None  # a record read from one JSON line: that line's text (its value's source)


def split_records(
    data: bytes,
    *,
    unwrap_key: str | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    first_record: int | None = None,
) -> Iterator[RawRecord]:
    """Records of a JSON array, a JSON object (optionally unwrapping ``unwrap_key``) or JSON lines.

    A whole-document parse is tried first; if it fails the input is read as JSON lines, so one bad
    line costs one record, not the file. A record over ``max_record_bytes`` (serialised) or with a
    repeated key in any of its objects comes out as an unreadable record with the reason.

    ``first_record``: ``data`` is a block of JSON lines from inside a larger input (a replay reads big
    inputs block by block) whose first line is that record of the input; no document parse is tried.
    """
    stripped = data.strip()
    if not stripped:
        return
    if first_record is not None:
        yield from _line_records(stripped, first_record, max_record_bytes)
        return
    if stripped[:1] in (b"[", b"{"):
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            document = None
        else:
            if isinstance(document, list | dict):
                yield from _document_records(stripped, document, unwrap_key, max_record_bytes)
                return
    yield from _line_records(stripped, 1, max_record_bytes)


def _line_records(stripped: bytes, first: int, max_record_bytes: int) -> Iterator[RawRecord]:
    for number, line in enumerate(stripped.splitlines(), first):
        line = line.strip()
        if not line:
            continue
        if len(line) > max_record_bytes:
            yield _oversized(number, line, len(line), max_record_bytes)
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            text = line.decode("utf-8", "replace")
            yield RawRecord(number, None, error=f"not valid JSON: {exc}", raw=text)
            continue
        problem = _repeated_key_problem(line, value) if may_repeat_keys(line, value) else None
        if problem is not None:
            yield RawRecord(number, None, error=problem, raw=_redacted_raw(value), fix=DUPLICATE_KEY_FIX)
        else:
            yield RawRecord(number, value, line=line)


def _document_records(
    raw: bytes, document: list[Any] | dict[str, Any], unwrap_key: str | None, limit: int
) -> Iterator[RawRecord]:
    unwrap: str | None = None
    if isinstance(document, dict) and unwrap_key and isinstance(document.get(unwrap_key), list):
        unwrap = unwrap_key
    items: list[Any] = document if isinstance(document, list) else document[unwrap] if unwrap else [document]
    problems: list[str | None] = [None] * len(items)
    if may_repeat_keys(raw, document):
        problems = _repeated_keys_per_item(raw, unwrap, len(items))
    whole_small = len(raw) <= limit
    for number, (item, problem) in enumerate(zip(items, problems, strict=True), 1):
        if problem is not None:
            yield RawRecord(number, None, error=problem, raw=_redacted_raw(item), fix=DUPLICATE_KEY_FIX)
            continue
        if not whole_small:
            size = _serialised_size(item)
            if size > limit:
                yield _oversized(number, item, size, limit)
                continue
        yield RawRecord(number, item)


def _repeated_keys_per_item(raw: bytes, unwrap_key: str | None, count: int) -> list[str | None]:
    """Slow path: which records of a document hold a repeated key (all of them if the document's own
    wrapper object repeats one, or it cannot be checked)."""
    slow = repeated_keys(raw)
    if isinstance(slow, str):
        return [slow] * count
    if slow is None:
        return [None] * count
    (document,) = slow
    wrapper_key = own_repeated(document) if not isinstance(document, list) and unwrap_key else None
    if wrapper_key is not None:
        return [duplicate_reason(wrapper_key)] * count
    checked = document if isinstance(document, list) else document[unwrap_key] if unwrap_key else [document]
    problems: list[str | None] = []
    for item in checked[:count]:
        key = first_repeated(item)
        problems.append(duplicate_reason(key) if key is not None else None)
    return problems + [None] * (count - len(problems))


def _repeated_key_problem(raw: bytes, value: Any) -> str | None:
    slow = repeated_keys(raw)
    if isinstance(slow, str):
        return slow
    if slow is None:
        return None
    key = first_repeated(slow[0])
    return duplicate_reason(key) if key is not None else None


def _serialised_size(item: Any) -> int:
    try:
        return len(orjson.dumps(item))
    except orjson.JSONEncodeError:  # deeper than orjson writes: the contract refuses it anyway
        return 0


def _oversized(number: int, item: Any, size: int, limit: int) -> RawRecord:
    head = item[:4096].decode("utf-8", "replace") if isinstance(item, bytes) else _raw_text(item)[:4096]
    return RawRecord(number, None, error=oversize_reason(size, limit), raw=head, fix=RECORD_LIMIT_FIX)


def _redacted_raw(item: Any) -> str:
    return _raw_text(_redacted_record(item))


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic error as (field path, message)."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first.get("loc", ())) or "(record)"
    return path, str(first.get("msg", "invalid"))


def parse_time(value: Any, *, field: str) -> datetime:
    """ISO-8601 strings or epoch numbers (unit by magnitude: ``schemas.types.EPOCH_UNITS``) as an aware UTC
    datetime inside the contract's range; anything else is an InvalidRecord naming the field."""
    fix = f"give an ISO-8601 timestamp (or epoch seconds/milliseconds) from {TIME_RANGE}"
    try:
        if isinstance(value, datetime):
            return as_contract_time(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return epoch_to_datetime(float(value))
        if isinstance(value, str) and value:
            text = value.strip().replace("Z", "+00:00")
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError as exc:
                raise InvalidRecord(
                    f"unreadable time {value!r}", field=field, fix="use ISO-8601, e.g. 2024-08-01T13:33:28Z"
                ) from exc
            return as_contract_time(parsed)
    except (ValueError, OverflowError) as exc:
        raise InvalidRecord(str(exc), field=field, fix=fix) from None
    raise InvalidRecord("missing or empty time", field=field, fix="give an ISO-8601 timestamp")


RecordParser = Callable[[Any, str, int], Iterable[AnyEvent]]


def unreadable(record: RawRecord, origin: str) -> InvalidRecord:
    """The error of a record that is not JSON at all, or was refused (``record.error`` is set)."""
    return InvalidRecord(
        record.error or "unreadable record",
        origin=origin,
        record_no=record.record_no,
        fix=record.fix or "each line must be one JSON value",
    )


def as_dead_letter(
    exc: InvalidRecord
    | ValidationError
    | TypeError
    | ValueError
    | KeyError
    | AttributeError
    | ArithmeticError,
    origin: str,
    record_no: int,
    raw: Any,
    *,
    where: str | None = None,
) -> DeadLetter:
    """The dead letter of a record an adapter could not read, whatever went wrong; ``where`` names the part
    of the record at fault (``event #5 (id 12)``) when one record holds many."""
    if isinstance(exc, InvalidRecord):
        error = exc
        error.origin = error.origin or origin
        error.record_no = error.record_no if error.record_no is not None else record_no
    elif isinstance(exc, ValidationError):
        field, message = describe_validation_error(exc)
        error = InvalidRecord(
            message,
            origin=origin,
            record_no=record_no,
            field=field,
            fix="see the event contract in docs/contract.md",
        )
    else:
        # A record of an unexpected shape (a list where an object belongs, …), or a time or number beyond
        # what Python represents (OverflowError): one record, never the whole input.
        out_of_range = isinstance(exc, ArithmeticError)
        error = InvalidRecord(
            f"{'value out of range' if out_of_range else 'unexpected record shape'}: {exc}",
            origin=origin,
            record_no=record_no,
            fix=f"times must lie from {TIME_RANGE}"
            if out_of_range
            else "check the record against the format",
        )
    if where and not error.reason.startswith(where):
        error.reason = f"{where}: {error.reason}"
    return DeadLetter.from_error(error, raw)


def parse_records(records: Iterable[RawRecord], origin: str, parse_one: RecordParser) -> Iterator[Parsed]:
    """Run ``parse_one`` on each record; anything it cannot read becomes a dead letter, never a crash."""
    return read_records(records, origin, lambda record: parse_one(record.value, origin, record.record_no))


def read_records(
    records: Iterable[RawRecord], origin: str, read: Callable[[RawRecord], Iterable[AnyEvent]]
) -> Iterator[Parsed]:
    """:func:`parse_records` for a reader of whole records (one that needs more than the value: its line)."""
    for record in records:
        if record.error is not None:
            yield DeadLetter.from_error(unreadable(record, origin), record.raw)
            continue
        try:
            yield from list(read(record))
        except (
            InvalidRecord,
            ValidationError,
            TypeError,
            ValueError,
            KeyError,
            AttributeError,
            ArithmeticError,
        ) as exc:
            yield as_dead_letter(exc, origin, record.record_no, record.value)


# Argument keys naming what a tool call acts on, in order of preference (first present wins).
TARGET_KEYS: tuple[str, ...] = (
    "url",
    "uri",
    "path",
    "file_path",
    "filepath",
    "file",
    "filename",
    "resource",
    "resource_id",
    "arn",
    "reservation_id",
    "order_id",
    "booking_id",
    "ticket_id",
    "user_id",
    "account",
    "account_id",
    "recipient",
    "to",
    "email",
    "repo",
    "repository",
    "bucket",
    "table",
    "database",
    "host",
    "hostname",
    "domain",
)


def target_of(arguments: Mapping[str, Any]) -> str | None:
    """The first non-empty scalar under a key that names what a call acts on (top-level keys only)."""
    for key in TARGET_KEYS:
        value = arguments.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None
