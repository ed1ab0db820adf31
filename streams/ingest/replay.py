"""The embedded default: replay files through the detection engine into DuckDB, no Kafka.

It is the demo, the backtest and the detector harness's big sibling. Input is read whole, sorted by
event time (so files may be given in any order), fed to the engine in batches, and written with
batched upserts: replaying the same input twice leaves the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detectors.engine import Engine, Output, Runner
from schemas.adapters import detect_format, parse_bytes, read_input
from schemas.adapters.base import DeadLetter
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.alerts import Alert
from schemas.errors import ChainwatchError
from schemas.events import AnyEvent
from schemas.types import SEVERITY_RANK
from streams.store.access import StoreTarget
from streams.store.database import Batch, Store, write_with_hooks

if TYPE_CHECKING:
    from streams.alerts.delivery.pipeline import AlertPipeline

FEED_BATCH = 5_000
WRITE_BATCH = 50_000

Progress = Callable[[int], None]


@dataclass
class InputStats:
    origin: str
    format: str
    events: int = 0
    dead_letters: int = 0
    sessions: int = 0
    # what the user should know about this input (empty; every record dead-lettered), or None
    note: str | None = None

    @property
    def yielded_nothing(self) -> bool:
        """Records came in and none became an event: most likely the wrong --format."""
        return self.dead_letters > 0 and self.events == 0


@dataclass
class ReplayReport:
    inputs: list[InputStats] = field(default_factory=list)
    events: int = 0
    dead_letters: int = 0
    sessions: int = 0
    findings: int = 0
    alerts: list[Alert] = field(default_factory=list)
    late_events: int = 0
    db_path: str | None = None

    def alerts_by_severity(self) -> dict[str, int]:
        counts = Counter(str(a.severity) for a in self.alerts)
        return dict(sorted(counts.items(), key=lambda kv: -SEVERITY_RANK[kv[0]]))  # type: ignore[index]

    def top_alerts(self, limit: int = 10) -> list[Alert]:
        return sorted(self.alerts, key=lambda a: (-a.risk_score, a.first_seen, a.alert_id))[:limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "db_path": self.db_path,
            "inputs": [vars(i) for i in self.inputs],
            "events": self.events,
            "dead_letters": self.dead_letters,
            "sessions": self.sessions,
            "findings": self.findings,
            "alerts": len(self.alerts),
            "alerts_by_severity": self.alerts_by_severity(),
            "late_events": self.late_events,
            "top_alerts": [
                {
                    "alert_id": a.alert_id,
                    "detector_id": a.detector_id,
                    "severity": str(a.severity),
                    "risk_score": a.risk_score,
                    "title": a.title,
                    "session_id": a.session_id,
                    "event_ids": list(a.event_ids),
                }
                for a in self.top_alerts()
            ],
        }


def load_inputs(
    paths: Sequence[str], fmt: str | None, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> tuple[list[AnyEvent], list[DeadLetter], list[InputStats]]:
    events: list[AnyEvent] = []
    letters: list[DeadLetter] = []
    stats: list[InputStats] = []
    for path in paths:
        data = read_input(path)
        origin = "stdin" if path == "-" else Path(path).name
        if not data.strip():  # nothing to recognise or replay; the other inputs go on
            stats.append(InputStats(origin=origin, format="-", note=f"{path} is empty: nothing read from it"))
            continue
        name = fmt or detect_format(data, origin)
        stat = InputStats(origin=origin, format=name)
        sessions: set[str] = set()
        for item in parse_bytes(data, origin, name, max_record_bytes=max_record_bytes):
            if isinstance(item, DeadLetter):
                letters.append(item)
                stat.dead_letters += 1
            else:
                events.append(item)
                sessions.add(item.session_id)
                stat.events += 1
        stat.sessions = len(sessions)
        if stat.yielded_nothing:
            stat.note = _nothing_parsed(path, data, name, fmt, stat.dead_letters, letters[-1].reason)
        stats.append(stat)
    return events, letters, stats


def _nothing_parsed(path: str, data: bytes, name: str, given: str | None, records: int, reason: str) -> str:
    """Why an input gave only dead letters, and what to try instead."""
    note = (
        f"{path}: none of its {records} records became a {name} event "
        f"(all stored as dead letters; last reason: {reason})"
    )
    if given is None:
        return note + "; pass --format if it is another format"
    try:
        detected = detect_format(data, path)
    except ChainwatchError:
        return note + f"; check --format {given} (its format is not recognised either)"
    if detected == given:
        return note
    return note + f"; it looks like {detected}: try --format {detected} or leave --format out"


def replay(
    paths: Sequence[str],
    engine: Engine,
    *,
    db_path: StoreTarget | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
    pipeline: AlertPipeline | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> ReplayReport:
    events, letters, stats = load_inputs(paths, fmt, max_record_bytes)
    events.sort(key=lambda e: e.event_time)  # stable: ties keep input order
    events = engine.enrich(events)  # stored with what each call can do (the `capabilities` column)
    if db_path is None:
        report, _ = run_events(events, engine, progress=progress)
    else:
        # Opened before detection: a file another process holds, or a folder that is not writable, is
        # reported now rather than after all the detection work (and nothing is written then).
        with Store(db_path) as store:
            report, output = run_events(events, engine, progress=progress)
            write_into(store, events, letters, output, pipeline)
        report.db_path = str(db_path)
    report.inputs = stats
    report.dead_letters = len(letters)
    return report


def run_events(
    events: Sequence[AnyEvent], engine: Engine, *, progress: Progress | None = None
) -> tuple[ReplayReport, Output]:
    runner = Runner(engine)
    output = Output()
    for start in range(0, len(events), FEED_BATCH):
        chunk = events[start : start + FEED_BATCH]
        engine.refresh()  # a model file replaced during a long replay is used from the next batch on
        output.extend(runner.feed(chunk))
        if progress:
            progress(len(chunk))
    output.extend(runner.flush())
    report = ReplayReport(
        events=len(events),
        sessions=len({e.session_id for e in events}),
        findings=len(output.findings),
        alerts=output.alerts,
        late_events=runner.late_events,
    )
    return report, output


def write_all(
    db_path: StoreTarget,
    events: Sequence[AnyEvent],
    letters: Sequence[DeadLetter],
    output: Output,
    pipeline: AlertPipeline | None = None,
) -> None:
    with Store(db_path) as store:
        write_into(store, events, letters, output, pipeline)


def write_into(
    store: Store,
    events: Sequence[AnyEvent],
    letters: Sequence[DeadLetter],
    output: Output,
    pipeline: AlertPipeline | None = None,
) -> None:
    for start in range(0, max(len(events), 1), WRITE_BATCH):
        store.write(Batch(events=list(events[start : start + WRITE_BATCH])))
    batch = Batch(
        chains=output.chains,
        findings=output.findings,
        alerts=output.alerts,
        dead_letters=list(letters),
    )
    write_with_hooks(store, batch, pipeline, Store.write)
