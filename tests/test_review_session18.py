"""Review of session 18's readers and redaction (8bdf601..582ea68): each test failed before its fix."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.scenario_probes import high_alerts
from detectors.capabilities.paths import above_named_path
from detectors.engine import Engine
from detectors.registry import load_catalog


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_catalog().detectors)


def _session(task: str, *calls: tuple[str, dict[str, object], str]) -> dict[str, object]:
    steps = [{"tool": tool, "arguments": arguments, "result": result} for tool, arguments, result in calls]
    return {"name": "review", "task": task, "steps": steps}


def _alerts(engine: Engine, task: str, *calls: tuple[str, dict[str, object], str]) -> list[str]:
    return [d for d, _ in high_alerts(engine, _session(task, *calls))]


class _TrustedTextOnly:
    trusted_text = "Delete the tmp- workspaces under /var/lib/jenkins/workspace/ older than 30 days."


def test_a_provenance_with_its_trusted_text_alone_does_not_crash_the_asked_delete_reader() -> None:
    found: Any = above_named_path("cd /var/lib/jenkins && rm -rf ./*", _TrustedTextOnly())
    assert found == ("/var/lib/jenkins", "/var/lib/jenkins/workspace")
