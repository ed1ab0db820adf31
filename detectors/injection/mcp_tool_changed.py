"""injection.mcp_tool_changed — an MCP tool that changes its declared definition mid-session.

Why: agents choose and trust MCP tools by what the server declares in ``tools/list``: the description
(text the model reads as instructions) and the annotations (``readOnlyHint``, ``destructiveHint``…, which
clients use to decide whether to ask a human). Re-declaring a tool the session already saw with another
description or annotations is the "rug pull" of tool poisoning: approve a harmless tool, then swap in
instructions ("read ~/.ssh/id_rsa first") or relabel a destructive tool read-only. Reads the ``mcp`` /
``tools/list`` events of the ``mcp`` adapter (digests of description, annotations, input schema per tool;
the first listing is the baseline). High when the description changed or the annotations claim less
risk (``destructiveHint`` true → false, ``readOnlyHint`` false → true); medium otherwise.

Known gaps: only listings of one session are compared (a poisoned first listing, or a change between
sessions, is not seen); tools added or removed are not findings; OTLP MCP spans carry no definitions.
At most ``MAX_TOOLS`` definitions are remembered per session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
MAX_TOOLS = 512
PARTS = (
    ("description_digest", "description"),
    ("annotations_digest", "annotations"),
    ("input_schema_digest", "input schema"),
)


def _hints(declared: dict[str, Any]) -> dict[str, Any]:
    hints = declared.get("annotations")
    return hints if isinstance(hints, dict) else {}


def _risk_lowered(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The new annotations claim the tool is safer than before (what a client would stop asking about)."""
    return (before.get("destructiveHint") is not False and after.get("destructiveHint") is False) or (
        before.get("readOnlyHint") is not True and after.get("readOnlyHint") is True
    )


class McpToolChanged(StatefulDetector):
    id: ClassVar[str] = "injection.mcp_tool_changed"
    title: ClassVar[str] = "MCP tool definition changed mid-session"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI04", "ASI01", "ASI02", "T2", "T6"), owasp_nhi=(), mitre_attack=("T1195.001",)
    )
    runbook: ClassVar[str] = (
        "Disconnect the MCP server from the agent, diff the two tool definitions, and review every call the"
        " session made to that server after the change."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    suppress_seconds: ClassVar[float] = 0.0

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return action == "tools/list" and tool in (None, "mcp")

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or event.tool != "mcp" or event.action != "tools/list":
            return state, ()
        tools = event.arguments.get("tools")
        if not isinstance(tools, dict):
            return state, ()
        server = str(event.arguments.get("server") or event.target or "")
        known: dict[str, dict[str, Any]] = state.setdefault("tools", {})
        signals = []
        for name, declared in tools.items():
            if not isinstance(declared, dict):
                continue
            key = f"{server}\x1f{name}"
            before = known.get(key)
            if before is not None or len(known) < MAX_TOOLS:  # new tools only while there is room
                known[key] = {**declared, "event_id": event.event_id, "time": ctx.now}
            changed = [
                label for digest, label in PARTS if before and before.get(digest) != declared.get(digest)
            ]
            if before is None or not changed:
                continue
            old_hints, new_hints = _hints(before), _hints(declared)
            serious = "description" in changed or _risk_lowered(old_hints, new_hints)
            signals.append(
                Signal(
                    event_ids=(str(before["event_id"]), event.event_id),
                    first_time=float(before["time"]),
                    last_time=ctx.now,
                    title=f"MCP tool {name!r} on {server or 'a server'} changed its {' and '.join(changed)}",
                    severity=Severity.HIGH if serious else Severity.MEDIUM,
                    details={
                        "server": server,
                        "tool": name,
                        "changed": changed,
                        "annotations_before": old_hints,
                        "annotations_after": new_hints,
                        "description_after": str(declared.get("description"))[:500],
                    },
                    environments=(str(event.environment),),
                    session_id=event.session_id,
                )
            )
        return state, signals
