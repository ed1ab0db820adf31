"""The whole-line prefilter (issue 14): a JSON line whose raw text shows no hint of a secret skips the
model's redaction step, so it must be exactly as strong as that step.

Three properties, over the redaction test corpus (every secret, named value, pair and ordinary text of
``tests/test_redaction.py``, ``tests/test_redaction_breadth.py`` and ``tests/secret_corpus.py``, placed in
every field an event redacts) and the simulator's events:

- **never a missed secret**: whenever ``line_may_need_redaction`` clears a line, redacting the record it
  holds changes nothing (a test below checks that this check catches a prefilter that misses one shape);
- **same output**: the fast path (``event_from_line``, what the native adapter runs on JSON lines) gives
  the event, or the error, that the full path (``event_from_dict``) gives, also through ``parse_bytes``
  (JSON lines against the same records as one JSON document, which never takes the fast path);
- **it does clear ordinary traffic**: most simulator lines take the fast path (else it would cost, not save).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.adapters import parse_bytes
from schemas.adapters.base import describe_validation_error
from schemas.events import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    AnyEvent,
    _needs_redaction_step,
    event_from_dict,
    event_from_line,
    event_to_json,
)
from schemas.redaction import line_may_need_redaction, redact_text, redact_value, texts_of
from streams.simulator.workload import simulate_events
from tests import test_redaction, test_redaction_breadth
from tests.secret_corpus import native_records, secret_corpus

Prefilter = Callable[[bytes, bool], bool]


def _corpus_texts() -> list[str]:
    texts = [text for _, text in test_redaction.CONTEXTS] + list(test_redaction.ORDINARY)
    texts += [context.format(secret) for _, secret, context in test_redaction_breadth.TEXT_SHAPES]
    texts += [secret.context for secret in secret_corpus(seed=9)]
    texts += list(test_redaction.NAMED.values())
    # each also on one line: a newline is escaped in JSON (a backslash: always the full path), so the
    # one-line forms are the ones the prefilter itself must judge
    return texts + [text.replace("\n", " ") for text in texts if "\n" in text]


TEXTS = _corpus_texts()
BASE = {
    "schema_version": 1,
    "event_time": "2026-02-01T10:00:00Z",
    "source": "prefilter-corpus",
    "session_id": "prefilter-s1",
    "agent_id": "agent-1",
}


def _call(n: int, **fields: Any) -> dict[str, Any]:
    return {**BASE, "kind": "tool_call", "event_id": f"c{n}", "tool": "shell", "action": "exec", **fields}


def _placements(n: int, text: str) -> Iterator[dict[str, Any]]:
    """``text`` in every place an event redacts: free text, short fields, arguments (as a value, a key, a
    pair, a header), the scopes, a declared description, a credential and a session event."""
    yield _call(n, arguments={"command": text}, result_summary=text, task=text)
    yield _call(n, tool=text, action=text, target=text, principal=text, approved_by=text, credential_id=text)
    yield _call(n, arguments={text: "value", "nested": {"list": [[text]]}}, decision_reason=text)
    yield _call(n, arguments={"env": [{"name": text, "value": "v4lue-123"}], "headers": [[text, "x"]]})
    yield _call(n, arguments={"env": [{"name": "DB_PASSWORD", "value": text}]}, task_scope=[text])
    yield _call(n, tool_declaration={"description": text, "parameters": ["command"]})
    yield {**BASE, "kind": "credential", "event_id": f"k{n}", "action": "issued", "credential_id": text}
    yield {**BASE, "kind": "credential", "event_id": f"k{n}", "action": "used", "scopes": [text]}
    yield {**BASE, "kind": "session", "event_id": f"s{n}", "action": "start", "task": text}


def _edge_records() -> list[dict[str, Any]]:
    """Records at each condition of ``_needs_redaction_step``, and invalid ones (same errors both ways)."""
    deep: Any = "x"
    for _ in range(70):
        deep = {"a": deep}
    return [
        _call(1, result_summary="ok " * 2000),  # cut to MAX_TEXT
        _call(2, tool_declaration={"description": "reads files. " * 200}),  # cut to MAX_DESCRIPTION
        _call(3, arguments=deep),  # too deep: a dead letter
        {
            **BASE,
            "session_id": "",
            "kind": "credential",
            "event_id": "k",
            "action": "issued",
            "credential_id": "cred-123",
        },  # a session id built from the credential id (and then redacted)
        _call(4, environment="moon"),  # invalid enum
        _call(5, duration_ms=-1),
        _call(6, unknown_field="ghp_" + "a1B2" * 9),  # extra field holding a secret
        {**BASE, "kind": "tool_call", "event_id": "c7"},  # tool and action missing
        _call(8, event_time="yesterday"),
    ]


def corpus_records() -> list[dict[str, Any]]:
    records = [record for n, text in enumerate(TEXTS) for record in _placements(n, text)]
    records += [
        _call(9000 + n, arguments=value) for n, (_, value, _) in enumerate(test_redaction_breadth.STRUCTURED)
    ]
    records.append(_call(9100, arguments={"named": dict(test_redaction.NAMED)}))
    return records + native_records(secret_corpus(seed=9)) + _edge_records()


@cache
def simulator_lines() -> tuple[bytes, ...]:
    return tuple(event_to_json(event) for event in simulate_events(seed=14, sessions=60))


def lines_of(record: dict[str, Any]) -> list[bytes]:
    """The record as orjson writes it, with spaces after separators, and with non-ASCII escaped."""
    return [
        orjson.dumps(record),
        json.dumps(record, separators=(", ", ": ")).encode(),
        json.dumps(record, ensure_ascii=True).encode(),
    ]


def corpus_lines() -> list[bytes]:
    return [line for record in corpus_records() for line in lines_of(record)] + list(simulator_lines())


def changed_by_redaction(value: dict[str, Any]) -> bool:
    """Whether redaction changes any string of the record (each as the model redacts a field) or any value
    (as it redacts the arguments)."""
    return redact_value(value) != value or any(redact_text(text) != text for text in texts_of(value))


def cleared_wrongly(prefilter: Prefilter, lines: list[bytes]) -> list[bytes]:
    """Lines the prefilter clears although redaction would change the record they hold."""
    return [line for line in lines if not prefilter(line, True) and changed_by_redaction(orjson.loads(line))]


def outcome(build: Callable[[], AnyEvent]) -> tuple[str, Any]:
    """An event as the bytes the store keeps (and the model, for its types), or its error as a dead letter
    states it."""
    try:
        event = build()
    except ValidationError as exc:
        return "error", describe_validation_error(exc)
    return "event", (event_to_json(event), event)


def test_the_prefilter_never_clears_a_line_that_redaction_would_change() -> None:
    lines = corpus_lines()
    assert cleared_wrongly(lambda line, names: line_may_need_redaction(line, names=names), lines) == []
    # the corpus does hold secrets on lines without escapes: the prefilter judged those itself
    assert sum(b"\\" not in line and changed_by_redaction(orjson.loads(line)) for line in lines) > 300


def test_the_check_catches_a_prefilter_that_misses_one_shape() -> None:
    """The test above must fail on a prefilter blind to one secret shape (here GitHub tokens)."""

    def blind_to_github(line: bytes, names: bool) -> bool:
        return line_may_need_redaction(
            line.replace(b"ghp_", b"gh__").replace(b"github_pat_", b"gh__"), names=names
        )

    missed = cleared_wrongly(blind_to_github, corpus_lines())
    assert missed and all(b"ghp_" in line or b"github_pat_" in line for line in missed)


def test_every_secret_in_the_corpus_takes_the_full_path_and_comes_out_redacted() -> None:
    for secret in secret_corpus(seed=9):
        # (on one line; but a table's rows run together are no table: it keeps its line breaks)
        joined = "\n" if secret.kind == "password_column" else " "
        record = _call(1, arguments={"command": secret.context.replace("\n", joined)})
        line = orjson.dumps(record)
        assert _needs_redaction_step(record, line), secret
        dumped = event_to_json(event_from_line(orjson.loads(line), line)).decode()
        assert not any(needle in dumped for needle in secret.needles if "\n" not in needle), secret


def test_fast_and_full_paths_give_the_same_event_or_error() -> None:
    for line in corpus_lines():
        value = orjson.loads(line)
        fast = outcome(lambda: event_from_line(value, line))  # noqa: B023 - called at once
        full = outcome(lambda: event_from_dict(value))  # noqa: B023
        assert fast[0] == full[0] and fast[1][0] == full[1][0], line[:200]
        if fast[0] == "event":
            assert fast[1][1] == full[1][1]


def test_json_lines_parse_as_the_same_records_in_a_document() -> None:
    """Through the adapter: JSON lines (the fast path) and a JSON array of the same records (never the
    fast path) give the same events and the same dead letters, record by record."""
    records = corpus_records()
    lines = b"\n".join(orjson.dumps(record) for record in records)
    as_lines = list(parse_bytes(lines, "corpus", "native"))
    as_document = list(parse_bytes(orjson.dumps(records), "corpus", "native"))
    assert len(as_lines) == len(as_document) == len(records)
    for fast, full in zip(as_lines, as_document, strict=True):
        assert type(fast) is type(full)
        if isinstance(fast, tuple(AnyEvent.__args__)):  # type: ignore[attr-defined]
            assert event_to_json(fast) == event_to_json(full)  # type: ignore[arg-type]
        else:
            assert fast == full


def test_the_simulators_traffic_mostly_takes_the_fast_path() -> None:
    lines = simulator_lines()
    cleared = [line for line in lines if not _needs_redaction_step(orjson.loads(line), line)]
    assert len(cleared) > 0.8 * len(lines)
    for line in lines[:3000]:
        value = orjson.loads(line)
        assert event_to_json(event_from_line(value, line)) == event_to_json(event_from_dict(value))


def test_the_step_is_kept_where_it_cuts_refuses_or_builds_a_text() -> None:
    for record in _edge_records()[:4]:
        line = orjson.dumps(record)
        assert _needs_redaction_step(record, line), record.get("event_id")
    assert len(orjson.dumps(_edge_records()[0])) > MAX_TEXT
    assert len(orjson.dumps(_edge_records()[1])) > MAX_DESCRIPTION


_PIECES = [*TEXTS[:200], "password", "token", "auth", "=", ":", '"', "\\", " ", "\n", "é", "ghp_", "AKIA"]
_FIELDS = ("task", "result_summary", "target", "tool", "action", "principal", "decision_reason")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    pieces=st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=40)), min_size=1, max_size=6),
    field=st.sampled_from((*_FIELDS, "argument value", "argument key", "pair name", "pair value")),
)
def test_fast_and_full_paths_agree_on_any_text(pieces: list[str], field: str) -> None:
    text = "".join(pieces)
    placed: dict[str, Any] = {
        "argument value": {"arguments": {"q": text}},
        "argument key": {"arguments": {text: 1}},
        "pair name": {"arguments": {"env": [{"name": text, "value": "s3cr3t-v4lue"}]}},
        "pair value": {"arguments": {"env": [{"name": "API_TOKEN", "value": text}]}},
    }.get(field, {field: text})
    record = _call(1, **placed)
    line = orjson.dumps(record)
    if not line_may_need_redaction(line, names=True):
        assert not changed_by_redaction(record)
    value = orjson.loads(line)
    fast, full = outcome(lambda: event_from_line(value, line)), outcome(lambda: event_from_dict(value))
    assert fast[0] == full[0] and fast[1][0] == full[1][0]


@pytest.mark.parametrize("escaped", ["\\u0067hp_", "g\\u0068p_", "\\u0041KIA"])
def test_an_escaped_character_never_hides_a_secret(escaped: str) -> None:
    secret = escaped + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7"
    line = (
        '{"schema_version":1,"event_id":"e","event_time":"2026-01-01T00:00:00Z","source":"x",'
        '"session_id":"s","kind":"tool_call","tool":"t","action":"a","arguments":{"c":"' + secret + '"}}'
    ).encode()
    assert line_may_need_redaction(line, names=True)
    value = orjson.loads(line)
    assert event_from_line(value, line) == event_from_dict(value)
