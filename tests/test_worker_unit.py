"""The faust agents of streams/kafka/topology.py without a broker: ``agent.test_context()`` with the sends
replaced.

Each test builds a fresh app (``build_topology``): faust tables keep their contents for the life of an app.
Nothing leaves the process: ``Topology.send`` records the messages, and each table's ``send_changelog``
records the writes instead of producing to the changelog topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from faust.types import TP, Message
from kafka.partitioner.default import murmur2

from detectors.engine import Engine, KeyState
from schemas.events import CredentialEvent, ToolCall
from schemas.types import CredentialAction
from streams.kafka.skipped import Hole, Positions
from streams.kafka.stored import Stored
from streams.kafka.topology import (
    CONTROL_HEADER,
    SOURCE_HEADER,
    TICK,
    Counts,
    Outgoing,
    Topology,
    build_engine,
    build_topology,
    partition_for,
    repartition_topic,
    split_by_partition,
)
from streams.kafka.wire import decode_dead_letter, decode_events, encode_events
from streams.kafka.worker import with_overrides
from streams.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ESCALATION = [  # tests/cases/privilege/escalation_chain.yml, "user created, made admin and keyed"
    ("CreateUser", {"userName": "backdoor"}),
    (
        "AttachUserPolicy",
        {"userName": "backdoor", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    ("CreateAccessKey", {"userName": "backdoor"}),
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return build_engine(Settings())


def call(
    session: str,
    n: int,
    action: str,
    arguments: dict[str, Any],
    *,
    at: float | None = None,
    credential: str | None = None,
) -> ToolCall:
    return ToolCall(
        event_id=f"{session}-e{n}",
        event_time=T0 + timedelta(seconds=at if at is not None else 10 * n),
        source="native",
        session_id=session,
        agent_id="agent-1",
        tool="iam",
        action=action,
        arguments=arguments,
        environment="prod",
        credential_id=credential,
    )


def escalation(session: str, steps: range = range(3)) -> list[ToolCall]:
    return [call(session, n, *ESCALATION[n]) for n in steps]


class Harness:
    """A topology whose sends and changelog writes are recorded, in one shared journal (to check order)."""

    def __init__(self, engine: Engine, **overrides: Any) -> None:
        settings = with_overrides(Settings(), web_enabled=False, **overrides)
        self.topo: Topology = build_topology(settings, engine)
        self.journal: list[tuple[str, Any]] = []
        self.sent: list[Outgoing] = []
        self.writes: list[tuple[str, int, str, Any]] = []
        self.now = T0.timestamp() + 3600
        self.topo.clock = lambda: self.now
        self.topo.send = self._send  # type: ignore[method-assign]
        # The broker's copy of messages faust might skip: (topic, partition, offset) -> faust Message
        self.broker: dict[tuple[str, int, int], Message] = {}
        self.holes: list[Hole] = []
        self.topo.read_offsets = self._read_offsets  # type: ignore[method-assign]
        for scope, table in self.topo.tables.items():
            table.send_changelog = self._changelog(scope)
        # The agents do not yield, so ``put()`` cannot wait for their result: the handlers report it here.
        self.results: asyncio.Queue[Counts] = asyncio.Queue()
        handle_ingest, handle_detect = self.topo.handle_ingest, self.topo.handle_detect

        async def ingest(message: Any) -> Counts:
            counts = await handle_ingest(message)
            self.results.put_nowait(counts)
            return counts

        async def detect(scope: str, message: Any) -> Counts:
            counts = await handle_detect(scope, message)
            self.results.put_nowait(counts)
            return counts

        self.topo.handle_ingest = ingest  # type: ignore[method-assign]
        self.topo.handle_detect = detect  # type: ignore[method-assign]

    async def _send(self, msg: Outgoing) -> Awaitable[Any]:
        self.sent.append(msg)
        self.journal.append(("send", msg.topic))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    def _read_offsets(self, hole: Hole) -> list[Message]:
        self.holes.append(hole)
        offsets = range(hole.first, hole.last + 1)
        return [m for o in offsets if (m := self.broker.get((hole.topic, hole.partition, o))) is not None]

    def _changelog(self, scope: str) -> Callable[..., Any]:
        def send_changelog(partition: int, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
            self.writes.append((scope, partition, key, value))
            self.journal.append(("write", key))
            return SimpleNamespace(message=SimpleNamespace(partition=partition))

        return send_changelog

    def to(self, topic: str) -> list[Outgoing]:
        return [m for m in self.sent if m.topic == topic]

    def alerts(self, detector_id: str = "privilege.escalation_chain") -> list[dict[str, Any]]:
        decoded = (orjson.loads(m.value) for m in self.to(self.names["alerts"]))
        return [a for a in decoded if a["detector_id"] == detector_id]

    def clear(self) -> None:
        self.sent.clear()
        self.writes.clear()
        self.journal.clear()

    @property
    def names(self) -> dict[str, str]:
        return self.topo.names


async def put(
    h: Harness,
    agent: Any,
    value: bytes,
    *,
    partition: int = 0,
    offset: int | None = None,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> Counts:
    """Deliver one message to an agent under test and return what its handler made of it."""
    if offset is not None:
        agent.sent_offset = offset  # the test context numbers messages itself; a redelivery reuses one
    await agent.put(value, key=key, partition=partition, headers=headers, wait=False)
    return await asyncio.wait_for(h.results.get(), timeout=30)


def saved(h: Harness, scope: str, key: str) -> KeyState:
    """The key's state as its table holds it (the stored bytes, read back as a resumed worker reads them)."""
    return Stored.read(h.topo.tables[scope][key]).key_state()


def positions(h: Harness, scope: str, key: str) -> dict[str, Any]:
    return Stored.read(h.topo.tables[scope][key]).positions


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


# ------------------------------------------------------------------------------------------ routing


def test_partition_for_is_kafkas_default_partitioner() -> None:
    for key in ("s1", "session-42", "credential:AKIA", "ünïcode"):
        expected = (murmur2(key.encode()) & 0x7FFFFFFF) % 4
        assert partition_for(key, 4) == expected
    assert {partition_for(f"s{i}", 4) for i in range(50)} == {0, 1, 2, 3}


def test_split_by_partition_keeps_keys_together_and_respects_the_size_limit() -> None:
    keyed = [(f"s{i % 5}", b"x" * 100) for i in range(40)]
    messages = split_by_partition(keyed, 2, max_bytes=1000)
    assert all(len(value) <= 1000 for _, value in messages)
    assert sum(value.count(b"\n") + 1 for _, value in messages) == 40
    one_each = split_by_partition(keyed, 2, max_bytes=10**6)
    assert sorted(p for p, _ in one_each) == sorted({partition_for(f"s{i}", 2) for i in range(5)})


# ------------------------------------------------------------------------------------------ ingest


def test_ingest_dead_letters_bad_records_and_sends_one_message_per_target_partition(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        sessions = [f"sess-{i}" for i in range(12)]
        good = [
            call(s, n, "ListUsers", {}, credential=f"cred-{i % 3}")
            for i, s in enumerate(sessions)
            for n in range(3)
        ]
        bad = [
            b'{"kind": "tool_call", "event_id": "x1"}',
            b"this is not json",
            b'{"kind": "credential", "event_id": "x2", "event_time": "yesterday"}',
        ]
        value = encode_events(good[:20]) + b"\n" + b"\n".join(bad) + b"\n" + encode_events(good[20:])
        async with h.topo.ingest_agent.test_context() as agent:
            counts = await put(h, agent, value, partition=3, key=b"batch-1")
        assert counts.events == len(good) and counts.dead_letters == 3 and counts.errors == 0

        letters = [decode_dead_letter(m.value) for m in h.to(h.names["dead_letters"])]
        assert len(letters) == 3
        assert all(letter.stage == "parse" and letter.reason for letter in letters)
        assert any("not valid JSON" in letter.reason for letter in letters)
        assert {m.key for m in h.to(h.names["dead_letters"])} == {b"batch-1"}

        for scope, key_of in (("session", lambda e: e.session_id), ("credential", lambda e: e.credential_id)):
            messages = h.to(repartition_topic(h.topo.settings, scope))
            targets = [m.partition for m in messages]
            assert len(targets) == len(set(targets)), f"{scope}: more than one message for a partition"
            assert set(targets) == {partition_for(key_of(e), 4) for e in good}
            seen = []
            for m in messages:
                events = decode_events(m.value, "test", "native")
                assert all(partition_for(key_of(e), 4) == m.partition for e in events)
                assert all(e.ingest_time is not None for e in events)
                seen += [e.event_id for e in events]
                source = orjson.loads(dict(m.headers)[SOURCE_HEADER])
                assert (source["p"], source["o"], source["c"]) == (3, 0, 0)
            assert sorted(seen) == sorted(e.event_id for e in good)

    run(scenario)


def test_ingest_never_crashes_on_hostile_input(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        async with h.topo.ingest_agent.test_context() as agent:
            empty = await put(h, agent, b"")
            unknown = await put(
                h, agent, encode_events(escalation("s1")), headers=[("chainwatch-format", b"nope")]
            )
            nested = await put(h, agent, b"[" * 100_000 + b"]" * 100_000)
            # faust answers a *yielding* agent's message that names a reply topic: ours must not
            reply = [("Faust-Ag-ReplyTo", b"somewhere-else"), ("Faust-Ag-CorrelationId", b"1")]
            replied = await put(h, agent, encode_events(escalation("s3")), headers=reply)
            after = await put(h, agent, encode_events(escalation("s2")))
        assert (empty.dead_letters, unknown.dead_letters, nested.dead_letters) == (1, 1, 1)
        assert replied.events == 3 and after.events == 3 and after.errors == 0
        assert "somewhere-else" not in {m.topic for m in h.sent}
        reasons = [decode_dead_letter(m.value).reason for m in h.to(h.names["dead_letters"])]
        assert "empty message" in reasons[0]
        assert "names no adapter" in reasons[1] and "native" in reasons[1]

    run(scenario)


# ------------------------------------------------------------------------------------------ detect


def test_detect_sends_the_alert_of_a_completed_escalation_chain(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        async with h.topo.detect_agents["session"].test_context() as agent:
            counts = await put(h, agent, encode_events(escalation("s1")), partition=1, offset=7)
        assert counts.keys_applied == 1 and counts.alerts >= 1
        alerts = h.alerts()
        assert len(alerts) == 1 and alerts[0]["event_ids"] == ["s1-e0", "s1-e1", "s1-e2"]
        assert {m.key for m in h.to(h.names["alerts"])} == {b"s1"}
        assert any(
            orjson.loads(m.value)["detector_id"] == "privilege.escalation_chain"
            for m in h.to(h.names["findings"])
        )
        chains = [orjson.loads(m.value) for m in h.to(h.names["chains"])]
        assert (
            len(chains) == 1 and chains[0]["session_id"] == "s1" and chains[0]["alert_count"] == counts.alerts
        )
        # the state is saved after its outputs were sent (and, with confirm_outputs, acknowledged)
        assert [kind for kind, _ in h.journal][-1] == "write"
        assert all(kind == "send" for kind, _ in h.journal[:-1])
        stored = positions(h, "session", "s1")
        assert (stored["p"], stored["o"]) == (1, 7)

    run(scenario)


def test_a_redelivered_message_changes_nothing(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        value = encode_events(escalation("s1"))
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, value, partition=1, offset=7)
            before = h.topo.tables["session"]["s1"]
            h.clear()
            again = await put(h, agent, value, partition=1, offset=7)
        assert again.keys_duplicate == 1 and again.keys_applied == 0
        assert h.sent == [] and h.writes == []
        assert h.topo.tables["session"]["s1"] == before

    run(scenario)


def test_a_source_batch_forwarded_twice_is_applied_once(engine: Engine) -> None:
    """The ingest agent re-sends a batch it was redelivered: new repartition offset, same source position."""

    async def scenario() -> None:
        h = Harness(engine)
        value = encode_events(escalation("s1", range(2)))
        source = [(SOURCE_HEADER, orjson.dumps({"t": "agent-events", "p": 0, "o": 41, "c": 0}))]
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, value, partition=1, offset=3, headers=source)
            h.clear()
            again = await put(h, agent, value, partition=1, offset=9, headers=source)
            assert again.keys_duplicate == 1 and h.writes == []
            third = encode_events(escalation("s1", range(2, 3)))
            later = [(SOURCE_HEADER, orjson.dumps({"t": "agent-events", "p": 0, "o": 42, "c": 0}))]
            done = await put(h, agent, third, partition=1, offset=10, headers=later)
        assert done.keys_applied == 1 and len(h.alerts()) == 1
        assert saved(h, "session", "s1").ctx.event_count == 3

    run(scenario)


def test_the_table_is_written_once_per_key_per_batch(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        events = [
            call(s, n, "ListUsers", {}, credential=f"cred-{s}") for s in ("a", "b", "c") for n in range(10)
        ]
        async with h.topo.detect_agents["session"].test_context() as agent:
            counts = await put(h, agent, encode_events(events), partition=2)
        assert counts.scoped_events == 30 and counts.keys_applied == 3
        assert sorted(key for _, _, key, _ in h.writes) == ["a", "b", "c"]
        assert {partition for _, partition, _, _ in h.writes} == {2}
        h.clear()
        async with h.topo.detect_agents["credential"].test_context() as agent:
            await put(h, agent, encode_events(events), partition=2)
        assert sorted(key for _, _, key, _ in h.writes) == ["cred-a", "cred-b", "cred-c"]

    run(scenario)


def test_state_recovered_from_the_changelog_continues_the_chain(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        table = h.topo.tables["session"]
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, encode_events(escalation("s1", range(2))), partition=0, offset=0)
            # what a restarted worker holds: the changelog value through the table's (raw) codec
            (_, _, _, written) = h.writes[-1]
            serializers = h.topo.app.serializers
            raw = serializers.dumps_value(None, written, serializer=table.value_serializer)
            table.data.clear()
            table.data["s1"] = serializers.loads_value(None, raw, serializer=table.value_serializer)
            h.topo.live["session"].clear()
            h.clear()
            await put(h, agent, encode_events(escalation("s1", range(2, 3))), partition=0, offset=1)
        assert len(h.alerts()) == 1

    run(scenario)


def test_the_table_holds_positions_as_json_and_the_state_as_version_4_bytes(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, encode_events(escalation("s1", range(2))), partition=0, offset=3)
        value = h.topo.tables["session"]["s1"]
        head, _, state = value.partition(b"\n")
        assert orjson.loads(head)["v"] == 2 and (orjson.loads(head)["p"], orjson.loads(head)["o"]) == (0, 3)
        assert state[0] == 4 and state == saved(h, "session", "s1").to_bytes()
        assert [written for *_, written in h.writes] == [value]  # the changelog gets the very bytes

    run(scenario)


def test_a_version_1_table_value_is_read_and_the_chain_continues(engine: Engine) -> None:
    """A worker upgraded mid-stream: the changelog holds what the worker before issue 14's version 4 wrote
    (the whole value as JSON, the state's dict inside); the key resumes and is saved as version 2."""
    half, _ = engine.process_key("session", "s1", None, escalation("s1", range(2)))
    old = {"v": 1, "p": 0, "o": 0, "src": {}, "seen": T0.timestamp(), "last": half.ctx.last_time,
           "wm": half.max_time, "state": half.to_dict()}  # fmt: skip

    async def scenario() -> None:
        h = Harness(engine)
        h.topo.tables["session"].data["s1"] = orjson.dumps(old)
        async with h.topo.detect_agents["session"].test_context() as agent:
            again = await put(h, agent, encode_events(escalation("s1", range(2))), partition=0, offset=0)
            assert again.keys_duplicate == 1  # its positions are read: offset 0 was applied
            await put(h, agent, encode_events(escalation("s1", range(2, 3))), partition=0, offset=1)
        assert len(h.alerts()) == 1
        assert positions(h, "session", "s1")["v"] == 2 and saved(h, "session", "s1").ctx.event_count == 3

    run(scenario)


def test_an_unreadable_state_dead_letters_its_key_with_the_fix_and_the_stream_goes_on(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine, session_idle_seconds=60)
        table = h.topo.tables["session"]
        tick = [(CONTROL_HEADER, TICK)]
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, encode_events(escalation("bad") + escalation("good", range(1))), offset=0)
            table.data["bad"] = table.data["bad"][:-20]  # truncated: never read as an empty state
            h.clear()
            counts = await put(h, agent, encode_events(escalation("bad") + escalation("good")), offset=1)
            assert counts.errors == 1 and counts.keys_applied == 1
            assert [a["session_id"] for a in h.alerts()] == ["good"]
            [letter] = [decode_dead_letter(m.value) for m in h.to(h.names["dead_letters"])]
            assert letter.stage == "detect.session" and "session key 'bad'" in letter.reason
            assert "truncated" in letter.reason and "tombstone" in letter.reason
            assert "`chainwatch state forget session bad`" in letter.reason  # the command that mends it
            assert "chainwatch-session-state-changelog" in letter.reason
            assert [orjson.loads(line)["event_id"] for line in letter.raw.splitlines()] == [
                "bad-e0", "bad-e1", "bad-e2"
            ]  # fmt: skip
            # a tick that reaches the key logs it once, closes the others and goes on
            h.now += 61
            h.clear()
            swept = await put(h, agent, b'{"at": 0}', offset=2, headers=tick)
            assert (swept.errors, swept.keys_closed) == (1, 1) and "bad" not in h.topo.live["session"][0]
            assert [key for _, _, key, _ in h.writes] == ["good"]

    run(scenario)


def test_an_engine_failure_dead_letters_that_key_and_the_stream_goes_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        real = engine.process_key

        def flaky(scope: str, key: str, *args: Any, **kwargs: Any) -> Any:
            if key == "bad":
                raise ValueError("detector bug")
            return real(scope, key, *args, **kwargs)

        monkeypatch.setattr(engine, "process_key", flaky)
        events = escalation("bad") + escalation("good")
        async with h.topo.detect_agents["session"].test_context() as agent:
            counts = await put(h, agent, encode_events(events), partition=0)
            after = await put(h, agent, encode_events([call("good", 9, "ListUsers", {})]), partition=0)
        assert counts.errors == 1 and counts.keys_applied == 1
        assert [a["session_id"] for a in h.alerts()] == ["good"]
        letters = [decode_dead_letter(m.value) for m in h.to(h.names["dead_letters"])]
        assert [(letter.stage, letter.reason) for letter in letters] == [
            ("detect.session", "ValueError: detector bug")
        ]
        assert after.keys_applied == 1
        assert "bad" not in h.topo.tables["session"]

    run(scenario)


# ------------------------------------------------------------------------------------------ ticks


def test_a_tick_closes_sessions_idle_on_the_wall_clock(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine, session_idle_seconds=60)
        tick = [(CONTROL_HEADER, TICK)]
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, encode_events(escalation("old", range(1))), partition=0, offset=0)
            h.now += 30
            await put(h, agent, encode_events(escalation("new", range(1))), partition=1, offset=0)
            h.now += 40  # partition 0 ("old") has been quiet for 70 s, partition 1 ("new") for 40 s
            h.clear()
            counts = await put(h, agent, b'{"at": 0}', partition=0, offset=1, headers=tick)
            assert counts.ticks == 1 and counts.keys_closed == 1
            quiet = await put(h, agent, b'{"at": 0}', partition=1, offset=1, headers=tick)
            assert quiet.keys_closed == 0
            chains = [orjson.loads(m.value) for m in h.to(h.names["chains"])]
            assert [(c["session_id"], c["closed"]) for c in chains] == [("old", True)]
            # closed, but kept (with its history) until the retention passes
            assert [key for _, _, key, _ in h.writes] == ["old"]
            assert saved(h, "session", "old").closed is True
            h.clear()
            again = await put(h, agent, b'{"at": 0}', partition=0, offset=1, headers=tick)  # redelivered
            assert again.keys_closed == 0 and h.sent == []
            h.now += engine.settings.closed_retention_seconds
            later = await put(h, agent, b'{"at": 0}', partition=0, offset=2, headers=tick)
            assert later.keys_closed == 0  # "old" is past its retention: deleted, not closed again
            assert [(key, value) for _, _, key, value in h.writes if value is None] == [("old", None)]
            assert "old" not in h.topo.tables["session"] and "new" in h.topo.tables["session"]
            last = await put(h, agent, b'{"at": 0}', partition=1, offset=2, headers=tick)
            assert last.keys_closed == 1  # "new" closes now

    run(scenario)


def test_a_key_is_not_closed_on_the_wall_clock_while_its_partition_still_receives_events(
    engine: Engine,
) -> None:
    """A backlog (a worker catching up after a crash or a takeover): the partition keeps receiving other
    keys' events for longer than the idle time, and the quiet key's next events may be further back in
    it. Closing it then would run the close-time detectors too early and cut its chains in two; only
    event time (the partition's watermark) may close it while the partition is busy."""

    async def scenario() -> None:
        h = Harness(engine, session_idle_seconds=60)
        tick = [(CONTROL_HEADER, TICK)]
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, encode_events([call("quiet", 0, "ListUsers", {}, at=0)]), offset=0)
            for n in range(1, 5):
                h.now += 20  # 80 s of wall clock in all, the partition never quiet for 60 s
                batch = [call("busy", n, "ListUsers", {}, at=10 * n)]
                await put(h, agent, encode_events(batch), offset=n)
            h.clear()
            counts = await put(h, agent, b'{"at": 0}', offset=5, headers=tick)
            assert counts.keys_closed == 0
            assert saved(h, "session", "quiet").closed is False
            await put(h, agent, encode_events([call("quiet", 1, "ListUsers", {}, at=45)]), offset=6)
            h.now += 61  # now the partition has been quiet for longer than the idle time
            h.clear()
            closing = await put(h, agent, b'{"at": 0}', offset=7, headers=tick)
        assert closing.keys_closed == 2
        chains = [orjson.loads(m.value) for m in h.to(h.names["chains"])]
        assert sorted((c["session_id"], c["event_count"], c["closed"]) for c in chains) == [
            ("busy", 4, True),
            ("quiet", 2, True),
        ]

    run(scenario)


def test_a_tick_closes_sessions_idle_in_event_time_and_ticks_reach_every_partition(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine)
        idle = engine.settings.idle_timeout_seconds
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(
                h, agent, encode_events([call("quiet", 0, "ListUsers", {}, at=0)]), partition=1, offset=0
            )
            await put(
                h,
                agent,
                encode_events([call("busy", 0, "ListUsers", {}, at=idle + 5)]),
                partition=1,
                offset=1,
            )
            h.clear()
            counts = await put(h, agent, b"{}", partition=1, offset=2, headers=[(CONTROL_HEADER, TICK)])
        assert counts.keys_closed == 1
        assert saved(h, "session", "quiet").closed is True
        assert saved(h, "session", "busy").closed is False
        h.clear()
        await h.topo.send_ticks()
        ticks = {(m.topic, m.partition) for m in h.sent if dict(m.headers).get(CONTROL_HEADER) == TICK}
        assert ticks == {(repartition_topic(h.topo.settings, s), p) for s in h.topo.scopes for p in range(4)}

    run(scenario)


def test_a_session_whose_run_of_messages_is_being_read_is_not_closed_in_event_time(engine: Engine) -> None:
    """`chainwatch produce` packs a partition's sessions one after the other: the watermark comes from the
    sessions packed before, so a session in the middle of its run looks idle in event time. A tick between
    two of its messages must not close it (its close-time detectors would fire with half its events)."""

    async def scenario() -> None:
        h = Harness(engine)
        idle = engine.settings.idle_timeout_seconds
        tick = [(CONTROL_HEADER, TICK)]
        async with h.topo.detect_agents["session"].test_context() as agent:
            early = encode_events([call("packed-first", 0, "ListUsers", {}, at=idle + 5)])
            await put(h, agent, early, partition=2, offset=0)
            await put(
                h, agent, encode_events([call("later", 0, "ListUsers", {}, at=0)]), partition=2, offset=1
            )
            between = await put(h, agent, b"{}", partition=2, offset=2, headers=tick)
            assert between.keys_closed == 0  # "later" is in the middle of its run
            await put(
                h, agent, encode_events([call("later", 1, "ListUsers", {}, at=10)]), partition=2, offset=3
            )
            await put(
                h,
                agent,
                encode_events([call("next", 0, "ListUsers", {}, at=idle + 15)]),
                partition=2,
                offset=4,
            )
            h.clear()
            after = await put(h, agent, b"{}", partition=2, offset=5, headers=tick)
        assert after.keys_closed == 1  # the stream moved on: now "later" is idle in event time
        [chain] = [orjson.loads(m.value) for m in h.to(h.names["chains"])]
        assert (chain["session_id"], chain["event_count"], chain["closed"]) == ("later", 2, True)

    run(scenario)


def test_the_live_index_is_rebuilt_from_the_table_after_a_rebalance(engine: Engine) -> None:
    async def scenario() -> None:
        h = Harness(engine, session_idle_seconds=60)
        async with h.topo.detect_agents["credential"].test_context() as agent:
            issued = CredentialEvent(
                event_id="c1",
                event_time=T0,
                source="native",
                session_id="s1",
                credential_id="cred-9",
                action=CredentialAction.ISSUED,
                ttl_seconds=60,
            )
            await put(h, agent, encode_events([issued]), partition=3, offset=0)
            await h.topo._on_revoked(
                h.topo.app,
                revoked=[
                    SimpleNamespace(topic=repartition_topic(h.topo.settings, "credential"), partition=3)
                ],
            )
            assert h.topo.live["credential"] == {}
            h.now += 30
            # taken over: inactivity counts from now, not from before the rebalance
            first = await put(h, agent, b"{}", partition=3, offset=1, headers=[(CONTROL_HEADER, TICK)])
            h.now += 61
            second = await put(h, agent, b"{}", partition=3, offset=2, headers=[(CONTROL_HEADER, TICK)])
        assert saved(h, "credential", "cred-9").closed is True
        assert (first.keys_closed, second.keys_closed) == (0, 1)

    run(scenario)


# ------------------------------------------------------------------------------------------ skipped offsets


def test_positions_find_the_offsets_never_handed_over() -> None:
    positions = Positions()
    assert positions.advance("ev", 0, 7, committed=5) == Hole("ev", 0, 5, 6)  # first after an assignment
    assert positions.advance("ev", 0, 8, committed=5) is None
    assert positions.advance("ev", 0, 8, committed=5) is None  # a redelivery is no hole
    assert positions.advance("ev", 0, 4, committed=5) is None  # nor a re-read from the committed offset
    assert positions.advance("ev", 0, 12, committed=5) == Hole("ev", 0, 9, 11)
    assert positions.advance("ev", 1, 3, committed=None) is None  # nothing committed yet: no reference
    positions.forget("ev", 0)
    assert positions.advance("ev", 0, 30, committed=30) is None


def test_messages_faust_skipped_are_read_back_and_handled_first(engine: Engine) -> None:
    """faust hands over offsets 0 and 2 of a repartition partition but never 1 (upstream #596): the worker
    reads offset 1 back from the broker and applies it before 2, so the escalation chain completes."""

    async def scenario() -> None:
        h = Harness(engine)
        topic = repartition_topic(h.topo.settings, "session")
        create, grant, key = (encode_events([step]) for step in escalation("s1"))
        h.broker[(topic, 1, 1)] = Message(topic, 1, 1, 0.0, 0, [], None, grant, None, tp=TP(topic, 1))
        async with h.topo.detect_agents["session"].test_context() as agent:
            await put(h, agent, create, partition=1, offset=0)
            await put(h, agent, key, partition=1, offset=2)
        assert h.holes == [Hole(topic, 1, 1, 1)]
        assert (h.topo.stats.skipped_offsets, h.topo.stats.recovered_offsets) == (1, 1)
        [alert] = h.alerts()
        assert alert["event_ids"] == ["s1-e0", "s1-e1", "s1-e2"]
        assert positions(h, "session", "s1")["o"] == 2  # offset 1 applied first, then 2

    run(scenario)


# ------------------------------------------------------------------------------------------ rule reload


def test_rule_files_reload_in_the_worker_and_a_broken_one_keeps_the_running_set(tmp_path: Any) -> None:
    from pathlib import Path

    from detectors.registry import CATALOG_ROOT

    rules = Path(tmp_path) / "rules"
    (rules / "custom").mkdir(parents=True)
    settings = with_overrides(Settings(), web_enabled=False)
    settings.engine.rules_dirs = [rules]
    topo = build_topology(settings)
    before = {d.id for d in topo.engine.detectors}
    assert topo.reload_rules() is False  # nothing changed
    text = (CATALOG_ROOT / "privilege" / "escalation_chain.yml").read_text(encoding="utf-8")
    copy = text.replace("id: privilege.escalation_chain", "id: custom.copied_chain")
    (rules / "custom" / "copied_chain.yml").write_text(copy, encoding="utf-8")
    assert topo.reload_rules() is True
    assert {d.id for d in topo.engine.detectors} == before | {"custom.copied_chain"}
    (rules / "custom" / "broken.yml").write_text("id: custom.broken\nsteps: [\n", encoding="utf-8")
    assert topo.reload_rules() is False
    assert "custom.copied_chain" in {d.id for d in topo.engine.detectors}
