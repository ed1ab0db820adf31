"""destructive.delete_everything — a delete whose selector matches everything.

Why: asked to "delete the spam from yesterday", an agent that cannot get its filter right may fall back on
the widest one: ``email_delete(query="*", permanent=true)``, ``files.delete(pattern="**")``,
``records.purge(filter="all")``. One call, every item gone. What the call deletes is in its arguments,
whatever the toolkit calls it: a call that can delete (``detectors/capabilities/``; shell lines are
``destructive.dangerous_command``'s) whose selecting argument — a query, filter, pattern, glob, selector,
match, ids or scope — is a wildcard or a word for everything (``*``, ``**``, ``%``, ``.*``, ``all``,
``everything``). High; medium when the task itself asked for everything ("empty the trash", "delete all
my drafts"). Denied or failed calls do not fire.

A table overwritten with a filtered copy of itself (``CREATE OR REPLACE TABLE t AS SELECT … FROM t WHERE
…``, ``INSERT OVERWRITE``) deletes every row outside the filter: high too (medium when the task asked to
keep only some rows).

Known gaps: a selector that is wide without being a wildcard (``before:2030``, ``size>0``); many narrow
deletes that add up to everything (``destructive.mass_deletion`` counts those).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.words import replaced_by_its_subset
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
DELETES = frozenset({Capability.DELETE})
SELECTOR_KEY = re.compile(
    r"^(q|query|filter|filters|pattern|glob|selector|match|matching|where|ids?|scope|search)$", re.I
)
EVERYTHING = re.compile(r"^\s*(\*+|\*\*/\*|%|\.\*|all|everything|any)\s*$", re.I)
KEEP_ONLY = re.compile(r"\b(keep only|only keep|all but|everything (but|except)|except for)\b", re.I)
ASKED_ALL = re.compile(r"\b(all|every\w*|empty|purge|wipe|clear (out|everything)|entire)\b", re.I)


def selects_everything(arguments: dict[str, Any]) -> str | None:
    """The selecting argument that matches everything (``query='*'``), or None."""
    for key, value in arguments.items():
        values = value if isinstance(value, list) else [value]
        if SELECTOR_KEY.match(str(key)) and any(isinstance(v, str) and EVERYTHING.match(v) for v in values):
            return f"{key}={values[0]!r}"
    return None


class DeleteEverything(EventDetector):
    id: ClassVar[str] = "destructive.delete_everything"
    title: ClassVar[str] = "Delete that selects everything"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Restore from the service's trash, retention or backups now (permanent deletes first); then narrow"
        " the agent's delete tool so a wildcard selector needs a human's approval."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = DELETES  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, DELETES) or ctx.call is None or ctx.call.shell is not None:
            return ()
        found = selects_everything(event.arguments)
        if found is None:
            return self._rewritten(event, ctx)
        asked = ctx.provenance is not None and ASKED_ALL.search(ctx.provenance.trusted_text) is not None
        permanent = any(
            str(k).lower() in ("permanent", "permanently", "hard", "force") and v is True
            for k, v in event.arguments.items()
        )
        details = {"argument": found, "permanent": permanent, "asked": asked}
        title = f"{event.tool} deleted with {found}" + (", permanently" if permanent else "")
        title += ", as the task asked for everything" if asked else ""
        return (
            Signal.of(
                [event], title=title, severity=Severity.MEDIUM if asked else Severity.HIGH, details=details
            ),
        )

    @staticmethod
    def _rewritten(event: ToolCall, ctx: KeyContext) -> Iterable[Signal]:
        """A table overwritten with a filtered copy of itself: every row outside the filter is deleted."""
        table = next(
            (t for v in event.arguments.values() if isinstance(v, str) and (t := replaced_by_its_subset(v))),
            None,
        )
        if table is None:
            return ()
        kept = ctx.provenance is not None and KEEP_ONLY.search(ctx.provenance.trusted_text) is not None
        title = f"{event.tool} replaced {table} with a filtered copy of itself: the rows outside it are gone"
        severity = Severity.MEDIUM if kept else Severity.HIGH
        return (
            Signal.of(
                [event], title=title, severity=severity, details={"table": table, "asked_to_keep": kept}
            ),
        )
