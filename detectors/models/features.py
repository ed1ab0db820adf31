"""Per-session features, computed incrementally as events arrive.

One code path: the stream (the ``models.session_anomaly`` detector, one event at a time, its state in the
engine's key state) and the batch path (training and evaluation from DuckDB history, ``session_rows``) both
call :func:`update` on the same plain-dict state and read :func:`feature_vector` from it. The state is
bounded and JSON-serialisable, so it rides in the faust changelog like every other detector state.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from detectors.vocab import command_of, destructive_command, is_read_only
from detectors.vocab import is_shell as _shell
from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall
from schemas.types import Decision, Environment, Outcome, SessionAction

MAX_DISTINCT = 256  # distinct tools / targets / scopes remembered per session (then counted, not stored)
GAP_BINS = 80  # log-scale histogram of inter-call gaps: tenth decades from 1 ms to ~1 day
WILDCARD_WEIGHT = 10  # a scope with '*' reaches more than any one named scope: it counts this many


@dataclass(frozen=True)
class Feature:
    name: str
    label: str  # how the analyst reads it
    unit: str = ""


FEATURES: tuple[Feature, ...] = (
    Feature("tool_calls", "tool calls"),
    Feature("distinct_tools", "distinct tools"),
    Feature("distinct_targets", "distinct targets"),
    Feature("prod_share", "share of calls on production", "%"),
    Feature("write_share", "share of write/delete calls", "%"),
    Feature("denied_share", "share of denied calls", "%"),
    Feature("credentials_used", "credentials used"),
    Feature("scope_breadth", "credential scope breadth"),
    Feature("gap_median_s", "median gap between calls", "s"),
    Feature("gap_min_s", "shortest gap between calls", "s"),
    Feature("burstiness", "burstiness of call timing"),
    Feature("start_hour", "hour of day the session started (UTC)"),
    Feature("new_tools", "tools new to this agent"),
    Feature("new_targets", "target families new to this agent"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
# Bumped when a feature's meaning changes: a model file built for another version is refused.
FEATURE_VERSION = 1


class Known:
    """What the baseline knew about an agent before this session, for the ``new_*`` features. ``None``
    sets mean "no history": nothing counts as new (there is nothing to compare with)."""

    def __init__(self, tools: frozenset[str] | None, targets: frozenset[str] | None) -> None:
        self.tools = tools
        self.targets = targets


NOTHING_KNOWN = Known(None, None)

_ARN = re.compile(r"^arn:(?P<part>[^:]*):(?P<svc>[^:]*):[^:]*:(?P<acct>[^:]*):(?P<res>[^/:]*)")
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^/?#]*)", re.I)


@functools.lru_cache(maxsize=8192)
@functools.lru_cache(
    maxsize=65_536
)  # pure; agents hit the same targets again and again (first_seen per call)
def target_family(target: str) -> str:
    """A target coarsened to what an agent is "pointed at": the AWS service, account and resource type of
    an ARN, the host of a URL, the domain of an e-mail address, the leading name segments of a path or a
    prefixed name (``repo:github.com/acme/billing``) up to the first one that looks like a record id (holds
    a digit or an ``@``). A new file in a known repository is not new; a new repository, bucket or
    account is."""
    arn = _ARN.match(target)
    if arn:
        return f"arn:{arn['part']}:{arn['svc']}::{arn['acct']}:{arn['res']}"
    url = _URL.match(target)
    if url:
        return f"{url['scheme'].lower()}://{url['host'].lower()}"
    head, sep, rest = target.partition(":")
    if sep and "/" not in head and len(head) <= 16:
        if head.lower() == "mailto":
            return f"mailto:@{rest.rpartition('@')[2].lower()}"
        return f"{head}:{'/'.join(_name_segments(rest.split('/'), 3, first_free=True))}".rstrip(":")
    return ("/" if target.startswith("/") else "") + "/".join(_name_segments(target.split("/"), 2))


def _name_segments(parts: list[str], limit: int, *, first_free: bool = False) -> list[str]:
    kept: list[str] = []
    for index, part in enumerate(p for p in parts if p):
        looks_like_id = any(c.isdigit() for c in part) or ("@" in part and not (first_free and index == 0))
        if len(kept) == limit or (looks_like_id and not (first_free and index == 0 and "@" in part)):
            break
        kept.append(part)
    return kept


_TRAILING_NUMBER = re.compile(r"[-_.]?\d+$")


@functools.lru_cache(maxsize=4096)
def peer_group(agent_id: str | None) -> str | None:
    """Agents of one kind share a template name and differ by a number (``code-assistant-3``): the peer
    group is the name without that number. An id without one is its own group."""
    if not agent_id:
        return None
    return _TRAILING_NUMBER.sub("", agent_id) or agent_id


def initial_state() -> dict[str, Any]:
    return {
        "calls": 0,
        "tools": {},
        "targets": {},
        "families": {},
        "prod": 0,
        "write": 0,
        "denied": 0,
        "creds": {},
        "scopes": {},
        "wild": 0,
        "envs": {},
        "issuers": {},
        "start": None,
        "last": None,
        "gaps": 0,
        "gap_min": None,
        "gap_mean": 0.0,
        "gap_m2": 0.0,
        "hist": [0] * GAP_BINS,
        "new_tools": 0,
        "new_targets": 0,
        "first_id": None,
        "last_id": None,
        "new_examples": [],
    }


def _remember(bag: dict[str, int], value: str) -> bool:
    """Add ``value`` to a bounded set kept as a dict; True when it was added (a full set adds nothing, so
    a session past the bound does not count the same overflowing value as new again and again)."""
    if value in bag or len(bag) >= MAX_DISTINCT:
        return False
    bag[value] = 1
    return True


_DENIED_OUTCOME, _DENIED_DECISION = Outcome.DENIED, Decision.DENIED
_ENV_VALUE = {env: env.value for env in Environment}  # a dict lookup is cheaper than the enum's .value


def _is_write(event: ToolCall) -> bool:
    action = event.action
    named = _WRITE_BY_NAME.get((event.tool, action))
    if named is None:
        # Not a shell: the names decide, once per (tool, action) pair. A shell: its command decides.
        named = "shell" if _shell(event.tool, action) else ("read" if is_read_only(action) else "write")
        if len(_WRITE_BY_NAME) < 4096:
            _WRITE_BY_NAME[(event.tool, action)] = named
    if named != "shell":
        return named == "write"
    command = command_of(event)
    return command is not None and destructive_command(command) is not None


_WRITE_BY_NAME: dict[tuple[str, str], str] = {}


BINS_PER_DECADE = 10


def bin_centre(index: int) -> float:
    """The geometric centre (seconds) of a gap histogram bin."""
    return float(10 ** ((index + 0.5) / BINS_PER_DECADE - 3.0))


def _gap_bin(gap: float) -> int:
    return max(0, min(GAP_BINS - 1, int((math.log10(max(gap, 1e-3)) + 3.0) * BINS_PER_DECADE)))


def update(
    state: dict[str, Any], event: AnyEvent, known: Known = NOTHING_KNOWN, when: float | None = None
) -> dict[str, Any]:
    """Fold one event into a session's feature state (in place; also returned). Events arrive in event-time
    order; ``known`` is the agent's history for the ``new_*`` features; ``when`` the event's time as a
    timestamp when the caller has it already (the engine's ``ctx.now``)."""
    if when is None:
        when = event.event_time.timestamp()
    if state["start"] is None:
        state["start"] = when
        state["first_id"] = event.event_id
    state["last_id"] = event.event_id
    if isinstance(event, ToolCall):
        _tool_call(state, event, when, known)
    elif isinstance(event, CredentialEvent):
        _remember(state["creds"], event.credential_id)
        if event.issuer:
            _remember(state["issuers"], event.issuer)
        for scope in event.scopes:
            if _remember(state["scopes"], scope) and "*" in scope:
                state["wild"] += 1
    elif isinstance(event, SessionEvent) and event.action == SessionAction.START:
        state["start"] = min(state["start"], when)
    return state


def _tool_call(state: dict[str, Any], event: ToolCall, when: float, known: Known) -> None:
    # Runs for every call of every session: locals and inlined set tests instead of helper calls.
    state["calls"] += 1
    tool, target = event.tool, event.target
    # Most calls repeat a tool and target the session already has: test membership before calling out.
    if (
        tool not in state["tools"]
        and _remember(state["tools"], tool)
        and known.tools is not None
        and tool not in known.tools
    ):
        state["new_tools"] += 1
        _example(state, f"tool {tool}")
    if target and target not in state["targets"]:
        _remember(state["targets"], target)
        family = target_family(target)
        if _remember(state["families"], family) and known.targets is not None and family not in known.targets:
            state["new_targets"] += 1
            _example(state, f"target {family}")
    environment = _ENV_VALUE[event.environment]
    envs = state["envs"]
    if environment not in envs:
        _remember(envs, environment)
    if environment == "prod":
        state["prod"] += 1
    if _is_write(event):
        state["write"] += 1
    if event.outcome is _DENIED_OUTCOME or event.decision is _DENIED_DECISION:
        state["denied"] += 1
    credential = event.credential_id
    if credential and credential not in state["creds"]:
        _remember(state["creds"], credential)
    last = state["last"]
    if last is None:
        state["last"] = when
        return
    gap = when - last if when > last else 0.0
    gaps = state["gaps"] + 1
    state["gaps"] = gaps
    low = state["gap_min"]
    if low is None or gap < low:
        state["gap_min"] = gap
    mean = state["gap_mean"]
    delta = gap - mean  # Welford: mean and variance in one pass
    mean += delta / gaps
    state["gap_mean"] = mean
    state["gap_m2"] += delta * (gap - mean)
    state["hist"][_gap_bin(gap)] += 1
    if when > last:
        state["last"] = when


def _example(state: dict[str, Any], text: str) -> None:
    if len(state["new_examples"]) < 5:
        state["new_examples"].append(text)


def gap_median(hist: list[int]) -> float | None:
    """Median gap (seconds) from the log histogram: the geometric centre of the bin holding the median."""
    total = sum(hist)
    if not total:
        return None
    running = 0
    for index, count in enumerate(hist):
        running += count
        if running * 2 >= total:
            return bin_centre(index)
    return None  # unreachable: running reaches total


NO_GAP_SECONDS = 3600.0  # a session with one call has no gap: it reads as "slow", not as machine speed


def feature_vector(state: Mapping[str, Any]) -> list[float]:
    """The session's features in human units, in ``FEATURES`` order."""
    calls = state["calls"]
    share = (lambda n: n / calls) if calls else (lambda n: 0.0)
    gaps = state["gaps"]
    std = math.sqrt(state["gap_m2"] / gaps) if gaps else 0.0
    mean = state["gap_mean"]
    burstiness = (std - mean) / (std + mean) if std + mean > 0 else 0.0
    median = gap_median(state["hist"])
    hour = datetime.fromtimestamp(state["start"], tz=UTC).hour if state["start"] is not None else 0
    return [
        float(calls),
        float(len(state["tools"])),
        float(len(state["targets"])),
        share(state["prod"]),
        share(state["write"]),
        share(state["denied"]),
        float(len(state["creds"])),
        float(len(state["scopes"]) + WILDCARD_WEIGHT * state["wild"]),
        median if median is not None else NO_GAP_SECONDS,
        state["gap_min"] if state["gap_min"] is not None else NO_GAP_SECONDS,
        burstiness,
        float(hour),
        float(state["new_tools"]),
        float(state["new_targets"]),
    ]


_LOG_FEATURES = frozenset({0, 1, 2, 6, 7, 12, 13})
_SECONDS_FEATURES = frozenset({8, 9})


def model_inputs(raw: Iterable[float]) -> list[float]:
    """Human units to what the estimator sees: counts on a log scale (10 vs 20 tools matters more than 210
    vs 220), gaps as log10 seconds, shares and hour as they are."""
    out = []
    for index, value in enumerate(raw):
        if index in _LOG_FEATURES:
            out.append(math.log1p(value))
        elif index in _SECONDS_FEATURES:
            out.append(math.log10(max(value, 1e-3)))
        else:
            out.append(value)
    return out
