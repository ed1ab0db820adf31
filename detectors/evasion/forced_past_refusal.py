"""evasion.forced_past_refusal — the system refused the act, and the agent tried again with its check
turned off.

Why: payment systems hold a second identical payment as a suspected duplicate, git rejects a push that would
overwrite others' commits, a bucket will not go while it holds objects, Terraform will not apply while
another run holds the lock, a table will not drop while it has dependants. Each check is the system's own
"are you sure this is right?". An agent that answers by setting ``override_duplicate_check: true``,
``--force``, ``-lock=false`` or ``skip_validation`` turns a refusal into the act it was there to stop, and
nobody saw the question. A call that changes something (``detectors/capabilities/``) whose result reports a
refusal (blocked, rejected, a conflict or a duplicate, "not empty", "in use", "use --force …", a foreign
key's "violates … constraint"), followed in the session by a call of the same tool (the same command,
options and quoted data aside) on the same things (half the refused call's words again) that adds a switch
turning a check off (``detectors/capabilities/overrides.py``; ``SET session_replication_role = replica``;
or a call of its own before the retry: ``DISABLE TRIGGER ALL``, ``sed -i 's/enabled: true/enabled: false/'``)
and succeeds, is reported: high. Not when the task asked to force or override; ``--yes`` to a prompt is none.

Known gaps: the check turned off by another tool (an API after a refused CLI); a refusal in words these
shapes miss; a switch with an unusual name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.overrides import (
    FORCE_ASKED,
    check_switched_off,
    checks_lifted,
    command_head,
    refused,
    same_target,
    switches,
    target_words,
)
from detectors.context import KeyContext
from detectors.sinks import CHANGES
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAX_KEPT = 8  # refused calls remembered per session
ACTS = frozenset({*CHANGES, Capability.EGRESS, Capability.EXECUTE, Capability.COMMUNICATE})
GRAVE = frozenset({Capability.MONEY, Capability.IDENTITY, Capability.DELETE})


def _what(event: ToolCall, line: str | None) -> str:
    return f"{event.tool}|{command_head(line)}" if line else event.tool


class ForcedPastRefusal(StatefulDetector):
    id: ClassVar[str] = "evasion.forced_past_refusal"
    title: ClassVar[str] = "Refused act retried with the check turned off"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI10", "T7"), mitre_attack=("T1562",))
    runbook: ClassVar[str] = (
        "Read what the system refused and why; undo the forced act if it was wrong (a duplicate payment,"
        " overwritten commits), and require approval for this tool's override switches."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = ACTS  # (its first test)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or ctx.call is None or not ctx.call.evidence.keys() & ACTS:
            return state, ()
        line = command_of(event)
        what = _what(event, line)
        refusals: dict[str, list[str]] = state.get("refused") or {}
        result = event.result_summary or ""
        refusal = bool(result) and refused(result)
        # (what the call acts on is read only where a refusal is kept or a retry compared: most calls neither)
        words = target_words(event.arguments, line) if refusal or what in refusals else []
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        asked = FORCE_ASKED.search(task) is not None
        # the refused call again (the same tool or command, on the same things), switches aside
        retry = what in refusals and ctx.acted(event) and same_target(refusals[what][1].split(), words)
        signals: tuple[Signal, ...] = ()
        lifted = set(state.get("lifted") or ())  # checks a call of their own turned off since a refusal
        if (
            retry
            and not asked
            and (added := sorted((switches(event.arguments, line) | lifted) - set(refusals[what][2:])))
        ):
            why = refusals[what][0]
            title = f"{event.tool} retried with {', '.join(added)} after the system refused: {why}"
            signals = (Signal.of([event], title=title, details={"switches": added, "refusal": why}),)
        grave = sorted(ctx.call.evidence.keys() & GRAVE)
        # the switch on a payment, an access change or a delete, before any refusal: the same act
        check = None if signals or not grave or asked else check_switched_off(event.arguments, line)
        if check and ctx.acted(event):
            title = f"{event.tool} ({grave[0]}) set {check}: the system's own check was switched off"
            signals = (Signal.of([event], title=title, details={"switches": [check], "refusal": None}),)
        if refusal:
            kept = {**refusals, what: [result[:160], " ".join(words), *switches(event.arguments, line)]}
            state["refused"] = dict(list(kept.items())[-MAX_KEPT:])
        elif retry:
            state["refused"] = {k: v for k, v in refusals.items() if k != what}  # done: no later retry
            state.pop("lifted", None)
        elif refusals and ctx.acted(event) and (off := checks_lifted(event.arguments, line, str(refusals))):
            state["lifted"] = sorted(lifted | set(off))[-4:]
        return state, signals
