"""The simulator's step language and its interpreter: what a scenario written as data turns into."""

from __future__ import annotations

import random
from typing import Any

import pytest

from schemas.types import CredentialAction, Environment, SessionAction
from streams.simulator.agents import CLOUD_CLOSE, CLOUD_READ, aws, cloud_open
from streams.simulator.builder import SessionBuilder
from streams.simulator.interpreter import play, run
from streams.simulator.scenarios import attack
from streams.simulator.steps import (
    Call,
    Chance,
    Derive,
    End,
    Fill,
    Issue,
    Let,
    Pick,
    RandInt,
    Ref,
    Repeat,
    Steps,
    Wait,
    WorkFor,
)


def _session(n: int = 0) -> SessionBuilder:
    return SessionBuilder(seed=1, n=n, rng=random.Random(f"steps-test:{n}"))


def _tool_calls(s: SessionBuilder) -> list[dict[str, Any]]:
    return [fields for _, kind, _, fields in s.drafts if kind == "tool_call"]


def _credential_actions(s: SessionBuilder) -> list[str]:
    return [str(fields["action"]) for _, kind, _, fields in s.drafts if kind != "tool_call"]


def test_strings_are_templates_refs_keep_types_and_marks_are_recorded() -> None:
    s, v = _session(), {"pool": 3}
    steps: Steps = (
        Let("env", Environment.PROD),
        Let("svc", "checkout"),
        Let("size", 7),
        Call(
            "aws",
            "UpdateAutoScalingGroup",
            "arn:aws:autoscaling:::{svc}",
            {
                "name": "{svc}",
                "desired": Ref("size"),
                "max": Derive(lambda v: v["size"] + 4),
                "tags": ["{svc}"],
            },
            result="{svc:.3} resized",
            mark=True,
        ),
    )
    assert run(steps, s, v) == 1
    (call,) = _tool_calls(s)
    assert call["target"] == "arn:aws:autoscaling:::checkout"
    assert call["arguments"] == {"name": "checkout", "desired": 7, "max": 11, "tags": ["checkout"]}
    assert call["environment"] is Environment.PROD  # an enum stays an enum: it is not a template
    assert call["result_summary"] == "che resized"
    assert s.steps == [s.drafts[0][2]]


def test_picked_templates_are_filled_where_used_with_fill() -> None:
    s, v = _session(), {"env": Environment.DEV}
    steps: Steps = (
        Let("name", "Jana"),
        Let("text", Pick(("Hi, I am {name}",))),
        Call("read_email", "read", result=Fill("{text}")),
        Call("read_email", "read", result="{text}"),
    )
    run(steps, s, v)
    assert [c["result_summary"] for c in _tool_calls(s)] == ["Hi, I am Jana", "Hi, I am {name}"]


def test_the_same_steps_and_seed_give_the_same_session_and_draws_follow_the_written_order() -> None:
    steps: Steps = (
        Let("env", Environment.DEV),
        Repeat(RandInt(2, 5), (Let("n", RandInt(1, 9)), Call("bash", "exec", result="{n}"))),
    )
    first, second = _session(), _session()
    run(steps, first, {})
    run(steps, second, {})
    assert first.drafts == second.drafts

    rng = random.Random("steps-test:0")  # the same numbers, drawn by hand in the order the steps are written
    rounds = rng.randint(2, 5)
    expected = []
    for _ in range(rounds):
        expected.append(str(rng.randint(1, 9)))
        rng.uniform(80.0, 900.0), rng.uniform(1.0, 8.0)  # the call's duration and think time
    assert [c["result_summary"] for c in _tool_calls(first)] == expected


def test_work_for_counts_every_call_of_a_round_and_the_first_steps() -> None:
    one = Call("bash", "exec", env=Environment.DEV)
    s = _session()
    made = run((WorkFor(5, steps=(one, one), first=(one,)),), s, {})
    assert made == len(_tool_calls(s)) == 5  # 1 first, then rounds of 2 until 5 are reached
    s = _session()
    assert run((WorkFor(2, steps=(one,), first=(one, one, one)),), s, {}) == 3  # no round: budget reached


def _cloud_session(n: int, work_s: float) -> SessionBuilder:
    s = _session(n)
    v: dict[str, Any] = {"pool": 3, "env": Environment.PROD}
    run((Issue("ASIA", (), ttl_s=900.0, issuer="aws-sts"), Wait(work_s, work_s), CLOUD_CLOSE), s, v)
    return s


def test_cloud_agents_revoke_or_let_a_credential_expire_only_when_it_runs_out_soon() -> None:
    # Issued for 15 minutes, never refreshed (no tool call): at the end it runs out within 14 minutes.
    near_expiry = {tuple(_credential_actions(_cloud_session(n, 120.0))) for n in range(40)}
    assert near_expiry == {("issued", "revoked", "end"), ("issued", "end", "expired")}
    fresh = _session()
    run((Issue("ASIA", (), ttl_s=3600.0, issuer="aws-sts"), CLOUD_CLOSE), fresh, {"pool": 3})
    assert _credential_actions(fresh) == ["issued", "revoked", "end"]  # an hour left: always revoked


def test_end_keep_leaves_the_credential_valid_and_can_be_a_key_event() -> None:
    s = _session()
    run((Issue("ASIA", (), ttl_s=900.0, issuer="aws-sts"), End("keep", mark=True)), s, {})
    assert _credential_actions(s) == ["issued", "end"]
    assert s.steps == [s.drafts[-1][2]] and s.drafts[-1][3]["action"] is SessionAction.END


def test_a_new_attack_is_a_few_lines_of_steps() -> None:
    snapshot_wipe = attack(
        "snapshot_wipe",
        "the agent deletes every snapshot of its service in prod",
        *cloud_open("clean up old {svc} snapshots in prod"),
        Repeat(2, CLOUD_READ),
        Chance(1.0, (aws("DeleteSnapshot", "arn:aws:ec2:::snapshot/*", mark=True),)),
        CLOUD_CLOSE,
    )
    s = _session()
    snapshot_wipe.build(s, pool=3)
    calls = _tool_calls(s)
    assert calls[-1]["action"] == "DeleteSnapshot" and calls[-1]["credential_id"].startswith("ASIA")
    assert s.steps == [event_id for _, kind, event_id, f in s.drafts if f.get("action") == "DeleteSnapshot"]
    start = s.drafts[0][3]
    assert start["action"] is SessionAction.START and start["task"].startswith("clean up old ")
    assert "{" not in start["task"] and s.end_ms is not None
    assert str(CredentialAction.ISSUED) in _credential_actions(s)


def test_a_value_that_is_not_a_step_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="not a simulator step: 'oops'"):
        play("oops", _session(), {})  # type: ignore[arg-type]
