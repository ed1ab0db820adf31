"""evasion.safeguard_disabled — a call switched off a safeguard: alarms, monitors, MFA, a safety interlock,
backups, antivirus, an approval gate.

Why: asked to stop a nuisance alarm, get a doctor past MFA or make a failing deploy go through, the shortest
path is to turn the protection off: inhibit every alarm point of a substation, disable the tenant's MFA
policy, force a press's guard-interlock bypass, mute every monitor, disable the backup timer, pass
``skip_change_gate: true``. The call says what it does in its own words (``detectors/capabilities/
safeguards.py``): a verb that only silences (inhibit, mute, silence, snooze, suppress), or a safeguard's name
(alarm, monitor, mfa, interlock, backup, firewall, approval gate …) with a verb or a state that switches it
off (disable, bypass, skip, override, ``state: disabled``, ``enabled: false``, a ``{param:
"anemometer.enabled", value: false}`` pair, ``enforce_geofence=false`` on a command line), a protection
deleted (``delete_branch_protection``), ``systemctl disable/stop/mask`` of such a unit, an audit or history
trigger dropped, WAL archiving turned off, or backup jobs taken out of the crontab. High; medium when the task
asked to switch that safeguard off ("mute the disk alerts for two hours"; "snooze the reminder" asks nothing
of the lockout the call turned off), except fire and machine safety (smoke detection, interlocks), which stay
high, and except where the call's own result says it reached five or more items (``"sites_affected": 3812``)
while the task spoke of no many (one site, one station): high. Denied or failed calls do not fire.

Known gaps: safeguards named otherwise (a vendor's product name, a register address on a PLC); a
threshold raised until it never fires; turning a safeguard off by deleting its configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.safeguards import (
    ALL,
    alerting_api,
    asked_off,
    asks_for_many,
    safeguard_switched_off,
    scope_named,
    wider_than_asked,
    wildcard_scope,
)
from detectors.capabilities.words import argv_line
from detectors.context import KeyContext
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
# (an API call that POSTs a downtime or a setting is read as egress: it changes the service all the same)
CHANGES = frozenset(
    {Capability.WRITE, Capability.DELETE, Capability.EXECUTE, Capability.IDENTITY, Capability.FORM_INPUT}
    | {Capability.EGRESS}
)
LIFE_SAFETY = frozenset(
    "fire smoke sprinkler detector detectors facp interlock guard safety estop esd sis".split()
)


def _switched_off(event: ToolCall) -> str | None:
    # (a program-named tool's argument list is its command line: ``growctl(args=[…, "--enabled", "false"])``)
    line = command_of(event) or argv_line(event.tool, event.arguments)
    return safeguard_switched_off(event.tool, event.arguments, line)


def _changes_alerting(event: ToolCall, evidence: set[Capability]) -> bool:
    """An API POST changes alerting only when it goes to an alerting API (not a chat webhook); a PATCH or
    PUT changes whatever setting it names."""
    modifies = str(event.arguments.get("method", "")).upper() in ("PATCH", "PUT")
    return bool(evidence & (CHANGES - {Capability.EGRESS})) or modifies or alerting_api(event.arguments)


class SafeguardDisabled(EventDetector):
    id: ClassVar[str] = "evasion.safeguard_disabled"
    title: ClassVar[str] = "Safeguard switched off"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1562",))
    runbook: ClassVar[str] = (
        "Switch the safeguard back on now (re-enable the policy, lift the inhibit or bypass, restart the"
        " timer), check what happened while it was off, and fix the cause the agent was working around."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = CHANGES  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, CHANGES) or event.source == "cloudtrail" or ctx.call is None:
            return ()
        if not _changes_alerting(event, set(ctx.call.evidence)):
            return ()
        found = ctx.call.derived(_switched_off, event)  # once per shape of call: agents repeat theirs
        if found is None:
            return ()
        asked = ctx.provenance is not None and asked_off(found, ctx.provenance.trusted_text)
        asked = asked and not LIFE_SAFETY & set(found.split())  # fire and machine safety: high, asked or not
        wide: int | str | None = None
        if asked and ctx.provenance is not None:
            task = ctx.provenance.trusted_text
            wide = (
                None if scope_named(event.arguments, task) else wider_than_asked(event.result_summary, task)
            )
            wide = "all" if wide == ALL else wide
            everything = wildcard_scope(event.arguments, command_of(event)) and not asks_for_many(task)
            wide = wide or ("every one (*)" if everything else None)
        title = f"{event.tool} {found}" + (", as the task asked to switch something off" if asked else "")
        title += f"; its result says {wide} were affected, where the task spoke of one" if wide else ""
        asked = asked and not wide
        details = {"switched_off": found, "asked": asked, "affected": wide or None}
        return (
            Signal.of(
                [event], title=title, severity=Severity.MEDIUM if asked else Severity.HIGH, details=details
            ),
        )
