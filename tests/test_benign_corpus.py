"""The whole catalog over known-good traffic raises no alert but the listed known false positives.

Two corpora: the tau-bench airline transcripts (real GPT-4o customer-service sessions, read with the
``openai-chat`` adapter) and the simulator's benign sessions (coding, cloud-ops and customer-support
agents with their noise). Every alert must match an entry of ``tests/known_false_positives.yml`` (which
says why it is accepted); every entry must still match an alert of its corpus, so the list cannot rot.
Findings of experimental detectors are not alerts and are not judged here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from detectors.engine import Engine, Runner
from detectors.registry import load_catalog
from schemas.adapters import parse_bytes
from schemas.alerts import Alert
from schemas.events import EVENT_TYPES, AnyEvent
from streams.simulator.workload import simulate
from tests.conftest import SHARED_DATA as CONFTEST_SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = CONFTEST_SHARED_DATA
TAU_AIRLINE = SHARED_DATA / "transcripts" / "tau-bench" / "gpt-4o-airline.json"
KNOWN_FP_FILE = Path(__file__).with_name("known_false_positives.yml")
CORPORA = ("simulator", "tau-bench")
SIMULATOR_RUNS = ((7, 150), (11, 150))  # (seed, sessions): ~27k benign events, every benign scenario
BATCH = 500  # events per Runner.feed call, as the stream would batch them


@dataclass(frozen=True)
class KnownFalsePositive:
    detector: str
    corpus: str
    session: str
    reason: str
    scenario: str | None = None

    def matches(self, corpus: str, alert: Alert, scenario: str | None) -> bool:
        return (
            corpus == self.corpus
            and fnmatch.fnmatchcase(alert.detector_id, self.detector)
            and fnmatch.fnmatchcase(alert.session_id, self.session)
            and (self.scenario is None or fnmatch.fnmatchcase(scenario or "", self.scenario))
        )


def load_known_false_positives(path: Path = KNOWN_FP_FILE) -> list[KnownFalsePositive]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    for number, raw in enumerate(data.get("entries") or [], 1):
        where = f"{path.name} entry {number}"
        assert isinstance(raw, dict), f"{where}: an entry is a mapping"
        unknown = set(raw) - {"detector", "corpus", "session", "scenario", "reason"}
        assert not unknown, f"{where}: unknown field(s) {sorted(unknown)}"
        for required in ("detector", "corpus", "session", "reason"):
            assert str(raw.get(required) or "").strip(), f"{where}: '{required}' is required"
        assert raw["corpus"] in CORPORA, f"{where}: corpus must be one of {CORPORA}"
        entries.append(KnownFalsePositive(**{k: str(v).strip() for k, v in raw.items()}))
    return entries


def run_catalog(events: Sequence[AnyEvent]) -> list[Alert]:
    """Feed events in time order and in batches, then close every key (the embedded replay's path)."""
    runner = Runner(Engine(load_catalog().detectors))
    ordered = sorted(events, key=lambda e: e.event_time)
    alerts: list[Alert] = []
    for start in range(0, len(ordered), BATCH):
        alerts.extend(runner.feed(ordered[start : start + BATCH]).alerts)
    alerts.extend(runner.flush().alerts)
    return alerts


def unexpected(corpus: str, alerts: Iterable[Alert], labels: dict[str, str], used: set[int]) -> list[str]:
    known = load_known_false_positives()
    problems = []
    for alert in alerts:
        scenario = labels.get(alert.session_id)
        hits = [i for i, fp in enumerate(known) if fp.matches(corpus, alert, scenario)]
        used.update(hits)
        if not hits:
            problems.append(
                f"{alert.detector_id} on {alert.session_id} ({scenario or corpus}): {alert.title}"
            )
    return problems


@pytest.fixture(scope="module")
def simulator_alerts() -> tuple[list[Alert], dict[str, str]]:
    events: list[AnyEvent] = []
    labels: dict[str, str] = {}
    for seed, sessions in SIMULATOR_RUNS:
        for run in simulate(seed=seed, sessions=sessions, attack_ratio=0.1):
            if not run.is_attack:
                events.extend(run.events)
                labels[run.session_id] = run.scenario
    assert len(labels) > 200 and len(events) > 10_000
    return run_catalog(events), labels


@pytest.fixture(scope="module")
def tau_alerts() -> list[Alert]:
    if not TAU_AIRLINE.is_file():
        pytest.skip(f"tau-bench transcripts not found at {TAU_AIRLINE}")
    parsed = list(parse_bytes(TAU_AIRLINE.read_bytes(), TAU_AIRLINE.name, "openai-chat"))
    events = [p for p in parsed if isinstance(p, EVENT_TYPES)]
    assert len(events) > 1000, f"the adapter produced only {len(events)} events ({len(parsed)} records)"
    return run_catalog(events)


def test_known_false_positive_entries_are_complete() -> None:
    for entry in load_known_false_positives():
        assert len(entry.reason) >= 40, f"{entry.detector}: say why the alert is accepted"


def test_simulator_benign_sessions_raise_no_unexplained_alert(
    simulator_alerts: tuple[list[Alert], dict[str, str]],
) -> None:
    alerts, labels = simulator_alerts
    problems = unexpected("simulator", alerts, labels, set())
    assert not problems, f"{len(problems)} alert(s) on benign simulator sessions:\n" + "\n".join(
        problems[:40]
    )


@pytest.mark.shared_data
def test_tau_bench_airline_raises_no_unexplained_alert(tau_alerts: list[Alert]) -> None:
    problems = unexpected("tau-bench", tau_alerts, {}, set())
    assert not problems, f"{len(problems)} alert(s) on tau-bench airline:\n" + "\n".join(problems[:40])


def test_every_known_false_positive_still_matches(
    simulator_alerts: tuple[list[Alert], dict[str, str]], request: pytest.FixtureRequest
) -> None:
    known = load_known_false_positives()
    used: set[int] = set()
    alerts, labels = simulator_alerts
    unexpected("simulator", alerts, labels, used)
    corpora = {"simulator"}
    if TAU_AIRLINE.is_file():
        unexpected("tau-bench", request.getfixturevalue("tau_alerts"), {}, used)
        corpora.add("tau-bench")
    stale = [fp for i, fp in enumerate(known) if i not in used and fp.corpus in corpora]
    assert not stale, "known false positives that no longer match any alert (delete them):\n" + "\n".join(
        f"{fp.detector} / {fp.corpus} / {fp.session}" for fp in stale
    )
