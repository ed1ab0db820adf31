"""A seeded, deterministic simulator of AI-agent sessions: the demo's, the tests' and the benchmarks' traffic.

Three kinds of agent do benign work (a coding agent in a repository, a cloud-ops agent calling AWS, a
customer-service agent working through an inbox), with the noise real traffic has: denied calls, errors and
retries, read-heavy and write-heavy sessions, short and long ones, credential refreshes. A few sessions per
run are attacks (``is_attack=True``): each a full session whose chain a SOC analyst would want alerted, with
its key events listed in ``attack_steps``.

Field conventions the detectors rely on (keep them when adding scenarios):

- AWS calls: ``tool="aws"``, ``action`` the AWS API name (``CreateUser``), ``target`` an ARN, ``arguments``
  CloudTrail-style ``requestParameters`` (``userName``, ``policyArn``, ``secretId``, ``snapshotId``).
- Shell: ``tool="bash"``, ``action="exec"``, ``arguments={"command": ...}``.
- Money: ``transfer_funds`` / ``send_payment`` carry the payee in an argument named ``iban``.
- ``untrusted_content=True`` only on results that carry outside content (e-mails, web pages).
- A session's task and scope are on its ``SessionEvent`` start; ``task_scope`` holds resource globs
  (``repo:github.com/acme/billing/*``, ``arn:aws:s3:::acme-logs/*``) and the allowed tools as ``tool:<name>``.
- Credentials: ``CredentialEvent`` issued at the start (``subject`` the agent, ``on_behalf_of`` the
  principal), used through ``ToolCall.credential_id``, refreshed before expiry in long sessions, revoked (or
  expired) at the end.

Determinism: everything comes from ``random.Random`` instances seeded by strings derived from ``seed`` and
the session number; times count from ``start`` (never the wall clock); ids are ``sim-<seed>-<n>-<step>``.
Same arguments, byte-identical output.

Scenarios are data: ``scenarios.py`` holds the catalog and the attacks, ``agents.py`` the benign agents,
both written in the step language of ``steps.py`` and played by ``interpreter.py``.
"""

from __future__ import annotations

import gc
import os
import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, TypedDict, Unpack

import orjson

from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall, event_to_json
from streams.simulator.builder import SessionBuilder
from streams.simulator.scenarios import ATTACK_SCENARIOS, BENIGN_SCENARIOS, SCENARIOS, Scenario
from streams.simulator.vocabulary import CUSTOMER_MAILS, DOC_PAGES

__all__ = [
    "ATTACK_SCENARIOS",
    "BENIGN_SCENARIOS",
    "CUSTOMER_MAILS",
    "DEFAULT_START",
    "DOC_PAGES",
    "SCENARIOS",
    "Scenario",
    "SessionBuilder",
    "SimulatedSession",
    "labels",
    "simulate",
    "simulate_events",
    "write_jsonl",
]

SOURCE = "simulator"
DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SimulatedSession:
    """One simulated session: its label, whether it is an attack, its events in time order."""

    session_id: str
    scenario: str
    is_attack: bool
    events: list[AnyEvent]
    attack_steps: tuple[str, ...] = ()
    """Event ids of the attack's key events (empty for benign sessions)."""


# --------------------------------------------------------------------------------------------------------
# Placement and materialization
# --------------------------------------------------------------------------------------------------------

# Mean gap between session starts when no concurrency is asked for: 60 sessions spread over ~40 minutes.
_MEAN_GAP_S = 40.0


def _plan(seed: int, sessions: int, attack_ratio: float) -> list[str]:
    """Which scenario each session number runs: exactly round(sessions * attack_ratio) attacks.

    Attacks are dealt in catalog order (cycling), at seeded random positions: a run with k attacks has the
    first k attack scenarios, so the demo's default six always include the two flagship chains.
    """
    rng = random.Random(f"chainwatch-sim:{seed}:plan")
    attacks = min(sessions, int(sessions * attack_ratio + 0.5))
    benign = [SCENARIOS[name] for name in BENIGN_SCENARIOS]
    plan = [sc.name for sc in rng.choices(benign, weights=[sc.weight for sc in benign], k=sessions)]
    for i, n in enumerate(rng.sample(range(sessions), attacks)):
        plan[n] = ATTACK_SCENARIOS[i % len(ATTACK_SCENARIOS)]
    return plan


def _placements(seed: int, builders: Sequence[SessionBuilder], concurrency: int | None) -> list[int]:
    """Start offset (ms after ``start``) of each session.

    Without ``concurrency``: arrivals with exponential gaps (mean 40 s), so sessions overlap as in a
    working day. With it: sessions come in waves of ``concurrency``; every session of a wave is open at
    the wave's anchor instant (it starts a random fraction of its own length before it), so at least
    ``concurrency`` sessions are open at once; the next wave's anchor follows one mean session length
    later, so about that many stay open in between.
    """
    rng = random.Random(f"chainwatch-sim:{seed}:place")
    spans = [b.end_ms if b.end_ms is not None else b.clock_ms for b in builders]
    if concurrency is None:
        offsets, t = [], 0.0
        for _ in builders:
            offsets.append(int(t))
            t += rng.expovariate(1.0 / (_MEAN_GAP_S * 1000))
        return offsets
    offsets = [0] * len(builders)
    anchor = 0
    for first in range(0, len(builders), concurrency):
        wave = range(first, min(first + concurrency, len(builders)))
        lead = {n: int(rng.uniform(0.05, 0.95) * spans[n]) for n in wave}
        anchor = max(anchor, max(lead.values()))
        for n in wave:
            offsets[n] = anchor - lead[n]
        anchor += int(sum(spans[n] for n in wave) / len(wave))
    return offsets


class _Materializer:
    """Turns drafts into validated events.

    Each distinct tool-call payload (tool, action, target, arguments, result, …) is validated once and
    redacted once; events sharing it are copies stamped with their own id, time, session, agent,
    principal, credential, approver and duration — fields whose only constraint is a length the
    simulator keeps. About two events in three reuse a payload; a copy costs a quarter of a validation, so
    a 200k-event run is about 25% faster, with the same events as validating each one (the tests validate
    every event of a run from scratch to prove it).
    """

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.cache: dict[bytes, ToolCall] = {}

    def tool_call(self, base: dict[str, Any], fields: dict[str, Any]) -> ToolCall:
        stamp = {
            **base,
            "approved_by": fields["approved_by"],
            "credential_id": fields["credential_id"],
            "duration_ms": fields["duration_ms"],
        }
        payload = {k: v for k, v in fields.items() if k not in stamp}
        key = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        proto = self.cache.get(key)
        if proto is None:
            proto = self.cache[key] = ToolCall(**{**payload, **stamp})
            return proto
        return proto.model_copy(update=stamp)

    def session(self, b: SessionBuilder, offset_ms: int) -> list[AnyEvent]:
        events: list[AnyEvent] = []
        session_id = b.session_id
        for rel_ms, kind, event_id, fields in b.drafts:
            at = self.start + timedelta(milliseconds=offset_ms + rel_ms)
            base = {
                "event_id": event_id,
                "event_time": at,
                "source": SOURCE,
                "session_id": session_id,
                "agent_id": b.agent_id,
                "principal": b.principal,
            }
            if kind == "tool_call":
                events.append(self.tool_call(base, fields))
            elif kind == "credential":
                extra = dict(fields)
                expires_ms = extra.pop("_expires_ms", None)
                if expires_ms is not None:
                    extra["expires_at"] = self.start + timedelta(milliseconds=offset_ms + expires_ms)
                events.append(CredentialEvent(**base, **extra))
            else:
                events.append(SessionEvent(**base, **fields))
        return events


def simulate(
    *,
    seed: int = 7,
    sessions: int = 60,
    attack_ratio: float = 0.1,
    start: datetime = DEFAULT_START,
    concurrency: int | None = None,
) -> list[SimulatedSession]:
    """Simulate ``sessions`` agent sessions; the same arguments always give the same sessions.

    ``attack_ratio``: share of attack sessions (rounded half up); attack scenarios are dealt in catalog
    order, so any run with at least ``len(ATTACK_SCENARIOS)`` attacks has every one of them.
    ``concurrency``: at least this many sessions open at the same instant (see ``_placements``).
    """
    if sessions < 0:
        raise ValueError(f"sessions must be >= 0, got {sessions}")
    if not 0.0 <= attack_ratio <= 1.0:
        raise ValueError(f"attack_ratio must be within [0, 1], got {attack_ratio}")
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be >= 1 or None, got {concurrency}")
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    with _collector_paused():
        return _simulate(seed, sessions, attack_ratio, start, concurrency)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while hundreds of thousands of events are built.

    Each young-generation pass would walk every live event built so far: left on, the collector took more
    than half of a 200k-event run. Anything cyclic is collected once it resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _simulate(
    seed: int, sessions: int, attack_ratio: float, start: datetime, concurrency: int | None
) -> list[SimulatedSession]:
    plan = _plan(seed, sessions, attack_ratio)
    pool = max(3, sessions // 10)
    builders = []
    for n, name in enumerate(plan):
        builder = SessionBuilder(seed=seed, n=n, rng=random.Random(f"chainwatch-sim:{seed}:{n}:{name}"))
        SCENARIOS[name].build(builder, pool)
        builders.append(builder)
    offsets = _placements(seed, builders, concurrency)
    materializer = _Materializer(start)
    return [
        SimulatedSession(
            session_id=b.session_id,
            scenario=name,
            is_attack=SCENARIOS[name].is_attack,
            events=materializer.session(b, offset),
            attack_steps=tuple(b.steps),
        )
        for b, name, offset in zip(builders, plan, offsets, strict=True)
    ]


class RunOptions(TypedDict, total=False):
    """The keyword arguments of ``simulate``, which ``simulate_events`` takes too."""

    seed: int
    sessions: int
    attack_ratio: float
    start: datetime
    concurrency: int | None


def simulate_events(**options: Unpack[RunOptions]) -> list[AnyEvent]:
    """Every event of ``simulate(**options)`` in time order (stable: session order, then step order)."""
    runs = simulate(**options)
    return sorted((event for run in runs for event in run.events), key=attrgetter("event_time"))


def labels(sessions: Iterable[SimulatedSession]) -> dict[str, str]:
    """session_id -> scenario name (the ground truth for scoring detectors)."""
    return {run.session_id: run.scenario for run in sessions}


def write_jsonl(events: Iterable[AnyEvent], path: str | os.PathLike[str]) -> int:
    """Write events as native JSON lines (readable by the ``native`` adapter); returns the count."""
    count = 0
    with open(path, "wb") as out:
        for event in events:
            out.write(event_to_json(event))
            out.write(b"\n")
            count += 1
    return count
