"""Inputs refused that used to be accepted (issue 15), each test failing before its fix:

- a record over ``CHAINWATCH_MAX_RECORD_BYTES`` was stored (50 MB: 760 MB of memory) — now a dead letter in
  ``chainwatch run``, the worker and the receiver;
- a repeated JSON key silently took the last value (an analyst reading the raw log and the detectors saw
  different tools) — now a dead letter, also when the duplicate hides behind an escaped colon;
- the receiver never closed a connection that sent no (complete) request header;
- the triage page's Origin check ignored the port;
- an analyst's name was whatever the page sent — per-analyst tokens now decide it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from typer.testing import CliRunner

from detectors.engine import Engine
from schemas.adapters import parse_bytes
from schemas.adapters.base import DeadLetter
from streams.alerts.ui.analysts import AnalystTokens, issue, revoke
from streams.alerts.ui.server import create_app, same_origin
from streams.cli.main import app
from streams.ingest.receiver import Receiver, start
from streams.kafka.wire import decode_dead_letter, encode_events
from streams.settings import ReceiverSettings
from streams.store.database import Store
from tests.demo_support import seeded_demo_db
from tests.test_receiver import FIXTURES, MemorySink, post
from tests.test_worker_unit import Harness, call, put, run

runner = CliRunner()
KNOWN_ALERT = "bf3cb0624f95ba86f2161a36d6760b76"  # the simulator's privilege-escalation chain (seed 7)


def native(event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "tool_call",
        "event_id": event_id,
        "event_time": "2026-01-01T00:00:00Z",
        "source": "native",
        "session_id": "s1",
        "tool": "bash",
        "action": "ls",
        **extra,
    }


# --------------------------------------------------------------------------- record size cap


def test_run_dead_letters_a_record_over_the_cap_and_keeps_the_rest(tmp_path: Path) -> None:
    lines = [native("good-1"), native("big", arguments={"blob": "x" * 5000}), native("good-2")]
    as_lines, as_array = tmp_path / "events.jsonl", tmp_path / "events.json"
    as_lines.write_text("\n".join(json.dumps(r) for r in lines), encoding="utf-8")
    as_array.write_text(json.dumps(lines, indent=1), encoding="utf-8")
    for source in (as_lines, as_array):
        db = tmp_path / f"{source.suffix[1:]}.duckdb"
        result = runner.invoke(
            app, ["run", str(source), "--db", str(db), "--json"], env={"CHAINWATCH_MAX_RECORD_BYTES": "2048"}
        )
        assert result.exit_code == 0, result.output
        with duckdb.connect(str(db), read_only=True) as con:
            stored = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
            [(reason,)] = con.execute("SELECT reason FROM dead_letters").fetchall()
        assert stored == {"good-1", "good-2"}, source
        assert "over the 2,048-byte limit" in reason and "CHAINWATCH_MAX_RECORD_BYTES" in reason


def test_the_worker_dead_letters_a_record_over_the_cap_not_its_message() -> None:
    async def scenario() -> None:
        h = Harness(Engine([]))
        good = [call("sess-1", n, "ListUsers", {}) for n in range(2)]
        big = json.dumps(native("big", arguments={"blob": "x" * 4_300_000})).encode()  # the 4 MiB default
        value = encode_events(good[:1]) + b"\n" + big + b"\n" + encode_events(good[1:])
        async with h.topo.ingest_agent.test_context() as agent:
            counts = await put(h, agent, value, partition=0, key=b"batch")
        assert counts.events == 2 and counts.dead_letters == 1
        [letter] = [decode_dead_letter(m.value) for m in h.to(h.names["dead_letters"])]
        assert "byte limit" in letter.reason and letter.record_no == 2

    run(scenario)


@pytest.fixture
def receiver_on() -> Iterator[Any]:
    """A receiver in a thread (own event loop) with the given settings and record cap."""
    started: list[tuple[asyncio.AbstractEventLoop, Any, threading.Thread]] = []

    def serve(settings: ReceiverSettings, max_record_bytes: int) -> tuple[str, MemorySink]:
        sink = MemorySink()
        receiver = Receiver(sink, settings, max_record_bytes=max_record_bytes)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        runner_, port = asyncio.run_coroutine_threadsafe(start(receiver, "127.0.0.1", 0), loop).result(10)
        started.append((loop, runner_, thread))
        return f"http://127.0.0.1:{port}", sink

    yield serve
    for loop, runner_, thread in started:
        asyncio.run_coroutine_threadsafe(runner_.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


TOKEN = "s3cret-receiver-token-for-tests"


def test_the_receiver_dead_letters_events_over_the_cap(receiver_on: Any) -> None:
    body = (FIXTURES / "genai_tool_spans.json").read_bytes()
    url, sink = receiver_on(ReceiverSettings(token=SecretStr(TOKEN)), 1 << 20)
    assert post(f"{url}/v1/traces", body)[0] == 200 and sink.events and not sink.letters
    url, small = receiver_on(ReceiverSettings(token=SecretStr(TOKEN)), 430)  # the events are 268..548 bytes
    status, _, answer = post(f"{url}/v1/traces", body)
    assert status == 200 and json.loads(answer)["partialSuccess"]["rejectedSpans"]
    assert small.letters and all("byte limit" in letter.reason for letter in small.letters)
    assert len(small.events) + len(small.letters) == len(sink.events)


# --------------------------------------------------------------------------- repeated keys


@pytest.mark.parametrize(
    "record",
    [
        b'{"kind":"tool_call","event_id":"d","event_time":"2026-01-01T00:00:00Z","source":"native",'
        b'"session_id":"s1","tool":"ls","action":"ls","tool":"rm"}',
        # the escaped colon makes the plain colon count of the fast path match: the slow path still runs
        b'{"kind":"tool_call","event_id":"d","event_time":"2026-01-01T00:00:00Z","source":"native",'
        b'"session_id":"s1","tool":"ls","action":"ls","tool":"rm","arguments":{"x":"\\u003a"}}',
        b'{"kind":"tool_call","event_id":"d","event_time":"2026-01-01T00:00:00Z","source":"native",'
        b'"session_id":"s1","tool":"ls","action":"ls","arguments":{"cmd":"a","cmd":"b"}}',
    ],
    ids=["top level", "behind an escaped colon", "nested"],
)
def test_a_repeated_key_is_a_dead_letter(record: bytes) -> None:
    good = json.dumps(native("good")).encode()
    for data in (good + b"\n" + record, b"[" + good + b"," + record + b"]"):
        parsed = list(parse_bytes(data, "dup.jsonl", "native"))
        assert [p.event_id for p in parsed if not isinstance(p, DeadLetter)] == ["good"], data
        [letter] = [p for p in parsed if isinstance(p, DeadLetter)]
        assert "appears twice" in letter.reason and "each key once" in letter.reason


def test_a_repeated_key_in_cloudtrail_records_is_a_dead_letter() -> None:
    base = '{"eventVersion":"1.09","eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com",'
    identity = '"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"},"eventID":"%s",'
    good = base + identity % "e1" + '"eventName":"ListUsers"}'
    bad = base + identity % "e2" + '"eventName":"ListUsers","eventName":"DeleteUser"}'
    data = ('{"Records":[' + good + "," + bad + "]}").encode()
    parsed = list(parse_bytes(data, "trail.json", "cloudtrail"))
    assert [p.event_id for p in parsed if not isinstance(p, DeadLetter)] == ["e1"]
    assert any(isinstance(p, DeadLetter) and "eventName" in p.reason for p in parsed)


def test_the_receiver_refuses_a_body_with_a_repeated_key(receiver_on: Any) -> None:
    url, sink = receiver_on(ReceiverSettings(token=SecretStr(TOKEN)), 1 << 20)
    body = (
        (FIXTURES / "genai_tool_spans.json")
        .read_bytes()
        .replace(b'"name": "invoke_agent DB Janitor",', b'"name": "invoke_agent DB Janitor", "name": "x",', 1)
    )
    status, _, answer = post(f"{url}/v1/traces", body)
    assert status == 400 and "appears twice" in json.loads(answer)["message"]
    assert not sink.events and len(sink.letters) == 1


# --------------------------------------------------------------------------- receiver timeouts


def test_the_receiver_closes_a_connection_without_a_complete_header(receiver_on: Any) -> None:
    settings = ReceiverSettings(token=SecretStr(TOKEN), header_timeout_seconds=0.5)
    url, _ = receiver_on(settings, 1 << 20)
    port = int(url.rsplit(":", 1)[1])
    for opening in (b"", b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n"):  # idle, then slow headers
        with socket.create_connection(("127.0.0.1", port), timeout=8) as client:
            client.sendall(opening)
            started = time.monotonic()
            while client.recv(1024):  # read to the end: socket.timeout (a failure) if it is held open
                pass
            assert time.monotonic() - started < 8


# --------------------------------------------------------------------------- triage page


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded_demo_db(tmp_path_factory.mktemp("limits"))


async def _client(db: Path, **kwargs: Any) -> TestClient[Any, Any]:
    Store(db, audit_trail=False).close()  # the verdicts table exists
    client = TestClient(TestServer(create_app(db, hosts=set(), db_name=db.name, **kwargs)))
    await client.start_server()
    return client


async def _close(client: TestClient[Any, Any]) -> None:
    await client.close()


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://127.0.0.1:8765", "127.0.0.1:8765", True),
        ("http://127.0.0.1:9999", "127.0.0.1:8765", False),  # another port of the same host
        ("https://triage.example.com", "triage.example.com", True),  # behind a TLS proxy
        ("https://triage.example.com:8443", "triage.example.com", False),
        ("http://evil.example", "127.0.0.1:8765", False),
        ("null", "127.0.0.1:8765", False),
    ],
)
def test_the_origin_must_name_the_host_and_the_port(origin: str, host: str, same: bool) -> None:
    assert same_origin(origin, host) is same


def test_a_verdict_from_another_port_is_refused(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "cw.duckdb"
    db.write_bytes(demo_db.read_bytes())

    async def scenario() -> None:
        client = await _client(db, token="t0ken")
        try:
            own = f"http://{client.server.host}:{client.server.port}"
            other = f"http://{client.server.host}:{client.server.port + 1}"
            headers = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}
            body = json.dumps({"status": "benign", "analyst": "ana"})
            refused = await client.post(
                f"/api/alerts/{KNOWN_ALERT}/verdict", data=body, headers={**headers, "Origin": other}
            )
            assert refused.status == 403
            accepted = await client.post(
                f"/api/alerts/{KNOWN_ALERT}/verdict", data=body, headers={**headers, "Origin": own}
            )
            assert accepted.status == 200
        finally:
            await _close(client)

    asyncio.run(scenario())


def test_per_analyst_tokens_decide_who_recorded_a_verdict(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "cw.duckdb"
    db.write_bytes(demo_db.read_bytes())
    analysts = tmp_path / "analysts.tsv"
    alice, bob = issue(analysts, "alice"), issue(analysts, "bob")
    assert alice not in analysts.read_text() and (analysts.stat().st_mode & 0o077) == 0

    async def scenario() -> None:
        client = await _client(db, token=None, analysts=AnalystTokens(analysts))

        async def verdict(token: str, **body: Any) -> tuple[int, Any]:
            answer = await client.post(
                f"/api/alerts/{KNOWN_ALERT}/verdict",
                data=json.dumps({"status": "true-positive", **body}),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            return answer.status, await answer.json()

        try:
            status, answer = await verdict(alice, analyst="bob")  # claiming another name
            assert status == 403 and "alice" in answer["error"]
            status, answer = await verdict(alice)
            assert status == 200 and answer["verdict"]["analyst"] == "alice"
            status, answer = await verdict(bob, analyst="bob")
            assert status == 200 and answer["verdict"]["analyst"] == "bob"
            assert (await verdict("not-a-token"))[0] == 401
            assert revoke(analysts, "bob")
            assert (await verdict(bob))[0] == 401  # revoked: refused from the next request on
        finally:
            await _close(client)

    asyncio.run(scenario())
    with duckdb.connect(str(db), read_only=True) as con:
        assert [
            r[0] for r in con.execute("SELECT analyst FROM verdicts ORDER BY recorded_at").fetchall()
        ] == [
            "alice",
            "bob",
        ]


def test_admins_issue_and_revoke_tokens_from_the_command_line(tmp_path: Path) -> None:
    analysts = tmp_path / "analysts.tsv"
    issued = runner.invoke(app, ["analysts", "issue", "carol", "--file", str(analysts)])
    assert issued.exit_code == 0, issued.output
    token = issued.output.split(": ", 1)[1].split()[0]
    assert AnalystTokens(analysts).who(token) == "carol"
    listed = runner.invoke(app, ["analysts", "list", "--file", str(analysts)])
    assert listed.output.split() == ["carol"]
    assert runner.invoke(app, ["analysts", "revoke", "carol", "--file", str(analysts)]).exit_code == 0
    assert AnalystTokens(analysts).who(token) is None
    bad = runner.invoke(app, ["analysts", "issue", "no spaces please", "--file", str(analysts)])
    assert bad.exit_code == 2
