"""The streaming pipeline against the real local broker: produce → worker → load → DuckDB.

Every test uses its own topic names, consumer groups and worker app id (``Pipeline``), so tests share
the session's one broker without seeing each other's data. Worker and loader run as subprocesses,
started and stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from schemas.events import AnyEvent
from streams.settings import Settings
from streams.simulator.workload import write_jsonl
from streams.store.database import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.kafka


# --------------------------------------------------------------------------- helpers


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Proc:
    """A subprocess with its output in a file (read on failure)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0  # the worker's web port

    def output(self, tail: int = 60) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-tail:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.popen.returncode

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            pytest.fail(f"{self.name} did not exit within {timeout:.0f}s:\n{self.output()}")


@dataclass
class Pipeline:
    """One test's topics, groups, worker app id, database and processes."""

    bootstrap: str
    tmp: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    web_port: int = field(default_factory=lambda: _free_port())

    @property
    def env(self) -> dict[str, str]:
        t = self.tag
        env = {
            **os.environ,
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            "CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            "CHAINWATCH_TOPICS__EVENTS": f"ev-{t}",
            "CHAINWATCH_TOPICS__DEAD_LETTERS": f"dlq-{t}",
            "CHAINWATCH_TOPICS__FINDINGS": f"fi-{t}",
            "CHAINWATCH_TOPICS__ALERTS": f"al-{t}",
            "CHAINWATCH_TOPICS__CHAINS": f"ch-{t}",
            "CHAINWATCH_TOPICS__PARTITIONS": "4",
            "CHAINWATCH_KAFKA__LOADER_GROUP_ID": f"loader-{t}",
            "CHAINWATCH_KAFKA__LOADER_BATCH_SECONDS": "0.3",
            "CHAINWATCH_WORKER__APP_ID": f"cw-{t}",
            "CHAINWATCH_WORKER__DATA_DIR": str(self.tmp / f"worker-{t}"),
            "CHAINWATCH_WORKER__WEB_PORT": str(self.web_port),
            "CHAINWATCH_DB_PATH": str(self.db),
        }
        env.update(self.extra_env)
        return env

    @property
    def settings(self) -> Settings:
        keys = {k: v for k, v in self.env.items() if k.startswith("CHAINWATCH_")}
        with _patched_environ(keys):
            return Settings()

    @property
    def db(self) -> Path:
        return self.tmp / f"chainwatch-{self.tag}.duckdb"

    # -- commands
    def cli(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", *args],  # the `chainwatch` command
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(
                f"chainwatch {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        log = self.tmp / f"{name}-{len(self.procs)}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=REPO,
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def start_loader(self, *extra: str, env: dict[str, str] | None = None) -> Proc:
        return self.start("loader", "streams.cli", "load", "--db", str(self.db), *extra, env=env)

    def create_topics(self) -> None:
        self.cli("topics", "create")

    def produce_events(self, events: Sequence[AnyEvent], name: str = "input") -> None:
        path = self.tmp / f"{name}-{uuid.uuid4().hex[:6]}.jsonl"
        write_jsonl(events, path)
        self.cli("produce", str(path))

    def raw_producer(self) -> Any:
        return KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, max_request_size=20 * 1024 * 1024
        )

    def committed(self, group: str, topic: str) -> dict[int, int]:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            try:
                offsets = admin.list_group_offsets({group: None}).get(group, {})
            except Exception:  # the group has not committed yet
                return {}
            return {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic}
        finally:
            admin.close()

    def end_offsets(self, topic: str) -> dict[int, int]:
        from kafka.admin import OffsetSpec

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            parts = admin.describe_topics([topic])[0]["partitions"]
            specs = {TopicPartition(topic, p["partition_index"]): OffsetSpec.LATEST for p in parts}
            return {tp.partition: o.offset for tp, o in admin.list_partition_offsets(specs).items()}
        finally:
            admin.close()

    # -- the worker
    def start_worker(self) -> Proc:
        """``python -m streams.kafka.worker`` (what ``chainwatch worker`` runs) with a web port of its own."""
        port = _free_port()
        proc = self.start("worker", "streams.kafka.worker", env={"CHAINWATCH_WORKER__WEB_PORT": str(port)})
        proc.port = port
        return proc

    def wait_ready(self, worker: Proc, timeout: float = 120) -> dict[str, Any]:
        """Until the worker has joined its group and owns the events topic's partitions."""
        events_topic = self.settings.topics.events

        def ready() -> dict[str, Any] | None:
            if not worker.alive():
                pytest.fail(f"the worker exited with {worker.popen.returncode}:\n{worker.output()}")
            stats = worker_stats(worker.port)
            if stats and stats.get("ready") and stats.get("assigned", {}).get(events_topic):
                return stats
            return None

        result: dict[str, Any] = wait_for("the worker to be ready", ready, timeout)
        return result

    def worker_group(self) -> str:
        return self.settings.worker.app_id

    def wait_worker_committed(self, timeout: float = 90) -> None:
        """Until the worker committed everything on the events topic and then on its session repartition
        topic (the events were applied to its state, which is in the changelog)."""
        events_topic = self.settings.topics.events
        group = self.worker_group()
        wait_for(
            "the worker to commit the events topic",
            lambda: covers(self.committed(group, events_topic), self.end_offsets(events_topic)),
            timeout,
        )
        repartition = f"{group}-session-repartition"
        target = self.end_offsets(repartition)
        wait_for(
            "the worker to commit its repartition topic",
            lambda: covers(self.committed(group, repartition), target),
            timeout,
        )

    def read_topic(self, topic: str) -> list[Any]:
        """Every record of ``topic`` now (no consumer group)."""
        from kafka import KafkaConsumer

        end = self.end_offsets(topic)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            tps = [TopicPartition(topic, p) for p in end]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            records: list[Any] = []
            deadline = time.monotonic() + 60
            while any(consumer.position(tp) < end[tp.partition] for tp in tps):
                if time.monotonic() > deadline:
                    pytest.fail(f"could not read {topic} to its end")
                for batch in consumer.poll(timeout_ms=500).values():
                    records.extend(batch)
            return records
        finally:
            consumer.close()

    def closed_sessions(self) -> set[str]:
        from schemas.alerts import ChainSummary

        chains = [
            ChainSummary.model_validate_json(r.value)
            for r in self.read_topic(self.settings.topics.chains)
            if r.value is not None
        ]
        return {c.session_id for c in chains if c.closed}

    def loader_caught_up(self) -> bool:
        t = self.settings.topics
        group = self.settings.kafka.loader_group_id
        return all(
            covers(self.committed(group, topic), self.end_offsets(topic))
            for topic in (t.events, t.dead_letters, t.findings, t.alerts, t.chains)
        )

    def finish_loading(self, loader: Proc, timeout: float = 120) -> None:
        """Wait until the running loader stored everything, then stop it (SIGTERM) so the database opens."""
        wait_for("the loader to commit every topic", self.loader_caught_up, timeout, interval=0.5)
        code = loader.terminate(timeout=60)
        assert code == 0, loader.output()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.alive():
                proc.terminate(timeout=30)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with Store(self.db, read_only=True) as store:
            return store.query(sql)

    def counts(self) -> dict[str, int]:
        with Store(self.db, read_only=True) as store:
            return store.counts()


def covers(committed: dict[int, int], end: dict[int, int]) -> bool:
    """A group's committed offsets reach ``end`` on every partition that has messages."""
    return all(committed.get(p, 0) >= offset for p, offset in end.items() if offset > 0)


def worker_stats(port: int) -> dict[str, Any] | None:
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/chainwatch/stats/", timeout=2) as answer:
            data: dict[str, Any] = json.loads(answer.read())
            return data
    except (OSError, urllib.error.URLError, ValueError):
        return None


def alert_rows(db: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(alert id, severity, evidence event ids) of every alert in a database."""
    with Store(db, read_only=True) as store:
        rows = store.query("SELECT alert_id, severity, event_ids FROM alerts ORDER BY alert_id")
    return [(a, s, tuple(ids)) for a, s, ids in rows]


def embedded(events: Sequence[AnyEvent], settings: Settings, db: Path) -> Path:
    """The embedded path (what ``chainwatch run FILE --db`` does) over the same events."""
    from streams.ingest.replay import replay
    from streams.kafka.topology import build_engine

    path = db.with_suffix(".jsonl")
    write_jsonl(events, path)
    replay([str(path)], build_engine(settings), db_path=db, fmt="native")
    return db


@contextlib.contextmanager
def _patched_environ(values: dict[str, str]) -> Iterator[None]:
    old = {k: v for k, v in os.environ.items() if k.startswith("CHAINWATCH_")}
    for key in old:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        for key in values:
            os.environ.pop(key, None)
        os.environ.update(old)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pipeline(kafka_broker: Any, tmp_path: Path) -> Iterator[Pipeline]:
    pipe = Pipeline(kafka_broker.bootstrap, tmp_path)
    try:
        yield pipe
    finally:
        pipe.stop_all()


# --------------------------------------------------------------------------- tools without the worker


def test_topics_create_is_idempotent_and_describe_shows_offsets(pipeline: Pipeline) -> None:
    first = pipeline.cli("topics", "create")
    assert first.stdout.count("created") == 5
    again = pipeline.cli("topics", "create")
    assert again.stdout.count("exists") == 5 and "created" not in again.stdout
    described = pipeline.cli("topics", "describe", "--json")
    import json

    infos = {t["role"]: t for t in json.loads(described.stdout)}
    assert set(infos) == {"events", "dead_letters", "findings", "alerts", "chains"}
    assert all(len(t["partitions"]) == 4 for t in infos.values())
    assert infos["chains"]["cleanup_policy"] == "compact"
    assert infos["events"]["cleanup_policy"] == "delete"


def test_topics_create_flags_a_partition_mismatch(pipeline: Pipeline) -> None:
    pipeline.create_topics()
    pipeline.extra_env["CHAINWATCH_TOPICS__PARTITIONS"] = "6"
    done = pipeline.cli("topics", "create", check=False)
    assert done.returncode == 1
    assert "has 4 partitions, chainwatch expects 6" in done.stderr


def test_produce_without_topics_says_what_to_do(pipeline: Pipeline, tmp_path: Path) -> None:
    from streams.simulator.workload import simulate_events

    path = tmp_path / "in.jsonl"
    write_jsonl(simulate_events(seed=1, sessions=2), path)
    done = pipeline.cli("produce", str(path), check=False)
    assert done.returncode == 1 and "chainwatch topics create" in done.stderr


def test_produce_and_load_store_events_and_dead_letters(pipeline: Pipeline, tmp_path: Path) -> None:
    from streams.simulator.workload import simulate_events

    pipeline.create_topics()
    events = simulate_events(seed=11, sessions=30)
    path = tmp_path / "in.jsonl"
    write_jsonl(events, path)
    with open(path, "ab") as out:
        out.write(b'{"kind": "tool_call", "event_id": 1}\nnot json at all\n')
    done = pipeline.cli("produce", str(path), "--batch-events", "200")
    assert f"sent {len(events)} events of 30 sessions" in done.stdout
    assert "2 invalid records sent to" in done.stderr
    loaded = pipeline.cli("load", "--db", str(pipeline.db), "--until-idle", "3")
    assert "transactions" in loaded.stdout
    counts = pipeline.counts()
    assert counts["events"] + counts["credentials"] == len(events)
    assert counts["dead_letters"] == 2
    # the group's offsets cover every message: a second run loads nothing new
    again = pipeline.cli("load", "--db", str(pipeline.db), "--until-idle", "2", "--json")
    assert '"rows": 0' in again.stdout
    assert pipeline.counts() == counts


def test_loader_killed_between_db_commit_and_offset_commit_loses_and_duplicates_nothing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """The test hook exits the loader right after its first DuckDB commit: the offsets stay where they
    were, the next loader reads the same records again, and the upserts leave one row per id."""
    from streams.simulator.workload import simulate_events

    pipeline.create_topics()
    events = simulate_events(seed=12, sessions=20)
    pipeline.produce_events(events)
    crashed = pipeline.start_loader(
        "--until-idle", "30", "--batch-records", "100000", env={"CHAINWATCH_LOADER_EXIT_AFTER_DB_COMMIT": "1"}
    )
    assert crashed.wait(timeout=120) == 3, crashed.output()
    first = pipeline.counts()
    assert first["events"] + first["credentials"] == len(events)
    assert pipeline.committed(pipeline.settings.kafka.loader_group_id, pipeline.settings.topics.events) == {}
    loader = pipeline.start_loader("--until-idle", "3")
    assert loader.wait(timeout=120) == 0, loader.output()
    assert pipeline.counts() == first
    events_topic = pipeline.settings.topics.events
    assert pipeline.committed(pipeline.settings.kafka.loader_group_id, events_topic) == pipeline.end_offsets(
        events_topic
    )


def test_loader_sigterm_finishes_the_batch_and_commits(pipeline: Pipeline) -> None:
    from streams.simulator.workload import simulate_events

    pipeline.create_topics()
    loader = pipeline.start_loader("--batch-seconds", "0.2")
    events = simulate_events(seed=13, sessions=10)
    pipeline.produce_events(events)
    events_topic = pipeline.settings.topics.events
    group = pipeline.settings.kafka.loader_group_id
    wait_for(
        "the loader to commit every events message",
        lambda: pipeline.committed(group, events_topic) == pipeline.end_offsets(events_topic),
        timeout=90,
    )
    assert loader.terminate(timeout=30) == 0, loader.output()
    assert "loaded" in loader.output()
    counts = pipeline.counts()
    assert counts["events"] + counts["credentials"] == len(events)


# --------------------------------------------------------------------------- with the faust worker


def simulated(seed: int, sessions: int, attack_ratio: float = 0.25) -> tuple[list[Any], list[AnyEvent]]:
    from streams.simulator.workload import simulate

    runs = simulate(seed=seed, sessions=sessions, attack_ratio=attack_ratio)
    events = sorted((e for run in runs for e in run.events), key=lambda e: e.event_time)
    return runs, events


def assert_same_as_embedded(pipeline: Pipeline, events: Sequence[AnyEvent], sessions: int) -> None:
    expected_db = embedded(events, pipeline.settings, pipeline.tmp / "embedded.duckdb")
    expected = alert_rows(expected_db)
    assert expected, "the input should raise alerts"
    got = alert_rows(pipeline.db)
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing and not extra, f"missing {missing}\nextra {extra}"
    counts = pipeline.counts()
    assert counts["events"] + counts["credentials"] == len(events)
    with Store(pipeline.db, read_only=True) as store:
        [(chains, closed, total)] = store.query(
            "SELECT count(*), count(*) FILTER (WHERE closed), sum(event_count) FROM chains"
        )
    assert chains == closed == sessions and total == len(events)


@pytest.mark.slow
def test_produce_worker_load_equals_the_embedded_replay(pipeline: Pipeline) -> None:
    pipeline.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "3", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    pipeline.create_topics()
    worker = pipeline.start_worker()
    pipeline.wait_ready(worker)
    loader = pipeline.start_loader()
    runs, events = simulated(seed=21, sessions=60, attack_ratio=0.3)
    pipeline.produce_events(events)
    all_sessions = {run.session_id for run in runs}
    wait_for("every session to close", lambda: pipeline.closed_sessions() >= all_sessions, 120, interval=1)
    pipeline.finish_loading(loader)
    assert_same_as_embedded(pipeline, events, len(runs))


@pytest.mark.slow
def test_worker_killed_mid_stream_loses_and_duplicates_no_alert(pipeline: Pipeline) -> None:
    """kill -9 twice: once right after the first two steps of a privilege-escalation chain were applied
    and committed (the third step arrives at a new worker, which has only the changelog), once at an
    arbitrary point while a stream of small messages is being processed."""
    pipeline.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "15", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    pipeline.create_topics()
    runs, events = simulated(seed=22, sessions=40)
    attack = next(run for run in runs if run.scenario == "privilege_escalation")
    create, grant, key = attack.attack_steps
    ids = [e.event_id for e in events]
    cut = ids.index(grant) + 1
    assert ids.index(create) < cut <= ids.index(key)
    rest = events[cut:]
    middle = len(rest) // 2

    first = pipeline.start_worker()
    pipeline.wait_ready(first)
    pipeline.produce_events(events[:cut], "steps-1-2")
    pipeline.wait_worker_committed()
    first.kill9()

    second = pipeline.start_worker()
    pipeline.wait_ready(second)
    pipeline.cli("produce", str(_write(pipeline, rest[:middle], "middle")), "--batch-events", "20")
    time.sleep(1.0)  # some of those messages are processed, some not yet
    second.kill9()

    third = pipeline.start_worker()
    pipeline.wait_ready(third)
    pipeline.produce_events(rest[middle:], "end")
    all_sessions = {run.session_id for run in runs}
    wait_for("every session to close", lambda: pipeline.closed_sessions() >= all_sessions, 180, interval=1)
    loader = pipeline.start_loader("--until-idle", "3")
    assert loader.wait(timeout=180) == 0, loader.output()
    assert_same_as_embedded(pipeline, events, len(runs))
    escalation = pipeline.query(
        "SELECT event_ids FROM alerts WHERE detector_id = 'privilege.escalation_chain' "
        f"AND session_id = '{attack.session_id}'"
    )
    assert [tuple(r[0]) for r in escalation] == [(create, grant, key)]


@pytest.mark.slow
def test_broker_restart_mid_stream_loses_nothing(pipeline: Pipeline, kafka_broker: Any) -> None:
    pipeline.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "20", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    pipeline.create_topics()
    runs, events = simulated(seed=23, sessions=40)
    half = len(events) // 2
    worker = pipeline.start_worker()
    pipeline.wait_ready(worker)
    loader = pipeline.start_loader()
    pipeline.produce_events(events[:half], "first-half")
    pipeline.wait_worker_committed()
    try:
        kafka_broker.restart()
    finally:
        if not kafka_broker.is_running:
            kafka_broker.start()
    pipeline.produce_events(events[half:], "second-half")
    all_sessions = {run.session_id for run in runs}
    wait_for("every session to close", lambda: pipeline.closed_sessions() >= all_sessions, 240, interval=1)
    assert worker.alive(), f"the worker died with the broker restart:\n{worker.output()}"
    pipeline.finish_loading(loader, timeout=180)
    assert_same_as_embedded(pipeline, events, len(runs))


def _write(pipeline: Pipeline, events: Sequence[AnyEvent], name: str) -> Path:
    path = pipeline.tmp / f"{name}.jsonl"
    write_jsonl(events, path)
    return path


def hostile_messages(valid: Sequence[AnyEvent], partitions: int, seed: int = 5) -> tuple[list[Any], int, int]:
    """Valid batch messages with thousands of bad ones mixed in.

    Returns ``(messages, dead letters expected, valid events)``; a message is ``(key, value, partition,
    headers)``. The dead letters each bad message must produce are counted with the decoder the worker
    uses (``streams.kafka.wire.decode_events``), plus the cases the worker rejects beyond it.
    """
    import random

    from streams.kafka.producer import Packer
    from streams.kafka.wire import MAX_MESSAGE_BYTES, decode_events, encode_events

    rng = random.Random(seed)
    packer = Packer(partitions, max_events=50, max_bytes=900_000)
    for event in valid:
        assert packer.add(event) is None
    Message = tuple[bytes | None, bytes | None, int | None, list[tuple[str, bytes]]]
    good: list[Message] = [(m.key, m.value, m.partition, []) for m in packer.drain()]
    sample = [e.model_dump(mode="json", exclude_none=True) for e in valid[:200]]
    bad: list[Message] = []
    letters = 0

    def add(
        value: bytes | None, expected: int | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        nonlocal letters
        if expected is None:
            parsed = decode_events(value, "count")
            assert not [p for p in parsed if not hasattr(p, "reason")], "a bad message must hold no event"
            expected = len(parsed)
        letters += expected
        bad.append((f"hostile-{len(bad)}".encode(), value, None, headers or []))

    import orjson

    for i in range(3000):
        record = dict(rng.choice(sample))
        kind = i % 10
        if kind == 0:  # truncated
            text = orjson.dumps(record)
            add(text[: rng.randint(1, len(text) - 2)])
        elif kind == 1:  # not JSON at all
            add(f"garbage {i} <html>".encode())
        elif kind == 2:  # wrongly typed
            add(orjson.dumps({**record, "event_id": rng.randint(0, 10**6)}))
        elif kind == 3:  # an unknown kind
            add(orjson.dumps({**record, "kind": "mystery"}))
        elif kind == 4:  # scalars and arrays of scalars
            add(rng.choice([b"42", b"[1, 2, 3]", b'"text"', b"null", b"true"]))
        elif kind == 5:  # empty
            add(rng.choice([b"", b"   ", None]))
        elif kind == 6:  # binary junk
            add(bytes(rng.getrandbits(8) for _ in range(rng.randint(50, 400))))
        elif kind == 7:  # a required field missing, a bad time
            broken = {k: v for k, v in record.items() if k != "source"}
            add(orjson.dumps(rng.choice([broken, {**record, "event_time": "yesterday-ish"}])))
        elif kind == 8:  # a format header that names no adapter (the worker dead-letters the message)
            add(orjson.dumps(record), expected=1, headers=[("chainwatch-format", b"yaml")])
        else:  # an array with a bad element and a bad one with a valid-looking one of another session id
            add(orjson.dumps([{**record, "event_id": None}, {"kind": "tool_call"}]))
    # oversized: over the 8 MiB the worker reads (the topic accepts up to 16 MiB)
    for _ in range(2):
        add(b"{" + b" " * (MAX_MESSAGE_BYTES + 1024) + b"}", expected=1)
    # one event over the worker's repartition limit, alone in its message
    from schemas.events import ToolCall

    first_call = next(e for e in valid if isinstance(e, ToolCall))
    huge = first_call.model_copy(update={"event_id": "huge-1", "arguments": {"blob": "q" * 950_000}})
    assert len(encode_events([huge])) > 950_000
    add(encode_events([huge]), expected=1)
    # mixed: good messages with a bad line appended
    for j in range(0, len(good), 7):
        key, value, partition, headers = good[j]
        good[j] = (key, (value or b"") + b'\n{"kind": "tool_call", "event_id": "x"', partition, headers)
        letters += 1
    # interleave, keeping each partition's valid messages in order
    messages: list[Any] = []
    queue = list(good)
    for message in bad:
        if queue and rng.random() < len(good) / (len(good) + len(bad)) * 1.5:
            messages.append(queue.pop(0))
        messages.append(message)
    messages.extend(queue)
    return messages, letters, len(valid)


@pytest.mark.slow
def test_hostile_input_is_dead_lettered_and_every_valid_event_processed(pipeline: Pipeline) -> None:
    pipeline.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "4", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    pipeline.create_topics()
    runs, events = simulated(seed=31, sessions=30)
    messages, expected_letters, valid = hostile_messages(events, pipeline.settings.topics.partitions)
    worker = pipeline.start_worker()
    pipeline.wait_ready(worker)
    loader = pipeline.start_loader()
    producer = pipeline.raw_producer()
    try:
        topic = pipeline.settings.topics.events
        for key, value, partition, headers in messages:
            producer.send(topic, key=key, value=value, partition=partition, headers=headers or None)
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)
    all_sessions = {run.session_id for run in runs}
    wait_for("every session to close", lambda: pipeline.closed_sessions() >= all_sessions, 240, interval=1)
    assert worker.alive(), worker.output()
    pipeline.finish_loading(loader, timeout=180)
    counts = pipeline.counts()
    assert counts["events"] + counts["credentials"] == valid
    [(chains, closed, processed)] = pipeline.query(
        "SELECT count(*), count(*) FILTER (WHERE closed), sum(event_count) FROM chains"
    )
    assert chains == closed == len(runs) and processed == valid  # the worker saw every valid event
    assert counts["dead_letters"] == expected_letters
    [(no_reason,)] = pipeline.query("SELECT count(*) FROM dead_letters WHERE coalesce(reason, '') = ''")
    assert no_reason == 0
    stages = dict(pipeline.query("SELECT stage, count(*) FROM dead_letters GROUP BY stage"))
    assert stages.get("ingest") == 1  # the event over the repartition limit
    assert_same_as_embedded(pipeline, events, len(runs))
