"""Every attack scenario of the simulator raises its expected detector's alert, in its own session.

The attacks run mixed into benign traffic (as in the demo), through the whole catalog, fed in batches
and then flushed. Each scenario maps to the detector(s) that must alert on every one of its sessions;
other detectors may alert too (a chain often trips several).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from detectors.engine import Engine, Runner
from detectors.registry import load_catalog
from schemas.alerts import Alert
from streams.simulator.workload import ATTACK_SCENARIOS, SimulatedSession, simulate

# scenario -> detectors that must each raise an alert in every session of that scenario
EXPECTED: dict[str, tuple[str, ...]] = {
    "privilege_escalation": ("privilege.escalation_chain",),
    "prompt_injection_transfer": ("injection.tainted_action",),
    "destructive_prod": ("destructive.prod_action",),
    "credential_after_task": ("credential.used_after_task",),
    "inherited_human_credential": ("credential.inherited_human",),
    "secret_burst": ("credential.secret_read_burst",),
    "defense_evasion": ("evasion.audit_logging_disabled",),
    "exfiltration": ("exfiltration.read_then_share",),
}
SEED, SESSIONS, ATTACK_RATIO = 7, 160, 0.3  # 48 attacks: every scenario 6 times, covering its variants
BATCH = 500


@pytest.fixture(scope="module")
def simulation() -> tuple[list[SimulatedSession], dict[str, set[str]]]:
    runs = simulate(seed=SEED, sessions=SESSIONS, attack_ratio=ATTACK_RATIO)
    events = sorted((e for run in runs for e in run.events), key=lambda e: e.event_time)
    runner = Runner(Engine(load_catalog().detectors))
    alerts: list[Alert] = []
    for start in range(0, len(events), BATCH):
        alerts.extend(runner.feed(events[start : start + BATCH]).alerts)
    alerts.extend(runner.flush().alerts)
    by_session: dict[str, set[str]] = defaultdict(set)
    for alert in alerts:
        by_session[alert.session_id].add(alert.detector_id)
    return runs, by_session


def test_every_attack_scenario_is_mapped() -> None:
    assert set(EXPECTED) == set(ATTACK_SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_attack_scenario_raises_its_alert(
    scenario: str, simulation: tuple[list[SimulatedSession], dict[str, set[str]]]
) -> None:
    known = {d.id for d in load_catalog().detectors}
    missing = [d for d in EXPECTED[scenario] if d not in known]
    assert not missing, f"{scenario}: expected detector(s) {missing} are not in the catalog yet"
    runs, by_session = simulation
    sessions = [run for run in runs if run.scenario == scenario]
    assert len(sessions) >= 3, f"only {len(sessions)} {scenario} session(s) simulated"
    silent = [
        f"{run.session_id}: missing {sorted(set(EXPECTED[scenario]) - by_session[run.session_id])}, "
        f"got {sorted(by_session[run.session_id])}"
        for run in sessions
        if not set(EXPECTED[scenario]) <= by_session[run.session_id]
    ]
    assert not silent, f"{scenario} sessions without their expected alert:\n" + "\n".join(silent)
