"""Times outside the contract's range are dead letters, one record at a time (issue 15).

Before: ``9999-12-31T23:59:59-01:00`` (year 10000 in UTC), year 1 with an offset, or an openai-chat
``start_time`` at the edge raised ``OverflowError``: ``chainwatch run`` stopped with a traceback and stored
none of the good records, and the worker dead-lettered the whole batch message. A negative epoch number was
read as milliseconds (pydantic's rule) instead of being refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from detectors.engine import Engine
from schemas.adapters import parse_bytes
from schemas.adapters.base import DeadLetter
from schemas.events import event_from_dict
from schemas.types import EPOCH_UNITS, TIME_RANGE
from streams.cli.main import app
from streams.kafka.wire import decode_dead_letter, encode_events
from tests.test_worker_unit import Harness, call, put, run

runner = CliRunner()
BAD_TIMES = [
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "1969-12-31T23:59:59Z",
    -1,
    -30_000_000_000,  # pydantic read this as milliseconds: 1969-01-18
]


def native(event_id: str, when: object) -> dict[str, object]:
    return {
        "kind": "tool_call",
        "event_id": event_id,
        "event_time": when,
        "source": "native",
        "session_id": "s1",
        "tool": "bash",
        "action": "ls",
    }


@pytest.mark.parametrize("when", BAD_TIMES, ids=str)
def test_an_out_of_range_time_is_a_dead_letter_with_its_reason(when: object) -> None:
    data = json.dumps([native("good-1", "2026-01-01T00:00:00Z"), native("bad", when)]).encode()
    parsed = list(parse_bytes(data, "t.json", "native"))
    assert [p.event_id for p in parsed if not isinstance(p, DeadLetter)] == ["good-1"]
    [letter] = [p for p in parsed if isinstance(p, DeadLetter)]
    assert "out of range" in letter.reason and "event_time" in letter.reason


def test_chainwatch_run_keeps_every_good_record_around_bad_times(tmp_path: Path) -> None:
    records = [native("good-1", "2026-01-01T00:00:00Z")]
    records += [native(f"bad-{i}", when) for i, when in enumerate(BAD_TIMES)]
    records.append(native("good-2", "2026-01-01T00:00:05Z"))
    chat = {  # openai-chat: the messages get start_time + n seconds, past the last representable instant
        "messages": [
            {"role": "user", "content": "list files"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c1", "function": {"name": "ls", "arguments": "{}"}}],
            },
        ],
        "metadata": {"session_id": "edge", "start_time": "9999-12-31T23:59:59Z"},
    }
    native_file, chat_file = tmp_path / "events.jsonl", tmp_path / "chat.jsonl"
    native_file.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    chat_file.write_text(json.dumps(chat), encoding="utf-8")
    db = tmp_path / "cw.duckdb"
    result = runner.invoke(app, ["run", str(native_file), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    chat_run = runner.invoke(
        app, ["run", str(chat_file), "--format", "openai-chat", "--db", str(db), "--json"]
    )
    assert chat_run.exit_code == 0, chat_run.output
    with duckdb.connect(str(db), read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
        reasons = [r[0] for r in con.execute("SELECT reason FROM dead_letters").fetchall()]
    assert {"good-1", "good-2"} <= stored
    assert len(reasons) >= len(BAD_TIMES) + 1
    assert all("out of range" in r for r in reasons), reasons


def test_the_worker_dead_letters_the_record_not_the_batch() -> None:
    async def scenario() -> None:
        h = Harness(Engine([]))
        good = [call("sess-1", n, "ListUsers", {}) for n in range(3)]
        bad = json.dumps(native("late", "9999-12-31T23:59:59-01:00")).encode()
        value = encode_events(good[:2]) + b"\n" + bad + b"\n" + encode_events(good[2:])
        async with h.topo.ingest_agent.test_context() as agent:
            counts = await put(h, agent, value, partition=0, key=b"batch")
        assert counts.events == 3 and counts.dead_letters == 1 and counts.errors == 0
        [letter] = [decode_dead_letter(m.value) for m in h.to(h.names["dead_letters"])]
        assert letter.record_no == 3 and "out of range" in letter.reason

    run(scenario)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1_767_225_600, datetime(2026, 1, 1, tzinfo=UTC)),  # seconds
        (1_767_225_600_000, datetime(2026, 1, 1, tzinfo=UTC)),  # milliseconds
        (1_767_225_600_000_000, datetime(2026, 1, 1, tzinfo=UTC)),  # microseconds
        (1_767_225_600_000_000_000, datetime(2026, 1, 1, tzinfo=UTC)),  # nanoseconds
        ("1767225600", datetime(2026, 1, 1, tzinfo=UTC)),  # a numeric string follows the same rule
    ],
)
def test_epoch_units_follow_one_documented_rule(number: object, expected: datetime) -> None:
    assert event_from_dict(native("e", number)).event_time == expected
    assert [limit for limit, _ in EPOCH_UNITS][:3] == [1e11, 1e14, 1e17]


def test_the_range_is_stated_in_the_reason() -> None:
    with pytest.raises(ValueError, match=TIME_RANGE):
        event_from_dict(native("e", -5))
