"""Review of session 19: the session's secret memory (schemas/secret_memory.py) where it still let a
remembered secret through, and the new readers' false alarms."""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

import orjson

from schemas.adapters import DeadLetter, native
from schemas.events import ToolCall, event_from_dict
from schemas.secret_memory import SecretMemory

_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\]")
SECRET = "Hunter2Secret9x"


def call(n: int = 1, session: str = "s1", **fields: Any) -> dict[str, Any]:
    base = {"event_id": f"e{n}", "event_time": "2026-01-01T00:00:00Z", "source": "native"}
    return {**base, "session_id": session, "kind": "tool_call", "tool": "bash", "action": "run", **fields}


def test_an_argument_read_before_the_password_key_is_redacted_too() -> None:
    event = event_from_dict(call(arguments={"note": f"login {SECRET}", "password": SECRET}))
    assert SECRET not in json.dumps(event.model_dump(mode="json"))


def test_arguments_echoing_a_password_labelled_in_the_task_are_redacted() -> None:
    event = event_from_dict(call(task=f"connect with DB_PASSWORD={SECRET}", arguments={"note": SECRET}))
    assert SECRET not in json.dumps(event.model_dump(mode="json"))


def test_a_declared_description_echoing_a_remembered_secret_is_redacted() -> None:
    event_from_dict(call(1, arguments={"password": SECRET}))
    event = event_from_dict(call(2, tool_declaration={"description": f"logs in with {SECRET}"}))
    assert isinstance(event, ToolCall) and event.tool_declaration is not None
    assert SECRET not in (event.tool_declaration.description or "")


def test_a_remembered_secret_is_redacted_where_a_json_text_escapes_it() -> None:
    for n, secret in enumerate(('Tr0ub4dor"x&3', "Pässwört2024x", "back\\slash99")):
        event_from_dict(call(2 * n, arguments={"password": secret}))
        for ascii_only in (True, False):
            summary = json.dumps({"msg": "using " + secret}, ensure_ascii=ascii_only)
            event = event_from_dict(call(2 * n + 1, result_summary=summary))
            assert isinstance(event, ToolCall) and event.result_summary is not None
            assert _MARKER.search(event.result_summary), (secret, event.result_summary)
            json.loads(event.result_summary)  # the marker keeps the JSON text whole


def test_a_dead_letter_of_the_session_does_not_keep_its_remembered_secret() -> None:
    lines = [orjson.dumps(call(1, arguments={"password": SECRET}))]
    lines.append(orjson.dumps(call(2, outcome="bogus", result_summary=f"ok {SECRET}")))
    parsed = list(native.parse(b"\n".join(lines) + b"\n", "t"))
    letters = [p for p in parsed if isinstance(p, DeadLetter)]
    assert len(letters) == 1 and SECRET not in letters[0].raw and _MARKER.search(letters[0].raw)


def test_a_dead_letter_without_a_session_takes_the_last_session_read() -> None:
    event_from_dict(call(1, arguments={"password": SECRET}))
    letter = DeadLetter("t", 2, "parse", "bad", f"[broken {SECRET}")
    assert SECRET not in letter.raw


def test_threads_remembering_in_one_session_do_not_break_each_others_reads() -> None:
    memory, errors = SecretMemory(), []
    text = "x" * 2000

    def work(n: int) -> None:
        try:
            for i in range(3000):
                with memory.session("s"):
                    memory.remember(f"Secret{n}x{i:06d}", "k")
                    memory.found_in(text)
                    memory.replace(text + f"Secret{n}x{i:06d}", lambda kind, v: "[R]", _MARKER)
        except Exception as exc:  # (what the test looks for)
            errors.append(repr(exc))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_sessions_without_a_secret_do_not_push_out_one_with_a_secret() -> None:
    memory = SecretMemory(sessions=2)
    with memory.session("a"):
        memory.remember("first111x", "named_secret")
    for other in range(10):  # many sessions that taught nothing
        with memory.session(f"quiet{other}"):
            assert not memory.found_in("first111x")
    with memory.session("a"):
        assert memory.found_in("echo first111x")
