"""``chainwatch receive``: the official OpenTelemetry Python SDK and its OTLP/HTTP exporters (a client
nobody here wrote) send GenAI tool spans and Claude-Code-shaped log records; the alerts appear in DuckDB.

The spans follow the OpenTelemetry GenAI semantic conventions v1.41.1 (``invoke_agent`` / ``execute_tool``
spans, docs/gen-ai/gen-ai-agent-spans.md and gen-ai-spans.md); the log records follow Claude Code's
monitoring documentation (code.claude.com/docs/en/monitoring-usage, Claude Code v2.1.216). Kafka is
tested in tests/test_receiver_kafka.py.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import SecretStr

from streams.ingest.receiver import Receiver, Sink, SinkUnavailable, start
from streams.ingest.receiver_sinks import EmbeddedSink
from streams.settings import ReceiverSettings, build_engine, load_settings
from streams.store.database import Store

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "otlp"
TOKEN = "s3cret-receiver-token-for-tests"


# ------------------------------------------------------------------------------------------ harness


@dataclass
class Served:
    url: str
    receiver: Receiver


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a receiver on 127.0.0.1 (free port) in a thread with its own event loop; stop it after."""
    started: list[tuple[asyncio.AbstractEventLoop, Any, threading.Thread]] = []

    def run(sink: Sink, settings: ReceiverSettings | None = None, *, insecure: bool = False) -> Served:
        settings = settings or ReceiverSettings(token=SecretStr(TOKEN))
        receiver = Receiver(sink, settings, insecure_local=insecure)
        loop = asyncio.new_event_loop()
        ready: list[Any] = []
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        runner, port = asyncio.run_coroutine_threadsafe(start(receiver, "127.0.0.1", 0), loop).result(10)
        ready.append(runner)
        started.append((loop, runner, thread))
        return Served(f"http://127.0.0.1:{port}", receiver)

    yield run
    for loop, runner, thread in started:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def post(
    url: str, body: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    for key, value in ({"Authorization": f"Bearer {TOKEN}"} if headers is None else headers).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def alerts(db: Path) -> list[tuple[str, str]]:
    with Store(db, read_only=True) as store:
        return [(r[0], r[1]) for r in store.query("SELECT detector_id, session_id FROM alerts ORDER BY 1, 2")]


# ------------------------------------------------------------------------------ SDK clients -> DuckDB


def send_genai_spans(
    endpoint: str, headers: dict[str, str], *, gzip_body: bool = False, batched: bool = False
) -> bool:
    """An agent run as a GenAI instrumentation records it (GenAI semantic conventions v1.41.1): each span
    exported as it ends (the parent after its tools, in a later request), or all in one request."""
    exporter = OTLPSpanExporter(
        endpoint=f"{endpoint}/v1/traces",
        headers=headers,
        compression=Compression.Gzip if gzip_body else Compression.NoCompression,
    )
    results: list[Any] = []
    ended: list[Any] = []

    class Recording(SimpleSpanProcessor):
        def on_end(self, span: Any) -> None:
            if batched:
                ended.append(span)
            else:
                results.append(exporter.export([span]))

    resource = Resource.create({"service.name": "ops-agent", "deployment.environment.name": "production"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(Recording(exporter))
    tracer = provider.get_tracer("opentelemetry.instrumentation.openai_agents", "0.1.0")
    with tracer.start_as_current_span(
        "invoke_agent DB Janitor",
        kind=SpanKind.CLIENT,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "openai",
            "gen_ai.agent.id": "asst_janitor01",
            "gen_ai.agent.name": "DB Janitor",
            "gen_ai.conversation.id": "conv_sdk_1",
        },
    ):
        with tracer.start_as_current_span(
            "execute_tool bash",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "bash",
                "gen_ai.tool.call.id": "call_sdk_1",
                "gen_ai.tool.type": "function",
                "gen_ai.tool.call.arguments": json.dumps({"command": "rm -rf /var/lib/postgresql/data"}),
                "gen_ai.tool.call.result": "removed",
                # copied onto the tool span by some instrumentations: the fallback when the parent is
                # exported in a later request (it ends after its tools)
                "gen_ai.conversation.id": "conv_sdk_1",
                "gen_ai.agent.id": "asst_janitor01",
            },
        ) as span:
            span.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span(
            "execute_tool read_file",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "read_file",
                "gen_ai.tool.call.arguments": json.dumps({"path": "/etc/app/config.yml"}),
                "gen_ai.conversation.id": "conv_sdk_1",
                "error.type": "FileNotFoundError",
            },
        ) as span:
            span.set_status(Status(StatusCode.ERROR, "No such file"))
    if batched:
        results.append(exporter.export(ended))
    provider.shutdown()
    return len(results) == (1 if batched else 3) and all(r.name == "SUCCESS" for r in results)


def send_claude_code_events(endpoint: str, headers: dict[str, str], session: str) -> bool:
    """Log records shaped as Claude Code's events (monitoring docs, Claude Code v2.1.216)."""
    exporter = OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", headers=headers)
    results: list[Any] = []

    class Recording(SimpleLogRecordProcessor):
        def on_emit(self, log_record: Any) -> None:
            results.append(exporter.export([log_record]))

    resource = Resource.create(
        {"service.name": "claude-code", "service.version": "2.1.216", "deployment.environment.name": "prod"}
    )
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(Recording(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events", "2.1.216")
    standard = {
        "session.id": session,
        "user.email": "dev@example.com",
        "user.id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "organization.id": "8c0e2f4a-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
        "terminal.type": "vscode",
    }
    base = time.time_ns()
    records = [
        ("user_prompt", {"prompt_length": 27, "prompt": "Free disk space on db-prod-1"}),
        (
            "permission_mode_changed",
            {"from_mode": "default", "to_mode": "bypassPermissions", "trigger": "shift_tab"},
        ),
        (
            "tool_result",
            {
                "tool_name": "Bash",
                "tool_use_id": "toolu_01sdk",
                "success": "true",
                "duration_ms": 412,
                "decision_type": "accept",
                "decision_source": "config",
                "tool_parameters": json.dumps(
                    {
                        "bash_command": "rm",
                        "full_command": "rm -rf /var/lib/postgresql/data",
                        "timeout": 120000,
                    }
                ),
            },
        ),
    ]
    for number, (name, attrs) in enumerate(records, 1):
        logger.emit(
            timestamp=base + number * 1_000_000,
            severity_number=SeverityNumber.INFO,
            body=f"claude_code.{name}",
            attributes={**standard, **attrs, "event.name": name, "event.sequence": number},
        )
    provider.shutdown()
    return len(results) == len(records) and all(r.name == "SUCCESS" for r in results)


def test_sdk_exporters_into_duckdb_through_the_embedded_engine(serve: Any, tmp_path: Path) -> None:
    db = tmp_path / "receive.duckdb"
    sink = EmbeddedSink(build_engine(load_settings()), db)
    served = serve(sink)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert send_genai_spans(served.url, auth, gzip_body=True)
    assert send_claude_code_events(served.url, auth, "cc-session-embedded")
    counters = served.receiver.counters
    assert counters.bad_requests == 0 and counters.dead_letters == 0
    # two tool spans (the invoke_agent span has no input messages: no event) + three Claude Code events
    assert counters.events == 5
    sink.close()
    found = alerts(db)
    assert ("destructive.prod_action", "conv_sdk_1") in found
    assert ("approval.bypass_mode", "cc-session-embedded") in found
    assert ("destructive.prod_action", "cc-session-embedded") in found
    with Store(db, read_only=True) as store:
        rows = store.query(
            "SELECT session_id, agent_id, tool, outcome, environment FROM events "
            "WHERE session_id = 'conv_sdk_1' ORDER BY event_time"
        )
    assert rows == [
        ("conv_sdk_1", "asst_janitor01", "bash", "success", "prod"),
        ("conv_sdk_1", "ops-agent", "read_file", "error", "prod"),
    ]


def test_sdk_batch_in_one_request_takes_session_and_agent_from_the_parent(serve: Any, tmp_path: Path) -> None:
    db = tmp_path / "batch.duckdb"
    sink = EmbeddedSink(build_engine(load_settings()), db)
    served = serve(sink)
    assert send_genai_spans(served.url, {"Authorization": f"Bearer {TOKEN}"}, batched=True)
    sink.close()
    with Store(db, read_only=True) as store:
        rows = store.query(
            "SELECT tool, agent_id FROM events WHERE session_id = 'conv_sdk_1' ORDER BY event_time"
        )
    # read_file carries no agent attributes of its own: the invoke_agent parent in the same request names it
    assert rows == [("bash", "asst_janitor01"), ("read_file", "asst_janitor01")]


# ------------------------------------------------------------------------------------ HTTP behaviour


class MemorySink:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.letters: list[Any] = []
        self.down = False

    def deliver(self, events: Any, letters: Any) -> list[Any]:
        if self.down:
            raise SinkUnavailable("broker unreachable")
        self.events.extend(events)
        self.letters.extend(letters)
        return []

    def close(self) -> None:
        pass


def test_json_fixtures_and_partial_success(serve: Any) -> None:
    sink = MemorySink()
    served = serve(sink)
    status, headers, body = post(f"{served.url}/v1/traces", (FIXTURES / "genai_tool_spans.json").read_bytes())
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {}  # full success: an empty ExportTraceServiceResponse
    assert len(sink.events) == 7

    status, _, body = post(f"{served.url}/v1/traces", (FIXTURES / "malformed_spans.json").read_bytes())
    answer = json.loads(body)
    assert status == 200
    assert answer["partialSuccess"]["rejectedSpans"] == "5"  # int64 as a string in OTLP/JSON
    assert "traceId" in answer["partialSuccess"]["errorMessage"]
    assert len(sink.letters) == 5 and len(sink.events) == 8

    status, _, body = post(f"{served.url}/v1/logs", (FIXTURES / "malformed_logs.json").read_bytes())
    assert status == 200 and json.loads(body)["partialSuccess"]["rejectedLogRecords"] == "5"


def test_malformed_bodies_are_answered_400_and_counted(serve: Any) -> None:
    sink = MemorySink()
    served = serve(sink)
    cases = [
        (b"{not json", "application/json", {}),
        (b"\x0a\xff\xff\xff", "application/x-protobuf", {}),
        (b"[1, 2]", "application/json", {}),
        (b'{"resourceSpans": "nope"}', "application/json", {}),
        (b"plain", "application/json", {"Content-Encoding": "gzip"}),
    ]
    for body, content_type, extra in cases:
        status, _, answer = post(
            f"{served.url}/v1/traces", body, content_type, {"Authorization": f"Bearer {TOKEN}", **extra}
        )
        assert status == 400, (body, answer)
        if content_type == "application/json":
            assert json.loads(answer)["message"]
        else:  # a google.rpc.Status in the request's encoding
            from google.rpc import status_pb2

            assert status_pb2.Status.FromString(answer).message.startswith("body is not a protobuf")
    assert served.receiver.counters.bad_requests == len(cases)
    assert len(sink.letters) == len(cases)  # nothing lost: each undecodable body is a dead letter
    assert all(letter.stage == "receive" for letter in sink.letters)
    status, _, _ = post(f"{served.url}/v1/traces", b"{}", "text/plain")
    assert status == 415


def test_an_undecodable_protobuf_body_is_stored_redacted(serve: Any) -> None:
    """Before (issue 15): the body was kept as hex, so the token inside it reached the dead letters."""
    sink = MemorySink()
    served = serve(sink)
    token = "ghp_" + "Zq7" * 12
    body = b"\x0a\xff\xff\xff\x12\x2a" + f"Authorization: Bearer {token}".encode() + b"\xff"
    status, _, _ = post(
        f"{served.url}/v1/traces", body, "application/x-protobuf", {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 400
    [letter] = sink.letters
    assert token not in letter.raw and token.encode().hex() not in letter.raw
    assert "[REDACTED:" in letter.raw


def test_a_bearer_token_is_required(serve: Any) -> None:
    sink = MemorySink()
    served = serve(sink)
    body = (FIXTURES / "genai_tool_spans.json").read_bytes()
    assert post(f"{served.url}/v1/traces", body, headers={})[0] == 401
    assert post(f"{served.url}/v1/traces", body, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert post(f"{served.url}/v1/traces", body, headers={"Authorization": TOKEN})[0] == 401
    assert not send_genai_spans(served.url, {})  # the SDK exporter is refused too
    assert served.receiver.counters.unauthorized >= 5 and sink.events == []
    assert post(f"{served.url}/v1/traces", body)[0] == 200


def test_no_token_means_no_start_unless_insecure_local(serve: Any) -> None:
    from schemas.errors import ChainwatchError

    with pytest.raises(ChainwatchError, match="CHAINWATCH_RECEIVER__TOKEN"):
        Receiver(MemorySink(), ReceiverSettings())
    served = serve(MemorySink(), ReceiverSettings(), insecure=True)
    assert post(f"{served.url}/v1/logs", b"{}", headers={})[0] == 200
    assert ReceiverSettings().host == "127.0.0.1"


def test_request_size_is_capped(serve: Any) -> None:
    sink = MemorySink()
    served = serve(
        sink, ReceiverSettings(token=SecretStr(TOKEN), max_body_bytes=4096, max_decoded_bytes=64 * 1024)
    )
    big = json.dumps({"resourceLogs": [], "pad": "x" * 10_000}).encode()
    assert post(f"{served.url}/v1/logs", big)[0] == 413
    bomb = gzip.compress(b'{"resourceLogs": [], "pad": "' + b"y" * 1_000_000 + b'"}')
    assert len(bomb) < 4096
    status, _, _ = post(
        f"{served.url}/v1/logs",
        bomb,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "gzip"},
    )
    assert status == 413
    assert served.receiver.counters.too_large == 2
    small = gzip.compress((FIXTURES / "claude_code_events.json").read_bytes())
    status, _, _ = post(
        f"{served.url}/v1/logs",
        small,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "gzip"},
    )
    assert status == 200 and len(sink.events) == 8


def test_an_unavailable_sink_asks_the_exporter_to_retry(serve: Any) -> None:
    sink = MemorySink()
    served = serve(sink)
    sink.down = True
    status, headers, _ = post(f"{served.url}/v1/logs", (FIXTURES / "claude_code_events.json").read_bytes())
    assert status == 503 and headers.get("Retry-After") == "5"
    assert served.receiver.counters.unavailable == 1
    sink.down = False
    assert post(f"{served.url}/v1/logs", (FIXTURES / "claude_code_events.json").read_bytes())[0] == 200
    assert len(sink.events) == 8


def test_protobuf_answers_in_protobuf(serve: Any) -> None:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    sink = MemorySink()
    served = serve(sink)
    request = json_format.Parse(
        (FIXTURES / "claude_code_events.json").read_text(), logs_service_pb2.ExportLogsServiceRequest()
    )
    records = request.resource_logs[0].scope_logs[0].log_records
    kept = [kv for kv in records[0].attributes if kv.key != "session.id"]
    del records[0].attributes[:]
    records[0].attributes.extend(kept)  # the user_prompt record loses its session: one rejected record
    status, headers, body = post(
        f"{served.url}/v1/logs", request.SerializeToString(), "application/x-protobuf"
    )
    assert status == 200 and headers["Content-Type"].startswith("application/x-protobuf")
    response = logs_service_pb2.ExportLogsServiceResponse.FromString(body)
    assert response.partial_success.rejected_log_records == 1
    assert "session.id" in response.partial_success.error_message
    assert len(sink.events) == 7  # the other records, read from protobuf exactly as from JSON


# ------------------------------------------------------------------------------------- the command


def run_cli_receiver(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "receive", "--port", "0", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_chainwatch_receive_db_writes_alerts(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    proc = run_cli_receiver(["--db", str(db)], {"CHAINWATCH_RECEIVER__TOKEN": TOKEN})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the one line saying where it listens
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert found, line + (proc.stderr.read() if proc.stderr else "")
        assert send_claude_code_events(found.group(1), {"Authorization": f"Bearer {TOKEN}"}, "cc-cli")
    finally:
        proc.send_signal(signal.SIGTERM)  # stops by PID: closes open sessions, then the database
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "3 events, 0 dead letters" in " ".join(stderr.split())
    assert ("approval.bypass_mode", "cc-cli") in alerts(db)
    with Store(db, read_only=True) as store:
        assert store.query("SELECT count(*) FROM chains WHERE session_id = 'cc-cli'") == [(1,)]


def test_chainwatch_receive_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    proc = run_cli_receiver(["--db", str(tmp_path / "x.duckdb")], {"CHAINWATCH_RECEIVER__TOKEN": ""})
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "CHAINWATCH_RECEIVER__TOKEN" in stderr and "--insecure-local" in stderr


def test_kafka_sink_splits_per_session_and_dead_letters_events_too_large_for_a_message() -> None:
    """The receiver packs with `chainwatch produce`'s packer, one session per message."""
    from schemas.adapters import parse_bytes
    from streams.kafka.producer import Packer

    def pack(events: list[Any], max_events: int = 2000, max_bytes: int = 1_000_000) -> Packer:
        packer = Packer(4, max_events=max_events, max_bytes=max_bytes, per_session=True, origin="receiver")
        assert [packer.add(e) for e in events] == [None] * len(events)
        return packer

    events = [e for e in parse_bytes((FIXTURES / "claude_code_events.json").read_bytes(), "x", "otlp")]
    messages = pack(events).drain()
    assert sorted(m.events for m in messages) == [1, 7]  # two sessions: two messages
    assert all(len(m.sessions) == 1 and m.key == m.sessions[0].encode() for m in messages)
    session = events[-1].session_id
    (only,) = [m for m in messages if m.sessions == (session,)]
    assert only.events == 7 and only.value.count(b"\n") == 6
    same = [e for e in events if e.session_id == session]
    assert [m.events for m in pack(same, max_events=3).drain()] == [3, 3, 1]
    big = events[-1].model_copy(update={"arguments": {"data": "z" * 5000}})
    small = Packer(4, max_events=2000, max_bytes=2048, per_session=True, origin="receiver")
    assert small.add(events[0]) is None
    letter = small.add(big)
    assert letter is not None and small.pending == 1
    assert "over the 2048-byte limit" in letter.reason and letter.stage == "produce"
    assert letter.origin == f"receiver:{session}"


def test_insecure_local_serves_this_machine_only(serve: Any, tmp_path: Path) -> None:
    """Without a token the receiver refuses a non-loopback bind, and requests whose Host is not a loopback
    name (a browser page reaching 127.0.0.1 through a DNS name rebound to it)."""
    sink = MemorySink()
    served = serve(sink, ReceiverSettings(), insecure=True)
    body = (FIXTURES / "claude_code_events.json").read_bytes()
    status, _, answer = post(f"{served.url}/v1/logs", body, headers={"Host": "rebound.attacker.example:4318"})
    assert status == 401 and "is not this machine" in json.loads(answer)["message"] and sink.events == []
    assert post(f"{served.url}/v1/logs", body, headers={"Host": "localhost:4318"})[0] == 200
    proc = run_cli_receiver(
        ["--db", str(tmp_path / "x.duckdb"), "--insecure-local", "--host", "0.0.0.0"],
        {"CHAINWATCH_RECEIVER__TOKEN": ""},
    )
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "only binds to 127.0.0.1" in " ".join(stderr.split())
    assert not (tmp_path / "x.duckdb").exists()  # refused before anything was opened


def test_failures_of_a_protobuf_request_are_a_protobuf_status(serve: Any) -> None:
    """OTLP/HTTP: a 4xx/5xx body is a google.rpc.Status in the request's encoding."""
    from google.rpc import status_pb2

    sink = MemorySink()
    served = serve(sink)
    status, headers, body = post(f"{served.url}/v1/logs", b"\x0a\xff\xff\xff", "application/x-protobuf")
    assert status == 400 and headers["Content-Type"].startswith("application/x-protobuf")
    assert "not a protobuf ExportLogsServiceRequest" in status_pb2.Status.FromString(body).message
    sink.down = True
    status, headers, body = post(f"{served.url}/v1/logs", b"", "application/x-protobuf")
    assert status == 503 and "broker unreachable" in status_pb2.Status.FromString(body).message
    status, _, body = post(f"{served.url}/v1/logs", b"", "application/x-protobuf", headers={})
    assert status == 401 and status_pb2.Status.FromString(body).message == "missing or wrong bearer token"


def test_receive_db_applies_suppression_and_delivers_alerts(tmp_path: Path) -> None:
    """`receive --db` handles alerts as `run` and `load` do: suppression rules mark them before they are
    stored, the others go through the delivery spool to the configured sinks (here a JSON-lines file)."""
    db = tmp_path / "cli.duckdb"
    rules = tmp_path / "suppressions.yml"
    rules.write_text(
        "rules:\n  - id: bypass-known\n    detector: approval.bypass_mode\n"
        "    reason: the sandbox runs in bypass mode on purpose (TICKET-7)\n"
        "    owner: sec@example.com\n    expires: 2099-01-01\n"
    )
    sent = tmp_path / "alerts.jsonl"
    env = {
        "CHAINWATCH_RECEIVER__TOKEN": TOKEN,
        "CHAINWATCH_DELIVERY__SUPPRESSION_FILE": str(rules),
        "CHAINWATCH_DELIVERY__FILES": json.dumps([{"name": "file", "path": str(sent)}]),
        "CHAINWATCH_DELIVERY__SPOOL_PATH": str(tmp_path / "spool.sqlite"),
    }
    proc = run_cli_receiver(["--db", str(db)], env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert found, line + (proc.stderr.read() if proc.stderr else "")
        assert send_claude_code_events(found.group(1), {"Authorization": f"Bearer {TOKEN}"}, "cc-deliver")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    with Store(db, read_only=True) as store:
        stored = store.query("SELECT alert_id, detector_id, suppressed_by FROM alerts ORDER BY detector_id")
    assert ("approval.bypass_mode", "bypass-known") in {(r[1], r[2]) for r in stored}
    delivered = sorted(json.loads(line)["alert"]["alert_id"] for line in sent.read_text().splitlines())
    assert delivered and delivered == sorted(r[0] for r in stored if r[2] is None)
    assert "1 alerts suppressed" in " ".join(stderr.split())


def test_every_gzip_member_is_read_and_a_truncated_stream_refused(serve: Any) -> None:
    """Concatenated gzip members are one valid stream (RFC 1952): reading only the first lost the rest
    behind a 200. A stream cut short is a 400, not a partial parse."""
    sink = MemorySink()
    served = serve(sink)
    raw = (FIXTURES / "claude_code_events.json").read_bytes()
    split = len(raw) // 2
    two_members = gzip.compress(raw[:split]) + gzip.compress(raw[split:])
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "gzip"}
    assert post(f"{served.url}/v1/logs", two_members, headers=headers)[0] == 200
    assert len(sink.events) == 8
    status, _, answer = post(f"{served.url}/v1/logs", gzip.compress(raw)[:-12], headers=headers)
    assert status == 400 and "truncated" in json.loads(answer)["message"]
    assert len(sink.events) == 8 and served.receiver.counters.bad_requests == 1
