"""scope.out_of_scope_action — a tool call outside the session's declared task scope.

Why: "intent vs action". A session that declares what it may touch (``task_scope``: ``tool:<name>``
globs for tools, other globs for resources) turns every call outside that list into a measurable
deviation — the first visible step of goal hijack, tool misuse or a misaligned agent. Rules:

* no declared scope (``task_scope`` is None) -> nothing: an undeclared task cannot be left, and
  guessing one from the prompt would be noise;
* the tool is out of scope when tool globs exist and none matches;
* the target is out of scope when resource globs exist *for its namespace* (the part before the first
  ``:``: ``arn``, ``repo``, ``crm``, ``https`` …) and none matches. A namespace the scope never mentions
  is not judged (a scope listing repositories says nothing about the URLs ``tool:fetch_url`` may read).

Weighting: medium; high for a non-read call in prod, low for a read; ``risk_factor`` by environment
(prod 1.5, unknown 1.0, staging 0.8, dev 0.5), halved when the call was denied (the control held). One
finding per distinct (tool, action, target) and at most ``MAX_FINDINGS`` per session.

Maturity experimental (findings only): declared scopes are routinely narrower than what agents
legitimately read — the simulator's own cloud-ops sessions read CloudWatch, SSM and RDS outside their
declared ARNs — so this is context for the chain and for risk, not an alert on its own yet.
Known gaps: a target named without a namespace is judged only against unnamespaced globs; glob
semantics are shell-style (``*`` crosses ``/``); no scope inheritance between parent and sub-agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.helpers import scope_reasons
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Environment, IdentityKind, Maturity, Outcome, Severity

WHY = __doc__ or ""
MAX_FINDINGS = 20
ENV_FACTOR = {Environment.PROD: 1.5, Environment.UNKNOWN: 1.0, Environment.STAGING: 0.8, Environment.DEV: 0.5}
READ_PREFIXES = ("get", "list", "describe", "read", "lookup", "search", "view", "head", "filter", "fetch")


class OutOfScopeAction(StatefulDetector):
    id: ClassVar[str] = "scope.out_of_scope_action"
    title: ClassVar[str] = "Action outside the session's declared task scope"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    maturity: ClassVar[Maturity] = Maturity.EXPERIMENTAL
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI02", "T6", "T2", "T7"), owasp_nhi=("NHI5",)
    )
    runbook: ClassVar[str] = (
        "Compare the call with the session's task; if it was not needed, revoke the session's credential."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if ctx.task_scope is None or not isinstance(event, ToolCall) or state.get("count", 0) >= MAX_FINDINGS:
            return state, ()
        target = event.target
        found = scope_reasons(ctx.task_scope, event.tool, target)  # memoised: calls repeat
        if not found:
            return state, ()
        reasons = list(found)
        seen: list[str] = state.setdefault("seen", [])
        mark = f"{event.tool}|{event.action}|{target or ''}"
        if mark in seen:
            return state, ()
        seen.append(mark)
        state["count"] = state.get("count", 0) + 1
        read = event.action.lower().startswith(READ_PREFIXES) or event.action in ("get", "read")
        severity = (
            Severity.LOW if read else (Severity.HIGH if event.environment == Environment.PROD else None)
        )
        factor = ENV_FACTOR.get(event.environment, 1.0) * (0.5 if event.outcome == Outcome.DENIED else 1.0)
        what = f"tool {event.tool}" if reasons == ["tool"] else f"{event.action} on {target}"
        return state, [
            Signal.of(
                [event],
                title=f"{what} is outside the declared task scope",
                severity=severity,
                details={
                    "reasons": reasons,
                    "task_scope": list(ctx.task_scope)[:30],
                    "tool": event.tool,
                    "target": target,
                },
                risk_factor=factor,
            )
        ]
