"""The simulator's step language: a scenario is a tuple of these steps (``interpreter.run`` plays them).

A scenario says what the agent does, in order, and writes each random choice where it happens. The
steps act on a ``SessionBuilder`` (which owns the clock, the credentials and the event drafts) and on a
dict of session variables that they bind and read.

Values inside steps:

- a ``str`` is a template filled from the variables with ``str.format``: ``"{svc}"``, ``"{repo.name}"``
  (attributes work), ``"{task:.60}"`` (the first 60 characters);
- ``Ref("size")`` is a variable's value as it is (a number, a list, an enum); dotted paths read attributes;
- ``Fill("{text}")`` fills twice, for a variable that holds a template itself (a picked mail text);
- ``Derive(fn)`` computes a value from the variables, without randomness;
- lists, tuples and dicts are filled item by item; anything else is taken as it is.

The items a draw chooses from are taken as they are, never filled: a picked template is filled where it
is used, with ``Fill``.

Randomness: draws (``Pick``, ``RandInt``, ``HexId``, ...) in ``Let``, ``Repeat``, ``ForEach`` and
``Issue``; the branching steps ``Roll``, ``Chance`` and ``OneOf``; and the builder's own durations and
think times. Every number comes from the session's ``rng`` in the order the steps are written, so moving
a draw changes every later event of that session (and nothing in the other sessions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

from streams.simulator.builder import SessionBuilder
from streams.simulator.vocabulary import BY_RULE, OK

Vars = dict[str, Any]

# --------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------


class Value:
    """A field computed when the step plays; see the module docstring for plain strings and containers."""

    def get(self, v: Vars) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Ref(Value):
    """A variable's value as it is; ``"repo.tasks"`` reads the attribute ``tasks`` of variable ``repo``."""

    path: str

    def get(self, v: Vars) -> Any:
        head, *attributes = self.path.split(".")
        found = v[head]
        for name in attributes:
            found = getattr(found, name)
        return found


@dataclass(frozen=True)
class Fill(Value):
    """A template filled twice: once to read a variable that holds a template, once to fill that."""

    template: str

    def get(self, v: Vars) -> str:
        return self.template.format_map(v).format_map(v)


@dataclass(frozen=True)
class Derive(Value):
    """A value computed from the variables (no randomness: draws are ``Let`` steps)."""

    compute: Callable[[Vars], Any]

    def get(self, v: Vars) -> Any:
        return self.compute(v)


Getter = Callable[[Vars], Any]


def getter(value: Any) -> Getter | None:
    """How to compute ``value`` in a session, or None when it is a constant (see the module docstring).

    Steps compile their fields once, when they are defined: a session then only fills templates.
    """
    if type(value) is str:  # not str subclasses: an Environment or Outcome is a value, not a template
        return value.format_map if "{" in value else None
    if isinstance(value, Ref) and "." not in value.path:
        return itemgetter(value.path)  # the most common value by far: Ref("env"), CRED
    if isinstance(value, Value):
        return value.get
    if isinstance(value, dict):
        entries = {key: getter(item) for key, item in value.items()}
        if not any(entries.values()):
            return None
        parts = [(key, entries[key] or _constant(item)) for key, item in value.items()]
        return lambda v: {key: get(v) for key, get in parts}
    if isinstance(value, list | tuple):
        items = [getter(item) for item in value]
        if not any(items):
            return None
        gets = [get or _constant(item) for get, item in zip(items, value, strict=True)]
        kind = type(value)
        return lambda v: kind(get(v) for get in gets)
    return None


def _constant(value: Any) -> Getter:
    return lambda v: value


def resolve(value: Any, v: Vars) -> Any:
    """The value of a step's field in the current session."""
    get = getter(value)
    return value if get is None else get(v)


CRED = Ref("cred")
"""The session's credential, bound by ``Issue``."""

# --------------------------------------------------------------------------------------------------------
# Draws: the random choices a ``Let`` binds
# --------------------------------------------------------------------------------------------------------


class Draw:
    """A random choice; ``draw`` consumes the session's random numbers."""

    def draw(self, s: SessionBuilder, v: Vars) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Pick(Draw):
    """One of ``items`` (a sequence, or a ``Ref``/``Derive`` giving one), each as likely."""

    items: Sequence[Any] | Value

    def draw(self, s: SessionBuilder, v: Vars) -> Any:
        items = self.items.get(v) if isinstance(self.items, Value) else self.items
        return items[s.rng.randrange(len(items))]


@dataclass(frozen=True)
class RandInt(Draw):
    """An integer in ``[low, high]``; either bound may be a ``Ref`` or ``Derive``."""

    low: int | Value
    high: int | Value

    def draw(self, s: SessionBuilder, v: Vars) -> int:
        low = self.low.get(v) if isinstance(self.low, Value) else self.low
        high = self.high.get(v) if isinstance(self.high, Value) else self.high
        return s.rng.randint(low, high)


@dataclass(frozen=True)
class HexId(Draw):
    """An AWS-style resource id: ``prefix`` and ``n`` hex digits (``vol-0a1b...``)."""

    prefix: str
    n: int = 17

    def draw(self, s: SessionBuilder, v: Vars) -> str:
        return self.prefix + "".join(s.rng.choice("0123456789abcdef") for _ in range(self.n))


@dataclass(frozen=True)
class Suffix(Draw):
    """The random six characters AWS appends to a secret's ARN."""

    n: int = 6

    def draw(self, s: SessionBuilder, v: Vars) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(s.rng.choice(alphabet) for _ in range(self.n))


@dataclass(frozen=True)
class Sample(Draw):
    """``count`` distinct items of ``items``, in random order."""

    items: Sequence[Any]
    count: Draw

    def draw(self, s: SessionBuilder, v: Vars) -> list[Any]:
        return s.rng.sample(self.items, self.count.draw(s, v))


@dataclass(frozen=True)
class Length(Draw):
    """Tool calls in a benign session: short, medium and long sessions (mean about 95)."""

    def draw(self, s: SessionBuilder, v: Vars) -> int:
        r = s.rng.random()
        if r < 0.2:
            return s.rng.randint(4, 12)
        if r < 0.65:
            return s.rng.randint(20, 80)
        return s.rng.randint(120, 300)


@dataclass(frozen=True)
class CredentialId(Draw):
    """The id of the session's ``k``-th credential with ``prefix`` (derived from seed and session, no rng)."""

    prefix: str
    k: int = 0

    def draw(self, s: SessionBuilder, v: Vars) -> str:
        return s.credential_id(self.prefix, self.k)


Evaluator = Callable[[SessionBuilder, Vars], Any]


def evaluator(value: Any) -> Evaluator:
    """How to get ``value`` (a draw or a value) in a session."""
    if isinstance(value, Draw):
        return value.draw
    get = getter(value)
    if get is None:
        return lambda s, v: value
    return lambda s, v: get(v)


# --------------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Let:
    """Bind ``name`` to a draw or a value; a tuple of names unpacks a picked tuple.

    Variables live for the whole session and every step sees them: a value that must survive other
    steps (``export_day`` across the cloud reads) needs a name no other step binds.
    """

    name: str | tuple[str, ...]
    value: Any
    evaluate: Evaluator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "evaluate", evaluator(self.value))


@dataclass(frozen=True)
class Call:
    """One tool call (``SessionBuilder.call``); fields take values. ``mark``: an attack's key event."""

    tool: str
    action: str
    target: Any = None
    args: Any = None
    env: Any = Ref("env")
    outcome: Any = OK
    decision: Any = BY_RULE
    approved_by: Any = None
    cred: Any = None
    untrusted: bool = False
    result: Any = None
    ms: tuple[float, float] = (80.0, 900.0)
    think_s: tuple[float, float] = (1.0, 8.0)
    mark: bool = False
    compiled: tuple[dict[str, Any], tuple[tuple[str, Getter], ...]] = field(
        init=False, repr=False, compare=False
    )
    """The keyword arguments of ``SessionBuilder.call``: the constant ones, and how to compute the rest."""

    def __post_init__(self) -> None:
        constants: dict[str, Any] = {}
        computed: list[tuple[str, Getter]] = []
        for name in _CALL_FIELDS:
            value = getattr(self, name)
            get = getter(value)
            if get is None:
                constants[name] = value
            else:
                computed.append((name, get))
        object.__setattr__(self, "compiled", (constants, tuple(computed)))


_CALL_FIELDS = (
    *("tool", "target", "args", "env", "outcome", "decision"),
    *("approved_by", "cred", "untrusted", "result", "ms", "think_s"),
)


@dataclass(frozen=True)
class Agent:
    """Who runs the session: ``<name>-<k>`` with k drawn from 1..``pool`` (the run's agent fleet), on
    behalf of one of ``principals``."""

    name: str
    principals: tuple[str, ...]


@dataclass(frozen=True)
class Start:
    """The session's start: its task (a template) and scope (resource globs and ``tool:<name>``)."""

    task: Any
    scope: tuple[Any, ...]


@dataclass(frozen=True)
class Issue:
    """Issue a credential with an id derived from ``prefix`` and bind the id to ``cred``.

    ``ttl_s`` may be a draw. A refreshable credential is renewed a minute before it expires while the
    session runs (the builder does it); ``mark`` makes the issue one of an attack's key events.
    """

    prefix: str
    scopes: tuple[Any, ...]
    ttl_s: float | Draw
    issuer: str
    inherited_from_human: bool = False
    refreshable: bool = True
    mark: bool = False


@dataclass(frozen=True)
class Wait:
    """The agent does nothing for ``low`` to ``high`` seconds (drawn).

    A short wait is the token fetch between a session's start and its credential; a long one is the
    gap before an attack comes back to a credential it kept.
    """

    low: float
    high: float


@dataclass(frozen=True)
class PermissionMode:
    """The agent runtime switches its permission mode (``acceptEdits``, ``bypassPermissions``)."""

    mode: str


@dataclass(frozen=True)
class End:
    """The session ends; ``credential`` says what becomes of its credential.

    ``"revoke"``: revoked just before the end. ``"keep"``: left valid (an attack's loose end).
    ``"revoke_or_expire"``: revoked (seven sessions in ten), or left to expire when it runs out within 15
    minutes of the task anyway: good practice, which benign agents follow (what
    ``credential.never_revoked`` checks).
    """

    credential: Literal["revoke", "keep", "revoke_or_expire"] = "revoke"
    mark: bool = False


@dataclass(frozen=True)
class Repeat:
    """Play ``steps`` ``times`` times.

    ``times`` is a number, a ``Ref``/``Derive``, or a draw, made once before the first round.
    """

    times: Any
    steps: Steps


@dataclass(frozen=True)
class ForEach:
    """Play ``steps`` for each item of ``items`` (a value or a draw, such as a ``Sample``), bound to
    ``name``."""

    name: str
    items: Any
    steps: Steps


@dataclass(frozen=True)
class WorkFor:
    """Play ``first``, then ``steps`` round after round until the tool calls made reach ``budget``.

    ``first``'s calls count. A round that makes several calls (a retry, a whole ticket) counts them all,
    so the session ends up with about ``budget`` calls whatever its rounds do.
    """

    budget: Any
    steps: Steps
    first: Steps = ()


@dataclass(frozen=True)
class Roll:
    """Draw one number r in [0, 1) and play the first branch whose bound exceeds it, else ``otherwise``.

    The bounds are cumulative (``((0.2, a), (0.5, b))``: a one time in five, b three in ten).
    """

    branches: tuple[tuple[float, Steps], ...]
    otherwise: Steps = ()


def Chance(p: float, then: Steps, otherwise: Steps = ()) -> Roll:
    """Play ``then`` with probability ``p``, else ``otherwise``."""
    return Roll(((p, then),), otherwise)


@dataclass(frozen=True)
class OneOf:
    """Play one of ``branches``, each as likely (one draw, like ``Pick``)."""

    branches: tuple[Steps, ...]


@dataclass(frozen=True)
class If:
    """Play ``then`` when ``test`` holds for the variables, else ``otherwise``; draws nothing."""

    test: Callable[[Vars], bool]
    then: Steps
    otherwise: Steps = ()


@dataclass(frozen=True)
class Switch:
    """Play the steps ``cases`` lists for the value of variable ``name``; nothing when it lists none."""

    name: str
    cases: Mapping[Any, Steps]


Step = (
    Let
    | Call
    | Agent
    | Start
    | Issue
    | Wait
    | PermissionMode
    | End
    | Repeat
    | ForEach
    | WorkFor
    | Roll
    | OneOf
    | If
    | Switch
)
Steps = tuple[Step, ...]
