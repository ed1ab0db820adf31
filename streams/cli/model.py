"""``chainwatch model``: train the anomaly model from DuckDB history, evaluate it on labelled sessions,
inspect and promote it (docs/models.md). The models themselves live in ``detectors/models``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from detectors.models import ModelFile, ModelFileError, evaluate_model, load_model, train_model
from schemas.errors import ChainwatchError
from streams.cli.common import LakeOption, fail, parse_since, store_target
from streams.store.access import StoreTarget

LABELS_TABLE = "session_labels"

model_app = typer.Typer(help="Anomaly models: train on history, evaluate, promote.", no_args_is_help=True)


def save_model(model: ModelFile, path: Path) -> Path:
    """Write a model file atomically (a temporary file renamed over the target), so a worker re-reading it
    on a tick never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = model.to_bytes()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as exc:
        raise ChainwatchError(str(exc)) from None


def _history(db: Path | None, lake: str | None) -> StoreTarget:
    """The history a model learns from: ``--db`` or ``--lake`` (read while the loader writes it)."""
    if db is None and lake is None:
        raise ChainwatchError("give the history to learn from: --db FILE or --lake CATALOG")
    target = store_target(db, lake)
    return _db(target) if isinstance(target, Path) else target


def _db(path: Path) -> Path:
    if not path.is_file():
        raise ChainwatchError(f"--db {path}: no such DuckDB file; write one with `chainwatch run` or `load`")
    return path


def read_labels(con: Any, table: str) -> dict[str, bool]:
    """session id -> anomalous, from a table with a ``session_id`` and a ``label`` column (a boolean, 0/1,
    or text where 'benign', 'normal', '0', 'false' and '' mean benign and anything else anomalous). A NULL
    label is no label: the session is left out of the evaluation, not counted as benign."""
    try:
        cursor = con.execute(f'SELECT session_id, label FROM "{table.replace(chr(34), "")}"')
    except Exception as exc:
        raise ChainwatchError(
            f"labels table {table!r}: {str(exc).splitlines()[0]}; it needs columns session_id and label "
            f"(write simulator labels with `chainwatch model simulate --db PATH`)"
        ) from None
    labels = {}
    for session_id, label in cursor.fetchall():
        if label is None or session_id is None:
            continue
        if isinstance(label, str):
            labels[str(session_id)] = label.strip().lower() not in ("benign", "normal", "0", "false", "")
        else:
            labels[str(session_id)] = bool(label)
    return labels


def write_labels(con: Any, labels: Mapping[str, str], table: str = LABELS_TABLE) -> None:
    """The simulator's ground truth as a labels table: session id, scenario, label (attack or benign)."""
    from streams.simulator.workload import SCENARIOS

    con.execute(
        f"CREATE OR REPLACE TABLE {table} (session_id VARCHAR PRIMARY KEY, scenario VARCHAR, label BOOLEAN)"
    )
    con.executemany(
        f"INSERT INTO {table} VALUES (?, ?, ?)",
        [(sid, scenario, SCENARIOS[scenario].is_attack) for sid, scenario in sorted(labels.items())],
    )


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    for key, value in data.items():
        typer.echo(f"{key:24} {value}")


@model_app.command("train")
def train(
    db: Annotated[
        Path | None, typer.Option(help="DuckDB file with the history to learn from (or give --lake).")
    ] = None,
    lake: LakeOption = None,
    out: Annotated[Path, typer.Option(help="Model file to write.")] = Path("chainwatch-model.skops"),
    since: Annotated[
        str | None,
        typer.Option(help="Only events at or after this time: 24h, 7d, or an ISO 8601 date or time."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same history and seed, same model.")] = 0,
    target_alert_rate: Annotated[
        float, typer.Option(help="Share of ordinary sessions the threshold lets through as findings.")
    ] = 0.01,
    trees: Annotated[int, typer.Option(min=1, help="Trees in the IsolationForest.")] = 200,
    json_output: Annotated[bool, typer.Option("--json", help="Print the metadata as JSON.")] = False,
) -> None:
    """Train the session model and agent baselines from DuckDB history; write a skops model file."""
    from streams.store.database import Store, load_events

    try:
        with Store(_history(db, lake), read_only=True) as store:
            events = load_events(store, _since(since))
        model = train_model(events, seed=seed, target_alert_rate=target_alert_rate, n_estimators=trees)
        save_model(model, out)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(
            f"--out {out}: cannot write the model file ({exc.strerror or exc}); give a file path"
        ) from None
    _print({"model": str(out), **model.metadata}, json_output)


@model_app.command("evaluate")
def evaluate(
    db: Annotated[Path, typer.Option(help="DuckDB file with the sessions to score and their labels.")],
    model: Annotated[Path, typer.Option(help="Model file from `chainwatch model train`.")],
    labels_table: Annotated[
        str, typer.Option(help="Table with session_id and label columns.")
    ] = LABELS_TABLE,
    since: Annotated[
        str | None,
        typer.Option(help="Only events at or after this time: 24h, 7d, or an ISO 8601 date or time."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """ROC AUC, precision and recall at the model's threshold, and the alert rate on benign sessions."""
    from streams.store.database import Store, load_events

    try:
        loaded = load_model(model)
        with Store(_db(db), read_only=True) as store:
            labels = read_labels(store.con, labels_table)
            events = load_events(store, _since(since))
        report = evaluate_model(loaded, events, labels)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    if report.sessions == 0:
        raise fail(f"no labelled session of {db} has enough tool calls to score; check {labels_table}")
    _print({"model": str(model), **report.to_dict()}, json_output)


@model_app.command("show")
def show(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the metadata as JSON.")] = False,
) -> None:
    """Check a model file and print its metadata."""
    try:
        loaded = load_model(model)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    _print({"model": str(model), **loaded.metadata}, json_output)


@model_app.command("promote")
def promote(
    model: Annotated[Path, typer.Argument(help="Model file to promote.")],
    by: Annotated[str, typer.Option(help="Who promotes it (kept in the metadata).")],
) -> None:
    """Mark a reviewed model stable: its findings become alerts (workers pick it up without a restart)."""
    try:
        loaded = load_model(model)
    except ChainwatchError as exc:
        raise fail(str(exc)) from None
    loaded.metadata["maturity"] = "stable"
    loaded.metadata["promoted"] = {"by": by, "at": datetime.now(UTC).isoformat()}
    try:
        save_model(loaded, model)
    except OSError as exc:
        raise fail(f"{model}: cannot write the promoted model ({exc.strerror or exc})") from None
    typer.echo(f"{model}: maturity stable (promoted by {by})")


@model_app.command("simulate")
def simulate_labelled(
    db: Annotated[Path, typer.Option(help="DuckDB file to write (events, detections and session_labels).")],
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
    sessions: Annotated[int, typer.Option(help="Number of sessions.")] = 400,
    attack_ratio: Annotated[float, typer.Option(help="Share of attack sessions.")] = 0.1,
) -> None:
    """Simulate labelled sessions into DuckDB (replayed through the detectors, labels in session_labels),
    for training and evaluating a model without real history."""
    from streams.ingest.replay import run_events, write_all
    from streams.settings import build_engine, load_settings
    from streams.simulator.workload import labels, simulate
    from streams.store.database import Store

    runs = simulate(seed=seed, sessions=sessions, attack_ratio=attack_ratio)
    events = sorted((e for run in runs for e in run.events), key=lambda e: e.event_time)
    _, output = run_events(events, build_engine(load_settings()))
    write_all(db, events, [], output)
    with Store(db) as store:
        write_labels(store.con, labels(runs))
    attacks = sum(run.is_attack for run in runs)
    typer.echo(
        f"wrote {len(events)} events of {len(runs)} sessions ({attacks} attacks) and {LABELS_TABLE} to {db}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``model`` command group to the ``chainwatch`` command line."""
    app.add_typer(model_app, name="model")


__all__ = ["ModelFileError", "read_labels", "register", "save_model", "write_labels"]
