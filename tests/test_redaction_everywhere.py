"""Redaction holds everywhere, and a producer cannot make the worker write to a topic of its choice.

A seeded corpus of secrets (tests/secret_corpus.py) rides in tool arguments, results, errors, tasks,
targets, chat transcripts and broken records, through both paths:

- embedded: `chainwatch run` into a DuckDB file;
- streaming: `chainwatch produce` → the real worker → `chainwatch load`, on the real broker.

Then every table of both databases, every record (key, value, headers) of every topic the run wrote
(public, dead-letter, repartition and changelog topics alike), the integrity manifest and the output of
every process are searched for each secret: none may appear raw.

The same streaming run carries a message with faust's ``Faust-Ag-ReplyTo`` header naming another topic:
faust answers it only for agents that yield, and ours must not write there.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from streams.store.integrity import manifest_path
from tests.secret_corpus import (
    Secret,
    broken_lines,
    echoed_records,
    echoed_secrets,
    leaks,
    native_records,
    openai_chat_record,
    secret_corpus,
)
from tests.test_stream_e2e import REPO, Pipeline, wait_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

BASE = secret_corpus(seed=9)
ECHOED = echoed_secrets(seed=9)  # passwords named once, then echoed in plain text
CORPUS = [*BASE, *ECHOED]


def write_inputs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    native = folder / "native.jsonl"
    native.write_text("\n".join(json.dumps(r) for r in native_records(BASE)) + "\n")
    chat = folder / "chat.json"
    chat.write_text(json.dumps([openai_chat_record(BASE)]))
    broken = folder / "broken.jsonl"
    broken.write_text("\n".join(broken_lines(BASE)) + "\n")
    echoed = folder / "echoed.jsonl"  # the same process reads it after the others (memory is per process)
    echoed.write_text("\n".join(json.dumps(r) for r in echoed_records(ECHOED)) + "\n")
    return [native, chat, broken, echoed]


def database_text(db: Path) -> str:
    """Every row of every table (chainwatch's and any added later) as text."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert {"events", "chains", "dead_letters", "integrity_runs"} <= set(tables)
        return "\n".join(repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


def assert_no_leak(where: str, text: str, corpus: list[Secret] = CORPUS) -> None:
    found = leaks(corpus, text)
    assert not found, f"{where}: {len(found)} raw secret fragment(s) of kinds {sorted({k for k, _ in found})}"


# --------------------------------------------------------------------------- embedded


def test_corpus_reaches_the_store_and_nothing_leaks_embedded(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    db = tmp_path / "cw.duckdb"
    outputs = []
    formats = ("native", "openai-chat", "native", "native")
    for fmt, path in zip(formats, inputs, strict=True):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "run",
                str(path),
                "--format",
                fmt,
                "--db",
                str(db),
                "--json",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
    text = database_text(db)
    # the corpus really went in: its events, its dead letters and redaction markers are stored
    with duckdb.connect(str(db), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM events WHERE source = 'redaction-corpus'").fetchone()[0] >= 45
        )
        assert con.execute("SELECT count(*) FROM dead_letters").fetchone()[0] >= len(BASE)
    assert text.count("[REDACTED:") >= 3 * len(CORPUS)
    assert_no_leak("DuckDB (embedded)", text)
    assert_no_leak("chainwatch run output", "\n".join(outputs))
    assert_no_leak("integrity manifest", manifest_path(db).read_text())


# --------------------------------------------------------------------------- streaming


@dataclass
class StreamRun:
    pipe: Pipeline
    topics: dict[str, list[Any]]  # every topic of this run -> its records
    logs: str
    reply_topic: str


def all_records(bootstrap: str, tag: str) -> dict[str, list[Any]]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        names = sorted(t for t in admin.list_topics() if tag in t)
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    out: dict[str, list[Any]] = {}
    try:
        for name in names:
            parts = consumer.partitions_for_topic(name) or set()
            tps = [TopicPartition(name, p) for p in parts]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            end = consumer.end_offsets(tps)
            records: list[Any] = []
            while any(consumer.position(tp) < end[tp] for tp in tps):
                for batch in consumer.poll(timeout_ms=500).values():
                    records.extend(batch)
            out[name] = records
    finally:
        consumer.close()
    return out


@pytest.fixture(scope="module")
def stream_run(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamRun]:
    tmp = tmp_path_factory.mktemp("redaction-stream")
    pipe = Pipeline(kafka_broker.bootstrap, tmp)
    pipe.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "3", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    reply_topic = f"stolen-{pipe.tag}"
    outputs: list[str] = []
    try:
        outputs.append(pipe.cli("topics", "create").stdout)
        worker = pipe.start_worker()
        pipe.wait_ready(worker)
        loader = pipe.start_loader()
        inputs = write_inputs(tmp / "in")
        for path, fmt in zip(inputs, ("native", "openai-chat", "native", "native"), strict=True):
            done = pipe.cli("produce", str(path), "--format", fmt)
            outputs.append(done.stdout + done.stderr)
        # A message that asks faust to send the agent's answer to a topic of the producer's choice.
        producer = pipe.raw_producer()
        # (no secret in it: this raw message is the test's input, not something chainwatch wrote)
        event = native_records(BASE, session=f"replyto-{pipe.tag}")[1]
        event.update(arguments={"command": "ls"}, result_summary="ok")
        producer.send(
            pipe.settings.topics.events,
            value=json.dumps(event).encode(),
            key=event["session_id"].encode(),
            headers=[("Faust-Ag-ReplyTo", reply_topic.encode()), ("Faust-Ag-CorrelationId", b"c-1")],
        )
        producer.flush()
        producer.close()
        sessions = {"redaction-s1", "redaction-chat-1", "redaction-echo-1", f"replyto-{pipe.tag}"}
        wait_for("the corpus sessions to close", lambda: pipe.closed_sessions() >= sessions, 120, interval=1)
        pipe.finish_loading(loader)
        code = worker.terminate()
        assert code == 0, worker.output()
        topics = all_records(kafka_broker.bootstrap, pipe.tag)
        logs = "\n".join([*outputs, *(p.log.read_text(errors="replace") for p in pipe.procs)])
        yield StreamRun(pipe, topics, logs, reply_topic)
    finally:
        pipe.stop_all()


@pytest.mark.kafka
def test_no_topic_the_run_wrote_holds_a_raw_secret(stream_run: StreamRun) -> None:
    t = stream_run.pipe.settings.topics
    written = {name for name, records in stream_run.topics.items() if records}
    # the run really wrote the public, dead-letter and internal topics that are searched
    assert {t.events, t.dead_letters, t.chains} <= written
    assert any("repartition" in n for n in written) and any("changelog" in n for n in written), written
    for name, records in stream_run.topics.items():
        text = "\n".join(repr((r.key, r.value, [(k, v) for k, v in (r.headers or [])])) for r in records)
        if name == t.events or name == t.dead_letters:
            # what the producer sent is already redacted: `chainwatch produce` parses before it sends
            assert_no_leak(f"topic {name}", text)
        else:
            assert_no_leak(f"topic {name} (written by the worker)", text)


@pytest.mark.kafka
def test_no_table_of_the_loaded_database_holds_a_raw_secret(stream_run: StreamRun) -> None:
    text = database_text(stream_run.pipe.db)
    assert text.count("[REDACTED:") >= 3 * len(CORPUS)
    assert_no_leak("DuckDB (loaded from Kafka)", text)


@pytest.mark.kafka
def test_no_process_output_holds_a_raw_secret(stream_run: StreamRun) -> None:
    assert "chainwatch" in stream_run.logs.lower()  # the worker and loader logs were captured
    assert_no_leak("worker / loader / CLI output", stream_run.logs)


@pytest.mark.kafka
def test_reply_to_header_makes_the_worker_write_nowhere(stream_run: StreamRun) -> None:
    pipe = stream_run.pipe
    assert stream_run.reply_topic not in stream_run.topics
    admin = KafkaAdminClient(bootstrap_servers=pipe.bootstrap)
    try:
        assert (
            stream_run.reply_topic not in admin.list_topics()
        )  # not even auto-created by a metadata request
    finally:
        admin.close()
    # the message itself was processed like any other: its event is stored
    session = f"replyto-{pipe.tag}"
    assert pipe.query(f"SELECT count(*) FROM events WHERE session_id = '{session}'")[0][0] == 1


def test_no_worker_agent_yields() -> None:
    """faust answers Faust-Ag-ReplyTo only for agents that are async generators; ours are plain coroutines."""
    from streams.kafka.topology import build_topology
    from streams.settings import Settings

    topology = build_topology(Settings(), engine=None)
    agents = list(topology.app.agents.values())
    assert agents
    for agent in agents:
        assert not inspect.isasyncgenfunction(agent.fun), agent.name


def test_corpus_is_seeded_and_distinct() -> None:
    again = secret_corpus(seed=9)
    assert [s.value for s in again] == [s.value for s in BASE]
    assert len({s.kind for s in CORPUS}) == len(CORPUS) >= 12
    assert secret_corpus(seed=10)[0].value != BASE[0].value
    assert uuid.uuid4().hex not in "".join(s.value for s in CORPUS)


@pytest.mark.kafka
def test_the_loader_writes_a_verifiable_audit_trail(stream_run: StreamRun) -> None:
    """The Kafka loader goes through the same Store.write: its database verifies like a replay's."""
    from streams.store.integrity import verify_db

    report = verify_db(stream_run.pipe.db)
    assert report.ok, [str(p) for p in report.problems]
    assert report.rows > 40 and report.runs >= 1
