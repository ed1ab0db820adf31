"""The simulator: deterministic, valid against the event contract, realistic enough to test detectors on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from itertools import pairwise
from pathlib import Path

import pytest

from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall, event_from_json, event_to_json
from schemas.types import CredentialAction, Decision, Environment, Outcome, SessionAction
from streams.simulator.workload import (
    ATTACK_SCENARIOS,
    BENIGN_SCENARIOS,
    DEFAULT_START,
    SCENARIOS,
    SimulatedSession,
    labels,
    simulate,
    simulate_events,
    write_jsonl,
)

# Seeds whose runs, together, cover every variant of every attack scenario.
SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def default_run() -> list[SimulatedSession]:
    return simulate()


@pytest.fixture(scope="module")
def attack_runs() -> list[SimulatedSession]:
    """Attack-heavy runs over several seeds: every scenario several times, in every variant."""
    return [run for seed in SEEDS for run in simulate(seed=seed, sessions=64, attack_ratio=0.5)]


def _calls(run: SimulatedSession) -> list[ToolCall]:
    return [e for e in run.events if isinstance(e, ToolCall)]


def _creds(run: SimulatedSession) -> list[CredentialEvent]:
    return [e for e in run.events if isinstance(e, CredentialEvent)]


def _boundary(run: SimulatedSession, action: SessionAction) -> SessionEvent:
    (event,) = (e for e in run.events if isinstance(e, SessionEvent) and e.action is action)
    return event


def _max_open(runs: Iterable[SimulatedSession]) -> int:
    """Most sessions open at one instant, a session being open from its start to its end event."""
    edges: list[tuple[datetime, int]] = []
    for run in runs:
        edges.append((_boundary(run, SessionAction.START).event_time, 1))
        edges.append((_boundary(run, SessionAction.END).event_time, -1))
    edges.sort()  # at equal times an end (-1) sorts before a start (+1)
    best = current = 0
    for _, delta in edges:
        current += delta
        best = max(best, current)
    return best


# -- determinism ---------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_output(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert write_jsonl(simulate_events(seed=11, sessions=40), first) > 0
    write_jsonl(simulate_events(seed=11, sessions=40), second)
    assert first.read_bytes() == second.read_bytes()


def test_same_seed_gives_equal_sessions() -> None:
    assert simulate(seed=5, sessions=30) == simulate(seed=5, sessions=30)


def test_different_seeds_differ() -> None:
    a = [event_to_json(e) for e in simulate_events(seed=1, sessions=30)]
    b = [event_to_json(e) for e in simulate_events(seed=2, sessions=30)]
    assert a != b


def test_times_come_from_start_never_the_wall_clock() -> None:
    later = DEFAULT_START + timedelta(days=3, hours=2)
    base, shifted = simulate_events(sessions=20), simulate_events(sessions=20, start=later)
    assert [e.event_time + timedelta(days=3, hours=2) for e in base] == [e.event_time for e in shifted]
    assert min(e.event_time for e in base) == DEFAULT_START


def test_naive_start_is_taken_as_utc() -> None:
    naive = datetime(2026, 1, 5, 9, 0)
    assert simulate_events(sessions=5, start=naive) == simulate_events(sessions=5)


# -- the contract --------------------------------------------------------------------------------------


def test_every_event_round_trips_through_json(
    default_run: list[SimulatedSession], attack_runs: list[SimulatedSession]
) -> None:
    attacks = [run for run in attack_runs if run.is_attack]  # benign ones are covered by the default run
    for run in [*default_run, *attacks]:
        for event in run.events:
            assert event_from_json(event_to_json(event)) == event, event.event_id
            # and equals the event validated from scratch (the simulator validates each payload once)
            assert type(event).model_validate(event.model_dump()) == event, event.event_id


def test_ids_are_unique_and_readable(default_run: list[SimulatedSession]) -> None:
    ids = [e.event_id for run in default_run for e in run.events]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("sim-7-") for i in ids)
    assert len({run.session_id for run in default_run}) == len(default_run)


def test_sessions_are_well_formed(
    default_run: list[SimulatedSession], attack_runs: list[SimulatedSession]
) -> None:
    for run in [*default_run, *attack_runs]:
        times = [e.event_time for e in run.events]
        assert times == sorted(times) and len(set(times)) == len(times), run.session_id
        assert all(e.session_id == run.session_id and e.source == "simulator" for e in run.events)
        assert all(e.event_time.tzinfo is not None for e in run.events)
        first = run.events[0]
        assert isinstance(first, SessionEvent) and first.action is SessionAction.START and first.task
        assert _boundary(run, SessionAction.END)  # exactly one end
        known = {e.event_id for e in run.events}
        assert set(run.attack_steps) <= known
        assert bool(run.attack_steps) == run.is_attack == SCENARIOS[run.scenario].is_attack


def test_simulate_events_is_every_event_sorted_by_time(default_run: list[SimulatedSession]) -> None:
    events = simulate_events()
    assert [e.event_time for e in events] == sorted(e.event_time for e in events)
    assert Counter(e.event_id for e in events) == Counter(e.event_id for r in default_run for e in r.events)
    # stable: events at the same instant keep session order, then step order
    position = {e.event_id: (i, j) for i, r in enumerate(default_run) for j, e in enumerate(r.events)}
    for a, b in pairwise(events):
        if a.event_time == b.event_time:
            assert position[a.event_id] < position[b.event_id]


def test_write_jsonl_writes_native_lines(tmp_path: Path) -> None:
    events = simulate_events(sessions=10)
    path = tmp_path / "events.jsonl"
    assert write_jsonl(events, path) == len(events)
    lines = path.read_bytes().splitlines()
    assert [event_from_json(line) for line in lines] == events


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="attack_ratio"):
        simulate(attack_ratio=1.5)
    with pytest.raises(ValueError, match="sessions"):
        simulate(sessions=-1)
    with pytest.raises(ValueError, match="concurrency"):
        simulate(concurrency=0)
    assert simulate(sessions=0) == []


# -- the mix -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sessions", "ratio"), [(60, 0.1), (100, 0.25), (7, 0.5), (40, 0.0), (12, 1.0)])
def test_attack_ratio_is_respected(sessions: int, ratio: float) -> None:
    runs = simulate(sessions=sessions, attack_ratio=ratio)
    assert len(runs) == sessions
    assert sum(run.is_attack for run in runs) == int(sessions * ratio + 0.5)


def test_labels_map_sessions_to_scenarios(default_run: list[SimulatedSession]) -> None:
    assert labels(default_run) == {run.session_id: run.scenario for run in default_run}
    assert set(labels(default_run).values()) <= set(SCENARIOS)


def test_every_scenario_appears_once_there_are_enough_attacks() -> None:
    runs = simulate(sessions=100, attack_ratio=len(ATTACK_SCENARIOS) / 100)
    assert {run.scenario for run in runs} == set(SCENARIOS)
    assert set(ATTACK_SCENARIOS) | set(BENIGN_SCENARIOS) == set(SCENARIOS)


def test_default_run_is_mostly_benign_with_a_few_distinct_attacks(
    default_run: list[SimulatedSession],
) -> None:
    attacks = [run.scenario for run in default_run if run.is_attack]
    assert sorted(attacks) == sorted(ATTACK_SCENARIOS[:6])  # dealt in catalog order: the flagships first
    assert {"privilege_escalation", "prompt_injection_transfer"} <= set(attacks)
    assert {run.scenario for run in default_run if not run.is_attack} == set(BENIGN_SCENARIOS)


def test_sessions_overlap_in_time(default_run: list[SimulatedSession]) -> None:
    assert _max_open(default_run) >= 8


def test_concurrency_option_keeps_that_many_sessions_open() -> None:
    runs = simulate(sessions=300, concurrency=120)
    assert _max_open(runs) >= 120
    assert _max_open(simulate(sessions=30, concurrency=30)) == 30


def test_a_full_wave_is_open_at_once_and_sessions_average_80_events() -> None:
    """The large run's two properties at a tenth of its size (the large run itself is marked slow)."""
    runs = simulate(sessions=250, concurrency=250)
    assert _max_open(runs) == 250
    assert sum(len(run.events) for run in runs) >= 80 * 250  # so 2,500 sessions make 200k events


@pytest.mark.slow
def test_large_run_has_200k_events_and_2000_concurrent_sessions() -> None:
    # 8-20 s on the shared 2-core machines; its speed is measured by the benchmark, never asserted here.
    runs = simulate(sessions=2500, concurrency=2500)
    assert sum(len(run.events) for run in runs) >= 200_000
    assert _max_open(runs) >= 2000


# -- benign traffic ------------------------------------------------------------------------------------


def test_benign_sessions_have_the_agents_vocabularies(default_run: list[SimulatedSession]) -> None:
    by_scenario: dict[str, list[ToolCall]] = {}
    for run in default_run:
        by_scenario.setdefault(run.scenario, []).extend(_calls(run))
    coding = by_scenario["coding_task"]
    assert {c.tool for c in coding} >= {"bash", "read_file", "write_file", "git"}
    assert any(c.tool == "bash" and c.action == "exec" and "pytest" in c.arguments["command"] for c in coding)
    assert any(c.tool == "git" and c.action == "push" and c.outcome is Outcome.SUCCESS for c in coding)
    assert all(c.environment is Environment.DEV for c in coding)
    cloud = by_scenario["cloud_ops"]
    assert {c.tool for c in cloud} == {"aws"}
    assert {c.action for c in cloud} >= {"DescribeInstances", "GetObject", "FilterLogEvents"}
    assert all(c.target is None or c.target.startswith("arn:aws:") for c in cloud)
    assert {c.environment for c in cloud} == {Environment.PROD, Environment.STAGING}
    support = by_scenario["customer_support"]
    assert {c.tool for c in support} >= {"read_email", "lookup_order", "issue_refund", "send_email"}
    assert all(c.untrusted_content == (c.tool in ("read_email", "fetch_url")) for c in support)
    assert not any("ignore previous instructions" in (c.result_summary or "").lower() for c in support)


def test_benign_work_stays_within_the_declared_scope(default_run: list[SimulatedSession]) -> None:
    """Only refused calls leave the task's scope, so intent-vs-action findings on benign traffic are rare."""
    for run in default_run:
        if run.is_attack:
            continue
        scope = _boundary(run, SessionAction.START).task_scope or ()
        resources = [p for p in scope if not p.startswith("tool:")]
        for call in _calls(run):
            assert f"tool:{call.tool}" in scope, (run.session_id, call.tool)
            if call.target is not None and call.outcome is not Outcome.DENIED:
                assert any(fnmatchcase(call.target, p) for p in resources), (run.session_id, call.target)


def test_benign_noise_is_there(default_run: list[SimulatedSession]) -> None:
    calls = [c for run in default_run if not run.is_attack for c in _calls(run)]
    outcomes = Counter(c.outcome for c in calls)
    assert outcomes[Outcome.DENIED] > 0 and outcomes[Outcome.ERROR] > 0
    assert outcomes[Outcome.SUCCESS] > 0.7 * len(calls)
    approved = [c for c in calls if c.decision is Decision.APPROVED]
    assert approved and all(c.approved_by for c in approved)
    lengths = [len(_calls(run)) for run in default_run if not run.is_attack]
    assert min(lengths) <= 12 and max(lengths) >= 120


def test_benign_credentials_are_task_scoped(default_run: list[SimulatedSession]) -> None:
    for run in default_run:
        if run.is_attack:
            continue
        issued = [e for e in _creds(run) if e.action is CredentialAction.ISSUED]
        assert len(issued) == 1, run.session_id
        cred = issued[0]
        assert cred.credential_id.startswith(("cred-", "ASIA")) and not cred.inherited_from_human
        assert 900 <= (cred.ttl_seconds or 0) <= 3600 and cred.expires_at is not None
        assert cred.subject == run.events[0].agent_id and cred.on_behalf_of == run.events[0].principal
        closing = [
            e.action for e in _creds(run) if e.action in (CredentialAction.REVOKED, CredentialAction.EXPIRED)
        ]
        assert len(closing) == 1, run.session_id
        end = _boundary(run, SessionAction.END).event_time
        assert all(c.event_time < end for c in _calls(run))
        assert any(c.credential_id == cred.credential_id for c in _calls(run))


def test_long_sessions_refresh_their_credentials(attack_runs: list[SimulatedSession]) -> None:
    refreshed = [e for run in simulate(seed=3) for e in _creds(run) if e.action is CredentialAction.REFRESHED]
    assert refreshed and all(e.expires_at and e.ttl_seconds for e in refreshed)


# -- attacks -------------------------------------------------------------------------------------------


def _privilege_escalation(run: SimulatedSession) -> None:
    steps = [c for c in _calls(run) if c.event_id in run.attack_steps]
    assert [c.action for c in steps] == ["CreateUser", "AttachUserPolicy", "CreateAccessKey"]
    user = steps[0].arguments["userName"]
    assert all(c.tool == "aws" and c.arguments["userName"] == user for c in steps)
    assert steps[0].target == f"arn:aws:iam::111122223333:user/{user}"
    assert steps[1].arguments["policyArn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert all(c.environment is Environment.PROD and c.decision is Decision.AUTO_ALLOWED for c in steps)
    assert steps[-1].event_time - steps[0].event_time <= timedelta(minutes=3)


def _prompt_injection_transfer(run: SimulatedSession) -> None:
    task = _boundary(run, SessionAction.START).task or ""
    assert "refund" in task
    calls = _calls(run)
    untrusted = [
        c for c in calls if c.untrusted_content and "Ignore previous instructions" in (c.result_summary or "")
    ]
    assert len(untrusted) == 1 and untrusted[0].tool in ("read_email", "fetch_url")
    payments = [c for c in calls if c.tool in ("transfer_funds", "send_payment")]
    assert len(payments) == 1
    iban = payments[0].arguments["iban"]
    assert iban in (untrusted[0].result_summary or "") and iban not in task
    assert untrusted[0].event_time < payments[0].event_time
    assert set(run.attack_steps) == {untrusted[0].event_id, payments[0].event_id}


def _destructive_prod(run: SimulatedSession) -> None:
    steps = [c for c in _calls(run) if c.event_id in run.attack_steps]
    assert len(steps) == 2
    assert all(c.environment is Environment.PROD and c.decision is Decision.AUTO_ALLOWED for c in steps)
    commands = " ".join(c.arguments.get("command", "") for c in steps if c.tool == "bash")
    assert "rm -rf /var/lib/postgresql/data" in commands or "destroy -auto-approve" in commands
    assert "DROP TABLE customers" in commands or any(c.action == "DeleteDBInstance" for c in steps)


def _credential_after_task(run: SimulatedSession) -> None:
    end = _boundary(run, SessionAction.END)
    cred = next(e for e in _creds(run) if e.action is CredentialAction.ISSUED)
    assert not any(e.action in (CredentialAction.REVOKED, CredentialAction.EXPIRED) for e in _creds(run))
    late = [c for c in _calls(run) if c.event_time > end.event_time]
    assert late and all(c.credential_id == cred.credential_id and c.action == "GetSecretValue" for c in late)
    assert late[0].event_time - end.event_time >= timedelta(minutes=20)
    assert cred.expires_at is not None and late[-1].event_time < cred.expires_at
    assert end.event_id in run.attack_steps


def _inherited_human_credential(run: SimulatedSession) -> None:
    (cred,) = _creds(run)
    assert cred.inherited_from_human and cred.scopes == ("*",)
    assert cred.on_behalf_of is not None and cred.on_behalf_of == run.events[0].principal
    assert cred.on_behalf_of.endswith("@example.com")
    assert (cred.ttl_seconds or 0) >= 30 * 86400
    calls = _calls(run)
    assert 1 <= len(calls) <= 5 and all(c.credential_id == cred.credential_id for c in calls)


def _secret_burst(run: SimulatedSession) -> None:
    steps = [c for c in _calls(run) if c.event_id in run.attack_steps]
    assert len(steps) >= 15 and all(c.action == "GetSecretValue" for c in steps)
    assert len({c.arguments["secretId"] for c in steps}) == len(steps)
    assert len({c.target for c in steps}) == len(steps)
    assert steps[-1].event_time - steps[0].event_time <= timedelta(minutes=1)


def _defense_evasion(run: SimulatedSession) -> None:
    steps = [c for c in _calls(run) if c.event_id in run.attack_steps]
    assert steps[0].action == "StopLogging" and ":trail/" in (steps[0].target or "")
    assert {c.action for c in steps[:-1]} <= {"StopLogging", "DeleteTrail"}
    assert steps[-1].action in ("CreateAccessKey", "GetObject")


def _exfiltration(run: SimulatedSession) -> None:
    read, share = [c for c in _calls(run) if c.event_id in run.attack_steps]
    assert read.event_time < share.event_time
    assert "customer" in (read.target or "") + (read.result_summary or "")
    if share.action == "ModifySnapshotAttribute":
        assert share.arguments["createVolumePermission"] == {"add": {"items": [{"group": "all"}]}}
    elif share.tool == "send_email":
        assert not share.arguments["recipient"].endswith("@acme.example") and share.arguments["attachments"]
    else:
        assert share.tool == "http_post" and share.arguments["url"].startswith("https://")


CHECKS: dict[str, Callable[[SimulatedSession], None]] = {
    "privilege_escalation": _privilege_escalation,
    "prompt_injection_transfer": _prompt_injection_transfer,
    "destructive_prod": _destructive_prod,
    "credential_after_task": _credential_after_task,
    "inherited_human_credential": _inherited_human_credential,
    "secret_burst": _secret_burst,
    "defense_evasion": _defense_evasion,
    "exfiltration": _exfiltration,
}


def test_every_attack_scenario_has_a_check() -> None:
    assert set(CHECKS) == set(ATTACK_SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(CHECKS))
def test_attack_has_its_characteristic_chain(scenario: str, attack_runs: list[SimulatedSession]) -> None:
    runs = [run for run in attack_runs if run.scenario == scenario]
    assert len(runs) >= 3
    for run in runs:
        assert run.is_attack and run.attack_steps
        CHECKS[scenario](run)


def test_attack_variants_are_all_covered(attack_runs: list[SimulatedSession]) -> None:
    tools = Counter(
        (run.scenario, c.tool if c.tool != "aws" else c.action)
        for run in attack_runs
        for c in _calls(run)
        if c.event_id in run.attack_steps
    )
    for variant in [
        ("destructive_prod", "bash"),
        ("destructive_prod", "DeleteDBInstance"),
        ("prompt_injection_transfer", "read_email"),
        ("prompt_injection_transfer", "fetch_url"),
        ("prompt_injection_transfer", "transfer_funds"),
        ("prompt_injection_transfer", "send_payment"),
        ("exfiltration", "ModifySnapshotAttribute"),
        ("exfiltration", "send_email"),
        ("exfiltration", "http_post"),
        ("defense_evasion", "DeleteTrail"),
    ]:
        assert tools[variant] > 0, variant


def test_attack_steps_are_absent_from_benign_sessions(default_run: list[SimulatedSession]) -> None:
    benign: list[AnyEvent] = [e for run in default_run if not run.is_attack for e in run.events]
    calls = [e for e in benign if isinstance(e, ToolCall)]
    assert not any(
        c.action in ("CreateUser", "AttachUserPolicy", "StopLogging", "DeleteTrail") for c in calls
    )
    assert not any(c.tool in ("transfer_funds", "send_payment", "http_post") for c in calls)
    assert not any(isinstance(e, CredentialEvent) and e.inherited_from_human for e in benign)
    assert not any(c.environment is Environment.PROD and c.decision is Decision.AUTO_ALLOWED for c in calls)
