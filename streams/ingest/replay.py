"""The embedded default: replay files through the detection engine into DuckDB, no Kafka.

It is the demo, the backtest and the detector harness's big sibling. Inputs are read one after another
(JSON-lines inputs block by block, documents whole), put back in event-time order by a bounded reorder
buffer, fed to the engine in batches, and written as they are detected, with batched upserts: replaying the
same input twice leaves the same rows, and memory stays flat whatever the input's size.

The reorder buffer sorts everything it holds: an input of up to :data:`SORTED_WHOLE` events (files in any
order) replays exactly as if it had been sorted whole. Past that, an event leaves the buffer once it is
more than the engine's allowed lateness older than the newest event read (and the oldest leave whenever
the buffer holds :data:`REORDER_CAP` events), so inputs must be in time order within that window — an
event further behind is *late*, counted and judged as in the stream.
"""

from __future__ import annotations

import gc
import heapq
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from detectors.engine import Engine, Output, Runner
from schemas.adapters import LINE_FORMATS, check_input, detect_format, parse_block, parse_bytes
from schemas.adapters.base import DeadLetter, Parsed
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
WRITE_BATCH = 20_000  # events per database transaction (and held until written)
READ_BLOCK = 8 << 20  # bytes of a JSON-lines input parsed at a time
SORTED_WHOLE = 50_000  # the reorder buffer holds at least this many events before any leaves: exact sort
REORDER_CAP = 200_000  # ... and at most this many (the oldest leave first): the bound on its memory
GC_GEN0 = 50_000  # allocations between young collections during a replay (Python's default: 700)

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
    """Every input read whole: (events in input order, dead letters, per-input figures)."""
    events: list[AnyEvent] = []
    letters: list[DeadLetter] = []
    stats: list[InputStats] = []
    for path in paths:
        for item in read_parsed(path, fmt, max_record_bytes, stats):
            if isinstance(item, DeadLetter):
                letters.append(item)
            else:
                events.append(item)
    return events, letters, stats


def read_parsed(
    path: str, fmt: str | None, max_record_bytes: int, stats: list[InputStats], block: int = READ_BLOCK
) -> Iterator[Parsed]:
    """The events and dead letters of one input, in input order, with its figures appended to ``stats``
    (complete once the iterator is exhausted). A JSON-lines input of a line format is read ``block`` bytes
    at a time; anything else is read whole."""
    origin = "stdin" if path == "-" else Path(path).name
    check_input(path)
    with _open(path) as stream:
        head = stream.read(block)
        if not head.strip():  # nothing to recognise or replay; the other inputs go on
            stats.append(InputStats(origin=origin, format="-", note=f"{path} is empty: nothing read from it"))
            return
        name = fmt or detect_format(head, origin)
        stat = InputStats(origin=origin, format=name)
        stats.append(stat)
        sessions: set[str] = set()
        last_reason = ""
        if name in LINE_FORMATS and _is_json_lines(head):
            parts: Iterator[Parsed] = _parse_blocks(stream, head, origin, name, max_record_bytes, block)
        else:
            parts = parse_bytes(head + stream.read(), origin, name, max_record_bytes=max_record_bytes)
        for item in parts:
            if isinstance(item, DeadLetter):
                stat.dead_letters += 1
                last_reason = item.reason
            else:
                sessions.add(item.session_id)
                stat.events += 1
            yield item
    stat.sessions = len(sessions)
    if stat.yielded_nothing:
        stat.note = _nothing_parsed(path, head, name, fmt, stat.dead_letters, last_reason)


@contextmanager
def _open(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
        return
    with open(path, "rb") as stream:
        yield stream


def _is_json_lines(head: bytes) -> bool:
    """One JSON object per line (not a JSON array, not one object pretty-printed over many lines)."""
    first = head.lstrip()
    if first[:1] != b"{":
        return False
    line, newline, _ = first.partition(b"\n")
    return bool(newline) and line.rstrip().endswith(b"}")


def _parse_blocks(
    stream: IO[bytes], head: bytes, origin: str, fmt: str, max_record_bytes: int, block: int
) -> Iterator[Parsed]:
    """Parse a JSON-lines input block by block, each cut after its last whole line; records are numbered
    as in a whole read (from the first non-blank line)."""
    data = head
    leading = len(head) - len(head.lstrip())
    lines_before = -head[:leading].count(b"\n")  # blank lines before the first record are not counted
    skipping = False  # inside a line longer than any record may be: dropped up to its end
    while data:
        more = stream.read(block)
        cut = data.rfind(b"\n") + 1 if more else len(data)
        if cut == 0:
            if len(data) > max_record_bytes + 1:  # no line end in sight: report it once, skip the rest
                if not skipping:
                    yield from parse_block(
                        data[: max_record_bytes + 1],
                        origin,
                        fmt,
                        first_record=lines_before + 1,
                        max_record_bytes=max_record_bytes,
                    )
                skipping, data = True, more
                continue
            data += more
            continue
        chunk, data = data[:cut], data[cut:] + more
        if skipping:  # the rest of the refused line, up to its end, is not a record of its own
            end = chunk.find(b"\n") + 1
            chunk, skipping = chunk[end:], False
            lines_before += 1
        shown = chunk.lstrip()
        offset = chunk[: len(chunk) - len(shown)].count(b"\n")
        yield from parse_block(
            chunk, origin, fmt, first_record=lines_before + offset + 1, max_record_bytes=max_record_bytes
        )
        lines_before += chunk.count(b"\n")


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
    for path in paths:  # every input checked before any work: a typo is reported at once
        check_input(path)
    with quiet_gc():
        if db_path is None:
            run = _Run(engine, None, None, progress)
            run.consume(paths, fmt, max_record_bytes)
        else:
            # Opened before detection: a file another process holds, or a folder that is not writable, is
            # reported now rather than after all the detection work.
            with Store(db_path) as store:
                run = _Run(engine, store, pipeline, progress)
                run.consume(paths, fmt, max_record_bytes)
            run.report.db_path = str(db_path)
    return run.report


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Python's cyclic garbage collector, tuned for a replay. Millions of long-lived objects (events in
    flight, key states) made every young collection walk them again: frozen once per batch they are left
    alone (reference counting still frees them), and young collections run every :data:`GC_GEN0`
    allocations instead of 700. Everything is restored, and a full collection run, at the end."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_GEN0), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
        gc.collect()


class Reorder:
    """A bounded buffer that gives events back in event-time order (ties in arrival order)."""

    def __init__(self, window: float, sorted_whole: int = SORTED_WHOLE, cap: int = REORDER_CAP) -> None:
        self.window = window
        self.sorted_whole = sorted_whole
        self.cap = cap
        self._heap: list[tuple[float, int, AnyEvent]] = []
        self._arrived = 0
        self._newest: float | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, event: AnyEvent) -> None:
        when = event.event_time.timestamp()
        self._arrived += 1
        heapq.heappush(self._heap, (when, self._arrived, event))
        if self._newest is None or when > self._newest:
            self._newest = when

    def ready(self) -> list[AnyEvent]:
        """Events that may leave now: older than the window behind the newest, or over the cap."""
        heap = self._heap
        if len(heap) <= self.sorted_whole or self._newest is None:
            return []
        horizon = self._newest - self.window
        out = []
        while heap and (heap[0][0] < horizon or len(heap) > self.cap):
            out.append(heapq.heappop(heap)[2])
        return out

    def drain(self) -> list[AnyEvent]:
        heap, self._heap = self._heap, []
        heap.sort()
        return [item[2] for item in heap]


class _Run:
    """One replay: reading, reordering, detection and writing, batch by batch."""

    def __init__(
        self, engine: Engine, store: Store | None, pipeline: AlertPipeline | None, progress: Progress | None
    ) -> None:
        self.engine = engine
        self.store = store
        self.pipeline = pipeline
        self.progress = progress
        self.runner = Runner(engine)
        self.reorder = Reorder(engine.settings.allowed_lateness_seconds)
        self.report = ReplayReport()
        self.sessions: set[str] = set()
        self.to_feed: list[AnyEvent] = []
        self.pending = Batch()  # detected, not yet written

    def consume(self, paths: Sequence[str], fmt: str | None, max_record_bytes: int) -> None:
        stats: list[InputStats] = []
        for path in paths:
            for count, item in enumerate(read_parsed(path, fmt, max_record_bytes, stats), 1):
                if isinstance(item, DeadLetter):
                    self.pending.dead_letters.append(item)
                    self.report.dead_letters += 1
                else:
                    self.reorder.push(item)
                if count % FEED_BATCH == 0:
                    self._release(self.reorder.ready())
        self._release(self.reorder.drain())
        self._feed(final=True)
        self.report.inputs = stats
        self.report.sessions = len(self.sessions)
        self.report.late_events = self.runner.late_events
        self._write(final=True)

    def _release(self, events: list[AnyEvent]) -> None:
        self.to_feed.extend(events)
        if len(self.to_feed) >= FEED_BATCH:
            self._feed(final=False)

    def _feed(self, *, final: bool) -> None:
        while len(self.to_feed) >= FEED_BATCH or (final and self.to_feed):
            chunk, self.to_feed = self.to_feed[:FEED_BATCH], self.to_feed[FEED_BATCH:]
            self.engine.refresh()  # a model file replaced during a long replay is used from the next batch on
            # Classified once: stored with what each call can do (the `capabilities` column), and the
            # engine's per-event classification cache holds the whole chunk for every key scope.
            chunk = self.engine.enrich(chunk)
            self._collect(self.runner.feed(chunk), chunk)
            if self.progress:
                self.progress(len(chunk))
        if final:
            self._collect(self.runner.flush(), [])

    def _collect(self, output: Output, events: list[AnyEvent]) -> None:
        report = self.report
        report.events += len(events)
        report.findings += len(output.findings)
        report.alerts.extend(output.alerts)
        self.sessions.update(e.session_id for e in events)
        pending = self.pending
        pending.findings.extend(output.findings)
        pending.alerts.extend(output.alerts)
        pending.chains.extend(output.chains)
        if self.store is not None:
            pending.events.extend(events)
            if len(pending.events) >= WRITE_BATCH:
                self._write(final=False)
        gc.freeze()  # what this batch left alive (key states) is not walked again by young collections

    def _write(self, *, final: bool) -> None:
        batch, self.pending = self.pending, Batch()
        if self.store is None or not (len(batch) or final):
            return
        write_with_hooks(self.store, batch, self.pipeline, Store.write)


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
