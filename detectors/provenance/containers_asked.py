"""Whether a task asks to remove a whole container (``scope.container_beyond_task``): it speaks of a
container of that kind, or of that one by name after a removal verb, as its object ("drop the events_old
table", "truncate EVENTS_STG", "delete all rows from the parts_import table"), not as where items are ("the
pods in the payments namespace", "remove rows for items that expired" from a table, "delete all records
older than 90 days": all of those rows, not all rows)."""

from __future__ import annotations

import re

from detectors.capabilities.containers import KINDS, task_names
from detectors.provenance.languages import fold, forms_meaning

REMOVAL = frozenset("drop delete remove truncate empty wipe clear purge destroy down".split())
REMOVAL |= forms_meaning("delete", "clean")  # ("Borra la tabla roster_import_tmp")
EVERYTHING = re.compile(r"\b(everything|all (the )?(files|contents)|entire|whole|wipe|empty)\b", re.I)
SCRATCH = re.compile(r"(^|[/_.-])(tmp|temp|scratch|cache)([/_.-]|$)", re.I)
LOCATION = frozenset({"in", "inside", "within", "from", "on", "of", "at", "across"})
# the rows a removal verb takes ("remove rows for items that expired", "delete the records older than …"):
# the table is where they are; "all rows", "every record" empty it
ROWS = frozenset("row rows record records entry entries line lines".split())
ALL = frozenset("all every each entire whole".split())
# words after the rows that pick some of them ("all records older than 90 days", "all rows where …")
QUALIFIED = frozenset(
    """where that which whose who with without older newer before after since until for matching having
    created dated marked flagged not except containing""".split()
)


def asked_for(kind: str, name: str, task: str) -> bool:
    """The task speaks of a container of this kind, or of this one by name after a removal verb, as its
    object ("drop the events_old table", "truncate EVENTS_STG"), not as where items are ("from the db")."""
    if kind == "directory":  # emptied: judged only where the task pointed at it for some items (not a tmp/)
        return name not in task.lower() or bool(EVERYTHING.search(task) or SCRATCH.search(name))
    nouns, short = set(KINDS.get(kind, (kind,))), name.split(".")[-1]
    short = short if re.search(r"[_\d-]", short) else ""  # "articles" names the items as well as the table
    if short and task_names(short, task):
        return True
    sentences = [re.findall(r"[a-z0-9_.-]+\*?", said) for said in re.split(r"[.!?;]\s", fold(task))]
    removing = any(REMOVAL & set(said) for said in sentences)
    for said in sentences:
        if removing and not REMOVAL & set(said):
            continue  # only a sentence that removes ("Le bucket coûte trop cher. Supprime les proxys")
        rows = _removes_rows(said)
        if rows is False and (set(said) & nouns or (short and short in said)):
            return True  # "delete all rows from the parts_import table": emptying it is the task
        for i, word in enumerate(said):
            before = set(said[max(0, i - 3) : i])
            if (word.rsplit("-", 1)[-1] in nouns and not LOCATION & before and rows is None) or (
                short and word.split(".")[-1] == short and REMOVAL & before
            ):
                return True
    return False


def _removes_rows(said: list[str]) -> bool | None:
    """Whether a removal verb's object is some of the rows ("remove rows for items that expired": True) or
    all of them ("delete all rows from …": False); None when it speaks of no rows."""
    for i, word in enumerate(said):
        if word in REMOVAL:
            after = said[i + 1 : i + 4]
            taken = next((j for j, w in enumerate(after) if w in ROWS), None)
            if taken is not None:
                following = said[i + 2 + taken : i + 3 + taken]
                return not ALL & set(after[:taken]) or bool(QUALIFIED & set(following))
    return None
