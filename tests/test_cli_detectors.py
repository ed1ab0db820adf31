"""The detection engineer's loop from the command line: list, new, test, backtest; third-party packs."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detectors import registry
from detectors.cases import load_cases, run_case
from detectors.registry import load_catalog
from detectors.rules import load_rule_file
from streams.cli.main import app
from streams.simulator.workload import simulate_events, write_jsonl

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_list_shows_every_detector_with_its_metadata() -> None:
    result = runner.invoke(app, ["detectors", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for detector in load_catalog().detectors:
        assert detector.id in result.output
    assert "rule:sequence" in result.output and "critical" in result.output


@pytest.mark.parametrize("kind", ["rule", "python"])
def test_new_scaffolds_a_detector_and_cases_that_load_and_run(tmp_path: Path, kind: str) -> None:
    (tmp_path / "detectors").mkdir()  # a checkout's root (anywhere else is refused: test_cli_errors.py)
    result = runner.invoke(
        app, ["detectors", "new", "exfiltration.dns_tunnel", "--kind", kind, "--root", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    cases = load_cases(tmp_path / "tests" / "cases" / "exfiltration" / "dns_tunnel.yml")
    assert {c.expect for c in cases} == {"finding", "none"} and any("edge" in c.tags for c in cases)
    if kind == "rule":
        detector = load_rule_file(
            tmp_path / "detectors" / "exfiltration" / "dns_tunnel.yml", expected_id="exfiltration.dns_tunnel"
        )()
    else:
        sys.path.insert(0, str(tmp_path))
        try:
            source = tmp_path / "detectors" / "exfiltration" / "dns_tunnel.py"
            namespace: dict[str, object] = {"__name__": "scaffolded"}
            exec(compile(source.read_text(), str(source), "exec"), namespace)  # the scaffold itself, in test
            detector = namespace["DnsTunnel"]()  # type: ignore[operator]
        finally:
            sys.path.remove(str(tmp_path))
    results = [run_case(detector, case) for case in cases]  # type: ignore[arg-type]
    assert all(r.passed for r in results), [r.message for r in results]
    again = runner.invoke(app, ["detectors", "new", "exfiltration.dns_tunnel", "--root", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["detectors", "new", "NoFamily", "--root", str(tmp_path)])
    assert bad.exit_code == 2 and "<family>.<name>" in bad.output


def test_test_runs_case_files_and_fails_on_a_failing_case(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        ["detectors", "test", "privilege.escalation_chain", "--cases-dir", str(REPO / "tests" / "cases")],
        env={"COLUMNS": "200"},
    )
    assert ok.exit_code == 0, ok.output
    assert "6 passed, 0 failed" in ok.output
    wrong = tmp_path / "privilege"
    wrong.mkdir()
    (wrong / "escalation_chain.yml").write_text(
        textwrap.dedent("""\
        detector: privilege.escalation_chain
        cases:
          - name: a read is not an escalation
            expect: alert
            events:
              - {tool: iam, action: ListUsers}
        """)
    )
    failed = runner.invoke(app, ["detectors", "test", "--cases-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert failed.exit_code == 1 and "FAIL" in failed.output and "expected an alert" in failed.output


def test_backtest_reports_what_a_detector_would_have_raised(tmp_path: Path) -> None:
    workload = tmp_path / "w.jsonl"
    write_jsonl(simulate_events(seed=5, sessions=60, attack_ratio=0.3), workload)
    db = tmp_path / "history.duckdb"
    assert runner.invoke(app, ["run", str(workload), "--db", str(db), "--json"]).exit_code == 0
    result = runner.invoke(
        app, ["detectors", "backtest", "privilege.escalation_chain", "--db", str(db)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "alerts per day" in result.output and "alerts per agent" in result.output
    assert "alerts would have been raised" in result.output
    assert "0 alerts would" not in result.output  # the workload has escalation chains
    since = runner.invoke(
        app, ["detectors", "backtest", "privilege.escalation_chain", "--db", str(db), "--since", "2030-01-01"]
    )
    assert "0 events replayed" in since.output
    missing = runner.invoke(app, ["detectors", "backtest", "nope.nothing", "--db", str(db)])
    assert missing.exit_code == 2 and "detectors list" in missing.output


def test_third_party_packs_register_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = tmp_path / "acme_pack"
    (pack / "acme").mkdir(parents=True)
    (pack / "__init__.py").write_text("")
    (pack / "acme" / "__init__.py").write_text("")
    text = (REPO / "detectors" / "privilege" / "escalation_chain.yml").read_text()
    (pack / "acme" / "copied.yml").write_text(
        text.replace("id: privilege.escalation_chain", "id: acme.copied")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = EntryPoint(name="acme", value="acme_pack", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [entry] if group == entry.group else [])
    assert "acme.copied" in {d.id for d in load_catalog().detectors}
