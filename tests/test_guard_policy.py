"""The guard's policy file: defaults, rule order and strictness, call rules, experimental findings, errors;
and the hook's lean settings reader kept in step with the settings object."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.alerts import Finding
from schemas.events import ToolCall
from schemas.types import Capability, Maturity, Severity
from streams.guard.client import ClientConfig
from streams.guard.policy import Policy, PolicyError, load_policy
from streams.settings import GuardSettings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def call(**fields_: Any) -> ToolCall:
    base: dict[str, Any] = dict(
        event_id="c1",
        event_time=NOW,
        source="t",
        session_id="s",
        tool="pay",
        action="pay",
        agent_id="claude-code",
    )
    return ToolCall(**{**base, **fields_})


def finding(
    detector: str, severity: Severity, risk: float = 50.0, maturity: Maturity = Maturity.STABLE
) -> Finding:
    return Finding(
        finding_id=f"f-{detector}",
        detector_id=detector,
        detector_version=1,
        maturity=maturity,
        key_kind="session",
        key="s",
        session_id="s",
        severity=severity,
        risk_score=risk,
        title=f"{detector} spoke",
        event_ids=("c1",),
        first_seen=NOW,
        last_seen=NOW,
    )


def test_defaults_deny_critical_ask_high_allow_the_rest() -> None:
    policy = Policy()
    assert policy.judge(call(), (), [finding("a.x", Severity.CRITICAL)]).decision == "deny"
    assert policy.judge(call(), (), [finding("a.x", Severity.HIGH)]).decision == "ask"
    assert policy.judge(call(), (), [finding("a.x", Severity.MEDIUM)]).decision == "allow"
    assert policy.judge(call(), (), []).decision == "allow"


def test_the_strictest_finding_decides_and_an_allow_rule_never_overrides_a_deny(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(
        "rules:\n"
        "  - {name: noisy-ok, detectors: ['behaviour.*'], decision: allow}\n"
        "  - {name: deny-critical, severity: critical, decision: deny}\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    quiet = policy.judge(call(), (), [finding("behaviour.runaway_loop", Severity.CRITICAL)])
    assert (quiet.decision, quiet.rule) == ("allow", "noisy-ok")  # the first matching rule decides a finding
    both = policy.judge(
        call(),
        (),
        [finding("behaviour.runaway_loop", Severity.CRITICAL), finding("injection.x", Severity.CRITICAL)],
    )
    assert (both.decision, both.rule) == ("deny", "deny-critical")
    assert [s.finding.detector_id for s in both.spoken] == ["injection.x", "behaviour.runaway_loop"]


def test_environment_agent_and_capability_narrow_a_rule(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(
        "default: allow\n"
        "rules:\n"
        "  - {name: prod-high, severity: high, environments: [prod], decision: deny}\n"
        "  - {name: ci-quiet, agents: ['ci-*'], severity: high, decision: allow}\n"
        "  - {name: high, severity: high, decision: ask}\n"
        "  - {name: payments-in-prod, capabilities: [money], environments: [prod], decision: ask}\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    high = [finding("x.y", Severity.HIGH)]
    assert policy.judge(call(environment="prod"), (), high).decision == "deny"
    assert policy.judge(call(agent_id="ci-runner-4"), (), high).decision == "allow"
    assert policy.judge(call(), (), high).decision == "ask"
    # a rule without severity or detectors judges the call itself, with no finding at all
    money = policy.judge(call(environment="prod"), (Capability.MONEY,), [])
    assert (money.decision, money.rule) == ("ask", "payments-in-prod")
    assert policy.judge(call(environment="dev"), (Capability.MONEY,), []).decision == "allow"


def test_experimental_findings_count_only_when_asked() -> None:
    noisy = [finding("models.session_anomaly", Severity.CRITICAL, maturity=Maturity.EXPERIMENTAL)]
    assert Policy().judge(call(), (), noisy).decision == "allow"
    assert Policy(experimental=True).judge(call(), (), noisy).decision == "deny"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("rules: [{decision: block}]", "rules.0.decision"),
        ("rules: [{decision: deny, severity: huge}]", "rules.0.severity"),
        ("dry_run: true\nunknown_key: 1\n", "unknown_key"),
        ("rules: [{decision: deny, environments: [moon]}]", "rules.0.environments.0"),
        ("- just a list\n", "a policy is a mapping"),
        ("rules: [decision: deny\n", "not valid YAML"),
    ],
)
def test_a_bad_policy_file_names_the_field(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert said in str(raised.value) and str(path) in str(raised.value)


def test_an_empty_or_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("", encoding="utf-8")
    assert load_policy(empty) == Policy()
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yml")


def test_the_hooks_settings_reader_matches_the_settings_object() -> None:
    """``client.py`` reads CHAINWATCH_GUARD__* without pydantic (the hook's start-up time): same names, same
    defaults as ``GuardSettings``."""
    settings = GuardSettings()
    config = ClientConfig()
    for item in fields(ClientConfig):
        expected = getattr(settings, item.name)
        if item.name == "token":
            assert expected is None and config.token == ""
        else:
            assert getattr(config, item.name) == expected, item.name
    env = {
        "CHAINWATCH_GUARD__URL": "http://127.0.0.1:9",
        "CHAINWATCH_GUARD__TIMEOUT_SECONDS": "0.5",
        "CHAINWATCH_GUARD__ON_UNAVAILABLE": "deny",
        "CHAINWATCH_GUARD__ENVIRONMENT": "prod",
    }
    read = ClientConfig.from_env(env)
    assert (read.url, read.timeout_seconds, read.on_unavailable, read.environment) == (
        "http://127.0.0.1:9",
        0.5,
        "deny",
        "prod",
    )
    with pytest.raises(ValueError, match="CHAINWATCH_GUARD__ON_UNAVAILABLE"):
        ClientConfig.from_env({"CHAINWATCH_GUARD__ON_UNAVAILABLE": "maybe"})
    with pytest.raises(ValueError, match="CHAINWATCH_GUARD__TIMEOUT_SECONDS"):
        ClientConfig.from_env({"CHAINWATCH_GUARD__TIMEOUT_SECONDS": "soon"})
