"""destructive.held_data_deleted — a delete that reaches data a note in the session marked as held.

Why: a careless clean-up is worst where the data must be kept: footage kept for the police, raw survey
data under a court's hold, records to be retained until a claim is settled. Such data usually says so
beside itself — a ``LEGAL_HOLD.txt``, a ``README`` in the folder, a bucket object — in plain words ("legal
hold", "do not delete", "keep until released", "nicht löschen"; ``detectors/provenance/holds.py``). When
a result of the session carried such a mark for a path the call read (a ``cat``, a file tool, ``aws s3 cp
… -``), and a later delete (a shell line's deleted paths, or a delete tool's path arguments) names that
path or a folder or prefix above it, without naming the held part (as ``--exclude``, ``grep -v`` or ``!
-path`` would), the agent destroyed what it had been told to keep: high; medium when the task itself named
the held part (the user pointed at it). Once per held path; denied or failed calls do not fire.

Known gaps: holds stated as record fields (``"legal_hold": true`` on a record deleted by its id), marks in
a listing's names only (``legal-hold/``), deletes whose paths are in variables or loops.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.provenance.holds import covers, marks_in, paths_in
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
MAX_HELD = 16  # held paths remembered per session
MAX_MARKED = 2  # paths one read may mark: ``ls dir && cat dir/NOTE.txt``, not a search over a tree
_DONE_NOT = (Outcome.DENIED, Outcome.ERROR)


class HeldDataDeleted(StatefulDetector):
    id: ClassVar[str] = "destructive.held_data_deleted"
    title: ClassVar[str] = "Data marked as held deleted"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1485", "T1070"))
    runbook: ClassVar[str] = (
        "Restore the held data now (versioning, snapshots, backups), tell whoever placed the hold (legal,"
        " the insurer, the police contact in the note), and stop the agent's clean-up jobs."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        call = ctx.call
        if not isinstance(event, ToolCall) or call is None:
            return state, ()
        signals: tuple[Signal, ...] = ()
        held: list[list[str]] = state.get("held") or []
        if held and Capability.DELETE in call.evidence and event.outcome not in _DONE_NOT:
            signals = self._judge(state, held, event, ctx)
        if mark := marks_in(event.result_summary or ""):
            held = state.get("held") or []  # (as ``_judge`` left it: a reported path is not held again)
            read = (call.shell.read if call.shell else []) or paths_in(event.arguments)
            read = read if len(read) <= MAX_MARKED else []  # (a search over many files: whose mark?)
            fresh = [[path, event.event_id, mark] for path in read if path not in {h[0] for h in held}]
            if fresh:
                state["held"] = (held + fresh)[-MAX_HELD:]
        return state, signals

    def _judge(
        self, state: dict[str, Any], held: list[list[str]], event: ToolCall, ctx: KeyContext
    ) -> tuple[Signal, ...]:
        shell = ctx.call.shell if ctx.call else None
        deleted = shell.deleted if shell else paths_in(event.arguments)
        line = command_of(event) or str(event.arguments)
        hit = next(((d, h) for h in held for d in deleted if covers(d, h[0], line)), None)
        if hit is None:
            return ()
        root, (path, source, mark) = hit
        state["held"] = [h for h in held if h[0] != path]  # once per held path
        task = ctx.provenance.trusted_text if ctx.provenance else ""
        named = any(part in task for part in path.rstrip("/").split("/")[-2:] if len(part) > 3)
        return (
            Signal.of(
                [event],
                title=f"{event.tool} deleted {root}, which holds {path}, marked as held ({mark!r})",
                severity=Severity.MEDIUM if named else Severity.HIGH,
                details={"deleted": root, "held": path, "mark": mark, "mark_event": source},
            ),
        )
