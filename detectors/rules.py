"""Sequence and threshold rules written as YAML, loaded into detectors.

Matching semantics (see docs/rules.md for the full page):

* A *partial match* remembers which step it waits for, the ids of the events that matched so far and
  the field values later steps refer to (``$step.path``). Every partial that an event can advance
  advances (one step per event); nothing is overwritten, unlike EQL's "most recent wins".
* A repeated first step (the same captured values again) starts a partial of its own, so each start
  can complete within its own ``within``: merged into the earliest start, a later start whose chain fits
  its window was lost once the earliest start's window ran out. Partials that differ only in their start
  ("repeats") advance together and fire once, as the earliest start still in its window; at most
  ``max_repeats`` of them are kept per key (the earliest and the newest always stay, the second oldest is
  dropped and counted in ``repeats_dropped``).
* Each key holds at most ``max_partials`` partials per rule; the oldest is evicted and counted.
* ``within`` bounds first step to last step. An ``absent`` last step completes the match when its
  own ``within`` passes with no matching event (checked on later events of the key, on ``advance``,
  and when the key closes). ``until`` discards partials whose captures it matches.
* A completed match fires once; its finding id hashes the rule id, key and matched event ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from detectors.base import Detector, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.expr import (
    Expression,
    ExpressionError,
    check_path,
    compile_expression,
    compile_regex,
    read_path,
)
from schemas.alerts import Mappings
from schemas.errors import ChainwatchError
from schemas.events import AnyEvent
from schemas.types import IdentityKind, Maturity, Severity

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_PARTIALS = 32
MAX_REPEATS = 4  # partials per key that differ only in their start (a repeated first step)
TIE_SECONDS = 1.0  # steps this close in time may arrive in either order
MAX_RECENT = 16
MAX_THRESHOLD_EVENTS = 50
ALLOWED_LATENESS = 300.0


MAX_RULE_FILE_BYTES = 1 << 20  # a rule file is a page of YAML; a bigger one is refused unread
MAX_TITLE_VALUE_CHARS = 200  # one placeholder's share of an alert title
# Placeholders of alert_title without a step name: what the engine knows about the key, nothing else.
TITLE_CONTEXT_FIELDS = frozenset(
    {"key", "key_kind", "session_id", "agent_id", "parent_agent_id", "principal", "task", "permission_mode"}
)


class RuleError(ChainwatchError, ValueError):
    """A rule file that cannot be loaded: file, line, what is wrong and (when known) the fix."""

    def __init__(self, path: str, line: int | None, message: str, fix: str | None = None) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}" + (f"; fix: {fix}" if fix else ""))
        self.path = path
        self.line = line


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    for key_node, _ in node.value:
        mapping.lines[str(key_node.value)] = key_node.start_mark.line + 1
    mapping.lines["__self__"] = node.start_mark.line + 1
    return mapping


class _LineDict(dict[str, Any]):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: dict[str, int] = {}


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_duration(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and (match := DURATION.match(value)):
        return float(match.group(1)) * UNIT_SECONDS[match.group(2)]
    raise ValueError(f"not a duration: {value!r} (write e.g. 30s, 15m, 1h, 7d)")


@dataclass
class Step:
    name: str
    condition: Expression
    absent: bool = False
    within: float | None = None
    capture: tuple[str, ...] = ()  # paths of this step's event that later parts refer to


@dataclass
class RuleSpec:
    path: str
    data: dict[str, Any]
    steps: list[Step] = field(default_factory=list)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_KEY_FIELDS = {
    "session": "session_id",
    "agent": "agent_id",
    "principal": "principal",
    "credential": "credential_id",
}


class RuleDetector(StatefulDetector):
    """Base of the detectors built from YAML files; one subclass is created per file."""

    rule_type: ClassVar[str]
    alert_title: ClassVar[str | None] = None
    within: ClassVar[float]
    steps: ClassVar[tuple[Step, ...]]
    until: ClassVar[Expression | None] = None
    max_partials: ClassVar[int] = MAX_PARTIALS
    max_repeats: ClassVar[int] = MAX_REPEATS
    when_asked: ClassVar[tuple[Any, Severity] | None] = None  # (RE2 pattern over the task, severity)

    def asked_severity(self, ctx: KeyContext) -> Severity | None:
        """The severity ``when_asked`` gives when the session's task asks for what the rule sees ("rotate
        the key"): a rule cannot read intent, so its author says what asking looks like."""
        if self.when_asked is None or not ctx.task:
            return None
        pattern, severity = self.when_asked
        return severity if pattern.search(ctx.task) else None

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        probe = {"kind": kind, "tool": tool, "action": action}
        checks = [s.condition.prefilter for s in self.steps]
        if self.until is not None:
            checks.append(self.until.prefilter)
        return any(check is None or check(probe, {}) for check in checks)

    def render_title(self, captures: dict[str, Any], ctx: KeyContext) -> str | None:
        template = self.alert_title
        if not template:
            return None

        def fill(match: re.Match[str]) -> str:
            # Placeholders were checked at load time (a step's contract field, or one of
            # TITLE_CONTEXT_FIELDS); the lookups below stay confined to those even if they were not.
            name = match.group(1)
            if name in captures:
                value = captures[name]  # a field the matched event lacked renders as "?", not "None"
            elif name in TITLE_CONTEXT_FIELDS:
                value = getattr(ctx, name, None)
            else:
                value = None
            if value is None:
                return "?"
            text = str(_plain(value))
            return text if len(text) <= MAX_TITLE_VALUE_CHARS else text[: MAX_TITLE_VALUE_CHARS - 1] + "…"

        return _PLACEHOLDER.sub(fill, template)


class SequenceRule(RuleDetector):
    rule_type = "sequence"
    # Field paths later steps read or capture (filled in by build_rule), and a per-class memo of
    # which (kind, tool, action) a later step can match.
    _later_paths: ClassVar[tuple[tuple[str, ...], ...]] = ()
    _later_cache: ClassVar[dict[tuple[str, str | None, str], bool]]

    def initial_state(self) -> dict[str, Any]:
        return {"partials": [], "evicted": 0, "repeats_dropped": 0}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        now = ctx.now  # the engine set it to this event's time
        signals = self._expire(state, now, ctx) if state["partials"] else []
        partials: list[dict[str, Any]] = state["partials"]
        survivors: list[dict[str, Any]] = []
        completed: list[dict[str, Any]] = []
        steps = self.steps
        for partial in partials:
            captures = partial["c"]
            if self.until is not None and self.until.evaluate(event, captures):
                continue
            step = steps[partial["s"]]
            if step.absent:
                if step.condition.evaluate(event, captures):
                    continue  # the awaited action happened: no finding
                survivors.append(partial)
                continue
            if now + ALLOWED_LATENESS < partial["t1"] or not step.condition.evaluate(event, captures):
                survivors.append(partial)
                continue
            advanced = self._catch_up(self._advance(partial, step, event, now), state)
            if advanced["s"] >= len(steps):
                completed.append(advanced)
            else:
                survivors.append(advanced)
        first = steps[0]
        if (self.until is None or not self.until.evaluate(event, {})) and first.condition.evaluate(event, {}):
            fresh = self._advance(
                {"s": 0, "ids": [], "c": {}, "t0": now, "t1": now, "dl": None}, first, event, now
            )
            fresh = self._catch_up(fresh, state)
            if fresh["s"] >= len(steps):
                completed.append(fresh)
            elif not any(p["ids"][0] == event.event_id for p in survivors):  # a redelivered start: once
                survivors.append(fresh)
                self._bound_repeats(survivors, fresh, state)
                if len(survivors) > self.max_partials:
                    survivors.pop(0)
                    state["evicted"] += 1
        if completed:
            signals.extend(self._fire(completed, ctx))
        state["partials"] = survivors
        if len(steps) > 1:
            self._remember(state, event, now)
        return state, signals

    def _bound_repeats(
        self, survivors: list[dict[str, Any]], fresh: dict[str, Any], state: dict[str, Any]
    ) -> None:
        """At most ``max_repeats`` partials that differ only in their start. The earliest start stays (the
        evidence a chain reports while it is in its window) and so does the newest (the most time left:
        keeping it means no chain that fits a window is lost); the second oldest goes first."""
        group = [p for p in survivors if _repeat_of(p, fresh)]
        for dropped in group[1 : 1 + max(0, len(group) - self.max_repeats)]:
            survivors.remove(dropped)
            state["repeats_dropped"] = state.get("repeats_dropped", 0) + 1

    def _fire(self, completed: list[dict[str, Any]], ctx: KeyContext) -> list[Signal]:
        """One signal per completed chain: repeats completed by the same events fire once, as the
        earliest start among them (the one a merged partial used to report)."""
        chosen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for partial in completed:
            group = _repeat_key(partial)
            best = chosen.get(group)
            if best is None or partial["t0"] < best["t0"]:
                chosen[group] = partial
        return [self._signal(p, ctx) for p in chosen.values()]

    # Sources such as CloudTrail stamp whole seconds: a chain's steps often share one timestamp and
    # arrive in any order. Events of the last TIE_SECONDS are remembered so that a step which
    # arrived before its predecessor (in the same second) still completes the chain.
    # Only what a later step can read is kept (a small nested dict), and only for events whose kind,
    # tool and action a later step can match at all: remembering must stay cheap on every event.
    def _remember(self, state: dict[str, Any], event: AnyEvent, now: float) -> None:
        recent = state.get("recent")
        if recent and now - recent[0][0] > TIE_SECONDS:
            recent = [r for r in recent if now - r[0] <= TIE_SECONDS]
            state["recent"] = recent
        if not self._may_be_later_step(event):
            return
        kept: dict[str, Any] = {"event_id": event.event_id}
        for parts in self._later_paths:
            value = read_path(event, parts)
            if value is not None:
                _put(kept, parts, _plain(value) if len(parts) > 1 or not isinstance(value, dict) else value)
        recent = state.setdefault("recent", [])
        recent.append([now, kept])
        del recent[:-MAX_RECENT]

    def _may_be_later_step(self, event: AnyEvent) -> bool:
        key = (event.kind, getattr(event, "tool", None), str(getattr(event, "action", "")))
        known = self._later_cache.get(key)
        if known is None:
            probe = {"kind": key[0], "tool": key[1], "action": key[2]}
            known = any(
                s.condition.prefilter is None or s.condition.prefilter(probe, {})
                for s in self.steps[1:]
                if not s.absent
            )
            if len(self._later_cache) < 10_000:
                self._later_cache[key] = known
        return known

    def _catch_up(self, partial: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        recent = state.get("recent")
        if not recent or partial["s"] >= len(self.steps):
            return partial
        used = set(partial["ids"])
        progressed = True
        while progressed and partial["s"] < len(self.steps):
            progressed = False
            step = self.steps[partial["s"]]
            if step.absent:
                break
            for when, data in recent:
                if data["event_id"] in used or abs(when - partial["t1"]) > TIE_SECONDS:
                    continue
                if step.condition.evaluate(data, partial["c"]):
                    partial = self._advance(partial, step, data, max(when, partial["t1"]))
                    used.add(data["event_id"])
                    progressed = True
                    break
        return partial

    def _advance(
        self, partial: dict[str, Any], step: Step, event: AnyEvent | dict[str, Any], now: float
    ) -> dict[str, Any]:
        captures = dict(partial["c"])
        for path in step.capture:
            captures[f"{step.name}.{path}"] = _plain(read_path(event, tuple(path.split("."))))
        index = partial["s"] + 1
        deadline = None
        if index < len(self.steps) and self.steps[index].absent:
            deadline = now + (self.steps[index].within or self.within)
        return {
            "s": index,
            "ids": [*partial["ids"], event["event_id"] if isinstance(event, dict) else event.event_id],
            "c": captures,
            "t0": partial["t0"],
            "t1": now,
            "dl": deadline,
        }

    def _expire(self, state: dict[str, Any], now: float, ctx: KeyContext) -> list[Signal]:
        due: list[dict[str, Any]] = []
        kept = []
        for partial in state["partials"]:
            if partial["dl"] is not None and now >= partial["dl"]:
                due.append(partial)  # nothing cancelled it in time
            elif partial["dl"] is None and now - partial["t0"] > self.within:
                continue  # window passed before the chain completed
            else:
                kept.append(partial)
        state["partials"] = kept
        return self._fire(due, ctx) if due else []

    def advance(self, state: dict[str, Any], now: float, ctx: KeyContext) -> list[Signal]:
        """Let time pass without an event (a stream timer): absence deadlines may complete."""
        return self._expire(state, now, ctx)

    def close(self, state: dict[str, Any], ctx: KeyContext) -> list[Signal]:
        """The key closed: nothing more will arrive, so every pending absence is confirmed."""
        signals = self._fire([p for p in state["partials"] if p["dl"] is not None], ctx)
        state["partials"] = []
        return signals

    def compact(self, state: dict[str, Any], horizon: float) -> None:
        """Partials whose window passed (``_expire`` drops them first thing on the key's next event) and the
        remembered events once all of them are older than a tie (``_remember`` would drop them all)."""
        partials = state["partials"]
        if any(p["dl"] is None and horizon - p["t0"] > self.within for p in partials):
            state["partials"] = [
                p for p in partials if p["dl"] is not None or horizon - p["t0"] <= self.within
            ]
        recent = state.get("recent")
        if recent is not None and all(horizon - r[0] > TIE_SECONDS for r in recent):
            del state["recent"]

    def progress(self, state: dict[str, Any]) -> float:
        best = 0
        for partial in state["partials"]:
            best = max(best, partial["s"])
        return best / len(self.steps)

    def _signal(self, partial: dict[str, Any], ctx: KeyContext) -> Signal:
        captures = partial["c"]
        return Signal(
            event_ids=tuple(partial["ids"]),
            first_time=partial["t0"],
            last_time=partial["t1"],
            title=self.render_title(captures, ctx),
            details={"captures": {k: v for k, v in captures.items() if not k.endswith(_AUTO)}},
            credential_ids=_collected(captures, ".credential_id"),
            environments=_collected(captures, ".environment"),
            severity=self.asked_severity(ctx),
        )


class ThresholdRule(RuleDetector):
    rule_type = "threshold"
    count: ClassVar[int] = 1
    distinct: ClassVar[str | None] = None

    def initial_state(self) -> dict[str, Any]:
        return {"window": []}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        step = self.steps[0]
        if not step.condition.evaluate(event, {}):
            return state, ()
        now = ctx.now
        value = None
        if self.distinct:
            value = _plain(read_path(event, tuple(self.distinct.split("."))))
            if value is None:
                return state, ()
        window = [entry for entry in state["window"] if now - entry[0] <= self.within]
        window.append([now, event.event_id, value])
        if len(window) > 4 * MAX_THRESHOLD_EVENTS:
            window = window[-4 * MAX_THRESHOLD_EVENTS :]
        reached = len({e[2] for e in window}) if self.distinct else len(window)
        if reached >= self.count:
            state["window"] = []  # start counting afresh: one finding per burst, not per event
            captures = {
                f"{step.name}.{p}": _plain(read_path(event, tuple(p.split(".")))) for p in step.capture
            }
            ids = tuple(e[1] for e in window)[-MAX_THRESHOLD_EVENTS:]
            return state, [
                Signal(
                    event_ids=ids,
                    first_time=window[0][0],
                    last_time=now,
                    title=self.render_title(captures, ctx),
                    details={"count": len(window), "distinct": reached},
                    credential_ids=_collected(captures, ".credential_id"),
                    environments=_collected(captures, ".environment"),
                    severity=self.asked_severity(ctx),
                )
            ]
        state["window"] = window
        return state, ()

    def compact(self, state: dict[str, Any], horizon: float) -> None:
        """Entries out of the window for any later event (``update`` filters them out before counting)."""
        window = state["window"]
        if any(horizon - e[0] > self.within for e in window):
            state["window"] = [e for e in window if horizon - e[0] <= self.within]

    def progress(self, state: dict[str, Any]) -> float:
        window = state["window"]
        if not window:
            return 0.0
        reached = len({e[2] for e in window}) if self.distinct else len(window)
        return min(1.0, reached / self.count)


_AUTO = (".credential_id", ".environment")


def _repeat_key(partial: dict[str, Any]) -> tuple[Any, ...]:
    """What partials that differ only in their start share: the step, the captures, the later events."""
    return (partial["s"], tuple(partial["ids"][1:]), tuple(sorted(partial["c"].items())))


def _repeat_of(partial: dict[str, Any], other: dict[str, Any]) -> bool:
    return bool(
        partial["s"] == other["s"] and partial["c"] == other["c"] and partial["ids"][1:] == other["ids"][1:]
    )


def _collected(captures: dict[str, Any], suffix: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for k, v in captures.items() if k.endswith(suffix) and v is not None))


def _put(target: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# ---------------------------------------------------------------------------------------- loading
def _identity_kinds(name: str, data: dict[str, Any], field: str) -> frozenset[IdentityKind] | None:
    """``judges: [agent]`` / ``judges_unsure: [unknown]``: the identity kinds a rule judges (issue 13)."""
    if field not in data:
        return None
    values = data[field]
    allowed = ", ".join(k.value for k in IdentityKind)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RuleError(name, _line(data, field), f"{field} must be a list of identity kinds ({allowed})")
    try:
        return frozenset(IdentityKind(v) for v in values)
    except ValueError:
        raise RuleError(
            name, _line(data, field), f"{field}: {values} holds a kind not in {allowed}"
        ) from None


_TOP_LEVEL = {
    "when_asked",
    "id",
    "title",
    "alert_title",
    "description",
    "severity",
    "maturity",
    "mappings",
    "runbook",
    "version",
    "by",
    "type",
    "within",
    "steps",
    "until",
    "threshold",
    "max_partials",
    "max_repeats",
    "suppress",
    "tags",
    "judges",
    "judges_unsure",
}
_STEP_KEYS = {"name", "where", "absent", "within"}


def load_rule_file(path: Path, expected_id: str | None = None) -> type[RuleDetector]:
    """Load and validate one rule file; any problem raises RuleError with file and line."""
    name = str(path)
    try:
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise RuleError(
                name, None, f"file is over {MAX_RULE_FILE_BYTES} bytes", "a rule file holds one rule"
            )
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(name, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from exc
    except RecursionError:
        raise RuleError(name, None, "not valid YAML: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(name, None, f"cannot be read: {exc}", "save the file as UTF-8 text") from None
    if not isinstance(data, _LineDict):
        raise RuleError(name, 1, "a rule file must be a mapping (id:, title:, steps: …)")
    try:
        rule = build_rule(data, name, expected_id)
    except RuleError:
        raise
    except RecursionError:
        raise RuleError(name, _line(data, "__self__"), "nested too deeply", "flatten the rule") from None
    except Exception as exc:  # the loader is the boundary: a rule from a shared pack is untrusted input
        raise RuleError(
            name,
            _line(data, "__self__"),
            f"unexpected value in the rule: {type(exc).__name__}: {exc}",
            "compare the rule with docs/rules.md",
        ) from None
    rule.state_key = f"{rule.id}@{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    return rule


def _line(data: Any, key: str) -> int | None:
    lines = getattr(data, "lines", {})
    return lines.get(key) or lines.get("__self__")


def _when_asked(data: _LineDict, name: str) -> tuple[Any, Severity] | None:
    """``when_asked: {task: <RE2 pattern>, severity: medium}``: the severity when the task asks for it."""
    spec = data.get("when_asked")
    if spec is None:
        return None
    line = _line(data, "when_asked")
    if not isinstance(spec, dict) or set(spec) != {"task", "severity"}:
        raise RuleError(name, line, "when_asked must have exactly 'task' (a pattern) and 'severity'")
    try:
        return compile_regex(str(spec["task"])), Severity(spec["severity"])
    except ExpressionError as exc:
        raise RuleError(name, line, f"when_asked.task: {exc}") from None
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise RuleError(name, line, f"when_asked.severity must be one of {allowed}") from None


def build_rule(data: _LineDict, name: str, expected_id: str | None) -> type[RuleDetector]:
    unknown = set(data) - _TOP_LEVEL
    if unknown:
        bad = sorted(unknown)[0]
        raise RuleError(
            name, _line(data, bad), f"unknown key '{bad}' (allowed: {', '.join(sorted(_TOP_LEVEL))})"
        )
    for required in ("id", "title", "description", "severity", "runbook", "mappings"):
        if not data.get(required):
            raise RuleError(
                name,
                _line(data, "__self__"),
                f"missing required key '{required}'",
                f"add '{required}:' (docs/rules.md lists every key)",
            )
    rule_id = str(data["id"])
    if expected_id is not None and rule_id != expected_id:
        raise RuleError(name, _line(data, "id"), f"id '{rule_id}' must match the file path ('{expected_id}')")
    try:
        severity = Severity(data["severity"])
    except ValueError:
        raise RuleError(
            name, _line(data, "severity"), f"severity must be one of {', '.join(s.value for s in Severity)}"
        ) from None
    try:
        maturity = Maturity(data.get("maturity", "stable"))
    except ValueError:
        raise RuleError(
            name, _line(data, "maturity"), f"maturity must be one of {', '.join(m.value for m in Maturity)}"
        ) from None
    try:
        mappings = Mappings(**{k: tuple(v) for k, v in dict(data["mappings"]).items()})
    except (TypeError, ValueError) as exc:
        raise RuleError(
            name,
            _line(data, "mappings"),
            f"mappings take owasp_agentic, owasp_nhi, mitre_attack lists: {exc}",
        ) from None
    key: KeyKind = data.get("by", "session")
    if key not in _KEY_FIELDS:
        raise RuleError(name, _line(data, "by"), f"by must be one of {', '.join(_KEY_FIELDS)}")
    judged = {field: _identity_kinds(name, data, field) for field in ("judges", "judges_unsure")}
    rule_type = data.get("type", "sequence")
    try:
        within = parse_duration(data.get("within", "1h"))
        suppress = parse_duration(data.get("suppress", 0))
    except ValueError as exc:
        raise RuleError(name, _line(data, "within"), str(exc)) from None

    def compile_at(text: Any, container: Any, key_name: str) -> Expression:
        if not isinstance(text, str):
            raise RuleError(name, _line(container, key_name), f"'{key_name}' must be a condition string")
        try:
            return compile_expression(text)
        except ExpressionError as exc:
            raise RuleError(name, _line(container, key_name), f"bad condition: {exc}") from None

    steps: list[Step] = []
    attrs: dict[str, Any] = {}
    if rule_type == "sequence":
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise RuleError(name, _line(data, "steps"), "a sequence rule needs a non-empty list of steps")
        for number, raw in enumerate(raw_steps, 1):
            if not isinstance(raw, dict) or "where" not in raw:
                raise RuleError(name, _line(data, "steps"), f"step {number} needs a 'where' condition")
            extra = set(raw) - _STEP_KEYS
            if extra:
                raise RuleError(name, _line(raw, sorted(extra)[0]), f"unknown step key '{sorted(extra)[0]}'")
            step_within = None
            if "within" in raw:
                try:
                    step_within = parse_duration(raw["within"])
                except ValueError as exc:
                    raise RuleError(name, _line(raw, "within"), str(exc)) from None
            steps.append(
                Step(
                    str(raw.get("name", f"s{number}")),
                    compile_at(raw["where"], raw, "where"),
                    bool(raw.get("absent", False)),
                    step_within,
                )
            )
        if steps[0].absent:
            raise RuleError(name, _line(data, "steps"), "the first step cannot be 'absent'")
        for step in steps[:-1]:
            if step.absent:
                raise RuleError(
                    name,
                    _line(data, "steps"),
                    f"only the last step may be 'absent' (step '{step.name}' is not last)",
                )
    elif rule_type == "threshold":
        threshold = data.get("threshold")
        if not isinstance(threshold, dict) or "count" not in threshold:
            raise RuleError(name, _line(data, "threshold"), "a threshold rule needs threshold: {count: N}")
        where = threshold.get("where")
        steps.append(Step("event", compile_at(where, threshold, "where")))
        try:
            within = parse_duration(threshold.get("within", data.get("within", "5m")))
        except ValueError as exc:
            raise RuleError(name, _line(threshold, "within"), str(exc)) from None
        count = threshold["count"]
        if not isinstance(count, int) or count < 1:
            raise RuleError(name, _line(threshold, "count"), "count must be a whole number ≥ 1")
        attrs["count"] = count
        distinct = threshold.get("distinct")
        if distinct is not None and (not isinstance(distinct, str) or check_path(distinct)):
            problem = check_path(distinct) if isinstance(distinct, str) else "must be a field path"
            raise RuleError(name, _line(threshold, "distinct"), f"distinct: {problem}")
        attrs["distinct"] = distinct
    else:
        raise RuleError(name, _line(data, "type"), "type must be 'sequence' or 'threshold'")

    until = compile_at(data["until"], data, "until") if "until" in data else None
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise RuleError(name, _line(data, "steps"), "step names must be unique")
    # Which paths of each step's event are referenced later (conditions, until, title)?
    refs: set[str] = set()
    for step in steps:
        refs |= step.condition.refs
    if until is not None:
        refs |= until.refs
    title_template = data.get("alert_title")
    if title_template is not None and not isinstance(title_template, str):
        raise RuleError(name, _line(data, "alert_title"), "alert_title must be text")
    for placeholder in _PLACEHOLDER.findall(title_template or ""):
        problem = _placeholder_problem(placeholder, names)
        if problem:
            raise RuleError(
                name,
                _line(data, "alert_title"),
                f"alert_title placeholder {{{placeholder}}}: {problem}",
                "use {step.field} (a field of the event a step matched) or one of "
                + ", ".join("{" + f + "}" for f in sorted(TITLE_CONTEXT_FIELDS)),
            )
        if "." in placeholder:
            refs.add(placeholder)
    for ref in sorted(refs):
        step_name, _, path = ref.partition(".")
        if step_name not in names:
            raise RuleError(name, _line(data, "steps"), f"reference ${ref} names no step (steps: {names})")
        for i, step in enumerate(steps):
            if step.name == step_name:
                referring_later = any(ref in s.condition.refs for s in steps[: i + 1])
                if referring_later:
                    raise RuleError(
                        name,
                        _line(data, "steps"),
                        f"step '{step.name}' refers to ${ref}, which is only known after it",
                    )
                step.capture = (*step.capture, path)
    for step in steps:
        if not step.absent:
            step.capture = (*dict.fromkeys((*step.capture, *(a[1:] for a in _AUTO))),)
    if key != "session":
        for step in steps:
            step.condition = _and_key_present(step.condition, _KEY_FIELDS[key])

    when_asked = _when_asked(data, name)
    kinds, actions = _index_hints([s for s in steps if not s.absent] or steps)
    attrs.update(
        id=rule_id,
        title=str(data["title"]),
        alert_title=title_template,
        description=str(data["description"]),
        severity=severity,
        maturity=maturity,
        mappings=mappings,
        runbook=str(data["runbook"]),
        version=int(data.get("version", 1)),
        key=key,
        within=within,
        **{field: kinds_ for field, kinds_ in judged.items() if kinds_ is not None},
        steps=tuple(steps),
        until=until,
        max_partials=int(data.get("max_partials", MAX_PARTIALS)),
        max_repeats=max(2, int(data.get("max_repeats", MAX_REPEATS))),
        suppress_seconds=suppress,
        kinds=kinds,
        actions=actions,
        source_file=name,
        when_asked=when_asked,
    )
    # Absent steps and `until` must see every event, so they widen the index.
    if until is not None or any(s.absent for s in steps):
        attrs["kinds"], attrs["actions"] = None, None
    later: set[str] = set()
    for step in steps[1:]:
        later |= set(step.condition.paths) | set(step.capture)
    if key != "session":
        later.add(_KEY_FIELDS[key])  # the key-presence check wrapped around every condition
    # A rule reads only its events' fields: classification is needed where one of them is `capabilities`.
    read: set[str] = set()
    for step in steps:
        read |= set(step.condition.paths) | set(step.capture)
    if until is not None:
        read |= set(until.paths)
    if distinct := attrs.get("distinct"):
        read.add(distinct)
    attrs["needs"] = (
        frozenset({"capabilities"}) if any(p.split(".")[0] == "capabilities" for p in read) else frozenset()
    )
    attrs["_later_paths"] = tuple(tuple(p.split(".")) for p in sorted(later))
    attrs["_later_cache"] = {}
    base: type[RuleDetector] = SequenceRule if rule_type == "sequence" else ThresholdRule
    return type(f"Rule_{rule_id.replace('.', '_')}", (base,), attrs)


def _placeholder_problem(placeholder: str, step_names: list[str]) -> str | None:
    if "." not in placeholder:
        return None if placeholder in TITLE_CONTEXT_FIELDS else "not a field the engine knows about the key"
    step_name, _, path = placeholder.partition(".")
    if step_name not in step_names:
        return f"'{step_name}' names no step (steps: {', '.join(step_names)})"
    return check_path(path)


def _and_key_present(condition: Expression, field_name: str) -> Expression:
    original = condition.evaluate
    parts = (field_name,)
    return Expression(
        condition.source,
        lambda e, c: read_path(e, parts) is not None and original(e, c),
        condition.refs,
        condition.constraints,
        condition.prefilter,
    )


def _index_hints(steps: list[Step]) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Union of the kinds/actions that any step can match; None where some step is unconstrained."""
    kinds: set[str] = set()
    actions: set[str] = set()
    any_kind = any_action = False
    for step in steps:
        constraints = step.condition.constraints
        if "kind" in constraints:
            kinds |= constraints["kind"]
        else:
            any_kind = True
        if "action" in constraints:
            actions |= constraints["action"]
        else:
            any_action = True
    return (None if any_kind else frozenset(kinds)), (None if any_action else frozenset(actions))


def is_rule(detector: Detector) -> bool:
    return isinstance(detector, RuleDetector)
