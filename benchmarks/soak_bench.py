"""Soak benchmark: a valid agent-event stream with hostile messages mixed in, through the real broker and
the real worker. What it checks and reports:

- **crashes**: the worker process must stay up the whole run and stop cleanly (exit 0 on SIGTERM); its
  ``errors`` counter (unexpected exceptions, each dead-lettered) is reported too;
- **accounted**: every message sent is either processed (its events reach the engine: the worker's event
  count equals what the contract decode of the sent messages predicts) or dead-lettered with a reason
  (a record on the dead-letter topic whose origin names its topic/partition/offset);
- **memory**: the worker's peak resident set size, sampled from /proc every 200 ms.

Hostile kinds (seeded; ``--hostile`` messages in all, default 100,000): malformed (truncated, trailing
garbage, random bytes, empty, whitespace, tombstones, non-objects, wrong types), oversized (an event over
the repartition limit, a few messages over the 8 MiB wire limit), deeply nested (arguments 70 to 3,000
levels, whole documents past the JSON parser's depth limit), wrongly encoded (UTF-16, Latin-1, invalid and
overlong UTF-8, lone surrogate escapes), hash-colliding (event ids reused with other content, sessions
crafted to all land on one partition, objects with 20,000 keys, duplicate JSON keys), and wrong or unknown
format headers sending garbage to every adapter.

Run: ``python -m benchmarks.soak_bench`` (starts its own broker, or ``--bootstrap HOST:PORT``); options
``--hostile N --sessions N --seed N``. ``tests/test_soak.py`` runs the same code at a small scale.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks.stream_bench import PARTITIONS, Pipeline, batch_messages, broker
from schemas.adapters import FORMATS
from schemas.adapters.base import DeadLetter
from schemas.events import event_to_json
from streams.kafka.producer import partition_for
from streams.kafka.wire import FORMAT_HEADER, MAX_MESSAGE_BYTES, decode_dead_letter, decode_events
from streams.settings import Settings
from streams.simulator.workload import simulate_events

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import OffsetSpec

WIRE_OVERSIZED_MAX = 3  # messages over the 8 MiB limit (each is sent in full: keep the run light)


@dataclass(frozen=True)
class Message:
    kind: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None


# --------------------------------------------------------------------------- hostile messages


def _native_call(rng: random.Random, session: str, n: int) -> dict[str, Any]:
    return {
        "kind": "tool_call",
        "event_id": f"soak-{session}-{n}",
        "event_time": f"2026-03-01T10:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z",
        "source": "soak",
        "session_id": session,
        "tool": "shell",
        "action": "exec",
        "target": "host:build-1",
        "arguments": {"command": "ls -la"},
        "outcome": "success",
    }


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _hotspot_sessions(count: int, partitions: int) -> list[str]:
    """Session ids that all hash (murmur2, Kafka's default partitioner) to partition 0."""
    found, n = [], 0
    while len(found) < count:
        candidate = f"hot-{n}"
        if partition_for(candidate.encode(), partitions) == 0:
            found.append(candidate)
        n += 1
    return found


def hostile_messages(count: int, seed: int, reused_ids: list[str]) -> Iterator[Message]:
    rng = random.Random(seed)
    hot = _hotspot_sessions(64, PARTITIONS)
    oversized_wire = oversized_events = 0
    oversized_events_max = max(5, count // 1000)  # ~1.2 MB each: bounded so the run stays light
    kinds = [
        "truncated",
        "garbage",
        "random_bytes",
        "empty",
        "tombstone",
        "non_object",
        "wrong_types",
        "oversized_event",
        "oversized_message",
        "nested_arguments",
        "nested_document",
        "utf16",
        "latin1",
        "invalid_utf8",
        "surrogate",
        "id_collision",
        "hotspot",
        "many_keys",
        "duplicate_keys",
        "format_header",
    ]
    weights = [8, 6, 6, 2, 2, 4, 8, 1, 1, 6, 3, 3, 4, 4, 3, 6, 8, 1, 4, 6]
    for n in range(count):
        kind = rng.choices(kinds, weights)[0]
        session = f"soak-{rng.randrange(2000)}"
        call = _native_call(rng, session, n)
        line = orjson.dumps(call)
        key: bytes | None = session.encode()
        headers: tuple[tuple[str, bytes], ...] = ()
        if kind == "truncated":
            value: bytes | None = line[: rng.randrange(1, len(line) - 1)]
        elif kind == "garbage":
            value = line + b"}}]" + bytes(rng.randrange(256) for _ in range(8))
        elif kind == "random_bytes":
            value = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        elif kind == "empty":
            value = rng.choice([b"", b"   \n\t "])
        elif kind == "tombstone":
            value = None
        elif kind == "non_object":
            value = rng.choice([b"42", b"[1,2,3]", b'"text"', b"null", b"true", b"[[[]]]"])
        elif kind == "wrong_types":
            field_name = rng.choice(["event_time", "session_id", "arguments", "kind", "duration_ms", "tool"])
            call[field_name] = rng.choice([12, [], {"x": 1}, None, "", -1e308, "9" * 400, True])
            value = orjson.dumps(call)
        elif kind == "oversized_event":
            oversized_events += 1
            size = 1_200_000 if oversized_events <= oversized_events_max else 120_000
            call["arguments"] = {"blob": "x" * size}
            value = orjson.dumps(call)
        elif kind == "oversized_message":
            if oversized_wire >= WIRE_OVERSIZED_MAX:
                call["result_summary"] = "y" * 100_000
                value = orjson.dumps(call)
            else:
                oversized_wire += 1
                value = b"\n".join([line] * (MAX_MESSAGE_BYTES // len(line) + 10))
        elif kind == "nested_arguments":
            depth = rng.choice([70, 200, 300, 900, 3000])
            value = line.replace(b'{"command":"ls -la"}', _nested(depth).encode())
        elif kind == "nested_document":
            value = ("[" * 5000 + "]" * 5000).encode()
        elif kind == "utf16":
            value = line.decode().encode("utf-16")
        elif kind == "latin1":
            call["target"] = "h\u00f4te-\u00e9t\u00e9"
            value = orjson.dumps(call).decode().encode("latin-1")
        elif kind == "invalid_utf8":
            at = rng.randrange(len(line))
            value = line[:at] + rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80"]) + line[at:]
        elif kind == "surrogate":
            value = line.replace(b"ls -la", b"ls \\ud800 -la")
        elif kind == "id_collision":
            call["event_id"] = rng.choice(reused_ids)  # an id the valid stream uses, other content
            call["session_id"] = session
            value = orjson.dumps(call)
        elif kind == "hotspot":
            call["session_id"] = rng.choice(hot)
            key = call["session_id"].encode()
            value = orjson.dumps(call)
        elif kind == "many_keys":
            call["arguments"] = {f"k{i}": i for i in range(20_000)}
            value = orjson.dumps(call)
        elif kind == "duplicate_keys":
            value = line[:-1] + b',"session_id":"dup-b","kind":"tool_call","event_time":"not a time"}'
        else:  # format_header: garbage for another adapter, or an adapter that does not exist
            fmt = rng.choice([*FORMATS, "bogus", "../../etc/passwd"])
            headers = ((FORMAT_HEADER, fmt.encode()),)
            value = rng.choice(
                [
                    line,
                    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"x": 1}]}]}]}',
                    b'{"jsonrpc": "2.0", "id": {}}',
                    b"{}",
                ]
            )
        yield Message(kind, key, value, headers)


# --------------------------------------------------------------------------- expectations


@dataclass
class Expected:
    """What the contract decode predicts for one message: events the worker keeps, whether it dead-letters."""

    kept: int
    dead: bool
    empty: bool = False  # the adapter found no record in it (an empty OTLP export, an ignored log record)


def expect(message: Message, max_event_bytes: int) -> Expected:
    fmt = dict(message.headers).get(FORMAT_HEADER)
    fmt_name = fmt.decode("utf-8", "replace").strip() if fmt else None
    if fmt_name and fmt_name not in FORMATS:
        return Expected(0, True)
    parsed = decode_events(message.value, "expect", fmt_name)
    if not parsed:
        return Expected(0, False, empty=True)
    now = datetime.now(UTC)
    kept, dead = 0, False
    for item in parsed:
        if isinstance(item, DeadLetter):
            dead = True
            continue
        if item.ingest_time is None:
            item = item.model_copy(update={"ingest_time": now})
        if len(event_to_json(item)) > max_event_bytes:
            dead = True
        else:
            kept += 1
    return Expected(kept, dead)


# --------------------------------------------------------------------------- the run


@dataclass
class SoakReport:
    hostile: int
    valid_messages: int
    valid_events: int
    kinds: dict[str, int]
    sent_bytes: int = 0
    seconds: float = 0.0
    worker_alive_throughout: bool = True
    worker_exit_code: int | None = None
    worker_errors: int = 0
    worker_events: int = 0
    expected_events: int = 0
    dead_letter_records: int = 0
    dead_letters_without_reason: int = 0
    empty_inputs: int = 0  # messages holding no record for their adapter: nothing to process or lose
    # hostile kind -> messages of it found empty: the expectation comes from the same decoder as the
    # worker, so an "empty" verdict outside the kinds built to be empty would hide a silent loss
    empty_kinds: dict[str, int] = field(default_factory=dict)
    unaccounted: list[str] = field(default_factory=list)
    rss_start_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rss_end_mib: float = 0.0

    @property
    def accounted_ratio(self) -> float:
        total = self.hostile + self.valid_messages
        return (total - len(self.unaccounted)) / total if total else 1.0

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "unaccounted"}
        data["unaccounted"] = len(self.unaccounted)
        data["unaccounted_examples"] = self.unaccounted[:10]
        data["accounted_ratio"] = self.accounted_ratio
        data["messages_per_s"] = (self.hostile + self.valid_messages) / self.seconds if self.seconds else 0.0
        return data


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        try:
            offsets = admin.list_group_offsets({group: None}).get(group, {})
        except Exception:  # no commit yet
            return {}
        return {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic}
    finally:
        admin.close()


def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        parts = admin.describe_topics([topic])[0]["partitions"]
        specs = {TopicPartition(topic, p["partition_index"]): OffsetSpec.LATEST for p in parts}
        return {tp.partition: o.offset for tp, o in admin.list_partition_offsets(specs).items()}
    finally:
        admin.close()


def _read_all(bootstrap: str, topic: str) -> list[Any]:
    end = _end_offsets(bootstrap, topic)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=1 << 24
    )
    try:
        tps = [TopicPartition(topic, p) for p in end]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + 600
        while any(consumer.position(tp) < end[tp.partition] for tp in tps) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def run_soak(
    bootstrap: str, workdir: Path, *, hostile: int, sessions: int, seed: int = 7, timeout: float = 1800
) -> SoakReport:
    settings = Settings()
    valid_events = simulate_events(seed=seed, sessions=sessions, attack_ratio=0.2)
    valid = [Message("valid", k, v, (), p) for k, v, p in batch_messages(valid_events, settings)]
    reused = [e.event_id for e in valid_events]
    bad = list(hostile_messages(hostile, seed, reused))
    # Interleave: the valid batches spread evenly through the hostile stream.
    stream: list[Message] = []
    every = max(1, len(bad) // max(1, len(valid)))
    valid_iter = iter(valid)
    for n, message in enumerate(bad):
        if n % every == 0:
            stream.extend([m for m in [next(valid_iter, None)] if m is not None])
        stream.append(message)
    stream.extend(valid_iter)

    max_event_bytes = settings.worker.repartition_max_bytes
    expectations = [expect(m, max_event_bytes) for m in stream]
    report = SoakReport(
        hostile=len(bad),
        valid_messages=len(valid),
        valid_events=len(valid_events),
        kinds=dict(Counter(m.kind for m in bad)),
        expected_events=sum(e.kept for e in expectations),
    )
    pipe = Pipeline(bootstrap, workdir, extra_env={"CHAINWATCH_WORKER__LOG_LEVEL": "warning"})
    pipe.create_topics()
    pipe.start_worker()
    assert pipe.proc is not None
    pid = pipe.proc.pid
    report.rss_start_mib = report.rss_peak_mib = _rss_mib(pid)
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            if pipe.proc is not None and pipe.proc.poll() is not None:
                report.worker_alive_throughout = False
                return
            report.rss_peak_mib = max(report.rss_peak_mib, _rss_mib(pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        origins = _send(bootstrap, pipe.events_topic, stream, report)
        group = pipe.env["CHAINWATCH_WORKER__APP_ID"]
        deadline = time.monotonic() + timeout
        end = _end_offsets(bootstrap, pipe.events_topic)
        while True:  # until the worker committed the whole events topic and counted every event
            stats = pipe.stats() or {}
            counts = stats.get("counts", {})
            committed = _committed(bootstrap, group, pipe.events_topic)
            if all(committed.get(p, 0) >= o for p, o in end.items()) and counts.get("events", -1) >= (
                report.expected_events
            ):
                break
            if not report.worker_alive_throughout or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        report.seconds = time.monotonic() - report.seconds
        counts = (pipe.stats() or {}).get("counts", {})
        report.worker_events = int(counts.get("events", 0))
        report.worker_errors = int(counts.get("errors", 0))
        report.rss_end_mib = _rss_mib(pid)
        dead = [
            decode_dead_letter(r.value)
            for r in _read_all(bootstrap, pipe.env["CHAINWATCH_TOPICS__DEAD_LETTERS"])
        ]
        report.dead_letter_records = len(dead)
        report.dead_letters_without_reason = sum(1 for d in dead if not d.reason.strip())
        dead_origins = {d.origin for d in dead}
        for origin, message, expected in zip(origins, stream, expectations, strict=True):
            if expected.empty:
                report.empty_inputs += 1
                report.empty_kinds[message.kind] = report.empty_kinds.get(message.kind, 0) + 1
            elif (expected.dead or expected.kept == 0) and origin not in dead_origins:
                report.unaccounted.append(f"{message.kind} at {origin}: no dead letter")
        if report.worker_events != report.expected_events:
            report.unaccounted.append(
                f"worker counted {report.worker_events} events, the messages hold {report.expected_events}"
            )
    finally:
        sampling.set()
        sampler.join(timeout=5)
        alive = pipe.proc.poll() is None
        report.worker_alive_throughout = report.worker_alive_throughout and alive
        pipe.stop()
        report.worker_exit_code = pipe.proc.returncode
    return report


def _send(bootstrap: str, topic: str, stream: list[Message], report: SoakReport) -> list[str]:
    """Send in order; returns each message's origin as the worker names it (topic[partition]@offset)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        batch_size=512 * 1024,
        max_request_size=12 * 1024 * 1024,
    )
    report.seconds = time.monotonic()
    try:
        futures = []
        for message in stream:
            report.sent_bytes += len(message.value or b"")
            futures.append(
                producer.send(
                    topic,
                    key=message.key,
                    value=message.value,
                    headers=list(message.headers),
                    partition=message.partition,
                )
            )
        producer.flush(timeout=600)
        metadata = [f.get(timeout=120) for f in futures]
    finally:
        producer.close(timeout=30)
    return [f"{m.topic}[{m.partition}]@{m.offset}" for m in metadata]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--hostile", type=int, default=100_000, help="hostile messages (default 100,000)")
    parser.add_argument("--sessions", type=int, default=300, help="valid simulated sessions mixed in")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bootstrap", help="an existing broker (default: start a local one)")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the worker and the broker this run started are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with broker(args.bootstrap) as bootstrap, tempfile.TemporaryDirectory(prefix="chainwatch-soak-") as tmp:
        report = run_soak(bootstrap, Path(tmp), hostile=args.hostile, sessions=args.sessions, seed=args.seed)
    data = report.to_dict()
    print(json.dumps(data, indent=2))
    ok = (
        report.worker_alive_throughout
        and report.worker_exit_code == 0
        and not report.unaccounted
        and report.dead_letters_without_reason == 0
    )
    print(
        f"\nsoak: {report.hostile} hostile + {report.valid_messages} valid messages in "
        f"{report.seconds:.0f}s; worker crashes: {0 if report.worker_alive_throughout else 1}, "
        f"exit {report.worker_exit_code}, unexpected errors {report.worker_errors}; "
        f"accounted {report.accounted_ratio:.4%}; peak RSS {report.rss_peak_mib:.0f} MiB "
        f"(start {report.rss_start_mib:.0f}, end {report.rss_end_mib:.0f})",
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
