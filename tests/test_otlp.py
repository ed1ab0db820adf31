"""The ``otlp`` adapter on fixtures that follow the documents exactly.

* ``genai_tool_spans.json`` and ``malformed_spans.json``: OpenTelemetry GenAI semantic conventions
  **v1.41.1** (semantic-conventions tag v1.41.1: docs/gen-ai/gen-ai-spans.md "Execute tool span",
  gen-ai-agent-spans.md "Invoke agent span", mcp.md "Client"), OTLP/JSON encoding of opentelemetry-proto
  v1 (hex trace/span ids, int64 as strings).
* ``claude_code_events.json`` and ``malformed_logs.json``: Claude Code's monitoring documentation
  (code.claude.com/docs/en/monitoring-usage) as of **Claude Code v2.1.216**: standard attributes,
  ``event.sequence``, ``tool_result`` with ``decision_type``/``decision_source`` and the older
  ``decision``/``source`` spelling, ``tool_decision``, ``permission_mode_changed``, ``auth``,
  ``mcp_server_connection``; ``tool_parameters`` as a JSON string (``OTEL_LOG_TOOL_DETAILS=1``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.adapters import detect_format, parse_bytes
from schemas.adapters.base import DeadLetter
from schemas.adapters.otlp import any_value, parse_request
from schemas.events import SessionEvent, ToolCall
from streams.store.database import Store

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "otlp"


def parsed(name: str) -> tuple[list[Any], list[DeadLetter]]:
    items = list(parse_bytes((FIXTURES / name).read_bytes(), name, "otlp"))
    return [i for i in items if not isinstance(i, DeadLetter)], [
        i for i in items if isinstance(i, DeadLetter)
    ]


def by_tool(events: list[Any]) -> dict[str, ToolCall]:
    return {e.tool: e for e in events if isinstance(e, ToolCall)}


def test_fixtures_are_recognised_as_otlp() -> None:
    for name in ("genai_tool_spans.json", "claude_code_events.json"):
        assert detect_format((FIXTURES / name).read_bytes(), name) == "otlp"


def test_attribute_values_of_every_type() -> None:
    assert any_value({"stringValue": "a"}) == "a"
    assert any_value({"intValue": "9007199254740993"}) == 9007199254740993  # beyond a double's precision
    assert any_value({"intValue": 7}) == 7
    assert any_value({"boolValue": False}) is False
    assert any_value({"doubleValue": 0.5}) == 0.5
    assert any_value({"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": "2"}]}}) == ["x", 2]
    assert any_value({"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}) == {"k": True}
    assert any_value({"bytesValue": "AAEC"}) == "AAEC"
    assert any_value({}) is None


def test_genai_tool_spans_v1_41_1() -> None:
    events, letters = parsed("genai_tool_spans.json")
    assert letters == []
    tools = by_tool(events)
    assert set(tools) == {"bash", "read_file", "get_issue", "delete_snapshot", "send_email", "lookup"}
    bash = tools["bash"]
    # session and agent from the invoke_agent parent, found by walking the trace
    assert (bash.session_id, bash.agent_id, bash.parent_agent_id) == ("conv_7f3a2c", "asst_janitor01", None)
    assert bash.event_id == "5b8efff798038103d269b633813fc60c-53995c3f42cd8ad8"
    assert bash.arguments == {"command": "rm -rf /var/lib/postgresql/data"}  # opt-in arguments, a JSON string
    assert bash.outcome == "success" and bash.duration_ms == 1250.0 and bash.environment == "prod"
    assert bash.result_summary == "removed 41G" and bash.untrusted_content
    assert bash.event_time.isoformat() == "2025-11-29T09:00:03+00:00"
    failed = tools["read_file"]  # structured (kvlist) arguments, status ERROR with error.type
    assert failed.outcome == "error" and failed.target == "/etc/app/config.yml"
    assert failed.arguments == {
        "path": "/etc/app/config.yml",
        "max_bytes": 65536,
        "follow": False,
        "encodings": ["utf-8"],
    }
    assert failed.result_summary == "FileNotFoundError: No such file or directory"
    assert tools["get_issue"].session_id == "conv_7f3a2c"  # an MCP tools/call client span
    sub = tools["delete_snapshot"]  # a sub-agent's tool: its agent, and the agent that invoked it
    assert (sub.agent_id, sub.parent_agent_id, sub.session_id) == (
        "asst_cleaner02",
        "asst_janitor01",
        "conv_7f3a2c",
    )
    copied = tools["send_email"]  # no parent in the request: the attributes copied onto the tool span
    assert (copied.session_id, copied.agent_id) == ("conv_copied_9", "Mailer")
    assert tools["lookup"].session_id == "otel-trace:4bf92f3577b34da6a3ce929d0e0e4736"
    starts = [e for e in events if isinstance(e, SessionEvent)]
    assert [(s.session_id, s.task) for s in starts] == [("conv_7f3a2c", "Free disk space on db-prod-1")]


def test_an_mcp_span_inside_its_execute_tool_span_is_one_call() -> None:
    spans = json.loads((FIXTURES / "genai_tool_spans.json").read_text())
    resource = spans["resourceSpans"][0]
    outer = resource["scopeSpans"][0]["spans"][2]  # execute_tool bash
    inner = {
        **outer,
        "spanId": "9999999999999999",
        "parentSpanId": outer["spanId"],
        "name": "tools/call bash",
        "attributes": [
            {"key": "mcp.method.name", "value": {"stringValue": "tools/call"}},
            {"key": "gen_ai.tool.name", "value": {"stringValue": "bash"}},
        ],
    }
    resource["scopeSpans"][0]["spans"].append(inner)
    events = [e for e in parse_request(spans, "x") if isinstance(e, ToolCall) and e.tool == "bash"]
    assert [e.event_id.split("-")[1] for e in events] == ["53995c3f42cd8ad8"]


def test_malformed_spans_are_dead_letters_naming_path_field_and_fix() -> None:
    events, letters = parsed("malformed_spans.json")
    assert [e.tool for e in events] == ["ok"]  # the good span of the same request still counts
    reasons = sorted(letter.reason for letter in letters)
    assert len(reasons) == 5
    assert any("spans[0]" in r and "field 'traceId'" in r and "fix:" in r for r in reasons)
    assert any("spans[1]" in r and "startTimeUnixNano" in r for r in reasons)
    assert any("spans[2]" in r and "gen_ai.tool.name" in r for r in reasons)
    assert any("spans[3]" in r and "intValue 'three'" in r for r in reasons)
    assert any("spans[5]" in r and "expected a span object" in r for r in reasons)


def test_claude_code_events_v2_1_216() -> None:
    events, letters = parsed("claude_code_events.json")
    assert letters == []
    session = "d7f1e2a0-5c3b-4e8a-9f10-2b6c7d8e9f01"
    mine = [e for e in events if e.session_id == session]
    # ordered by time then event.sequence; api_request (seq 3) is not an agent action
    assert [e.event_id.rsplit(":", 1)[1] for e in mine] == ["1", "2", "4", "5", "6", "7", "8"]
    prompt, mode, bash, rejected, read, auth, mcp = mine
    assert isinstance(prompt, SessionEvent) and prompt.task == "Free disk space on db-prod-1"
    assert isinstance(mode, SessionEvent) and mode.permission_mode == "bypassPermissions"
    assert {e.principal for e in mine} == {"dev@example.com"} and {e.agent_id for e in mine} == {
        "claude-code"
    }
    assert isinstance(bash, ToolCall)
    assert (bash.tool, bash.action, bash.arguments["command"]) == (
        "Bash",
        "exec",
        "rm -rf /var/lib/postgresql/data",
    )
    assert (bash.decision, bash.outcome, bash.duration_ms, bash.environment) == (
        "allowed_by_rule",
        "success",
        412,
        "prod",
    )
    assert isinstance(rejected, ToolCall)  # tool_decision reject, MCP server and tool from tool_parameters
    assert (rejected.tool, rejected.action) == ("mcp__github__delete_repository", "delete_repository")
    assert (rejected.decision, rejected.outcome) == ("denied", "denied")
    assert rejected.result_summary == "rejected (user_reject)"
    assert isinstance(read, ToolCall)  # the older decision/source spelling on tool_result
    assert (read.decision, read.approved_by, read.outcome) == ("approved", "dev@example.com", "error")
    assert read.target == "/etc/app/secret.env" and "ENOENT" in (read.result_summary or "")
    assert isinstance(auth, ToolCall) and (auth.tool, auth.action, auth.outcome) == (
        "auth",
        "login",
        "success",
    )
    assert isinstance(mcp, ToolCall) and (mcp.tool, mcp.action, mcp.outcome) == ("mcp", "connect", "error")
    assert mcp.target == "mcp-server:github"
    hook = [e for e in events if e.session_id != session]
    assert len(hook) == 1 and hook[0].decision == "denied" and hook[0].result_summary == "rejected (hook)"


def test_malformed_log_records_are_dead_letters() -> None:
    events, letters = parsed("malformed_logs.json")
    reasons = [letter.reason for letter in letters]
    assert len(reasons) == 5
    assert "logRecords[0]" in reasons[0] and "field 'session.id'" in reasons[0]
    assert "field 'to_mode'" in reasons[1]
    assert "unreadable time 'yesterday'" in reasons[2]
    assert "field 'tool_name'" in reasons[3]
    assert "attributes must be a list" in reasons[4]
    # the prompt logged as <REDACTED> (OTEL_LOG_USER_PROMPTS unset) is no task
    assert len(events) == 1 and isinstance(events[0], SessionEvent) and events[0].task is None


def test_secrets_in_arguments_results_and_prompts_are_redacted() -> None:
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    spans = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "53995c3f42cd8ad8",
                                "name": "execute_tool http",
                                "startTimeUnixNano": "1764406800000000000",
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "execute_tool"},
                                    },
                                    {"key": "gen_ai.tool.name", "value": {"stringValue": "http"}},
                                    {
                                        "key": "gen_ai.tool.call.arguments",
                                        "value": {
                                            "stringValue": json.dumps({"url": "https://x", "token": secret})
                                        },
                                    },
                                    {
                                        "key": "gen_ai.tool.call.result",
                                        "value": {"stringValue": f"aws_secret_access_key={key}"},
                                    },
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (event,) = list(parse_request(spans, "x"))
    dumped = event.model_dump_json()
    assert secret not in dumped and key not in dumped and "[REDACTED:" in dumped
    logs = json.loads((FIXTURES / "claude_code_events.json").read_text())
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    for attr in record["attributes"]:
        if attr["key"] == "prompt":
            attr["value"]["stringValue"] = f"deploy with GITHUB_TOKEN={secret}"
    prompt = next(e for e in parse_request(logs, "x") if isinstance(e, SessionEvent) and e.task)
    assert secret not in (prompt.task or "") and "[REDACTED:" in (prompt.task or "")


json_values = st.recursive(
    # integers within int64/uint64: what a JSON or protobuf body can carry (orjson reads no larger ones)
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["genai_tool_spans.json", "claude_code_events.json"]),
    st.lists(st.tuples(st.integers(0, 10_000), json_values), min_size=1, max_size=4),
)
def test_mutated_requests_never_raise(name: str, mutations: list[tuple[int, Any]]) -> None:
    """Arbitrary JSON in place of any node of a real request: only events and dead letters come out
    (what is lost is checked below, where the mutations leave the spans recognisable)."""
    document = json.loads((FIXTURES / name).read_text())
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            nodes.append((node, key))
            walk(child)

    walk(document)
    for index, value in mutations:
        parent, key = nodes[index % len(nodes)]
        parent[key] = value
    out = list(parse_request(document, name))  # the receiver's path: the decoded document
    assert all(isinstance(item, DeadLetter | ToolCall | SessionEvent) for item in out)


IDENTIFYING = {"gen_ai.operation.name", "gen_ai.tool.name", "mcp.method.name"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), json_values), min_size=1, max_size=6))
def test_every_tool_span_is_an_event_or_a_dead_letter(mutations: list[tuple[int, Any]]) -> None:
    """Arbitrary JSON in place of the other attribute values and span fields of tool spans: each of the
    request's tool spans comes out as its event or as a dead letter naming its path, never silently."""
    document = json.loads((FIXTURES / "genai_tool_spans.json").read_text())
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    tool_spans = {
        i: span["spanId"]
        for i, span in enumerate(spans)
        if any(a["key"] == "gen_ai.tool.name" for a in span.get("attributes", []))
    }
    slots: list[tuple[Any, Any]] = []
    for i in tool_spans:
        span = spans[i]
        slots += [(span, k) for k in ("startTimeUnixNano", "endTimeUnixNano", "status", "parentSpanId")]
        slots += [(a, "value") for a in span["attributes"] if a["key"] not in IDENTIFYING]
    for index, value in mutations:
        parent, key = slots[index % len(slots)]
        parent[key] = value
    out = list(parse_request(document, "mutated.json"))
    events = {e.event_id.split("-")[1] for e in out if isinstance(e, ToolCall)}
    reasons = [d.reason for d in out if isinstance(d, DeadLetter)]
    for i, span_id in tool_spans.items():
        as_event = span_id in events
        as_letter = any(f"spans[{i}]:" in r for r in reasons)
        assert as_event != as_letter, (i, reasons)  # exactly one of the two


@pytest.mark.parametrize("name", ["genai_tool_spans.json", "claude_code_events.json"])
def test_chainwatch_run_format_otlp_on_the_fixtures(name: str, tmp_path: Path) -> None:
    db = tmp_path / "run.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams.cli",
            "run",
            str(FIXTURES / name),
            "--format",
            "otlp",
            "--db",
            str(db),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dead_letters"] == 0
    with Store(db, read_only=True) as store:
        found = {r[0] for r in store.query("SELECT detector_id FROM alerts")}
    assert "destructive.prod_action" in found
    if name == "claude_code_events.json":
        assert "approval.bypass_mode" in found


def test_out_of_range_times_and_unreadable_doubles_are_dead_letters_not_crashes() -> None:
    """A time beyond what a datetime holds raised OverflowError out of the adapter (the receiver
    answered 500 and the request was lost); now it is a dead letter naming the field."""
    document = json.loads((FIXTURES / "genai_tool_spans.json").read_text())
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[2]["startTimeUnixNano"] = str(10**30)
    spans[3]["attributes"].append({"key": "x.ratio", "value": {"doubleValue": "abc"}})
    out = list(parse_request(document, "range.json"))
    letters = [o for o in out if isinstance(o, DeadLetter)]
    assert len(letters) == 2
    assert any(
        "spans[2]" in r.reason and "out of range" in r.reason and "startTimeUnixNano" in r.reason
        for r in letters
    )
    assert any("spans[3]" in r.reason and "field 'doubleValue'" in r.reason for r in letters)
    assert any_value({"doubleValue": "NaN"}) != any_value({"doubleValue": "NaN"})  # NaN, read as a float
    logs = json.loads((FIXTURES / "claude_code_events.json").read_text())
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record.pop("timeUnixNano", None)
    record["attributes"].append({"key": "event.timestamp", "value": {"doubleValue": 1e30}})
    letters = [o for o in parse_request(logs, "range.json") if isinstance(o, DeadLetter)]
    assert len(letters) == 1 and "event.timestamp" in letters[0].reason


def test_an_mcp_server_span_under_the_client_span_is_the_same_call() -> None:
    """Trace context propagated to the MCP server: its SERVER span is a child of the client's tools/call
    span (GenAI conventions v1.41.1, mcp.md "Server"); one call, not two."""
    spans = json.loads((FIXTURES / "genai_tool_spans.json").read_text())
    spans_list = spans["resourceSpans"][0]["scopeSpans"][0]["spans"]
    client = next(s for s in spans_list if s["name"] == "tools/call get_issue")  # the MCP client span
    server = {**client, "spanId": "8888888888888888", "parentSpanId": client["spanId"], "kind": 2}
    spans_list.append(server)
    tools = [e for e in parse_request(spans, "x") if isinstance(e, ToolCall) and e.tool == "get_issue"]
    assert [e.event_id.split("-")[1] for e in tools] == [client["spanId"]]


def test_dead_letter_reasons_never_quote_a_secret() -> None:
    """Reasons are stored, logged and sent back in partial_success: a key-less attribute holding a token
    must not appear there (nor in the raw record, which is redacted)."""
    secret = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    document = json.loads((FIXTURES / "genai_tool_spans.json").read_text())
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[2]["attributes"].append({"value": {"stringValue": secret}})  # no key
    spans[3]["spanId"] = secret  # an unreadable id, quoted in the reason
    letters = [o for o in parse_request(document, "secret.json") if isinstance(o, DeadLetter)]
    assert ["spans[2]" in letters[0].reason, "spans[3]" in letters[1].reason] == [True, True]
    assert "attribute 6 (dict) has no string key" in letters[0].reason
    for letter in letters:
        assert secret not in letter.reason and secret not in letter.raw


def test_a_tool_description_becomes_the_declaration() -> None:
    spans = json.loads((FIXTURES / "genai_tool_spans.json").read_text())
    bash_span = spans["resourceSpans"][0]["scopeSpans"][0]["spans"][2]  # execute_tool bash
    bash_span["attributes"].append(
        {"key": "gen_ai.tool.description", "value": {"stringValue": "Run a shell command on the host."}}
    )
    tools = by_tool([e for e in parse_request(spans, "x") if isinstance(e, ToolCall)])
    declared = tools["bash"].tool_declaration
    assert declared is not None
    assert (declared.description, declared.source) == ("Run a shell command on the host.", "otel")
    assert tools["read_file"].tool_declaration is None  # no description on that span
