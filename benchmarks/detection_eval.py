"""Detection quality on every labelled corpus in ../shared/data, leave one corpus out.

Run: ``python -m benchmarks.detection_eval [--hold-out CORPUS] [--limit N] [--write-doc]``.

Each corpus (``benchmarks/corpora.py``: ASB, OpenAgentSafety, tau-bench) is one **fold**: the fold's
held-out corpus is replayed through the real engine (the full catalog, as ``chainwatch run`` builds it)
into a temporary DuckDB and measured with ``chainwatch evaluate``'s logic (``streams/alerts/evaluation.py``).
Whatever is trained for a fold (the content model of issue 18) is trained on the *other* corpora only:
:func:`train_fold_model` is that hook and :func:`fold_engine` puts its result into the engine. Until a
model exists the hook returns None and every fold runs the shipped catalog, so each corpus is replayed
once. The figures that count are those on the held-out corpus.

Printed: ONE table — per corpus: runs, positives, negatives, recall of positives flagged by an alert at
high or above, false-alarm rate on negatives (high), the detectors that flagged them; slices per attack
style (ASB) and per kind of harm (OpenAgentSafety); runs reported apart (unsuccessful injections, runs the
task's checker did not score); the share of tool calls that got a capability. ``--write-doc`` puts the
table into docs/detection-quality.md between its markers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb

from benchmarks.corpora import LOADERS, Corpus, default_data_dir, openagentsafety
from detectors.capabilities import classify
from detectors.engine import Engine
from schemas.adapters import parse_bytes
from schemas.events import ToolCall
from schemas.types import Severity
from streams.alerts.evaluation import Evaluation, evaluation_of, flagged_by_detector, sessions_in
from streams.ingest.replay import replay
from streams.settings import build_engine, load_settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "detection-quality.md"
START_MARK = "<!-- detection-eval:start -->"
END_MARK = "<!-- detection-eval:end -->"
SEVERITY = Severity.HIGH

# ----------------------------------------------------------------------------------------------- the folds

FoldModel = Path | None  # what a fold trained (a content-model file), None = the shipped catalog as is


@dataclass(frozen=True)
class Fold:
    """Leave one corpus out: measure on ``held_out``, train on ``training`` only."""

    held_out: Corpus
    training: tuple[Corpus, ...]


def folds(corpora: Sequence[Corpus], hold_out: str | None = None) -> list[Fold]:
    return [
        Fold(corpus, tuple(c for c in corpora if c is not corpus))
        for corpus in corpora
        if hold_out is None or corpus.name == hold_out
    ]


# The content model's corpora that come from each labelled agent corpus: a fold that holds out an agent
# corpus trains its content model without that corpus's texts (benchmarks/content_model.py).
CONTENT_CORPUS = {"asb": "asb", "openagentsafety": "openhands", "tau-bench": "tau-bench"}


def train_fold_model(fold: Fold, work: Path) -> FoldModel:
    """This fold's content model, trained on every text of ``benchmarks.content_model`` except those of the
    held-out corpus (its injections and its benign tool output alike), written under ``work``. The
    thresholds the detectors use are fixed (0.5, 0.8); the model is calibrated to them on its own training
    texts, so the held-out corpus never tunes anything."""
    from benchmarks.content_model import load_corpus, write_model

    held = CONTENT_CORPUS.get(fold.held_out.name)
    if held is None:
        return None
    texts = [t for t in load_corpus() if t.corpus != held]
    out = work / f"content-model-without-{held}.skops"
    write_model(texts, out)
    return out


def fold_engine(model: FoldModel) -> Engine:
    """The engine a fold measures with: the full catalog as ``chainwatch run`` builds it, with the fold's
    own content model when it trained one (else the shipped model)."""
    engine = build_engine(load_settings())
    if model is not None:
        from detectors.provenance.addressing import load_content_model

        engine.content_model = load_content_model(model.read_bytes(), str(model))
    return engine


# ------------------------------------------------------------------------------------------------ measuring


@dataclass
class Measured:
    """One held-out corpus, replayed and evaluated."""

    corpus: Corpus
    whole: Evaluation
    slices: dict[str, dict[str, Evaluation]] = field(default_factory=dict)  # kind -> slice -> figures
    apart: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (runs, flagged)
    calls: int = 0
    classified: int = 0
    seconds: float = 0.0
    events: int = 0


def capability_coverage(corpus: Corpus) -> tuple[int, int]:
    """(tool calls, calls with at least one capability) of a corpus's inputs."""
    calls = classified = 0
    for path in corpus.inputs:
        for event in parse_bytes(path.read_bytes(), path.name, corpus.fmt):
            if isinstance(event, ToolCall):
                calls += 1
                classified += bool(event.capabilities or classify(event).capabilities)
    return calls, classified


def measure(corpus: Corpus, engine: Engine, work: Path) -> Measured:
    started = time.perf_counter()
    db = work / f"{corpus.name}.duckdb"
    report = replay([str(p) for p in corpus.inputs], engine, db_path=db, fmt=corpus.fmt)
    con = duckdb.connect(str(db), read_only=True)
    try:
        by_detector = flagged_by_detector(con, SEVERITY)
        present = sessions_in(con)
    finally:
        con.close()
    result = Measured(corpus, evaluation_of(by_detector, corpus.labels, present, SEVERITY))
    result.seconds = time.perf_counter() - started
    result.events = report.events
    flagged = set().union(*by_detector.values()) if by_detector else set()
    for kind, assignment in corpus.slices.items():
        names = sorted(set(assignment.values()))
        result.slices[kind] = {
            name: evaluation_of(
                by_detector,
                {s: v for s, v in corpus.labels.items() if assignment.get(s) == name},
                {s for s in present if assignment.get(s) == name},
                SEVERITY,
            )
            for name in names
        }
    for name, sessions in corpus.apart.items():
        result.apart[name] = (len(sessions), len(sessions & flagged))
    result.calls, result.classified = capability_coverage(corpus)
    return result


def run(
    data: Path,
    hold_out: str | None,
    limit: int | None,
    *,
    task_from_file: bool = False,
    log: Callable[[str], None] = print,
) -> list[Measured]:
    with tempfile.TemporaryDirectory(prefix="detection-eval-") as folder:
        work = Path(folder)
        corpora: list[Corpus] = []
        loaders = {**LOADERS, "openagentsafety": partial(openagentsafety, task_from_file=task_from_file)}
        for name, loader in loaders.items():
            corpus = loader(data, work, limit)
            if corpus is None:
                log(f"skipped {name}: not found under {data}")
            else:
                corpora.append(corpus)
        measured: list[Measured] = []
        engines: dict[FoldModel, Engine] = {}
        for fold in folds(corpora, hold_out):
            model = train_fold_model(fold, work)
            if model not in engines:  # without fold models every fold shares the shipped catalog
                engines[model] = fold_engine(model)
            engine = engines[model]
            training = ", ".join(c.name for c in fold.training) or "-"
            log(f"fold: held out {fold.held_out.name} (trained on {training})")
            measured.append(measure(fold.held_out, engine, work))
        return measured


# --------------------------------------------------------------------------------------------------- table


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part}/{whole})" if whole else "-"


def _detectors(evaluation: Evaluation, top: int = 4) -> str:
    ranked = sorted(
        evaluation.detectors.items(),
        key=lambda kv: (-kv[1].flagged_positives, -kv[1].flagged_negatives, kv[0]),
    )
    shown = [f"{d} {r.flagged_positives}/{r.flagged_negatives}" for d, r in ranked[:top]]
    if len(ranked) > top:
        shown.append(f"+{len(ranked) - top} more")
    return ", ".join(shown) or "-"


def _row(corpus: str, part: str, runs: int, evaluation: Evaluation, extra: str = "") -> str:
    overall = evaluation.overall
    return (
        f"| {corpus} | {part} | {runs} | {evaluation.positives} | {evaluation.negatives} | "
        f"{_share(overall.flagged_positives, overall.positives)} | "
        f"{_share(overall.flagged_negatives, overall.negatives)} | {_detectors(evaluation)} | {extra} |"
    )


def table(measured: Sequence[Measured]) -> str:
    lines = [
        "| corpus (held out) | slice | runs | positives | negatives | recall (high) | false alarms (high) "
        "| detectors: positives/negatives flagged | notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for m in measured:
        coverage = _share(m.classified, m.calls)
        notes = "; ".join([*m.corpus.notes, f"tool calls with a capability: {coverage}"])
        lines.append(_row(m.corpus.name, "all", m.whole.sessions, m.whole, notes))
        for kind, parts in m.slices.items():
            for name, evaluation in parts.items():
                lines.append(_row("", f"{kind}: {name}", evaluation.sessions, evaluation))
        for name, (runs, flagged) in m.apart.items():
            lines.append(f"|  | {name} (apart) | {runs} |  |  |  |  | flagged: {_share(flagged, runs)} |  |")
    return "\n".join(lines)


def write_doc(text: str, doc: Path = DOC) -> None:
    page = doc.read_text(encoding="utf-8")
    if START_MARK not in page or END_MARK not in page:
        raise SystemExit(
            f"{doc}: the markers {START_MARK} and {END_MARK} are missing; add them where the table goes"
        )
    head, rest = page.split(START_MARK, 1)
    _old, tail = rest.split(END_MARK, 1)
    doc.write_text(f"{head}{START_MARK}\n{text}\n{END_MARK}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared data folder")
    parser.add_argument("--hold-out", choices=sorted(LOADERS), help="measure one fold only")
    parser.add_argument("--limit", type=int, help="at most this many runs per corpus (an even spread)")
    parser.add_argument(
        "--oas-task",
        choices=("file", "message"),
        default="message",
        help="OpenAgentSafety's task: the first message, which points at task.md (default: what the product "
        "sees; reading a file the user pointed at is trusted input), or task.md put in as the task",
    )
    parser.add_argument("--write-doc", action="store_true", help=f"write the table into {DOC.name}")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: no shared data at {args.data} (set CHAINWATCH_SHARED_DATA or --data)")
        return
    started = time.perf_counter()
    measured = run(args.data, args.hold_out, args.limit, task_from_file=args.oas_task == "file")
    if not measured:
        print(f"skipped: no labelled corpus found under {args.data}")
        return
    text = table(measured)
    print(text)
    events = sum(m.events for m in measured)
    print(
        f"\n{events} events replayed in {time.perf_counter() - started:.0f} s; severity threshold: {SEVERITY}"
    )
    if args.write_doc:
        if args.limit is not None or args.hold_out is not None:
            raise SystemExit("--write-doc records the full run: drop --limit and --hold-out")
        write_doc(text)
        print(f"wrote the table into {DOC}")


if __name__ == "__main__":
    main()
