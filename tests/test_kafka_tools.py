"""The producer's batching and the loader's decoding/commit order, without a broker."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.adapters.base import DeadLetter
from schemas.alerts import Alert, ChainSummary, Finding
from schemas.events import AnyEvent, SessionEvent, ToolCall
from schemas.types import Maturity, SessionAction, Severity
from streams.kafka import loader as loader_module
from streams.kafka.loader import (
    EXIT_AFTER_DB_COMMIT_ENV,
    Loader,
    Record,
    add_record,
    build_batch,
    commit_offsets,
    write_isolating,
)
from streams.kafka.producer import (
    OutMessage,
    Packer,
    ProduceReport,
    iter_inputs,
    partition_for,
    produce,
)
from streams.kafka.wire import decode_events, encode_dead_letter, encode_events, encode_model
from streams.settings import Settings
from streams.simulator.workload import simulate_events
from streams.store.database import Batch, Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def call(session: str, n: int, **extra: Any) -> ToolCall:
    return ToolCall(
        event_id=f"{session}-{n}",
        event_time=T0 + timedelta(seconds=n),
        source="test",
        session_id=session,
        tool="bash",
        action="exec",
        **extra,
    )


def events_of(messages: list[OutMessage]) -> list[AnyEvent]:
    out: list[AnyEvent] = []
    for message in messages:
        parsed = decode_events(message.value, "test")
        assert all(not isinstance(p, DeadLetter) for p in parsed)
        out.extend(p for p in parsed if not isinstance(p, DeadLetter))
    return out


# -- partitioning and packing


def test_partition_for_is_kafkas_default_partitioner() -> None:
    # Values of the Java client's Utils.murmur2 (toPositive(murmur2(key)) % n) for these keys.
    from kafka.partitioner.default import DefaultPartitioner

    class Cluster:
        def topics(self) -> set[str]:
            return {"t"}

        def partitions_for_topic(self, topic: str) -> set[int]:
            return set(range(12))

        available_partitions_for_topic = partitions_for_topic

    for key in (b"", b"a", b"session-1", b"sim-7-s00042", "ünïcode".encode()):
        assert partition_for(key, 12) == DefaultPartitioner().partition("t", None, key, None, None, Cluster())


def test_message_value_is_the_wire_encoding() -> None:
    events = [call("s1", i) for i in range(5)]
    packer = Packer(1, max_events=100, max_bytes=1_000_000)
    for event in events:
        packer.add(event)
    [message] = packer.drain()
    assert message.value == encode_events(events)
    assert message.events == 5 and message.sessions == ("s1",) and message.key == b"s1"


def test_sessions_of_one_partition_share_messages_and_keep_their_order() -> None:
    events = simulate_events(seed=3, sessions=40)
    packer = Packer(4, max_events=500, max_bytes=10_000_000)
    for event in events:
        assert packer.add(event) is None
    messages = packer.drain()
    # every session's events in one partition, in input order
    by_session: dict[str, list[str]] = {}
    partition_of: dict[str, set[int]] = {}
    for message in messages:
        for event in events_of([message]):
            by_session.setdefault(event.session_id, []).append(event.event_id)
            partition_of.setdefault(event.session_id, set()).add(message.partition)
            assert partition_for(event.session_id.encode(), 4) == message.partition
        # the key routes to the partition the message is sent to
        assert partition_for(message.key, 4) == message.partition
        assert message.events <= 500
    expected: dict[str, list[str]] = {}
    for event in events:
        expected.setdefault(event.session_id, []).append(event.event_id)
    assert by_session == expected
    assert all(len(p) == 1 for p in partition_of.values())
    # small sessions are combined: far fewer messages than sessions, and messages are full but the last
    assert len(messages) < len(expected)
    per_partition = Counter(m.partition for m in messages)
    full = sum(1 for m in messages if m.events == 500)
    assert full >= len(messages) - len(per_partition)
    # events of a session are contiguous inside a message (grouped by session, not interleaved)
    for message in messages:
        seen = [e.session_id for e in events_of([message])]
        runs = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
        assert len(runs) == len(set(runs)) == len(message.sessions)


def test_byte_cap_splits_messages_and_a_too_big_event_is_dead_lettered() -> None:
    events = [call("s1", i, result_summary="x" * 1000) for i in range(10, 30)]  # equal sizes
    size = len(encode_events(events[:1]))
    packer = Packer(3, max_events=1000, max_bytes=size * 5 + 4)  # five lines and their separators
    for event in events:
        assert packer.add(event) is None
    huge = call("s1", 99, arguments={"blob": "y" * (size * 6)})
    letter = packer.add(huge)
    assert letter is not None and letter.stage == "produce" and "over the" in letter.reason
    messages = packer.drain()
    assert [m.events for m in messages] == [5, 5, 5, 5]
    assert all(len(m.value) <= size * 5 + 4 for m in messages)
    assert [e.event_id for e in events_of(messages)] == [e.event_id for e in events]


def test_event_cap_splits_long_sessions_across_consecutive_messages() -> None:
    packer = Packer(2, max_events=3, max_bytes=10_000_000)
    for i in range(7):
        packer.add(call("long", i))
    packer.add(call("short", 0))
    messages = packer.drain()
    long_partition = partition_for(b"long", 2)
    together = partition_for(b"short", 2) == long_partition
    sizes = {p: [m.events for m in messages if m.partition == p] for p in {m.partition for m in messages}}
    if together:  # the short session fills the long one's last message
        assert sizes == {long_partition: [3, 3, 2]}
        assert messages[-1].sessions == ("long", "short") and messages[-1].key == b"long"
    else:
        assert sizes == {long_partition: [3, 3, 1], 1 - long_partition: [1]}
    assert packer.pending == 0 and packer.drain() == []


@dataclass
class FakeSink:
    """Stands in for EventProducer: records what would be sent."""

    settings: Settings = field(default_factory=Settings)
    n_partitions: int = 4
    sent: list[OutMessage] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    flushed: int = 0

    def partitions(self) -> int:
        return self.n_partitions

    def send(self, message: OutMessage) -> None:
        self.sent.append(message)

    def send_dead_letter(self, letter: DeadLetter) -> None:
        self.dead.append(letter)

    def flush(self) -> None:
        self.flushed += 1


def test_produce_sends_every_event_and_every_dead_letter(tmp_path: Path) -> None:
    events = simulate_events(seed=5, sessions=25)
    lines = [e.model_dump_json(exclude_none=True) for e in events]
    lines.insert(10, '{"kind": "tool_call", "event_id": 12}')  # wrongly typed
    lines.insert(20, '{"kind": "tool_ca')  # truncated
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines))
    missing = tmp_path / "missing.jsonl"
    report = ProduceReport()
    sink = FakeSink()
    produce(
        iter_inputs([str(path), str(missing)], None, report),
        sink,  # type: ignore[arg-type]
        max_events=300,
        window_events=1000,
        report=report,
    )
    assert report.events == len(events) == sum(m.events for m in sink.sent)
    assert sorted(e.event_id for e in events_of(sink.sent)) == sorted(e.event_id for e in events)
    assert report.dead_letters == 2 == len(sink.dead)
    assert {d.record_no for d in sink.dead} == {11, 21}
    assert report.inputs[0].records == len(lines) and report.inputs[0].format == "native"
    assert report.inputs[1].error and "no such file" in report.inputs[1].error
    assert report.failed_inputs == [report.inputs[1]]
    assert report.sessions == 25 and sink.flushed == 1
    # windows of 1000 events: a session that spans windows stays on one partition, in order
    order: dict[str, list[str]] = {}
    for event in events_of(sink.sent):
        order.setdefault(event.session_id, []).append(event.event_id)
    for session_id, ids in order.items():
        assert ids == [e.event_id for e in events if e.session_id == session_id]


def test_unknown_format_is_reported_not_sent(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text('{"something": "else"}\n')
    report = ProduceReport()
    sink = FakeSink()
    produce(iter_inputs([str(path)], None, report), sink, max_events=10, report=report)  # type: ignore[arg-type]
    assert report.inputs[0].error and "--format" in report.inputs[0].error
    assert sink.sent == [] and sink.dead == []


# -- loader decoding


def alert(n: int = 1) -> Alert:
    return Alert(
        alert_id=f"a{n}",
        detector_id="privilege.escalation_chain",
        key_kind="session",
        key="s1",
        session_id="s1",
        severity=Severity.CRITICAL,
        risk_score=90.0,
        title="t",
        event_ids=("e1", "e2"),
        first_seen=T0,
        last_seen=T0,
    )


def finding(n: int = 1) -> Finding:
    return Finding(
        finding_id=f"f{n}",
        detector_id="privilege.escalation_chain",
        maturity=Maturity.STABLE,
        key="s1",
        session_id="s1",
        severity=Severity.HIGH,
        risk_score=50.0,
        title="t",
        event_ids=("e1",),
        first_seen=T0,
        last_seen=T0,
    )


def chain(count: int, closed: bool = False) -> ChainSummary:
    return ChainSummary(
        session_id="s1",
        started_at=T0,
        last_event_at=T0,
        event_count=count,
        tool_calls=count,
        distinct_tools=1,
        distinct_targets=0,
        closed=closed,
    )


ROLES = {"ev": "events", "dlq": "dead_letters", "fi": "findings", "al": "alerts", "ch": "chains"}


def rec(
    topic: str,
    offset: int,
    value: bytes | None,
    partition: int = 0,
    headers: tuple[tuple[str, bytes | None], ...] = (),
) -> Record:
    return Record(topic, partition, offset, value, headers)


def test_events_topic_keeps_only_valid_events() -> None:
    good = [call("s1", 1), call("s1", 2)]
    value = encode_events(good) + b'\n{"kind": "tool_call"}\nnot json'
    batch = Batch()
    add_record(batch, "events", rec("ev", 0, value))
    add_record(batch, "events", rec("ev", 1, None))
    assert [e.event_id for e in batch.events] == ["s1-1", "s1-2"]
    assert batch.dead_letters == []  # the worker dead-letters those; the DLQ topic brings them


def test_each_output_topic_decodes_into_its_table() -> None:
    letter = DeadLetter("agent-events/0@5", 2, "parse", "bad", "{}")
    records = [
        rec("dlq", 0, encode_dead_letter(letter)),
        rec("fi", 0, encode_model(finding())),
        rec("al", 0, encode_model(alert(1))),
        rec("al", 1, b"[" + encode_model(alert(2)) + b"," + encode_model(alert(3)) + b"]"),
        rec("ch", 0, encode_model(chain(3))),
        rec("ch", 1, None),  # a tombstone: nothing
    ]
    batch = build_batch(records, ROLES)
    assert batch.dead_letters == [letter]
    assert [f.finding_id for f in batch.findings] == ["f1"]
    assert [a.alert_id for a in batch.alerts] == ["a1", "a2", "a3"]
    assert [c.event_count for c in batch.chains] == [3]


def test_undecodable_output_records_become_load_dead_letters() -> None:
    records = [
        rec("al", 7, b'{"alert_id": "x"}'),
        rec("fi", 8, b"\xff\xfe garbage"),
        rec("dlq", 9, b"[1, 2]"),
        rec("dlq", 10, None),
        rec("ch", 11, orjson.dumps({**orjson.loads(encode_model(chain(1))), "event_count": "many"})),
    ]
    batch = build_batch(records, ROLES)
    assert batch.alerts == [] and batch.findings == [] and batch.chains == []
    assert len(batch.dead_letters) == 5
    assert all(d.stage == "load" for d in batch.dead_letters)
    assert {d.origin for d in batch.dead_letters} == {"al/0@7", "fi/0@8", "dlq/0@9", "dlq/0@10", "ch/0@11"}
    assert "Alert" in batch.dead_letters[0].reason and "field" in batch.dead_letters[0].reason


def test_events_the_worker_dead_letters_are_not_stored_and_ingest_time_is_the_record_time() -> None:
    good = call("s1", 1)
    big = call("s1", 2, arguments={"blob": "z" * 5000})
    value = encode_events([good, big])
    record = Record("ev", 0, 3, value, (), timestamp=1_767_603_600_123)
    batch = Batch()
    add_record(batch, "events", record, max_event_bytes=4000)
    assert [e.event_id for e in batch.events] == ["s1-1"]  # the worker drops the 5 kB one (over its limit)
    assert batch.events[0].ingest_time == datetime(2026, 1, 5, 9, 0, 0, 123000, tzinfo=UTC)
    unknown = Record("ev", 0, 4, value, (("chainwatch-format", b"no-such-format"),))
    add_record(batch, "events", unknown)
    assert len(batch.events) == 1  # the worker dead-letters the whole message


def test_format_header_is_honoured_on_the_events_topic() -> None:
    trail = orjson.dumps(
        {
            "Records": [
                {
                    "eventVersion": "1.08",
                    "eventTime": "2026-01-05T09:00:00Z",
                    "eventSource": "iam.amazonaws.com",
                    "eventName": "CreateUser",
                    "awsRegion": "us-east-1",
                    "eventID": "ct-1",
                    "userIdentity": {
                        "type": "AssumedRole",
                        "arn": "arn:aws:sts::1:assumed-role/agent/s1",
                        "accessKeyId": "ASIAEXAMPLE",
                        "sessionContext": {},
                    },
                    "requestParameters": {"userName": "x"},
                }
            ]
        }
    )
    batch = Batch()
    add_record(batch, "events", rec("ev", 0, trail, headers=(("chainwatch-format", b"cloudtrail"),)))
    assert len(batch.events) == 1 and batch.events[0].source == "cloudtrail"


def test_commit_offsets_are_the_next_offset_per_partition() -> None:
    records = [rec("ev", 4, b"", 0), rec("ev", 9, b"", 0), rec("ev", 2, b"", 1), rec("al", 0, b"", 0)]
    assert commit_offsets(records) == {("ev", 0): 10, ("ev", 1): 3, ("al", 0): 1}


def test_write_isolating_dead_letters_only_the_row_that_cannot_be_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path / "db.duckdb") as store:
        real_write = store.write

        def picky(batch: Batch) -> None:
            if any(a.alert_id == "a2" for a in batch.alerts):
                raise ValueError("cannot convert")
            real_write(batch)

        monkeypatch.setattr(store, "write", picky)
        failed = write_isolating(store, Batch(alerts=[alert(1), alert(2), alert(3)], events=[call("s1", 1)]))
        assert [f.origin for f in failed] == ["load:alert:a2"]
        counts = store.counts()
        assert counts["alerts"] == 2 and counts["events"] == 1 and counts["dead_letters"] == 1


# -- the loader's loop, with a fake consumer


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp: int = 1_767_603_600_000


def drive(coroutine: Any) -> None:
    """Run a listener coroutine that awaits only completed futures (as the IO thread would)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise AssertionError("the coroutine waited on something unfinished")


class FakeConsumer:
    def __init__(self, log: list[str], polls: list[list[FakeRecord]], fail_commits: int = 0) -> None:
        self.log = log
        self.polls = polls
        self.fail_commits = fail_commits
        self.committed: dict[tuple[str, int], int] = {}
        self.closed = False
        self.assigned: set[Any] = {("agent-events", 0)}
        self.subscriptions = 0

    def assignment(self) -> set[Any]:
        return self.assigned

    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: 0 for tp in partitions}  # nothing unread

    def position(self, tp: Any, timeout_ms: int | None = None) -> int:
        return 0

    def unsubscribe(self) -> None:
        self.log.append("unsubscribe")

    def subscribe(self, topics: list[str], listener: Any) -> None:
        self.subscriptions += 1
        self.assigned = {("agent-events", 0)}
        drive(listener.on_partitions_assigned(self.assigned))

    def commit_async(self, offsets: dict[Any, Any]) -> Any:
        from kafka.future import Future

        self.log.append(
            "commit_async " + ",".join(f"{tp.topic}/{tp.partition}={o.offset}" for tp, o in offsets.items())
        )
        for tp, o in offsets.items():
            self.committed[(tp.topic, tp.partition)] = o.offset
        return Future().success(None)

    def poll(self, timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        if not self.polls:
            return {}
        records = self.polls.pop(0)
        self.log.append(f"poll {len(records)}")
        return {("x", 0): records} if records else {}

    def commit(self, offsets: dict[Any, Any], timeout_ms: int | None = None) -> None:
        from kafka.errors import NodeNotReadyError

        if self.fail_commits:
            self.fail_commits -= 1
            self.log.append("commit failed")
            raise NodeNotReadyError("broker restarting")
        self.log.append(
            "commit " + ",".join(f"{tp.topic}/{tp.partition}={o.offset}" for tp, o in offsets.items())
        )
        for tp, o in offsets.items():
            self.committed[(tp.topic, tp.partition)] = o.offset

    def close(self, autocommit: bool = True) -> None:
        assert autocommit is False
        self.closed = True


def make_loader(tmp_path: Path, consumer: FakeConsumer, log: list[str], **kw: Any) -> Loader:
    settings = Settings()
    loader = Loader(
        settings, tmp_path / "db.duckdb", on_batch=lambda b: log.append(f"db commit {len(b)}"), **kw
    )
    loader._connect = lambda: consumer  # type: ignore[method-assign]
    loader.joined = True  # as if the group had assigned partitions
    return loader


def event_record(offset: int, *events: AnyEvent, partition: int = 0) -> FakeRecord:
    return FakeRecord("agent-events", partition, offset, encode_events(list(events)))


def test_offsets_are_committed_after_the_database_commit(tmp_path: Path) -> None:
    log: list[str] = []
    polls = [
        [event_record(0, call("s1", 1), call("s1", 2)), event_record(1, call("s1", 3))],
        [FakeRecord("agent-alerts", 2, 0, encode_model(alert()))],
    ]
    consumer = FakeConsumer(log, polls)
    loader = make_loader(tmp_path, consumer, log, until_idle=0.3, batch_records=3)
    stats = loader.run()
    # two polls fill the batch of 3 records; one transaction; then the commit of both partitions
    assert log == ["poll 2", "poll 1", "db commit 4", "commit agent-events/0=2,agent-alerts/2=1"]
    assert consumer.committed == {("agent-events", 0): 2, ("agent-alerts", 2): 1}
    assert consumer.closed
    assert stats.records == Counter({"events": 2, "alerts": 1})
    with Store(tmp_path / "db.duckdb", read_only=True) as store:
        assert store.counts()["events"] == 3 and store.counts()["alerts"] == 1


def test_a_failed_offset_commit_is_retried_and_rows_are_not_lost(tmp_path: Path) -> None:
    log: list[str] = []
    polls = [[event_record(0, call("s1", 1))], [], [], []]
    consumer = FakeConsumer(log, polls, fail_commits=1)
    loader = make_loader(tmp_path, consumer, log, until_idle=0.5, batch_records=1)
    stats = loader.run()
    assert stats.commit_failures == 1
    assert log.index("db commit 1") < log.index("commit failed") < log.index("commit agent-events/0=1")
    assert consumer.committed == {("agent-events", 0): 1}


def test_stop_finishes_the_current_batch(tmp_path: Path) -> None:
    log: list[str] = []
    consumer = FakeConsumer(log, [[event_record(0, call("s1", 1))]])
    loader = make_loader(tmp_path, consumer, log, batch_records=100, batch_seconds=60)
    original_poll = consumer.poll

    def poll_then_stop(timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        result = original_poll(timeout_ms, max_records)
        loader.stop()  # as SIGTERM would, while a batch is pending
        return result

    consumer.poll = poll_then_stop  # type: ignore[method-assign]
    loader.run()
    assert log == ["poll 1", "db commit 1", "commit agent-events/0=1"]


def test_exit_hook_leaves_offsets_uncommitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    consumer = FakeConsumer(log, [[event_record(0, call("s1", 1))]])
    monkeypatch.setenv(EXIT_AFTER_DB_COMMIT_ENV, "1")

    def fake_exit(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr("os._exit", fake_exit)
    loader = make_loader(tmp_path, consumer, log, until_idle=0.2, batch_records=1)
    with pytest.raises(SystemExit) as exited:
        loader.run()
    assert exited.value.code == loader_module.EXIT_AFTER_DB_COMMIT_CODE
    assert log == ["poll 1", "db commit 1"] and consumer.committed == {}
    assert os.environ[EXIT_AFTER_DB_COMMIT_ENV] == "1"


def test_the_database_must_not_be_open_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    from streams.kafka.topics import KafkaUnavailable

    def locked(*_: Any, **__: Any) -> None:
        raise duckdb.IOException("Could not set lock on file")

    monkeypatch.setattr(loader_module, "Store", locked)
    with pytest.raises(KafkaUnavailable, match="only process"):
        Loader(Settings(), tmp_path / "db.duckdb").run()


def test_session_event_roundtrip_through_a_message() -> None:
    start = SessionEvent(event_id="x", event_time=T0, source="t", session_id="s", action=SessionAction.START)
    packer = Packer(1, max_events=10, max_bytes=10_000)
    packer.add(start)
    [message] = packer.drain()
    assert events_of([message]) == [start]


def test_until_idle_waits_for_the_first_group_join(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    consumer = FakeConsumer(log, [])
    monkeypatch.setattr(loader_module, "JOIN_GRACE_SECONDS", 0.6)
    loader = make_loader(tmp_path, consumer, log, until_idle=0.1)
    loader.joined = False
    started = time.monotonic()
    loader.run()
    assert time.monotonic() - started >= 0.7


def test_a_broker_outage_during_poll_is_waited_out(tmp_path: Path) -> None:
    from kafka.errors import KafkaConnectionError

    log: list[str] = []
    consumer = FakeConsumer(log, [[event_record(0, call("s1", 1))], [], [event_record(1, call("s1", 2))]])
    original_poll = consumer.poll
    failures = iter([True, True, False, False, False, False])

    def flaky_poll(timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        if next(failures, False):
            log.append("poll failed")
            raise KafkaConnectionError("111 ECONNREFUSED")
        return original_poll(timeout_ms, max_records)

    consumer.poll = flaky_poll  # type: ignore[method-assign]
    loader = make_loader(tmp_path, consumer, log, until_idle=0.3, batch_records=1)
    stats = loader.run()
    assert stats.kafka_errors == 2
    assert log[:2] == ["poll failed", "poll failed"]
    assert consumer.committed == {("agent-events", 0): 2}


def test_a_stalled_consumer_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kafka-python 3.0 can lose a group join and then fetch nothing, silently: the watchdog notices that
    partitions have unread records while nothing arrives, and joins again with a new consumer."""
    log: list[str] = []
    stuck = FakeConsumer(log, [[], [], []])
    stuck.end_offsets = lambda partitions: {tp: 1 for tp in partitions}  # type: ignore[method-assign]
    stuck.position = lambda tp, timeout_ms=None: 0  # type: ignore[method-assign]
    fresh = FakeConsumer(log, [[event_record(0, call("s1", 1))]])
    consumers = iter([stuck, fresh])
    monkeypatch.setattr(loader_module, "STALL_SECONDS", 0.0)
    loader = make_loader(tmp_path, stuck, log, until_idle=0.3, batch_records=1)

    def connect() -> FakeConsumer:
        log.append("connect")
        loader.joined = True
        return next(consumers)

    loader._connect = connect  # type: ignore[method-assign]
    stats = loader.run()
    assert stats.reconnects == 1 and log.count("connect") == 2 and stuck.closed
    assert fresh.committed == {("agent-events", 0): 1}


def test_a_rebalance_stores_and_commits_the_pending_records_first(tmp_path: Path) -> None:
    from streams.kafka.loader import _Rebalance

    log: list[str] = []
    consumer = FakeConsumer(log, [[event_record(0, call("s1", 1))]])
    loader = make_loader(tmp_path, consumer, log, batch_records=100, batch_seconds=60)
    original_poll = consumer.poll

    def poll_then_rebalance(timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        result = original_poll(timeout_ms, max_records)
        if not result:  # the second poll: the group rebalances inside it
            drive(_Rebalance(loader).on_partitions_revoked({("agent-events", 0)}))
            loader.stop()
        return result

    consumer.poll = poll_then_rebalance  # type: ignore[method-assign]
    loader.run()
    assert log == ["poll 1", "db commit 1", "commit_async agent-events/0=1"]
    assert consumer.committed == {("agent-events", 0): 1}


def test_register_adds_produce_load_and_topics() -> None:
    import typer
    from typer.testing import CliRunner

    from streams.cli.kafka import register

    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command, as on the real CLI
    register(app)
    runner = CliRunner()
    listed = runner.invoke(app, ["--help"]).output
    assert all(name in listed for name in ("produce", "load", "topics"))
    assert "create" in runner.invoke(app, ["topics", "--help"]).output
    wrong = runner.invoke(app, ["produce", "x.jsonl", "--format", "yaml"])
    assert wrong.exit_code == 2 and "choose one of" in wrong.output
