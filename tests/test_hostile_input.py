"""Hostile input, property-based: every adapter (whatever `schemas.adapters.FORMATS` lists, so adapters
added later are covered without touching this file) and the rule-file loader.

The properties:
- arbitrary bytes, arbitrary JSON records and real records mutated (a key deleted, a value replaced by
  another type, an oversized string, deep nesting, a broken byte, a truncation) never raise anything but
  chainwatch's own errors (schemas/errors.py; for the rule loader detectors.rules.RuleError);
- nothing is lost: every input record comes out as at least one event or a dead letter that names it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.rules import RuleError, load_rule_file
from schemas.adapters import ADAPTERS, FORMATS
from schemas.adapters.base import DeadLetter, split_records
from schemas.errors import ChainwatchError
from schemas.events import ToolCall, _Event
from streams.simulator.workload import simulate_events
from tests.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
SHARED = SHARED_DATA
FIXTURES = REPO / "tests" / "fixtures"
# CI replays a fixed set of examples (a red build is reproducible); local runs explore new ones each time.
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() in {"true", "1", "yes"},
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- seeds: real records per format


def _records_of(path: Path) -> list[Any]:
    return [r.value for r in split_records(path.read_bytes(), unwrap_key="Records") if r.error is None]


def _seed_files(fmt: str) -> list[Path]:
    names = {fmt, fmt.replace("-", "_"), fmt.split("-")[0]}
    files = [p for name in names for p in sorted((FIXTURES / name).glob("*.json*"))]
    if fmt == "cloudtrail" and SHARED.is_dir():
        files += sorted((SHARED / "cloudtrail" / "stratus-red-team").glob("*.json"))[:6]
    if fmt == "openai-chat" and SHARED.is_dir():
        files += sorted((SHARED / "transcripts").rglob("*.json"))[:1]
    return files


def seed_records(fmt: str) -> list[Any]:
    """Real records of ``fmt``: project fixtures, the shared public data, the simulator (native)."""
    records: list[Any] = []
    for path in _seed_files(fmt):
        records += [r for r in _records_of(path) if isinstance(r, dict)][:40]
    if fmt == "native":
        records += [orjson.loads(e.model_dump_json()) for e in simulate_events(seed=4, sessions=6)][:80]
    return records


SEEDS = {fmt: seed_records(fmt) for fmt in FORMATS}

# --------------------------------------------------------------------------- strategies

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=25,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:8]):
            yield from _paths(item, (*prefix, index))


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if not rest and delete:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


def _nested(depth: int, leaf: Any) -> Any:
    """A placeholder that :func:`_dumps` turns into ``depth`` levels of JSON nesting (deeper than
    orjson and the standard json module serialise, up to and past orjson's 1024-level read limit)."""
    return f"\x00nest:{depth}:{json.dumps(leaf)}\x00"


def _nested_text(depth: int, leaf_json: str) -> str:
    return (
        '{"a":' * (depth // 2)
        + "[" * (depth - depth // 2)
        + leaf_json
        + "]" * (depth - depth // 2)
        + "}" * (depth // 2)
    )


def _dumps(value: Any) -> bytes:
    """JSON bytes of ``value`` with each nesting placeholder expanded."""
    import re

    text = json.dumps(value, ensure_ascii=False)
    pattern = re.compile(r'"\\u0000nest:(\d+):(.*?)\\u0000"')

    def expand(match: re.Match[str]) -> str:
        return _nested_text(int(match.group(1)), json.loads('"' + match.group(2) + '"'))

    return pattern.sub(expand, text).encode("utf-8", "surrogatepass")


@st.composite
def mutated_record(draw: st.DrawFn, fmt: str) -> bytes:
    """A real record of ``fmt`` with one or two hostile changes, as the bytes of one JSON line."""
    seeds = SEEDS[fmt]
    record: Any = draw(st.sampled_from(seeds)) if seeds else draw(JSON_VALUES)
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(list(_paths(record))))
        how = draw(st.sampled_from(["delete", "retype", "oversize", "nest", "empty", "unicode"]))
        if how == "delete" and path:
            record = _replace(record, path, None, delete=True)
        elif how == "retype":
            record = _replace(record, path, draw(JSON_VALUES))
        elif how == "oversize":
            record = _replace(record, path, "A" * draw(st.integers(70_000, 300_000)))
        elif how == "nest":
            record = _replace(record, path, _nested(draw(st.integers(50, 1100)), "x"))
        elif how == "empty":
            record = _replace(record, path, draw(st.sampled_from(["", [], {}, 0, None])))
        else:
            record = _replace(record, path, draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1)))
    data = _dumps(record)
    damage = draw(st.sampled_from(["none", "none", "byte", "truncate", "latin1"]))
    if damage == "byte" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\\u", b'"'])) + data[at + 1 :]
    elif damage == "truncate" and len(data) > 1:
        data = data[: draw(st.integers(1, len(data) - 1))]
    elif damage == "latin1":
        data = data.replace(b"a", "\u00e4".encode("latin-1"), 3)  # wrongly encoded text
    return data


# --------------------------------------------------------------------------- the properties


def parse_all(fmt: str, data: bytes) -> list[Any]:
    """Run the adapter; only chainwatch's own errors may come out of it."""
    try:
        out = list(ADAPTERS[fmt].parse(data, "fuzz"))
    except ChainwatchError:
        return []
    for item in out:
        assert isinstance(item, (_Event, DeadLetter)), type(item)
        if isinstance(item, DeadLetter):
            assert item.reason and item.origin == "fuzz", item
    return out


def _mcp_protocol_chatter(value: Any, data: bytes) -> bool:
    """A JSON-RPC request other than tools/call, or a notification: the mcp adapter turns only tools/call
    (and tools/list once answered) into events and documents that it ignores the rest (docs/telemetry.md);
    a lone request without its response is therefore not an event."""
    message = value.get("message", value) if isinstance(value, dict) else None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False  # not a JSON-RPC message at all: the adapter must dead-letter it, not skip it
    method = message.get("method")
    return (isinstance(method, str) and method != "tools/call") or (method is None and "id" not in message)


def _otlp_not_agent_action(value: Any, data: bytes) -> bool:
    """OTLP exports whose spans and log records are not agent actions (chat, embeddings, api_request, other
    programs' logs, empty containers): the otlp adapter skips them by design (docs/telemetry.md)."""
    holds_records = any(
        key in ("spans", "logRecords") and isinstance(child, list) and child for key, child in _items(value)
    )
    return not holds_records or not any(
        marker in data for marker in (b"execute_tool", b"tools/call", b"claude_code.", b"invoke_agent")
    )


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of a JSON value, at any depth (iterative: mutated records nest deeply)."""
    stack = [value]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for key, child in pairs:
            yield str(key), child
            stack.append(child)


# Records an adapter skips on purpose (documented), so zero output for them is not a loss.
IGNORED_BY_DESIGN = {"mcp": _mcp_protocol_chatter, "otlp": _otlp_not_agent_action}


def assert_accounted(fmt: str, data: bytes) -> None:
    """One record in: at least one event, or a dead letter naming record 1.

    An empty container (``[]``, ``{"Records": []}``, ``{"resourceSpans": []}``) holds no record, so
    nothing can be lost from it.
    """
    out = parse_all(fmt, data)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = None
    empty_container = value == [] or (isinstance(value, dict) and list(value.values()) == [[]])
    if empty_container and not out:  # e.g. {"Records": []}, {"resourceLogs": []}
        return
    if not out and fmt in IGNORED_BY_DESIGN and IGNORED_BY_DESIGN[fmt](value, data):
        return
    letters = [o for o in out if isinstance(o, DeadLetter)]
    events = [o for o in out if not isinstance(o, DeadLetter)]
    assert events or any(d.record_no in (1, None) for d in letters), (
        f"{fmt}: a record vanished without an event or a dead letter: {data[:300]!r}"
    )


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_raise_nothing_unexpected(fmt: str, data: bytes) -> None:
    parse_all(fmt, data)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(record=JSON_VALUES)
def test_arbitrary_json_records_are_events_or_dead_letters(fmt: str, record: Any) -> None:
    data = orjson.dumps(record)
    if data.strip() in (b"", b'""'):
        return
    assert_accounted(fmt, data)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(st.data())
def test_mutated_real_records_are_events_or_dead_letters(fmt: str, data: st.DataObject) -> None:
    line = data.draw(mutated_record(fmt))
    if not line.strip():
        return
    assert_accounted(fmt, line)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_has_real_seed_records(fmt: str) -> None:
    """The mutation property is only as good as its seeds: each format must have real records."""
    if not SHARED.is_dir() and fmt in ("cloudtrail", "openai-chat") and not _seed_files(fmt):
        pytest.skip("shared data folder missing")
    assert SEEDS[fmt], f"no seed records for {fmt}: add fixtures under tests/fixtures/{fmt}/"


@pytest.mark.parametrize("fmt", FORMATS)
def test_many_bad_records_in_one_input_each_come_out(fmt: str) -> None:
    """A JSON-lines input of N hostile records: every record number is an event source or a dead letter."""
    lines = [b"{", b"[]", b"42", b'"text"', b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}", b"\xff\xfe"]
    seeds = SEEDS[fmt]
    if seeds:
        lines.insert(2, orjson.dumps(seeds[0]))
    out = parse_all(fmt, b"\n".join(lines))
    named = {d.record_no for d in out if isinstance(d, DeadLetter)}
    hostile_numbers = [i for i, line in enumerate(lines, 1) if seeds == [] or line != orjson.dumps(seeds[0])]
    assert set(hostile_numbers) <= named, (fmt, named)


def test_deeply_nested_arguments_are_a_dead_letter_not_a_crash() -> None:
    """orjson reads 1024 levels but writes 255, and redaction recurses: deep arguments must stop at the
    adapter (found by the mutation property: a RecursionError in redaction, a TypeError in the store)."""
    tool_call = next(e for e in simulate_events(seed=2, sessions=1) if isinstance(e, ToolCall))
    for depth, expected in ((20, ToolCall), (300, DeadLetter), (900, DeadLetter)):
        record = orjson.loads(tool_call.model_dump_json())
        record["arguments"] = {"payload": _nested(depth, "deep")}
        (out,) = parse_all("native", _dumps(record))
        assert isinstance(out, expected), (depth, out)
        if isinstance(out, DeadLetter):
            assert "nested deeper than" in out.reason and "arguments" in out.reason


# --------------------------------------------------------------------------- the rule-file loader


def _rule_seeds() -> list[str]:
    # (``data/`` folders hold tables detectors read, not rules: the registry skips them too)
    return [p.read_text() for p in sorted((REPO / "detectors").rglob("*.yml")) if "data" not in p.parts]


RULE_SEEDS = _rule_seeds()


@st.composite
def mutated_rule(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(RULE_SEEDS))
    how = draw(st.sampled_from(["structure", "truncate", "garbage", "retype"]))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if how == "garbage":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=30)) + text[at:]
    data = yaml.safe_load(text)
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    if how == "structure" and path:
        data = _replace(data, path, None, delete=True)
    else:
        data = _replace(data, path, draw(JSON_VALUES))
    return yaml.safe_dump(data) if not isinstance(data, str) else data


def load_rule_text(tmp: Path, text: str) -> None:
    path = tmp / "fuzz_rule.yml"
    path.write_text(text, encoding="utf-8")
    try:
        load_rule_file(path)
    except (RuleError, ChainwatchError) as exc:
        assert str(exc), "an error must say what is wrong"
        assert "fuzz_rule.yml" in str(exc), f"the error must name the file: {exc}"


@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_rule_text_raises_only_rule_errors(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    load_rule_text(tmp_path_factory.mktemp("rules"), text)


@FUZZ
@given(text=mutated_rule())
def test_mutated_real_rules_raise_only_rule_errors(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    load_rule_text(tmp_path_factory.mktemp("rules"), text)


def test_rule_seeds_are_real_rules() -> None:
    assert len(RULE_SEEDS) >= 5
    assert all("id:" in text for text in RULE_SEEDS)


def test_yaml_bombs_are_rule_errors(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    load_rule_text(tmp_path, bomb)
    load_rule_text(tmp_path, "id: x\nsteps: " + _nested_text(3000, "1"))
