"""Engine benchmark: events/s of (a) one three-step sequence rule and (b) the full catalog, each as a
ratio to the floor measured in the same run (reading and parsing the same events, no detection); and the
full catalog with the work of issue 18 (every call classified into capabilities, provenance, the content
model) next to the same catalog without it, on the same events in the same run (issue 18: ratio ≥ 0.7).

Run: ``make bench`` or ``python -m benchmarks.engine_bench [--sessions N] [--repeat R]``.
Ratios, not absolute numbers, are what to compare across machines: these are shared and noisy.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import orjson

from detectors.engine import Engine, Runner
from detectors.registry import load_catalog
from schemas.adapters import DeadLetter, parse_bytes
from schemas.events import AnyEvent, event_to_json
from streams.ingest.replay import quiet_gc
from streams.simulator.workload import simulate_events

RULE_ID = "privilege.escalation_chain"


def cold_caches() -> None:
    """Empty every memo of the detection and parsing code (classifications, tokens, content-model scores,
    base64 runs …): each run starts as a new process would, so a repeat does not measure texts and calls
    it has already seen."""
    for name, module in list(sys.modules.items()):
        if name.startswith(("detectors.", "schemas.")) and module is not None:
            for value in list(vars(module).values()):
                for candidate in (value, *vars(value).values()) if isinstance(value, type) else (value,):
                    clear = getattr(candidate, "cache_clear", None)
                    if callable(clear):
                        clear()


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Fastest of ``repeat`` runs, each from cold caches: the least disturbed by other load on a shared
    machine."""
    times = []
    for _ in range(repeat):
        cold_caches()
        gc.collect()
        with quiet_gc():  # the collector tuned as a replay tunes it (its closing collection not timed)
            start = time.process_time()
            work()
            times.append(time.process_time() - start)
    return min(times)


def parse(data: bytes) -> list[AnyEvent]:
    events = [e for e in parse_bytes(data, "bench", "native") if not isinstance(e, DeadLetter)]
    events.sort(key=lambda e: e.event_time)
    return events  # type: ignore[return-value]


def detect(engine: Engine, events: Sequence[AnyEvent]) -> Runner:
    runner = Runner(engine, close_idle=False)
    for start in range(0, len(events), 5000):
        runner.feed(events[start : start + 5000])
        gc.freeze()  # as the replay does after every batch
    return runner


def max_concurrent(events: Sequence[AnyEvent]) -> int:
    spans: dict[str, list[float]] = {}
    for event in events:
        t = event.event_time.timestamp()
        span = spans.setdefault(event.session_id, [t, t])
        span[0], span[1] = min(span[0], t), max(span[1], t)
    edges = sorted(
        [(a, 1) for a, _ in spans.values()] + [(b, -1) for _, b in spans.values()],
        key=lambda x: (x[0], -x[1]),
    )
    live = best = 0
    for _, step in edges:
        live += step
        best = max(best, live)
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    events = simulate_events(seed=11, sessions=args.sessions, concurrency=args.sessions)
    data = b"\n".join(event_to_json(e) for e in events)
    parsed = parse(data)
    n = len(parsed)
    catalog = load_catalog().detectors
    one_rule = Engine([d for d in catalog if d.id == RULE_ID])
    full = Engine(catalog)
    bare = Engine(catalog, context_work=False)  # the catalog without classification and provenance

    t_floor = best_of(args.repeat, lambda: parse(data))
    t_rule = best_of(args.repeat, lambda: detect(one_rule, parsed))
    t_full = best_of(args.repeat, lambda: detect(full, parsed))
    t_bare = best_of(args.repeat, lambda: detect(bare, parsed))
    runner = detect(full, parsed)
    # what the worker's table and changelog hold per key (KeyState.to_bytes, version 4), and beside it the
    # JSON of to_dict() that earlier figures measured (docs/performance.md, "State per open session")
    sessions = [s for (scope, _), s in runner.states.items() if scope == "session"]
    state_sizes = [len(s.to_bytes()) for s in sessions]
    json_sizes = [len(orjson.dumps(s.to_dict())) for s in sessions]

    floor = n / t_floor
    rows = [
        ("floor: read + parse (no detection)", floor, t_floor),
        ("(a) parse + one 3-step sequence rule", n / (t_floor + t_rule), t_floor + t_rule),
        ("(b) parse + full catalog", n / (t_floor + t_full), t_floor + t_full),
    ]
    print(
        f"events: {n}, sessions: {len({e.session_id for e in parsed})}, "
        f"max concurrent sessions: {max_concurrent(parsed)}, detectors in catalog: {len(catalog)}"
    )
    print(f"{'stage':42} {'events/s':>12} {'ratio to floor':>15}")
    for name, rate, _ in rows:
        print(f"{name:42} {rate:12,.0f} {rate / floor:15.2f}")
    print(
        f"detection alone: one rule {n / t_rule:,.0f} events/s, full catalog {n / t_full:,.0f} events/s "
        f"(full/one-rule = {t_rule / t_full:.2f})"
    )
    print(
        f"full catalog without classification/provenance: {n / t_bare:,.0f} events/s; with them / without "
        f"= {t_bare / t_full:.2f} (issue 18: >= 0.70)"
    )
    print(
        f"state per open session: mean {statistics.mean(state_sizes):,.0f} bytes, "
        f"max {max(state_sizes):,} bytes (stored, version 4; JSON mean {statistics.mean(json_sizes):,.0f}, "
        f"max {max(json_sizes):,}; {len(state_sizes)} sessions)"
    )


if __name__ == "__main__":
    main()
