"""The contract: exported JSON Schema is current, models round-trip through bytes, and are closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.events import (
    CredentialEvent,
    SessionEvent,
    ToolCall,
    event_from_dict,
    event_from_json,
    event_to_json,
)
from schemas.jsonschema_export import json_schemas, render
from schemas.types import Capability, CredentialAction, Decision, Environment, Outcome, SessionAction

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "jsonschema"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_exported_json_schema_is_current(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.schema.json"
    assert path.is_file(), "run `make schema` (chainwatch schema export) and commit the files"
    assert path.read_text(encoding="utf-8") == render(json_schemas()[name]), (
        "run `make schema`: the contract changed"
    )


def test_event_schema_lists_every_kind() -> None:
    schema = json.loads((SCHEMA_DIR / "event.schema.json").read_text(encoding="utf-8"))
    assert set(schema["discriminator"]["mapping"]) == {"tool_call", "credential", "session"}


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
ident = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ident, inner, max_size=3),
    max_leaves=8,
)

tool_calls = st.builds(
    ToolCall,
    event_id=ident,
    event_time=times,
    source=ident,
    session_id=ident,
    agent_id=st.none() | ident,
    principal=st.none() | ident,
    task=st.none() | text,
    tool=ident,
    action=ident,
    target=st.none() | text,
    environment=st.sampled_from(Environment),
    arguments=st.dictionaries(ident, json_values, max_size=4),
    outcome=st.sampled_from(Outcome),
    decision=st.sampled_from(Decision),
    credential_id=st.none() | ident,
    duration_ms=st.none() | st.floats(0, 1e6),
    untrusted_content=st.booleans(),
    result_summary=st.none() | text,
)
credential_events = st.builds(
    CredentialEvent,
    event_id=ident,
    event_time=times,
    source=ident,
    session_id=ident,
    credential_id=ident,
    action=st.sampled_from(CredentialAction),
    scopes=st.lists(ident, max_size=3).map(tuple),
    ttl_seconds=st.none() | st.floats(0, 1e7),
    inherited_from_human=st.booleans(),
)
session_events = st.builds(
    SessionEvent,
    event_id=ident,
    event_time=times,
    source=ident,
    session_id=ident,
    action=st.sampled_from(SessionAction),
    task=st.none() | text,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(tool_calls, credential_events, session_events))
def test_events_round_trip_through_bytes(event: ToolCall | CredentialEvent | SessionEvent) -> None:
    again = event_from_json(event_to_json(event))
    assert again == event
    assert event_from_json(event_to_json(again)) == again  # redaction is idempotent


@settings(max_examples=60, deadline=None)
@given(tool_calls, st.lists(st.sampled_from(Capability), max_size=4).map(tuple))
def test_with_capabilities_is_model_copy_with_the_field_set(
    event: ToolCall, capabilities: tuple[Capability, ...]
) -> None:
    """The engine's direct copy is pydantic's ``model_copy(update=…)``: same fields, same fields set, no
    extra or private parts, frozen, the original untouched."""
    expected = event.model_copy(update={"capabilities": capabilities})
    copied = event.with_capabilities(capabilities)
    assert type(copied) is ToolCall and copied == expected
    assert copied.__dict__ == expected.__dict__ and copied.__dict__ is not event.__dict__
    assert copied.model_fields_set == expected.model_fields_set
    assert (copied.__pydantic_extra__, copied.__pydantic_private__) == (
        expected.__pydantic_extra__,
        expected.__pydantic_private__,
    )
    assert event_to_json(copied) == event_to_json(expected)
    assert event.capabilities is None and "capabilities" not in event.model_fields_set
    assert not ToolCall.__private_attributes__  # the copy would have to carry them
    with pytest.raises(ValidationError):
        copied.tool = "z"  # type: ignore[misc]


def test_models_are_frozen_and_closed() -> None:
    event = event_from_dict(
        {
            "kind": "tool_call",
            "event_id": "1",
            "event_time": "2026-01-01T00:00:00Z",
            "source": "t",
            "session_id": "s",
            "tool": "x",
            "action": "y",
        }
    )
    with pytest.raises(ValidationError):
        event.tool = "z"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        event_from_dict({**event.model_dump(), "surprise": 1})
    assert event.schema_version == 1


def test_naive_times_are_utc_and_credential_events_get_a_session() -> None:
    event = event_from_dict(
        {
            "kind": "credential",
            "event_id": "1",
            "event_time": "2026-01-01T00:00:00",
            "source": "t",
            "credential_id": "k1",
            "action": "issued",
        }
    )
    assert event.event_time.tzinfo is not None and event.event_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert event.session_id == "credential:k1"


def test_trusted_decoding_skips_redaction_but_keeps_every_field() -> None:
    from schemas.events import trusted_event_from_json

    event = event_from_dict(
        {
            "kind": "tool_call",
            "event_id": "1",
            "event_time": "2026-01-01T00:00:00Z",
            "source": "t",
            "session_id": "s",
            "tool": "x",
            "action": "y",
            "target": "crm:customers/42",
            "task": "do it",
            "result_summary": "ok",
            "arguments": {"password": "hunter2hunter2"},
        }
    )
    again = trusted_event_from_json(event_to_json(event))
    assert again == event
    assert again.target == "crm:customers/42" and again.arguments["password"].startswith("[REDACTED:")


@pytest.mark.parametrize(
    "line",
    [
        b'{"kind": "tool_call", "event_id": "1"',  # not JSON
        b'{"kind": "tool_call", "event_id": "1", "event_time": "2026-01-01T00:00:00Z"}',  # fields missing
        b'{"kind": "moon"}',
        b"[1, 2]",
        b'{"kind": "tool_call", "arguments": {"n": 123456789012345678901234567890}}',  # past 64 bits
    ],
)
def test_trusted_decoding_fails_with_the_error_of_json_mode(line: bytes) -> None:
    """Internal lines are read by orjson first (cheaper); what fails gives pydantic's JSON-mode error."""
    from schemas.events import EVENT_ADAPTER, TRUSTED, trusted_event_from_json

    with pytest.raises(ValueError) as fast:
        trusted_event_from_json(line)
    with pytest.raises(ValueError) as json_mode:
        EVENT_ADAPTER.validate_json(line, context=TRUSTED)
    assert str(fast.value) == str(json_mode.value)


def test_trusted_decoding_gives_what_json_mode_gives_on_the_simulators_events() -> None:
    from schemas.events import EVENT_ADAPTER, TRUSTED, trusted_event_from_json
    from streams.simulator.workload import simulate_events

    for event in simulate_events(seed=5, sessions=20):
        line = event_to_json(event)
        again, json_mode = trusted_event_from_json(line), EVENT_ADAPTER.validate_json(line, context=TRUSTED)
        assert again == json_mode == event
        assert again.model_fields_set == json_mode.model_fields_set and event_to_json(again) == line
