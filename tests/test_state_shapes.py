"""The compact shapes of detector slots and the key-relative times and ids (``detectors/state_form.py``):
every value comes back exactly (type, order, nesting), values of no known shape are written as they are, and
each shape is shorter than the plain JSON of what it encodes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from detectors import state_codec
from detectors.state_form import Form, front_coded, front_decoded, load_slot, save_slot

BASE = 1767606302.442
TIMED = [[BASE - 412.106, "sim-11-127-158", "DescribeInstances"],
         [BASE - 3.5, "sim-11-127-159", "ListBuckets"],
         [BASE - 1.25, "sim-11-127-160", "DescribeInstances"]]  # fmt: skip
SLOTS: dict[str, dict[str, Any]] = {
    "threshold": {"window": TIMED},
    "reads": {"reads": [[BASE - 9.0, "e-9", "customer data", "crm:customers/a", None, "prod", {"k": [1]}],
                        [BASE - 2.0, "e-12", "customer data", "crm:customers/b", None, "prod", {"k": [1]}]]},
    "runaway": {"calls": {"sigA": [], "sigB": [[BASE - 2.001, "sim-11-127-1"], [BASE, "sim-11-127-2"]]}},
    "sequence": {
        "partials": [
            {"s": 1, "ids": ["sim-11-127-199"], "c": {"denied.tool": "git"}, "t0": BASE - 50.0,
             "t1": BASE - 50.0, "dl": None},
            {"s": 2, "ids": ["x-1", "uuid-7f3a"], "c": {}, "t0": BASE - 5.0, "t1": BASE, "dl": BASE + 600.0},
        ],
        "evicted": 0,
        "repeats_dropped": 1,
        "recent": [[BASE - 0.5, {"event_id": "sim-11-127-210", "action": "push", "arguments": {"a": None}}],
                   [BASE, {"event_id": "sim-11-127-211", "action": "push", "arguments": {}}]],
    },
    "created": {"created": {"arn:aws:s3:::b/logs/2025/12/24.gz": BASE - 80.0,
                            "arn:aws:s3:::b/logs/2025/12/25.gz": BASE}},
    "held": {"held": {"agent-1": ["cred-1", "cred-9"]}, "refused": {"git": ["blocked by policy", "main"]}},
    "known": {  # strings the context holds, by place; lists that could pass for a place stay themselves
        "window": [[BASE - 1.0, "e-1", "crm:customers/a", [0], ["x"]], [BASE, "e-2", "cred-1", [], None]],
        "partials": [{"s": 1, "ids": ["e-1"], "c": {"d.target": "crm:customers/a", "d.list": [1], "d.n": 1},
                      "t0": BASE, "t1": BASE, "dl": None}],
        "recent": [[BASE, {"event_id": "e-3", "credential_id": "cred-1", "arguments": [[2]]}]],
    },
    "other": {"count": 3, "page": None, "odd~T": [1, 2], "n~": "raw", "mixed": {"a": ["x"], "b": "y"}},
    "near_misses": {  # a shape's look-alikes that it must leave alone
        "window": [[1, "e-1"]],  # an int time
        "calls": {"s": [[BASE, 7]]},  # an id that is no string
        "partials": [{"s": 1, "ids": ["a"], "c": {}, "t0": BASE, "t1": BASE}],  # a field missing
        "recent": [[BASE, {"a": 1}], [BASE, {"b": 1}]],  # different fields
    },
}  # fmt: skip


KNOWN = ["crm:customers/a", "cred-1", "agent-1"]  # what the key's context holds: targets, credentials, agent


def round_trip(state: dict[str, Any], form: Form) -> tuple[dict[str, Any], dict[str, Any]]:
    """Saved, stored as bytes (version 4, as a table holds it), read back."""
    saved = state_codec.decode(state_codec.encode(save_slot(state, form)))
    return saved, load_slot(saved, Form(form.base, form.id_prefix, form.known))


@pytest.mark.parametrize("name", sorted(SLOTS))
def test_every_slot_comes_back_exactly(name: str) -> None:
    state = SLOTS[name]
    saved, restored = round_trip(state, Form(BASE, known=KNOWN))
    assert restored == state
    assert orjson.dumps(restored) == orjson.dumps(state)  # types and orders too (1.0 stays 1.0)
    if name != "near_misses" and name != "other":
        assert len(orjson.dumps(saved)) < len(orjson.dumps(state))
        assert all("~" in key for key in saved if key not in ("evicted", "repeats_dropped"))


def test_look_alikes_and_marked_names_are_written_as_they_are() -> None:
    saved, _ = round_trip(SLOTS["near_misses"], Form(BASE))
    assert saved == {k: v for k, v in SLOTS["near_misses"].items()}
    saved, _ = round_trip(SLOTS["other"], Form(BASE))
    assert saved["odd~T~"] == [1, 2] and saved["n~~"] == "raw"


def test_strings_the_context_holds_are_written_by_place() -> None:
    saved, _ = round_trip(SLOTS["known"], Form(BASE, known=KNOWN))
    assert saved["window~T"][1] == [[0], [[0]], [["x"]], [1], [[]], None]
    assert saved["partials~P"][0][2] == {"d.target": [0], "d.list": [[1]], "d.n": 1}
    assert saved["recent~R"][1][1:] == [3, [1], [[[2]]]]
    saved, _ = round_trip(SLOTS["held"], Form(BASE, known=KNOWN))
    assert saved["held~H"] == [[2], [[1], "cred-9"]]


def test_entries_read_back_share_no_value() -> None:
    state = {"reads": [[BASE, "e-1", {"k": 1}], [BASE, "e-2", {"k": 1}]]}
    _, restored = round_trip(state, Form(BASE))
    restored["reads"][0][2]["k"] = 2
    assert restored["reads"][1][2] == {"k": 1}


def test_times_are_offsets_when_exact_and_themselves_otherwise() -> None:
    form = Form(BASE)
    assert form.time(BASE - 412.106) == -412.106 and form.untime(-412.106) == BASE - 412.106
    odd = BASE - 1e-9  # no short offset gives it back exactly
    assert form.untime(orjson.loads(orjson.dumps(form.time(odd)))) == odd
    assert Form(None).time(5.0) == 5.0 and Form(None).untime(5.0) == 5.0


def test_event_ids_are_numbers_after_the_first_ids_prefix_and_strings_otherwise() -> None:
    form = Form(BASE)
    assert [form.event_id(i) for i in ("sim-11-127-158", "sim-11-127-0", "sim-11-127-007", "evt-abc")] == [
        158,
        0,
        "sim-11-127-007",
        "evt-abc",
    ]
    assert form.id_prefix == "sim-11-127-"
    assert [form.un_event_id(s) for s in (158, 0, "sim-11-127-007")] == ["sim-11-127-158", "sim-11-127-0",
                                                                        "sim-11-127-007"]  # fmt: skip
    first = Form(BASE)
    assert first.event_id("abc007") == 7 and first.un_event_id(7) == "abc007"  # the prefix keeps the zeros
    assert first.event_id("abc7") == "abc7"  # another prefix


def test_front_coding_gives_back_every_list_in_order() -> None:
    for strings in ([], ["a"], ["repo:x/src/a.ts", "repo:x/src/b.ts", "repo:x/", "", "a|b", "12|c", "2,1|x"]):
        assert front_decoded(orjson.loads(orjson.dumps(front_coded(strings)))) == strings
    # the previous string's beginning, or that of one a few places back when it shares more
    assert front_coded(["repo:x/src/a.ts", "repo:x/src/b.ts", "crm:o/1", "repo:x/src/c.ts"]) == [
        "|repo:x/src/a.ts",
        "11|b.ts",
        "|crm:o/1",
        "2,11|c.ts",
    ]
