"""The models as detectors the engine already runs: session and agent keys, state in the key state.

* ``models.session_anomaly`` (session key): the session's features, updated per event, scored by the
  model's forest at the session's end event or, without one, when the key closes (idle timeout, end of
  input); one finding per session when the score reaches the model's threshold.
* ``models.first_seen`` (agent key): a tool, target family, environment or credential issuer this agent
  (or, for an agent with no history, its peer group) never used in the training history nor since.
* ``models.cadence`` (session key): a run of calls at machine speed, or in a metronome rhythm, against the
  agent's own gap distribution.

All three read one :class:`ModelHandle`: loaded lazily, re-read when the file's mtime changes (the engine's
``refresh``, called by the worker on every tick and by replays per batch). Maturity is the model file's:
``experimental`` (findings only) until an engineer promotes it (``chainwatch model promote``).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, Detector, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.models.baseline import Profile
from detectors.models.explain import explain, summary
from detectors.models.features import (
    Known,
    feature_vector,
    model_inputs,
    target_family,
    update,
)
from detectors.models.features import (
    initial_state as feature_state,
)
from detectors.models.modelfile import ModelFile, ModelFileError, load_model
from detectors.models.training import MIN_TOOL_CALLS
from schemas.alerts import Mappings
from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall
from schemas.types import IdentityKind, Maturity, SessionAction, Severity

log = logging.getLogger("chainwatch.models")


class ModelHandle:
    """A model file read on first use and again whenever its modification time changes. A file that fails
    to load keeps the previous model (and says why in ``last_error``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._model: ModelFile | None = None
        self._stamp: tuple[float, int] | None = None
        self.last_error: str | None = None
        self.loads = 0

    @property
    def model(self) -> ModelFile | None:
        if self._stamp is None:
            self.refresh()
        return self._model

    def refresh(self) -> bool:
        """True when a new model was loaded."""
        error: str | None = None
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            stamp = (-1.0, -1)
            error = f"model file {self.path}: {exc.strerror or exc}; models score nothing until it exists"
        else:
            stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        if error is not None:
            self._report(error)
            return False
        try:
            self._model = load_model(self.path)
        except ModelFileError as exc:
            self._report(f"{exc}; the previous model (if any) keeps running")
            return False
        self.loads += 1
        self.last_error = None
        log.info(
            "model loaded from %s (%s rows, threshold %.4f)",
            self.path,
            self._model.metadata.get("rows"),
            self._model.threshold,
        )
        return True

    def _report(self, error: str) -> None:
        if error != self.last_error:
            log.error("%s", error)
        self.last_error = error


class ModelDetector(Detector):
    """What the three model detectors share: the handle, the model's maturity, a refresh hook."""

    mappings: ClassVar[Mappings] = Mappings()
    # Agent behaviour models: they judge agents (and unknown principals one step lower), issue 13.
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS

    def __init__(self, handle: ModelHandle) -> None:
        self.handle = handle
        # agent id -> its and its peer group's profiles, for the model loaded as ``handle.loads``: derived
        # from the model alone (not stream state), so it is a cache, not state.
        self._profiles: dict[str | None, tuple[Profile | None, Profile | None]] = {}
        self._profiles_of = -1

    def profiles(self, model: ModelFile, agent_id: str | None) -> tuple[Profile | None, Profile | None]:
        if self._profiles_of != self.handle.loads:
            self._profiles.clear()
            self._profiles_of = self.handle.loads
        found = self._profiles.get(agent_id)
        if found is None:
            if len(self._profiles) > 100_000:
                self._profiles.clear()  # unbounded agent ids must not grow memory forever
            found = self._profiles[agent_id] = model.baseline.profiles(agent_id)
        return found

    # The model file, not the class, decides: a promoted model's findings alert.
    @property
    def maturity(self) -> Maturity:  # type: ignore[override]
        model = self.handle.model
        return Maturity(model.maturity) if model is not None else Maturity.EXPERIMENTAL

    def refresh(self) -> bool:
        return self.handle.refresh()


class SessionAnomaly(ModelDetector, StatefulDetector):
    id = "models.session_anomaly"
    title = "Session unlike this agent kind's history"
    description = (
        "An IsolationForest over per-session features (calls, tools, targets, production share, write and "
        "denied shares, credentials and their scope breadth, call timing, hour, tools and targets new to the "
        "agent) trained on history. Cannot see arguments, results or the order of calls: a chain built "
        "from the agent's usual tools at its usual pace scores as usual."
    )
    severity = Severity.MEDIUM
    runbook = (
        "Read the explanation: the features furthest from the baseline. Open the session's chain; confirm "
        "with the owner whether the new tools, targets or pace were part of the task."
    )
    key: ClassVar[KeyKind] = "session"

    def initial_state(self) -> dict[str, Any]:
        return {"f": feature_state(), "flagged": False, "score": None}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        model = self.handle.model
        known = model.baseline.known(ctx.agent_id) if model is not None else Known(None, None)
        features = state["f"]
        update(features, event, known, ctx.now)
        # The forest learnt whole sessions: a half-done one would look short, so it is judged when it ends.
        due = isinstance(event, SessionEvent) and event.action == SessionAction.END
        if not due or model is None:
            return state, ()
        return state, self._score(state, model, ctx)

    def on_close_with_state(self, state: dict[str, Any] | None, ctx: KeyContext) -> Iterable[Signal]:
        model = self.handle.model
        if state is None or model is None:
            return ()
        return self._score(state, model, ctx)

    def _score(self, state: dict[str, Any], model: ModelFile, ctx: KeyContext) -> list[Signal]:
        features = state["f"]
        if state["flagged"] or features["calls"] < MIN_TOOL_CALLS:
            return []
        raw = feature_vector(features)
        score = model.score(model_inputs(raw))
        state["score"] = round(score, 4)
        if score < model.threshold:
            return []
        state["flagged"] = True
        against, reasons = explain(raw, model.baseline, ctx.agent_id)
        details: dict[str, Any] = {
            "score": round(score, 4),
            "threshold": round(model.threshold, 4),
            "explanation": summary(reasons, against),
            "unusual": [r.to_dict() for r in reasons],
            "baseline": against,
            "model_trained_on": model.metadata.get("training_window"),
        }
        if features["new_examples"]:
            details["new_to_agent"] = list(features["new_examples"])
        ids = tuple(dict.fromkeys(i for i in (features["first_id"], features["last_id"]) if i))
        start = features["start"]
        return [
            Signal(
                event_ids=ids,
                first_time=start,
                last_time=ctx.last_time if ctx.last_time is not None else start,
                title=f"Session unlike its baseline (anomaly score {score:.2f} ≥ {model.threshold:.2f})",
                details=details,
                environments=tuple(sorted(ctx.environments)),
                session_id=ctx.key,
            )
        ]


MAX_SEEN = 1024  # values per dimension an agent's stream state remembers beyond its trained baseline


class FirstSeen(ModelDetector, StatefulDetector):
    id = "models.first_seen"
    title = "First use of a tool, target, environment or credential issuer by this agent"
    description = (
        "The review trigger for an agent pointed somewhere new: a tool, target family (repository, bucket, "
        "account, host), environment or credential issuer that this agent never used in the training "
        "history or since; an agent with no history is compared with its peer group (same name without "
        "the number). Cannot judge agents whose peer group has no history either."
    )
    severity = Severity.LOW
    runbook = (
        "Check the new value against the session's task: a new repository or account the task names is "
        "expected; one it does not name is the question to ask the owner."
    )
    key: ClassVar[KeyKind] = "agent"
    kinds = frozenset({"tool_call", "credential"})

    def initial_state(self) -> dict[str, Any]:
        return {"tool": [], "target": [], "environment": [], "issuer": []}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        model = self.handle.model
        if model is None:
            return state, ()
        values: list[tuple[str, str]] = []
        if isinstance(event, ToolCall):
            values.append(("tool", event.tool))
            values.append(("environment", event.environment.value))
            if event.target:
                values.append(("target", target_family(event.target)))
        elif isinstance(event, CredentialEvent) and event.issuer:
            values.append(("issuer", event.issuer))
        agent, group = self.profiles(model, event.agent_id)
        profile = agent or group
        if profile is None:
            return state, ()  # no history for the agent nor its kind: nothing can be first
        signals = []
        for dimension, value in values:
            if profile.knows(dimension, value) or value in state[dimension]:
                continue
            if len(state[dimension]) < MAX_SEEN:
                state[dimension].append(value)
            peers_know = group is not None and group.knows(dimension, value)
            whose = f"agent {event.agent_id}" if agent is not None else f"peer group of {event.agent_id}"
            signals.append(
                Signal.of(
                    [event],
                    title=f"First {dimension} for {event.agent_id}: {value}",
                    severity=Severity.LOW if peers_know else Severity.MEDIUM,
                    details={
                        "dimension": dimension,
                        "value": value,
                        "explanation": (
                            f"{whose} never used this {dimension} in {profile.sessions} sessions of history"
                            + (
                                "; other agents of its kind have"
                                if peers_know
                                else "; nor has its peer group"
                            )
                        ),
                        "history_sessions": profile.sessions,
                        "peer_group_knows": peers_know,
                    },
                )
            )
        return state, signals


FAST_RUN = 8  # consecutive machine-speed gaps that make a burst
RHYTHM_GAPS = 10  # gaps whose spread is judged for a metronome rhythm
MACHINE_SPEED_S = (
    1.0  # a gap below this and far below the agent's own fastest is not a person's or a planner's
)
RHYTHM_CV = 0.05  # coefficient of variation below which gaps are a metronome


class Cadence(ModelDetector, StatefulDetector):
    id = "models.cadence"
    title = "Calls at machine speed or in a fixed rhythm, unlike this agent"
    description = (
        "A run of calls with sub-second gaps far below the agent's own 5th percentile gap, or a run of "
        "gaps so regular (coefficient of variation under 5%) that a script replaying a token is likelier "
        "than the agent, unless the agent's own history keeps one fixed pace; baselines come from the "
        "agent's (or its peer group's) history. Cannot see timing across sessions, nor a script that "
        "adds jitter."
    )
    severity = Severity.MEDIUM
    runbook = (
        "Look at the calls of the run: the same call repeated with a fixed pace points at a script using "
        "the agent's credential; check where the credential was issued and whether it left the agent."
    )
    key: ClassVar[KeyKind] = "session"
    kinds = frozenset({"tool_call"})

    def initial_state(self) -> dict[str, Any]:
        return {"last": None, "run": 0, "gaps": [], "ids": [], "fired": []}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        when = ctx.now  # the engine's event-time timestamp of this event
        last = state["last"]
        state["last"] = when if last is None else max(last, when)
        model = self.handle.model
        if last is None or model is None:
            state["ids"] = [event.event_id]
            return state, ()
        gap = max(0.0, when - last)
        gaps, ids = state["gaps"], state["ids"]  # bounded windows, updated in place (this runs per call)
        gaps.append(gap)
        ids.append(event.event_id)
        if len(gaps) > RHYTHM_GAPS:
            del gaps[0]
        if len(ids) > RHYTHM_GAPS + 1:
            del ids[0]
        agent, group = self.profiles(model, ctx.agent_id)
        profile = agent or group
        if profile is None:
            return state, ()
        p05 = profile.gap_quantile(0.05) or MACHINE_SPEED_S
        fast = min(MACHINE_SPEED_S, p05 / 4)
        state["run"] = state["run"] + 1 if gap < fast else 0
        signals: list[Signal] = []
        fired = state["fired"]
        if state["run"] >= FAST_RUN and "burst" not in fired:
            fired.append("burst")
            recent = gaps[-FAST_RUN:]
            signals.append(
                self._signal(
                    state,
                    event,
                    ctx,
                    FAST_RUN + 1,
                    "burst",
                    {
                        "explanation": (
                            f"{FAST_RUN} gaps in a row under {fast:.3g}s (largest {max(recent):.3g}s); "
                            f"{_whose(ctx, agent)}'s 5th percentile gap is {p05:.3g}s"
                        ),
                        "gaps_s": [round(g, 4) for g in recent],
                        "baseline_p05_s": round(p05, 4),
                    },
                )
            )
        # A fixed rhythm is only strange for an agent whose own history has more than one pace: an agent
        # that always calls on a timer (5th and 95th percentile gaps in the same histogram bin) is itself.
        if (
            len(gaps) == RHYTHM_GAPS
            and "rhythm" not in fired
            and profile.gap_quantile(0.05) != profile.gap_quantile(0.95)
        ):
            mean = sum(gaps) / RHYTHM_GAPS
            # A coefficient of variation under 5% keeps every gap within sqrt(n) * 5% of the mean: the
            # range test rejects ordinary runs without the standard deviation.
            if mean > 0 and max(gaps) - min(gaps) <= 2 * math.sqrt(RHYTHM_GAPS) * RHYTHM_CV * mean:
                cv = math.sqrt(sum((g - mean) ** 2 for g in gaps) / RHYTHM_GAPS) / mean
                if cv < RHYTHM_CV:
                    fired.append("rhythm")
                    median = profile.gap_quantile(0.5)
                    signals.append(
                        self._signal(
                            state,
                            event,
                            ctx,
                            RHYTHM_GAPS + 1,
                            "rhythm",
                            {
                                "explanation": (
                                    f"{RHYTHM_GAPS} gaps of {mean:.3g}s ± {cv * 100:.1f}%: a fixed rhythm; "
                                    f"{_whose(ctx, agent)}'s median gap is {median or float('nan'):.3g}s"
                                ),
                                "gaps_s": [round(g, 4) for g in gaps],
                                "coefficient_of_variation": round(cv, 4),
                            },
                        )
                    )
        return state, signals

    def _signal(
        self,
        state: dict[str, Any],
        event: AnyEvent,
        ctx: KeyContext,
        count: int,
        kind: str,
        details: dict[str, Any],
    ) -> Signal:
        ids = tuple(state["ids"][-count:])
        first = state["gaps"][-(count - 1) :]
        return Signal(
            event_ids=ids,
            first_time=event.event_time.timestamp() - sum(first),
            last_time=event.event_time.timestamp(),
            title="Calls at machine speed" if kind == "burst" else "Calls in a fixed rhythm",
            details={"pattern": kind, **details},
            session_id=ctx.key,
        )


def _whose(ctx: KeyContext, agent: object) -> str:
    return f"agent {ctx.agent_id}" if agent is not None else f"peer group of {ctx.agent_id}"


def model_detectors(handle: ModelHandle) -> list[Detector]:
    """The model detectors reading ``handle``, to add to an engine's detectors."""
    return [SessionAnomaly(handle), FirstSeen(handle), Cadence(handle)]
