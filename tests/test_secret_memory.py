"""A secret found by its place (under a secret-named key, after a label) is redacted wherever it turns up
again in the same session: in a later result, a message, a task (schemas/secret_memory.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from schemas.events import ToolCall, event_from_line
from schemas.redaction import line_may_need_redaction, markers, redact_text, redact_value
from schemas.secret_memory import KNOWN_SECRETS, SecretMemory, memorable

_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\]")


def call(session: str = "s", **fields: Any) -> dict[str, Any]:
    base = {"event_id": "e1", "event_time": "2026-01-01T00:00:00Z", "source": "native", "session_id": session}
    return {**base, "kind": "tool_call", "tool": "bash", "action": "run", **fields}


def test_what_is_worth_remembering() -> None:
    assert memorable("Tr0ub4dor&3x") and memorable("Kd83mqPz2x")
    # a word a text may hold by chance; code a header held; too short; digits alone
    for value in ("postgres", "os.environ[", "Ab3defg", "12345678901", "correct horse battery"):
        assert not memorable(value), value


def test_a_password_under_its_key_is_redacted_in_later_free_text_with_the_same_fingerprint() -> None:
    with KNOWN_SECRETS.session("s1"):
        first = redact_value({"db": {"password": "Tr0ub4dor&3x"}})
        later = redact_text("connected as app with Tr0ub4dor&3x; psql -U postgres works")
    assert "Tr0ub4dor&3x" not in later and "psql -U postgres" in later
    assert markers(later) == markers(json.dumps(first))


def test_a_labelled_password_is_redacted_where_it_stands_alone() -> None:
    with KNOWN_SECRETS.session("s1"):
        labelled = redact_text("export SMTP_PASS=abcd1234x")  # a ``_PASS`` label
        alone = redact_text("the relay accepted abcd1234x")
    assert "abcd1234x" not in labelled
    assert alone == "the relay accepted " + labelled.split("=", 1)[1]


def test_each_session_keeps_its_own_and_nothing_outside_a_session_is_remembered() -> None:
    with KNOWN_SECRETS.session("s1"):
        redact_value({"password": "Kd83mqPz2x"})
    with KNOWN_SECRETS.session("s2"):
        assert redact_text("log in with Kd83mqPz2x") == "log in with Kd83mqPz2x"
    assert redact_text("log in with Kd83mqPz2x") == "log in with Kd83mqPz2x"
    redact_value({"password": "Zz99yyXXw"})  # no session: nothing kept
    with KNOWN_SECRETS.session("s1"):
        assert "Kd83mqPz2x" not in redact_text("log in with Kd83mqPz2x")
        assert "Zz99yyXXw" in redact_text("and Zz99yyXXw")


def test_within_one_event_the_arguments_teach_the_result() -> None:
    event = ToolCall.model_validate(
        call(
            arguments={"cmd": "mysql", "password": "Zq7#longpass"},
            result_summary="connected with Zq7#longpass",
        )
    )
    assert "Zq7#longpass" not in event.model_dump_json()
    assert markers(event.result_summary or "") == markers(event.arguments["password"])


def test_a_later_event_of_the_session_read_as_bytes_is_not_waved_through() -> None:
    ToolCall.model_validate(call(session="s7", arguments={"password": "Kd83mqPz2x"}))
    record = call(session="s7", result_summary="log in with Kd83mqPz2x")
    line = json.dumps(record).encode()
    with KNOWN_SECRETS.session("s7"):
        assert line_may_need_redaction(line, names=False)
    event = event_from_line(record, line)
    assert isinstance(event, ToolCall) and "Kd83mqPz2x" not in event.model_dump_json()
    other = call(session="s8", result_summary="log in with Kd83mqPz2x")  # another session's text stays
    assert "Kd83mqPz2x" in event_from_line(other, json.dumps(other).encode()).model_dump_json()


def test_markers_already_in_a_text_are_left_whole() -> None:
    with KNOWN_SECRETS.session("s1"):
        redact_value({"token": "a1b2c3d4"})
        text = redact_text("[REDACTED:named_secret:00a1b2c3d4ff] and a1b2c3d4")
    assert text.startswith("[REDACTED:named_secret:00a1b2c3d4ff] and [REDACTED:named_secret:")


def test_the_memory_is_bounded_per_session_and_in_sessions() -> None:
    memory = SecretMemory(sessions=2, per_session=2)
    with memory.session("a"):
        for value in ("first111x", "second22x", "third333x"):
            memory.remember(value, "named_secret")
        text = memory.replace("first111x second22x third333x", lambda kind, v: f"<{kind}>", _MARKER)
    assert text == "first111x <named_secret> <named_secret>"
    for other in ("b", "c"):  # two newer sessions push the oldest out
        with memory.session(other):
            memory.remember(f"{other}-secret-1", "named_secret")
    with memory.session("a"):
        assert not memory.active()
    with memory.session("c"):
        assert memory.found_in("x c-secret-1 y") and not memory.found_in("x b-secret-1 y")


def test_a_token_word_does_not_reach_across_a_line_to_a_path() -> None:
    text = "config/stripe.yml:4 stripe-access-token\ntests/fixtures/jwt.txt:1 jwt"
    with KNOWN_SECRETS.session("s1"):
        assert redact_text(text) == text
        assert not KNOWN_SECRETS.active()
