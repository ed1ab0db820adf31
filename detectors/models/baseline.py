"""What history says is normal for each agent and each peer group (agents of one template).

Built from finished session states (``features.update``) during training, frozen into the model file, and
read by the stream detectors: the ``new_*`` session features, first-seen findings, cadence baselines and
the "against the baseline" half of every explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from detectors.models.features import GAP_BINS, Known, bin_centre, peer_group

MAX_VALUES = 4096  # values remembered per dimension per agent or group (a bound for the model file's size)
DIMENSIONS = ("tool", "target", "environment", "issuer")
MIN_SESSIONS = 3  # fewer sessions of history than this is no baseline: nothing counts as new


@dataclass
class Profile:
    """One agent's (or one peer group's) history."""

    sessions: int = 0
    seen: dict[str, set[str]] = field(default_factory=lambda: {d: set() for d in DIMENSIONS})
    gap_hist: list[int] = field(default_factory=lambda: [0] * GAP_BINS)
    _quantiles: dict[float, float | None] = field(default_factory=dict, repr=False, compare=False)

    def add(self, dimension: str, value: str) -> None:
        bag = self.seen[dimension]
        if len(bag) < MAX_VALUES:
            bag.add(value)

    def knows(self, dimension: str, value: str) -> bool:
        return value in self.seen[dimension]

    def gap_quantile(self, q: float) -> float | None:
        """A quantile of this history's gaps between calls (seconds, log-bin resolution)."""
        if q not in self._quantiles:
            self._quantiles[q] = self._gap_quantile(q)
        return self._quantiles[q]

    def _gap_quantile(self, q: float) -> float | None:
        total = sum(self.gap_hist)
        if not total:
            return None
        running = 0
        for index, count in enumerate(self.gap_hist):
            running += count
            if running >= q * total:
                return bin_centre(index)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "seen": {d: sorted(v) for d, v in self.seen.items()},
            "gap_hist": self.gap_hist,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(
            sessions=int(data["sessions"]),
            seen={d: set(data["seen"].get(d, ())) for d in DIMENSIONS},
            gap_hist=[int(c) for c in data["gap_hist"]],
        )


@dataclass
class Baseline:
    agents: dict[str, Profile] = field(default_factory=dict)
    groups: dict[str, Profile] = field(default_factory=dict)
    # Per peer group (and "*" for everyone): quantiles of each feature in human units, for explanations.
    quantiles: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    _known: dict[str | None, Known] = field(default_factory=dict, repr=False, compare=False)

    def profiles(self, agent_id: str | None) -> tuple[Profile | None, Profile | None]:
        """The agent's profile and its peer group's, each None when there is not enough history."""
        agent = self.agents.get(agent_id) if agent_id else None
        group_name = peer_group(agent_id)
        group = self.groups.get(group_name) if group_name else None
        return (
            agent if agent is not None and agent.sessions >= MIN_SESSIONS else None,
            group if group is not None and group.sessions >= MIN_SESSIONS else None,
        )

    def known(self, agent_id: str | None) -> Known:
        """Tools and target families the agent has used, or its peer group when the agent is new."""
        cached = self._known.get(agent_id)
        if cached is None:
            cached = self._known[agent_id] = self._lookup(agent_id)
        return cached

    def _lookup(self, agent_id: str | None) -> Known:
        agent, group = self.profiles(agent_id)
        profile = agent or group
        if profile is None:
            return Known(None, None)
        return Known(frozenset(profile.seen["tool"]), frozenset(profile.seen["target"]))

    def add_session(self, agent_id: str | None, state: dict[str, Any]) -> None:
        """Fold one finished session into the agent's and its peer group's history."""
        if not agent_id:
            return
        group_name = peer_group(agent_id) or agent_id
        for profile in (
            self.agents.setdefault(agent_id, Profile()),
            self.groups.setdefault(group_name, Profile()),
        ):
            profile.sessions += 1
            for tool in state["tools"]:
                profile.add("tool", tool)
            for family in state["families"]:
                profile.add("target", family)
            for env in state["envs"]:
                profile.add("environment", env)
            for issuer in state["issuers"]:
                profile.add("issuer", issuer)
            for index, count in enumerate(state["hist"]):
                profile.gap_hist[index] += count
            profile._quantiles.clear()
        self._known.clear()  # the agent's and (for agents that fall back to it) the group's view changed

    def set_quantiles(self, rows: Sequence[tuple[str | None, list[float]]]) -> None:
        """Feature quantiles (5th, 50th, 95th percentile) per peer group and overall, from training rows."""
        from detectors.models.features import FEATURE_NAMES

        buckets: dict[str, list[list[float]]] = {"*": []}
        for agent_id, raw in rows:
            buckets["*"].append(raw)
            group = peer_group(agent_id)
            if group:
                buckets.setdefault(group, []).append(raw)
        self.quantiles = {}
        for name, vectors in buckets.items():
            if len(vectors) < 20 and name != "*":
                continue  # too few sessions for a group-specific baseline: explanations use everyone's
            self.quantiles[name] = {
                feature: [_quantile(sorted(v[i] for v in vectors), q) for q in (0.05, 0.5, 0.95)]
                for i, feature in enumerate(FEATURE_NAMES)
            }

    def quantiles_for(self, agent_id: str | None) -> tuple[str, dict[str, list[float]]]:
        group = peer_group(agent_id)
        if group and group in self.quantiles:
            return f"peer group {group}", self.quantiles[group]
        return "all agents", self.quantiles.get("*", {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "agents": {k: v.to_dict() for k, v in sorted(self.agents.items())},
            "groups": {k: v.to_dict() for k, v in sorted(self.groups.items())},
            "quantiles": self.quantiles,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        return cls(
            agents={k: Profile.from_dict(v) for k, v in data["agents"].items()},
            groups={k: Profile.from_dict(v) for k, v in data["groups"].items()},
            quantiles=data.get("quantiles", {}),
        )


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)
