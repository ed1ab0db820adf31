"""The one interpreter of the step language (``steps.py``): ``run`` plays a scenario's steps.

Each kind of step has one small player below, chosen by the step's type; a player returns the number of
tool calls it made, which is what ``WorkFor`` counts. The players draw random numbers only where the
step language says they do (see ``steps.py``), so the same steps and seed give the same session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams.simulator.builder import SessionBuilder
from streams.simulator.steps import (
    Agent,
    Call,
    End,
    ForEach,
    If,
    Issue,
    Let,
    OneOf,
    PermissionMode,
    Repeat,
    Roll,
    Start,
    Step,
    Steps,
    Switch,
    Vars,
    Wait,
    WorkFor,
    evaluator,
    resolve,
)


def _value(value: Any, s: SessionBuilder, v: Vars) -> Any:
    return evaluator(value)(s, v)


def run(steps: Steps, s: SessionBuilder, v: Vars) -> int:
    """Play ``steps`` in order; returns the number of tool calls they made."""
    made = 0
    for step in steps:
        made += play(step, s, v)
    return made


def play(step: Step, s: SessionBuilder, v: Vars) -> int:
    """Play one step; returns the number of tool calls it made."""
    player = _PLAYERS.get(type(step))
    if player is None:
        raise TypeError(f"not a simulator step: {step!r}")
    return player(step, s, v)


def _call(step: Call, s: SessionBuilder, v: Vars) -> int:
    constants, computed = step.compiled
    fields = dict(constants)
    for name, get in computed:
        fields[name] = get(v)
    event_id = s.call(action=step.action, **fields)
    if step.mark:
        s.mark(event_id)
    return 1


def _let(step: Let, s: SessionBuilder, v: Vars) -> int:
    if type(step.name) is str:
        v[step.name] = step.evaluate(s, v)
    else:
        v.update(zip(step.name, step.evaluate(s, v), strict=True))
    return 0


def _repeat(step: Repeat, s: SessionBuilder, v: Vars) -> int:
    return sum(run(step.steps, s, v) for _ in range(_value(step.times, s, v)))


def _for_each(step: ForEach, s: SessionBuilder, v: Vars) -> int:
    made = 0
    for item in _value(step.items, s, v):
        v[step.name] = item
        made += run(step.steps, s, v)
    return made


def _work_for(step: WorkFor, s: SessionBuilder, v: Vars) -> int:
    budget, made = _value(step.budget, s, v), run(step.first, s, v)
    while made < budget:
        made += run(step.steps, s, v)
    return made


def _roll(step: Roll, s: SessionBuilder, v: Vars) -> int:
    r = s.rng.random()
    for bound, steps in step.branches:
        if r < bound:
            return run(steps, s, v)
    return run(step.otherwise, s, v)


def _one_of(step: OneOf, s: SessionBuilder, v: Vars) -> int:
    return run(step.branches[s.rng.randrange(len(step.branches))], s, v)


def _if(step: If, s: SessionBuilder, v: Vars) -> int:
    return run(step.then if step.test(v) else step.otherwise, s, v)


def _switch(step: Switch, s: SessionBuilder, v: Vars) -> int:
    return run(step.cases.get(v[step.name], ()), s, v)


def _agent(step: Agent, s: SessionBuilder, v: Vars) -> int:
    s.agent_id = f"{step.name}-{s.rng.randint(1, v['pool'])}"
    s.principal = step.principals[s.rng.randrange(len(step.principals))]
    return 0


def _start(step: Start, s: SessionBuilder, v: Vars) -> int:
    s.start(resolve(step.task, v), resolve(step.scope, v))
    return 0


def _issue(step: Issue, s: SessionBuilder, v: Vars) -> int:
    ttl_s = _value(step.ttl_s, s, v)
    v["cred"] = s.credential_id(step.prefix)
    event_id = s.issue(
        v["cred"],
        scopes=resolve(step.scopes, v),
        ttl_s=ttl_s,
        issuer=step.issuer,
        inherited_from_human=step.inherited_from_human,
        refreshable=step.refreshable,
    )
    if step.mark:
        s.mark(event_id)
    return 0


def _wait(step: Wait, s: SessionBuilder, v: Vars) -> int:
    s.wait(step.low, step.high)
    return 0


def _permission_mode(step: PermissionMode, s: SessionBuilder, v: Vars) -> int:
    s.permission_mode(step.mode)
    return 0


def _end(step: End, s: SessionBuilder, v: Vars) -> int:
    cred = v["cred"]
    expire = False
    if step.credential == "revoke_or_expire":  # the STS session may time out shortly after the task
        remaining_ms = s.credentials[cred].expires_ms - s.clock_ms
        expire = s.rng.random() >= 0.7 and remaining_ms <= 14 * 60_000
    if step.credential != "keep" and not expire:
        s.revoke(cred)
    event_id = s.end()
    if expire:
        s.expire(cred)
    if step.mark:
        s.mark(event_id)
    return 0


_PLAYERS: dict[type[Any], Callable[[Any, SessionBuilder, Vars], int]] = {
    Call: _call,
    Let: _let,
    Repeat: _repeat,
    ForEach: _for_each,
    WorkFor: _work_for,
    Roll: _roll,
    OneOf: _one_of,
    If: _if,
    Switch: _switch,
    Agent: _agent,
    Start: _start,
    Issue: _issue,
    Wait: _wait,
    PermissionMode: _permission_mode,
    End: _end,
}
