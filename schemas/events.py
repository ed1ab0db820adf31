"""The event contract: what every adapter produces and every detector reads.

Models are frozen and closed (``extra="forbid"``): chainwatch is their producer. Tolerant parsing
belongs in the adapters at the edge, never here. Every event carries ``schema_version``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.redaction import (
    line_may_need_redaction,
    may_need_redaction,
    redact_text,
    redact_value,
    texts_of,
)
from schemas.secret_memory import KNOWN_SECRETS
from schemas.types import (
    Capability,
    CredentialAction,
    Decision,
    Environment,
    Identifier,
    NonEmptyStr,
    Outcome,
    SessionAction,
    ShortText,
    UtcDatetime,
)

# Results and task texts are cut to this many characters: enough to find an injected
# instruction or an IBAN, small enough that a long web page does not bloat state and storage.
MAX_TEXT = 4000


TRUSTED = {"trusted": True}


def _trusted(info: ValidationInfo) -> bool:
    """Events chainwatch itself serialised (the worker's internal repartition hop) were redacted when
    they were first built; validating them again must not pay for redaction twice. Records that
    :func:`event_from_line` proved to need none skip it too."""
    return bool(info.context) and bool(info.context.get("trusted"))  # type: ignore[union-attr]


# Every text an event takes from the agent's input is redacted (issue 15): the free text, the arguments,
# and the short fields, where a token used as a tool name, a principal or a credential id would otherwise be
# stored raw. event_id is left alone (the event's identity: the source's own id or a hash).
_REDACTED_SHORT_FIELDS = (
    "session_id",
    "agent_id",
    "parent_agent_id",
    "principal",
    "tool",
    "action",
    "approved_by",
    "credential_id",
    "subject",
    "on_behalf_of",
    "issuer",
    "permission_mode",
    "target",
)
_REDACTED_LIST_FIELDS = ("task_scope", "scopes")
_CUT_FIELDS = ("task", "result_summary", "decision_reason")  # cut to MAX_TEXT, then redacted


def _redacted_input(data: dict[str, Any]) -> dict[str, Any]:
    """The record with its free text cut and every secret in it redacted. One pre-scan over all of its
    texts together (an RE2 set, ``schemas.redaction.may_need_redaction``) decides whether anything needs a
    closer look: most events need none, and then no field is scanned again. A secret found by its place is
    remembered for the rest of its session (``schemas.secret_memory``)."""
    with KNOWN_SECRETS.session(data.get("session_id")):
        learnt = KNOWN_SECRETS.generation()
        redacted = _redacted_in_session(data)
        if KNOWN_SECRETS.generation() != learnt:  # a field read before the one that taught it may echo it
            redacted = _redacted_in_session(redacted)
        return _declaration_redacted(redacted)


def _declaration_redacted(data: dict[str, Any]) -> dict[str, Any]:
    """The declared description with the session's remembered secrets redacted: its own validator redacts
    it outside the session (and an adapter builds a ``ToolDeclaration`` before the event)."""
    declaration = data.get("tool_declaration")
    if not KNOWN_SECRETS.active() or declaration is None:
        return data
    is_dict = isinstance(declaration, dict)
    description = declaration.get("description") if is_dict else getattr(declaration, "description", None)
    if not isinstance(description, str) or not KNOWN_SECRETS.found_in(description):
        return data
    redacted = redact_text(description[:MAX_DESCRIPTION])
    if is_dict:
        return {**data, "tool_declaration": {**declaration, "description": redacted}}
    if isinstance(declaration, ToolDeclaration):
        return {**data, "tool_declaration": declaration.model_copy(update={"description": redacted})}
    return data


def _redacted_in_session(data: dict[str, Any]) -> dict[str, Any]:
    arguments = data.get("arguments")
    if isinstance(arguments, dict) and _nested_deeper_than(arguments, MAX_ARGUMENT_DEPTH):
        raise ValueError(f"arguments are nested deeper than {MAX_ARGUMENT_DEPTH} levels")  # before any walk
    cut = {k: v[:MAX_TEXT] for k in _CUT_FIELDS if isinstance(v := data.get(k), str) and len(v) > MAX_TEXT}
    if cut:
        data = {**data, **cut}
    texts = [v for k in (*_REDACTED_SHORT_FIELDS, *_CUT_FIELDS) if isinstance(v := data.get(k), str)]
    for name in _REDACTED_LIST_FIELDS:
        values = data.get(name)
        if isinstance(values, list | tuple):
            texts.extend(v for v in values if isinstance(v, str))
    has_arguments = isinstance(arguments, dict) and bool(arguments)
    if has_arguments:
        texts.extend(texts_of(arguments))
    if not texts or not may_need_redaction("\n".join(texts), names=has_arguments):
        return data
    redacted = dict(data)
    if has_arguments:  # first: a password under its key is then known in the texts below (secret_memory)
        redacted["arguments"] = redact_value(arguments)
    for name in (*_REDACTED_SHORT_FIELDS, *_CUT_FIELDS):
        if isinstance(value := data.get(name), str):
            redacted[name] = redact_text(value)
    for name in _REDACTED_LIST_FIELDS:
        values = data.get(name)
        if isinstance(values, list | tuple):
            redacted[name] = [redact_text(v) if isinstance(v, str) else v for v in values]
    return redacted


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _redact_agent_input(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or _trusted(info):
            return data
        return _redacted_input(data)

    schema_version: Literal[1] = 1  # == SCHEMA_VERSION
    event_id: Identifier = Field(description="The source's own id, or a hash of the source record.")
    event_time: UtcDatetime = Field(description="When it happened, by the source's clock (UTC).")
    ingest_time: UtcDatetime | None = Field(default=None, description="When chainwatch read it (UTC).")
    source: Identifier = Field(description="The adapter that produced the event (native, cloudtrail, …).")
    session_id: Identifier = Field(description="The agent session (action chain) this event belongs to.")
    agent_id: Identifier | None = Field(default=None, description="The acting agent.")
    parent_agent_id: Identifier | None = Field(
        default=None, description="For a sub-agent: the agent that started it."
    )
    principal: Identifier | None = Field(
        default=None, description="The human or service the agent acts on behalf of."
    )


# Deeper arguments are refused (a dead letter): redaction, JSON encoding (orjson stops at 255 levels) and
# the store all walk them recursively, and no real tool call nests anywhere near this deep.
MAX_ARGUMENT_DEPTH = 64


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether lists/dicts in ``value`` nest more than ``limit`` levels (iterative: safe at any depth)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list | tuple) else ()
        for child in children:
            if isinstance(child, dict | list | tuple):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


# Declared descriptions are cut to this many characters: enough to say what a tool does.
MAX_DESCRIPTION = 2000


class ToolDeclaration(BaseModel):
    """What the tool's provider declares about it, where the source carries it: MCP ``tools/list`` (the
    description and the ``readOnlyHint``/``destructiveHint``/``idempotentHint``/``openWorldHint``
    annotations), an OpenAI-style ``tools`` list, OpenTelemetry ``gen_ai.tool.description``. It is evidence
    for the call's capabilities, weaker than a user's tool manifest and stronger than the tool's name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: ShortText | None = Field(default=None, description="The declared description, redacted.")
    read_only: bool | None = Field(default=None, description="MCP readOnlyHint.")
    destructive: bool | None = Field(default=None, description="MCP destructiveHint.")
    idempotent: bool | None = Field(default=None, description="MCP idempotentHint.")
    open_world: bool | None = Field(default=None, description="MCP openWorldHint (reaches outside).")
    parameters: tuple[str, ...] = Field(default=(), description="Declared parameter names.")
    source: Identifier | None = Field(default=None, description="Where it was declared (mcp, openai, otel).")

    @field_validator("description", mode="before")
    @classmethod
    def _redact_description(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not _trusted(info):
            return redact_text(value[:MAX_DESCRIPTION])
        return value


class ToolCall(_Event):
    """One tool call by an agent, with its intent, decision, credential and outcome."""

    kind: Literal["tool_call"] = "tool_call"
    task: ShortText | None = Field(default=None, description="The session's stated task or intent.")
    task_scope: tuple[str, ...] | None = Field(
        default=None,
        description="Resources/tools (glob patterns) the task may touch; none means undeclared.",
    )
    tool: NonEmptyStr = Field(description="Tool name (e.g. bash, iam, book_reservation).")
    action: NonEmptyStr = Field(description="The verb (CreateUser, rm, cancel_reservation).")
    target: ShortText | None = Field(default=None, description="Target resource: URI, ARN, path.")
    environment: Environment = Environment.UNKNOWN
    arguments: dict[str, Any] = Field(default_factory=dict, description="Arguments, secrets redacted.")
    outcome: Outcome = Outcome.UNKNOWN
    decision: Decision = Decision.UNKNOWN
    approved_by: Identifier | None = Field(default=None, description="Who approved, when decision=approved.")
    decision_reason: ShortText | None = Field(
        default=None,
        description="Why the gateway decided as it did, in one line (chainwatch guard: the policy rule and"
        " the detectors that spoke), secrets redacted.",
    )
    credential_id: Identifier | None = Field(default=None, description="The credential the call used.")
    duration_ms: float | None = Field(default=None, ge=0)
    untrusted_content: bool = Field(
        default=False, description="The result carries outside content (web page, email, file, API body)."
    )
    result_summary: ShortText | None = Field(default=None, description="Compact result, secrets redacted.")
    tool_declaration: ToolDeclaration | None = Field(
        default=None, description="What the tool's provider declares about it (MCP annotations, description)."
    )
    capabilities: tuple[Capability, ...] | None = Field(
        default=None,
        description="What the call can do (detectors/capabilities/); None until classified, () when"
        " nothing is known.",
    )

    def with_capabilities(self, capabilities: tuple[Capability, ...]) -> ToolCall:
        """This call with ``capabilities`` set: what ``model_copy(update={"capabilities": …})`` gives (a
        shallow copy, the field marked as set, nothing validated), made directly: the engine makes one per
        call it classifies, and pydantic's generic copy was a tenth of the cost of classifying."""
        copied = object.__new__(type(self))
        values = self.__dict__.copy()
        values["capabilities"] = capabilities
        _set_attribute(copied, "__dict__", values)
        _set_attribute(copied, "__pydantic_extra__", None)  # extra="forbid": never any
        _set_attribute(copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | _CAPABILITIES_SET)
        _set_attribute(copied, "__pydantic_private__", None)  # it has no private attributes (a test checks)
        return copied


_set_attribute = object.__setattr__  # how pydantic itself fills a frozen model's copy
_CAPABILITIES_SET = frozenset({"capabilities"})


class CredentialEvent(_Event):
    """A credential's lifecycle: issued, used, refreshed, revoked, expired."""

    kind: Literal["credential"] = "credential"
    credential_id: Identifier
    action: CredentialAction
    subject: Identifier | None = Field(default=None, description="Who holds it (normally the agent).")
    on_behalf_of: Identifier | None = Field(default=None, description="The human it was issued for.")
    scopes: tuple[str, ...] = Field(default=(), description="What it can reach (scopes, actions, ARNs).")
    ttl_seconds: float | None = Field(default=None, ge=0)
    expires_at: UtcDatetime | None = None
    issuer: Identifier | None = None
    inherited_from_human: bool = Field(
        default=False, description="The agent runs on a human's own credential, not a task-scoped one."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_session(cls, data: Any) -> Any:
        # A credential seen outside any session still needs a chain to belong to.
        if isinstance(data, dict) and not data.get("session_id") and data.get("credential_id"):
            return {**data, "session_id": f"credential:{data['credential_id']}"}
        return data


class SessionEvent(_Event):
    """Session boundaries and mode changes: the stated task, its declared scope, its end."""

    kind: Literal["session"] = "session"
    action: SessionAction
    task: ShortText | None = None
    task_scope: tuple[str, ...] | None = None
    permission_mode: Identifier | None = Field(
        default=None, description="For action=permission_mode: the new mode (e.g. bypassPermissions)."
    )


Event = Annotated[ToolCall | CredentialEvent | SessionEvent, Field(discriminator="kind")]
EVENT_ADAPTER: TypeAdapter[ToolCall | CredentialEvent | SessionEvent] = TypeAdapter(Event)
EVENT_TYPES = (ToolCall, CredentialEvent, SessionEvent)
AnyEvent = ToolCall | CredentialEvent | SessionEvent
# The compiled validator itself: TypeAdapter.validate_python's own checks cost 4 % of a validation.
_validate: Callable[..., AnyEvent] = EVENT_ADAPTER.validator.validate_python


def event_from_dict(data: dict[str, Any]) -> AnyEvent:
    return _validate(data)


def event_from_line(value: dict[str, Any], line: bytes) -> AnyEvent:
    """The event of the record ``value`` that orjson read from the JSON text ``line``: what
    :func:`event_from_dict` gives, the same event or the same error, cheaper for the common record whose
    raw text proves that the redaction step would change nothing. Its strings are then neither gathered nor
    scanned again, so it is validated as a trusted record."""
    session_id = value.get("session_id")
    if KNOWN_SECRETS.holds(session_id):
        with KNOWN_SECRETS.session(session_id):  # (its secrets found earlier count)
            needs_step = _needs_redaction_step(value, line)
    else:
        needs_step = _needs_redaction_step(value, line)
    return _validate(value) if needs_step else _validate(value, context=TRUSTED)


def _needs_redaction_step(value: dict[str, Any], line: bytes) -> bool:
    """Whether the model's redaction step (``_redacted_input``, the description's) could change or refuse
    ``value``: a text to cut (none fits in a shorter line), arguments too deep, a session id built from the
    credential id (``CredentialEvent._default_session``), or a string that may need redacting (one RE2
    pass over the raw line: ``line_may_need_redaction``)."""
    if len(line) > MAX_TEXT or (len(line) > MAX_DESCRIPTION and "tool_declaration" in value):
        return True
    arguments = value.get("arguments")
    is_dict = isinstance(arguments, dict)
    if not value.get("session_id") or (is_dict and _nested_deeper_than(arguments, MAX_ARGUMENT_DEPTH)):
        return True
    return line_may_need_redaction(line, names=is_dict and bool(arguments))


def event_from_json(raw: bytes | str) -> AnyEvent:
    return EVENT_ADAPTER.validate_json(raw)


def trusted_event_from_json(raw: bytes | str) -> AnyEvent:
    """Only for bytes chainwatch wrote itself from already-redacted events (see ``_trusted``). Read by
    orjson and validated as Python objects: 14 % cheaper than pydantic's JSON mode on the worker's hop
    (docs/performance.md); a line that fails is read again in JSON mode, for the error it always gave."""
    try:
        return _validate(orjson.loads(raw), context=TRUSTED)
    except ValueError:  # orjson's and pydantic's errors: both are ValueErrors
        return EVENT_ADAPTER.validate_json(raw, context=TRUSTED)


def event_to_json(event: AnyEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()
