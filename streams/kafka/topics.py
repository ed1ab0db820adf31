"""The Kafka topics chainwatch owns: what they are for, how many partitions, which cleanup policy.

``chainwatch topics create`` makes them (idempotent: a topic that exists is left alone and checked);
``chainwatch topics describe`` prints partitions, offsets and consumer-group lag. The faust worker
creates its own internal topics (the repartition topic and the table changelogs) with the same
partition count as the source topic, which faust requires.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import ChainwatchError
from streams.kafka.bootstrap import unreachable
from streams.kafka.security import kafka_python_kwargs, preflight
from streams.settings import Settings

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType, OffsetSpec
    from kafka.errors import KafkaError, KafkaTimeoutError

TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code


class KafkaUnavailable(ChainwatchError):
    """The broker could not be reached (or answered with an error); transient: retry once it is up."""

    terminal = False


@dataclass(frozen=True)
class TopicSpec:
    """One topic as chainwatch needs it."""

    role: str
    name: str
    partitions: int
    configs: dict[str, str]
    purpose: str


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic of the pipeline, with the partition count and config the app needs.

    All of them get ``settings.topics.partitions`` partitions: the source topic because faust needs its
    repartition topic and tables co-partitioned with it; the output topics because they are keyed by
    session id, so one session's results stay in order on one partition.

    Cleanup policies: everything is time-retained (``delete``) except the chains topic, which is
    compacted: each message is a session's newest summary, keyed by session id, so compaction keeps
    exactly the current state of every chain. Findings and alerts are *not* compacted: they are keyed by
    session too, and compaction would drop all but a session's last alert.
    """
    t = settings.topics
    delete = {"cleanup.policy": "delete"}
    return [
        TopicSpec(
            "events",
            t.events,
            t.partitions,
            {**delete, "max.message.bytes": str(t.events_max_message_bytes)},
            "raw events in: one event or a batch per message (chainwatch produce, gateways)",
        ),
        TopicSpec(
            "dead_letters",
            t.dead_letters,
            t.partitions,
            dict(delete),
            "inputs that could not be processed, with the reason",
        ),
        TopicSpec("findings", t.findings, t.partitions, dict(delete), "every finding, keyed by session"),
        TopicSpec("alerts", t.alerts, t.partitions, dict(delete), "alerts, keyed by session"),
        TopicSpec(
            "chains",
            t.chains,
            t.partitions,
            {"cleanup.policy": "compact"},
            "newest chain summary per session (compacted)",
        ),
    ]


@contextlib.contextmanager
def admin_client(settings: Settings, bootstrap: str | None = None) -> Iterator[Any]:
    """A kafka-python admin client; a broker that cannot be reached becomes :class:`KafkaUnavailable`."""
    servers = bootstrap or settings.kafka.bootstrap_servers
    preflight(settings.kafka, servers)  # wrong TLS/SASL settings: a clear error now, not a 30 s timeout
    try:
        admin = KafkaAdminClient(
            **kafka_python_kwargs(settings.kafka),
            bootstrap_servers=servers.split(","),
            client_id=f"{settings.kafka.client_id}-admin",
            request_timeout_ms=int(settings.kafka.request_timeout_seconds * 1000),
        )
    except KafkaTimeoutError as exc:
        raise KafkaUnavailable(unreachable(servers, bootstrap, exc)) from None
    try:
        yield admin
    finally:
        admin.close()


@dataclass
class CreateResult:
    spec: TopicSpec
    status: str  # "created" | "exists" | "mismatch"
    partitions: int
    problems: list[str] = field(default_factory=list)


def creation_request(settings: Settings, specs: list[TopicSpec]) -> dict[str, dict[str, Any]]:
    """The admin client's create_topics request for these specs (one shape for public and internal topics)."""
    return {
        s.name: {
            "num_partitions": s.partitions,
            "replication_factor": settings.topics.replication_factor,
            "configs": s.configs,
        }
        for s in specs
    }


def create_topics(settings: Settings, bootstrap: str | None = None) -> list[CreateResult]:
    """Create the missing topics; check (never change) the ones that exist."""
    specs = topic_specs(settings)
    with admin_client(settings, bootstrap) as admin:
        try:
            response = admin.create_topics(creation_request(settings, specs), raise_errors=False)
        except KafkaError as exc:
            raise KafkaUnavailable(f"creating topics failed: {exc!r}") from None
        errors = {t["name"]: (t["error_code"], t.get("error_message")) for t in response["topics"]}
        for name, (code, message) in errors.items():
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise ChainwatchError(
                    f"could not create topic {name!r}: error {code} {message or ''}".strip()
                )
        created = [name for name, (code, _) in errors.items() if code == 0]
        if created:
            admin.wait_for_topics(created, timeout_ms=int(settings.kafka.request_timeout_seconds * 1000))
        existing = [s for s in specs if errors.get(s.name, (0, None))[0] == TOPIC_ALREADY_EXISTS]
        partitions = _partition_counts(admin, [s.name for s in existing])
        policies = _configs(admin, [s.name for s in existing])
    results = []
    for spec in specs:
        if spec not in existing:
            results.append(CreateResult(spec, "created", spec.partitions))
            continue
        have = partitions.get(spec.name, 0)
        problems = []
        if have != spec.partitions:
            problems.append(
                f"has {have} partitions, chainwatch expects {spec.partitions}: set "
                f"CHAINWATCH_TOPICS__PARTITIONS={have} to use it as it is (worker, tables and "
                "repartition topic must agree), or delete and recreate it"
            )
        for key, wanted in spec.configs.items():
            actual = policies.get(spec.name, {}).get(key)
            if actual is not None and actual != wanted:
                problems.append(
                    f"{key}={actual}, chainwatch expects {wanted} "
                    f"(kafka-configs --alter --add-config {key}={wanted})"
                )
        results.append(CreateResult(spec, "mismatch" if problems else "exists", have, problems))
    return results


def missing_topics(settings: Settings, bootstrap: str | None = None, names: Sequence[str] = ()) -> list[str]:
    """Which of ``names`` (default: every chainwatch topic) the broker does not have.

    Asked through the admin client, whose metadata requests never auto-create topics: kafka-python 3.0's
    producer and consumer ignore ``allow_auto_create_topics=False`` and would create a missing topic with
    the broker's defaults (wrong partition count, no compaction) just by looking it up.
    """
    wanted = list(names) or [s.name for s in topic_specs(settings)]
    with admin_client(settings, bootstrap) as admin:
        try:
            found = _partition_counts(admin, wanted)
        except KafkaError as exc:
            raise KafkaUnavailable(f"describing topics failed: {exc!r}") from None
    return [name for name in wanted if name not in found]


def require_topics(settings: Settings, bootstrap: str | None, names: Sequence[str]) -> None:
    missing = missing_topics(settings, bootstrap, names)
    if missing:
        raise ChainwatchError(
            f"topic(s) {', '.join(missing)} do not exist on the broker; run `chainwatch topics create` first"
        )


def _partition_counts(admin: Any, names: Sequence[str]) -> dict[str, int]:
    if not names:
        return {}
    return {
        t["name"]: len(t["partitions"]) for t in admin.describe_topics(list(names)) if t["error_code"] == 0
    }


def _configs(admin: Any, names: Sequence[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    described = admin.describe_configs(resources, config_filter="all").get("topic", {})
    return {name: {k: v.get("value") for k, v in values.items()} for name, values in described.items()}


# -- describe


@dataclass
class PartitionInfo:
    partition: int
    earliest: int
    latest: int
    committed: dict[str, int | None] = field(default_factory=dict)  # consumer group -> committed offset

    @property
    def messages(self) -> int:
        return self.latest - self.earliest


@dataclass
class TopicInfo:
    role: str
    name: str
    exists: bool
    expected_partitions: int | None
    cleanup_policy: str | None = None
    partitions: list[PartitionInfo] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.partitions)

    def lag(self, group: str) -> int | None:
        """Messages not yet committed by ``group`` (None when the group committed nothing here)."""
        lags = [p.latest - c for p in self.partitions if (c := p.committed.get(group)) is not None]
        return sum(lags) if lags else None

    def to_dict(self, groups: Sequence[str]) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "exists": self.exists,
            "expected_partitions": self.expected_partitions,
            "cleanup_policy": self.cleanup_policy,
            "messages": self.messages,
            "lag": {g: self.lag(g) for g in groups},
            "partitions": [
                {
                    "partition": p.partition,
                    "earliest": p.earliest,
                    "latest": p.latest,
                    "committed": p.committed,
                }
                for p in self.partitions
            ],
        }


def describe_topics(
    settings: Settings,
    bootstrap: str | None = None,
    *,
    extra_topics: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> list[TopicInfo]:
    """Partitions, earliest/latest offsets and each group's committed offsets of chainwatch's topics."""
    specs = topic_specs(settings)
    wanted: list[tuple[str, str, int | None]] = [(s.role, s.name, s.partitions) for s in specs]
    wanted += [("other", name, None) for name in extra_topics if name not in {s.name for s in specs}]
    with admin_client(settings, bootstrap) as admin:
        try:
            described = {t["name"]: t for t in admin.describe_topics([name for _, name, _ in wanted])}
            present = [name for _, name, _ in wanted if described.get(name, {}).get("error_code", 3) == 0]
            configs = _configs(admin, present)
            tps = [
                TopicPartition(name, p["partition_index"])
                for name in present
                for p in described[name]["partitions"]
            ]
            earliest = admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in tps}) if tps else {}
            latest = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps}) if tps else {}
            committed = _committed(admin, groups)
        except KafkaError as exc:
            raise KafkaUnavailable(f"describing topics failed: {exc!r}") from None
    infos = []
    for role, name, expected in wanted:
        info = TopicInfo(role, name, name in present, expected)
        if info.exists:
            info.cleanup_policy = configs.get(name, {}).get("cleanup.policy")
            for tp in sorted((tp for tp in tps if tp.topic == name), key=lambda tp: tp.partition):
                info.partitions.append(
                    PartitionInfo(
                        tp.partition,
                        earliest[tp].offset,
                        latest[tp].offset,
                        {
                            g: (offsets[tp].offset if tp in offsets else None)
                            for g, offsets in committed.items()
                        },
                    )
                )
        infos.append(info)
    return infos


def _committed(admin: Any, groups: Sequence[str]) -> dict[str, dict[Any, Any]]:
    result: dict[str, dict[Any, Any]] = {}
    for group in groups:
        try:
            result[group] = admin.list_group_offsets({group: None}).get(group, {})
        except KafkaError:  # a group that never committed has no coordinator entry yet
            result[group] = {}
    return result


def format_description(infos: Sequence[TopicInfo], groups: Sequence[str]) -> str:
    """A plain-text report: one block per topic, one line per partition."""
    lines = []
    for info in infos:
        if not info.exists:
            lines.append(f"{info.name} ({info.role}): MISSING — run `chainwatch topics create`")
            continue
        note = ""
        if info.expected_partitions is not None and len(info.partitions) != info.expected_partitions:
            note = f"  [expected {info.expected_partitions} partitions]"
        lag = "  ".join(f"lag[{g}]={info.lag(g) if info.lag(g) is not None else '-'}" for g in groups)
        lines.append(
            f"{info.name} ({info.role}): {len(info.partitions)} partitions, "
            f"{info.messages} messages, cleanup.policy={info.cleanup_policy}  {lag}".rstrip()
            + note
        )
        for p in info.partitions:
            committed = "  ".join(
                f"{g}={p.committed.get(g) if p.committed.get(g) is not None else '-'}" for g in groups
            )
            lines.append(f"  p{p.partition}: offsets {p.earliest}..{p.latest}  {committed}".rstrip())
    return "\n".join(lines)
