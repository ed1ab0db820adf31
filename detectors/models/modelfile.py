"""The model file: a skops archive (a zip of JSON and numpy arrays, never a pickle) holding the fitted
estimator, the agents' baseline and the metadata that says what it was built from and for.

Loading checks, in order: the file exists; it is not a pickle; it is a skops archive; every node its
schema declares is one of the few (loader, type) pairs a chainwatch model is made of (``ALLOWED_NODES``:
containers, strings, numpy arrays, the IsolationForest, its trees) and skops finds no type beyond those it
trusts by default and ``TRUSTED_TYPES`` — both before skops builds a single object; it is a chainwatch model
of a known format version; it was built for the features this chainwatch computes; the estimator really is
an IsolationForest of extra-trees. Each refusal says which check failed and what to do.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detectors.models.baseline import Baseline
from detectors.models.features import FEATURE_NAMES, FEATURE_VERSION
from detectors.models.forest import CompiledForest
from detectors.skopsfile import DATA_NODES, declared_nodes, looks_like_pickle
from schemas.errors import ChainwatchError

FORMAT = "chainwatch-model"
FORMAT_VERSION = 1
# Types a chainwatch model file may contain beyond what skops trusts by default: the trees' node arrays.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
RETRAIN = "retrain it with `chainwatch model train --db PATH --out FILE`"
# Every (skops loader, module, class) a chainwatch model file holds. skops on its own trusts far more by
# default (hundreds of scikit-learn estimators, numpy and scipy ufuncs): a model file has no use for any of
# them, so anything else in the schema is refused before skops builds a single object.
ALLOWED_NODES = DATA_NODES | {
    ("ObjectNode", "sklearn.ensemble._iforest", "IsolationForest"),
    ("ObjectNode", "sklearn.tree._classes", "ExtraTreeRegressor"),
    ("TreeNode", "sklearn.tree._tree", "Tree"),
}


class ModelFileError(ChainwatchError):
    """A model file that cannot be used; the message names the file, what is wrong and the fix."""


@dataclass
class ModelFile:
    """A trained session model with its baseline. ``metadata`` is plain JSON-able data:

    ``format``, ``format_version``, ``features`` (names, in input order), ``feature_version``,
    ``training_window`` (first and last event time, ISO 8601), ``rows`` (sessions trained on),
    ``events``, ``seed``, ``estimator`` (class and parameters), ``threshold`` (anomaly score at or above
    which a session gets a finding), ``target_alert_rate``, ``training_alert_rate``, ``maturity``
    (``experimental`` until promoted), ``versions`` (of scikit-learn and skops that built it).
    """

    estimator: Any
    baseline: Baseline
    metadata: dict[str, Any]
    _forest: CompiledForest | None = field(default=None, repr=False)

    @property
    def threshold(self) -> float:
        return float(self.metadata["threshold"])

    @property
    def maturity(self) -> str:
        return str(self.metadata.get("maturity", "experimental"))

    @property
    def forest(self) -> CompiledForest:
        if self._forest is None:
            self._forest = CompiledForest(self.estimator)
        return self._forest

    def score(self, inputs: list[float]) -> float:
        """Anomaly score of one session's model inputs (``features.model_inputs``); higher is stranger."""
        return self.forest.score(inputs)

    def to_bytes(self) -> bytes:
        import skops.io as sio

        return bytes(
            sio.dumps(
                {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "metadata": json.dumps(self.metadata, sort_keys=True),
                    "baseline": json.dumps(self.baseline.to_dict(), sort_keys=True),
                    "estimator": self.estimator,
                }
            )
        )


def load_model(path: Path | str) -> ModelFile:
    """Read and check a model file; raises :class:`ModelFileError` with the reason and the fix."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(
            f"model file {path}: cannot be read ({exc.strerror or exc}); give the path of a file written "
            f"by `chainwatch model train`"
        ) from None
    return model_from_bytes(data, str(path))


def model_from_bytes(data: bytes, origin: str = "model") -> ModelFile:
    import skops.io as sio

    where = f"model file {origin}"
    if looks_like_pickle(data):
        raise ModelFileError(
            f"{where}: looks like a Python pickle; chainwatch never loads pickles (loading one can run any "
            f"code). {RETRAIN[0].upper()}{RETRAIN[1:]}"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(f"{where}: not a chainwatch model (not a skops archive); {RETRAIN}")
    foreign = sorted(_declared_nodes(data, where) - ALLOWED_NODES)
    if foreign:
        shown = ", ".join(f"{module}.{name} ({loader})" for loader, module, name in foreign[:5])
        raise ModelFileError(
            f"{where}: holds types a chainwatch model never contains ({shown}); refused unread. "
            f"{RETRAIN[0].upper()}{RETRAIN[1:]}"
        )
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a zip that is not a skops archive: skops raises whatever it meets first
        raise ModelFileError(
            f"{where}: not a chainwatch model ({type(exc).__name__}: {exc}); {RETRAIN}"
        ) from None
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelFileError(
            f"{where}: holds types a chainwatch model never contains ({', '.join(unexpected)}); refused "
            f"unread. {RETRAIN[0].upper()}{RETRAIN[1:]}"
        )
    try:
        content = sio.loads(data, trusted=TRUSTED_TYPES)
    except Exception as exc:
        raise ModelFileError(
            f"{where}: the archive is damaged ({type(exc).__name__}: {exc}); {RETRAIN}"
        ) from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ModelFileError(f"{where}: a skops file, but not a chainwatch model; {RETRAIN}")
    if content.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: model format version {content.get('format_version')!r}, this chainwatch reads "
            f"{FORMAT_VERSION}; {RETRAIN}"
        )
    try:
        metadata = json.loads(content["metadata"])
        baseline = Baseline.from_dict(json.loads(content["baseline"]))
        threshold = float(metadata["threshold"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A worker re-reads this file on a tick: a damaged one must be refused, not raise anything else.
        raise ModelFileError(
            f"{where}: the metadata or baseline is damaged ({type(exc).__name__}: {exc}); {RETRAIN}"
        ) from None
    if not math.isfinite(threshold):
        raise ModelFileError(f"{where}: the threshold {threshold} is not a finite number; {RETRAIN}")
    features = tuple(metadata.get("features", ()))
    if features != FEATURE_NAMES or metadata.get("feature_version") != FEATURE_VERSION:
        raise ModelFileError(
            f"{where}: built for features {list(features)} (version {metadata.get('feature_version')}), "
            f"this chainwatch computes {list(FEATURE_NAMES)} (version {FEATURE_VERSION}); {RETRAIN}"
        )
    estimator = content.get("estimator")
    if not _is_session_forest(estimator):
        raise ModelFileError(
            f"{where}: the estimator is not an IsolationForest of extra-trees over the "
            f"{len(FEATURE_NAMES)} session features; {RETRAIN}"
        )
    return ModelFile(estimator, baseline, metadata)


def _declared_nodes(data: bytes, where: str) -> set[tuple[str, str, str]]:
    """(loader, module, class) of every node in the archive's ``schema.json``, read as plain JSON."""
    try:
        return declared_nodes(data)
    except ValueError as exc:
        raise ModelFileError(f"{where}: not a chainwatch model ({exc}); {RETRAIN}") from None


def _is_session_forest(estimator: Any) -> bool:
    """The estimator is what the flattened scorer reads: an IsolationForest of extra-trees over the
    session features (a wrong shape would otherwise fail on the first session scored, not on load)."""
    from sklearn.ensemble import IsolationForest
    from sklearn.tree import ExtraTreeRegressor

    return (
        isinstance(estimator, IsolationForest)
        and getattr(estimator, "n_features_in_", None) == len(FEATURE_NAMES)
        and len(getattr(estimator, "estimators_", ())) > 0
        and all(isinstance(tree, ExtraTreeRegressor) for tree in estimator.estimators_)
        and len(estimator.estimators_features_) == len(estimator.estimators_)
    )
