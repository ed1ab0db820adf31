"""The local Kafka broker (kafka/broker.py) is a real broker: topics, produce/consume, restarts keep data."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from tests import kafka_support
from tests.kafka_support import BROKER_PY, kafka_broker, unique_topic  # kafka_broker is the fixture

pytestmark = pytest.mark.kafka

__all__ = ["kafka_broker"]  # a fixture: imported to be used, not unused


def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]], producer: Any = None) -> None:
    """Send (key, value) pairs and wait until the broker acknowledged each one."""
    own = producer is None
    producer = producer or KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, key=key, value=value) for key, value in messages]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)
    finally:
        if own:
            producer.close(timeout=10)


def consume(bootstrap: str, topic: str, group: str, expected: int, timeout: float = 60.0) -> list[Any]:
    """Read ``expected`` records as ``group`` (from the earliest offset if the group has none), then
    linger briefly to catch any record too many, commit, and return them all."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
        if records:
            consumer.commit()
    finally:
        consumer.close(autocommit=False)
    return records


def keyed(prefix: str, count: int) -> list[tuple[bytes, bytes]]:
    return [(f"k{i % 5}".encode(), f"{prefix}-{i}".encode()) for i in range(count)]


def values(records: list[Any]) -> list[bytes]:
    return sorted(r.value for r in records)


def test_broker_runs_on_loopback(kafka_broker: Any) -> None:
    assert kafka_broker.bootstrap == f"127.0.0.1:{kafka_broker.port}"
    assert kafka_broker.is_running and kafka_broker.pid_file.read_text().strip() == str(kafka_broker.pid)
    props = kafka_support.broker_module.read_properties(kafka_broker.config_file)
    assert props["process.roles"] == "broker,controller"
    assert "controller.quorum.voters" not in props
    for listener in props["listeners"].split(","):
        assert listener.split("://")[1].startswith("127.0.0.1:")
    brokers = kafka_support.broker_module.metadata_brokers("127.0.0.1", kafka_broker.port)
    assert brokers == [(1, "127.0.0.1", kafka_broker.port)]


def test_create_topic_produce_and_consume(kafka_broker: Any) -> None:
    topic = unique_topic("roundtrip")
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}}, wait_for_metadata=True)
        assert topic in admin.list_topics()
        [described] = admin.describe_topics([topic])
        assert len(described["partitions"]) == 3
    finally:
        admin.close()

    sent = keyed("hello", 30)
    produce(kafka_broker.bootstrap, topic, sent)
    records = consume(kafka_broker.bootstrap, topic, unique_topic("group"), expected=len(sent))

    assert values(records) == sorted(v for _k, v in sent)
    # one key, one partition, in order
    by_key: dict[bytes, list[bytes]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(record.key, []).append(record.value)
        assert {r.partition for r in records if r.key == record.key} == {record.partition}
    for key, got in by_key.items():
        assert got == [v for k, v in sent if k == key]


def test_auto_created_topic_gets_four_partitions(kafka_broker: Any) -> None:
    topic = unique_topic("auto")
    produce(kafka_broker.bootstrap, topic, keyed("auto", 8))
    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    try:
        assert consumer.partitions_for_topic(topic) == {0, 1, 2, 3}
    finally:
        consumer.close()


def test_restart_keeps_messages_and_group_offsets(kafka_broker: Any) -> None:
    bootstrap, topic, group = kafka_broker.bootstrap, unique_topic("restart"), unique_topic("group")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        before = keyed("before", 40)
        produce(bootstrap, topic, before, producer)
        assert values(consume(bootstrap, topic, group, expected=40)) == sorted(v for _k, v in before)

        pid = kafka_broker.pid
        try:
            kafka_broker.restart()
        finally:
            if not kafka_broker.is_running:
                kafka_broker.start()
        assert kafka_broker.pid != pid
        assert kafka_broker.bootstrap == bootstrap

        after = keyed("after", 10)
        produce(bootstrap, topic, after, producer)  # the same producer carries on after the restart
    finally:
        producer.close(timeout=10)

    # the group's committed offsets survived: it gets only the new messages
    assert values(consume(bootstrap, topic, group, expected=10)) == sorted(v for _k, v in after)
    # and every message is still there for a new group
    everything = consume(bootstrap, topic, unique_topic("fresh"), expected=50)
    assert values(everything) == sorted(v for _k, v in before + after)


def test_killed_broker_keeps_acknowledged_messages(kafka_broker: Any) -> None:
    bootstrap, topic = kafka_broker.bootstrap, unique_topic("crash")
    sent = keyed("crash", 25)
    produce(bootstrap, topic, sent)
    try:
        kafka_broker.restart(hard=True)  # SIGKILL, then start: log recovery
    finally:
        if not kafka_broker.is_running:
            kafka_broker.start()
    records = consume(bootstrap, topic, unique_topic("group"), expected=25)
    assert values(records) == sorted(v for _k, v in sent)


def test_cli_up_status_down(tmp_path: Any) -> None:
    kafka_support.check_prerequisites_or_skip()
    data = tmp_path / "cli-data"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(BROKER_PY), *args, "--data", str(data)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert cli("status").returncode == 1
    up = cli("up", "--port", "0")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "bootstrap 127.0.0.1:" in up.stdout
        status = cli("status")
        assert status.returncode == 0 and "Kafka running" in status.stdout
        pid = int((data / "broker.pid").read_text())
        assert cli("up", "--port", "0").stdout.startswith("Kafka already running")
    finally:
        down = cli("down")
    assert down.returncode == 0 and f"pid {pid}" in down.stdout, down.stdout + down.stderr
    assert not (data / "broker.pid").exists()
    assert not kafka_support.broker_module.pid_alive(pid)
    assert cli("status").returncode == 1


def test_missing_tools_skip_locally_but_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no java"):
        kafka_support.skip_or_fail("no java")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no java"):
        kafka_support.skip_or_fail("no java")


def test_state_forget_writes_the_tombstone_faust_reads_for_the_key(
    kafka_broker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``chainwatch state forget`` (the fix an unreadable state's dead letter names) writes a null value
    with the key as faust writes keys (JSON) to the scope's changelog, on the partition that holds the
    key's state (the repartition topic's, by Kafka's default partitioner)."""
    from typer.testing import CliRunner

    from streams.cli.main import app
    from streams.kafka.topology import partition_for

    app_id = unique_topic("forget-app")
    changelog = f"{app_id}-session-state-changelog"
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.create_topics(
            {changelog: {"num_partitions": 4, "replication_factor": 1}}, wait_for_metadata=True
        )
    finally:
        admin.close()
    monkeypatch.setenv("CHAINWATCH_WORKER__APP_ID", app_id)
    runner = CliRunner()
    keys = ["s1", "session 'b' 7"]  # (a key that needs quoting in the command the dead letter shows)
    for key in keys:
        result = runner.invoke(
            app, ["state", "forget", "session", key, "--bootstrap", kafka_broker.bootstrap]
        )
        assert result.exit_code == 0, result.output
        assert changelog in result.output
    records = consume(kafka_broker.bootstrap, changelog, unique_topic("group"), expected=len(keys))
    got = sorted((r.key, r.value, r.partition) for r in records)
    assert got == sorted((orjson.dumps(k), None, partition_for(k, 4)) for k in keys)
    # no such changelog (a wrong app id): a clear error, exit 1, nothing written
    monkeypatch.setenv("CHAINWATCH_WORKER__APP_ID", unique_topic("no-such-app"))
    missing = runner.invoke(app, ["state", "forget", "session", "s1", "--bootstrap", kafka_broker.bootstrap])
    assert missing.exit_code == 1 and "does not exist" in missing.output
