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
from streams.simulator import write_jsonl
from streams.store import Store

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
            [sys.executable, "-m", "streams.cli_kafka", *args],
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
        return self.start("loader", "streams.cli_kafka", "load", "--db", str(self.db), *extra, env=env)

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
    from streams.simulator import simulate_events

    path = tmp_path / "in.jsonl"
    write_jsonl(simulate_events(seed=1, sessions=2), path)
    done = pipeline.cli("produce", str(path), check=False)
    assert done.returncode == 1 and "chainwatch topics create" in done.stderr


def test_produce_and_load_store_events_and_dead_letters(pipeline: Pipeline, tmp_path: Path) -> None:
    from streams.simulator import simulate_events

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
    from streams.simulator import simulate_events

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
    from streams.simulator import simulate_events

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
