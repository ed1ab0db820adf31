"""``chainwatch state forget``: a tombstone for one key's saved state (issue 14).

Kept apart from ``stored.py``, which the topology imports: this module uses the topology's names.
"""

from __future__ import annotations

import orjson

from detectors.base import KEY_KINDS
from schemas.errors import ChainwatchError
from streams.settings import Settings


class StateForgetError(ChainwatchError):
    """A key's state could not be forgotten: a wrong scope, no such changelog, or the broker refused."""


def forget_key(settings: Settings, scope: str, key: str, bootstrap: str | None = None) -> tuple[str, int]:
    """Write a tombstone for a key's saved state to its scope's changelog topic (``chainwatch state
    forget``): the fix the dead letter of an unreadable state names. Run it with the workers stopped; on
    their next start they rebuild the table without the key, which starts afresh. The tombstone goes to the
    partition faust keeps the key's state in (the repartition topic's, by Kafka's default partitioner), with
    the key as faust writes it (JSON). Returns the topic and the partition."""
    from kafka.errors import KafkaError

    from streams.kafka.producer import EventProducer
    from streams.kafka.topics import missing_topics
    from streams.kafka.topology import changelog_topic, partition_for

    if scope not in KEY_KINDS:
        known = ", ".join(KEY_KINDS)
        raise StateForgetError(f"scope {scope!r} is not one of {known}: use the scope the dead letter names")
    topic = changelog_topic(settings, scope)
    # (asked of the admin API first: a producer's metadata request would let the broker auto-create it)
    if missing_topics(settings, bootstrap, [topic]):
        raise StateForgetError(
            f"the changelog topic {topic} does not exist on {bootstrap or settings.kafka.bootstrap_servers}: "
            "check the app id (CHAINWATCH_WORKER__APP_ID) and the bootstrap servers"
        )
    producer = EventProducer(settings, bootstrap)
    try:
        partitions = producer.producer.partitions_for(topic) or {0}
        partition = partition_for(key, len(partitions))
        future = producer.producer.send(topic, key=orjson.dumps(key), value=None, partition=partition)
        try:
            future.get(timeout=settings.kafka.request_timeout_seconds)
        except KafkaError as exc:
            raise StateForgetError(
                f"the broker did not take the tombstone for {key!r} on {topic}: {exc!r}"
            ) from None
    finally:
        producer.close()
    return topic, partition
