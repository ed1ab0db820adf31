"""How grave a shell line is by what it does: the flags of ``detectors/capabilities/shell.py`` that must
hold together, and the severity each combination earns (``destructive.dangerous_command``)."""

from __future__ import annotations

import re
from typing import Any

from schemas.types import Severity

# (flags that must all be present, severity), most severe first; the first rule that holds decides.
RULES: tuple[tuple[frozenset[str], Severity], ...] = (
    (frozenset({"device_write"}), Severity.CRITICAL),
    (frozenset({"recursive_delete", "system_path"}), Severity.CRITICAL),
    (frozenset({"recursive_delete", "log_path"}), Severity.HIGH),
    (frozenset({"audit_evidence"}), Severity.HIGH),
    (frozenset({"recursive_delete", "service_data"}), Severity.HIGH),
    (frozenset({"recursive_delete", "backup_data"}), Severity.HIGH),
    (frozenset({"volumes_removed"}), Severity.HIGH),
    (frozenset({"history_erased"}), Severity.HIGH),
    (frozenset({"firewall_off"}), Severity.HIGH),
    (frozenset({"user_admin", "privileged"}), Severity.HIGH),
    (frozenset({"remote_code"}), Severity.HIGH),
    (frozenset({"fetched_package", "secret_read"}), Severity.HIGH),
    (frozenset({"shutdown"}), Severity.HIGH),
    (frozenset({"infra_destroy"}), Severity.HIGH),
    (frozenset({"force_push", "default_branch"}), Severity.HIGH),
    (frozenset({"world_writable", "system_path"}), Severity.HIGH),
    (frozenset({"world_writable"}), Severity.MEDIUM),
    (frozenset({"user_admin"}), Severity.MEDIUM),
    (frozenset({"kills_processes"}), Severity.MEDIUM),
    (frozenset({"persistence"}), Severity.MEDIUM),
    (frozenset({"force_push"}), Severity.MEDIUM),
)


REMOTE_CODE = frozenset({"remote_code"})

ASKABLE_DELETES = tuple(
    map(
        frozenset,
        (("recursive_delete", "log_path"), ("infra_destroy",), ("audit_evidence",), ("volumes_removed",)),
    )
)

BACKUPS = frozenset({"recursive_delete", "backup_data"})
# a task about the copies themselves ("prune the backups older than 90 days", "clear the old archives")
BACKUPS_NAMED = re.compile(r"(?i)\b(backups?|archives?|archived|snapshots?|\.bak)\b")


def askable(needed: frozenset[str], provenance: Any) -> bool:
    """Whether a task that asks for deletes may ask for this kind (logs, a stack, audit records, volumes;
    backups only when the task speaks of backups, archives or snapshots)."""
    if needed in ASKABLE_DELETES:
        return True
    trusted = provenance.trusted_text if provenance is not None else ""
    return needed == BACKUPS and BACKUPS_NAMED.search(trusted) is not None


def gravest_rule(
    flags: set[str], provenance: Any, deletes_asked: bool
) -> tuple[frozenset[str], Severity | None]:
    """The first rule that holds, past those a task that asks for deletes may ask for ("free up space": the
    logs' rule must not speak for a database's own files deleted by the same line); (empty, None) when
    none holds."""
    held = [(needed, severity) for needed, severity in RULES if needed <= flags]
    unasked = (rule for rule in held if not (deletes_asked and askable(rule[0], provenance)))
    return next(unasked, held[0] if held else (frozenset(), None))
