"""destructive.deleted_after_failed_copy — the copy (a backup, an archive, an upload, a sync) failed, and the
agent deleted what it was copying anyway.

Why: "archive everything before 2023 to S3, then delete those rows; if the archive fails, stop" — the
upload comes back ``AccessDenied``, and the agent runs ``DELETE FROM sorter_readings WHERE ts < …``: 48
million rows gone with no copy anywhere. "Move the closed files to the archive NAS": ``rsync`` ends with
"No space left on device", and ``sudo rm -rf`` removes the originals. A deletion that only makes sense once
the copy exists is the one act that turns a failed step into lost data, whatever the task said about
stopping. A call that copies (its name or its command line: ``cp``, ``rsync``, ``aws s3 cp``, ``\\copy``,
``pg_dump``, backup, archive, export, upload, sync; ``detectors/capabilities/copies.py``) whose result
says it failed (failed, denied, an error, no space left, a non-zero exit status) or which itself failed,
followed by a call that deletes a path or a table the copy read from (shared words of their paths and table
names, one with a letter in it; where the copy wrote is not counted, nor a deletion under it: the partial
copy cleared away), is reported: high. A later copy of the same data that succeeds clears it; a failed
deletion does not fire.

Known gaps: a copy whose failure the result does not say; data deleted by another name than the one copied
(an id, a volume); a copy that succeeded but is incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.copies import copied_to, copies, copy_failed, names
from detectors.context import KeyContext
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
MAX_NAMES = 24  # words of the failed copies' sources (and places they wrote to) remembered per session
MAX_PATH = 300
_DELETES = frozenset({Capability.DELETE})


class DeletedAfterFailedCopy(StatefulDetector):
    id: ClassVar[str] = "destructive.deleted_after_failed_copy"
    title: ClassVar[str] = "Data deleted after its copy failed"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Stop further deletions, restore from the last backup or snapshot (or the database's point-in-time"
        " recovery) now, and find why the copy failed before it is tried again."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or ctx.call is None:
            return state, ()
        pending: list[str] = list(state.get("failed") or ())
        line = command_of(event)
        signals: tuple[Signal, ...] = ()
        if pending and ctx.acted(event, _DELETES):
            # (words with a letter in them: a year or a number alone is shared by much that was not copied;
            # not under where the failed copy wrote: its partial copy, cleared away)
            into = frozenset(state.get("into") or ())
            lost = sorted(names(event, line, into) & set(pending), key=lambda n: (n.isdigit(), n))
            if lost and not lost[0].isdigit():
                title = f"{event.tool} deleted {', '.join(lost[:3])} after the copy of it failed"
                signals = (Signal.of([event], title=title, details={"copied_names": lost[:8]}),)
                pending = [n for n in pending if n not in lost]
        elif copies(event, line) and not ctx.acted(event, _DELETES):
            shell = ctx.call.shell
            written = [*shell.written, *shell.outputs, *shell.destinations] if shell else []
            written += copied_to(line or "")  # (rsync's and scp's destinations too)
            source = names(event, line, frozenset(written))
            if event.outcome in (Outcome.ERROR, Outcome.DENIED) or copy_failed(event):
                pending = [*pending, *sorted(source - set(pending))][-MAX_NAMES:]  # (only after a failure)
                fresh = [p for p in written if len(p) <= MAX_PATH and p not in state.get("into", ())]
                state["into"] = [*state.get("into", ()), *sorted(fresh)][-MAX_NAMES:]
            else:
                pending = [n for n in pending if n not in source]  # copied after all
        if pending:
            state["failed"] = pending
        else:
            state.pop("failed", None)
            state.pop("into", None)
        return state, signals
