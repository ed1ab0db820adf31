"""Workloads of the eql peer benchmark (``benchmarks.eql_peer_bench``) and the comparison of its matches.

Two workloads of JSON lines in chainwatch's native form, both in time order, both read by chainwatch and by
Elastic's ``eql`` as they are:

* **dense**: every session open at once, each running IAM chains back to back (almost every event is a step
  of ``privilege.escalation_chain``, many chains in progress at any moment);
* **sparse**: the simulator's realistic traffic (most events unrelated; its attack sessions hold a few
  chains) with a few more chains planted in sessions of their own.

Every planted chain is one of a fixed set of shapes, and the generator writes down what each engine should
report for it (``Workload.expected``): complete chains in each of the rule's forms, chains that stop
early, are denied, grant a harmless policy, key another user or take longer than the hour; and three shapes
where chainwatch and EQL differ by design (docs/rules.md): a repeated first step (chainwatch fires from the
earliest start still in its window, EQL from the newest, which replaced the older), steps that share a
second but arrive out of order (chainwatch's tie rule completes them, EQL does not) and a user named in
other capitals by a later step (EQL ignores case, chainwatch does not). They are a small share of the
chains (12 %), there to show that each difference is the documented one.

A match is ``(session id, event ids in step order)``. ``compare`` explains each difference between the two
engines' matches by one of those documented differences, or says that none explains it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import orjson

from detectors.rules import TIE_SECONDS  # steps this close in time may arrive in either order
from schemas.events import event_to_json
from streams.simulator.workload import DEFAULT_START, simulate_events

RULE_ID = "privilege.escalation_chain"
WITHIN = 3600.0  # the rule's `within: 1h`, EQL's `maxspan=1h`
FIRST_STEP = "CreateUser"

Match = tuple[str, tuple[str, ...]]

ADMIN_GRANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("AttachUserPolicy", {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    ("AttachUserPolicy", {"policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}),
    (
        "PutUserPolicy",
        {
            "policyName": "ops-inline",
            "policyDocument": '{"Version":"2012-10-17","Statement":'
            '[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        },
    ),
    ("AddUserToGroup", {"groupName": "Admins"}),
)
KEY_STEPS = ("CreateAccessKey", "CreateLoginProfile")
NOISE: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("aws", "DescribeInstances", {"region": "us-east-1"}),
    ("aws", "ListUsers", {"maxItems": "100"}),
    ("aws", "GetObject", {"bucketName": "acme-logs", "key": "app/2026/01/05.log"}),
    ("bash", "exec", {"command": "aws iam list-attached-user-policies --user-name ops"}),
)
# The shapes of a planted chain and how often a dense session plays each.
SHAPES: tuple[tuple[str, int], ...] = (
    ("complete", 40),
    ("create_only", 8),
    ("no_key", 8),
    ("denied_grant", 6),
    ("harmless_policy", 6),
    ("key_for_another_user", 5),
    ("too_slow", 7),
    ("repeated_start", 6),
    ("tie_out_of_order", 4),
    ("user_case_varies", 2),
)


@dataclass
class Workload:
    """JSON lines in time order and the matches each engine should report for the planted chains."""

    name: str
    data: bytes
    events: int
    sessions: int
    planted_sessions: frozenset[str]
    expected: dict[str, set[Match]]  # "chainwatch" / "eql" -> matches of the planted chains


@dataclass
class _Planter:
    """Writes the events of planted chains and what each engine should make of them."""

    rng: random.Random
    prefix: str
    lines: list[tuple[float, bytes]] = field(default_factory=list)
    expected: dict[str, set[Match]] = field(default_factory=lambda: {"chainwatch": set(), "eql": set()})
    sessions: set[str] = field(default_factory=set)
    _count: int = 0

    def call(
        self,
        session: str,
        at: float,
        action: str,
        arguments: dict[str, str],
        *,
        tool: str = "aws",
        outcome: str = "success",
    ) -> str:
        self._count += 1
        event_id = f"{self.prefix}-{self._count}"
        record = {
            "schema_version": 1,
            "event_id": event_id,
            "event_time": _iso(at),
            "source": "eql-peer-bench",
            "session_id": session,
            "agent_id": f"ops-agent-{session[-2:]}",
            "principal": "ops@example.com",
            "kind": "tool_call",
            "tool": tool,
            "action": action,
            "environment": "prod",
            "arguments": arguments,
            "outcome": outcome,
        }
        self.lines.append((at, orjson.dumps(record)))
        self.sessions.add(session)
        return event_id

    def gap(self, low: float = 3.0, high: float = 120.0) -> float:
        return round(self.rng.uniform(low, high), 3)

    def chain(self, session: str, at: float, user: str, shape: str) -> float:
        """Plant a chain of ``shape`` for ``user`` from ``at``; returns when the session's next may start."""
        grant_action, grant_arguments = self.rng.choice(ADMIN_GRANTS)
        key_action = self.rng.choice(KEY_STEPS)

        def create(t: float) -> str:
            return self.call(session, t, FIRST_STEP, {"userName": user})

        def grant(t: float, outcome: str = "success") -> str:
            name = user.upper() if shape == "user_case_varies" else user
            return self.call(session, t, grant_action, {"userName": name, **grant_arguments}, outcome=outcome)

        def key(t: float, name: str = user) -> str:
            return self.call(session, t, key_action, {"userName": name})

        t = at
        if shape == "tie_out_of_order":  # the grant logged 0.4 s before the create it follows
            g = grant(t)
            c = create(t := t + 0.4)
            k = key(t := t + self.gap())
            self.expected["chainwatch"].add((session, (c, g, k)))
            return t + self.gap(2.0, 60.0)
        c = create(t)
        if shape == "repeated_start":  # the same user created again before the grant
            c2 = create(t := t + self.gap())
            g = grant(t := t + self.gap())
            k = key(t := t + self.gap())
            self.expected["chainwatch"].add((session, (c, g, k)))
            self.expected["eql"].add((session, (c2, g, k)))
            return t + self.gap(2.0, 60.0)
        if shape == "create_only":
            return t + self.gap(2.0, 60.0)
        self._noise(session, t, t + (gap := self.gap()))
        if shape == "harmless_policy":
            self.call(
                session,
                t := t + gap,
                "AttachUserPolicy",
                {"userName": user, "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
            )
        else:
            g = grant(t := t + gap, outcome="denied" if shape == "denied_grant" else "success")
        if shape == "no_key":
            return t + self.gap(2.0, 60.0)
        if shape == "too_slow":  # the key comes after the hour; the session goes on meanwhile
            key(at + WITHIN + self.gap(5.0, 600.0))
            return t + self.gap(2.0, 60.0)
        k = key(t := t + self.gap(), user if shape != "key_for_another_user" else f"{user}-svc")
        if shape == "complete":
            for engine in ("chainwatch", "eql"):
                self.expected[engine].add((session, (c, g, k)))
        elif shape == "user_case_varies":  # the grant names the user in capitals
            self.expected["eql"].add((session, (c, g, k)))
        return t + self.gap(2.0, 60.0)

    def _noise(self, session: str, after: float, before: float) -> None:
        """An unrelated call between two steps, half of the time."""
        if self.rng.random() < 0.5:
            tool, action, arguments = self.rng.choice(NOISE)
            self.call(
                session, round(self.rng.uniform(after + 1.5, before - 1.5), 3), action, arguments, tool=tool
            )

    def shape(self) -> str:
        names, weights = zip(*SHAPES, strict=True)
        return self.rng.choices(names, weights)[0]


def dense(sessions: int = 2500, chains: int = 4, seed: int = 14) -> Workload:
    """Every session open at once (started within two minutes), each playing ``chains`` chains in a row."""
    planter = _Planter(random.Random(f"eql-peer:dense:{seed}"), f"dense{seed}")
    start = DEFAULT_START.timestamp()
    for s in range(sessions):
        session = f"eql-dense-{seed}-{s:05d}"
        t = start + planter.gap(0.0, 120.0)
        for n in range(chains):
            t = planter.chain(session, t, f"u{s:05d}n{n:02d}", planter.shape())
    return _workload("dense", planter.lines, planter)


def sparse(sessions: int = 1000, planted: int | None = None, seed: int = 14) -> Workload:
    """The simulator's traffic of ``sessions`` sessions (default concurrency and attack share) and
    ``planted`` more sessions (default one per hundred) each holding one to three chains."""
    events = simulate_events(seed=seed, sessions=sessions)
    lines = [(e.event_time.timestamp(), event_to_json(e)) for e in events]
    first, last = lines[0][0], lines[-1][0]
    planter = _Planter(random.Random(f"eql-peer:sparse:{seed}"), f"sparse{seed}")
    for s in range(max(1, sessions // 100) if planted is None else planted):
        session = f"eql-sparse-{seed}-{s:05d}"
        t = planter.rng.uniform(first, max(first, last - 1800.0))
        for n in range(planter.rng.randint(1, 3)):
            t = planter.chain(session, t, f"p{s:05d}n{n:02d}", planter.shape())
    return _workload("sparse", lines + planter.lines, planter)


def _workload(name: str, lines: list[tuple[float, bytes]], planter: _Planter) -> Workload:
    lines.sort(key=lambda line: line[0])  # stable: equal times keep their order
    data = b"\n".join(line for _, line in lines) + b"\n"
    sessions = {orjson.loads(line)["session_id"] for _, line in lines}
    return Workload(
        name=name,
        data=data,
        events=len(lines),
        sessions=len(sessions),
        planted_sessions=frozenset(planter.sessions),
        expected=planter.expected,
    )


def _iso(at: float) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=round(at * 1000))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ------------------------------------------------------------------------------------------ comparing
# The documented differences, as the report names them (docs/rules.md holds the semantics).
REPEATED_START = (
    "repeated first step: chainwatch the earliest start, EQL the newest (rules.md: Which matches fire)"
)
TIE = "steps of one second out of order: chainwatch completes them, EQL does not (rules.md: Ties)"
CASE = "user named in other capitals: EQL ignores case, chainwatch does not (rules.md: Conditions)"


@dataclass(frozen=True)
class Facts:
    """What the comparison needs to know of a matched event."""

    time: float
    action: str
    user: object


@dataclass(frozen=True)
class Difference:
    session: str
    chainwatch: tuple[str, ...] | None  # the match only chainwatch reported (None: it reported none)
    eql: tuple[str, ...] | None
    reason: str | None  # the documented difference that explains it; None when none does


@dataclass
class Comparison:
    identical: int
    differences: list[Difference]

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.reason is None]


def facts_of(data: bytes, ids: Iterable[str]) -> dict[str, Facts]:
    """The time, action and ``userName`` of the events ``ids`` in the JSON lines ``data``."""
    wanted = set(ids)
    found: dict[str, Facts] = {}
    for line in data.splitlines():
        if not wanted or not line.strip():
            continue
        record = orjson.loads(line)
        if record.get("event_id") in wanted:
            wanted.discard(record["event_id"])
            moment = datetime.fromisoformat(record["event_time"].replace("Z", "+00:00"))
            user = (record.get("arguments") or {}).get("userName")
            found[record["event_id"]] = Facts(moment.timestamp(), record.get("action", ""), user)
    return found


def compare(chainwatch: set[Match], eql: set[Match], facts: Mapping[str, Facts]) -> Comparison:
    """Pair what only one engine reported and explain each difference by a documented one."""
    only_cw = sorted(chainwatch - eql)
    only_eql = sorted(eql - chainwatch)
    differences = []
    for session, ids in only_cw:
        twin = next((m for m in only_eql if m[0] == session and m[1][1:] == ids[1:]), None)
        if twin is not None:
            only_eql.remove(twin)
            reason = REPEATED_START if _repeated_start(ids[0], twin[1][0], facts) else None
            differences.append(Difference(session, ids, twin[1], reason))
        else:
            differences.append(Difference(session, ids, None, TIE if _out_of_order_tie(ids, facts) else None))
    for session, ids in only_eql:
        differences.append(Difference(session, None, ids, CASE if _user_case_varies(ids, facts) else None))
    return Comparison(identical=len(chainwatch & eql), differences=differences)


def _repeated_start(earliest: str, newest: str, facts: Mapping[str, Facts]) -> bool:
    a, b = facts.get(earliest), facts.get(newest)
    return bool(a and b and a.action == b.action == FIRST_STEP and a.user == b.user and a.time < b.time)


def _out_of_order_tie(ids: tuple[str, ...], facts: Mapping[str, Facts]) -> bool:
    """Some step earlier than the step before it, and none by more than a tie."""
    if any(i not in facts for i in ids):
        return False
    times = [facts[i].time for i in ids]
    behind = [a - b for a, b in pairwise(times) if b < a]
    return bool(behind) and max(behind) <= TIE_SECONDS


def _user_case_varies(ids: tuple[str, ...], facts: Mapping[str, Facts]) -> bool:
    users = [facts[i].user if i in facts else None for i in ids]
    if not all(isinstance(u, str) for u in users):
        return False
    return len(set(users)) > 1 and len({str(u).lower() for u in users}) == 1
