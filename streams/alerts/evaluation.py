"""How well the detectors separate labelled runs: recall, false-alarm rate and precision per detector.

A detection engineer labels sessions (attack / benign) in a JSON-lines file, or lets the analysts' verdicts
label them, and asks of a database: which labelled runs did each detector flag (an alert at or above a
severity), and which did it leave alone? ``chainwatch evaluate`` prints it; ``benchmarks/detection_eval.py``
runs it on every labelled corpus. A run counts once per detector however many alerts it raised.
Sessions the labels do not cover are counted and reported, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from schemas.errors import ChainwatchError
from schemas.types import SEVERITY_RANK, Severity
from streams.alerts.view import LATEST_VERDICT_ORDER

POSITIVE_LABELS = frozenset({"attack", "unsafe", "malicious", "positive", "1", "true"})
NEGATIVE_LABELS = frozenset({"benign", "safe", "clean", "negative", "0", "false"})
OVERALL = "(any detector)"


class LabelError(ChainwatchError):
    """A labels file that cannot be read: names the file, the line and the fix."""


def parse_label(value: Any) -> bool | None:
    """True for a positive (attack) label, False for a negative one, None when it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {1: True, 0: False}.get(int(value)) if value in (0, 1) else None
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if text in POSITIVE_LABELS:
        return True
    if text in NEGATIVE_LABELS:
        return False
    return None


def read_labels(path: Path) -> dict[str, bool]:
    """``{"session_id": …, "label": …}`` per line; a session labelled twice must agree with itself."""
    if not path.is_file():
        raise LabelError(f"{path}: no such labels file; give JSON lines of {{session_id, label}}")
    labels: dict[str, bool] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{where}: not JSON ({exc.msg}); write one JSON object per line") from None
        if not isinstance(record, dict) or not isinstance(record.get("session_id"), str | int):
            raise LabelError(f'{where}: expected {{"session_id": …, "label": …}} with a session_id')
        session = str(record["session_id"])
        label = parse_label(record.get("label"))
        if label is None:
            raise LabelError(
                f"{where}: label {record.get('label')!r} is neither positive "
                f"({', '.join(sorted(POSITIVE_LABELS))}) nor negative ({', '.join(sorted(NEGATIVE_LABELS))})"
            )
        if labels.get(session, label) != label:
            raise LabelError(f"{where}: session {session!r} is labelled both positive and negative")
        labels[session] = label
    return labels


def labels_from_verdicts(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """A session is positive when the latest verdict of any of its alerts is true-positive, negative when
    every verdict on it is false-positive or benign. Only reviewed sessions get a label, so recall measured
    with these labels says little (every labelled session was alerted on); precision and the per-detector
    split are what they are for."""
    rows = con.execute(
        "SELECT a.session_id, bool_or(v.status = 'true-positive') FROM alerts a JOIN ("
        "SELECT alert_id, status FROM verdicts QUALIFY row_number() OVER "
        f"(PARTITION BY alert_id ORDER BY {LATEST_VERDICT_ORDER}) = 1"
        ") v USING (alert_id) GROUP BY a.session_id"
    ).fetchall()
    return {str(session): bool(positive) for session, positive in rows}


@dataclass(frozen=True)
class Rates:
    """One detector (or all of them) against the labels."""

    flagged_positives: int
    flagged_negatives: int
    positives: int
    negatives: int
    flagged_unlabelled: int = 0

    @property
    def recall(self) -> float | None:
        return self.flagged_positives / self.positives if self.positives else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.flagged_negatives / self.negatives if self.negatives else None

    @property
    def precision(self) -> float | None:
        flagged = self.flagged_positives + self.flagged_negatives
        return self.flagged_positives / flagged if flagged else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged_positives + self.flagged_negatives,
            "flagged_positives": self.flagged_positives,
            "flagged_negatives": self.flagged_negatives,
            "flagged_unlabelled": self.flagged_unlabelled,
            "recall": self.recall,
            "false_alarm_rate": self.false_alarm_rate,
            "precision": self.precision,
        }


def rates_of(flagged: set[str], labels: Mapping[str, bool], sessions: set[str] | None = None) -> Rates:
    """``flagged`` sessions against ``labels`` (only sessions in ``sessions`` count, when given)."""
    scope = labels if sessions is None else {s: v for s, v in labels.items() if s in sessions}
    return Rates(
        flagged_positives=sum(1 for s in flagged if scope.get(s) is True),
        flagged_negatives=sum(1 for s in flagged if scope.get(s) is False),
        positives=sum(scope.values()),
        negatives=len(scope) - sum(scope.values()),
        flagged_unlabelled=sum(1 for s in flagged if s not in labels),
    )


@dataclass
class Evaluation:
    """Every detector that raised an alert at ``min_severity`` or above, and all of them together."""

    min_severity: Severity
    sessions: int  # sessions in the database
    positives: int  # labelled sessions found in the database
    negatives: int
    unlabelled: list[str]  # sessions in the database without a label
    missing: list[str]  # labelled sessions not in the database (a wrong id, or a run never replayed)
    overall: Rates
    detectors: dict[str, Rates] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_severity": str(self.min_severity),
            "sessions": self.sessions,
            "positives": self.positives,
            "negatives": self.negatives,
            "unlabelled": len(self.unlabelled),
            "unlabelled_flagged": self.overall.flagged_unlabelled,
            "missing": len(self.missing),
            "missing_examples": self.missing[:10],
            "overall": self.overall.to_dict(),
            "detectors": {d: r.to_dict() for d, r in sorted(self.detectors.items())},
        }


def flagged_by_detector(
    con: duckdb.DuckDBPyConnection,
    min_severity: Severity = Severity.HIGH,
    *,
    include_suppressed: bool = False,
) -> dict[str, set[str]]:
    """The sessions each detector raised an alert on at ``min_severity`` or above."""
    severities = [str(s) for s, rank in SEVERITY_RANK.items() if rank >= SEVERITY_RANK[min_severity]]
    suppressed = "" if include_suppressed else " AND suppressed_by IS NULL"
    rows = con.execute(
        f"SELECT DISTINCT detector_id, session_id FROM alerts WHERE list_contains(?, severity){suppressed}",
        [severities],
    ).fetchall()
    flagged: dict[str, set[str]] = {}
    for detector, session in rows:
        flagged.setdefault(str(detector), set()).add(str(session))
    return flagged


def sessions_in(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every session the database holds events, a chain or an alert of."""
    rows = con.execute(
        "SELECT session_id FROM events UNION SELECT session_id FROM chains "
        "UNION SELECT session_id FROM alerts"
    ).fetchall()
    return {str(r[0]) for r in rows}


def evaluate(
    con: duckdb.DuckDBPyConnection,
    labels: Mapping[str, bool],
    min_severity: Severity = Severity.HIGH,
    *,
    include_suppressed: bool = False,
) -> Evaluation:
    present = sessions_in(con)
    by_detector = flagged_by_detector(con, min_severity, include_suppressed=include_suppressed)
    return evaluation_of(by_detector, labels, present, min_severity)


def evaluation_of(
    by_detector: Mapping[str, set[str]],
    labels: Mapping[str, bool],
    present: set[str],
    min_severity: Severity = Severity.HIGH,
) -> Evaluation:
    """The figures from flagged sessions per detector (the pure part, reused on subsets of a database)."""
    known = {s: v for s, v in labels.items() if s in present}
    flagged_any: set[str] = set().union(*by_detector.values()) if by_detector else set()
    return Evaluation(
        min_severity=min_severity,
        sessions=len(present),
        positives=sum(known.values()),
        negatives=len(known) - sum(known.values()),
        unlabelled=sorted(present - labels.keys()),
        missing=sorted(labels.keys() - present),
        overall=rates_of(flagged_any & present, known),
        detectors={d: rates_of(s & present, known) for d, s in by_detector.items() if s & present},
    )


def labelled(sessions: Iterable[str], label: bool) -> dict[str, bool]:
    return dict.fromkeys(sessions, label)
