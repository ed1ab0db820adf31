"""The ``mcp`` adapter and ``injection.mcp_tool_changed`` on logged JSON-RPC traffic.

The fixtures follow the Model Context Protocol specification **2025-06-18** (modelcontextprotocol.io/
specification/2025-06-18): JSON-RPC 2.0 messages; ``initialize``; ``tools/list`` results with ``name``,
``title``, ``description``, ``inputSchema`` and ``annotations`` (``title``, ``readOnlyHint``,
``destructiveHint``, ``idempotentHint``, ``openWorldHint``); ``tools/call`` with ``params.name`` /
``params.arguments`` and a ``CallToolResult`` (``content`` text parts, ``isError``); JSON-RPC errors
(``-32602``); ``notifications/tools/list_changed``; the Streamable HTTP transport's ``Mcp-Session-Id``
header. The envelope around each message (``timestamp``, ``server``, ``headers``, ``session_id``) is
chainwatch's documented log shape (docs/telemetry.md), not part of MCP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.adapters import detect_format, parse_bytes
from schemas.adapters.base import DeadLetter
from schemas.events import ToolCall
from streams.ingest.replay import replay
from streams.settings import build_engine, load_settings
from streams.store.database import Store

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "mcp"
SESSION = "191c4850af6c49e08843a3f6c80e5046"


def parsed(name: str) -> tuple[list[ToolCall], list[DeadLetter]]:
    items = list(parse_bytes((FIXTURES / name).read_bytes(), name, "mcp"))
    letters = [i for i in items if isinstance(i, DeadLetter)]
    return [i for i in items if isinstance(i, ToolCall)], letters


def test_calls_are_matched_to_results_by_id() -> None:
    assert detect_format((FIXTURES / "tool_definition_changed.jsonl").read_bytes()) == "mcp"
    events, letters = parsed("tool_definition_changed.jsonl")
    assert letters == []
    assert {e.session_id for e in events} == {SESSION}  # from the logged Mcp-Session-Id header
    calls = [e for e in events if e.tool != "mcp"]
    summary = [(e.tool, e.outcome, e.target) for e in calls]
    assert summary == [
        ("read_file", "success", "/workspace/README.md"),
        ("delete_file", "error", "/workspace/missing.txt"),  # isError: a tool error
        ("rename_file", "error", "b"),  # a JSON-RPC error response: a protocol error
        ("read_file", "success", "/home/dev/.ssh/id_rsa"),
        ("read_file", "unknown", "/workspace/slow.log"),  # never answered
    ]
    assert calls[0].result_summary == "# Project\nRun make test." and calls[0].untrusted_content
    assert calls[0].duration_ms is not None and round(calls[0].duration_ms) == 20
    assert calls[1].result_summary == "File not found: /workspace/missing.txt"
    assert calls[2].result_summary == "JSON-RPC error -32602: Unknown tool: rename_file"
    assert calls[0].agent_id == "claude-desktop"


def test_listings_keep_annotations_as_hints_with_digests() -> None:
    events, _ = parsed("tool_definition_changed.jsonl")
    first, second = [e for e in events if e.action == "tools/list"]
    assert first.target == "mcp-server:files" and first.arguments["server"] == "files"
    before, after = first.arguments["tools"]["delete_file"], second.arguments["tools"]["delete_file"]
    assert (
        before["annotations"]["destructiveHint"] is True and after["annotations"]["destructiveHint"] is False
    )
    assert before["description_digest"] != after["description_digest"]
    assert first.arguments["tools"]["read_file"] == second.arguments["tools"]["read_file"]


def test_a_private_key_in_a_result_is_redacted() -> None:
    events, _ = parsed("tool_definition_changed.jsonl")
    leaked = next(e for e in events if e.target == "/home/dev/.ssh/id_rsa")
    assert "BEGIN OPENSSH PRIVATE KEY" not in (leaked.result_summary or "")
    assert (leaked.result_summary or "").startswith("[REDACTED:")


def test_malformed_lines_are_dead_letters_with_field_and_fix() -> None:
    events, letters = parsed("malformed.jsonl")
    assert [(e.tool, e.outcome) for e in events] == [("ok_tool", "success")]
    assert events[0].session_id == "mcp:malformed.jsonl"  # neither session_id nor Mcp-Session-Id logged
    reasons = [letter.reason for letter in letters]
    assert len(reasons) == 5
    assert "record 1" in reasons[0] and "field 'message'" in reasons[0]
    assert "field 'timestamp'" in reasons[1]
    assert "unknown request id 99" in reasons[2] and "fix:" in reasons[2]
    assert "field 'message.params.name'" in reasons[3]
    assert "not valid JSON" in reasons[4]


def test_tool_definition_changed_mid_session_is_an_alert() -> None:
    report = replay(
        [str(FIXTURES / "tool_definition_changed.jsonl")], build_engine(load_settings()), fmt="mcp"
    )
    changed = [a for a in report.alerts if a.detector_id == "injection.mcp_tool_changed"]
    assert len(changed) == 1
    assert changed[0].severity == "high" and "delete_file" in changed[0].title
    assert "description and annotations" in changed[0].title
    stable = replay([str(FIXTURES / "stable_listing.jsonl")], build_engine(load_settings()), fmt="mcp")
    assert stable.events == 2 and not [
        a for a in stable.alerts if a.detector_id == "injection.mcp_tool_changed"
    ]


FLAGS = ("--json", "--format", "mcp", "--db")


def test_chainwatch_run_format_mcp(tmp_path: Path) -> None:
    db = tmp_path / "mcp.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams.cli",
            "run",
            str(FIXTURES / "tool_definition_changed.jsonl"),
            *FLAGS,
            str(db),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == 7
    with Store(db, read_only=True) as store:
        assert store.query("SELECT detector_id FROM alerts WHERE detector_id LIKE 'injection.mcp%'") == [
            ("injection.mcp_tool_changed",)
        ]


messages = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0", None])},
    optional={
        "id": st.one_of(
            st.integers(-5, 5), st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2)
        ),
        "method": st.sampled_from(["tools/call", "tools/list", "initialize", "x"]),
        "params": st.one_of(
            st.none(),
            st.dictionaries(st.sampled_from(["name", "arguments"]), st.integers() | st.text(max_size=4)),
        ),
        "result": st.one_of(
            st.none(),
            st.integers(),
            st.dictionaries(
                st.sampled_from(["tools", "content", "isError"]),
                st.integers() | st.lists(st.integers(), max_size=2) | st.booleans(),
            ),
        ),
        "error": st.one_of(st.none(), st.dictionaries(st.sampled_from(["code", "message"]), st.integers())),
    },
)
records = st.fixed_dictionaries(
    {"message": messages},
    optional={
        "timestamp": st.one_of(
            st.just("2025-11-29T10:00:00Z"), st.integers(0, 2**40), st.floats(), st.text(max_size=5)
        ),
        "headers": st.one_of(st.none(), st.dictionaries(st.just("Mcp-Session-Id"), st.text(max_size=4))),
        "server": st.one_of(st.none(), st.text(max_size=4), st.integers()),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(records, max_size=8))
def test_arbitrary_traffic_never_raises(lines: list[dict[str, Any]]) -> None:
    data = "\n".join(json.dumps(line) for line in lines).encode()
    out = list(parse_bytes(data, "fuzz.jsonl", "mcp"))
    assert all(isinstance(item, DeadLetter | ToolCall) for item in out)


def _line(record_no: int, message: dict[str, Any], **envelope: Any) -> str:
    return json.dumps(
        {"timestamp": f"2025-11-29T10:00:{record_no:02d}Z", "session_id": "s1", "server": "files", **envelope}
        | {"message": {"jsonrpc": "2.0", **message}}
    )


def test_a_reused_request_id_does_not_lose_the_earlier_call() -> None:
    """A second request with an id still pending (a restarted counter, or a server-to-client request
    numbered from the server's own counter) must not make the first tools/call vanish."""
    lines = [
        _line(
            1,
            {"id": 1, "method": "tools/call", "params": {"name": "delete_file", "arguments": {"path": "/a"}}},
        ),
        _line(2, {"id": 1, "method": "sampling/createMessage", "params": {}}),  # server -> client, same id
        _line(3, {"id": 1, "result": {"model": "m", "role": "assistant", "content": {"type": "text"}}}),
        _line(
            4, {"id": 1, "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "/b"}}}
        ),
        _line(5, {"id": 1, "result": {"content": [{"type": "text", "text": "ok"}]}}),
    ]
    out = list(parse_bytes("\n".join(lines).encode(), "reuse.jsonl", "mcp"))
    assert not [o for o in out if isinstance(o, DeadLetter)]
    calls = [(o.tool, o.outcome, o.target) for o in out if isinstance(o, ToolCall)]
    assert sorted(calls) == [("delete_file", "unknown", "/a"), ("read_file", "success", "/b")]


def test_out_of_range_times_are_dead_letters_not_crashes() -> None:
    lines = [
        json.dumps(
            {
                "timestamp": 1e30,
                "message": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x"}},
            }
        ),
        _line(2, {"id": 2, "method": "tools/call", "params": {"name": "ok_tool"}}),
    ]
    out = list(parse_bytes("\n".join(lines).encode(), "range.jsonl", "mcp"))
    letters = [o for o in out if isinstance(o, DeadLetter)]
    assert (
        len(letters) == 1 and "out of range" in letters[0].reason and "field 'timestamp'" in letters[0].reason
    )
    assert [o.tool for o in out if isinstance(o, ToolCall)] == ["ok_tool"]


def test_dead_letter_reasons_never_quote_a_secret() -> None:
    secret = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    line = _line(1, {"id": secret, "result": {"content": []}})  # a response to an id never requested
    (letter,) = list(parse_bytes(line.encode(), "secret.jsonl", "mcp"))
    assert isinstance(letter, DeadLetter) and "unknown request id" in letter.reason
    assert secret not in letter.reason and secret not in letter.raw


def test_an_unreadable_response_keeps_its_call(monkeypatch: Any) -> None:
    """The request was logged, so the call happened: a response that cannot be read is a dead letter,
    and the call is still an event (outcome unknown), not lost with it."""
    from schemas.adapters import mcp

    lines = [
        _line(
            1,
            {"id": 1, "method": "tools/call", "params": {"name": "delete_file", "arguments": {"path": "/a"}}},
        ),
        _line(2, {"id": 1, "result": {"content": "not a list", "isError": False}}),  # read leniently
        _line(
            3, {"id": 2, "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "/b"}}}
        ),
        _line(4, {"id": 2, "result": {"content": [{"type": "text", "text": "boom"}]}}),
    ]
    real = mcp.content_text

    def fails_on_boom(result: Any) -> Any:
        if "boom" in json.dumps(result):
            raise TypeError("unexpected content part")
        return real(result)

    monkeypatch.setattr(mcp, "content_text", fails_on_boom)
    out = list(parse_bytes("\n".join(lines).encode(), "resp.jsonl", "mcp"))
    calls = sorted((o.tool, o.outcome) for o in out if isinstance(o, ToolCall))
    assert calls == [("delete_file", "success"), ("read_file", "unknown")]
    (letter,) = [o for o in out if isinstance(o, DeadLetter)]
    assert "record 4" in letter.reason and "unexpected content part" in letter.reason


def test_a_listing_declares_the_tools_of_later_calls() -> None:
    events, _ = parsed("tool_definition_changed.jsonl")
    calls = [e for e in events if e.tool != "mcp"]
    read, delete, rename = calls[0], calls[1], calls[2]
    assert read.tool_declaration is not None and delete.tool_declaration is not None
    assert (read.tool_declaration.read_only, read.tool_declaration.open_world) == (True, False)
    assert read.tool_declaration.parameters == ("path",) and read.tool_declaration.source == "mcp"
    assert (delete.tool_declaration.destructive, delete.tool_declaration.read_only) == (True, False)
    assert delete.tool_declaration.description == "Delete a file under the workspace."
    assert rename.tool_declaration is None  # not in the listing
    listings = [e for e in events if e.action == "tools/list"]
    assert all(e.tool_declaration is None for e in listings)


def test_a_call_before_any_listing_or_on_another_server_has_no_declaration(tmp_path: Path) -> None:
    lines = (FIXTURES / "tool_definition_changed.jsonl").read_text().splitlines()
    listing_at = next(i for i, line in enumerate(lines) if '"tools/list"' in line)
    call_at = next(i for i, line in enumerate(lines) if '"tools/call"' in line)
    moved = [lines[call_at], lines[call_at + 1]] + [
        line for i, line in enumerate(lines) if i not in (call_at, call_at + 1)
    ]
    assert listing_at < call_at
    items = list(parse_bytes("\n".join(moved).encode(), "moved.jsonl", "mcp"))
    first = next(i for i in items if isinstance(i, ToolCall) and i.tool != "mcp")
    assert first.tool == "read_file" and first.tool_declaration is None  # called before the server listed it
    other = [json.loads(line) for line in lines]
    for record in other:
        if record["message"].get("method") == "tools/list" or "tools" in str(
            record["message"].get("result", "")
        ):
            record["server"] = "another"
    items = list(parse_bytes("\n".join(json.dumps(r) for r in other).encode(), "other.jsonl", "mcp"))
    assert all(i.tool_declaration is None for i in items if isinstance(i, ToolCall) and i.tool != "mcp")
