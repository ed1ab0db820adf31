"""How much a piece of outside content addresses the agent: a phrase-independent score in [0, 1].

Injected content is content that talks *to the agent*: it is written in the second person, in the
imperative, about instructions, tasks, tools, the user or the assistant itself; it asks for acts with
outside reach (send, pay, share, delete, visit) and for secrecy; it hides in out-of-place markup or
invisible characters. A web page, an API answer, a log or a colleague's e-mail to a person reads
differently: third person, data-shaped, or addressed to a human about the human's own work.

So the score is built from *constructions* of general English, never from any corpus's sentences
(``detectors.provenance.constructions``): who is addressed (an AI or a person), references to the agent's
own instructions, answer, tools and user, imperative sentences, modal obligation, override words near
"previous", tool directions, high-impact verbs, destinations inside a directive, secrecy about the act,
role markers, hidden markup, invisible characters, and how data-like the text is. Each window of up to
three sentences gets the features; a linear model (scikit-learn logistic regression with sign-constrained
weights, trained by ``benchmarks.content_model`` on the corpus documented in docs/content-model.md and
shipped as a skops file) turns them into a probability; the content's score is its most addressing
window, whose strongest features are the explanation. The model is calibrated so that 0.5 and 0.8 are its
two operating points (``ContentModel.thresholds``: at most 5 % and 2 % of every benign training corpus
score above them), the values ``detectors.sinks`` reads as "addressed" and "strongly addressed".
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from detectors.provenance.constructions import (
    FEATURE_NAMES,
    FEATURE_SIGNS,
    FEATURE_VERSION,
    features,
    split_sentences,
    window_matrix,
    windows,
)
from detectors.skopsfile import DATA_NODES, declared_nodes, looks_like_pickle
from schemas.errors import ChainwatchError

__all__ = [
    "FEATURE_NAMES",
    "FEATURE_SIGNS",
    "FEATURE_VERSION",
    "Addressing",
    "ContentModel",
    "ContentModelError",
    "addressing",
    "features",
    "load_content_model",
    "shipped_model",
    "split_sentences",
    "window_matrix",
    "windows",
]

MODEL_FORMAT = "chainwatch-content-model"
MODEL_FILE = "content_model.skops"  # package data beside this module
# The operating points a calibrated model puts at these probabilities (benchmarks.content_model).
DEFAULT_THRESHOLDS = {"medium": 0.5, "high": 0.8}
# What a content-model file may hold: a scikit-learn pipeline of a scaler and a logistic regression, and
# plain data. Anything else is refused before skops builds an object (as for the session models).
ALLOWED_TYPES = (
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
)
# Every (skops loader, module, class) node a content-model file may declare in its schema.
ALLOWED_NODES = DATA_NODES | {
    ("ObjectNode", "sklearn.pipeline", "Pipeline"),
    ("ObjectNode", "sklearn.preprocessing._data", "StandardScaler"),
    ("ObjectNode", "sklearn.linear_model._logistic", "LogisticRegression"),
}
RETRAIN = "retrain it with `python -m benchmarks.content_model --out FILE`"


class ContentModelError(ChainwatchError):
    """A content-model file that cannot be used; the message names the file, what is wrong and the fix."""


@dataclass(frozen=True)
class Addressing:
    """A content's score, the window that scored it and the features that weighed most there."""

    score: float
    window: str
    reasons: tuple[str, ...]


class ContentModel:
    """A fitted linear model over :data:`FEATURE_NAMES`, evaluated without scikit-learn on the hot path
    (one numpy matrix product over a text's windows)."""

    def __init__(
        self,
        weights: tuple[float, ...],
        intercept: float,
        means: tuple[float, ...],
        scales: tuple[float, ...],
        metadata: dict[str, object] | None = None,
    ) -> None:
        if not len(weights) == len(means) == len(scales) == len(FEATURE_NAMES):
            raise ValueError(f"a content model needs {len(FEATURE_NAMES)} weights, means and scales")
        self.scales = tuple(s if s > 0 else 1.0 for s in scales)
        self.weights = weights
        self.intercept = intercept
        self.means = means
        self.metadata = metadata or {}
        # folded once: logit = bias + coefficients . x, one matrix product for all of a text's windows
        coefficients = [w / s for w, s in zip(weights, self.scales, strict=True)]
        self._coefficients = np.array(coefficients)
        self._bias = intercept - sum(c * m for c, m in zip(coefficients, means, strict=True))

    @property
    def thresholds(self) -> dict[str, float]:
        """The probabilities of the model's operating points ("medium", "high")."""
        found = self.metadata.get("thresholds")
        return {**DEFAULT_THRESHOLDS, **found} if isinstance(found, dict) else dict(DEFAULT_THRESHOLDS)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one model object per process; results are immutable)
    def score(self, text: str) -> Addressing:
        found = window_matrix(text)
        if not found.sentences:
            return Addressing(0.0, "", ())
        logits = found.matrix @ self._coefficients
        best = int(logits.argmax())
        logit = float(logits[best]) + self._bias
        probability = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
        row = found.matrix[best].tolist()
        parts = [
            w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.means, self.scales, strict=True)
        ]
        # the three strongest features above 0.25 (those at most 0.25 all rank below them)
        ranked = sorted(((p, n) for p, n in zip(parts, FEATURE_NAMES, strict=True) if p > 0.25), reverse=True)
        reasons = tuple(name.replace("_", " ") for _, name in ranked[:3])
        return Addressing(round(probability, 4), found.text(best)[:300], reasons)


def model_from_pipeline(pipeline: Any, metadata: dict[str, object] | None = None) -> ContentModel:
    """The fitted scaler + logistic regression of a scikit-learn pipeline as a :class:`ContentModel`."""
    scaler, regression = pipeline.steps[0][1], pipeline.steps[-1][1]
    return ContentModel(
        tuple(float(w) for w in regression.coef_[0]),
        float(regression.intercept_[0]),
        tuple(float(m) for m in scaler.mean_),
        tuple(float(s) for s in scaler.scale_),
        metadata,
    )


def load_content_model(data: bytes, origin: str = MODEL_FILE) -> ContentModel:
    """A content model from a skops file's bytes. Refused, naming the file, the check and the fix: a
    pickle; anything but a skops archive; a schema that declares a type beyond :data:`ALLOWED_NODES` or
    that skops distrusts beyond :data:`ALLOWED_TYPES` (both before a single object is built); another
    format; features of another version; a pipeline that is not a scaler and a logistic regression over
    those features; numbers that are not finite."""
    import skops.io as sio

    where = f"content model {origin}"
    if looks_like_pickle(data):
        raise ContentModelError(
            f"{where}: looks like a Python pickle; chainwatch never loads pickles; {RETRAIN}"
        )
    try:
        declared = declared_nodes(data)
    except ValueError as exc:
        raise ContentModelError(f"{where}: not a skops archive ({exc}); {RETRAIN}") from None
    foreign = sorted(declared - ALLOWED_NODES)
    if foreign:
        shown = ", ".join(f"{module}.{name}" for _, module, name in foreign[:5])
        raise ContentModelError(
            f"{where}: holds types a content model never has ({shown}); refused unread; {RETRAIN}"
        )
    try:
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in ALLOWED_TYPES]
        if untrusted:
            raise ContentModelError(
                f"{where}: holds types a content model never has ({untrusted[:3]}); {RETRAIN}"
            )
        bundle = sio.loads(data, trusted=list(ALLOWED_TYPES))
    except ContentModelError:
        raise
    except Exception as exc:  # a damaged archive: skops raises whatever it meets first
        raise ContentModelError(
            f"{where}: the archive is damaged ({type(exc).__name__}: {exc}); {RETRAIN}"
        ) from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise ContentModelError(f"{where}: a skops file, but not a chainwatch content model; {RETRAIN}")
    if bundle.get("feature_version") != FEATURE_VERSION or tuple(bundle.get("features", ())) != FEATURE_NAMES:
        raise ContentModelError(
            f"{where}: built for features {list(bundle.get('features', ()))} (version "
            f"{bundle.get('feature_version')}), this chainwatch computes version {FEATURE_VERSION}; {RETRAIN}"
        )
    metadata = bundle.get("metadata")
    try:
        model = model_from_pipeline(bundle["pipeline"], metadata if isinstance(metadata, dict) else None)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise ContentModelError(
            f"{where}: the pipeline is not a scaler and a logistic regression over the "
            f"{len(FEATURE_NAMES)} features ({type(exc).__name__}: {exc}); {RETRAIN}"
        ) from None
    numbers = [*model.weights, model.intercept, *model.means, *model.scales, *model.thresholds.values()]
    if not all(isinstance(n, float) and math.isfinite(n) for n in numbers):
        raise ContentModelError(f"{where}: holds numbers that are not finite; {RETRAIN}")
    return model


@functools.lru_cache(maxsize=1)
def shipped_model() -> ContentModel:
    """The content model shipped with chainwatch (package data), loaded once."""
    import importlib.resources

    data = (importlib.resources.files("detectors.provenance") / MODEL_FILE).read_bytes()
    return load_content_model(data)


def addressing(text: str | None) -> Addressing:
    """How much ``text`` addresses the agent, by the shipped model."""
    if not text:
        return Addressing(0.0, "", ())
    return shipped_model().score(text)
