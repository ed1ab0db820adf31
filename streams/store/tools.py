"""The tools a database has seen: one row per (tool, action) with its calls, the capabilities stored on
them, and one sample call to explain them (``chainwatch tools``)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from schemas.events import ToolCall
from streams.store.database import event_from_row


@dataclass(frozen=True)
class ToolSeen:
    tool: str
    action: str
    calls: int
    stored: tuple[str, ...]  # every capability stored on its calls
    without_capability: int  # calls stored with capabilities = []
    not_classified: int  # calls stored with capabilities NULL (before the column existed)
    sample: ToolCall  # its first call (by time, then id): what `chainwatch tools` re-classifies


def tools_seen(con: duckdb.DuckDBPyConnection) -> list[ToolSeen]:
    """Every (tool, action) of the stored tool calls, the most called first."""
    groups = con.execute(
        """
        SELECT tool, action, count(*) AS calls,
            list_sort(list_distinct(flatten(list(capabilities) FILTER (WHERE capabilities IS NOT NULL)))),
            count(*) FILTER (WHERE len(capabilities) = 0),
            count(*) FILTER (WHERE capabilities IS NULL),
            arg_min(event_id, (event_time, event_id))
        FROM events
        WHERE kind = 'tool_call'
        GROUP BY tool, action
        ORDER BY calls DESC, tool, action
        """
    ).fetchall()
    if not groups:
        return []
    cursor = con.execute("SELECT * FROM events WHERE list_contains(?, event_id)", [[g[6] for g in groups]])
    names = [d[0] for d in cursor.description]
    samples = {row[names.index("event_id")]: row for row in cursor.fetchall()}
    seen = []
    for tool, action, calls, stored, empty, unclassified, sample_id in groups:
        sample = event_from_row("event", dict(zip(names, samples[sample_id], strict=True)))
        assert isinstance(sample, ToolCall)  # the query selects tool calls only
        seen.append(ToolSeen(tool, action, calls, tuple(stored or ()), empty, unclassified, sample))
    return seen
