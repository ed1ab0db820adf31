"""Webhook delivery through the durable spool: outages, timeouts, restarts, signatures, routing.

The receiver is a real HTTP server on 127.0.0.1 that verifies every request with the snippet published
in docs/alerts.md (extracted and executed here, so the documentation cannot drift from the code).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from streams.alerts.delivery.deliverer import Deliverer, DeliveryConfigError
from streams.alerts.delivery.pipeline import AlertPipeline
from streams.alerts.delivery.signing import sign_headers, verify
from streams.alerts.delivery.spool import Spool
from streams.ingest.replay import replay
from streams.settings import DeliverySettings, Settings, build_engine
from streams.simulator.workload import simulate, write_jsonl

REPO = Path(__file__).resolve().parents[1]
SECRET = "test-secret-4f1c9a"


def documented_verifier() -> Callable[[bytes, dict[str, str], bytes], bool]:
    """The receiver snippet from docs/alerts.md, executed as published."""
    text = (REPO / "docs" / "alerts.md").read_text()
    match = re.search(r"<!-- receiver-snippet[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/alerts.md lost its receiver snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "docs/alerts.md", "exec"), namespace)
    return namespace["verify_chainwatch_request"]  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """A webhook endpoint whose behaviour the test switches: ok, fail (HTTP 503), slow (timeout), reject."""

    mode: str = "ok"
    slow_seconds: float = 1.5
    accepted: list[str] = field(default_factory=list)  # alert ids answered 2xx, in order
    attempts: Counter[str] = field(default_factory=Counter)  # requests per mode
    bad_signatures: int = 0
    bodies: dict[str, bytes] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    check = documented_verifier()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            mode = state.mode
            state.attempts[mode] += 1
            if mode == "slow":
                time.sleep(state.slow_seconds)  # the client gives up first; nothing counts as accepted
                return self._answer(504)
            if mode == "fail":
                return self._answer(503)
            if mode == "reject":
                return self._answer(400)
            if mode == "garbled":  # not HTTP at all: http.client raises BadStatusLine, not an OSError
                self.wfile.write(b"NOT-HTTP garbage\r\n\r\n")
                self.close_connection = True
                return None
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                return self.end_headers()
            if not check(SECRET.encode(), dict(self.headers.items()), body):
                state.bad_signatures += 1
                return self._answer(401)
            alert_id = self.headers["Idempotency-Key"]
            assert alert_id == self.headers["X-Chainwatch-Alert-Id"]
            state.accepted.append(alert_id)
            state.bodies[alert_id] = body
            self._answer(200)

        def _answer(self, code: int) -> None:
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("delivery") / "workload.jsonl"
    sessions = simulate(seed=7, sessions=120, attack_ratio=0.1)
    write_jsonl(sorted((e for s in sessions for e in s.events), key=lambda e: e.event_time), path)
    return path


def delivery_config(tmp_path: Path, url: str, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "webhooks": [{"name": "soc", "url": url, "format": "json", "timeout_seconds": 0.5}],
        "webhook_secret": SECRET,
        "spool_path": str(tmp_path / "spool.sqlite"),
        "backoff_initial_seconds": 0.05,
        "backoff_max_seconds": 0.2,
    }
    config.update(extra)
    return config


def run_into_spool(workload: Path, db: Path, config: dict[str, Any]) -> tuple[list[str], AlertPipeline]:
    settings = Settings.model_validate({"delivery": config})
    pipeline = AlertPipeline.from_settings(settings.delivery)
    assert pipeline is not None and pipeline.deliverer is not None
    report = replay([str(workload)], build_engine(settings), db_path=db, pipeline=pipeline)
    return [a.alert_id for a in report.alerts], pipeline


def test_outage_timeouts_and_restarts_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, workload: Path, receiver: Receiver
) -> None:
    config = delivery_config(tmp_path, receiver.url)
    db = tmp_path / "cw.duckdb"

    # 1. The endpoint is down (503): every alert is spooled, none is accepted.
    receiver.mode = "fail"
    alert_ids, pipeline = run_into_spool(workload, db, config)
    assert alert_ids and pipeline.queued == len(set(alert_ids))
    assert pipeline.deliverer is not None
    stats = pipeline.deliverer.drain_until_empty(1.0)
    assert stats.delivered == 0 and stats.failed_attempts >= 2 and receiver.attempts["fail"] >= 2
    pipeline.close()  # the process ends with everything still pending

    # 2. A new deliverer (a restart) over the same spool while the endpoint times out.
    receiver.mode = "slow"
    deliverer = Deliverer(DeliverySettings.model_validate(config))
    assert deliverer.spool.counts() == {"soc": {"pending": len(set(alert_ids))}}
    time.sleep(0.25)  # past the longest backoff
    stats = deliverer.drain()
    assert stats.delivered == 0 and stats.failed_attempts == 1 and receiver.attempts["slow"] == 1
    deliverer.close()

    # 3. The same alerts arrive again (Kafka redelivery / a second replay): nothing new is queued.
    _, again = run_into_spool(workload, tmp_path / "cw2.duckdb", config)
    assert again.queued == 0
    again.close()

    # 4. The endpoint is back; a separate `chainwatch deliver` process sends what the spool holds.
    receiver.mode = "ok"
    time.sleep(0.25)  # past the longest backoff
    env = {
        **os.environ,
        "CHAINWATCH_DELIVERY__WEBHOOKS": json.dumps(config["webhooks"]),
        "CHAINWATCH_DELIVERY__WEBHOOK_SECRET": SECRET,
        "CHAINWATCH_DELIVERY__SPOOL_PATH": config["spool_path"],
        "CHAINWATCH_DELIVERY__BACKOFF_INITIAL_SECONDS": "0.05",
        "CHAINWATCH_DELIVERY__BACKOFF_MAX_SECONDS": "0.2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "deliver", "--seconds", "30"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"soc: {len(set(alert_ids))} delivered" in done.stdout

    # 0 lost, 0 duplicates, every request signed correctly.
    assert sorted(receiver.accepted) == sorted(set(alert_ids))
    assert [i for i, n in Counter(receiver.accepted).items() if n > 1] == []
    assert receiver.bad_signatures == 0
    # A further pass sends nothing: delivered rows stay delivered.
    deliverer = Deliverer(DeliverySettings.model_validate(config))
    assert deliverer.drain().delivered == 0
    deliverer.close()
    assert len(receiver.accepted) == len(set(alert_ids))
    # The body is the alert view of what the database holds.
    con = duckdb.connect(str(db), read_only=True)
    some = receiver.accepted[0]
    body = json.loads(receiver.bodies[some])
    title = con.execute("SELECT title FROM alerts WHERE alert_id = ?", [some]).fetchone()
    assert title is not None and body["alert"]["title"] == title[0] and body["events"]


def test_routing_by_severity_and_slack_body(tmp_path: Path, workload: Path, receiver: Receiver) -> None:
    config = delivery_config(tmp_path, receiver.url)
    config["webhooks"] = [
        {"name": "slack", "url": receiver.url, "format": "slack", "min_severity": "critical"},
    ]
    config["files"] = [{"name": "all", "path": str(tmp_path / "all.ocsf.jsonl"), "format": "ocsf"}]
    db = tmp_path / "cw.duckdb"
    alert_ids, pipeline = run_into_spool(workload, db, config)
    assert pipeline.deliverer is not None
    pipeline.deliverer.drain_until_empty(10)
    pipeline.close()
    con = duckdb.connect(str(db), read_only=True)
    critical = {
        r[0] for r in con.execute("SELECT alert_id FROM alerts WHERE severity = 'critical'").fetchall()
    }
    assert critical and set(receiver.accepted) == critical
    message = json.loads(receiver.bodies[next(iter(critical))])
    assert message["text"] and message["blocks"][0]["type"] == "header"
    assert "CRITICAL" in message["blocks"][0]["text"]["text"]
    lines = (tmp_path / "all.ocsf.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["finding_info"]["uid"] for line in lines) == sorted(set(alert_ids))


def test_a_refused_body_is_kept_as_rejected_and_can_be_queued_again(
    tmp_path: Path, receiver: Receiver
) -> None:
    config = DeliverySettings.model_validate(delivery_config(tmp_path, receiver.url))
    deliverer = Deliverer(config)
    deliverer.spool.enqueue([("soc", "alert-1", "high", b'{"x": 1}')])
    receiver.mode = "reject"
    assert deliverer.drain().rejected == 1
    assert deliverer.spool.counts() == {"soc": {"rejected": 1}}
    problems = deliverer.spool.problems()
    assert problems and "HTTP 400" in str(problems[0][4])
    receiver.mode = "ok"
    assert deliverer.drain().delivered == 0  # rejected rows wait for a person
    assert deliverer.spool.retry_rejected() == 1
    assert deliverer.drain().delivered == 1 and receiver.accepted == ["alert-1"]
    deliverer.close()


def test_a_redirect_is_not_followed(tmp_path: Path, receiver: Receiver) -> None:
    deliverer = Deliverer(DeliverySettings.model_validate(delivery_config(tmp_path, receiver.url)))
    deliverer.spool.enqueue([("soc", "alert-1", "high", b"{}")])
    receiver.mode = "redirect"
    assert deliverer.drain().rejected == 1
    assert "HTTP 302" in str(deliverer.spool.problems()[0][4])
    deliverer.close()


def test_webhooks_need_a_secret(tmp_path: Path) -> None:
    config = delivery_config(tmp_path, "http://127.0.0.1:9/hook")
    config.pop("webhook_secret")
    with pytest.raises(DeliveryConfigError, match="CHAINWATCH_DELIVERY__WEBHOOK_SECRET"):
        Deliverer(DeliverySettings.model_validate(config))


def test_signatures_bind_body_secret_and_time() -> None:
    check = documented_verifier()
    body = b'{"alert": 1}'
    headers = sign_headers(SECRET.encode(), body)
    assert check(SECRET.encode(), headers, body) and verify(SECRET.encode(), headers, body)
    assert not check(SECRET.encode(), headers, body + b" ")
    assert not check(b"other secret", headers, body)
    old = sign_headers(SECRET.encode(), body, now=time.time() - 3600)
    assert not check(SECRET.encode(), old, body) and not verify(SECRET.encode(), old, body)
    assert not check(SECRET.encode(), {**headers, "X-Chainwatch-Signature": "v2=" + "0" * 64}, body)
    assert not check(SECRET.encode(), {}, body)


def test_the_spool_survives_a_killed_process(tmp_path: Path) -> None:
    """Rows enqueued by a process that is then killed -9 are all there for the next one."""
    spool_path = tmp_path / "spool.sqlite"
    code = (
        "import os, sys\n"
        "from streams.alerts.delivery.spool import Spool\n"
        f"s = Spool({str(spool_path)!r})\n"
        "s.enqueue([('soc', f'a{i}', 'high', b'{}') for i in range(200)])\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == -9, done.stderr
    spool = Spool(spool_path)
    assert spool.counts() == {"soc": {"pending": 200}}
    assert spool.enqueue([("soc", "a5", "high", b"{}"), ("soc", "new", "high", b"{}")]) == 1
    spool.close()


@pytest.mark.kafka
def test_the_loader_delivers_alerts_from_the_topic_once_even_when_it_reads_them_twice(
    kafka_broker: Any, tmp_path: Path, workload: Path, receiver: Receiver
) -> None:
    """Real broker: events and alerts on their topics; the loader stores, spools and delivers them.

    A second loader in a new consumer group reads every record again (what a crash before the offset
    commit causes): the spool's key keeps the endpoint at one request per alert.
    """
    import uuid
    import warnings

    from streams.kafka.loader import Loader
    from streams.kafka.producer import produce_files
    from streams.kafka.topics import create_topics
    from streams.kafka.wire import encode_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka import KafkaProducer

    tag = uuid.uuid4().hex[:8]
    settings = Settings.model_validate(
        {
            "kafka": {"bootstrap_servers": kafka_broker.bootstrap, "loader_batch_seconds": 0.3},
            "topics": {
                "events": f"ev-{tag}",
                "dead_letters": f"dlq-{tag}",
                "findings": f"fi-{tag}",
                "alerts": f"al-{tag}",
                "chains": f"ch-{tag}",
                "partitions": 2,
            },
            "delivery": delivery_config(tmp_path, receiver.url),
        }
    )
    create_topics(settings)
    produce_files([str(workload)], settings)
    # The alerts the worker would publish: computed by the embedded engine over the same workload.
    report = replay([str(workload)], build_engine(settings))
    alert_ids = sorted({a.alert_id for a in report.alerts})
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
    for alert in report.alerts:
        producer.send(settings.topics.alerts, key=alert.session_id.encode(), value=encode_model(alert))
    producer.flush()
    producer.close()

    db = tmp_path / "loaded.duckdb"
    for group in (f"first-{tag}", f"second-{tag}"):
        pipeline = AlertPipeline.from_settings(settings.delivery, background=True)
        assert pipeline is not None
        loader = Loader(settings, db, group_id=group, until_idle=3.0, alert_pipeline=pipeline)
        stats = loader.run()
        assert stats.records["alerts"] == len(report.alerts)
        assert pipeline.deliverer is not None
        pipeline.deliverer.drain_until_empty(20)
        pipeline.close()

    assert sorted(receiver.accepted) == alert_ids  # every alert, exactly once
    assert receiver.bad_signatures == 0
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("SELECT count(*) FROM alerts").fetchone()
    assert stored is not None and stored[0] == len(alert_ids)
    body = json.loads(receiver.bodies[alert_ids[0]])
    assert body["events"], "the view of a loaded alert carries its chain from the loaded events"


def test_bodies_are_redacted_before_they_leave() -> None:
    """A secret a detector copied into its details never reaches a webhook or a file."""
    from streams.alerts.delivery.formats import render
    from streams.alerts.view import AlertView
    from tests.test_suppression import make_alert

    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    alert = make_alert(details={"command": f"curl -H 'Authorization: token {token}' https://api.github.com"})
    for fmt in ("json", "ocsf"):  # both carry the detector's details
        body = render(AlertView(alert=alert), fmt)
        assert b"api.github.com" in body and token.encode() not in body
    assert token.encode() not in render(AlertView(alert=alert), "slack")


def test_chainwatch_run_delivers_and_reports(tmp_path: Path, workload: Path, receiver: Receiver) -> None:
    """The `run` command wires the settings' delivery block: spool, webhook, file, and a summary line."""
    spool = tmp_path / "spool.sqlite"
    env = {
        **os.environ,
        "CHAINWATCH_DELIVERY__WEBHOOKS": json.dumps(
            [{"name": "soc", "url": receiver.url, "min_severity": "high", "timeout_seconds": 2}]
        ),
        "CHAINWATCH_DELIVERY__WEBHOOK_SECRET": SECRET,
        "CHAINWATCH_DELIVERY__FILES": json.dumps([{"name": "file", "path": str(tmp_path / "alerts.jsonl")}]),
        "CHAINWATCH_DELIVERY__SPOOL_PATH": str(spool),
    }
    db = tmp_path / "cw.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "run", str(workload), "--db", str(db)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(db), read_only=True)
    every = {r[0] for r in con.execute("SELECT alert_id FROM alerts").fetchall()}
    high = {
        r[0]
        for r in con.execute("SELECT alert_id FROM alerts WHERE severity IN ('high', 'critical')").fetchall()
    }
    assert f"delivery: {len(every) + len(high)} queued, {len(every) + len(high)} delivered" in done.stderr
    assert set(receiver.accepted) == high and len(receiver.accepted) == len(high)
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["alert"]["alert_id"] for line in lines) == sorted(every)
    bad = subprocess.run(
        [sys.executable, "-m", "streams.cli", "run", str(workload), "--db", str(db)],
        cwd=REPO,
        env={k: v for k, v in env.items() if k != "CHAINWATCH_DELIVERY__WEBHOOK_SECRET"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 2 and "CHAINWATCH_DELIVERY__WEBHOOK_SECRET" in bad.stderr


def test_a_short_secret_is_refused_without_being_quoted(tmp_path: Path) -> None:
    config = delivery_config(tmp_path, "http://127.0.0.1:9/hook", webhook_secret="hunter2")
    with pytest.raises(DeliveryConfigError, match="shorter than 16") as err:
        Deliverer(DeliverySettings.model_validate(config))
    assert "hunter2" not in str(err.value)


def test_a_garbled_answer_is_retried_with_backoff_not_a_crash(tmp_path: Path, receiver: Receiver) -> None:
    """An endpoint (or a proxy) that answers something that is not HTTP: the attempt is counted and
    backed off like any outage, and the alert is delivered once the endpoint is sane again."""
    deliverer = Deliverer(DeliverySettings.model_validate(delivery_config(tmp_path, receiver.url)))
    deliverer.spool.enqueue([("soc", "alert-1", "high", b"{}")])
    receiver.mode = "garbled"
    stats = deliverer.drain()
    assert stats.failed_attempts == 1 and stats.delivered == 0
    assert deliverer.spool.counts() == {"soc": {"pending": 1}}
    (problem,) = deliverer.spool.problems()
    assert problem[3] == 1 and "BadStatusLine" in str(problem[4])
    receiver.mode = "ok"
    assert deliverer.drain_until_empty(5).delivered == 1 and receiver.accepted == ["alert-1"]
    deliverer.close()


def test_the_slack_body_cannot_ping_or_link_and_stays_within_slack_limits() -> None:
    """Audited text in mrkdwn: `<!channel>` would notify a whole channel and `<url|text>` disguise a link;
    a section over 3,000 characters makes Slack refuse the message (HTTP 400: the alert would stay
    rejected in the spool)."""
    from datetime import UTC, datetime

    from streams.alerts.delivery.formats import slack_message
    from streams.alerts.view import AlertView, TimelineEvent
    from tests.test_suppression import make_alert

    alert = make_alert(
        title="agent <!channel> deleted <https://evil.example|the runbook>", runbook="x" * 4000
    )
    event = TimelineEvent(
        "e1",
        datetime(2026, 1, 5, tzinfo=UTC),
        "tool_call",
        "bash",
        "exec",
        "<@U024BE7LH> & <!here>",
        None,
        None,
        None,
        None,
        True,
    )
    message = slack_message(AlertView(alert=alert, task="t" * 5000, events=(event,)))
    header, *rest = message["blocks"]
    mrkdwn = [message["text"]]
    mrkdwn += [b["text"]["text"] for b in rest if "text" in b]
    mrkdwn += [e["text"] for b in rest for e in b.get("elements", [])]
    assert len(mrkdwn) == 5  # fallback, who, steps, what to do, context
    for text in mrkdwn:
        assert "<!" not in text and "<@" not in text and "<http" not in text, text
        assert len(text) <= 3000
    assert "&lt;!channel&gt;" in message["text"] and "&lt;@U024BE7LH&gt; &amp; &lt;!here&gt;" in str(message)
    assert header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150


def test_rows_of_a_removed_sink_wait_without_starving_the_others_or_spinning(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A sink renamed or removed from the configuration leaves due rows in the spool. They must neither
    fill the drain's batch (the configured sinks' rows were never reached) nor make the next wait zero
    (the delivery thread and `chainwatch deliver` spun at 100 % CPU)."""
    config = delivery_config(tmp_path, receiver.url)
    spool = Spool(config["spool_path"])
    spool.enqueue([("old-name", f"stale-{i}", "high", b"{}") for i in range(5)], now=1.0)
    spool.close()
    deliverer = Deliverer(DeliverySettings.model_validate(config))
    deliverer.spool.enqueue([("soc", "alert-1", "high", b"{}")])
    assert deliverer.drain(max_rows=5).delivered == 1 and receiver.accepted == ["alert-1"]
    assert deliverer.spool.next_due(deliverer.sinks) is None  # nothing left for the configured sinks
    began = time.monotonic()
    assert deliverer.drain_until_empty(30).delivered == 0
    assert time.monotonic() - began < 5  # returned: nothing it can deliver is pending
    assert deliverer.spool.counts()["old-name"] == {"pending": 5}  # kept for when the sink returns
    deliverer.close()
