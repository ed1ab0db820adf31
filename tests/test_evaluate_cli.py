"""``chainwatch evaluate``: recall, false alarms and precision per detector, on real DuckDB files — a small
hand-built database whose figures are worked out by hand, and the seeded simulator replayed through the
whole catalog with its own attack labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from schemas.alerts import Alert
from schemas.events import SessionEvent
from schemas.types import SessionAction, Severity
from streams.alerts.evaluation import LabelError, parse_label, read_labels
from streams.alerts.verdicts import record_verdict
from streams.cli.main import app
from streams.ingest.replay import replay
from streams.settings import Settings, build_engine
from streams.simulator.workload import simulate, write_jsonl
from streams.store.database import Batch, Store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def alert(ident: str, detector: str, session: str, severity: str) -> Alert:
    return Alert(
        alert_id=ident,
        detector_id=detector,
        key=session,
        session_id=session,
        severity=Severity(severity),
        risk_score=50.0,
        title=f"{detector} on {session}",
        event_ids=(f"{session}:start",),
        first_seen=T0,
        last_seen=T0,
    )


def start(session: str) -> SessionEvent:
    return SessionEvent(
        event_id=f"{session}:start",
        event_time=T0,
        source="native",
        session_id=session,
        action=SessionAction.START,
    )


# Sessions: atk-1, atk-2, atk-3 are attacks; ok-1, ok-2 benign; stray is in the database but unlabelled.
ALERTS = [
    alert("a1", "injection.x", "atk-1", "high"),
    alert("a2", "injection.x", "atk-1", "critical"),  # a second alert on the same run counts once
    alert("a3", "injection.x", "ok-1", "high"),
    alert("a4", "exfil.y", "atk-2", "medium"),  # below high
    alert("a5", "exfil.y", "atk-3", "critical"),
    alert("a6", "exfil.y", "stray", "high"),
    alert("a7", "noisy.z", "ok-2", "critical"),  # suppressed by a rule below
]
LABELS = [
    {"session_id": "atk-1", "label": "attack"},
    {"session_id": "atk-2", "label": 1},
    {"session_id": "atk-3", "label": "UNSAFE"},
    {"session_id": "ok-1", "label": "benign"},
    {"session_id": "ok-2", "label": False},
    {"session_id": "never-replayed", "label": "clean"},
]


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    db = tmp_path / "small.duckdb"
    sessions = ["atk-1", "atk-2", "atk-3", "ok-1", "ok-2", "stray"]
    with Store(db) as store:
        store.write(
            Batch(
                events=[start(s) for s in sessions],
                alerts=ALERTS,
                suppressions={"a7": ("rule-1", "known noisy")},
            )
        )
    return db


def write_labels(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_figures_per_detector_and_overall(small_db: Path, tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "labels.jsonl", LABELS)
    result = invoke("evaluate", "--db", str(small_db), "--labels", str(labels), "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["sessions"], figures["positives"], figures["negatives"]) == (6, 3, 2)
    assert (figures["unlabelled"], figures["unlabelled_flagged"]) == (1, 1)  # stray, flagged by exfil.y
    assert (figures["missing"], figures["missing_examples"]) == (1, ["never-replayed"])
    # injection.x: atk-1 and ok-1 at high or above
    assert figures["detectors"]["injection.x"] == {
        "flagged": 2,
        "flagged_positives": 1,
        "flagged_negatives": 1,
        "flagged_unlabelled": 0,
        "recall": pytest.approx(1 / 3),
        "false_alarm_rate": 0.5,
        "precision": 0.5,
    }
    # exfil.y: atk-3 only (atk-2 was medium), and stray, which has no label
    exfil = figures["detectors"]["exfil.y"]
    assert (exfil["flagged_positives"], exfil["flagged_negatives"], exfil["flagged_unlabelled"]) == (1, 0, 1)
    assert (exfil["recall"], exfil["false_alarm_rate"], exfil["precision"]) == (
        pytest.approx(1 / 3),
        0.0,
        1.0,
    )
    assert "noisy.z" not in figures["detectors"]  # its only alert was suppressed
    overall = figures["overall"]
    assert (overall["flagged_positives"], overall["flagged_negatives"]) == (2, 1)
    assert (overall["recall"], overall["false_alarm_rate"]) == (pytest.approx(2 / 3), 0.5)


def test_severity_threshold_and_suppressed_alerts(small_db: Path, tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "labels.jsonl", LABELS)
    medium = json.loads(
        invoke(
            "evaluate", "--db", str(small_db), "--labels", str(labels), "--min-severity", "medium", "--json"
        ).stdout
    )
    assert medium["detectors"]["exfil.y"]["flagged_positives"] == 2  # atk-2's medium alert counts now
    assert medium["overall"]["recall"] == 1.0
    critical = json.loads(
        invoke(
            "evaluate", "--db", str(small_db), "--labels", str(labels), "--min-severity", "critical", "--json"
        ).stdout
    )
    assert critical["detectors"]["injection.x"]["flagged_negatives"] == 0  # ok-1's alert was only high
    with_suppressed = json.loads(
        invoke(
            "evaluate", "--db", str(small_db), "--labels", str(labels), "--include-suppressed", "--json"
        ).stdout
    )
    assert with_suppressed["detectors"]["noisy.z"]["flagged_negatives"] == 1
    assert with_suppressed["overall"]["false_alarm_rate"] == 1.0


def test_the_table_names_every_detector_and_the_unlabelled(small_db: Path, tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "labels.jsonl", LABELS)
    result = invoke("evaluate", "--db", str(small_db), "--labels", str(labels))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    [injection] = [line for line in lines if "injection.x" in line]
    assert "1/3" in injection and "1/2" in injection and "33.3%" in injection and "50.0%" in injection
    assert any("(any detector)" in line and "2/3" in line for line in lines)
    assert (
        "6 sessions in the database; labelled: 3 positive, 2 negative; unlabelled: 1 (1 of them flagged)"
        in (" ".join(result.stdout.split()))
    )
    assert (
        "1 labelled sessions are not in the database" in result.stdout and "never-replayed" in result.stdout
    )


def test_verdicts_label_the_reviewed_sessions(small_db: Path) -> None:
    with Store(small_db, audit_trail=False) as store:
        record_verdict(store.con, "a1", "true-positive", None, "ana", target=store.target)
        record_verdict(store.con, "a3", "false-positive", "test data", "ana", target=store.target)
        record_verdict(store.con, "a5", "benign", None, "ana", target=store.target)
    figures = json.loads(invoke("evaluate", "--db", str(small_db), "--verdicts", "--json").stdout)
    assert (figures["positives"], figures["negatives"], figures["unlabelled"]) == (1, 2, 3)
    assert figures["detectors"]["injection.x"]["precision"] == 0.5  # atk-1 confirmed, ok-1 a false positive
    assert figures["detectors"]["exfil.y"]["flagged_negatives"] == 1  # atk-3's alert judged benign


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"session_id": "s", "label": "maybe"}', "label 'maybe' is neither positive"),
        ('{"label": "attack"}', "with a session_id"),
        ("not json", "not JSON"),
        ('["s", 1]', "with a session_id"),
    ],
)
def test_bad_labels_are_refused_with_the_line(
    small_db: Path, tmp_path: Path, line: str, problem: str
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"session_id": "ok-1", "label": "benign"}\n' + line + "\n")
    result = invoke("evaluate", "--db", str(small_db), "--labels", str(labels))
    assert result.exit_code == 2
    assert problem in result.stderr and f"{labels} line 2" in result.stderr


def test_conflicting_labels_and_missing_inputs(small_db: Path, tmp_path: Path) -> None:
    conflict = write_labels(
        tmp_path / "c.jsonl", [{"session_id": "s", "label": "attack"}, {"session_id": "s", "label": "benign"}]
    )
    with pytest.raises(LabelError, match="labelled both positive and negative"):
        read_labels(conflict)
    assert invoke("evaluate", "--db", str(small_db)).exit_code == 2  # no labels at all
    both = invoke("evaluate", "--db", str(small_db), "--labels", str(conflict), "--verdicts")
    assert both.exit_code == 2 and "--labels FILE" in both.stderr
    nowhere = invoke("evaluate", "--db", str(tmp_path / "none.duckdb"), "--verdicts")
    assert nowhere.exit_code == 2 and "no such database" in nowhere.stderr
    assert invoke("evaluate", "--db", str(small_db), "--verdicts", "--min-severity", "severe").exit_code == 2


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("attack", True),
        ("Malicious", True),
        (1, True),
        ("true", True),
        (True, True),
        ("safe", False),
        ("CLEAN", False),
        (0, False),
        ("0", False),
        (2, None),
        ("", None),
        (None, None),
    ],
)
def test_label_words(value: Any, label: bool | None) -> None:
    assert parse_label(value) is label


def test_the_simulator_replayed_through_the_catalog(tmp_path: Path) -> None:
    simulated = simulate(seed=7, sessions=60, attack_ratio=0.2)
    workload = tmp_path / "workload.jsonl"
    write_jsonl(sorted((e for s in simulated for e in s.events), key=lambda e: e.event_time), workload)
    db = tmp_path / "sim.duckdb"
    report = replay([str(workload)], build_engine(Settings()), db_path=db)
    labels = write_labels(
        tmp_path / "labels.jsonl", [{"session_id": s.session_id, "label": s.is_attack} for s in simulated]
    )
    figures = json.loads(invoke("evaluate", "--db", str(db), "--labels", str(labels), "--json").stdout)
    attacks = {s.session_id for s in simulated if s.is_attack}
    high = {a.session_id for a in report.alerts if a.severity in (Severity.HIGH, Severity.CRITICAL)}
    assert figures["positives"] == len(attacks) > 0 and figures["missing"] == 0
    assert figures["overall"]["flagged_positives"] == len(high & attacks)
    assert figures["overall"]["flagged_negatives"] == len(high - attacks)
    assert figures["overall"]["recall"] == len(high & attacks) / len(attacks)
    for detector, rates in figures["detectors"].items():
        flagged = {
            a.session_id
            for a in report.alerts
            if a.detector_id == detector and a.severity in (Severity.HIGH, Severity.CRITICAL)
        }
        assert rates["flagged"] == len(flagged)
