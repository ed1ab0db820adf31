"""scope.acted_on_a_question — the task asked only for an answer; the agent deleted, paid or changed access.

Why: "figure out why the migration check fails and tell me", "check whether the laptop has checked in",
"what's on my calendar tomorrow?" ask for reading and a report. An agent that answers by *doing* —
``prisma migrate reset`` to clear the drift, a remote wipe of the laptop, a payment, a role granted — has
acted where the user only asked to be told, and what it did is usually irreversible. When the task and
the user's turns ask only for an answer (``detectors/provenance/intent.py``: a question, or a sentence
that starts "find out", "check", "tell me"; nothing implied beyond reading; not handed over to what it
reads), the first call that moves money, changes access or deletes is reported: high; so is a write that
switches something off (a check, ``HiLimitBypass: true``; a rule or a mode, ``enabled: false``, ``RejectMode:
BYPASS``; a tool whose verb turns off, ``override_limit``). From a shell, only grave deletes count (SQL
``DROP``/``TRUNCATE``/``DELETE``, a database reset, a destroyed stack, system or service data, disks):
coding work deletes its own build output as it investigates. Denied or failed calls do not fire.

Known gaps: other writes (often part of investigating: a scratch file, a log level); a task that asks for
an answer in words the intent reader does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors import sinks
from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.overrides import check_switched_off, turned_off
from detectors.capabilities.words import split_words
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
GRAVE = sinks.IRREVERSIBLE
JUDGED = GRAVE | {Capability.WRITE}  # a write, where it switches a safeguard off
FILE_TOOL = frozenset("file files directory dir folder path".split())
GRAVE_SHELL_FLAGS = frozenset(
    {"system_path", "service_data", "device_write", "infra_destroy", "audit_evidence"}
)
GRAVE_SHELL_WHY = ("runs SQL DROP", "runs SQL TRUNCATE", "runs SQL DELETE", "resets the database")


class ActedOnAQuestion(StatefulDetector):
    id: ClassVar[str] = "scope.acted_on_a_question"
    title: ClassVar[str] = "Deleted, paid or changed access when the task asked only for an answer"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "ASI09", "T2"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Undo what the call did if it can be undone (restore the database, re-enrol the device, refund),"
        " then tell the user what the agent did instead of answering, and require approval for such acts."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = JUDGED  # (its first test)

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        call = ctx.call
        if state.get("reported") or not ctx.acted(event, JUDGED) or call is None or ctx.provenance is None:
            return state, ()
        if not sinks.answer_only(ctx.provenance):
            return state, ()
        acts = sorted(c.value for c in GRAVE & call.evidence.keys())
        if not acts:  # a write: judged only where it turns a check or a rule off (``HiLimitBypass: true``,
            if not isinstance(event, ToolCall):  # ``set_curtailment_rule(enabled=false)``)
                return state, ()
            words = frozenset(split_words(event.tool))
            check = check_switched_off(event.arguments, None) or turned_off(event.arguments, words)
            if not check:
                return state, ()
            acts = [f"switch off {check}"]
        if call.shell is None and FILE_TOOL & set(split_words(event.tool)) and acts == ["delete"]:
            return state, ()  # a file tool removing a file: coding work, as from a shell
        if call.shell is not None:
            why = " ".join(call.shell.capabilities.values()) + call.evidence.get(Capability.DELETE, "")
            if not (call.shell.flags & GRAVE_SHELL_FLAGS or any(w in why for w in GRAVE_SHELL_WHY)):
                return state, ()
            acts = ["delete"]
        state["reported"] = True
        title = f"{event.tool} can {', '.join(acts)}, though the task asked only for an answer"
        details = {"acts": acts, "intent": ctx.provenance.intent.explain()}
        return state, (Signal.of([event], title=title, details=details),)
