"""Engine behaviour: dedup, suppression, maturity, lateness, state as a value, bounds, reloads."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import pytest

import detectors.engine as engine_module
from detectors.base import EventDetector, Signal
from detectors.capabilities import Classification, Classifier
from detectors.cases import build_events
from detectors.context import MAX_SET, KeyContext
from detectors.engine import Engine, EngineSettings, KeyState, Output, Runner
from detectors.registry import CATALOG_ROOT, RuleReloader, load_catalog
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Maturity, Severity


class DeleteSeen(EventDetector):
    id: ClassVar[str] = "test.delete_seen"
    title: ClassVar[str] = "A delete"
    description: ClassVar[str] = "test detector"
    severity: ClassVar[Severity] = Severity.MEDIUM
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02",))
    runbook: ClassVar[str] = "none"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    actions: ClassVar[frozenset[str] | None] = frozenset({"Delete"})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        yield Signal.of([event])


class QuietDelete(DeleteSeen):
    id: ClassVar[str] = "test.quiet_delete"
    suppress_seconds: ClassVar[float] = 60.0


class ExperimentalDelete(DeleteSeen):
    id: ClassVar[str] = "test.experimental_delete"
    maturity: ClassVar[Maturity] = Maturity.EXPERIMENTAL


def deletes(times: list[int]) -> list[AnyEvent]:
    return build_events([{"action": "Delete", "target": f"t{i}", "at": at} for i, at in enumerate(times)])


def test_only_indexed_detectors_see_an_event() -> None:
    engine = Engine([DeleteSeen()])
    other = build_events([{"action": "Read"}])[0]
    assert engine.candidates("session", other) == ()
    assert len(engine.candidates("session", deletes([0])[0])) == 1


def test_the_same_chain_never_alerts_twice() -> None:
    runner = Runner(Engine([DeleteSeen()]))
    first = runner.feed(deletes([0]))
    again = runner.feed(deletes([0]))  # a redelivery of the same event
    assert len(first.alerts) == 1 and again.alerts == []
    assert again.findings[0].finding_id == first.alerts[0].alert_id  # deterministic id


def test_ids_are_deterministic_across_runs() -> None:
    one = Runner(Engine([DeleteSeen()])).feed(deletes([0, 10]))
    two = Runner(Engine([DeleteSeen()])).feed(deletes([0, 10]))
    assert [a.alert_id for a in one.alerts] == [a.alert_id for a in two.alerts]


def test_suppression_window_keeps_the_finding_and_records_why() -> None:
    out = Runner(Engine([QuietDelete()])).feed(deletes([0, 30, 90]))
    assert len(out.findings) == 3
    assert [a.event_ids for a in out.alerts] == [("case-0",), ("case-2",)]
    suppressed = [f for f in out.findings if "suppressed_by" in f.details]
    assert [f.event_ids for f in suppressed] == [("case-1",)]


class EscalatingDelete(QuietDelete):
    """Medium, except a delete of a target named ``grave…``, which is high."""

    id: ClassVar[str] = "test.escalating_delete"

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        grave = isinstance(event, ToolCall) and (event.target or "").startswith("grave")
        yield Signal.of([event], severity=Severity.HIGH if grave else None)


def test_a_graver_alert_is_never_held_back_by_the_window_and_the_rank_is_kept_in_the_state() -> None:
    events = build_events(
        [
            {"action": "Delete", "target": t, "at": at}
            for t, at in [("a", 0), ("grave1", 10), ("b", 20), ("grave2", 30)]
        ]
    )
    engine = Engine([EscalatingDelete()])
    state, out = engine.process_key("session", "case-session", None, events[:2])
    # the medium alerts; the high 10 s later escalates through the window
    assert [(a.event_ids, a.severity) for a in out.alerts] == [(("case-0",), "medium"), (("case-1",), "high")]
    assert state.last_rank == {"test.escalating_delete": 3}
    restored = KeyState.from_bytes(state.to_bytes())  # the rank survives a save (a worker's restart)
    _, out = engine.process_key("session", "case-session", restored, events[2:])
    # a medium and a high after a high, both within the window: held back (the finding is kept)
    assert out.alerts == [] and all("suppressed_by" in f.details for f in out.findings)
    assert len(out.findings) == 2


def test_suppression_is_configurable_per_detector() -> None:
    settings = EngineSettings(suppress_seconds={"test.delete_seen": 1000.0})
    out = Runner(Engine([DeleteSeen()], settings)).feed(deletes([0, 30, 90]))
    assert len(out.alerts) == 1 and len(out.findings) == 3


def test_experimental_detectors_emit_findings_only() -> None:
    out = Runner(Engine([ExperimentalDelete()])).feed(deletes([0]))
    assert len(out.findings) == 1 and out.alerts == []
    assert out.findings[0].maturity == Maturity.EXPERIMENTAL


def test_late_events_beyond_the_allowed_lateness_are_counted() -> None:
    engine = Engine([DeleteSeen()], EngineSettings(allowed_lateness_seconds=60))
    state, _ = engine.process_key("session", "case-session", None, deletes([1000]))
    late = build_events([{"action": "Delete", "target": "old", "at": 10, "event_id": "late"}])
    state, out = engine.process_key("session", "case-session", state, late)
    assert out.late_events == 1 and state.late_events == 1
    assert len(out.alerts) == 1  # per-event detectors still see it; ordered state does not


def test_state_survives_a_json_round_trip_mid_chain() -> None:
    detectors = load_catalog().detectors
    events = build_events(
        [
            {"tool": "iam", "action": "CreateUser", "arguments": {"userName": "b"}},
            {
                "tool": "iam",
                "action": "AttachUserPolicy",
                "arguments": {"userName": "b", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            },
            {"tool": "iam", "action": "CreateAccessKey", "arguments": {"userName": "b"}},
        ]
    )
    engine = Engine(detectors)
    straight, out_straight = engine.process_key("session", "case-session", None, events)
    half, out_first = engine.process_key("session", "case-session", None, events[:2])
    restored = KeyState.from_dict(json.loads(json.dumps(half.to_dict())))
    resumed, out_second = engine.process_key("session", "case-session", restored, events[2:])
    chain_ids = lambda out: {a.alert_id for a in out.alerts if a.detector_id == "privilege.escalation_chain"}  # noqa: E731
    assert chain_ids(out_straight) == chain_ids(out_second) != set()
    assert chain_ids(out_first) == set()
    assert resumed.to_dict()["ctx"] == straight.to_dict()["ctx"]


def test_context_is_bounded() -> None:
    engine = Engine([DeleteSeen()])
    many = build_events(
        [{"action": "Read", "target": f"t{i}", "tool": f"tool{i}"} for i in range(MAX_SET + 50)]
    )
    state, _ = engine.process_key("session", "case-session", None, many)
    assert len(state.ctx.targets) == MAX_SET and len(state.ctx.tools) == MAX_SET
    assert state.ctx.overflow == 50


def test_chain_summary_reports_credentials_decisions_and_blast_radius() -> None:
    events = build_events(
        [
            {
                "kind": "credential",
                "action": "issued",
                "credential_id": "k1",
                "session_id": "case-session",
                "scopes": ["s3:*", "iam:*"],
                "ttl_seconds": 3600,
            },
            {
                "action": "GetObject",
                "target": "arn:aws:s3:::b/x",
                "environment": "prod",
                "credential_id": "k1",
                "decision": "approved",
                "approved_by": "sre@example.com",
            },
            {"kind": "credential", "action": "revoked", "credential_id": "k1", "session_id": "case-session"},
        ]
    )
    engine = Engine([DeleteSeen()])
    state, _ = engine.process_key("session", "case-session", None, events)
    chain = engine.close_key("session", "case-session", state).chains[0]
    assert chain.closed and chain.event_count == 3 and chain.tool_calls == 1
    assert chain.decisions == {"approved": 1} and chain.approvers == ("sre@example.com",)
    (credential,) = chain.credentials
    assert credential.ttl_seconds == 3600 and credential.uses == 1 and credential.revoked_at is not None
    assert chain.blast_radius_reachable == 2 and chain.blast_radius_touched == 1
    assert chain.blast_radius_weighted == 1.0


def test_credential_keyed_detectors_get_events_routed_by_credential() -> None:
    class PerCredential(DeleteSeen):
        id: ClassVar[str] = "test.per_credential"
        key = "credential"

    engine = Engine([PerCredential()])
    assert engine.scopes == ("session", "credential")
    out = Runner(engine).feed(
        build_events(
            [
                {"action": "Delete", "credential_id": "k1", "session_id": "a"},
                {"action": "Delete", "session_id": "b"},
            ]
        )
    )
    assert [(a.key_kind, a.key, a.session_id) for a in out.alerts] == [("credential", "k1", "a")]


def test_rule_files_reload_without_restart_and_a_broken_file_keeps_the_old_set(tmp_path: Path) -> None:
    reloader = RuleReloader([tmp_path])
    before = {d.id for d in reloader.catalog.detectors}
    family = tmp_path / "custom"
    family.mkdir()
    rule = family / "copy_chain.yml"
    text = (CATALOG_ROOT / "privilege" / "escalation_chain.yml").read_text(encoding="utf-8")
    rule.write_text(text.replace("id: privilege.escalation_chain", "id: custom.copy_chain"), encoding="utf-8")
    assert reloader.poll() is True
    assert {d.id for d in reloader.catalog.detectors} == before | {"custom.copy_chain"}
    broken = family / "broken.yml"
    broken.write_text("id: custom.broken\nsteps: [\n", encoding="utf-8")
    assert reloader.poll() is False
    assert "broken.yml" in reloader.last_errors[0]
    assert "custom.copy_chain" in {d.id for d in reloader.catalog.detectors}
    assert reloader.poll() is False  # the same broken file is reported once
    shutil.rmtree(family)


def test_output_extend_accumulates() -> None:
    out = Output()
    out.extend(Runner(Engine([DeleteSeen()])).feed(deletes([0])))
    assert len(out.alerts) == 1
    assert isinstance(deletes([0])[0], ToolCall)


class CountingClassifier(Classifier):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def classify(self, event: ToolCall) -> Classification:
        self.calls += 1
        return super().classify(event)


def test_each_call_is_classified_once_even_when_the_memo_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-event memo forgets its older half when full, never the feed being processed: every key
    scope asks for that feed's calls again, and they must not be classified a second time."""
    monkeypatch.setattr(engine_module, "MAX_CLASSIFIED", 8)
    classifier = CountingClassifier()
    runner = Runner(Engine([DeleteSeen()], classifier=classifier))
    for first in (0, 6):  # two feeds of six calls each
        calls = [
            {"event_id": f"call-{i}", "action": "Delete", "target": f"t{i}", "at": i}
            for i in range(first, first + 6)
        ]
        runner.feed(build_events(calls))
    assert classifier.calls == 12


def test_blank_lines_before_a_version_history_cost_no_backtracking() -> None:
    """The commit-line reader keeps a hash's margin on its line: 60,000 blank lines are read at once."""
    import time

    from detectors.provenance.intent import requests_of

    started = time.perf_counter()
    assert requests_of("\n" * 60000 + "x") == frozenset()
    assert time.perf_counter() - started < 1.0
