"""Anomaly models: trained on history, scored in the stream, explained to the analyst.

The public API (docs/models.md):

* ``train_model(events, seed=…, target_alert_rate=…) -> ModelFile`` — fit on history.
* ``load_model(path) -> ModelFile``; ``ModelFile.metadata``, ``.baseline``, ``.score(inputs)``,
  ``.to_bytes()`` (write them with ``streams.cli.model.save_model``).
* ``evaluate_model(model, events, labels) -> Evaluation``; ``score_sessions(model, events)``.
* ``session_rows(events, baseline=None)`` — the batch feature path; ``features.update`` the per-event one.
* ``explain(raw, baseline, agent_id)`` — the features furthest from the baseline.
* ``ModelHandle(path)`` and ``model_detectors(handle)`` — the detectors the engine runs.
"""

from detectors.models.baseline import Baseline, Profile
from detectors.models.explain import Reason, explain, summary
from detectors.models.features import FEATURE_NAMES, FEATURES, feature_vector, model_inputs
from detectors.models.modelfile import ModelFile, ModelFileError, load_model, model_from_bytes
from detectors.models.stream import Cadence, FirstSeen, ModelHandle, SessionAnomaly, model_detectors
from detectors.models.training import (
    Evaluation,
    SessionRow,
    evaluate_model,
    score_sessions,
    session_rows,
    train_model,
)

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "Baseline",
    "Cadence",
    "Evaluation",
    "FirstSeen",
    "ModelFile",
    "ModelFileError",
    "ModelHandle",
    "Profile",
    "Reason",
    "SessionAnomaly",
    "SessionRow",
    "evaluate_model",
    "explain",
    "feature_vector",
    "load_model",
    "model_detectors",
    "model_from_bytes",
    "model_inputs",
    "score_sessions",
    "session_rows",
    "summary",
    "train_model",
]
