"""Whether a task named the objects a destructive call destroys (``destructive.prod_action``): "drop
legacy_events_2019 in prod" asks for ``DROP TABLE public.legacy_events_2019``, not for ``DROP TABLE
legacy_events_2019, events`` nor ``DROP SCHEMA`` of the table's schema."""

from __future__ import annotations

import functools
import re

_NAME = re.compile(r"[A-Za-z0-9_][\w-]{5,}")
# what a SQL statement destroys: every object it lists (``DROP TABLE a, b``)
_SQL_OBJECTS = re.compile(
    r"(?i)\b(?:drop\s+(?:table|view|schema|database|index|materialized\s+view)(?:\s+if\s+exists)?|"
    r"truncate(?:\s+table)?|delete\s+from)\s+((?:[\w.\"`-]+\s*,\s*)*[\w.\"`-]+)"
)


def names_what_is_destroyed(task: str, text: str, target: str | None) -> bool:
    """Whether the task names the very object a destructive call destroys (``legacy_sessions_2019``: a name
    with a digit or an underscore, not a word); in SQL, every object the statement destroys (not ``DROP
    TABLE legacy_2019, events``; nor the schema of a named table)."""
    if objects := [o for m in _SQL_OBJECTS.finditer(text[:4000]) for o in m.group(1).split(",")]:
        return all(_named(o.strip().replace('"', "").replace("`", ""), task) for o in objects)
    names = {n for n in _NAME.findall(f"{text} {target or ''}"[:4000]) if re.search(r"[\d_]", n)}
    return any(_named(n, task) for n in names)


def _named(name: str, task: str) -> bool:
    """Whether the task names this object whole, or the end of its dotted name (``public.legacy_x``:
    legacy_x) where that is a name with a digit or an underscore."""
    parts = name.split(".")[-3:]  # (database.schema.table at most)
    ends = [".".join(parts[i:]) for i in range(len(parts))]
    return any(re.search(r"[\d_]", end) and end in _names_in(task) for end in ends)


@functools.lru_cache(maxsize=64)
def _names_in(task: str) -> frozenset[str]:
    """The task's words and dotted names whole (``legacy_2019.sessions`` is not ``legacy_2019``)."""
    return frozenset(word.strip(".") for word in re.split(r"[^\w.-]+", task))


_REVOKE_ASKED = re.compile(r"(?i)\b(?:revoke|rotate|invalidate)\b")
# the object a delete names right after its kind: ``delete secret ci-deployer-token-7xk2p``, or after the
# kind and the verb (``gcloud iam service-accounts keys delete 8f2c0d9e41ab``)
_CREDENTIAL_DELETED = re.compile(
    r"(?i)\b(?:(?:delete|rm|remove|revoke)\s+(?:secrets?|tokens?|keys?|credentials?|access-keys?)"
    r"|(?:secrets?|tokens?|keys?|credentials?|access-keys?)\s+(?:delete|rm|remove|revoke))\s+([\w.-]+)"
)


def revokes_named_credential(task: str, text: str) -> bool:
    """A task that asks to revoke or rotate a credential it names ("the ci-deployer token … revoke it"),
    and a call that deletes one secret, token or key whose own name starts with that name
    (``kubectl delete secret ci-deployer-token-7xk2p``): the revocation itself. Not ``--all``."""
    text = text[:4000]
    if not _REVOKE_ASKED.search(task) or "--all" in text:
        return False
    deleted = _CREDENTIAL_DELETED.findall(text)
    named = [n for n in _names_in(task) if len(n) > 5 and re.search(r"[-_]", n)]
    return len(deleted) == 1 and any(deleted[0].startswith(n) for n in named)


def deletes_rotated_credential(task: str, text: str) -> bool:
    """A task that asks to rotate a credential (and, its caller knows, to delete: "rotate the key … delete
    the old key"), and a call that deletes one key, token or secret: the old one, whatever its id (the
    session looked it up). Not ``--all``, not several."""
    text = text[:4000]
    if not _ROTATE_ASKED.search(task) or "--all" in text:
        return False
    return len(_CREDENTIAL_DELETED.findall(text)) == 1


_ROTATE_ASKED = re.compile(r"(?i)\brotat(?:e|ion)\b|ローテーション|ローテート|轮换|輪換")
