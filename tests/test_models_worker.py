"""The models inside the faust worker (no broker: the harness of test_worker_unit) and across a changelog."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from detectors.engine import Engine, KeyState, Runner
from detectors.models import ModelFile, ModelHandle, feature_vector, model_detectors, train_model
from schemas.events import AnyEvent
from streams.cli.model import save_model
from streams.kafka.topology import CONTROL_HEADER, TICK, build_topology
from streams.kafka.worker import with_overrides
from streams.settings import Settings
from streams.simulator.workload import simulate_events
from tests.test_worker_unit import Harness, put, run


@pytest.fixture(scope="module")
def model() -> ModelFile:
    return train_model(simulate_events(seed=41, sessions=120, attack_ratio=0.0), seed=0, n_estimators=50)


def test_the_worker_runs_the_models_and_loads_a_new_file_on_a_tick(tmp_path: Path, model: ModelFile) -> None:
    path = tmp_path / "model.skops"
    settings = with_overrides(Settings(), web_enabled=False)
    settings.engine.model_path = path
    topo = build_topology(settings)
    assert {"models.session_anomaly", "models.first_seen", "models.cadence"} <= set(topo.engine.by_id)
    assert "agent" in topo.scopes  # first_seen's key: the worker has a repartition topic for it
    handle = topo.engine.by_id["models.session_anomaly"].handle  # type: ignore[attr-defined]
    assert handle.model is None  # no file yet: the models score nothing, the catalog runs
    save_model(model, path)

    async def scenario() -> None:
        h = Harness(topo.engine)  # a recording topology around the same engine (and model handle)
        async with h.topo.detect_agents["session"].test_context() as agent:
            counts = await put(h, agent, b"{}", partition=0, offset=0, headers=[(CONTROL_HEADER, TICK)])
            assert counts.ticks == 1

    run(scenario)
    assert handle.loads == 1 and handle.model is not None
    # A rule reload builds a new engine: the model detectors (and their loaded model) carry over.
    topo.reloader.catalog.rule_files = {}  # type: ignore[union-attr]  # force a reload
    assert topo.reload_rules() is True
    assert topo.engine.by_id["models.session_anomaly"].handle is handle  # type: ignore[attr-defined]


def _features(runner: Runner) -> dict[str, list[float]]:
    return {
        key: feature_vector(state.detectors["models.session_anomaly"]["f"])
        for (scope, key), state in [*runner.closed.items(), *runner.states.items()]
        if scope == "session" and "models.session_anomaly" in state.detectors
    }


def test_model_state_survives_the_json_changelog(tmp_path: Path, model: ModelFile) -> None:
    handle = ModelHandle(save_model(model, tmp_path / "m.skops"))
    engine = Engine(model_detectors(handle))
    events: list[AnyEvent] = simulate_events(seed=42, sessions=60, attack_ratio=0.1)
    half = len(events) // 2
    straight = Runner(engine, close_idle=False)
    straight.feed(events)
    restored = Runner(engine, close_idle=False)
    restored.feed(events[:half])
    restored.states = {
        slot: KeyState.from_dict(orjson.loads(orjson.dumps(state.to_dict())))
        for slot, state in restored.states.items()
    }
    restored.feed(events[half:])
    assert _features(restored) == _features(straight)
