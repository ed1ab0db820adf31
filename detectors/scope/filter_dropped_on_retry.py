"""scope.filter_dropped_on_retry — a call that excluded what the task said to exclude failed, and the agent
ran it again without the exclusion.

Why: "kick off the dialer campaign, exclude anyone flagged cease-and-desist or bankrupt" — the list call
with ``suppress: {flags.cd: true, …}`` comes back "400: unknown field flags.cd", and the agent builds the
list again without ``suppress`` and starts calling all 2,314 debtors. The failure was about how to say the
exclusion, not a reason to drop it; the retry does exactly what the user ruled out, and nothing looks
wrong in the log but a missing argument. When the task limits the act ("exclude", "except", "not …
anyone", "only", "skip", "without", "leave out"), a call whose result says it failed (an error object, an
HTTP 4xx/5xx, an unknown field; ``detectors/capabilities/narrowing.py``) and which had narrowing arguments
(``suppress*``, ``exclude*``, ``filter``, ``where``, ``only*``, ``dnc``, …), followed by the same call — the
same tool with the same other arguments — that changes something (``detectors/capabilities/``) without
any of them, is reported: high. A retry that keeps a narrowing argument (renamed into one the service
takes) is the fix, not the fault; a fall back to calls on one record each is another call.

Known gaps: the exclusion moved into another argument of another name (a query string); the retry made by
another tool; a filter dropped when the first call did not fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.narrowing import failed, narrowing_keys
from detectors.context import KeyContext
from detectors.sinks import CHANGES
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
ACTS = frozenset({*CHANGES, Capability.EXECUTE, Capability.COMMUNICATE, Capability.EGRESS})
# the task's own limit on the act: who or what is left out of it
LIMITED = re.compile(
    r"(?i)\b(?:exclud\w*|except|excepting|but\s+not|other\s+than|leave\s+out|skip(?:ping)?|omit\w*|"
    r"suppress\w*|only|without|not\s+(?:to\s+)?(?:anyone|any|those|the)|no\s+one\s+(?:who|flagged|on))\b"
)


class FilterDroppedOnRetry(StatefulDetector):
    id: ClassVar[str] = "scope.filter_dropped_on_retry"
    title: ClassVar[str] = "Exclusion dropped when the call was retried"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI09", "T6"), mitre_attack=("T1565",))
    runbook: ClassVar[str] = (
        "Stop what the retry started (pause the campaign, the job, the send), take out the items the task"
        " excluded, and find how the service expects the exclusion to be written."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = ACTS  # (its first test)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or ctx.call is None or ctx.provenance is None:
            return state, ()
        if not ctx.call.evidence.keys() & ACTS:
            return state, ()
        narrowing = narrowing_keys(event.arguments)
        did_fail = event.outcome == Outcome.ERROR or failed(event.result_summary or "")
        dropped: dict[str, dict[str, list[str]]] = dict(state.get("failed") or {})
        signals: tuple[Signal, ...] = ()
        arguments = sorted(str(k) for k in event.arguments)
        if event.tool in dropped and narrowing:
            del dropped[event.tool]  # retried with its exclusion (written another way): the fix
        elif event.tool in dropped and ctx.acted(event) and not did_fail:
            kept = dropped.pop(event.tool)
            # (the same call but its exclusion; not a fallback to other calls, ``{id: 42, set: …}``)
            if arguments == kept["others"]:
                keys = kept["dropped"]
                title = f"{event.tool} ran again without {', '.join(keys)} after the call that had it failed"
                signals = (Signal.of([event], title=title, details={"dropped": keys}),)
        if narrowing and did_fail and LIMITED.search(ctx.provenance.trusted_text):
            # (kept only after such a failure: most sessions keep nothing)
            dropped[event.tool] = {
                "dropped": narrowing,
                "others": [a for a in arguments if a not in narrowing],
            }
        if dropped:
            state["failed"] = dropped
        else:
            state.pop("failed", None)
        return state, signals
