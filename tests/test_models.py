"""Anomaly models: training, the model file, stream/batch parity, ranking, calibration, hot reload."""

from __future__ import annotations

import json
import os
import pickle
from datetime import timedelta
from pathlib import Path

import pytest

from detectors.engine import Engine, Runner
from detectors.models import (
    FEATURE_NAMES,
    Baseline,
    ModelFile,
    ModelFileError,
    ModelHandle,
    evaluate_model,
    feature_vector,
    load_model,
    model_detectors,
    model_from_bytes,
    model_inputs,
    session_rows,
    train_model,
)
from detectors.models.features import target_family
from detectors.models.training import batch_scores
from schemas.events import AnyEvent
from schemas.types import Maturity
from streams.cli.model import save_model
from streams.simulator.workload import simulate

TARGET_RATE = 0.1


def _events(runs: list) -> list[AnyEvent]:  # type: ignore[type-arg]
    return sorted((e for run in runs for e in run.events), key=lambda e: e.event_time)


@pytest.fixture(scope="module")
def history() -> list[AnyEvent]:
    return _events(simulate(seed=21, sessions=300, attack_ratio=0.0))


@pytest.fixture(scope="module")
def model(history: list[AnyEvent]) -> ModelFile:
    return train_model(history, seed=5, target_alert_rate=TARGET_RATE, n_estimators=100)


@pytest.fixture(scope="module")
def labelled() -> tuple[list[AnyEvent], dict[str, bool]]:
    runs = simulate(seed=22, sessions=300, attack_ratio=0.1)
    return _events(runs), {run.session_id: run.is_attack for run in runs}


def test_training_is_deterministic_for_a_seed(history: list[AnyEvent], model: ModelFile) -> None:
    again = train_model(history, seed=5, target_alert_rate=TARGET_RATE, n_estimators=100)
    other = train_model(history, seed=6, target_alert_rate=TARGET_RATE, n_estimators=100)
    assert again.metadata == model.metadata
    assert again.baseline.to_dict() == model.baseline.to_dict()
    # Same splits in every tree (the files differ only in the zip's timestamps).
    assert again.forest.feature.tolist() == model.forest.feature.tolist()
    assert again.forest.threshold.tolist() == model.forest.threshold.tolist()
    assert other.threshold != model.threshold
    rows, _ = session_rows(history[:3000], model.baseline)
    inputs = [model_inputs(r.raw) for r in rows]
    assert batch_scores(again.estimator, inputs) == batch_scores(model.estimator, inputs)


def test_metadata_describes_the_training(history: list[AnyEvent], model: ModelFile) -> None:
    meta = model.metadata
    assert meta["format"] == "chainwatch-model" and meta["maturity"] == "experimental"
    assert meta["features"][0] == "tool_calls" and len(meta["features"]) == 14
    assert meta["rows"] == 300 and meta["events"] == len(history) and meta["seed"] == 5
    assert meta["training_window"][0] == history[0].event_time.isoformat()
    assert meta["target_alert_rate"] == TARGET_RATE
    assert abs(meta["calibration_alert_rate"] - TARGET_RATE) <= 0.01


def test_the_stream_scorer_equals_scikit_learn(model: ModelFile, labelled: tuple) -> None:  # type: ignore[type-arg]
    rows, _ = session_rows(labelled[0], model.baseline)
    inputs = [model_inputs(r.raw) for r in rows]
    expected = batch_scores(model.estimator, inputs)
    assert [model.score(x) for x in inputs] == pytest.approx(expected, abs=1e-12)


def test_model_file_round_trip(tmp_path: Path, model: ModelFile, labelled: tuple) -> None:  # type: ignore[type-arg]
    path = save_model(model, tmp_path / "models" / "m.skops")
    loaded = load_model(path)
    assert loaded.metadata == model.metadata
    assert loaded.baseline.to_dict() == model.baseline.to_dict()
    rows, _ = session_rows(labelled[0][:4000], loaded.baseline)
    inputs = [model_inputs(r.raw) for r in rows]
    assert [loaded.score(x) for x in inputs] == [model.score(x) for x in inputs]


def test_foreign_files_are_refused_with_the_reason(tmp_path: Path, model: ModelFile) -> None:
    import skops.io as sio

    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"estimator": "x"}))
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(pickled)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a chainwatch model"):
        load_model(text)
    other_skops = tmp_path / "other.skops"
    other_skops.write_bytes(sio.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(ModelFileError, match="not a chainwatch model"):
        load_model(other_skops)
    with pytest.raises(ModelFileError, match="cannot be read"):
        load_model(tmp_path / "missing.skops")


TRIPPED: list[str] = []


class Tripwire:
    """Records being rebuilt: a model file holding one must be refused before skops constructs anything."""

    def __setstate__(self, state: dict[str, object]) -> None:
        TRIPPED.append("rebuilt")
        self.__dict__.update(state)


def _with_schema(data: bytes, change: object) -> bytes:
    """The archive ``data`` with its schema.json edited by ``change(schema)`` (a hand-crafted file)."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "schema.json":
                schema = json.loads(body)
                change(schema)  # type: ignore[operator]
                body = json.dumps(schema).encode()
            target.writestr(info, body)
    return out.getvalue()


def test_types_outside_a_models_own_are_refused_unread(model: ModelFile) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    chainwatch = {"format": "chainwatch-model", "format_version": 1, "metadata": "{}", "baseline": "{}"}
    # A type skops would trust by default (any scikit-learn estimator) is still not a model's.
    other = sio.dumps({**chainwatch, "estimator": LogisticRegression()})
    with pytest.raises(ModelFileError, match=r"never contains \(sklearn\.linear_model.*LogisticRegression"):
        model_from_bytes(other, "other.skops")
    # A class of our own with a __setstate__: refused before skops rebuilds (and so runs) anything.
    TRIPPED.clear()
    hostile = sio.dumps({**chainwatch, "estimator": Tripwire()})
    with pytest.raises(ModelFileError, match=r"never contains \(tests\.test_models\.Tripwire"):
        model_from_bytes(hostile, "hostile.skops")
    assert TRIPPED == []

    # A function node (skops' way to reference os.system & co) behind harmless-looking type names.
    def disguise(schema: dict[str, object]) -> None:
        content = schema["content"]
        assert isinstance(content, dict)
        content["estimator"] = {
            "__class__": "str",
            "__module__": "builtins",
            "__loader__": "FunctionNode",
            "content": {"module_path": "os", "function": "system"},
            "__id__": 1,
        }

    with pytest.raises(ModelFileError, match="FunctionNode"):
        model_from_bytes(_with_schema(model.to_bytes(), disguise), "disguised.skops")
    # The untouched file of a trained model passes the same checks.
    assert model_from_bytes(model.to_bytes(), "ok.skops").metadata == model.metadata


def test_a_model_for_other_features_is_refused(model: ModelFile) -> None:
    changed = ModelFile(model.estimator, model.baseline, {**model.metadata, "features": ["a", "b"]})
    with pytest.raises(ModelFileError, match="built for features"):
        model_from_bytes(changed.to_bytes(), "old.skops")
    older = ModelFile(model.estimator, model.baseline, {**model.metadata, "feature_version": 0})
    with pytest.raises(ModelFileError, match="version 0"):
        model_from_bytes(older.to_bytes(), "old.skops")


def test_a_damaged_model_is_refused_not_raised_into_the_worker(model: ModelFile) -> None:
    import skops.io as sio

    good = {"format": "chainwatch-model", "format_version": 1, "estimator": model.estimator}
    metadata, baseline = json.dumps(model.metadata), json.dumps(model.baseline.to_dict())
    for damaged in (
        {**good, "metadata": metadata, "baseline": "{}"},  # baseline without its agents
        {**good, "metadata": "{not json", "baseline": baseline},
        {**good, "metadata": json.dumps({**model.metadata, "threshold": "NaN"}), "baseline": baseline},
        {"format": "chainwatch-model", "format_version": 1, "metadata": metadata},  # no estimator
    ):
        with pytest.raises(ModelFileError, match=r"damaged|not a finite number|not an IsolationForest"):
            model_from_bytes(sio.dumps(damaged), "damaged.skops")


def _stream_features(engine: Engine, events: list[AnyEvent]) -> dict[str, list[float]]:
    runner = Runner(engine)
    runner.feed(events)
    found = {}
    for (scope, key), state in [*runner.closed.items(), *runner.states.items()]:
        slot = state.detectors.get("models.session_anomaly")
        if scope == "session" and slot is not None:
            found[key] = feature_vector(slot["f"])
    return found


def test_stream_and_duckdb_history_give_the_same_features(
    tmp_path: Path,
    model: ModelFile,
    labelled: tuple,  # type: ignore[type-arg]
) -> None:
    from streams.ingest.replay import run_events, write_all
    from streams.store.database import Store, load_events

    events = labelled[0]
    _, output = run_events(events, Engine([]))
    db = tmp_path / "history.duckdb"
    write_all(db, events, [], output)
    with Store(db, read_only=True) as store:
        stored = load_events(store)
    assert len(stored) == len(events)
    batch = {r.session_id: r.raw for r in session_rows(stored, model.baseline, min_tool_calls=1)[0]}
    path = save_model(model, tmp_path / "m.skops")
    stream = _stream_features(Engine(model_detectors(ModelHandle(path))), events)
    assert len(batch) > 250
    # The features vary across these sessions, the baseline-dependent new_* ones included, so the
    # comparison below covers them (a feature stuck at one value would prove nothing). The simulator gives
    # every session exactly one credential: credentials_used is the one constant.
    varied = {name for i, name in enumerate(FEATURE_NAMES) if len({raw[i] for raw in batch.values()}) > 1}
    assert varied == set(FEATURE_NAMES) - {"credentials_used"}
    assert {k: stream[k] for k in batch} == batch


def test_injected_attack_sessions_rank_above_benign(model: ModelFile, labelled: tuple) -> None:  # type: ignore[type-arg]
    report = evaluate_model(model, *labelled)
    print(f"session model on simulator data: {report.to_dict()}")
    assert report.positives >= 25 and report.sessions >= 290
    assert report.roc_auc is not None and report.roc_auc >= 0.9
    assert report.recall is not None and report.recall >= 0.7


def test_calibrated_threshold_holds_on_held_back_benign_sessions(model: ModelFile) -> None:
    runs = simulate(seed=23, sessions=300, attack_ratio=0.0)
    report = evaluate_model(model, _events(runs), {run.session_id: False for run in runs})
    print(f"benign alert rate {report.benign_alert_rate:.3f} for a target of {TARGET_RATE}")
    # 300 sessions: one standard deviation of the measured rate is 0.017; calibration adds its own noise.
    assert abs(report.benign_alert_rate - TARGET_RATE) <= 0.06


def test_findings_explain_what_was_unusual_and_stay_findings(
    tmp_path: Path,
    model: ModelFile,
    labelled: tuple,  # type: ignore[type-arg]
) -> None:
    events, labels = labelled
    engine = Engine(model_detectors(ModelHandle(save_model(model, tmp_path / "m.skops"))))
    runner = Runner(engine)
    out = runner.feed(events)
    out.extend(runner.flush())
    anomalies = [f for f in out.findings if f.detector_id == "models.session_anomaly"]
    flagged_attacks = {f.session_id for f in anomalies if labels[f.session_id]}
    assert len(flagged_attacks) >= 0.7 * sum(labels.values())
    assert out.alerts == []  # experimental: findings only
    for finding in anomalies:
        assert finding.maturity == Maturity.EXPERIMENTAL
        assert finding.details["score"] >= finding.details["threshold"]
        assert finding.details["explanation"]
    explained = [f for f in anomalies if f.details["unusual"]]
    assert len(explained) >= 0.6 * len(anomalies)  # the rest: "an unusual combination", no single outlier
    reason = explained[0].details["unusual"][0]
    assert not reason["p05"] <= reason["value"] <= reason["p95"]


def _shifted(events: list[AnyEvent], **changes: object) -> list[AnyEvent]:
    return [e.model_copy(update=changes) for e in events]


def test_first_seen_flags_a_new_target_for_a_known_agent_once(tmp_path: Path, model: ModelFile) -> None:
    handle = ModelHandle(save_model(model, tmp_path / "m.skops"))
    coding = next(
        run for run in simulate(seed=22, sessions=40, attack_ratio=0.0) if run.scenario == "coding_task"
    )
    agent = coding.events[0].agent_id
    assert agent in model.baseline.agents
    calls = [e for e in coding.events if e.kind == "tool_call"]
    strange = calls[-1].model_copy(
        update={"target": "repo:github.com/other-org/secrets/blob/x", "event_id": "new-1"}
    )
    again = strange.model_copy(
        update={"event_id": "new-2", "event_time": strange.event_time + timedelta(seconds=5)}
    )
    runner = Runner(Engine(model_detectors(handle)))
    out = runner.feed([*coding.events, strange, again])
    first = [f for f in out.findings if f.detector_id == "models.first_seen"]
    assert [f.details["value"] for f in first] == [target_family(strange.target or "")]
    assert first[0].event_ids == ("new-1",)
    assert "never used this target" in first[0].details["explanation"]


def test_cadence_flags_machine_speed_and_metronome_runs(tmp_path: Path, model: ModelFile) -> None:
    handle = ModelHandle(save_model(model, tmp_path / "m.skops"))
    run = next(r for r in simulate(seed=22, sessions=40, attack_ratio=0.0) if r.scenario == "cloud_ops")
    call = next(e for e in run.events if e.kind == "tool_call")
    start = call.event_time
    burst = [
        call.model_copy(update={"event_id": f"b{i}", "event_time": start + timedelta(milliseconds=40 * i)})
        for i in range(12)
    ]
    metronome = [
        call.model_copy(
            update={
                "event_id": f"m{i}",
                "session_id": "replayed",
                "event_time": start + timedelta(seconds=3 * i),
            }
        )
        for i in range(12)
    ]
    out = Runner(Engine(model_detectors(handle))).feed([*burst, *metronome])
    cadence = {
        (f.session_id, f.details["pattern"]) for f in out.findings if f.detector_id == "models.cadence"
    }
    assert (call.session_id, "burst") in cadence
    assert ("replayed", "rhythm") in cadence
    assert ("replayed", "burst") not in cadence
    # The simulator's benign traffic keeps human-ish pace: no cadence finding on it.
    benign = Runner(Engine(model_detectors(handle))).feed(list(run.events))
    assert [f for f in benign.findings if f.detector_id == "models.cadence"] == []
    # Against the agent's own baseline: for an agent whose history always calls every 3 s, the same
    # metronome is its normal pace (the machine-speed burst is still not).
    steady = Baseline.from_dict(model.baseline.to_dict())
    agent_profile, group_profile = steady.profiles(call.agent_id)
    for profile in (agent_profile, group_profile):
        assert profile is not None
        profile.gap_hist = [0] * len(profile.gap_hist)
        profile.gap_hist[34] = 500  # the 10**0.4-10**0.5 s bin: every gap about 3 s
    timer = ModelHandle(save_model(ModelFile(model.estimator, steady, model.metadata), tmp_path / "t.skops"))
    out = Runner(Engine(model_detectors(timer))).feed([*burst, *metronome])
    patterns = {
        (f.session_id, f.details["pattern"]) for f in out.findings if f.detector_id == "models.cadence"
    }
    assert patterns == {(call.session_id, "burst")}


def test_a_new_model_file_is_picked_up_without_a_restart(
    tmp_path: Path,
    model: ModelFile,
    labelled: tuple,  # type: ignore[type-arg]
) -> None:
    path = tmp_path / "live.skops"
    handle = ModelHandle(path)
    engine = Engine(model_detectors(handle))
    assert handle.model is None and "models score nothing" in (handle.last_error or "")
    assert engine.refresh() is False
    save_model(model, path)
    assert engine.refresh() is True and handle.loads == 1
    assert engine.refresh() is False  # unchanged file: not read again
    detector = engine.by_id["models.session_anomaly"]
    assert detector.maturity == Maturity.EXPERIMENTAL
    promoted = ModelFile(model.estimator, model.baseline, {**model.metadata, "maturity": "stable"})
    save_model(promoted, path)
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert engine.refresh() is True and handle.loads == 2
    assert detector.maturity == Maturity.STABLE
    runner = Runner(engine)
    out = runner.feed(labelled[0])
    out.extend(runner.flush())
    assert {a.detector_id for a in out.alerts} >= {"models.session_anomaly"}  # promoted: findings alert
    path.write_bytes(b"broken")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    assert engine.refresh() is False
    assert handle.model is not None and handle.model.maturity == "stable"  # the previous model keeps running
    assert "not a chainwatch model" in (handle.last_error or "")


def test_settings_add_the_model_detectors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from streams.settings import build_engine, load_settings

    monkeypatch.setenv("CHAINWATCH_ENGINE__MODEL_PATH", str(tmp_path / "m.skops"))
    ids = set(build_engine(load_settings()).by_id)
    assert {"models.session_anomaly", "models.first_seen", "models.cadence"} <= ids
    monkeypatch.delenv("CHAINWATCH_ENGINE__MODEL_PATH")
    assert not any(i.startswith("models.") for i in build_engine(load_settings()).by_id)


def test_model_commands_train_evaluate_and_refuse(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from streams.cli.main import app

    cli = CliRunner()
    train_db, test_db, out = tmp_path / "train.duckdb", tmp_path / "test.duckdb", tmp_path / "m.skops"
    args = ["model", "simulate", "--sessions", "120", "--attack-ratio", "0"]
    assert cli.invoke(app, [*args, "--db", str(train_db), "--seed", "31"]).exit_code == 0
    result = cli.invoke(
        app,
        [
            "model",
            "train",
            "--db",
            str(train_db),
            "--out",
            str(out),
            "--seed",
            "1",
            "--trees",
            "50",
            "--target-alert-rate",
            "0.05",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    meta = json.loads(result.output)
    assert meta["rows"] == 120 and meta["threshold"] > 0 and out.is_file()
    args = ["model", "simulate", "--sessions", "120", "--attack-ratio", "0.2"]
    assert cli.invoke(app, [*args, "--db", str(test_db), "--seed", "32"]).exit_code == 0
    result = cli.invoke(app, ["model", "evaluate", "--db", str(test_db), "--model", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["positives"] == 24 and report["roc_auc"] >= 0.8
    assert set(report) >= {"precision", "recall", "benign_alert_rate"}
    pickled = tmp_path / "m.pkl"
    pickled.write_bytes(pickle.dumps([1, 2]))
    result = cli.invoke(app, ["model", "show", str(pickled)])
    assert result.exit_code == 2 and "pickle" in result.output
    result = cli.invoke(
        app, ["model", "evaluate", "--db", str(train_db), "--model", str(out), "--labels-table", "nope"]
    )
    assert result.exit_code == 2 and "session_id and label" in result.output
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = cli.invoke(app, ["model", "train", "--db", str(train_db), "--out", str(folder), "--trees", "5"])
    assert result.exit_code == 2 and "--out" in result.output and "give a file path" in result.output


def test_labels_tables_and_since_are_read_as_documented() -> None:
    import duckdb

    from schemas.errors import ChainwatchError
    from streams.cli.model import _since, read_labels, write_labels

    con = duckdb.connect()
    write_labels(con, {"s1": "coding_task", "s2": "secret_burst"})
    assert read_labels(con, "session_labels") == {"s1": False, "s2": True}
    con.execute("CREATE TABLE mine (session_id VARCHAR, label VARCHAR)")
    con.execute(
        "INSERT INTO mine VALUES ('a', 'benign'), ('b', 'exfiltration'), ('c', ''), ('d', '1'), ('e', NULL)"
    )
    # a NULL label is unlabelled: left out, not counted as a benign session
    assert read_labels(con, "mine") == {"a": False, "b": True, "c": False, "d": True}
    with pytest.raises(ChainwatchError, match="session_id and label"):
        read_labels(con, "missing")
    assert _since("2026-01-05") is not None and _since("2026-01-05").tzinfo is not None  # type: ignore[union-attr]
    with pytest.raises(ChainwatchError, match="ISO 8601"):
        _since("yesterday")
