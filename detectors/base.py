"""The detector API: metadata as typed class attributes, logic in one method per kind.

Four kinds, one per way a detector needs state:

* ``EventDetector.check(event, ctx)`` — looks at one event (with its key's read-only context).
* ``StatefulDetector.update(state, event, ctx)`` — state comes in and the new state goes out; the
  engine persists it (in memory for replays, in a faust changelog table in the stream).
* ``CloseDetector.on_close(ctx)`` — runs once when a key closes (idle timeout or end of input).
* Sequence and threshold rules (YAML files) are detectors too; see ``detectors.rules``.

Detectors are pure: no I/O, no clock. Time is the events' time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Maturity, Severity

KeyKind = Literal["session", "agent", "principal", "credential"]
KEY_KINDS: tuple[KeyKind, ...] = ("session", "agent", "principal", "credential")

# Which identity kinds a detector judges (issue 13). Agent-centric detectors (credential lifetime, task
# scope, machine speed …) judge agents, and unknown principals one severity step lower; detectors of cloud
# actions judge every principal but AWS services acting on their own.
ALL_KINDS: frozenset[IdentityKind] = frozenset(IdentityKind)
AGENTS: frozenset[IdentityKind] = frozenset({IdentityKind.AGENT})
UNSURE_AGENTS: frozenset[IdentityKind] = frozenset({IdentityKind.UNKNOWN})
PRINCIPALS: frozenset[IdentityKind] = ALL_KINDS - {IdentityKind.SERVICE}


@dataclass(frozen=True, slots=True)
class Signal:
    """What a detector reports; the engine turns it into a Finding (ids, risk, mappings)."""

    event_ids: tuple[str, ...]
    first_time: float
    last_time: float
    title: str | None = None
    severity: Severity | None = None
    details: dict[str, Any] = field(default_factory=dict)
    credential_ids: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    session_id: str | None = None  # where the key is not a session: the session the evidence is from
    # Extra weight on the risk score (1.0 = as the severity says), e.g. a blast-radius ratio.
    risk_factor: float = 1.0
    # Per-signal framework mappings, for detectors that run a table of checks (None: the detector's).
    mappings: Mappings | None = None
    # False: a building block, kept as a finding that never becomes an alert on its own.
    alert: bool = True

    @classmethod
    def of(cls, events: Sequence[AnyEvent], **kwargs: Any) -> Signal:
        """A signal whose evidence is ``events``."""
        times = [e.event_time.timestamp() for e in events]
        credentials = tuple(dict.fromkeys(c for e in events if (c := getattr(e, "credential_id", None))))
        environments = tuple(
            dict.fromkeys(str(env) for e in events if (env := getattr(e, "environment", None)))
        )
        return cls(
            event_ids=tuple(e.event_id for e in events),
            first_time=min(times),
            last_time=max(times),
            credential_ids=kwargs.pop("credential_ids", credentials),
            environments=kwargs.pop("environments", environments),
            session_id=kwargs.pop("session_id", events[-1].session_id),
            **kwargs,
        )


class Detector:
    """Metadata shared by every detector. Subclasses set these as class attributes."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]  # why it exists, and its known gaps
    severity: ClassVar[Severity]
    maturity: ClassVar[Maturity] = Maturity.STABLE
    mappings: ClassVar[Mappings] = Mappings()
    runbook: ClassVar[str]  # what the analyst should do first
    version: ClassVar[int] = 1
    key: ClassVar[KeyKind] = "session"
    # Identity kinds judged at the detector's severity, and kinds judged one severity step lower.
    judges: ClassVar[frozenset[IdentityKind]] = ALL_KINDS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = frozenset()
    # Index hints: the engine only calls the detector for events of these kinds/actions (None = all).
    kinds: ClassVar[frozenset[str] | None] = None
    actions: ClassVar[frozenset[str] | None] = None
    # Index hint on what a call can do: where calls are classified, the engine calls the detector for a tool
    # call only when ``ctx.call`` has one of these capabilities (None = any call). Declare it only where the
    # detector ignores every other call (its first test is ``ctx.acted(event, these)`` or the like): most
    # calls only read, and a detector that judges changes need not be asked of them (issue 14).
    call_capabilities: ClassVar[frozenset[Capability] | None] = None
    # Seconds during which a second alert of this detector on the same key is suppressed (0 = never).
    suppress_seconds: ClassVar[float] = 0.0
    source_file: ClassVar[str] = ""
    # Where the engine keeps this detector's per-key state; rules add a content hash so that a
    # reloaded, changed rule starts with fresh state instead of misreading the old one.
    state_key: ClassVar[str] = ""
    # What the detector reads beyond the event and its key's bookkeeping: "capabilities" (``ctx.call``, the
    # call classified, and ``event.capabilities``) and "provenance" (``ctx.provenance``). The engine does that
    # work only when a loaded detector needs it; a Python detector is assumed to need both unless it says.
    needs: ClassVar[frozenset[str]] = frozenset({"capabilities", "provenance"})

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        """Could an event with this kind, tool and action matter to the detector? Evaluated once per
        distinct triple and memoised by the engine, so a detector can skip whole families of events
        (``kinds``/``actions`` are the simple form of the same thing)."""
        return True

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": str(self.severity),
            "maturity": str(self.maturity),
            "key": self.key,
            "judges": sorted(k.value for k in self.judges),
            "judges_unsure": sorted(k.value for k in self.judges_unsure),
            "version": self.version,
            "mappings": self.mappings.model_dump(exclude={"schema_version"}),
            "runbook": self.runbook,
        }


class EventDetector(Detector):
    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        raise NotImplementedError


class StatefulDetector(Detector):
    # Lists in the state whose entries begin with an event time and that ``update`` filters to the window
    # (keeps an entry only while ``now - entry[0]`` is at most the window) before any other use of them:
    # the engine drops the entries that no later event can keep, so they are not saved (issue 14: state per
    # open session). Name in the state -> window in seconds.
    windows: ClassVar[dict[str, float]] = {}
    # Keys of the state holding an event time before which the detector ignores events (``now < value``, a
    # quiet period after an alert): the engine sets one to None once no later event can be before it.
    deadlines: ClassVar[tuple[str, ...]] = ()

    def initial_state(self) -> dict[str, Any]:
        return {}

    def compact(self, state: dict[str, Any], horizon: float) -> None:
        """Drop in place what no later event can read. ``horizon`` is the earliest event time that a later
        event reaching this detector can have: the key's newest event time less the allowed lateness."""
        for name, seconds in self.windows.items():
            entries = state.get(name)
            if entries and any(horizon - e[0] > seconds for e in entries):
                state[name] = [e for e in entries if horizon - e[0] <= seconds]
        for name in self.deadlines:
            until = state.get(name)
            if until is not None and horizon >= until:
                state[name] = None

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        raise NotImplementedError


class CloseDetector(Detector):
    def on_close(self, ctx: KeyContext) -> Iterable[Signal]:
        raise NotImplementedError


# Imported late: KeyContext uses Signal-free types only; kept in its own module for size.
from detectors.context import KeyContext  # noqa: E402
