"""Training and evaluation from history: the batch side of the one feature code path.

``session_rows`` groups events by session and feeds each session's events, in event-time order, through
``features.update`` — the function the stream detector calls per event. Training walks sessions in start
order against an *expanding* baseline (a session's ``new_*`` features count what its agent had not used in
earlier sessions); evaluation and the stream use the model's frozen baseline.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from detectors.models.baseline import Baseline
from detectors.models.features import (
    FEATURE_NAMES,
    FEATURE_VERSION,
    feature_vector,
    initial_state,
    model_inputs,
    update,
)
from detectors.models.modelfile import FORMAT, FORMAT_VERSION, ModelFile, ModelFileError
from schemas.events import AnyEvent

MIN_TOOL_CALLS = 3  # sessions with fewer calls carry too little to score (and are not trained on)
MIN_TRAINING_SESSIONS = 40
CALIBRATION_FOLDS = 5


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    agent_id: str | None
    start: float
    raw: list[float]  # features in human units, FEATURES order
    state: dict[str, Any]


def group_sessions(events: Iterable[AnyEvent]) -> list[list[AnyEvent]]:
    """Events per session, each in event-time order (stable), sessions in order of their first event."""
    sessions: dict[str, list[AnyEvent]] = {}
    for event in sorted(events, key=lambda e: e.event_time):
        sessions.setdefault(event.session_id, []).append(event)
    return list(sessions.values())


def session_rows(
    events: Iterable[AnyEvent], baseline: Baseline | None = None, *, min_tool_calls: int = MIN_TOOL_CALLS
) -> tuple[list[SessionRow], Baseline]:
    """Feature rows of every session with at least ``min_tool_calls`` calls.

    ``baseline`` given: it is frozen (what a model has learnt; the stream sees the same). Not given: an
    expanding baseline is built as sessions go by, and returned.
    """
    return _rows(group_sessions(events), baseline, min_tool_calls)


def _rows(
    sessions: Sequence[Sequence[AnyEvent]], baseline: Baseline | None, min_tool_calls: int
) -> tuple[list[SessionRow], Baseline]:
    expanding = baseline is None
    history = baseline if baseline is not None else Baseline()
    rows = []
    for session in sessions:
        agent_id = next((e.agent_id for e in session if e.agent_id), None)
        known = history.known(agent_id)
        state = initial_state()
        for event in session:
            update(state, event, known)
        if state["calls"] >= min_tool_calls:
            rows.append(
                SessionRow(session[0].session_id, agent_id, state["start"], feature_vector(state), state)
            )
        if expanding:
            history.add_session(agent_id, state)
    return rows, history


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, tz=UTC).isoformat()


def train_model(
    events: Sequence[AnyEvent],
    *,
    seed: int = 0,
    target_alert_rate: float = 0.01,
    n_estimators: int = 200,
    max_samples: int = 256,
) -> ModelFile:
    """Fit the session model on history (``events``, e.g. ``streams.store.database.load_events``).

    Deterministic: the same events and seed give the same model. The threshold is the anomaly score that
    the top ``target_alert_rate`` share of the training sessions reach (history is assumed mostly benign;
    ``evaluate_model`` measures the rate on sessions the model has not seen).
    """
    from sklearn import __version__ as sklearn_version
    from sklearn.ensemble import IsolationForest
    from skops import __version__ as skops_version

    if not 0.0 < target_alert_rate < 1.0:
        raise ModelFileError(
            f"target alert rate {target_alert_rate}: give a share between 0 and 1, e.g. 0.01"
        )
    sessions = group_sessions(events)
    rows, baseline = _rows(sessions, None, MIN_TOOL_CALLS)
    if len(rows) < MIN_TRAINING_SESSIONS:
        raise ModelFileError(
            f"training data: {len(rows)} sessions with at least {MIN_TOOL_CALLS} tool calls, at least "
            f"{MIN_TRAINING_SESSIONS} are needed; widen --since or load more history into the database"
        )
    inputs = [model_inputs(r.raw) for r in rows]

    def forest(fit_rows: list[list[float]]) -> Any:
        return IsolationForest(
            n_estimators=n_estimators,
            max_samples=min(max_samples, len(fit_rows)),
            random_state=seed,
            n_jobs=1,
        ).fit(fit_rows)

    # The threshold is calibrated on out-of-fold scores, each held-out session seen as the stream will see
    # tomorrow's: scored by a forest fitted without it, its new_* features counted against a frozen
    # baseline of the other folds. A forest's own training points score lower than new sessions, and an
    # expanding baseline finds fewer new targets than a frozen one: a threshold set on either lets through
    # more than the target rate.
    order = list(range(len(inputs)))
    random.Random(seed).shuffle(order)
    by_id = {session[0].session_id: session for session in sessions}
    scores: list[float] = []
    for fold in range(CALIBRATION_FOLDS):
        held = order[fold::CALIBRATION_FOLDS]
        held_set = set(held)
        kept = [i for i in range(len(rows)) if i not in held_set]
        fold_forest = forest([inputs[i] for i in kept])
        fold_baseline = Baseline()
        for i in kept:  # in session start order, as history accumulates
            fold_baseline.add_session(rows[i].agent_id, rows[i].state)
        frozen, _ = _rows([by_id[rows[i].session_id] for i in held], fold_baseline, MIN_TOOL_CALLS)
        scores.extend(batch_scores(fold_forest, [model_inputs(r.raw) for r in frozen]))
    scores.sort()
    estimator = forest(inputs)
    baseline.set_quantiles([(r.agent_id, r.raw) for r in rows])
    model = ModelFile(estimator, baseline, {})
    threshold = calibrate(scores, target_alert_rate)
    times = [e.event_time.timestamp() for e in events]
    model.metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "features": list(FEATURE_NAMES),
        "feature_version": FEATURE_VERSION,
        "training_window": [_iso(min(times)), _iso(max(times))],
        "rows": len(rows),
        "calibration": f"{CALIBRATION_FOLDS}-fold out-of-fold scores against a frozen baseline",
        "events": len(events),
        "agents": len(baseline.agents),
        "seed": seed,
        "estimator": {
            "class": "sklearn.ensemble.IsolationForest",
            "n_estimators": n_estimators,
            "max_samples": int(estimator.max_samples_),
        },
        "threshold": threshold,
        "target_alert_rate": target_alert_rate,
        "calibration_alert_rate": sum(s >= threshold for s in scores) / len(scores),
        "maturity": "experimental",
        "versions": {"scikit-learn": sklearn_version, "skops": skops_version},
    }
    return model


def calibrate(sorted_scores: Sequence[float], rate: float) -> float:
    """The smallest score that at most ``rate`` of ``sorted_scores`` reach (ties above it)."""
    allowed = int(rate * len(sorted_scores))
    if allowed <= 0:
        return sorted_scores[-1] + 1e-9
    candidate = sorted_scores[len(sorted_scores) - allowed]
    # Ties at the cut would let more than `allowed` through: move above them.
    if sum(s >= candidate for s in sorted_scores) > allowed:
        above = [s for s in sorted_scores if s > candidate]
        return above[0] if above else candidate + 1e-9
    return candidate


@dataclass(frozen=True)
class Evaluation:
    sessions: int
    positives: int
    roc_auc: float | None
    precision: float | None
    recall: float | None
    benign_alert_rate: float
    threshold: float
    scores: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "scores"}


def batch_scores(estimator: Any, inputs: Sequence[Sequence[float]]) -> list[float]:
    """Anomaly scores of many sessions at once (scikit-learn's vectorised path; the stream's per-session
    ``CompiledForest.score`` gives the same numbers, tests/test_models.py checks it)."""
    if not inputs:
        return []
    return [float(-v) for v in estimator.score_samples(inputs)]


def score_sessions(model: ModelFile, events: Iterable[AnyEvent]) -> dict[str, float]:
    """Session id -> anomaly score, as the stream computes it (the model's frozen baseline)."""
    rows, _ = session_rows(events, model.baseline)
    scores = batch_scores(model.estimator, [model_inputs(r.raw) for r in rows])
    return {r.session_id: score for r, score in zip(rows, scores, strict=True)}


def evaluate_model(model: ModelFile, events: Iterable[AnyEvent], labels: Mapping[str, bool]) -> Evaluation:
    """ROC AUC, and precision, recall and benign alert rate at the model's threshold, on labelled sessions
    (``labels``: session id -> anomalous). Sessions without a label or too short to score are left out."""
    from sklearn.metrics import roc_auc_score

    scores = {s: v for s, v in score_sessions(model, events).items() if s in labels}
    truth = [bool(labels[s]) for s in scores]
    values = list(scores.values())
    flagged = [v >= model.threshold for v in values]
    positives = sum(truth)
    true_pos = sum(f and t for f, t in zip(flagged, truth, strict=True))
    benign = len(truth) - positives
    return Evaluation(
        sessions=len(values),
        positives=positives,
        roc_auc=float(roc_auc_score(truth, values)) if 0 < positives < len(truth) else None,
        precision=true_pos / sum(flagged) if any(flagged) else None,
        recall=true_pos / positives if positives else None,
        benign_alert_rate=(sum(flagged) - true_pos) / benign if benign else 0.0,
        threshold=model.threshold,
        scores=scores,
    )
