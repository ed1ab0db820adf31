"""Model benchmark: events/s of the full catalog plus the anomaly-model detectors, as a ratio to the full
catalog alone, both measured in the same run on the same events (docs/models.md).

Run: ``python -m benchmarks.model_bench [--sessions N] [--repeat R]``. The model is trained first on a
separate simulated history (not timed); detection runs as ``engine_bench`` runs it (in-memory runner,
batches of 5000 events), so the ratio is the models' cost on top of the catalog's.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.engine_bench import best_of, detect
from detectors.engine import Engine
from detectors.models import ModelHandle, model_detectors, train_model
from detectors.registry import load_catalog
from streams.cli.model import save_model
from streams.simulator.workload import simulate_events


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    history = simulate_events(seed=3, sessions=600, attack_ratio=0.0)
    model = train_model(history, seed=0, target_alert_rate=0.01)
    events = simulate_events(seed=11, sessions=args.sessions, concurrency=args.sessions)
    n = len(events)
    catalog = load_catalog().detectors
    with tempfile.TemporaryDirectory() as folder:
        path = save_model(model, Path(folder) / "model.skops")
        handle = ModelHandle(path)
        assert handle.model is not None, handle.last_error
        alone = Engine(catalog)
        with_models = Engine([*catalog, *model_detectors(handle)])
        models_only = Engine(model_detectors(handle))
        t_alone = best_of(args.repeat, lambda: detect(alone, events))
        t_models = best_of(args.repeat, lambda: detect(with_models, events))
        t_only = best_of(args.repeat, lambda: detect(models_only, events))
    print(f"events: {n}, sessions: {args.sessions}, catalog detectors: {len(catalog)}, model detectors: 3")
    print(f"{'stage':34} {'events/s':>12} {'ratio to catalog':>17}")
    for name, seconds in (
        ("catalog alone", t_alone),
        ("catalog + models", t_models),
        ("models alone", t_only),
    ):
        print(f"{name:34} {n / seconds:12,.0f} {t_alone / seconds:17.2f}")


if __name__ == "__main__":
    main()
