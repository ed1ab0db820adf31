"""Redaction benchmark: the cost of redacting one event's free text, side by side with a baseline
redactor in the same run, plus the floor of validating the same events without redaction.

- **per event**: every free-text value of simulated events (arguments, task, result, target, the short
  fields) through ``redact_value``/``redact_text``, in µs per event, for this checkout's redactor and —
  with ``--against REF`` — the redactor of git revision REF (its ``schemas/redaction.py`` loaded as a
  module), so "before/after" is measured on one machine at one moment;
- **floor**: validating the same events with the contract but without redaction (the trusted path), so
  the redaction cost can also be read as a share of ingest; and the contract's own validation *with*
  redaction, as a ratio to that floor (this checkout only): from JSON text (``event_from_json``, every
  text gathered and scanned) and from JSON lines as the native adapter reads them (``event_from_line``:
  one scan of the raw line decides whether the redaction step runs at all);
- **hostile**: 32 KB of texts built to make a backtracking engine quadratic (repeated JWT-like prefixes,
  ``password=``, ``https://a:``), in ms, for both redactors;
- **detect-secrets** (when installed): its plugin set per line of the same corpus, for scale.

Run: ``make bench`` or ``python -m benchmarks.redaction_bench [--sessions N] [--against main]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from benchmarks.engine_bench import best_of
from schemas import redaction as current
from schemas.events import (
    AnyEvent,
    ToolCall,
    event_from_json,
    event_from_line,
    event_to_json,
    trusted_event_from_json,
)
from streams.simulator.workload import simulate_events

HOSTILE_UNITS = ("eyJ-", "password=", "https://a:", "Bearer ")
HOSTILE_BYTES = 32 * 1024


def baseline_module(ref: str) -> ModuleType:
    """``schemas/redaction.py`` as it was at git revision ``ref``, loaded under another name."""
    source = subprocess.run(
        ["git", "show", f"{ref}:schemas/redaction.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_redaction.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_redaction", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Item = tuple[dict[str, Any], list[str], list[str]]
SHORT_FIELDS = ("session_id", "agent_id", "principal", "tool", "action", "approved_by", "credential_id")


def free_text(events: Sequence[AnyEvent]) -> list[Item]:
    """Per event, as the contract hands them to the redactor: arguments, long text (task, result, target),
    and the short fields (redacted since issue 15 after one joint check)."""
    out = []
    for event in events:
        data = event.model_dump(mode="json")
        texts = [data[k] for k in ("task", "result_summary", "target") if isinstance(data.get(k), str)]
        short = [data[k] for k in SHORT_FIELDS if isinstance(data.get(k), str)]
        short += [s for s in data.get("task_scope") or data.get("scopes") or () if isinstance(s, str)]
        out.append((data.get("arguments") or {}, texts, short))
    return out


def redact_all(module: ModuleType, items: list[Item]) -> None:
    """What ``schemas.events`` does per event with ``module`` (a baseline without ``may_hold_secret``
    did not look at the short fields)."""
    joint = getattr(module, "may_hold_secret", None)
    for arguments, texts, short in items:
        module.redact_value(arguments)
        for text in texts:
            module.redact_text(text)
        if joint is not None and joint("\n".join(short)):
            for text in short:
                module.redact_text(text)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", help="git revision whose redactor to measure side by side (e.g. main)")
    args = parser.parse_args(argv)

    events = simulate_events(seed=11, sessions=args.sessions)
    items = free_text(events)
    lines = [event_to_json(e) for e in events]
    n = len(events)
    modules: list[tuple[str, ModuleType]] = [("this checkout", current)]
    if args.against:
        modules.append((f"baseline {args.against}", baseline_module(args.against)))

    floor = best_of(args.repeat, lambda: [trusted_event_from_json(line) for line in lines])
    full = best_of(args.repeat, lambda: [event_from_json(line) for line in lines])
    by_line = best_of(args.repeat, lambda: [event_from_line(orjson.loads(line), line) for line in lines])
    calls = sum(isinstance(e, ToolCall) for e in events)
    print(f"{n:,} simulated events ({calls:,} tool calls) of {args.sessions} sessions; best of {args.repeat}")
    print(f"floor: contract validation without redaction {floor / n * 1e6:8.1f} µs/event")
    print(
        f"contract validation with redaction (this checkout): {full / n * 1e6:.1f} µs/event, "
        f"{full / floor:.2f}x the floor"
    )
    print(
        f"from JSON lines, the whole-line prefilter (the native adapter's path): "
        f"{by_line / n * 1e6:.1f} µs/event, {by_line / floor:.2f}x the floor"
    )
    print(f"{'redactor':28} {'µs/event':>10} {'share of floor':>15}")
    per_event: dict[str, float] = {}
    for name, module in modules:
        cost = best_of(args.repeat, lambda m=module: redact_all(m, items)) / n  # type: ignore[misc]
        per_event[name] = cost
        print(f"{name:28} {cost * 1e6:10.1f} {cost * n / floor:15.2f}")
    if len(per_event) == 2:
        now, before = per_event.values()
        print(f"this checkout / baseline: {now / before:.2f}x the cost per event")

    print(f"\nhostile text of {HOSTILE_BYTES // 1024} KB (ms, best of 3)")
    print(f"{'unit':14}" + "".join(f"{name:>28}" for name, _ in modules))
    for unit in HOSTILE_UNITS:
        text = unit * (HOSTILE_BYTES // len(unit))
        timings = [
            best_of(3, lambda m=module, t=text: m.redact_text(t)) * 1e3  # type: ignore[misc]
            for _, module in modules
        ]
        print(f"{unit!r:14}" + "".join(f"{t:28.1f}" for t in timings))

    try:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings
    except ImportError:
        return
    sample = [text for _, texts, _ in items[:800] for text in texts][:400]
    with default_settings():
        spent = best_of(1, lambda: [list(scan_line(line)) for line in sample])
    ours = best_of(3, lambda: [current.redact_text(line) for line in sample])
    print(
        f"\ndetect-secrets (all plugins): {spent / len(sample) * 1e6:.0f} µs per text value; "
        f"this checkout: {ours / len(sample) * 1e6:.1f} µs ({spent / max(ours, 1e-9):.0f}x less)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
