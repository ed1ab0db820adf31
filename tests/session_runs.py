"""Run one scenario-shaped session (a task and its calls) through the whole catalog: for the reader-edge and
review tests that check a whole detector's verdict, not one reader's."""

from __future__ import annotations

from typing import Any

from benchmarks.scenario_probes import session
from detectors.engine import Engine, Runner
from schemas.types import Severity


def alerts(engine: Engine, task: str, *calls: tuple[str, dict[str, Any], str]) -> list[tuple[str, Severity]]:
    """(detector, severity) of every alert the session raises; each call is (tool, arguments, result)."""
    steps = [{"tool": tool, "arguments": arguments, "result": result} for tool, arguments, result in calls]
    runner = Runner(engine, close_idle=False)
    out = runner.feed(session({"name": "edge", "task": task, "steps": steps}))
    out.extend(runner.flush())
    return [(a.detector_id, a.severity) for a in out.alerts]


def high(found: list[tuple[str, Severity]]) -> set[str]:
    """The detectors that alerted at high or critical."""
    return {d for d, s in found if s in (Severity.HIGH, Severity.CRITICAL)}
