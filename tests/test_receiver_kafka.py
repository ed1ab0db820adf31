"""``chainwatch receive`` in front of the real broker: the OpenTelemetry SDK's OTLP/HTTP exporters send to the
receiver (a subprocess, as operators run it), the worker detects, the loader stores, the alerts are in
DuckDB. Fixture and record versions: see tests/test_receiver.py (GenAI conventions v1.41.1, Claude Code
monitoring docs as of v2.1.216)."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from tests.test_receiver import FIXTURES, TOKEN, post, send_claude_code_events, send_genai_spans
from tests.test_stream_e2e import Pipeline, Proc, pipeline, wait_for  # noqa: F401  (fixture)

pytestmark = pytest.mark.kafka


def start_receiver(pipe: Pipeline, *args: str, env: dict[str, str] | None = None) -> tuple[Proc, str]:
    proc = pipe.start(
        "receiver",
        "streams.cli",
        "receive",
        "--port",
        "0",
        *args,
        env={"CHAINWATCH_RECEIVER__TOKEN": TOKEN, **(env or {})},
    )

    def listening() -> str | None:
        if not proc.alive():
            pytest.fail(f"the receiver exited with {proc.popen.returncode}:\n{proc.output()}")
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", proc.output())
        return found.group(1) if found else None

    url: str = wait_for("the receiver to listen", listening, 60)
    return proc, url


def test_sdk_exporters_through_kafka_worker_and_loader_into_duckdb(pipeline: Pipeline) -> None:  # noqa: F811
    pipeline.create_topics()
    worker = pipeline.start_worker()
    pipeline.wait_ready(worker)
    receiver, url = start_receiver(pipeline)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert send_genai_spans(url, auth)
    assert send_claude_code_events(url, auth, "cc-session-kafka")
    status, _, body = post(f"{url}/v1/traces", (FIXTURES / "malformed_spans.json").read_bytes())
    assert status == 200 and json.loads(body)["partialSuccess"]["rejectedSpans"] == "5"
    assert post(f"{url}/v1/traces", b"{broken", "application/json")[0] == 400

    pipeline.wait_worker_committed()
    loader = pipeline.start_loader()
    pipeline.finish_loading(loader)
    assert receiver.terminate(timeout=30) == 0
    summary = receiver.output()
    assert "6 events, 5 dead letters, 1 undecodable" in " ".join(summary.split())

    found = set(pipeline.query("SELECT detector_id, session_id FROM alerts"))
    assert ("destructive.prod_action", "conv_sdk_1") in found
    assert ("approval.bypass_mode", "cc-session-kafka") in found
    assert ("destructive.prod_action", "cc-session-kafka") in found
    events = pipeline.query(
        "SELECT count(*) FROM events WHERE session_id IN ('conv_sdk_1', 'cc-session-kafka')"
    )
    assert events == [(5,)]  # 2 tool spans; a prompt, a mode change and a tool result
    letters = pipeline.query("SELECT reason FROM dead_letters ORDER BY reason")
    assert len(letters) == 6
    assert any("traceId" in r[0] for r in letters) and any("undecodable" in r[0] for r in letters)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_kafka_down_is_answered_503_for_the_exporter_to_retry(pipeline: Pipeline) -> None:  # noqa: F811
    nobody = f"127.0.0.1:{_free_port()}"  # nothing listens there
    _, url = start_receiver(
        pipeline,
        "--bootstrap",
        nobody,
        env={"CHAINWATCH_RECEIVER__DELIVER_TIMEOUT_SECONDS": "2"},
    )
    began = time.monotonic()
    status, headers, body = post(f"{url}/v1/logs", (FIXTURES / "claude_code_events.json").read_bytes())
    assert status == 503, body
    assert headers.get("Retry-After") == "5"
    assert time.monotonic() - began < 20
