"""Sigma correlation rules (``event_count``, ``value_count``, ``temporal``, ``temporal_ordered``) as
stateful chainwatch detectors.

Keyed by principal (chainwatch's widest key): the rule's ``group-by`` fields split each principal's events
further. A correlation fires once its condition holds within ``timespan`` and then starts over, so a burst
alerts once. Bounded state: ``MAX_GROUPS`` groups per principal, ``MAX_ITEMS`` events per group.
Known gaps: events of different principals are never counted together (group by source IP across users is
seen per user); ``lt``/``lte``/``neq`` conditions (which need a closed window) and field aliases are reported
as untranslatable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from detectors.base import KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.sigma_rules.fields import read_field
from detectors.sigma_rules.matcher import Predicate
from schemas.events import AnyEvent, ToolCall

MAX_GROUPS = 128
MAX_ITEMS = 256
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "eq": lambda a, b: a == b,
}


class SigmaCorrelationDetector(StatefulDetector):
    """Base of the classes the loader builds, one per translated correlation rule."""

    key: ClassVar[KeyKind] = "principal"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    sigma: ClassVar[dict[str, Any]] = {}
    correlation_type: ClassVar[str]
    predicates: ClassVar[tuple[Predicate, ...]]  # one per referenced rule, in the rule's order
    group_fields: ClassVar[tuple[str, ...]]  # chainwatch paths
    timespan: ClassVar[float]
    op: ClassVar[str]
    count: ClassVar[float]
    value_field: ClassVar[str | None]

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or event.source != "cloudtrail":
            return state, ()
        matched = [i for i, predicate in enumerate(self.predicates) if predicate(event)]
        if not matched:
            return state, ()
        group = "\x1f".join(str(read_field(event, f)[1]) for f in self.group_fields)
        groups: dict[str, list[list[Any]]] = state.setdefault("groups", {})
        items = groups.pop(group, [])
        groups[group] = items  # most recently used last
        while len(groups) > MAX_GROUPS:
            del groups[next(iter(groups))]
        now = event.event_time.timestamp()
        value = None
        if self.value_field is not None:
            present, found = read_field(event, self.value_field)
            if not present:
                return state, ()
            value = str(found)
        for index in matched:
            items.append([now, event.event_id, index, value])
        items[:] = [i for i in items if now - i[0] <= self.timespan][-MAX_ITEMS:]
        evidence = self._satisfied(items)
        if evidence is None:
            return state, ()
        groups[group] = []
        ids = list(dict.fromkeys(i[1] for i in evidence))
        title = f"{self.title}: {self.correlation_type} correlation met ({len(ids)} events)"
        details = {
            "sigma": self.sigma,
            "group": dict(zip(self.group_fields, group.split("\x1f"), strict=False)),
        }
        signal = Signal(
            event_ids=tuple(ids),
            first_time=min(i[0] for i in evidence),
            last_time=now,
            title=title,
            details=details,
            session_id=event.session_id,
        )
        return state, [signal]

    def _satisfied(self, items: list[list[Any]]) -> list[list[Any]] | None:
        compare = _OPS[self.op]
        if self.correlation_type == "event_count":
            return items if compare(len({i[1] for i in items}), self.count) else None
        if self.correlation_type == "value_count":
            return items if compare(len({i[3] for i in items}), self.count) else None
        wanted = range(len(self.predicates))
        if self.correlation_type == "temporal":
            return items if {i[2] for i in items} >= set(wanted) else None
        step, chain = 0, []  # temporal_ordered: the referenced rules' events in the rule's order
        for item in items:
            if item[2] == step:
                chain.append(item)
                step += 1
                if step == len(wanted):
                    return chain
        return None


def correlation_detector(attrs: dict[str, Any]) -> SigmaCorrelationDetector:
    name = f"SigmaCorrelation_{attrs['id'].replace('.', '_')}"
    cls: type[SigmaCorrelationDetector] = type(name, (SigmaCorrelationDetector,), attrs)
    return cls()
