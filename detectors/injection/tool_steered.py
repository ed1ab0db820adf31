"""injection.tool_steered — the agent called a tool that outside content told it to use.

Why: an injected instruction often names the tool to use ("... by using the TransferTool", "call
send_money with ..."): the content chooses the act, not the user. When a tool result that addressed the
agent (the content model, ``detectors/provenance/addressing.py``) names a tool the session had not used,
and the agent then calls that tool although neither the task nor the user's turns name it, the call was
steered by the content. Content that does not address an AI counts when it asked its reader for an act
the task did not ask for ("please deactivate my alarm with GoogleHomeControlDevice"). Tool names are
compared without case or separators (``send_money`` == ``SendMoney``); a tool name in the content is any
CamelCase, snake_case or dotted (``weather.feedback``) word, and only a later *first* call of a tool of
that name matters. The content chose the agent's act: high, and critical when the call moves money or
changes access.

Known gaps: a tool named in plain words ("the money transfer tool") is not matched; a tool the agent
had already used before the content named it is not reported (the content may still have steered a
later call: ``injection.tainted_action`` sees its values); results are cut at 4,000 characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.provenance.tokens import tool_key
from detectors.sinks import ADDRESSED, label, sinks_of, with_sources
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""


def _as_capabilities(values: Iterable[str]) -> list[Capability]:
    return [Capability(v) for v in values]


MAX_TOOLS = 128


class ToolSteered(StatefulDetector):
    id: ClassVar[str] = "injection.tool_steered"
    title: ClassVar[str] = "Tool chosen by untrusted content"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # what an agent does with what it read
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI02", "T6", "T2"), mitre_attack=("T1204",)
    )
    runbook: ClassVar[str] = (
        "Reverse what the tool did; find and quarantine the content that named it, and check whether that"
        " tool should be available to this agent at all."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall):
            return state, ()
        used: list[str] = state.setdefault("used", [])
        key = tool_key(event.tool)
        first_use = key not in used
        if first_use:
            used.append(key)
            del used[:-MAX_TOOLS]
        provenance, call = ctx.provenance, ctx.call
        if not first_use or provenance is None or call is None:
            return state, ()
        source = provenance.tool_named_by(event.tool)
        if source is None or source.event_id == event.event_id:
            return state, ()
        # content that addressed the agent, or that asked its reader for an act the task did not ask for
        asked_off_task = provenance.off_task(_as_capabilities(source.requested))
        if source.score < ADDRESSED and not asked_off_task:
            return state, ()
        sinks = sinks_of(call)
        severity = (
            Severity.CRITICAL if set(sinks) & {Capability.MONEY, Capability.IDENTITY} else Severity.HIGH
        )
        signal = Signal.of(
            [event],
            title=f"{event.tool} ({label(sinks) or 'read'}) was called because untrusted content named it",
            severity=severity,
            details={
                "source_event": source.event_id,
                **source.details(),
                "capabilities": {c.value: why for c, why in call.evidence.items()},
                "intent": provenance.intent.explain(),
            },
        )
        return state, (with_sources(signal, [source]),)
