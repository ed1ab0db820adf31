"""A fitted IsolationForest flattened into arrays, scored one session at a time.

scikit-learn's ``score_samples`` is built for matrices: on one row it spends milliseconds in input checks
and a joblib dispatch per tree. The stream scores one session at a time, so here every tree is walked at
once, one level per numpy step (an isolation tree is at most ceil(log2(max_samples)) deep): tens of
microseconds. ``tests/test_models.py`` checks the result equals scikit-learn's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

EULER_GAMMA = 0.5772156649015329


def average_path_length(n: float) -> float:
    """Expected path length of an unsuccessful search in a binary search tree of ``n`` points: what an
    unsplit leaf holding ``n`` training points adds to the path (Liu, Ting and Zhou, 2008)."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n


class CompiledForest:
    """All trees' nodes in one table: child links (a leaf links to itself), split feature and threshold,
    and each node's path length as a leaf (its depth plus the expected rest for the points it holds)."""

    def __init__(self, estimator: Any) -> None:
        lefts, rights, features, thresholds, leaf_values = [], [], [], [], []
        offset = 0
        depth_max = 0
        for tree, columns in zip(estimator.estimators_, estimator.estimators_features_, strict=True):
            t = tree.tree_
            count = int(t.node_count)
            left = np.asarray(t.children_left, dtype=np.int64)
            right = np.asarray(t.children_right, dtype=np.int64)
            is_leaf = left < 0
            index = np.arange(count, dtype=np.int64)
            # A leaf points at itself, so walking past it stays there.
            lefts.append(np.where(is_leaf, index, left) + offset)
            rights.append(np.where(is_leaf, index, right) + offset)
            # Trees see a per-tree permutation of the columns: map back to the session's feature index.
            column_map = np.asarray(columns, dtype=np.int64)
            features.append(np.where(is_leaf, 0, column_map[np.maximum(t.feature, 0)]))
            thresholds.append(np.where(is_leaf, np.inf, np.asarray(t.threshold, dtype=np.float64)))
            depth = np.zeros(count, dtype=np.int64)
            for node in range(count):  # parents come before children in scikit-learn's node order
                if not is_leaf[node]:
                    depth[left[node]] = depth[right[node]] = depth[node] + 1
            depth_max = max(depth_max, int(depth.max()))
            leaf_values.append(
                depth + np.array([average_path_length(float(n)) for n in t.n_node_samples], dtype=np.float64)
            )
            offset += count
        self.left = np.concatenate(lefts)
        self.right = np.concatenate(rights)
        self.feature = np.concatenate(features)
        self.threshold = np.concatenate(thresholds)
        self.leaf_value = np.concatenate(leaf_values)
        self.roots = np.cumsum([0] + [len(v) for v in leaf_values[:-1]]).astype(np.int64)
        self.depth = depth_max
        self.normaliser = len(leaf_values) * average_path_length(float(estimator.max_samples_))

    def score(self, inputs: Sequence[float]) -> float:
        """Anomaly score in (0, 1]: about 0.5 is ordinary, towards 1 isolated (scikit-learn's
        ``-score_samples``)."""
        # The trees compare float32 values (scikit-learn casts its input): round the same way.
        x = np.asarray(inputs, dtype=np.float32).astype(np.float64)
        node = self.roots
        for _ in range(self.depth):
            go_left = x[self.feature[node]] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        if self.normaliser == 0:
            return 1.0
        return float(2.0 ** (-float(self.leaf_value[node].sum()) / self.normaliser))
