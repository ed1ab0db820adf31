"""Sequence and threshold rule semantics, and rule files rejected with file, line and reason."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from detectors.cases import build_events
from detectors.engine import Engine, Output, Runner
from detectors.rules import RuleDetector, RuleError, load_rule_file

HEADER = """\
id: test.rule
title: Test rule
description: A rule used by the engine's tests; known gaps are whatever the test says.
severity: high
runbook: nothing to do
mappings: {owasp_agentic: [ASI02]}
"""


def make_rule(tmp_path: Path, body: str, name: str = "rule.yml") -> type[RuleDetector]:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return load_rule_file(path)


def run(rule: type[RuleDetector], events: list[dict[str, Any]], *, flush: bool = True) -> Output:
    runner = Runner(Engine([rule()]))
    out = runner.feed(build_events(events))
    if flush:
        out.extend(runner.flush())
    return out


CHAIN = """\
within: 1h
steps:
  - name: a
    where: action == "A"
  - name: b
    where: action == "B" and arguments.user == $a.arguments.user
  - name: c
    where: action == "C" and arguments.user == $a.arguments.user
"""


def test_every_partial_that_can_advance_advances(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN)
    out = run(
        rule,
        [
            {"action": "A", "arguments": {"user": "x"}},
            {"action": "A", "arguments": {"user": "y"}},
            {"action": "B", "arguments": {"user": "x"}},
            {"action": "B", "arguments": {"user": "y"}},
            {"action": "C", "arguments": {"user": "y"}},
            {"action": "C", "arguments": {"user": "x"}},
        ],
    )
    assert len(out.alerts) == 2
    assert sorted(a.event_ids for a in out.alerts) == [
        ("case-0", "case-2", "case-5"),
        ("case-1", "case-3", "case-4"),
    ]


def test_a_repeated_first_step_with_the_same_binding_is_merged(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN)
    out = run(
        rule,
        [
            {"action": "A", "arguments": {"user": "x"}},
            {"action": "A", "arguments": {"user": "x"}},
            {"action": "B", "arguments": {"user": "x"}},
            {"action": "C", "arguments": {"user": "x"}},
        ],
    )
    assert [a.event_ids for a in out.alerts] == [("case-0", "case-2", "case-3")]


@pytest.mark.parametrize(
    ("b_at", "c_at"),
    [
        # The first A's window (1h) has run out when B arrives; the second A's has not. Merged into the
        # first start, the chain A(3000) -> B -> C was never reported.
        (3700, 3800),
        # B arrives inside both windows, C only inside the second one's: the second start completes, once.
        (3300, 3700),
    ],
)
def test_a_later_repeated_start_completes_within_its_own_window(tmp_path: Path, b_at: int, c_at: int) -> None:
    rule = make_rule(tmp_path, CHAIN)
    out = run(
        rule,
        [
            {"action": "A", "arguments": {"user": "x"}, "at": 0},
            {"action": "A", "arguments": {"user": "x"}, "at": 3000},
            {"action": "B", "arguments": {"user": "x"}, "at": b_at},
            {"action": "C", "arguments": {"user": "x"}, "at": c_at},
        ],
    )
    assert [a.event_ids for a in out.alerts] == [("case-1", "case-2", "case-3")]


def test_repeated_starts_are_bounded_per_key_and_counted(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN)
    engine = Engine([rule()])
    starts = [{"action": "A", "arguments": {"user": "x"}, "at": i} for i in range(20)]
    other = {"action": "A", "arguments": {"user": "y"}, "at": 25}
    state, _ = engine.process_key("session", "case-session", None, build_events([*starts, other]))
    rule_state = state.detectors[rule.state_key]
    kept = [p for p in rule_state["partials"] if p["c"]["a.arguments.user"] == "x"]
    assert len(kept) == rule.max_repeats
    assert rule_state["repeats_dropped"] == 20 - rule.max_repeats
    assert rule_state["evicted"] == 0  # a burst of one start never evicts another chain
    # the earliest start (the evidence) and the newest (the most time left) stay
    assert [p["ids"][0] for p in kept] == ["case-0", "case-17", "case-18", "case-19"]
    # ... and the chain completes once, from the earliest start.
    later = build_events(
        [
            {"action": "B", "arguments": {"user": "x"}, "at": 30, "event_id": "b"},
            {"action": "C", "arguments": {"user": "x"}, "at": 40, "event_id": "c"},
        ]
    )
    _, out = engine.process_key("session", "case-session", state, later)
    assert [a.event_ids for a in out.alerts] == [("case-0", "b", "c")]


def test_the_window_bounds_first_to_last_step(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN)
    out = run(
        rule,
        [
            {"action": "A", "arguments": {"user": "x"}, "at": 0},
            {"action": "B", "arguments": {"user": "x"}, "at": 1800},
            {"action": "C", "arguments": {"user": "x"}, "at": 3601},
        ],
    )
    assert out.alerts == []


def test_partials_per_key_are_bounded_and_evictions_counted(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN + "max_partials: 2\n")
    engine = Engine([rule()])
    events = build_events([{"action": "A", "arguments": {"user": f"u{i}"}} for i in range(5)])
    state, _ = engine.process_key("session", "case-session", None, events)
    rule_state = state.detectors[rule.state_key]
    assert len(rule_state["partials"]) == 2
    assert rule_state["evicted"] == 3
    assert [p["c"]["a.arguments.user"] for p in rule_state["partials"]] == ["u3", "u4"]


def test_progressive_risk_rises_as_a_chain_advances(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN)
    engine = Engine([rule()])
    state, _ = engine.process_key(
        "session", "s", None, build_events([{"action": "A", "arguments": {"user": "x"}}])
    )
    one_step = state.risk
    state, _ = engine.process_key(
        "session",
        "s",
        state,
        build_events([{"action": "B", "arguments": {"user": "x"}, "at": 20, "event_id": "b"}]),
    )
    assert 0 < one_step < state.risk < 70


ABSENCE = """\
within: 1h
steps:
  - name: issued
    where: kind == "credential" and action == "issued"
  - name: ended
    where: kind == "session" and action == "end"
  - name: revoked
    absent: true
    within: 15m
    where: kind == "credential" and action == "revoked" and credential_id == $issued.credential_id
"""

ISSUED = {
    "kind": "credential",
    "action": "issued",
    "credential_id": "k1",
    "session_id": "case-session",
    "at": 0,
}
ENDED = {"kind": "session", "action": "end", "at": 60}


def test_absence_fires_when_nothing_happens_before_the_key_closes(tmp_path: Path) -> None:
    out = run(make_rule(tmp_path, ABSENCE), [ISSUED, ENDED])
    assert len(out.alerts) == 1
    assert out.alerts[0].event_ids == ("case-0", "case-1")


def test_absence_is_cancelled_by_the_awaited_event(tmp_path: Path) -> None:
    revoked = {
        "kind": "credential",
        "action": "revoked",
        "credential_id": "k1",
        "session_id": "case-session",
        "at": 120,
    }
    assert run(make_rule(tmp_path, ABSENCE), [ISSUED, ENDED, revoked]).alerts == []


def test_absence_fires_once_its_deadline_passes_even_if_the_event_comes_later(tmp_path: Path) -> None:
    revoked = {
        "kind": "credential",
        "action": "revoked",
        "credential_id": "k1",
        "session_id": "case-session",
        "at": 60 + 16 * 60,
    }
    out = run(make_rule(tmp_path, ABSENCE), [ISSUED, ENDED, revoked], flush=False)
    assert len(out.alerts) == 1


def test_advance_fires_due_absences_without_an_event(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, ABSENCE)
    engine = Engine([rule()])
    state, out = engine.process_key("session", "case-session", None, build_events([ISSUED, ENDED]))
    assert out.alerts == []
    deadline = build_events([ENDED])[0].event_time.timestamp() + 15 * 60
    assert engine.advance_key("session", "case-session", state, deadline - 1).alerts == []
    assert len(engine.advance_key("session", "case-session", state, deadline).alerts) == 1


def test_until_discards_partial_matches(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, CHAIN + 'until: action == "Reset" and arguments.user == $a.arguments.user\n')
    out = run(
        rule,
        [
            {"action": "A", "arguments": {"user": "x"}},
            {"action": "B", "arguments": {"user": "x"}},
            {"action": "Reset", "arguments": {"user": "x"}},
            {"action": "C", "arguments": {"user": "x"}},
        ],
    )
    assert out.alerts == []


THRESHOLD = """\
type: threshold
threshold:
  where: action == "GetSecretValue"
  count: 3
  distinct: target
  within: 1m
"""


def test_threshold_counts_distinct_values_in_the_window_and_fires_once_per_burst(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, THRESHOLD)
    reads = [{"action": "GetSecretValue", "target": f"secret-{i % 4}", "at": i} for i in range(8)]
    out = run(rule, reads)
    assert len(out.alerts) == 2  # 3 distinct reached at events 2 and again at 5 (window restarts)
    assert out.alerts[0].details["distinct"] == 3


def test_threshold_ignores_repeats_of_one_value_and_slow_reads(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, THRESHOLD)
    same = [{"action": "GetSecretValue", "target": "one", "at": i} for i in range(10)]
    slow = [{"action": "GetSecretValue", "target": f"s{i}", "at": i * 45} for i in range(5)]
    assert run(rule, same).alerts == []
    assert run(rule, slow).alerts == []


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("steps: [\n", None, "not valid YAML"),
        ("colour: red\nsteps:\n  - where: action == 'A'\n", 7, "unknown key 'colour'"),
        ("steps:\n  - name: a\n    where: action ==\n", 9, "bad condition"),
        (
            "steps:\n  - name: a\n    where: action == 'A'\n  - name: b\n    where: target == $zz.target\n",
            7,
            r"reference \$zz.target names no step",
        ),
        (
            "steps:\n  - name: a\n    where: target == $b.target\n  - name: b\n    where: action == 'B'\n",
            7,
            "only known after it",
        ),
        (
            "steps:\n  - name: a\n    absent: true\n    where: action == 'A'\n",
            7,
            "first step cannot be 'absent'",
        ),
        ("within: soon\nsteps:\n  - where: action == 'A'\n", 7, "not a duration"),
        ("type: threshold\nthreshold: {where: action == 'A', count: 0}\n", 8, "count must be"),
    ],
)
def test_broken_rule_files_are_rejected_with_file_line_and_reason(
    tmp_path: Path, body: str, line: int | None, message: str
) -> None:
    with pytest.raises(RuleError, match=message) as info:
        make_rule(tmp_path, body)
    assert str(tmp_path / "rule.yml") in str(info.value)
    if line is not None:
        assert info.value.line == line


def test_missing_metadata_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bare.yml"
    path.write_text("id: x.y\nsteps:\n  - where: action == 'A'\n", encoding="utf-8")
    with pytest.raises(RuleError, match="missing required key 'title'"):
        load_rule_file(path)


WHEN_ASKED = """\
when_asked: {task: '(?i)rotat', severity: medium}
steps:
  - name: key
    where: action == "CreateAccessKey"
"""


def test_when_asked_lowers_the_severity_only_when_the_task_asks(tmp_path: Path) -> None:
    rule = make_rule(tmp_path, WHEN_ASKED)
    asked = [
        {"kind": "session", "action": "start", "task": "Rotate the CI key"},
        {"action": "CreateAccessKey"},
    ]
    unasked = [{"kind": "session", "action": "start", "task": "Fix the build"}, {"action": "CreateAccessKey"}]
    assert [a.severity for a in run(rule, asked).alerts] == ["medium"]
    assert [a.severity for a in run(rule, unasked).alerts] == ["high"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("when_asked: {task: 'a(?=b)', severity: medium}\n", "when_asked.task: bad regular expression"),
        ("when_asked: {task: rotate, severity: loud}\n", "when_asked.severity must be one of"),
        ("when_asked: {task: rotate}\n", "exactly 'task'"),
    ],
)
def test_a_broken_when_asked_is_a_load_error(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        make_rule(tmp_path, spec + "steps:\n  - where: action == 'A'\n")
