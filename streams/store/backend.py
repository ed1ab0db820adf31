"""What differs between the store's two backends, in one place: how a row is upserted by id, and whether
several processes may write the store at once.

The DuckDB file has PRIMARY KEY constraints, so ``INSERT OR REPLACE`` (and ``ON CONFLICT … DO UPDATE``
where an update is conditional) is both correct and the fastest way. A DuckLake has no key constraints:
the same upsert is a ``MERGE INTO`` on the id column. Everything else (tables, views, the integrity chain,
the queries) is the same SQL on both.

A DuckDB file has one writing process; a lake may have several (loaders sharing a PostgreSQL catalog):
there the integrity trail records when each writer opens and closes, and serialises its anchors
(streams/store/integrity.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# (new row's name, stored row's name) -> the condition under which the stored row is replaced
UpdateWhen = Callable[[str, str], str]


@dataclass(frozen=True)
class Backend:
    name: str  # "duckdb" (a file) or "ducklake"
    key_constraints: bool  # PRIMARY KEY enforced: INSERT OR REPLACE works
    several_writers: bool = False  # other processes may commit between two of this one's transactions

    def upsert(
        self,
        table: str,
        key: str,
        source: str,
        columns: Sequence[str] = (),
        update_when: UpdateWhen | None = None,
    ) -> str:
        """SQL that writes every row of ``source`` (a registered relation or a parenthesised SELECT with
        the table's columns in order) into ``table``, replacing the stored row of the same ``key`` (only when
        ``update_when`` holds, if given; ``columns`` are then the ones it sets)."""
        if not self.key_constraints:
            guard = f" AND ({update_when('incoming', table)})" if update_when else ""
            return (
                f"MERGE INTO {table} USING {source} AS incoming ON {table}.{key} = incoming.{key} "
                f"WHEN MATCHED{guard} THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
            )
        if update_when is None:
            return f"INSERT OR REPLACE INTO {table} SELECT * FROM {source}"
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
        return (
            f"INSERT INTO {table} SELECT * FROM {source} ON CONFLICT ({key}) DO UPDATE SET {updates} "
            f"WHERE {update_when('excluded', table)}"
        )


DUCKDB_FILE = Backend("duckdb", key_constraints=True)
DUCKLAKE = Backend("ducklake", key_constraints=False, several_writers=True)
