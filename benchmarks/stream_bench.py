"""Streaming benchmark against a real local Kafka broker: the faust worker's throughput as a ratio to a
raw consumer floor measured in the same run, and end-to-end alert latency at a fixed input rate.

Run: ``python -m benchmarks.stream_bench`` (starts its own broker from kafka/broker.py, or pass
``--bootstrap HOST:PORT``). Options: ``--events``, ``--single-events``, ``--rate``, ``--seconds``.

What it measures, all on the same simulated traffic (``streams.simulator.workload``):

- **floor**: a plain aiokafka consumer reading the batch messages and decoding them with
  ``streams.kafka.wire.decode_events`` (the contract decode the worker's ingest does), and, for
  reference, with ``orjson`` only (no validation);
- **worker, batch messages**: ``chainwatch produce``-style messages (``streams.kafka.producer.Packer``: up to
  ``worker.batch_max_events`` events per message, sessions grouped) through a running worker, from the
  first message sent until the worker's counters (``/chainwatch/stats/``) show every event ingested and
  run through every engine scope;
- **worker, single-event messages**: the same, one event per message;
- **engine**: the detection engine alone, in process (``Runner``), over the same events: the ceiling;
- **latency**: events arriving at a fixed rate (default 2,000 events/s) to a running worker, sent every
  ``--tick`` (250 ms) as batch messages; per alert, the time from the *arrival* of its last evidence event
  (so the batching delay counts) to its receipt on the alerts topic. Alerts raised by an event are reported
  apart from those of close-time detectors, which fire when a sweep closes the session (a detection
  semantic: idle time, sweep interval), not after a pipeline delay.

Ratios, not absolute numbers, are what compare across machines: these are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from schemas.adapters import DeadLetter
from schemas.events import AnyEvent
from streams.kafka.producer import Packer
from streams.kafka.topology import build_engine
from streams.kafka.wire import decode_events, encode_events
from streams.settings import Settings
from streams.simulator.workload import simulate_events

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

REPO = Path(__file__).resolve().parents[1]
PARTITIONS = 4


# --------------------------------------------------------------------------- broker and processes


def _broker_module() -> ModuleType:
    # kafka/ is deliberately not a package (it would shadow kafka-python): load broker.py by path.
    spec = importlib.util.spec_from_file_location("chainwatch_local_kafka", REPO / "kafka" / "broker.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def broker_process(bootstrap: str | None) -> Iterator[tuple[str, int | None]]:
    """``(bootstrap, broker PID)``: the given broker (PID unknown) or a local one started for the run."""
    if bootstrap:
        yield bootstrap, None
        return
    local = _broker_module().LocalKafka(port=0)
    local.start()
    try:
        yield str(local.bootstrap), local.pid
    finally:
        local.close()


@contextlib.contextmanager
def broker(bootstrap: str | None) -> Iterator[str]:
    with broker_process(bootstrap) as (address, _):
        yield address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pipeline:
    """One measurement's topics, worker app id and worker process."""

    bootstrap: str
    workdir: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        t = self.tag
        return {
            **os.environ,
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            "CHAINWATCH_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            "CHAINWATCH_TOPICS__EVENTS": f"bench-ev-{t}",
            "CHAINWATCH_TOPICS__DEAD_LETTERS": f"bench-dlq-{t}",
            "CHAINWATCH_TOPICS__FINDINGS": f"bench-fi-{t}",
            "CHAINWATCH_TOPICS__ALERTS": f"bench-al-{t}",
            "CHAINWATCH_TOPICS__CHAINS": f"bench-ch-{t}",
            "CHAINWATCH_TOPICS__PARTITIONS": str(PARTITIONS),
            "CHAINWATCH_WORKER__APP_ID": f"bench-{t}",
            "CHAINWATCH_WORKER__DATA_DIR": str(self.workdir / f"worker-{t}"),
            "CHAINWATCH_WORKER__WEB_PORT": str(self.port),
            "CHAINWATCH_WORKER__LOG_LEVEL": "warning",
            **self.extra_env,
        }

    @property
    def events_topic(self) -> str:
        return f"bench-ev-{self.tag}"

    @property
    def alerts_topic(self) -> str:
        return f"bench-al-{self.tag}"

    def create_topics(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "streams.cli.kafka", "topics", "create"],
            cwd=REPO,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start_worker(self) -> None:
        self.start_workers(1)

    def start_workers(self, count: int) -> None:
        """Start ``count`` workers of the same group (each its own web port and data folder) and wait until
        every one is ready and the events topic's partitions are split among all of them."""
        for _ in range(count):
            number = len(self.procs)
            port = self.port if number == 0 else free_port()
            log = open(self.workdir / f"worker-{self.tag}-{number}.log", "wb")  # noqa: SIM115 (closed with the process)
            env = {
                **self.env,
                "CHAINWATCH_WORKER__WEB_PORT": str(port),
                "CHAINWATCH_WORKER__DATA_DIR": str(self.workdir / f"worker-{self.tag}-{number}"),
            }
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "streams.kafka.worker"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            self.ports.append(port)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if any(proc.poll() is not None for proc in self.procs):
                raise RuntimeError(f"a worker exited; see the logs in {self.workdir}")
            if self._shared():
                return
            time.sleep(0.2)
        raise RuntimeError("the workers did not become ready within 180 s")

    def _shared(self) -> bool:
        owned: list[list[int]] = []
        for port in self.ports:
            stats = worker_stats(port)
            if not stats or not stats.get("ready"):
                return False
            owned.append(stats.get("assigned", {}).get(self.events_topic, []))
        return all(owned) and sorted(p for parts in owned for p in parts) == list(range(PARTITIONS))

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.procs[0] if self.procs else None

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def stats(self) -> dict[str, Any] | None:
        """The first worker's ``/chainwatch/stats/``."""
        return worker_stats(self.port)

    def counts(self) -> dict[str, int] | None:
        """The workers' counters summed, or None while one does not answer."""
        total: dict[str, int] = {}
        for port in self.ports:
            stats = worker_stats(port)
            if not stats:
                return None
            for name, value in stats["counts"].items():
                total[name] = total.get(name, 0) + value
        return total

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def worker_stats(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/chainwatch/stats/", timeout=2) as answer:
            data: dict[str, Any] = json.loads(answer.read())
            return data
    except (OSError, ValueError):
        return None


def producer(bootstrap: str) -> Any:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=2,
        batch_size=512 * 1024,
        max_request_size=2 * 1024 * 1024,
    )


Message = tuple[bytes, bytes, int]  # key, value, partition


def batch_messages(events: Sequence[AnyEvent], settings: Settings) -> list[Message]:
    packer = Packer(
        PARTITIONS, max_events=settings.worker.batch_max_events, max_bytes=settings.kafka.max_message_bytes
    )
    for event in events:
        packer.add(event)
    return [(m.key, m.value, m.partition) for m in packer.drain()]


def single_messages(events: Sequence[AnyEvent]) -> list[Message]:
    from streams.kafka.producer import partition_for

    return [
        (e.session_id.encode(), encode_events([e]), partition_for(e.session_id.encode(), PARTITIONS))
        for e in events
    ]


def send_all(bootstrap: str, topic: str, messages: Sequence[Message]) -> float:
    """Send and wait for the acknowledgements; returns when sending started (perf counter)."""
    out = producer(bootstrap)
    try:
        started = time.perf_counter()
        for key, value, partition in messages:
            out.send(topic, key=key, value=value, partition=partition)
        out.flush(timeout=300)
        return started
    finally:
        out.close(timeout=30)


def create_topic(bootstrap: str, name: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics({name: {"num_partitions": PARTITIONS, "replication_factor": 1}})
        admin.wait_for_topics([name])
    finally:
        admin.close()


# --------------------------------------------------------------------------- measurements


def measure_floor(bootstrap: str, messages: Sequence[Message], events: int) -> dict[str, float]:
    """A plain aiokafka consumer reading every message and decoding it (best of two reads each)."""
    topic = f"bench-floor-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic)
    send_all(bootstrap, topic, messages)

    async def read(decode: str) -> float:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        try:
            seen = decoded = 0
            started: float | None = None
            while seen < len(messages):
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
                if started is None and batches:
                    started = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        seen += 1
                        if decode == "contract":
                            decoded += sum(
                                1
                                for p in decode_events(record.value, "floor")
                                if not isinstance(p, DeadLetter)
                            )
                        else:
                            decoded += sum(1 for line in record.value.split(b"\n") if orjson.loads(line))
            assert decoded == events, (decoded, events)
            return events / (time.perf_counter() - (started or time.perf_counter()))
        finally:
            await consumer.stop()

    return {
        "contract": max(asyncio.run(read("contract")) for _ in range(2)),
        "json": max(asyncio.run(read("json")) for _ in range(2)),
    }


def expected_work(events: Sequence[AnyEvent]) -> tuple[int, int]:
    """The worker's counters once every event was ingested (``events``) and run through every engine scope
    it has a key for (``scoped_events``)."""
    engine = build_engine(Settings())
    return len(events), sum(1 for scope in engine.scopes for e in events if engine.key_of(scope, e))


def finished(counts: dict[str, int], target: tuple[int, int]) -> bool:
    ingested, scoped = target
    return counts["events"] >= ingested and counts.get("scoped_events", 0) >= scoped


def measure_worker(
    bootstrap: str,
    workdir: Path,
    events: Sequence[AnyEvent],
    messages: Sequence[Message],
    extra_env: dict[str, str] | None = None,
    *,
    workers: int = 1,
    broker_pid: int | None = None,
) -> dict[str, float]:
    """Events/s of ``workers`` ready workers of one group, from the first message sent until their summed
    counters show every event went through them; with the CPU each side used meanwhile (in cores)."""
    pipe = Pipeline(bootstrap, workdir, extra_env=extra_env or {})
    pipe.create_topics()
    pipe.start_workers(workers)
    target = expected_work(events)
    try:
        result: dict[str, float] = {}
        done = threading.Event()
        cpu_at_start = CpuSample.take(pipe.pids, broker_pid)

        def watch() -> None:
            while not done.is_set():
                counts = pipe.counts()
                if counts and finished(counts, target):
                    result["end"] = time.perf_counter()
                    result["errors"] = counts["errors"]
                    result.update(CpuSample.take(pipe.pids, broker_pid).cores_since(cpu_at_start))
                    done.set()
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = send_all(bootstrap, pipe.events_topic, messages)
        if not done.wait(timeout=1800):
            raise RuntimeError("the worker did not finish within 30 minutes")
        seconds = result.pop("end") - started
        return {
            "events_per_s": len(events) / seconds,
            "seconds": seconds,
            "messages": len(messages),
            **result,
        }
    finally:
        pipe.stop()


@dataclass
class CpuSample:
    """CPU seconds used so far by the workers, the broker and the whole machine (Linux ``/proc``)."""

    at: float
    workers: float
    broker: float
    machine_busy: float

    @classmethod
    def take(cls, worker_pids: Sequence[int], broker_pid: int | None) -> CpuSample:
        return cls(
            time.monotonic(),
            sum(process_cpu(pid) for pid in worker_pids),
            process_cpu(broker_pid) if broker_pid else 0.0,
            machine_busy_cpu(),
        )

    def cores_since(self, start: CpuSample) -> dict[str, float]:
        """Average cores used between two samples: workers, broker, everything else on the machine."""
        wall = max(self.at - start.at, 1e-9)
        workers = (self.workers - start.workers) / wall
        broker = (self.broker - start.broker) / wall
        busy = (self.machine_busy - start.machine_busy) / wall
        return {
            "cores_workers": workers,
            "cores_broker": broker,
            "cores_other": max(0.0, busy - workers - broker),
            "cores_machine": busy,
        }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone or /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


def machine_busy_cpu() -> float:
    """CPU seconds every core spent not idle since boot (the first line of /proc/stat)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK


def measure_latency(
    bootstrap: str,
    workdir: Path,
    events: Sequence[AnyEvent],
    rate: float,
    seconds: float,
    settings: Settings,
    tick: float,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Events arrive at ``rate`` per second for ``seconds``; every ``tick`` the producer sends what arrived
    since the last tick (batch messages, as ``chainwatch produce`` packs them). Per alert: the time from the
    *arrival* of its last evidence event (batching delay included) to the alert's receipt on the alerts
    topic."""
    pipe = Pipeline(bootstrap, workdir, extra_env=extra_env or {})
    pipe.create_topics()
    pipe.start_worker()
    events = list(events[: int(rate * seconds)])
    arrived_at: dict[str, float] = {}
    received: list[tuple[float, dict[str, Any]]] = []
    stop = threading.Event()

    def consume() -> None:
        consumer = KafkaConsumer(
            pipe.alerts_topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        try:
            while not stop.is_set():
                for records in consumer.poll(timeout_ms=50).values():
                    now = time.time()
                    received.extend((now, orjson.loads(r.value)) for r in records)
        finally:
            consumer.close()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    time.sleep(3)  # the alerts consumer is assigned and positioned
    out = producer(bootstrap)
    per_tick = max(1, round(rate * tick))
    try:
        t0 = time.time()
        behind = 0.0
        for n, start in enumerate(range(0, len(events), per_tick)):
            chunk = events[start : start + per_tick]
            due = t0 + (n + 1) * tick  # the chunk has arrived by the end of its tick
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            else:
                behind = max(behind, -wait)
            packer = Packer(
                PARTITIONS,
                max_events=settings.worker.batch_max_events,
                max_bytes=settings.kafka.max_message_bytes,
            )
            for i, event in enumerate(chunk, start):
                packer.add(event)
                arrived_at[event.event_id] = t0 + i / rate
            for message in packer.drain():
                out.send(pipe.events_topic, key=message.key, value=message.value, partition=message.partition)
            out.flush(timeout=30)
        achieved = len(events) / (time.time() - t0)
        time.sleep(8)  # alerts of the last events
    finally:
        out.close(timeout=30)
        stop.set()
        reader.join(timeout=10)
        pipe.stop()
    samples = sorted(
        (max(arrived_at[e] for e in alert["event_ids"]), at, alert["detector_id"])
        for at, alert in received
        if all(e in arrived_at for e in alert["event_ids"])
    )
    slowest = sorted(((at - arrived, detector) for arrived, at, detector in samples), reverse=True)[:8]
    latencies = sorted(at - arrived for arrived, at, _ in samples)
    thirds = [samples[i * len(samples) // 3 : (i + 1) * len(samples) // 3] for i in range(3)]
    at_close = close_time_detectors()
    on_event = sorted(at - arrived for arrived, at, detector in samples if detector not in at_close)
    on_close = sorted(at - arrived for arrived, at, detector in samples if detector in at_close)
    return {
        "rate_target": rate,
        "tick_s": tick,
        "rate_achieved": achieved,
        "producer_max_behind_s": behind,
        "events": len(events),
        "alerts": len(latencies),
        "p50_s": percentile(latencies, 50),
        "p99_s": percentile(latencies, 99),
        "max_s": latencies[-1] if latencies else float("nan"),
        # a worker that cannot keep up shows latencies growing from the first third to the last
        "p50_by_third_s": [percentile(sorted(at - a for a, at, _ in part), 50) for part in thirds],
        # alerts an event raises (the aim is about these) ...
        "event_triggered": {
            "alerts": len(on_event),
            "p50_s": percentile(on_event, 50),
            "p99_s": percentile(on_event, 99),
            "max_s": on_event[-1] if on_event else None,
        },
        # ... and alerts of close-time detectors, raised when a sweep closes the session (event-time idle
        # against the watermark, checked every worker.sweep_interval_seconds): not a pipeline delay
        "at_session_close": {
            "alerts": len(on_close),
            "p50_s": percentile(on_close, 50),
            "p99_s": percentile(on_close, 99),
        },
        "slowest": [(round(seconds, 3), detector) for seconds, detector in slowest],
    }


def close_time_detectors() -> set[str]:
    from detectors.base import CloseDetector

    return {d.id for d in build_engine(Settings()).detectors if isinstance(d, CloseDetector)}


def measure_engine(events: Sequence[AnyEvent]) -> float:
    """The detection engine alone, in process, over the same events (what ``chainwatch run`` does)."""
    from detectors.engine import Runner

    engine = build_engine(Settings())
    best = 0.0
    for _ in range(2):
        runner = Runner(engine, close_idle=False)
        started = time.perf_counter()
        for start in range(0, len(events), 5000):
            runner.feed(events[start : start + 5000])
        best = max(best, len(events) / (time.perf_counter() - started))
    return best


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stream_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--bootstrap", help="an existing broker (default: start a local one)")
    parser.add_argument("--events", type=int, default=100_000, help="events for the batch-message runs")
    parser.add_argument("--single-events", type=int, default=20_000, help="events for the single-event run")
    parser.add_argument("--rate", type=float, default=2000.0, help="events/s of the latency run")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the latency run")
    parser.add_argument("--tick", type=float, default=0.25, help="latency run: seconds of events per send")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    settings = Settings()
    sessions = max(20, args.events // 90)  # the simulator's sessions average ~95 events
    t0 = time.perf_counter()
    events = simulate_events(seed=args.seed, sessions=sessions, attack_ratio=0.1)[: args.events]
    latency_events = simulate_events(
        seed=args.seed + 1, sessions=max(20, int(args.rate * args.seconds) // 90), attack_ratio=0.3
    )
    print(
        f"simulated {len(events)} + {len(latency_events)} events in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    batches = batch_messages(events, settings)
    singles = single_messages(events[: args.single_events])
    with broker(args.bootstrap) as bootstrap, tempfile.TemporaryDirectory(prefix="stream-bench-") as tmp:
        workdir = Path(tmp)
        print(f"broker {bootstrap}; {len(events)} events in {len(batches)} batch messages", flush=True)
        floor = measure_floor(bootstrap, batches, len(events))
        print(
            f"floor: {floor['contract']:,.0f} events/s decoded (contract), {floor['json']:,.0f} (JSON only)",
            flush=True,
        )
        engine = measure_engine(events)
        print(f"engine alone (in process, full catalog): {engine:,.0f} events/s", flush=True)
        batch = measure_worker(bootstrap, workdir, events, batches)
        print(f"worker, batch messages: {batch['events_per_s']:,.0f} events/s", flush=True)
        single_events = events[: args.single_events]
        single = measure_worker(bootstrap, workdir, single_events, singles)
        print(f"worker, single-event messages: {single['events_per_s']:,.0f} events/s", flush=True)
        unconfirmed = measure_worker(
            bootstrap, workdir, single_events, singles, {"CHAINWATCH_WORKER__CONFIRM_OUTPUTS": "false"}
        )
        print(
            f"worker, single-event messages, confirm_outputs off: {unconfirmed['events_per_s']:,.0f} ev/s",
            flush=True,
        )
        latency = measure_latency(
            bootstrap, workdir, latency_events, args.rate, args.seconds, settings, args.tick
        )
        triggered = latency["event_triggered"]
        print(
            f"latency (event-triggered alerts): p50 {triggered['p50_s']:.3f}s p99 {triggered['p99_s']:.3f}s",
            flush=True,
        )
    ratios = {
        "batch_to_floor": batch["events_per_s"] / floor["contract"],
        "single_to_floor": single["events_per_s"] / floor["contract"],
        "batch_to_json_floor": batch["events_per_s"] / floor["json"],
        "batch_to_engine": batch["events_per_s"] / engine,
        "single_to_engine": single["events_per_s"] / engine,
    }
    report = {
        "command": "python -m benchmarks.stream_bench "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "floor_events_per_s": floor,
        "engine_events_per_s": engine,
        "worker_batch": batch,
        "worker_single": single,
        "worker_single_confirm_outputs_off": unconfirmed,
        "ratios": ratios,
        "latency": latency,
    }
    print(json.dumps(report, indent=2))
    ratio = ratios["batch_to_floor"]
    triggered = latency["event_triggered"]
    print(
        f"\nbatch throughput / floor = {ratio:.2f} (aim >= 0.3); event-triggered alert latency "
        f"p50 {triggered['p50_s'] * 1000:.0f} ms, p99 {triggered['p99_s'] * 1000:.0f} ms "
        f"at {latency['rate_achieved']:,.0f} events/s in {args.tick:g} s batches "
        f"(aim p99 < 1 s at {args.rate:,.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
