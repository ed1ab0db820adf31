"""destructive.planted_command — a script the agent wrote that would wipe or disarm the host when it runs.

Why: an agent need not run a destructive command to leave one behind. A cleanup script, a cron job or a
Makefile target that holds ``rm -rf /usr``, a disk overwrite or ``docker volume prune -f`` is a loaded
weapon: the next person, pipeline or scheduler to run it fires it. The written text is read with the same
shell and code readers that judge a command line (``detectors/provenance/scripts.py``), so what counts is
what the script *does*, not what it is called or what its comments say. Severity: one step below what
``destructive.dangerous_command`` gives the same line when it runs (a system folder deleted: high; data
volumes removed: medium), one more step down for a deletion the task asked for. When the agent then runs
the script, ``dangerous_command`` reports the run at full severity.

Known gaps: scripts in languages the readers do not know (C, Go), commands hidden in aliases or variables,
and edits that add a line to a script written earlier (each edit is read on its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import EventDetector, KeyKind, Signal
from detectors.capabilities.danger import ASKABLE_DELETES, RULES
from detectors.capabilities.shell import FLAGS
from detectors.context import KeyContext
from detectors.provenance.scripts import written_script
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability as C
from schemas.types import Severity, lower_severity

WHY = __doc__ or ""


class PlantedCommand(EventDetector):
    id: ClassVar[str] = "destructive.planted_command"
    title: ClassVar[str] = "Destructive command written into a script"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "ASI05", "T11"), mitre_attack=("T1485", "T1059", "T1053")
    )
    runbook: ClassVar[str] = (
        "Open the script the agent wrote and remove the command before anything runs it (cron, CI, a"
        " colleague); check whether it already ran; find why the agent wrote it (the task, or what it read)."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[C] | None] = frozenset({C.WRITE})
    suppress_seconds: ClassVar[float] = 60.0

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        call = ctx.call
        if not isinstance(event, ToolCall) or call is None or C.WRITE not in call.evidence:
            return ()
        found = call.derived(written_script, event)  # (read once: the provenance remembers the same)
        if found is None:
            return ()  # no script written, or the reader saw nothing in it
        path, flags = found[0], set(found[1])
        needed, run_severity = next(((n, s) for n, s in RULES if n <= flags), (frozenset(), None))
        if run_severity is None:
            return ()
        severity = lower_severity(run_severity)
        implied = ctx.provenance.intent.implied if ctx.provenance else ()
        if needed in ASKABLE_DELETES and C.DELETE in implied:
            severity = lower_severity(severity)
        what = "; ".join(FLAGS[f] for f in sorted(needed) if f in FLAGS)
        title = f"{event.tool} wrote {path}, which {what}"
        details = {"path": path, "flags": sorted(flags), "when run": str(run_severity)}
        return (Signal.of([event], title=title, severity=severity, details=details),)
