"""The same events give the same findings, alerts and stored state bytes whatever Python's hash seed.

A set's iteration order follows ``PYTHONHASHSEED`` (random per process unless set), so a detector that keeps
the first or the newest N values of a set (the tainted values under their cap, a record's first private
kind, the ids a create call made) could judge differently in two workers, and a key's stored bytes would
differ between a worker and its replacement. Each scenario set is replayed in two processes with two seeds
and everything they write is compared byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Replays every scenario set; per session: each alert and finding as JSON, and the stored bytes
# (``state_codec.encode``) of each key's state before the flush.
_DUMP = """
import glob, hashlib, sys
import yaml
from benchmarks.scenario_probes import session
from detectors import state_codec
from detectors.engine import Engine, Runner
from detectors.registry import load_catalog
engine = Engine(load_catalog().detectors)
for path in sorted(glob.glob("benchmarks/scenarios/agent_probes*.yml")):
    for scenario in yaml.safe_load(open(path))["scenarios"]:
        runner = Runner(engine, close_idle=False)
        out = runner.feed(session(scenario))
        stored = [state_codec.encode(s.to_dict()) for _, s in sorted(runner.states.items())]
        out.extend(runner.flush())
        print(scenario["name"], "states", hashlib.sha256(b"|".join(stored)).hexdigest())
        for alert in out.alerts:
            print(scenario["name"], "alert", alert.model_dump_json())
        for finding in out.findings:
            print(scenario["name"], "finding", finding.model_dump_json())
"""


def _replay(seed: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _DUMP],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_findings_alerts_and_stored_state_do_not_depend_on_the_hash_seed() -> None:
    runs = [_replay(seed) for seed in ("1", "777")]  # the two replays run side by side
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, err[-2000:]
        outputs.append(out.splitlines())
    first, second = outputs
    assert sum(" alert " in line for line in first) > 1000  # every set replayed, alerts raised
    differing = [(a[:300], b[:300]) for a, b in zip(first, second, strict=True) if a != b]
    assert not differing, differing[:3]
    assert (
        hashlib.sha256("\n".join(first).encode()).digest()
        == hashlib.sha256("\n".join(second).encode()).digest()
    )
