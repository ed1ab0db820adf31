"""destructive.prod_action — an agent deleted, dropped, destroyed or force-pushed something in production.

Why: an agent acting at machine speed with an inherited credential can wipe production in one call
(``rm -rf`` of a data directory, ``DROP TABLE``, ``terraform destroy``, ``DeleteDBInstance``), and nothing
about the call looks unusual to the API that accepts it. One such call in ``prod`` is worth an alert.
What counts as destructive is ``detectors.vocab.destructive_reason``: AWS ``Delete*``/``Terminate*``/
``Purge*``/``Drop*`` APIs (critical for databases, buckets, volumes, stacks, backups, keys), shell
commands (recursive removal, terraform/pulumi destroy, SQL DROP/TRUNCATE/DELETE without WHERE, disk
wipes, git force-push, kubectl delete, cloud CLI deletes) and agent tools named ``delete_*``/``drop_*``…
Routine deletes are not destructive: queue messages consumed, sessions and tags cleaned up, a single
S3 object under a temp path, ``rm -rf`` of build and cache directories. A denied call did nothing and
does not fire; a call that errored may have half-happened and does.

Production is the event's ``environment``, or — when the source does not say — an argument that names
it (``database: production``, ``env: prod``, ``cluster: payments-prod``). A database tool's SQL argument
(``db.execute(sql="DROP TABLE users")``) is read like a shell line's SQL.

Known gaps: only production fires. Events whose environment is ``unknown`` — every
CloudTrail record, since an AWS account does not say which environment it is — are not judged: map
accounts to environments upstream to cover them. Destruction by overwrite (``PutObject`` over data,
``UPDATE`` without WHERE, ``terraform apply`` that replaces resources) and obfuscated shell
(``eval``, base64-decoded scripts, scripts run from a file) are missed. One alert per session per
5 minutes; later destructive calls in that window are findings. Deleting audit logging (DeleteTrail,
DeleteFlowLogs, …) is left to ``evasion.audit_logging_disabled`` so that one call raises one alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import PRINCIPALS, EventDetector, Signal
from detectors.context import KeyContext
from detectors.provenance.destroyed import (
    deletes_rotated_credential,
    names_what_is_destroyed,
    revokes_named_credential,
)
from detectors.vocab import (
    Reason,
    audit_tampering,
    command_of,
    destructive_command,
    destructive_reason,
    in_production,
)
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
_SQL_KEYS = frozenset({"sql", "query", "statement", "statements"})


def _sql_reason(event: ToolCall) -> Reason | None:
    """A database tool's SQL argument read like a shell line's (``DROP TABLE``, ``DELETE`` without WHERE)."""
    for key, value in event.arguments.items():
        if key.lower() in _SQL_KEYS and isinstance(value, str) and (found := destructive_command(value)):
            return found
    return None


class DestructiveProdAction(EventDetector):
    id: ClassVar[str] = "destructive.prod_action"
    title: ClassVar[str] = "Destructive action in production"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "T2", "ASI08"), owasp_nhi=("NHI5",), mitre_attack=("T1485", "T1490", "T1561")
    )
    runbook: ClassVar[str] = (
        "Stop the session and revoke its credential; then check backups/snapshots of the target and restore."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    suppress_seconds: ClassVar[float] = 300.0

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or event.outcome == Outcome.DENIED:
            return ()
        found = destructive_reason(event) or _sql_reason(event)
        if found is None or not in_production(event) or audit_tampering(event):
            return ()  # deleting a trail or flow log is evasion.audit_logging_disabled's alert
        what, severity = found
        command = command_of(event)
        did = f"ran `{command[:120]}` ({what})" if command else f"called {event.action}"
        did += f" ({what})" if not command and what != event.action else ""
        where = f" on {event.target}" if event.target else ""
        title = f"{event.agent_id or ctx.agent_id or 'an agent'} {did}{where} in prod"
        details = {
            "reason": what,
            "action": event.action,
            "target": event.target,
            "outcome": str(event.outcome),
        }
        if _asked(ctx, command or _sql_text(event) or "", event.target):
            severity, title = Severity.MEDIUM, title + ", as the task asked"  # "drop legacy_x in prod"
        return [Signal.of([event], title=title, severity=severity, details=details)]


def _asked(ctx: KeyContext, text: str, target: str | None) -> bool:
    """The task asked to delete and named the very objects the call destroys (``detectors/provenance/``)."""
    provenance = ctx.provenance
    if provenance is not None and revokes_named_credential(provenance.trusted_text, text):
        return True  # ("revoke the ci-deployer token": ``kubectl delete secret ci-deployer-token-7xk2p``)
    if provenance is None or Capability.DELETE not in provenance.intent.implied:
        return False
    task = provenance.trusted_text  # ("rotate the key and delete the old one": the old key's id looked up)
    return names_what_is_destroyed(task, text, target) or deletes_rotated_credential(task, text)


def _sql_text(event: ToolCall) -> str | None:
    return next(
        (v for k, v in event.arguments.items() if k.lower() in _SQL_KEYS and isinstance(v, str)), None
    )
