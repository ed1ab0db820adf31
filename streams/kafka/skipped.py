"""Messages faust never hands to an agent: noticing them and reading them back from the broker.

faust-streaming 0.15.3 can drop messages of a partition it keeps or takes over in a rebalance: its fetcher
races the queue clearing that ends a table recovery, and the messages it had fetched just before are
neither processed nor fetched again (upstream #596). Nothing reports it; the partition's commits stall
behind the hole until the next rebalance, and — when the hole is one message at the head — faust commits
straight over it (upstream #606), so those events would never be processed. The scale-out test
(tests/test_scaleout.py: a worker killed, another added) lost whole batches this way.

Our topics have no gaps (no transactions; the repartition topics are not compacted), so a message whose
offset is beyond the one after the last message an agent was handed — or beyond the committed offset, for
the first message after an assignment — marks a hole. :class:`Positions` finds it;
:func:`read_offsets` reads the missing records with a plain kafka-python consumer (no group: nothing is
committed); the topology handles them, in order, before the message that revealed the hole, and acks them
to faust so its commits move on.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, NamedTuple

from faust.types import TP, Message

from streams.kafka.security import kafka_python_kwargs
from streams.settings import Settings

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

READ_TIMEOUT_SECONDS = 30.0
FETCH_MAX_BYTES = 20 * 1024 * 1024  # above the events topic's 16 MiB message limit


class Hole(NamedTuple):
    """Offsets ``first..last`` (inclusive) of a partition that no agent was handed."""

    topic: str
    partition: int
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


class Positions:
    """The last offset handed over per partition since it was assigned, and the holes behind new ones."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {}

    def advance(self, topic: str, partition: int, offset: int, committed: int | None) -> Hole | None:
        """Record that ``offset`` was handed over; the hole it leaves behind, if any. ``committed`` is the
        group's committed offset, used for the first message after an assignment."""
        tp = (topic, partition)
        last = self.last.get(tp)
        expected = last + 1 if last is not None else committed
        if last is None or offset > last:
            self.last[tp] = offset
        if expected is not None and offset > expected:
            return Hole(topic, partition, expected, offset - 1)
        return None

    def forget(self, topic: str, partition: int) -> None:
        """The partition was revoked: its next owner starts from the committed offset."""
        self.last.pop((topic, partition), None)


def read_offsets(settings: Settings, hole: Hole, timeout: float = READ_TIMEOUT_SECONDS) -> list[Message]:
    """The records of ``hole`` as faust messages, in offset order (fewer when some no longer exist: a
    retention that deleted them, or the timeout). Blocking: run it in a thread."""
    kafka = settings.kafka
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=f"{kafka.client_id}-skipped",
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=FETCH_MAX_BYTES,
        fetch_max_bytes=FETCH_MAX_BYTES,
        **kafka_python_kwargs(kafka),
    )
    tp = TopicPartition(hole.topic, hole.partition)
    found: dict[int, Message] = {}
    try:
        consumer.assign([tp])
        consumer.seek(tp, hole.first)
        deadline = time.monotonic() + timeout
        while consumer.position(tp) <= hole.last and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if hole.first <= record.offset <= hole.last:
                        found[record.offset] = _as_message(record)
    finally:
        consumer.close()
    return [found[offset] for offset in sorted(found)]


def _as_message(record: Any) -> Message:
    return Message(
        record.topic,
        record.partition,
        record.offset,
        record.timestamp / 1000.0,
        record.timestamp_type,
        list(record.headers or []),
        record.key,
        record.value,
        None,
        tp=TP(record.topic, record.partition),
    )
