"""``chainwatch tools`` and the capability coverage in ``detector_health``, on real DuckDB files: a small
hand-built store, and real OpenHands runs replayed with ``chainwatch run``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner, Result

from schemas.alerts import Finding
from schemas.events import ToolCall
from schemas.types import Capability, Maturity, Severity
from streams.cli.main import app
from streams.store.database import Batch, Store
from tests.conftest import SHARED_DATA

DAY1 = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
OAS = SHARED_DATA / "agents" / "openagentsafety" / "evaluation" / "o3-mini"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def call(
    ident: str, when: datetime, tool: str, capabilities: tuple[Capability, ...] | None, **args: Any
) -> ToolCall:
    return ToolCall(
        event_id=ident,
        event_time=when,
        source="native",
        session_id="s1" if when < DAY2 else "s2",
        tool=tool,
        action=tool,
        arguments=args,
        capabilities=capabilities,
    )


EVENTS = [
    call("e1", DAY1, "bash", (Capability.DELETE,), command="rm -rf /srv/logs"),
    call("e2", DAY1 + timedelta(minutes=1), "bash", (Capability.READ,), command="ls /srv"),
    call("e3", DAY1 + timedelta(minutes=2), "frobnicate", (), level=3),
    call("e4", DAY2, "send_email", None, to="mia@example.org", body="hi"),
]
FINDING = Finding(
    finding_id="f1",
    detector_id="destructive.x",
    maturity=Maturity.STABLE,
    key="s1",
    session_id="s1",
    severity=Severity.HIGH,
    risk_score=70.0,
    title="t",
    event_ids=("e1",),
    first_seen=DAY1,
    last_seen=DAY1,
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "tools.duckdb"
    with Store(path) as store:
        store.write(Batch(events=list(EVENTS), findings=[FINDING]))
    return path


def test_tools_lists_each_tool_with_its_capabilities_and_why(db: Path) -> None:
    result = invoke("tools", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    entries = {e["tool"]: e for e in json.loads(result.stdout)}
    assert list(entries) == ["bash", "frobnicate", "send_email"]  # most calls first, then by name
    bash = entries["bash"]
    assert (bash["calls"], bash["stored_capabilities"], bash["sample_event_id"]) == (
        2,
        ["delete", "read"],
        "e1",
    )
    assert (
        "delete" in bash["capabilities"] and "rm" in bash["why"]["delete"]
    )  # the sample: rm -rf, read again
    assert bash["unclassified"] is False
    frob = entries["frobnicate"]
    assert (frob["capabilities"], frob["calls_without_capability"], frob["unclassified"]) == ([], 1, True)
    mail = entries["send_email"]
    assert mail["calls_not_classified"] == 1 and "communicate" in mail["capabilities"]
    assert "recipient" in mail["why"]["communicate"] or "send" in mail["why"]["communicate"]


def test_the_table_marks_unclassified_tools(db: Path) -> None:
    result = invoke("tools", "--db", str(db))
    assert result.exit_code == 0, result.output
    [frob] = [line for line in result.stdout.splitlines() if "frobnicate" in line]
    assert "UNCLASSIFIED" in frob
    assert "3 tools/actions, 4 calls; unclassified: 1 tools/actions, 1 calls (25.0%)" in " ".join(
        result.stdout.split()
    )


def test_a_manifest_says_what_a_tool_does(db: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "tools.yml"
    manifest.write_text("tools:\n  - match: frob*\n    capabilities: [money, write]\n")
    entries = {
        e["tool"]: e
        for e in json.loads(invoke("tools", "--db", str(db), "--manifest", str(manifest), "--json").stdout)
    }
    assert (
        entries["frobnicate"]["capabilities"] == ["write", "money"]
        and not entries["frobnicate"]["unclassified"]
    )
    bad = tmp_path / "bad.yml"
    bad.write_text("tools:\n  - match: x\n    capabilities: [teleport]\n")
    result = invoke("tools", "--db", str(db), "--manifest", str(bad))
    assert result.exit_code == 2 and "teleport" in result.stderr
    assert invoke("tools", "--db", str(db), "--manifest", str(tmp_path / "none.yml")).exit_code == 2


def test_missing_database_and_empty_database(tmp_path: Path) -> None:
    missing = invoke("tools", "--db", str(tmp_path / "none.duckdb"))
    assert missing.exit_code == 2 and "no such database" in missing.stderr
    empty = tmp_path / "empty.duckdb"
    Store(empty).close()
    assert invoke("tools", "--db", str(empty), "--json").stdout.strip() == "[]"


def test_detector_health_counts_calls_without_a_capability(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(
            "SELECT detector_id, day, findings, tool_calls, calls_without_capability, calls_not_classified, "
            "share_without_capability FROM detector_health ORDER BY day"
        )
        rows = cursor.fetchall()
    finally:
        con.close()
    assert rows == [
        ("destructive.x", DAY1.date(), 1, 3, 1, 0, round(1 / 3, 6)),
        (None, DAY2.date(), 0, 1, 0, 1, None),  # a quiet day still shows its calls
    ]


@pytest.mark.shared_data
@pytest.mark.skipif(not OAS.is_dir(), reason=f"OpenAgentSafety runs not found under {OAS}")
def test_tools_of_replayed_openhands_runs(tmp_path: Path) -> None:
    files = sorted(OAS.glob("traj_safety-a*.json"))
    db = tmp_path / "oas.duckdb"
    assert invoke("run", *map(str, files), "--db", str(db), "--json").exit_code == 0
    entries = json.loads(invoke("tools", "--db", str(db), "--json").stdout)
    by_name = {(e["tool"], e["action"]): e for e in entries}
    assert ("execute_bash", "run") in by_name and ("str_replace_editor", "read") in by_name
    assert by_name[("str_replace_editor", "read")]["capabilities"] == ["read"]
    assert not any(e["unclassified"] for e in entries)
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM events WHERE kind = 'tool_call'").fetchone()
    finally:
        con.close()
    assert stored is not None and sum(e["calls"] for e in entries) == stored[0]


def test_a_duckdb_file_that_is_not_chainwatchs_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()  # a DuckDB file without chainwatch's tables
    for args in (("tools",), ("evaluate", "--verdicts")):
        result = invoke(*args, "--db", str(other))
        assert result.exit_code == 2 and "not a chainwatch database" in result.stderr, args
