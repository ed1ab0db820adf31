"""Detector case files: positive, negative and edge cases, run without Kafka or DuckDB.

A case file mirrors its detector's path: ``tests/cases/<family>/<name>.yml`` for id
``<family>.<name>``::

    detector: privilege.escalation_chain
    cases:
      - name: user created, made admin, keyed
        expect: alert            # alert | finding | none
        count: 1                 # optional: exact number of findings of this detector
        severity: high           # optional: the least severity every alert of the detector must have
                                 # (expect: finding — every finding: a building block is info)
        tags: [edge]             # optional; every detector needs at least one edge case
        events:                  # event contract fields; defaults fill the rest
          - {action: CreateUser, tool: iam, arguments: {userName: x}, at: 0}

Defaults: ``kind: tool_call``, ``event_id: case-<n>``, ``event_time``: 2026-01-01T00:00:00Z plus
``at`` seconds (default 10 s per event), ``source: case``, ``session_id: case-session``,
``agent_id: case-agent``, ``tool: test``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from detectors.base import Detector
from detectors.engine import Engine, EngineSettings, Output, Runner
from schemas.alerts import Alert, Finding
from schemas.events import AnyEvent, event_from_dict
from schemas.types import SEVERITY_RANK, Severity

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
EXPECTATIONS = ("alert", "finding", "none")


class CaseFileError(ValueError):
    pass


@dataclass
class Case:
    detector_id: str
    name: str
    expect: str
    events: list[dict[str, Any]]
    count: int | None = None
    path: str = ""
    tags: tuple[str, ...] = ()
    severity: str | None = None

    @property
    def test_id(self) -> str:
        return f"{self.detector_id}::{self.name}"


@dataclass
class CaseResult:
    case: Case
    passed: bool
    message: str
    output: Output


def build_events(raw_events: list[dict[str, Any]], case_name: str = "") -> list[AnyEvent]:
    events: list[AnyEvent] = []
    for number, raw in enumerate(raw_events):
        data = dict(raw)
        at = data.pop("at", number * 10)
        data.setdefault("kind", "tool_call")
        data.setdefault("event_id", f"case-{number}")
        data.setdefault("event_time", (BASE_TIME + timedelta(seconds=float(at))).isoformat())
        data.setdefault("source", "case")
        data.setdefault("agent_id", "case-agent")
        if data["kind"] != "credential":
            data.setdefault("session_id", "case-session")
        if data["kind"] == "tool_call":
            data.setdefault("tool", "test")
        try:
            events.append(event_from_dict(data))
        except ValueError as exc:
            raise CaseFileError(f"case '{case_name}' event {number}: {exc}") from exc
    return events


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "detector" not in data or not isinstance(data.get("cases"), list):
        raise CaseFileError(f"{path}: a case file needs 'detector:' and a list 'cases:'")
    cases = []
    for raw in data["cases"]:
        if raw.get("expect") not in EXPECTATIONS:
            raise CaseFileError(f"{path}: case '{raw.get('name')}' needs expect: {' | '.join(EXPECTATIONS)}")
        cases.append(
            Case(
                str(data["detector"]),
                str(raw["name"]),
                raw["expect"],
                list(raw.get("events", [])),
                raw.get("count"),
                str(path),
                tuple(raw.get("tags", ())),
                _severity(path, raw),
            )
        )
    return cases


def _severity(path: Path, raw: dict[str, Any]) -> str | None:
    value = raw.get("severity")
    if value is None:
        return None
    if value not in {s.value for s in Severity}:
        raise CaseFileError(
            f"{path}: case '{raw.get('name')}' severity must be one of {[s.value for s in Severity]}"
        )
    return str(value)


def run_case(detector: Detector, case: Case) -> CaseResult:
    engine = Engine([detector], EngineSettings())
    runner = Runner(engine)
    events = build_events(case.events, case.name)
    output = runner.feed(events)
    output.extend(runner.flush())
    findings = [f for f in output.findings if f.detector_id == detector.id]
    alerts = [a for a in output.alerts if a.detector_id == detector.id]
    problems = []
    if case.expect == "none" and findings:
        problems.append(f"expected no finding, got {len(findings)}: {[f.title for f in findings]}")
    if case.expect == "finding" and not findings:
        problems.append("expected a finding, got none")
    if case.expect == "alert" and not alerts:
        problems.append(f"expected an alert, got none ({len(findings)} finding(s))")
    # expect: finding grades the findings (a check may be a building block at info or a finding of its
    # own at low+); otherwise the alerts
    graded: list[Finding | Alert] = list(findings) if case.expect == "finding" else list(alerts)
    if case.severity is not None and graded:
        weak = [
            f"{a.severity}: {a.title}"
            for a in graded
            if SEVERITY_RANK[a.severity] < SEVERITY_RANK[Severity(case.severity)]
        ]
        if weak:
            kind = "findings" if case.expect == "finding" else "alerts"
            problems.append(f"expected {kind} of at least {case.severity}, got {weak}")
    if case.count is not None and len(findings) != case.count:
        problems.append(f"expected {case.count} finding(s), got {len(findings)}")
    return CaseResult(case, not problems, "; ".join(problems) or "ok", output)
