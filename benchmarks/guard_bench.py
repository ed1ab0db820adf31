"""Guard benchmark: decision latency in process, and the Claude Code hook's whole round trip.

(1) In process: 1,000 live sessions (the simulator's seeded workload, every event fed as the service feeds
reported calls), then decisions paced at ``--rate`` per second (default 1,000) with the full catalog: each
is a realistic next call of a random live session (a tool call of that session, new id, now). Reported:
p50 / p99 / max of ``Guard.decide`` wall time, the rate actually kept, and as a floor measured in the same run
the engine's own ``process_key`` of the same call on a throwaway copy (what detection costs without the
guard's copy, policy and bookkeeping).

(2) The hook: ``chainwatch guard hook`` run as Claude Code runs it (a new process, JSON on stdin) against a
running ``chainwatch guard serve``, PreToolUse; reported p50 / p99 wall time, and as a floor the same
interpreter starting and exiting (``python -c pass``).

Run: ``python -m benchmarks.guard_bench [--sessions N] [--decisions N] [--rate R] [--hook-runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from detectors.engine import Engine
from detectors.registry import load_catalog
from schemas.events import ToolCall
from schemas.types import Outcome
from streams.guard.live import Guard
from streams.guard.policy import Policy
from streams.simulator.workload import simulate_events


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def live_guard(sessions: int) -> tuple[Guard, dict[str, list[ToolCall]]]:
    events = simulate_events(seed=16, sessions=sessions, concurrency=sessions)
    engine = Engine(load_catalog().detectors)
    guard = Guard(engine, Policy())
    guard.runner.close_idle = False  # every simulated session stays live, as in a busy service
    guard.warm_up()
    for start in range(0, len(events), 5000):
        guard.runner.feed(events[start : start + 5000])
    calls: dict[str, list[ToolCall]] = {}
    for event in events:
        if isinstance(event, ToolCall):
            calls.setdefault(event.session_id, []).append(event)
    return guard, calls


def proposals(guard: Guard, calls: dict[str, list[ToolCall]], n: int) -> list[ToolCall]:
    """Calls each session already made, proposed again a few seconds after its last event."""
    pick = random.Random(16)
    sessions = sorted(calls)
    made = []
    for i in range(n):
        session = pick.choice(sessions)
        template = pick.choice(calls[session])
        state = guard.state_of("session", session)
        last = (
            state.ctx.last_time
            if state is not None and state.ctx.last_time
            else template.event_time.timestamp()
        )
        made.append(
            template.model_copy(
                update={
                    "event_id": f"bench-{i}",
                    "event_time": datetime.fromtimestamp(last + 5, tz=UTC),
                    "outcome": Outcome.UNKNOWN,
                    "result_summary": None,
                    "untrusted_content": False,
                }
            )
        )
    return made


def in_process(args: argparse.Namespace) -> None:
    guard, calls = live_guard(args.sessions)
    live = sum(1 for scope, _ in guard.runner.states if scope == "session")
    todo = proposals(guard, calls, args.decisions)
    engine = guard.engine
    floor: list[float] = []
    for call in todo[: min(2000, len(todo))]:
        state = guard.state_of("session", call.session_id)
        trial = state.copy() if state is not None else None
        engine.classify(call)
        started = time.perf_counter()
        engine.process_key("session", call.session_id, trial, (call,), chain=False)
        floor.append(time.perf_counter() - started)
    latencies: list[float] = []
    denied = 0
    spoke: Counter[str] = Counter()
    interval = 1.0 / args.rate
    began = time.perf_counter()
    for i, call in enumerate(todo):
        due = began + i * interval
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        started = time.perf_counter()
        verdict, _ = guard.decide(call)
        latencies.append(time.perf_counter() - started)
        denied += verdict.decision != "allow"
        if verdict.decision != "allow":
            spoke[verdict.detectors[0] if verdict.detectors else str(verdict.rule)] += 1
        guard.pending.pop(call.event_id, None)  # the bench reports nothing back: keep pending small
    elapsed = time.perf_counter() - began
    ms = [x * 1000 for x in latencies]
    floor_ms = [x * 1000 for x in floor]
    print(
        f"live sessions: {live}, detectors: {len(engine.detectors)}, decisions: {len(ms)} "
        f"({denied} not allowed), paced at {args.rate}/s, kept {len(ms) / elapsed:,.0f}/s"
    )
    print(f"not allowed, by the detector that decided: {dict(spoke.most_common(5))}")
    print(f"{'':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in (("Guard.decide (all scopes)", ms), ("floor: process_key, session scope", floor_ms)):
        print(f"{name:34} {percentile(values, 0.5):8.3f} {percentile(values, 0.99):8.3f} {max(values):8.3f}")
    print(
        f"decide / floor at p50: {percentile(ms, 0.5) / percentile(floor_ms, 0.5):.2f}, "
        f"mean {statistics.mean(ms):.3f} ms"
    )


def hook_round_trip(args: argparse.Namespace) -> None:
    chainwatch = str(Path(sys.executable).with_name("chainwatch"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINWATCH_")}
        env.update(
            CHAINWATCH_GUARD__TOKEN="bench-token-0123456789",
            CHAINWATCH_GUARD__SPOOL_PATH=f"{tmp}/spool.sqlite",
            CHAINWATCH_DELIVERY__SPOOL_PATH=f"{tmp}/delivery.sqlite",
        )
        server = subprocess.Popen(
            [chainwatch, "guard", "serve", "--db", f"{tmp}/g.duckdb", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            env["CHAINWATCH_GUARD__URL"] = line.split("listening on ", 1)[1].split()[0]
            hook, floor = [], []
            for i in range(args.hook_runs):
                payload = {
                    "session_id": "bench",
                    "transcript_path": "/tmp/t.jsonl",
                    "cwd": "/tmp",
                    "permission_mode": "default",
                    "hook_event_name": "PreToolUse",
                    "tool_name": "Bash",
                    "tool_input": {"command": f"ls -la /tmp/{i}"},
                    "tool_use_id": f"toolu_{i}",
                }
                started = time.perf_counter()
                subprocess.run(
                    [chainwatch, "guard", "hook"],
                    input=json.dumps(payload),
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                hook.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", "pass"], check=True)
                floor.append((time.perf_counter() - started) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(f"hook round trip (PreToolUse, new process each): {args.hook_runs} runs")
    for name, values in (("chainwatch guard hook", hook), ("floor: python -c pass", floor)):
        print(f"{name:34} p50 {percentile(values, 0.5):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms")
    print(f"hook / interpreter start at p50: {percentile(hook, 0.5) / percentile(floor, 0.5):.2f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--hook-runs", type=int, default=40)
    args = parser.parse_args(argv)
    in_process(args)
    if args.hook_runs:
        hook_round_trip(args)


if __name__ == "__main__":
    main()
