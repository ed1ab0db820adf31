"""Where the bytes of the saved state per open session go (issue 14: ≤ 2 KB per open session).

Replays the engine benchmark's workload through the full catalog (as ``benchmarks.engine_bench`` does) and
prints, for the sessions still open at the end, the bytes stored per session (``KeyState.to_bytes()``,
version 4: the JSON deflated with a preset dictionary) and the mean JSON bytes of each part of
``KeyState.to_dict()``: each detector's slot, each field of the context, each part of the session's
provenance and the key state's own fields. A part's bytes are those of ``"name":value,`` in the whole
document, so the parts add up to it (deflate's bytes cannot be told apart by part). ``--timing``: the cost of
saving and reading those states, in µs per state (best of 5), as JSON (the form before version 4) and stored.

Run: ``python -m benchmarks.state_breakdown [--sessions N] [--top K] [--timing]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from benchmarks.engine_bench import detect, parse
from detectors.engine import Engine, KeyState
from detectors.registry import load_catalog
from schemas.events import event_to_json
from streams.simulator.workload import simulate_events


def part_sizes(saved: dict[str, Any]) -> dict[str, int]:
    """Bytes of each part of one saved key state: ``det.<slot>``, ``ctx.<field>``, ``prov.<field>`` and the
    key state's own fields; the enclosing braces are charged to the part ``{}``."""
    sizes: dict[str, int] = {}
    nested = {"det": "det.", "ctx": "ctx."}
    for name, value in saved.items():
        prefix = nested.get(name)
        if prefix is None or not isinstance(value, dict):
            sizes[name] = _entry(name, value)
            continue
        sizes[f"{name}{{}}"] = len(orjson.dumps(name)) + 3  # "det":{ } ,
        for inner, inner_value in value.items():
            if name == "ctx" and inner == "prov" and isinstance(inner_value, dict):
                sizes["ctx.prov{}"] = len(orjson.dumps(inner)) + 3
                for part, part_value in inner_value.items():
                    sizes[f"prov.{part}"] = _entry(part, part_value)
            else:
                sizes[prefix + inner] = _entry(inner, inner_value)
    sizes["{}"] = 2
    return sizes


def _entry(name: str, value: Any) -> int:
    return len(orjson.dumps(name)) + 1 + len(orjson.dumps(value)) + 1  # "name":value,


_T = TypeVar("_T")


def per_state_us(items: Sequence[_T], work: Callable[[_T], object], repeat: int = 5) -> float:
    """µs per item of ``work``, the best of ``repeat`` passes over all items (one process, shared machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - start)
    return best / len(items) * 1e6


def timing(states: Sequence[KeyState]) -> None:
    texts = [orjson.dumps(s.to_dict()) for s in states]
    stored = [s.to_bytes() for s in states]
    save_json = per_state_us(states, lambda s: orjson.dumps(s.to_dict()))
    save_stored = per_state_us(states, KeyState.to_bytes)
    read_json = per_state_us(texts, lambda t: KeyState.from_dict(orjson.loads(t)))
    read_stored = per_state_us(stored, KeyState.from_bytes)
    print(
        f"per state, best of 5 ({len(states)} states): save {save_json:,.0f} us as JSON, {save_stored:,.0f} "
        f"us stored; read {read_json:,.0f} us as JSON, {read_stored:,.0f} us stored"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2500)
    parser.add_argument("--top", type=int, default=30, help="parts to list, largest mean first")
    parser.add_argument("--timing", action="store_true", help="also time saving and reading the states")
    args = parser.parse_args(argv)

    events = simulate_events(seed=11, sessions=args.sessions, concurrency=args.sessions)
    parsed = parse(b"\n".join(event_to_json(e) for e in events))
    runner = detect(Engine(load_catalog().detectors), parsed)
    states = [s for (scope, _), s in runner.states.items() if scope == "session"]
    saved = [s.to_dict() for s in states]
    totals = [len(orjson.dumps(s)) for s in saved]
    stored = [len(s.to_bytes()) for s in states]
    parts: dict[str, list[int]] = defaultdict(list)
    for state in saved:
        for name, size in part_sizes(state).items():
            parts[name].append(size)
    n = len(saved)
    print(
        f"state per open session: mean {statistics.mean(stored):,.0f} bytes, max {max(stored):,} bytes "
        f"(stored, version 4; {n} sessions)"
    )
    print(
        f"state per open session: mean {statistics.mean(totals):,.0f} bytes, max {max(totals):,} bytes "
        f"(JSON, {n} sessions; the parts below)"
    )
    if args.timing:
        timing(states)
    print(f"{'part':44} {'mean bytes':>10} {'share':>6} {'sessions':>8} {'max':>7}")
    ranked = sorted(parts.items(), key=lambda item: -sum(item[1]))
    for name, sizes in ranked[: args.top]:
        mean = sum(sizes) / n
        print(f"{name:44} {mean:10,.0f} {mean / statistics.mean(totals):6.1%} {len(sizes):8} {max(sizes):7,}")
    rest = sum(sum(sizes) for _, sizes in ranked[args.top :]) / n
    print(f"{'(the other ' + str(max(0, len(ranked) - args.top)) + ' parts)':44} {rest:10,.0f}")


if __name__ == "__main__":
    main()
