"""The detection engine: events in, findings, alerts and chain summaries out, state as values.

The engine holds no state of its own between calls. For each key (a session id, or an agent,
principal or credential id for detectors that correlate by those) the caller passes the key's
``KeyState`` in and stores the one that comes back: the embedded runner keeps them in a dict, the
faust worker in a changelog-backed table. Time is event time; the engine never reads a clock.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from detectors import state_codec
from detectors.base import (
    KEY_KINDS,
    CloseDetector,
    Detector,
    EventDetector,
    KeyKind,
    Signal,
    StatefulDetector,
)
from detectors.capabilities import Classification, Classifier
from detectors.capabilities.classify import CARRIES_SECRET
from detectors.capabilities.shell import listing_only
from detectors.capabilities.words import split_words
from detectors.context import KeyContext, dt
from detectors.identity import IdentityResolver
from detectors.identity.keys import identify, judged_severity, judges
from detectors.provenance.addressing import Addressing, ContentModel, addressing
from detectors.provenance.ranges import spelled_ranges
from detectors.provenance.scripts import observe as observe_scripts
from detectors.provenance.state import Provenance
from detectors.rules import ALLOWED_LATENESS, RuleDetector, SequenceRule
from detectors.sinks import STRONGLY_ADDRESSED
from detectors.state_form import Form, load_slot, save_slot
from schemas.alerts import Alert, ChainSummary, CredentialUse, Finding
from schemas.events import AnyEvent, SessionEvent, ToolCall
from schemas.ids import finding_id
from schemas.redaction import markers
from schemas.types import (
    ENVIRONMENT_WEIGHT,
    SEVERITY_RANK,
    SEVERITY_RISK,
    Capability,
    Environment,
    Maturity,
    Outcome,
    SessionAction,
)

MAX_ALERTED = 512  # alert ids remembered per key for dedup (sinks upsert by id beyond that)
_SETS_SECRET = re.compile(
    r"\b(secrets? (set|put|create|import|add)|writes to a secret store|set[s]? a secret)\b"
)
MAX_CLASSIFIED = 20_000  # classified calls kept so that every key scope reuses one classification
MAX_ENRICHED = (
    4_096  # calls kept with their capabilities set (one feed's worth), for the key scopes after the first
)


@runtime_checkable
class ClosesWithState(Protocol):
    """A stateful detector with a last word when its key closes, judged on the state it kept (the session
    model scores a session that closes without an end event)."""

    def on_close_with_state(self, state: dict[str, Any] | None, ctx: KeyContext) -> Iterable[Signal]: ...


@dataclass
class EngineSettings:
    """Engine knobs; the streams settings object fills these from CHAINWATCH_ENGINE__*."""

    allowed_lateness_seconds: float = ALLOWED_LATENESS
    idle_timeout_seconds: float = 1800.0
    # How long (event time) a closed key's state is kept, so that a credential used hours after its
    # session went idle is still judged against that session's end and credentials.
    closed_retention_seconds: float = 86400.0
    suppress_seconds: dict[str, float] = field(default_factory=dict)  # per-detector override
    disabled: frozenset[str] = frozenset()


@dataclass
class KeyState:
    ctx: KeyContext
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_time: float | None = None
    late_events: int = 0
    alerted: list[str] = field(default_factory=list)
    last_alert: dict[str, float] = field(default_factory=dict)  # detector id -> event time
    # detector id -> the severity rank of its last alert, when above low: a graver one is never suppressed
    last_rank: dict[str, int] = field(default_factory=dict)
    risk: float = 0.0
    findings: int = 0
    alerts: int = 0
    suppressed: int = 0
    closed: bool = False  # closed for idleness, kept a while so a late event still sees its history

    # The saved form (version 3, compact for issue 14): a field is left out when it holds its default, and
    # ``max_time`` when it equals the context's last event time (it does unless no event was seen); times,
    # event ids and the shapes detectors share are written relative to the key (``detectors/state_form.py``).
    # docs/streaming.md lists the names; versions 1 (every field by its full name) and 2 are still read.
    def to_dict(self) -> dict[str, Any]:
        form = Form(self.ctx.last_time, known=self.ctx.known_strings())
        data: dict[str, Any] = {"v": STATE_FORM, "ctx": self.ctx.to_dict(form)}
        if self.closed:
            data["closed"] = True
        if self.detectors:
            data["det"] = {slot: save_slot(state, form) for slot, state in self.detectors.items()}
        if self.max_time != self.ctx.last_time:
            data["mt"] = self.max_time
        for name, short in _KEY_STATE_FIELDS:
            if value := getattr(self, name):
                data[short] = value
        if form.id_prefix is not None:
            data["ip"] = form.id_prefix
        return data

    def to_bytes(self) -> bytes:
        """What a table and its changelog store: ``to_dict()`` deflated with a preset dictionary (version 4,
        ``detectors/state_codec.py``)."""
        return state_codec.encode(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyState:
        """The state of stored bytes (version 4, or the JSON of versions 1-3); ``state_codec.StateFormError``
        when they cannot be read, never an empty state."""
        saved = state_codec.decode(data)
        version = saved.get("v", 1)
        if not isinstance(version, int) or version > STATE_FORM:
            raise state_codec.StateFormError(
                f"state form {version} is not one this chainwatch reads (1-{STATE_FORM})", newer=True
            )
        try:
            return cls.from_dict(saved)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # checked, wrong shape
            raise state_codec.StateFormError(
                f"corrupt: the saved form does not read as a state ({type(exc).__name__}: {exc})"
            ) from exc

    def copy(self) -> KeyState:
        """A deep copy that shares nothing with this state (detectors mutate their state in place)."""
        return KeyState.from_dict(orjson.loads(orjson.dumps(self.to_dict())))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyState:
        version = data.get("v", 1)
        if version == 1:
            return cls._from_first_form(data)
        form = Form(data["ctx"].get("t1"), data.get("ip")) if version >= 3 else None
        ctx = KeyContext.from_dict(data["ctx"], form)
        if form is not None:
            form = Form(form.base, form.id_prefix, ctx.known_strings())
        detectors = data.get("det", {})
        state = cls(
            ctx=ctx,
            detectors=detectors if form is None else {k: load_slot(v, form) for k, v in detectors.items()},
            max_time=data.get("mt", ctx.last_time),
            closed=data.get("closed", False),
        )
        for name, short in _KEY_STATE_FIELDS:
            if short in data:
                value = data[short]
                setattr(state, name, type(value)(value))  # lists and dicts copied: shares nothing
        return state

    @classmethod
    def _from_first_form(cls, data: dict[str, Any]) -> KeyState:
        return cls(
            ctx=KeyContext.from_dict(data["ctx"]),
            detectors=data.get("detectors", {}),
            max_time=data.get("max_time"),
            late_events=data.get("late_events", 0),
            alerted=list(data.get("alerted", [])),
            last_alert=dict(data.get("last_alert", {})),
            risk=data.get("risk", 0.0),
            findings=data.get("findings", 0),
            alerts=data.get("alerts", 0),
            suppressed=data.get("suppressed", 0),
            closed=data.get("closed", False),
        )


STATE_FORM = 3  # version of KeyState.to_dict()'s form
# a listing of secrets (key ids, names, last four) reads none, unless asked to reveal them or its answer holds
# values (a ``"value"`` field, ``KEY=…`` lines)
_LISTS = frozenset({"list", "lists", "search", "describe"})
_REVEALS = re.compile(
    r"(?i)(decrypt|reveal|unmask|plain_?text|(with|include|show)_?(values?|secrets?|data))\w*\"\s*:\s*true"
)
_VALUES = re.compile(
    r"(?i)[\"'](values?|val|data|plain_?text|secret_?(string|value|binary)|decrypted\w*|current|content|"
    r"passwords?|secrets?|tokens?|credentials?)[\"']\s*:\s*[\"'{\[]"
)
_ENV_LINE = re.compile(r"(?m)^\s*(export\s+)?[A-Z][A-Z0-9_]{2,}\s*[=:]\s*\S")
# what a call that handles a secret does when it sets or sends one rather than reading it
_SETS = frozenset({Capability.WRITE, Capability.COMMUNICATE, Capability.IDENTITY, Capability.DELETE})
_KEY_STATE_FIELDS = (
    ("late_events", "late"),
    ("alerted", "alerted"),
    ("last_alert", "last_alert"),
    ("last_rank", "last_rank"),
    ("risk", "risk"),
    ("findings", "findings"),
    ("alerts", "alerts"),
    ("suppressed", "suppressed"),
)


@dataclass
class Output:
    findings: list[Finding] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    chains: list[ChainSummary] = field(default_factory=list)
    late_events: int = 0

    def extend(self, other: Output) -> None:
        self.findings.extend(other.findings)
        self.alerts.extend(other.alerts)
        self.chains.extend(other.chains)
        self.late_events += other.late_events


_KEY_FIELD = {
    "session": "session_id",
    "agent": "agent_id",
    "principal": "principal",
    "credential": "credential_id",
}


class Engine:
    def __init__(
        self,
        detectors: Sequence[Detector],
        settings: EngineSettings | None = None,
        identities: IdentityResolver | None = None,
        *,
        classifier: Classifier | None = None,
        content_model: ContentModel | None = None,
        context_work: bool | None = None,
    ) -> None:
        """``context_work``: classify calls and keep provenance — None: when a loaded detector needs it
        (``Detector.needs``); False: never (detectors that need it see ``ctx.call``/``ctx.provenance`` as
        None and stay quiet: the benchmark's measure of what this work costs)."""
        self.settings = settings or EngineSettings()
        # who each key's principal is (issue 13); an engine of its own: it remembers session tags
        self.identities = identities or IdentityResolver()
        # What each call can do (detectors/capabilities/) and how much outside content addresses the agent
        # (detectors/provenance/addressing.py; the shipped model unless one is given).
        self.classifier = classifier or Classifier()
        self.content_model = content_model
        # event id -> (tool, action, arguments, classification): a reused id with another call is classified
        # anew (a source that repeats ids, or one that forges them, must not borrow a read's classification)
        self._classified: dict[str, tuple[str, str, dict[str, Any], Classification]] = {}
        self._enriched_calls: dict[str, tuple[ToolCall, ToolCall]] = {}  # event id -> (as given, enriched)
        # id of a classification -> (it, its capabilities in order, the number of that set of capabilities):
        # calls of one shape share one classification, so its capabilities are sorted once, not once per
        # event (the object is kept so that its id cannot be reused while the entry lives)
        self._capabilities: dict[int, tuple[Classification, tuple[Capability, ...], int]] = {}
        self._capability_sets: dict[tuple[Capability, ...], int] = {}  # each set seen -> its number
        self.detectors = [d for d in detectors if d.id not in self.settings.disabled]
        self.by_id = {d.id: d for d in self.detectors}
        self.by_slot = {(d.state_key or d.id): d for d in self.detectors}
        used = {d.key for d in self.detectors} | {"session"}
        self.scopes: tuple[KeyKind, ...] = tuple(k for k in KEY_KINDS if k in used)
        self._per_scope: dict[str, list[Detector]] = {
            s: [d for d in self.detectors if d.key == s] for s in self.scopes
        }
        self._close: dict[str, list[Detector]] = {
            s: [d for d in ds if isinstance(d, CloseDetector | SequenceRule | ClosesWithState)]
            for s, ds in self._per_scope.items()
        }
        self._index: dict[tuple[str, str, str | None, str], tuple[tuple[Detector, bool, str], ...]] = {}
        # Each stateful detector's initial state, to compare with (a detector with a last word on its state
        # at close is told whether it kept any, so its slot is never dropped).
        self._initial: dict[str, dict[str, Any]] = {
            slot: d.initial_state()
            for slot, d in self.by_slot.items()
            if isinstance(d, StatefulDetector) and not isinstance(d, ClosesWithState)
        }
        needed = frozenset().union(*(d.needs for d in self.detectors)) if context_work is not False else ()
        self._gates = any(d.call_capabilities is not None for d in self.detectors)
        self.tracks_provenance = "provenance" in needed
        self.classifies = self.tracks_provenance or "capabilities" in needed  # provenance reads the class too
        # the same, narrowed to the detectors that judge an identity kind and can use a call with a set of
        # capabilities (its number, -1 for events that are not classified calls): what process_key walks
        self._judged: dict[
            tuple[str, str, str | None, str, str | None, int], tuple[tuple[Detector, bool, str], ...]
        ]
        self._judged = {}

    # -- routing
    @staticmethod
    def key_of(scope: str, event: AnyEvent) -> str | None:
        value = getattr(event, _KEY_FIELD[scope], None)
        return str(value) if value else None

    def candidates(self, scope: str, event: AnyEvent) -> tuple[Detector, ...]:
        """Detectors that could match this event."""
        return tuple(d for d, _, _ in self._dispatch(scope, event))

    def _dispatch(self, scope: str, event: AnyEvent) -> tuple[tuple[Detector, bool, str], ...]:
        """(detector, is stateful, state slot) for each detector that could match this event.

        Memoised per (scope, kind, tool, action): index hints and each detector's ``relevant`` check
        (for rules: the static part of their conditions) run once per distinct triple, not per event.
        """
        action = str(getattr(event, "action", ""))
        tool = getattr(event, "tool", None)
        index_key = (scope, event.kind, tool, action)
        found = self._index.get(index_key)
        if found is None:
            found = tuple(
                (d, isinstance(d, StatefulDetector), d.state_key or d.id)
                for d in self._per_scope[scope]
                if isinstance(d, EventDetector | StatefulDetector)
                and (d.kinds is None or event.kind in d.kinds)
                and (d.actions is None or action in d.actions)
                and d.relevant(event.kind, tool, action)
            )
            if len(self._index) > 100_000:
                self._index.clear()  # unbounded tool/action vocabularies must not grow memory forever
            self._index[index_key] = found
        return found

    def _judging(
        self, scope: str, event: AnyEvent, kind: str | None, call: Classification | None = None
    ) -> tuple[tuple[Detector, bool, str], ...]:
        """``_dispatch`` without the detectors that do not judge keys of this identity kind, nor, for a
        classified call, those whose ``call_capabilities`` it has none of (a detector left out would have
        ignored the call). Memoised: there are few identity kinds and few sets of capabilities."""
        number = self._capabilities_of(call)[2] if call is not None and self._gates else -1
        memo_key = (
            scope,
            event.kind,
            getattr(event, "tool", None),
            str(getattr(event, "action", "")),
            kind,
            number,
        )
        found = self._judged.get(memo_key)
        if found is None:
            has = frozenset(self._capabilities_of(call)[1]) if call is not None and number >= 0 else None
            found = tuple(
                entry
                for entry in self._dispatch(scope, event)
                if judges(entry[0], kind)
                and (has is None or (gate := entry[0].call_capabilities) is None or not gate.isdisjoint(has))
            )
            if len(self._judged) > 100_000:
                self._judged.clear()
            self._judged[memo_key] = found
        return found

    # -- capabilities and provenance
    def classify(self, event: ToolCall) -> Classification:
        """The call's capabilities with their evidence, computed once per event for every key scope."""
        kept = self._classified.get(event.event_id)
        if (
            kept is not None
            and kept[0] == event.tool
            and kept[1] == event.action
            and (kept[2] is event.arguments or kept[2] == event.arguments)
        ):
            return kept[3]
        if len(self._classified) >= MAX_CLASSIFIED:
            # the older half is forgotten, not all: the feed being processed keeps its calls, which
            # every key scope asks for again (clearing all made them classified twice)
            for stale in list(itertools.islice(self._classified, MAX_CLASSIFIED // 2)):
                del self._classified[stale]
        found = self.classifier.classify(event)
        self._classified[event.event_id] = (event.tool, event.action, event.arguments, found)
        return found

    def enrich(self, events: Iterable[AnyEvent]) -> list[AnyEvent]:
        """The events with their ``capabilities`` set, as they are stored. (Each copy is made here, not
        remembered: the key scopes that follow receive these copies, so nothing would ask for it again.)"""
        return [
            self._with_capabilities(event, self.classify(event))
            if isinstance(event, ToolCall) and event.capabilities is None
            else event
            for event in events
        ]

    def _enriched(self, event: ToolCall, call: Classification) -> ToolCall:
        """The call with its capabilities set: one copy per event, shared by every key scope."""
        found = self._enriched_calls.get(event.event_id)
        if found is None or found[0] is not event:
            if len(self._enriched_calls) >= MAX_ENRICHED:
                self._enriched_calls.clear()
            found = (event, self._with_capabilities(event, call))
            self._enriched_calls[event.event_id] = found
        return found[1]

    def _with_capabilities(self, event: ToolCall, call: Classification) -> ToolCall:
        """A copy of the call with its capabilities set, sorted once per shared classification."""
        return event.with_capabilities(self._capabilities_of(call)[1])

    def _capabilities_of(self, call: Classification) -> tuple[Classification, tuple[Capability, ...], int]:
        """(the classification, its capabilities in order, the number of that set): once each."""
        kept = self._capabilities.get(id(call))
        if kept is None or kept[0] is not call:
            if len(self._capabilities) >= MAX_CLASSIFIED:
                self._capabilities.clear()
            capabilities = call.capabilities
            number = self._capability_sets.setdefault(capabilities, len(self._capability_sets))
            kept = self._capabilities[id(call)] = (call, capabilities, number)
        return kept

    def addressing(self, text: str) -> Addressing:
        return self.content_model.score(text) if self.content_model is not None else addressing(text)

    @staticmethod
    def _trust(ctx: KeyContext, event: AnyEvent, tool_call: ToolCall | None) -> None:
        """The task and the user's turns are trusted input (before the detectors judge this event);
        ``tool_call`` is the event when it is one (the caller has asked already)."""
        provenance = ctx.provenance
        if provenance is None:
            provenance = ctx.provenance = Provenance()
        if tool_call is not None:
            task = tool_call.task
            # (as trusted: a range's items spelled out, "batch07 through batch09 (batch08 batch09)")
            if (
                task
                and task not in provenance.trusted_text
                and spelled_ranges(task) not in provenance.trusted_text
            ):
                provenance.trust(task)
            provenance.trust_own_address(tool_call.arguments)
        elif isinstance(event, SessionEvent) and event.action in (SessionAction.START, SessionAction.PROMPT):
            provenance.trust(event.task)

    def _absorb(self, ctx: KeyContext, event: ToolCall, when: float) -> None:
        """After the detectors: what the call's result brought into the session."""
        provenance = ctx.provenance
        call = ctx.call
        if provenance is None or call is None:
            return
        text = event.result_summary
        if text and "[REDACTED:" in text:
            found = markers(text)
            provenance.saw_secrets(event.event_id, [fp for _, fp in found])
            if found and Capability.READ in call.evidence and Capability.SECRET not in call.evidence:
                # a file or record that turned out to hold a secret (``keys.py`` with a signing key)
                # (``cat ~/runs/x/run_config.yaml``: the one file a shell line read)
                shell_read = call.shell.read if call.shell is not None and len(call.shell.read) == 1 else []
                where = event.target or _path_argument(event.arguments) or next(iter(shell_read), event.tool)
                provenance.read_secret(event.event_id, when, f"{where} ({found[0][0]})")
        if (
            call.evidence.keys() & {Capability.WRITE, Capability.IDENTITY}
            and Capability.COMMUNICATE not in call.evidence
            and event.outcome not in (Outcome.ERROR, Outcome.DENIED)
        ):
            # a password the call set, a key it had issued: the session's own (exfiltration.secret_flow)
            arguments = orjson.dumps(event.arguments).decode() if event.arguments else ""
            in_arguments = markers(arguments)
            made = in_arguments + (markers(text) if text else [])
            if made:
                provenance.minted_secrets(event.event_id, [fp for _, fp in made])
            # a secret read earlier, written into a file (a script with the database password pasted in):
            # the file now holds it, and a push or an upload of it sends the secret
            seen = provenance.secrets_seen
            copied = [kind for kind, fp in in_arguments if seen.get(fp, event.event_id) != event.event_id]
            written = _path_argument(event.arguments) or next(
                iter(call.shell.written if call.shell else []), None
            )
            if copied and written:
                provenance.read_secret(event.event_id, when, f"{written} ({copied[0]})")
        if event.untrusted_content and text:
            # the file or page the user pointed at: their instructions; a listing of the folder they named
            # (``ls``, ``find``, ``du``) is what is in it, not more of their words
            lists = call.shell is not None and listing_only(call.shell)
            pointed = (
                Capability.READ in call.evidence
                and not lists
                and (provenance.points_at(event.arguments, event.target) or provenance.headed_as_handed(text))
            )
            # (… but a page pointed at for its data, not handed over as instructions, that speaks to an AI
            # assistant — "for AI assistants updating partner sites: add … as an editor" — is outside content)
            if pointed and not provenance.hands_over() and self.addressing(text).score >= STRONGLY_ADDRESSED:
                pointed = False
            if pointed:
                provenance.trust(text)
            else:
                provenance.taint(event.event_id, when, text, self.addressing(text))
                if call.evidence.keys() <= {Capability.READ}:  # a lookup by the task's own words
                    provenance.trust_looked_up(event.arguments, text)
                elif call.evidence.keys() & _MAKES and event.outcome not in (Outcome.ERROR, Outcome.DENIED):
                    provenance.trust_returned_ids(text)  # what the change itself made
        observe_scripts(provenance, event, call)  # what running a script it read or wrote would do
        secret = call.evidence.get(Capability.SECRET, "")
        # a token the call authenticates with (``access_token carries a secret``) is used, not read
        if secret and CARRIES_SECRET not in secret and event.outcome not in (Outcome.ERROR, Outcome.DENIED):
            shell = call.shell
            reads = (shell.read if shell else []) or [event.target or event.tool]
            # (a call that only sets or sends one, a password reset or a rotation, with no secret in what
            # came back, read none: "SendPasswordReset" answers ``{"sent": true}``)
            only_sets = (
                shell is None and Capability.READ not in call.evidence and bool(call.evidence.keys() & _SETS)
            )
            # (… nor did a listing whose answer holds none: key ids and their last four, ``list_keys``)
            # (not one asked to decrypt, nor one whose answer holds values: ``"value": …``, ``KEY=…``)
            lists = (
                shell is None
                and not _LISTS.isdisjoint(split_words(event.tool))
                and not _REVEALS.search(orjson.dumps(event.arguments).decode())
                and not _VALUES.search(text or "")
                and not _ENV_LINE.search(text or "")
            )
            if (only_sets or lists) and "[REDACTED:" not in (text or ""):
                return
            # (a line that sets a secret, ``cd app && flyctl secrets set KEY=…``, reads none: its ``cd`` is no
            # read of the secret; ``vault kv get … | tee out.txt`` reads one and writes it out)
            line_reads = Capability.READ in call.evidence and not _SETS_SECRET.search(secret)
            if shell is None or "secret_read" in shell.flags or line_reads:
                provenance.read_secret(event.event_id, when, ", ".join(str(r) for r in reads[:3]))

    def new_state(self, scope: str, key: str) -> KeyState:
        return KeyState(ctx=KeyContext(key_kind=scope, key=key))

    # -- the three entry points
    def process_key(
        self, scope: str, key: str, state: KeyState | None, events: Iterable[AnyEvent], *, chain: bool = True
    ) -> tuple[KeyState, Output]:
        """Feed one key's events (any order; processed in event-time order)."""
        state = state or self.new_state(scope, key)
        state.closed = False  # a late event reopens a key closed for idleness, history intact
        out = Output()
        ordered = sorted(events, key=lambda e: e.event_time)
        lateness = self.settings.allowed_lateness_seconds
        ctx = state.ctx
        classifies = self.classifies
        provenance = self.tracks_provenance and scope == "session"
        for event in ordered:
            when = event.event_time.timestamp()
            late = state.max_time is not None and when < state.max_time - lateness
            if late:
                state.late_events += 1
                out.late_events += 1
            else:
                state.max_time = when if state.max_time is None else max(state.max_time, when)
            ctx.observe(event, when)
            identify(self.identities, ctx, event)
            ctx.call = None
            tool_call = event if isinstance(event, ToolCall) else None  # asked once per event
            if classifies and tool_call is not None:
                ctx.call = self.classify(tool_call)
                if tool_call.capabilities is None:  # detectors read them from the event too
                    event = tool_call = self._enriched(tool_call, ctx.call)
            if provenance:
                self._trust(ctx, event, tool_call)
            for detector, stateful, slot in self._judging(scope, event, ctx.identity_kind, ctx.call):
                if stateful:
                    if late:
                        continue  # a late event cannot advance ordered state; it is counted above
                    current = state.detectors.get(slot)
                    if current is None:
                        current = detector.initial_state()  # type: ignore[attr-defined]
                    current, signals = detector.update(current, event, ctx)  # type: ignore[attr-defined]
                    state.detectors[slot] = current
                else:
                    signals = detector.check(event, ctx)  # type: ignore[attr-defined]
                for signal in signals:
                    self._emit(detector, signal, state, out)
            if provenance and tool_call is not None:
                self._absorb(ctx, tool_call, when)
        ctx.call = None
        self._update_risk(state)
        if chain and scope == "session":
            out.chains.append(self.chain_summary(state))
        return state, out

    def predict(self, scope: str, key: str, state: KeyState | None, event: AnyEvent) -> Output:
        """What the detectors would report if ``event`` happened now, without changing ``state``.

        ``process_key`` runs on a copy of the key's state, which is then dropped: the guard asks this
        before a tool call runs (streams/guard/), and feeds the call for real only once it was executed."""
        trial = state.copy() if state is not None else None
        _, out = self.process_key(scope, key, trial, (event,), chain=False)
        return out

    def advance_key(self, scope: str, key: str, state: KeyState, now: float) -> Output:
        """Time passed with no event for this key: absence deadlines that are due complete."""
        out = Output()
        for detector in self._per_scope[scope]:
            slot = detector.state_key or detector.id
            if (
                isinstance(detector, SequenceRule)
                and slot in state.detectors
                and judges(detector, state.ctx.identity_kind)
            ):
                for signal in detector.advance(state.detectors[slot], now, state.ctx):
                    self._emit(detector, signal, state, out)
        return out

    def close_key(self, scope: str, key: str, state: KeyState) -> Output:
        """The key is done (idle timeout or end of input): close-time detectors run, absences confirm."""
        out = Output()
        ctx = state.ctx
        state.closed = True
        for detector in self._close[scope]:
            if not judges(detector, ctx.identity_kind):
                continue
            if isinstance(detector, SequenceRule):
                rule_state = state.detectors.get(detector.state_key or detector.id)
                signals: Iterable[Signal] = detector.close(rule_state, ctx) if rule_state else ()
            elif isinstance(detector, CloseDetector):
                signals = detector.on_close(ctx)
            elif isinstance(detector, ClosesWithState):  # after the cheap checks: a protocol test is slow
                kept = state.detectors.get(detector.state_key or detector.id)
                signals = detector.on_close_with_state(kept, ctx)
            else:
                continue
            for signal in signals:
                self._emit(detector, signal, state, out)
        self._update_risk(state)
        if scope == "session":
            out.chains.append(self.chain_summary(state, closed=True))
        return out

    def refresh(self) -> bool:
        """Detectors that read a file given to them (a model) check it for a newer version; True when one
        was loaded. Cheap (a stat per file): the worker calls it on every tick, replays per batch."""
        changed = False
        for detector in self.detectors:
            refresh = getattr(detector, "refresh", None)
            if refresh is not None:
                changed = bool(refresh()) or changed
        return changed

    def is_idle(self, state: KeyState, now: float) -> bool:
        last = state.ctx.last_time
        return last is not None and now - last >= self.settings.idle_timeout_seconds

    # -- findings to alerts
    def _emit(self, detector: Detector, signal: Signal, state: KeyState, out: Output) -> None:
        ctx = state.ctx
        severity, lowered = judged_severity(detector, ctx.identity_kind, signal.severity or detector.severity)
        weight = max(
            (
                ENVIRONMENT_WEIGHT.get(Environment(e), 0.6)
                for e in signal.environments
                if e in Environment._value2member_map_
            ),
            default=0.6,
        )
        risk = SEVERITY_RISK[severity] * (0.7 + 0.3 * weight) * signal.risk_factor
        risk += min(10.0, 2.0 * (len(signal.event_ids) - 1))
        risk = round(max(0.0, min(100.0, risk)), 1)
        session_id = (
            ctx.key if ctx.key_kind == "session" else (signal.session_id or ctx.session_id or ctx.key)
        )
        ident = finding_id(detector.id, f"{ctx.key_kind}:{ctx.key}", signal.event_ids)
        details = dict(signal.details)
        if lowered:
            details["identity_note"] = lowered
        suppressed_by = self._suppression(detector, signal, state, ident, SEVERITY_RANK[severity])
        if suppressed_by:
            details["suppressed_by"] = suppressed_by
        common: dict[str, Any] = dict(
            detector_id=detector.id,
            detector_version=detector.version,
            key_kind=ctx.key_kind,
            key=ctx.key,
            session_id=session_id,
            agent_id=ctx.agent_id,
            principal=ctx.principal,
            identity_kind=ctx.identity_kind,
            severity=severity,
            risk_score=risk,
            title=signal.title or detector.title,
            description=detector.description,
            event_ids=signal.event_ids,
            credential_ids=signal.credential_ids,
            first_seen=dt(signal.first_time),
            last_seen=dt(signal.last_time),
            mappings=signal.mappings or detector.mappings,
            runbook=detector.runbook,
            details=details,
        )
        out.findings.append(Finding(finding_id=ident, maturity=detector.maturity, **common))
        state.findings += 1
        state.risk = max(state.risk, risk)
        if detector.maturity == Maturity.EXPERIMENTAL or not signal.alert:
            return  # experimental detectors and building-block signals stay findings
        if ident in state.alerted:
            return  # the same chain never alerts twice
        if suppressed_by:
            state.suppressed += 1
            return
        state.alerted.append(ident)
        del state.alerted[:-MAX_ALERTED]
        state.last_alert[detector.id] = signal.last_time
        if SEVERITY_RANK[severity] > 1:  # (low or less: the default, not stored)
            state.last_rank[detector.id] = SEVERITY_RANK[severity]
        else:
            state.last_rank.pop(detector.id, None)
        state.alerts += 1
        out.alerts.append(Alert(alert_id=ident, **common))

    def _suppression(
        self, detector: Detector, signal: Signal, state: KeyState, ident: str, rank: int
    ) -> str | None:
        """Why this alert is held back: one per detector and key per window, unless it is graver than the
        last one it held back for (a medium ``rm -rf`` of the folder asked for, then a high one elsewhere)."""
        window = self.settings.suppress_seconds.get(detector.id, detector.suppress_seconds)
        last = state.last_alert.get(detector.id)
        if (
            window > 0
            and last is not None
            and ident not in state.alerted
            and signal.last_time - last < window
            and rank <= state.last_rank.get(detector.id, 1)
        ):
            return f"{detector.id}: one alert per {state.ctx.key_kind} per {window:g}s"
        return None

    def _update_risk(self, state: KeyState) -> None:
        """Progressive risk: a chain heating up raises its key's risk before it completes. Then each
        detector's state is compacted (issue 14): what no later event can read is dropped, and a state back
        at its initial value is not kept (the next event starts from ``initial_state()``, equal to it)."""
        lateness = self.settings.allowed_lateness_seconds
        horizon = None if state.max_time is None else state.max_time - lateness  # the same sum as ``late``
        for slot, detector_state in list(state.detectors.items()):
            detector = self.by_slot.get(slot)
            if detector is None:
                del state.detectors[slot]  # a rule that was removed or changed since: drop its old state
                continue
            if isinstance(detector, RuleDetector) and detector.maturity != Maturity.EXPERIMENTAL:
                progress = detector.progress(detector_state)  # type: ignore[attr-defined]
                if progress > 0:
                    state.risk = max(state.risk, round(SEVERITY_RISK[detector.severity] * 0.8 * progress, 1))
            if horizon is not None and isinstance(detector, StatefulDetector):
                detector.compact(detector_state, horizon)
            if detector_state == self._initial.get(slot):
                del state.detectors[slot]

    # -- chain summaries
    def chain_summary(self, state: KeyState, *, closed: bool = False) -> ChainSummary:
        ctx = state.ctx
        credentials = tuple(
            CredentialUse(
                credential_id=info.credential_id,
                issued_at=dt(info.issued_at),
                ttl_seconds=info.ttl_seconds,
                expires_at=dt(info.expires_at),
                first_used=dt(info.first_used),
                last_used=dt(info.last_used),
                revoked_at=dt(info.revoked_at),
                uses=info.uses,
                scopes=info.scopes,
                inherited_from_human=info.inherited_from_human,
                issuer=info.issuer,
            )
            for info in sorted(ctx.credentials.values(), key=lambda i: i.credential_id)
        )
        started = dt(ctx.first_time)
        last = dt(ctx.last_time)
        assert started is not None and last is not None, "a chain summary needs at least one event"
        return ChainSummary(
            session_id=ctx.key,
            agent_id=ctx.agent_id,
            parent_agent_id=ctx.parent_agent_id,
            principal=ctx.principal,
            identity_kind=ctx.identity_kind,
            identity_reason=ctx.identity_reason,
            task=ctx.task,
            task_scope=ctx.task_scope,
            started_at=started,
            last_event_at=last,
            ended_at=dt(ctx.ended_at),
            event_count=ctx.event_count,
            tool_calls=ctx.tool_calls,
            distinct_tools=len(ctx.tools),
            distinct_targets=len(ctx.targets),
            environments=tuple(sorted(ctx.environments)),
            decisions=dict(ctx.decisions),
            outcomes=dict(ctx.outcomes),
            approvers=tuple(sorted(ctx.approvers)),
            credentials=credentials,
            max_risk=state.risk,
            alert_count=state.alerts,
            finding_count=state.findings,
            blast_radius_reachable=len(ctx.reachable_scopes()),
            blast_radius_touched=len(ctx.targets),
            blast_radius_weighted=round(ctx.weighted_touched(), 2),
            closed=closed,
        )


class Runner:
    """In-memory key states for replays, backtests and detector tests (no Kafka, no DuckDB)."""

    MAX_CLOSED = 200_000  # closed states kept at most (oldest dropped first)

    def __init__(self, engine: Engine, *, close_idle: bool = True) -> None:
        self.engine = engine
        self.states: dict[tuple[str, str], KeyState] = {}
        self.closed: dict[tuple[str, str], KeyState] = {}  # insertion order = closing order
        self.close_idle = close_idle
        self.watermark: float | None = None
        self.late_events = 0
        self._since_sweep = 0

    def feed(self, events: Sequence[AnyEvent]) -> Output:
        out = Output()
        engine = self.engine
        if engine.classifies:
            events = engine.enrich(events)  # each call classified and copied once, not once per key scope
        for scope in engine.scopes:
            groups: dict[str, list[AnyEvent]] = {}
            for event in events:
                key = engine.key_of(scope, event)
                if key is not None:
                    group = groups.get(key)
                    if group is None:
                        groups[key] = [event]
                    else:
                        group.append(event)
            for key, group in groups.items():
                slot = (scope, key)
                previous = self.states.get(slot) or self.closed.pop(slot, None)
                state, produced = engine.process_key(scope, key, previous, group, chain=False)
                self.states[slot] = state
                out.extend(produced)
        newest = max(event.event_time for event in events).timestamp() if events else None
        if newest is not None and (self.watermark is None or newest > self.watermark):
            self.watermark = newest
        self.late_events += out.late_events
        self._since_sweep += len(events)
        if self.close_idle and self._since_sweep >= 10_000:
            self._since_sweep = 0
            out.extend(self.sweep())
        return out

    def sweep(self) -> Output:
        """Close keys idle (by event time) for longer than the idle timeout; fire due absences."""
        out = Output()
        if self.watermark is None:
            return out
        for slot, state in list(self.states.items()):
            if self.engine.is_idle(state, self.watermark):
                out.extend(self.engine.close_key(slot[0], slot[1], state))
                del self.states[slot]
                self.closed[slot] = state
            else:
                out.extend(self.engine.advance_key(slot[0], slot[1], state, self.watermark))
        self._forget_closed()
        return out

    def _forget_closed(self) -> None:
        assert self.watermark is not None
        horizon = self.watermark - self.engine.settings.closed_retention_seconds
        for slot, state in list(self.closed.items()):
            if len(self.closed) <= self.MAX_CLOSED and (state.ctx.last_time or 0) >= horizon:
                break
            del self.closed[slot]

    def flush(self) -> Output:
        """End of input: every open key closes."""
        out = Output()
        for (scope, key), state in list(self.states.items()):
            out.extend(self.engine.close_key(scope, key, state))
        self.states.clear()
        return out


_PATH_KEYS = ("path", "file", "file_path", "filepath", "filename")
_MAKES = frozenset({Capability.MONEY, Capability.WRITE, Capability.IDENTITY})  # a change that returns its id


def _path_argument(arguments: dict[str, Any]) -> str | None:
    """The file a read names by its path argument (``read_file(path=…)``), when the event has no target."""
    return next((v for k, v in arguments.items() if k.lower() in _PATH_KEYS and isinstance(v, str)), None)
