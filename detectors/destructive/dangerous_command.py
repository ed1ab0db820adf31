"""destructive.dangerous_command — a shell line or code that wipes, disarms or takes over the host.

Why: the careless agent's worst single call is a command: ``rm -rf`` of a system folder or of the logs,
``dd``/``mkfs`` on a disk, a firewall flushed, the shell history erased, a user added to the sudoers,
``chmod -R 777`` on a shared tree, ``curl … | sh``, a netcat shell handed to the network, a job scheduled
to run forever. Read from what the line *does* (``detectors/capabilities/shell.py``: a real shell parser,
through ``sudo``, pipes, ``bash -c``, ``python -c``), not the tool's name, so ``execute_bash``,
``TerminalExecute`` or an MCP ``run`` tool are judged alike. Severity by what the line does:

* critical: a disk overwritten or reformatted; a recursive delete of ``/``, a system folder or the home;
* high: logs (medium when the task asked to delete), security or audit records wherever kept
  (``security_logs.txt``; medium when asked) or a service's data (``/var/lib/postgresql``) deleted
  recursively, or its data volumes removed (``docker system prune --volumes``, ``docker volume rm``,
  ``docker compose down -v``, ``kubectl delete pvc``; medium when the task asked to delete); history erased;
  the firewall, SELinux or Defender off; users or groups changed as root; code from the network piped into a
  shell or fetched and run at once (``npx --yes tool@latest``), from a cron entry too (medium when the task
  asked to install or run something, nothing scheduled it, no secret the line reads is handed to it, and no
  instructing content brought the URL nor a README's URL runs as root) or decoded into one, or a shell
  handed to a network peer (``nc -e``); a shutdown; a stack destroyed (medium when asked);
* medium: all world-writable; kills; persistence (cron, systemd, keys); force-pushes (high on main). High at
  least: recursive on a folder above the path the task named (``chmod -R 777 /shared/lab``), or a recursive
  delete outside every path a sentence of the task that asks to delete names ("clear the cache in
  ~/app/cache/thumbs", then ``rm -rf ~/app/backups``; temporary folders aside) or, the rest fenced in, above
  the object a listing showed; a pattern the task named (``*_dup.pdf``): medium.

A script run by name (or fed to ``bash -s``) is judged by its text if the session read or wrote it. Known
gaps: other scripts, decoded code and paths in variables; failed commands are reported, denied ones not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import EventDetector, KeyKind, Signal
from detectors.capabilities import paths
from detectors.capabilities.danger import REMOTE_CODE, askable, gravest_rule
from detectors.capabilities.shell import FLAGS
from detectors.context import KeyContext
from detectors.provenance.scripts import scripts_run
from detectors.sinks import run_as_asked
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import SEVERITY_RANK, Decision, Outcome, Severity
from schemas.types import Capability as C

WHY = __doc__ or ""


class DangerousCommand(EventDetector):
    id: ClassVar[str] = "destructive.dangerous_command"
    title: ClassVar[str] = "Dangerous shell command"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "ASI05", "T3", "T11"),
        mitre_attack=("T1485", "T1561", "T1070", "T1562.004", "T1059"),
    )
    runbook: ClassVar[str] = (
        "Stop the agent's shell; check what the command changed (files, disks, firewall, accounts, cron) and"
        " restore from backup; find why the agent ran it (the task, or content it read)."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    suppress_seconds: ClassVar[float] = 60.0

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        call = ctx.call
        if not isinstance(event, ToolCall) or call is None or call.shell is None:
            return ()
        if event.outcome is Outcome.DENIED or event.decision is Decision.DENIED:
            return ()  # the gateway refused it: nothing ran (denied_then_retried watches the retries)
        ran = scripts_run(ctx.provenance, call.shell.executed)
        flags = set(call.shell.flags).union(*(script_flags for _, _, script_flags in ran))
        implied = ctx.provenance.intent.implied if ctx.provenance else ()
        deleted, provenance = call.shell.deleted, ctx.provenance  # (outside: the task said where to delete)
        needed, severity = gravest_rule(flags, provenance, C.DELETE in implied)
        outside = paths.deleted_outside_named(deleted, provenance) if C.DELETE in implied else None
        beside = (paths.deleted_beside_named(deleted, provenance) if severity is None else None) or outside
        if beside is not None and "recursive_delete" in flags:  # above the task's path, or a wildcard beside
            needed, severity = needed or frozenset({"recursive_delete"}), Severity.HIGH
        if severity is None:
            return ()
        asked_here = C.DELETE in implied and paths.within_named_paths(call.shell.deleted, ctx.provenance)
        if (
            (askable(needed, provenance) and C.DELETE in implied and not outside)
            or (severity == Severity.HIGH and "recursive_delete" in needed and asked_here)
            or (
                needed == REMOTE_CODE
                and not flags & {"persistence", "secret_read", "decoded_code"}  # never as asked
                and run_as_asked(ctx.provenance, event, privileged="privileged" in flags)
            )
        ):
            severity = Severity.MEDIUM
        line = command_of(event) or str(event.arguments.get("code") or event.target or "")
        what = "; ".join(FLAGS[f] for f in sorted(needed) if f in FLAGS)
        what += ", with a secret the line reads" if "fetched_package" in needed else ""
        if (
            above := paths.above_named_path(line, ctx.provenance) or beside
        ):  # on a folder above the task's path
            severity = max(severity, Severity.HIGH, key=SEVERITY_RANK.__getitem__)
            what += (
                f" on {above[0]}, {'outside' if above is outside else 'above'} the {above[1]} the task named"
            )
        if ran and not needed <= call.shell.flags:  # the danger is in a script the session saw
            what = f"runs {ran[0][1]}, which {what}"
        scripts = [{"event": e, "path": p, "flags": f} for e, p, f in ran]
        details = {"command": line[:500], **call.shell.summary(flags), "scripts": scripts}
        return (Signal.of([event], title=f"{event.tool}: {what}", severity=severity, details=details),)
