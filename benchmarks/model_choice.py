"""Why an IsolationForest: ROC AUC of four scikit-learn novelty estimators on the same session features.

Run: ``python -m benchmarks.model_choice``. Each estimator is fitted on the features of 600 benign simulated
sessions (seed 1; ``new_*`` features against the expanding baseline, as ``train_model`` does) and scores
three labelled runs of 400 sessions with 10 % attacks (seeds 2, 3, 4) against the frozen baseline, as the
stream does. Also printed: the time to score one session (scikit-learn's one-row call, and for the forest
the flattened trees the stream uses). Figures are quoted in docs/models.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler
from sklearn.svm import OneClassSVM

from detectors.models.features import model_inputs
from detectors.models.forest import CompiledForest
from detectors.models.training import session_rows
from streams.simulator.workload import simulate

ESTIMATORS: dict[str, Callable[[], Any]] = {
    "IsolationForest (200 trees)": lambda: IsolationForest(n_estimators=200, random_state=0),
    "LocalOutlierFactor (k=20, scaled)": lambda: make_pipeline(
        RobustScaler(), LocalOutlierFactor(n_neighbors=20, novelty=True)
    ),
    "OneClassSVM (rbf, scaled)": lambda: make_pipeline(RobustScaler(), OneClassSVM(gamma="scale", nu=0.05)),
    "EllipticEnvelope": lambda: EllipticEnvelope(random_state=0, support_fraction=0.9),
}


def main() -> None:
    history = simulate(seed=1, sessions=600, attack_ratio=0.0)
    rows, baseline = session_rows([e for run in history for e in run.events])
    fit = np.array([model_inputs(r.raw) for r in rows])
    tests = []
    for seed in (2, 3, 4):
        runs = simulate(seed=seed, sessions=400, attack_ratio=0.1)
        labels = {run.session_id: run.is_attack for run in runs}
        scored, _ = session_rows([e for run in runs for e in run.events], baseline)
        tests.append(
            (
                np.array([model_inputs(r.raw) for r in scored]),
                np.array([labels[r.session_id] for r in scored]),
            )
        )
    print(f"fitted on {len(fit)} benign sessions; ROC AUC on seeds 2, 3, 4")
    for name, make in ESTIMATORS.items():
        estimator = make().fit(fit)
        aucs = [roc_auc_score(y, -estimator.score_samples(x)) for x, y in tests]
        sample = tests[0][0][:50]
        start = time.perf_counter()
        for row in sample:
            estimator.score_samples(row.reshape(1, -1))
        one_row = (time.perf_counter() - start) / len(sample) * 1e3
        extra = ""
        if isinstance(estimator, IsolationForest):
            forest = CompiledForest(estimator)
            start = time.perf_counter()
            for row in sample:
                forest.score(row.tolist())
            extra = f", flattened trees {(time.perf_counter() - start) / len(sample) * 1e3:.2f} ms"
        print(f"{name:36} AUC {' '.join(f'{a:.3f}' for a in aucs)}   one session: {one_row:.2f} ms{extra}")


if __name__ == "__main__":
    main()
