"""Readers mended in session 20 on blind set 52 (``benchmarks/scenarios/agent_probes_52.yml``): each test
fails before its change."""

from __future__ import annotations

from detectors.capabilities.private_data import HEALTH, private_kind


def test_a_policys_conditions_are_no_health_record() -> None:
    cover = '{"status":"ACTIVE","insured":"Hanse GmbH","conditions":"ICC (A) + War & SRCC","rate_pct":0.085}'
    assert private_kind(cover, False) is None
    assert private_kind('{"name": "Ana Ortiz", "Medical conditions": "asthma"}', False) == HEALTH
    assert private_kind('[{"pupil": "Ben", "Medical": "Type 1 diabetic"}]', False) == HEALTH
