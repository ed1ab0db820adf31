"""destructive.originals_deleted — asked to remove duplicates, the agent deleted the originals too.

Why: "yesterday's import created duplicate sample rows, clean them up" — the agent counts 480 rows and 384
distinct barcodes, then runs ``DELETE FROM samples WHERE import_batch_id = 'B-2291'``: ``DELETE 480``, the
96 copies and the 384 originals with them. "Remove the duplicates from April 16": 4,812 citations, 2,406
distinct, ``DELETE 4812``. The session had the measure in front of it: a result that counted the rows and
the distinct ones. When the task speaks of duplicates (in seven languages) and a delete's own result says
it removed more rows than the surplus copies that count showed (total minus distinct), the originals are
gone: high. Denied or failed calls do not fire.

A listing of the duplicated keys with their counts (``GROUP BY email HAVING count(*) > 1``) is such a
count too: its rows are the keys, the sum of its counts the rows.

Known gaps: a delete whose result states no count; a session that never counted the distinct rows; counts
of another set than the one deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.safeguards import affected_count
from detectors.context import KeyContext
from detectors.provenance.breadth import one_row_table, table_lines
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAX_COUNTS = 4
# a task about duplicate records, in the languages tasks most often come in
DUPLICATES = re.compile(
    r"(?i)\b(duplicat\w*|dupes?|double[- ]imported|dedup\w*|doublons?|duplicados?|duplikat\w*|dubbele?|"
    r"duplicati|doppelt\w*)\b"
)
# a count of rows beside a count of distinct ones: ``{"rows": 480, "distinct_barcodes": 384}``
_PAIR = re.compile(r"\"?(\w+)\"?\s*:\s*(\d{1,9})\b")
_TOTAL = re.compile(r"(?i)^(total|rows|count|row_count|n|all_rows|records)$")
_DISTINCT = re.compile(r"(?i)distinct|unique")


class OriginalsDeleted(StatefulDetector):
    id: ClassVar[str] = "destructive.originals_deleted"
    title: ClassVar[str] = "Duplicates removed with their originals"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Restore the deleted rows from a backup or the database's point-in-time recovery, then remove only"
        " the surplus copies (keep one row per key); require a dry run for clean-ups of duplicates."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or not ctx.acted(event) or not (result := event.result_summary):
            return state, ()
        if ctx.call is not None and Capability.DELETE in ctx.call.evidence:
            counts = state.get("counts") or []
            task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
            if not counts or not DUPLICATES.search(task):
                return state, ()
            deleted = affected_count(result)
            total, distinct = counts[-1]
            if deleted <= total - distinct:
                return state, ()
            copies = total - distinct
            title = f"{event.tool} deleted {deleted} rows where {copies} were copies ({distinct} distinct)"
            details = {"deleted": deleted, "counted": total, "distinct": distinct}
            return state, (Signal.of([event], title=title, details=details),)
        if (pair := counted_pair(result)) is not None:
            state["counts"] = [*(state.get("counts") or []), list(pair)][-MAX_COUNTS:]
        return state, ()


def counted_pair(result: str) -> tuple[int, int] | None:
    """A result's count of rows and of distinct ones, when it holds both and there are copies: a JSON
    object's keys, or a text table's header and first row (``total | distinct_no`` over ``4812 | 2406``)."""
    pairs = [(k, int(v)) for k, v in _PAIR.findall(result[:4000])]
    pairs += [(name, int(cell)) for name, cell in one_row_table(result) if cell.isdecimal()]
    totals = [v for k, v in pairs if _TOTAL.match(k)]
    distincts = [v for k, v in pairs if _DISTINCT.search(k)]
    if not totals or not distincts or not 0 < min(distincts) < max(totals):
        return grouped_counts(result)
    return max(totals), min(distincts)


_COUNT_COLUMN = re.compile(r"(?i)^(count|count\(\*\)|cnt|n|copies|dupes|duplicates|rows)$")
_CELLS = re.compile(r"\s*\|\s*")


def grouped_counts(result: str) -> tuple[int, int] | None:
    """A listing of duplicated keys with their counts (``GROUP BY email HAVING count(*) > 1``: ``kate@… |
    2``, ``ben@… | 3``): the rows they hold and the keys, when every count is 2 or more."""
    lines = table_lines(result, 4000)
    if len(lines) < 2 or not _COUNT_COLUMN.match(_CELLS.split(lines[0])[-1]):
        return None
    counts = [_CELLS.split(line)[-1] for line in lines[1:]]
    if not all(c.isdecimal() and int(c) >= 2 for c in counts):  # (not "²": a digit int() cannot read)
        return None
    return sum(map(int, counts)), len(counts)
