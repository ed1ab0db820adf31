"""Scoring detections against labelled events: reusable by benchmarks and an evaluation command.

Labels say, per event id, whether the event is part of what should be detected (``positive``) and which
group it belongs to (an attack technique, a rule's test, a corpus). Detections (findings or alerts) are
scored by their evidence: a detection whose ``event_ids`` hold a positive event found it.

Pure: no I/O. The CloudTrail benchmark (``benchmarks/cloudtrail_eval.py``) builds the labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from schemas.alerts import Alert, Finding

# Events an adapter derives from one record (the cloudtrail adapter's credential event) carry the record's id
# with a suffix; they are the record's call for scoring.
DERIVED_SUFFIXES = (":credential",)


def record_of(event_id: str) -> str:
    for suffix in DERIVED_SUFFIXES:
        if event_id.endswith(suffix):
            return event_id[: -len(suffix)]
    return event_id


@dataclass(frozen=True, slots=True)
class Label:
    positive: bool
    group: str = ""


@dataclass
class Score:
    """What a set of detections found among labelled events."""

    positives: int = 0
    positives_flagged: int = 0
    negatives: int = 0
    negatives_flagged: int = 0
    detections: int = 0
    detections_on_positive: int = 0  # detections whose evidence holds a positive event
    groups: dict[str, bool] = field(default_factory=dict)  # group -> a positive event of it was flagged
    missed: list[str] = field(default_factory=list)  # positive event ids nothing flagged
    false_flags: list[str] = field(default_factory=list)  # negative event ids something flagged

    @property
    def recall(self) -> float:
        return self.positives_flagged / self.positives if self.positives else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.negatives_flagged / self.negatives if self.negatives else 0.0

    @property
    def precision(self) -> float:
        """Share of detections whose evidence holds a positive event."""
        return self.detections_on_positive / self.detections if self.detections else 0.0

    @property
    def groups_found(self) -> int:
        return sum(self.groups.values())


def score(detections: Iterable[Finding | Alert], labels: Mapping[str, Label]) -> Score:
    """Score detections against labels (event id -> Label). Unlabelled evidence is neither right nor wrong,
    but a detection with no positive event in its evidence counts against precision."""
    result = Score()
    flagged: set[str] = set()
    for detection in detections:
        evidence = {record_of(e) for e in detection.event_ids}
        flagged |= evidence
        result.detections += 1
        if any(labels.get(e, _NEGATIVE).positive for e in evidence):
            result.detections_on_positive += 1
    for event_id, label in labels.items():
        hit = event_id in flagged
        if label.positive:
            result.positives += 1
            result.positives_flagged += hit
            result.groups[label.group] = result.groups.get(label.group, False) or hit
            if not hit:
                result.missed.append(event_id)
        else:
            result.negatives += 1
            result.negatives_flagged += hit
            if hit:
                result.false_flags.append(event_id)
    return result


_NEGATIVE = Label(positive=False)
