"""Why a session scored high, in words an analyst reads: the features furthest from the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detectors.models.baseline import Baseline
from detectors.models.features import FEATURES

MIN_DEVIATION = 1.5  # in spreads (half the 5th-95th percentile range): smaller is "within the usual"
MAX_REASONS = 4


@dataclass(frozen=True)
class Reason:
    feature: str
    label: str
    value: float
    median: float
    p05: float
    p95: float
    deviation: float  # signed, in spreads from the median

    def text(self) -> str:
        direction = "above" if self.deviation > 0 else "below"
        return (
            f"{self.label}: {_fmt(self.value, self.feature)} ({direction} the usual "
            f"{_fmt(self.p05, self.feature)} to {_fmt(self.p95, self.feature)}, median "
            f"{_fmt(self.median, self.feature)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": round(self.value, 4),
            "median": round(self.median, 4),
            "p05": round(self.p05, 4),
            "p95": round(self.p95, 4),
            "deviation": round(self.deviation, 2),
        }


def _fmt(value: float, feature: str) -> str:
    unit = next(f.unit for f in FEATURES if f.name == feature)
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return f"{value:.3g}s"
    return f"{value:.3g}"


def explain(raw: list[float], baseline: Baseline, agent_id: str | None) -> tuple[str, list[Reason]]:
    """The features of ``raw`` (human units) furthest outside their 5th-95th percentile band, against the
    agent's peer group (or all agents when the group has too little history). Returns the baseline's name
    and the reasons, strongest first."""
    name, quantiles = baseline.quantiles_for(agent_id)
    reasons = []
    for feature, value in zip(FEATURES, raw, strict=True):
        band = quantiles.get(feature.name)
        if band is None:
            continue
        p05, median, p95 = band
        spread = max((p95 - p05) / 2, _floor(feature.name, median))
        deviation = (value - median) / spread
        outside = value > p95 or value < p05
        if outside and abs(deviation) >= MIN_DEVIATION:
            reasons.append(Reason(feature.name, feature.label, value, median, p05, p95, deviation))
    reasons.sort(key=lambda r: -abs(r.deviation))
    return name, reasons[:MAX_REASONS]


def _floor(feature: str, median: float) -> float:
    """The smallest spread a feature is judged with, so a feature that never varied (every session
    denied nothing) does not make any change look infinitely unusual."""
    unit = next(f.unit for f in FEATURES if f.name == feature)
    if unit == "%":
        return 0.05
    return max(1.0, abs(median) * 0.25) if unit != "s" else max(0.05, abs(median) * 0.25)


def summary(reasons: list[Reason], against: str) -> str:
    if not reasons:
        return f"an unusual combination of features, none alone outside the usual range of {against}"
    return f"against {against}: " + "; ".join(r.text() for r in reasons)
