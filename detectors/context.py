"""What the engine knows about one key (a session, agent, principal or credential) as events arrive.

Every detector reads it; only the engine writes it. It is bounded (sets are capped, with overflow
counted) and turns into a plain dict for the stream's changelog table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from detectors.provenance.state import Provenance
from detectors.state_form import Form, front_coded, front_coded_tuple, front_decoded
from schemas.events import AnyEvent, CredentialEvent, SessionEvent, ToolCall
from schemas.types import Capability, CredentialAction, Decision, Environment, Outcome, SessionAction

if TYPE_CHECKING:
    from detectors.capabilities import Classification

MAX_SET = 256  # distinct tools / targets / sessions remembered per key
_DID_NOTHING = frozenset({Outcome.DENIED, Outcome.ERROR})


def ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


@dataclass(slots=True)
class CredentialInfo:
    credential_id: str
    issued_at: float | None = None
    ttl_seconds: float | None = None
    expires_at: float | None = None
    revoked_at: float | None = None
    first_used: float | None = None
    last_used: float | None = None
    uses: int = 0
    scopes: tuple[str, ...] = ()
    inherited_from_human: bool = False
    issuer: str | None = None
    issued_session: str | None = None
    subject: str | None = None
    on_behalf_of: str | None = None
    issued_event_id: str | None = None

    def to_dict(
        self, implied: dict[str, str | None] | None = None, form: Form | None = None
    ) -> dict[str, Any]:
        """The saved form: short names, a field left out when it holds its default, the id left out (it is
        the key of the context's ``credentials``), and so are the issuing session, subject and principal on
        whose behalf when they are what ``implied`` says (the key, its agent and principal). With a ``form``
        (state version 3) its times and issuing event id are written relative to the key."""
        out = {
            short: value for name, short in _CREDENTIAL_FIELDS if (value := getattr(self, name)) is not None
        }
        if form is not None:
            for short in _CREDENTIAL_TIMES & out.keys():
                out[short] = form.time(out[short])
            if "ie" in out:
                out["ie"] = form.event_id(out["ie"])
        if self.uses:
            out["n"] = self.uses
        if self.inherited_from_human:
            out["ih"] = True
        if self.scopes:
            out["sc"] = list(self.scopes)
        for name, short in _IMPLIED_FIELDS:
            if (value := getattr(self, name)) != (implied or {}).get(name):
                out[short] = value
        return out

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        credential_id: str = "",
        implied: dict[str, str | None] | None = None,
        form: Form | None = None,
    ) -> CredentialInfo:
        if "credential_id" in data:  # the first saved form (state version 1): every field by its name
            return cls(**{**data, "scopes": tuple(data.get("scopes", ()))})
        info = cls(credential_id, uses=data.get("n", 0), scopes=tuple(data.get("sc", ())))
        info.inherited_from_human = data.get("ih", False)
        for name, short in _CREDENTIAL_FIELDS:
            if short in data:
                value = data[short]
                if form is not None and short in _CREDENTIAL_TIMES:
                    value = form.untime(value)
                elif form is not None and short == "ie":
                    value = form.un_event_id(value)
                setattr(info, name, value)
        for name, short in _IMPLIED_FIELDS:
            setattr(info, name, data[short] if short in data else (implied or {}).get(name))
        return info


_CREDENTIAL_FIELDS = (
    ("issued_at", "iss"),
    ("ttl_seconds", "ttl"),
    ("expires_at", "exp"),
    ("revoked_at", "rev"),
    ("first_used", "fu"),
    ("last_used", "lu"),
    ("issuer", "by"),
    ("issued_event_id", "ie"),
)
_CREDENTIAL_TIMES = frozenset({"iss", "exp", "rev", "fu", "lu"})
_IMPLIED_FIELDS = (("issued_session", "is"), ("subject", "sub"), ("on_behalf_of", "obo"))


@dataclass(slots=True)
class KeyContext:
    key_kind: str
    key: str
    session_id: str | None = None
    agent_id: str | None = None
    parent_agent_id: str | None = None
    principal: str | None = None
    identity_kind: str | None = None  # agent | human | automation | service | unknown (issue 13)
    identity_reason: str | None = None
    identity_from_file: bool = False
    task: str | None = None
    task_scope: tuple[str, ...] | None = None
    permission_mode: str | None = None
    first_time: float | None = None
    last_time: float | None = None
    ended_at: float | None = None
    now: float = 0.0  # event time of the event being processed
    event_count: int = 0
    tool_calls: int = 0
    tools: set[str] = field(default_factory=set)
    targets: dict[str, str] = field(default_factory=dict)  # target -> environment
    overflow: int = 0
    environments: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    approvers: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    agents: dict[str, str | None] = field(default_factory=dict)  # agent -> parent agent
    credentials: dict[str, CredentialInfo] = field(default_factory=dict)
    # Sessions only: where the session's values came from (detectors/provenance/state.py).
    provenance: Provenance | None = None
    # The tool call being processed, classified (its capabilities with their evidence and, for shell and
    # code, what the line does). Set by the engine before the detectors run; not saved.
    call: Classification | None = None
    # The saved form's front-coded targets so far (targets are only ever added): each save codes the new ones.
    coded_targets: tuple[list[str], list[str]] = field(
        default_factory=lambda: ([], []), compare=False, repr=False
    )

    def acted(
        self, event: AnyEvent, capabilities: frozenset[Capability] | None = None
    ) -> TypeGuard[ToolCall]:
        """Whether the event is a tool call that ran (not denied, not failed), classified, with one of these
        capabilities (any when None): the common first test of the detectors that judge what a call did."""
        if not isinstance(event, ToolCall) or self.call is None or event.outcome in _DID_NOTHING:
            return False
        return capabilities is None or not capabilities.isdisjoint(self.call.evidence)

    # -- the engine's writer
    def observe(self, event: AnyEvent, when: float | None = None) -> None:
        if when is None:
            when = event.event_time.timestamp()
        self.now = when
        self.event_count += 1
        if self.first_time is None or when < self.first_time:
            self.first_time = when
        if self.last_time is None or when > self.last_time:
            self.last_time = when
        if self.session_id is None:
            self.session_id = event.session_id
        if self.agent_id is None:
            self.agent_id = event.agent_id
        if self.principal is None:
            self.principal = event.principal
        if event.parent_agent_id and not self.parent_agent_id and event.agent_id == self.agent_id:
            self.parent_agent_id = event.parent_agent_id
        if event.session_id not in self.sessions and len(self.sessions) < MAX_SET:
            self.sessions.add(event.session_id)
        if event.agent_id and event.agent_id not in self.agents and len(self.agents) < MAX_SET:
            self.agents[event.agent_id] = event.parent_agent_id
        if isinstance(event, ToolCall):
            if self.key_kind != "session":
                # Agent/principal/credential keys only need who used which credential when; the
                # per-tool bookkeeping is the session's (and would double the engine's cost).
                if event.credential_id:
                    self._observe_use(event.credential_id, when)
                return
            self._observe_tool_call(event, when)
        elif isinstance(event, CredentialEvent):
            self._observe_credential(event, when)
        elif isinstance(event, SessionEvent):
            self._observe_session(event, when)

    def _observe_tool_call(self, event: ToolCall, when: float) -> None:
        self.tool_calls += 1
        if event.task and not self.task:
            self.task = event.task
        if event.task_scope is not None and self.task_scope is None:
            self.task_scope = event.task_scope
        if event.tool not in self.tools and len(self.tools) < MAX_SET:
            self.tools.add(event.tool)
        if event.target:
            if event.target in self.targets or len(self.targets) < MAX_SET:
                self.targets[event.target] = event.environment.value
            else:
                self.overflow += 1
        env = event.environment.value
        self.environments[env] = self.environments.get(env, 0) + 1
        decision = event.decision.value
        self.decisions[decision] = self.decisions.get(decision, 0) + 1
        outcome = event.outcome.value
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if event.approved_by and len(self.approvers) < MAX_SET:
            self.approvers.add(event.approved_by)
        if event.credential_id:
            self._observe_use(event.credential_id, when)

    def _observe_use(self, credential_id: str, when: float) -> None:
        info = self.credential(credential_id)
        info.uses += 1
        info.first_used = when if info.first_used is None else min(info.first_used, when)
        info.last_used = when if info.last_used is None else max(info.last_used, when)

    def _observe_credential(self, event: CredentialEvent, when: float) -> None:
        info = self.credential(event.credential_id)
        action = event.action
        if action in (CredentialAction.ISSUED, CredentialAction.REFRESHED):
            if action == CredentialAction.ISSUED or info.issued_at is None:
                info.issued_at = when
                info.issued_session = event.session_id
                info.issued_event_id = event.event_id
            info.ttl_seconds = event.ttl_seconds if event.ttl_seconds is not None else info.ttl_seconds
            expires = ts(event.expires_at)
            if expires is None and event.ttl_seconds is not None:
                expires = when + event.ttl_seconds
            info.expires_at = expires if expires is not None else info.expires_at
            info.scopes = event.scopes or info.scopes
            info.inherited_from_human = info.inherited_from_human or event.inherited_from_human
            info.issuer = event.issuer or info.issuer
            info.subject = event.subject or info.subject
            info.on_behalf_of = event.on_behalf_of or info.on_behalf_of
        elif action == CredentialAction.USED:
            info.uses += 1
            info.first_used = when if info.first_used is None else min(info.first_used, when)
            info.last_used = when if info.last_used is None else max(info.last_used, when)
            info.inherited_from_human = info.inherited_from_human or event.inherited_from_human
            info.scopes = info.scopes or event.scopes
        elif action == CredentialAction.REVOKED:
            info.revoked_at = when if info.revoked_at is None else min(info.revoked_at, when)
        elif action == CredentialAction.EXPIRED:
            info.expires_at = when if info.expires_at is None else min(info.expires_at, when)

    def _observe_session(self, event: SessionEvent, when: float) -> None:
        if event.action == SessionAction.START:
            self.task = event.task or self.task
            self.task_scope = event.task_scope if event.task_scope is not None else self.task_scope
        elif event.action == SessionAction.END:
            self.ended_at = when if self.ended_at is None else max(self.ended_at, when)
        elif event.action == SessionAction.PERMISSION_MODE:
            self.permission_mode = event.permission_mode

    def credential(self, credential_id: str) -> CredentialInfo:
        info = self.credentials.get(credential_id)
        if info is None:
            info = CredentialInfo(credential_id)
            if len(self.credentials) < MAX_SET:
                self.credentials[credential_id] = info
            else:
                self.overflow += 1
        return info

    # -- helpers detectors use
    @property
    def duration_seconds(self) -> float:
        if self.first_time is None or self.last_time is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else self.last_time
        return max(0.0, end - self.first_time)

    def reachable_scopes(self) -> set[str]:
        scopes: set[str] = set()
        for info in self.credentials.values():
            scopes.update(info.scopes)
        return scopes

    def weighted_touched(self) -> float:
        from schemas.types import ENVIRONMENT_WEIGHT

        return sum(ENVIRONMENT_WEIGHT.get(Environment(env), 0.6) for env in self.targets.values())

    def approved_count(self) -> int:
        return self.decisions.get(str(Decision.APPROVED), 0)

    # -- serialisation (the stream keeps this in a changelog table)
    # The saved form is compact (issue 14: state per open session ≤ 2 KB): short names, a field left out when
    # it holds its default or what the rest implies (a session key's session id is its key; ``now`` is the
    # last event's time), each target's environment once for all when they share it. docs/streaming.md
    # lists the names. ``from_dict`` reads this form and the first one (every field by its name).
    # With a ``Form`` (state version 3, ``detectors/state_form.py``) the target folders and the task scope are
    # front-coded (``tgt``, ``tsc``) and provenance writes its sources in the key's compact form.
    def to_dict(self, form: Form | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"kk": self.key_kind, "k": self.key}
        if self.session_id != self._derived_session_id():
            out["sid"] = self.session_id
        for name, short in _OPTIONAL_FIELDS:
            if (value := getattr(self, name)) is not None:
                out[short] = value
        if self.identity_from_file:
            out["if"] = True
        if self.task_scope is not None:
            if form is None:
                out["scope"] = list(self.task_scope)
            else:
                out["tsc"] = list(front_coded_tuple(self.task_scope))
        if self.now != self._derived_now():
            out["now"] = self.now
        for name, short in _COUNTS:
            if value := getattr(self, name):
                out[short] = value
        if self.tools:
            out["tools"] = sorted(self.tools)
        if self.targets:
            if form is None:
                out["tg"] = _folded(self.targets)
            else:
                out["tgt"] = self._front_coded_targets()
            environments = set(self.targets.values())
            out["te"] = environments.pop() if len(environments) == 1 else list(self.targets.values())
        if self.approvers:
            out["appr"] = sorted(self.approvers)
        if self.sessions != self._derived_sessions():
            out["sess"] = sorted(self.sessions)
        if self.agents != self._derived_agents():
            out["agents"] = self.agents
        if self.credentials:
            implied = self._implied_by_credentials()
            out["creds"] = {k: v.to_dict(implied, form) for k, v in self.credentials.items()}
        if self.provenance is not None:
            out["prov"] = self.provenance.to_dict(form, self.task)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], form: Form | None = None) -> KeyContext:
        if "key_kind" in data:
            return cls._from_first_form(data)
        scope = front_decoded(data["tsc"]) if "tsc" in data else data.get("scope")
        ctx = cls(key_kind=data["kk"], key=data["k"], task_scope=tuple(scope) if scope is not None else None)
        for name, short in _OPTIONAL_FIELDS:
            if short in data:
                setattr(ctx, name, data[short])
        for name, short in _COUNTS:
            if short in data:
                value = data[short]
                setattr(ctx, name, dict(value) if isinstance(value, dict) else value)  # shares nothing
        ctx.session_id = data["sid"] if "sid" in data else ctx._derived_session_id()
        ctx.identity_from_file = data.get("if", False)
        ctx.now = data["now"] if "now" in data else ctx._derived_now()
        ctx.tools = set(data.get("tools", ()))
        targets = front_decoded(data["tgt"]) if "tgt" in data else _unfolded(data.get("tg", [[]]))
        if "tgt" in data:
            ctx.coded_targets = (targets, list(data["tgt"]))
        environments = data.get("te")
        if isinstance(environments, str):
            ctx.targets = dict.fromkeys(targets, environments)
        else:
            ctx.targets = dict(zip(targets, environments or (), strict=True))
        ctx.approvers = set(data.get("appr", ()))
        ctx.sessions = set(data["sess"]) if "sess" in data else ctx._derived_sessions()
        ctx.agents = dict(data["agents"]) if "agents" in data else ctx._derived_agents()
        implied = ctx._implied_by_credentials()
        ctx.credentials = {
            k: CredentialInfo.from_dict(v, k, implied, form) for k, v in data.get("creds", {}).items()
        }
        ctx.provenance = Provenance.from_dict(data["prov"], form, ctx.task) if "prov" in data else None
        return ctx

    def _front_coded_targets(self) -> list[str]:
        names = list(self.targets)
        done, coded = self.coded_targets
        if names[: len(done)] != done:  # not grown from what was coded (replaced): code it all
            done, coded = [], []
        if len(done) < len(names):
            coded = coded + front_coded(names, start=len(done))
            self.coded_targets = (names, coded)
        return list(coded)

    def known_strings(self) -> list[str]:
        """What detectors often copy from events and the context holds already: the saved form of their
        states writes these by place (``detectors/state_form.py``)."""
        return [*self.targets, *self.credentials, *(s for s in (self.agent_id, self.principal) if s)]

    # What the saved form leaves out because the rest implies it (an explicit value overrides it).
    def _derived_session_id(self) -> str | None:
        return self.key if self.key_kind == "session" else None

    def _derived_now(self) -> float:
        return self.last_time if self.last_time is not None else 0.0

    def _derived_sessions(self) -> set[str]:
        return {self.key} if self.key_kind == "session" and self.event_count else set()

    def _derived_agents(self) -> dict[str, str | None]:
        return {self.agent_id: self.parent_agent_id} if self.agent_id else {}

    def _implied_by_credentials(self) -> dict[str, str | None]:
        """A credential's usual issuing session, subject and principal on whose behalf: the key's own."""
        return {"issued_session": self.key, "subject": self.agent_id, "on_behalf_of": self.principal}

    @classmethod
    def _from_first_form(cls, data: dict[str, Any]) -> KeyContext:
        """State version 1 (before issue 14's compact form): every field by its full name."""
        scope = data.get("task_scope")
        return cls(
            key_kind=data["key_kind"],
            key=data["key"],
            session_id=data.get("session_id"),
            agent_id=data.get("agent_id"),
            parent_agent_id=data.get("parent_agent_id"),
            principal=data.get("principal"),
            identity_kind=data.get("identity_kind"),
            identity_reason=data.get("identity_reason"),
            identity_from_file=data.get("identity_from_file", False),
            task=data.get("task"),
            task_scope=tuple(scope) if scope is not None else None,
            permission_mode=data.get("permission_mode"),
            first_time=data.get("first_time"),
            last_time=data.get("last_time"),
            ended_at=data.get("ended_at"),
            now=data.get("now", 0.0),
            event_count=data.get("event_count", 0),
            tool_calls=data.get("tool_calls", 0),
            tools=set(data.get("tools", ())),
            targets=dict(data.get("targets", {})),
            overflow=data.get("overflow", 0),
            environments=dict(data.get("environments", {})),
            decisions=dict(data.get("decisions", {})),
            outcomes=dict(data.get("outcomes", {})),
            approvers=set(data.get("approvers", ())),
            sessions=set(data.get("sessions", ())),
            agents=dict(data.get("agents", {})),
            credentials={k: CredentialInfo.from_dict(v) for k, v in data.get("credentials", {}).items()},
            provenance=Provenance.from_dict(data["provenance"]) if "provenance" in data else None,
        )


# Saved-form names of the context's fields: those whose default is None, then the counters (default 0 or {}).
_OPTIONAL_FIELDS = (
    ("agent_id", "a"),
    ("parent_agent_id", "pa"),
    ("principal", "p"),
    ("identity_kind", "ik"),
    ("identity_reason", "ir"),
    ("task", "task"),
    ("permission_mode", "pm"),
    ("first_time", "t0"),
    ("last_time", "t1"),
    ("ended_at", "end"),
)
_COUNTS = (
    ("event_count", "n"),
    ("tool_calls", "calls"),
    ("overflow", "over"),
    ("environments", "envs"),
    ("decisions", "dec"),
    ("outcomes", "out"),
)


def _folded(targets: dict[str, str]) -> list[Any]:
    """Targets in order, each folder written once: ``[folders, "i|name", ...]`` where ``i`` is the index of
    the target's folder (empty: none); a session's targets share a few folders (repo paths, mailboxes)."""
    folders: dict[str, int] = {}
    names: list[str] = []
    for target in targets:
        folder, slash, name = target.rpartition("/")
        if slash:
            names.append(f"{folders.setdefault(folder + slash, len(folders))}|{name}")
        else:
            names.append(f"|{target}")
    return [list(folders), *names]


def _unfolded(data: list[Any]) -> list[str]:
    folders, names = data[0], data[1:]
    targets = []
    for entry in names:
        index, _, name = entry.partition("|")
        targets.append(folders[int(index)] + name if index else name)
    return targets
