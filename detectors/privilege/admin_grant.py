"""privilege.admin_grant — an agent's tool call gave someone administrator rights.

Why: asked to "give the intern read access to the logs bucket", the shortest path is the widest grant:
``AdministratorAccess`` on the user, ``roles/owner``, Azure ``Owner``, ``cluster-admin``, a repository's
``admin`` permission, a policy allowing ``*`` on ``*``. What a call grants is in its arguments, whatever
the toolkit: a call that changes access or writes (``detectors/capabilities/``) naming a cloud's
documented full-access roles or policies anywhere (a CLI line's too, JSON policy documents included), or,
under a role, permission, group or access-level argument, a name for everything (``admin``, ``owner``,
``root``, ``sudo``/``wheel``, ``Domain Admins``), or a grant whose own result says so (a group given by
its number: ``"group": "Site Owners"``, ``"effectivePermission": "Full Control"``). High; medium when the
task asked for administrator or full rights, or for a key made to replace one the task revokes or rotates
("revoke it, make a new one").
Denied or failed calls do not fire; ``usermod -aG sudo`` is ``dangerous_command``'s.

Known gaps: custom roles whose names say nothing; narrower grants that add up to administrator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.grants import (
    admin_grant_in,
    line_admin_grant,
    name_admin_grant,
    result_admin_grant,
    role_tool_grant,
)
from detectors.capabilities.safeguards import SILENCERS
from detectors.capabilities.words import split_words
from detectors.context import KeyContext
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
ASKED_ADMIN = re.compile(
    # (a role named for it counts as written: "the lab_admin role", "db-owner")
    r"(?<![a-z])(admin\w*|administrator\w*|owner|full (access|control|rights)|superuser|root)\b",
    re.I,
)
ROTATION = re.compile(
    r"\b(rotate|rotation|regenerate|reissue|re-issue|revoke|(make|create|issue) a new one)\b", re.I
)
CHANGES_ACCESS = frozenset(
    {Capability.IDENTITY, Capability.WRITE, Capability.EGRESS}
)  # (an API PUT is egress)


_TAKES_AWAY = frozenset("remove revoke delete unassign detach withdraw strip".split())


class AdminGrant(EventDetector):
    id: ClassVar[str] = "privilege.admin_grant"
    title: ClassVar[str] = "Administrator rights granted"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI03", "T3"), mitre_attack=("T1098", "T1078"))
    runbook: ClassVar[str] = (
        "Remove the grant now, check what the grantee did with it meanwhile (their calls since the grant),"
        " and give the access the task needed, scoped to the resource it named."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = CHANGES_ACCESS  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, CHANGES_ACCESS) or ctx.call is None or event.source == "cloudtrail":
            return ()
        if not _TAKES_AWAY.isdisjoint(split_words(event.tool)):
            return ()  # ``remove_mailbox_permission(access_rights=FullAccess)`` takes the right away
        if not SILENCERS.isdisjoint(split_words(event.tool)):
            return ()  # ``shelve_alarms(scope=all)``: what it silences, no rights (safeguard_disabled's)
        call = ctx.call
        found = (
            admin_grant_in(event.arguments)
            or name_admin_grant(event.tool)
            or role_tool_grant(event.tool, event.arguments)
        )
        if found is None and (line := command_of(event)):
            found = line_admin_grant(line)
        if found is None and Capability.IDENTITY in call.evidence:  # (a group given by its number)
            found = result_admin_grant(event.result_summary, event.arguments)
        if found is None:
            return ()
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        # a key made to replace one the task revokes ("revoke it, make a new one") keeps that key's role
        rotated = Capability.SECRET in call.evidence and ROTATION.search(task) is not None
        asked = ASKED_ADMIN.search(task) is not None or rotated
        details = {"argument": found, "capabilities": sorted(c.value for c in call.evidence), "asked": asked}
        title = f"{event.tool} granted administrator rights ({found})" + (
            ", as the task asked" if asked else ""
        )
        severity = Severity.MEDIUM if asked else Severity.HIGH
        return (Signal.of([event], title=title, severity=severity, details=details),)
