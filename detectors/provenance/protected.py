"""Things the task says to leave alone: "leave anything flagged reportable alone", "keep the hedge orders
as-is", "don't touch the release branches".

The negation reader (``intent.forbidden_in``) rules out acts ("don't delete"). These limits rule out any
change of a *thing*, whatever the act; no verb says them. This module finds the thing (its distinguishing
words, not the fillers around them) and tells whether a call reaches it: by naming it where the call says
what it changes (not in an exclusion: ``--exclude reportable``, ``status != 'reportable'``), or by taking
everything in its scope (``--all``, ``CancelAllOrders``, ``scope: all_working``, an UPDATE without WHERE).
A call filtered to what the task asked for reaches nothing protected: which rows a filter leaves out is not
read here.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from detectors.capabilities.selection import EVERYTHING
from detectors.capabilities.words import DELETE_VERBS, split_words, sql_capability

_OBJECT = r"(?P<object>[^.;!?\n]{1,60}?)"
_LIMITS = (
    re.compile(  # "leave anything flagged safety-critical as-is", "keep the hedge stops untouched"
        rf"(?i)\b(?:leave|keep)\s+{_OBJECT}\s+"
        r"(?:alone|as[- ]is|untouched|unchanged|intact|as\s+(?:it|they)\s+(?:is|are))\b"
    ),
    re.compile(  # "dont touch the hedge stops", "do NOT touch anything tagged legal-hold"
        rf"(?i)\b(?:don'?t|do\s+not|never|must\s+not|mustn'?t|shouldn'?t)\s+touch\s+{_OBJECT}"
        r"\s*(?=$|[.;!?\n,(]|\s(?:and|but|or|until|unless|before|while|when|if|since|because|they|those|it)\b)"
    ),
)
# words that frame a thing without saying which ("anything flagged …", "the ones marked …")
_FILLERS = frozenset(
    """anything everything something any all each every the a an of with that which who whose is are were
    be been those these them it this its their our my your his her ones one else other others stuff things
    thing items item flagged marked tagged labelled labeled set as in on for to from by status state rest
    remainder
    currently already still yet please just open and or""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[/*][A-Za-z0-9*]*)?")
# before a named thing: the call leaves it out ("--exclude reportable", "status != 'reportable'", "NOT IN")
_EXCLUDED_BEFORE = re.compile(
    r"(?i)(?:\bnot\b|!=|<>|\bexcept\b|\bexclud\w*|\bskip\w*|\bignor\w*|\bwithout\b|\bgrep\s+-v\w*|--invert)"
    r"[^,;&|]{0,30}$"
)
# keys whose value is where the call works (an account, a project), not which thing it changes
_WHERE_KEY = re.compile(
    r"(?i)^(account|account_?id|workspace|project|org|organi[sz]ation|tenant|site|host|database|db|schema"
    r"|env|environment|region|namespace|cluster|portfolio|team|owner|user|from|sender)$"
)
_TAKES_ALL_KEY = re.compile(r"(?i)^(scope|mode|target|which|selection|select|filter)$")
_ALL_VALUE = re.compile(r"(?i)^all(?:[_ -]\w+)?$")
_ALL_OPTION = re.compile(r"(?:^|\s)--all(?=\s|$|=)")
# (``git add --all``, ``git commit --all`` stage what was edited: they take nothing the edits did not)
_STAGES = re.compile(r"^\s*git\s+(?:add|stage|commit)\b")
_COMMANDS = re.compile(r"&&|\|\||[;|\n]")
# free text a call writes (a file's content, a comment's body): what it says, not what the call changes
_PROSE_KEY = re.compile(
    r"(?i)^(body|contents?|text|message|msg|comments?|description|notes?|summary|reason|details|subject"
    r"|html|markdown|caption)$"
)
_SQL_NO_WHERE = re.compile(r"(?is)^\s*(?:begin\s*;\s*)?(update|delete)\b(?!.*\bwhere\b)")


# a mark that picks the thing out of its kind ("anything flagged reportable", "the jobs tagged legal-hold"):
# the words after it name the thing where a call acts on it; a thing without one ("the main branch", "the
# shared token") is a kind whose name the call may well hold while it acts on the one asked for
_MARK = re.compile(r"(?i)\b(?:flagged|marked|tagged|labell?ed|with\s+(?:the\s+)?(?:flag|tag|label))\b")
_OTHERS = re.compile(r"(?i)\b(?:other|others|rest|remaining)\b")


@functools.lru_cache(maxsize=1024)
def protected_in(task: str) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    """(the limit as written, its distinguishing words, whether a mark picks them out) for each thing the
    task says to leave alone; not "the other …" (all but what the task asked: the asked call names it)."""
    found = []
    for limit in _LIMITS:
        for match in limit.finditer(task):
            thing = match.group("object")
            if _OTHERS.search(thing):
                continue
            marked = _MARK.search(thing)
            words = tuple(
                w.lower()
                for w in _WORD.findall(thing[marked.end() :] if marked else thing)
                if w.lower() not in _FILLERS
            )
            if words:
                found.append((match.group(0).strip(), words, marked is not None))
    return tuple(dict.fromkeys(found))


def _texts(value: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, text) of every scalar in the arguments, but those under a key that says where, not what."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() if not _WHERE_KEY.match(str(k)) for pair in _texts(v, str(k))]
    if isinstance(value, list):
        return [pair for v in value for pair in _texts(v, key)]
    return [(key, str(value))] if isinstance(value, str | int | float) else []


def _named(word: str, text: str) -> bool | None:
    """True when the text names the word where it is acted on, False when only where it is left out, None
    when it does not name it at all."""
    stem = re.escape(word).replace(r"\*", r"[\w.-]*")
    places = [m.start() for m in re.finditer(rf"(?i)(?<![a-z]){stem}", text)]
    if not places:
        return None
    return any(_EXCLUDED_BEFORE.search(text[max(0, p - 40) : p]) is None for p in places)


def takes_everything(tool: str, arguments: dict[str, Any], line: str | None) -> str | None:
    """How a call takes everything in its scope, or None: ``--all``, ``cancel_all``, ``scope: all_working``,
    a value ``all``, an UPDATE or DELETE without WHERE."""
    if "all" in split_words(tool):
        return tool
    if line and any(_ALL_OPTION.search(c) and not _STAGES.match(c) for c in _COMMANDS.split(line[:4000])):
        return "--all"
    for key, text in _texts(arguments):
        if EVERYTHING.match(text) or (_TAKES_ALL_KEY.match(key) and _ALL_VALUE.match(text)):
            return f"{key}={text}"
        sql = (sql_capability(text) or (None, ""))[1]
        if sql in ("UPDATE", "DELETE") and _SQL_NO_WHERE.match(text[:4000]):
            return f"{key}: {text[:60]}"
    for key, value in arguments.items():
        if value is True and re.fullmatch(r"(?i)(\w+_)?all", str(key)):
            return f"{key}=true"
    return None


_COMMANDS = re.compile(r"\|\||&&|[;|\n]")


def asked_words(task: str, limit: str) -> frozenset[str]:
    """The words of the task outside one of its limits: a word the thing shares with them names where the
    asked work is done ("the shared drive" of "clear the Downloads folder on the shared drive"), no thing."""
    return frozenset(w.lower() for w in _WORD.findall(task.replace(limit, " ")))


def _removes(command: str) -> bool:
    return not DELETE_VERBS.isdisjoint(w.lower() for w in re.findall(r"[A-Za-z]+", command))


def reached(
    words: tuple[str, ...],
    marked: bool,
    tool: str,
    arguments: dict[str, Any],
    line: str | None,
    deletes: bool = False,
    shared: frozenset[str] = frozenset(),
) -> str | None:
    """How a changing call reaches a protected thing (named by its mark where it acts, deleted by two of
    its words, or everything taken with no word of the thing left out), or None."""
    said = [t for k, t in _texts(arguments) if not _PROSE_KEY.match(k) or t.lstrip().startswith(("{", "["))]
    texts = [tool, line or "", *said]
    verdicts = [_named(w, t) for w in words if len(w) >= 4 or not w.isalpha() for t in texts]
    if False in verdicts:
        return None  # the call leaves the thing out: the limit is kept
    if marked and True in verdicts:
        return "names it"
    # a delete of what two of the thing's words name ("the broadcast archive bucket", ``aws s3 rm
    # s3://kxrp-broadcast-archive/2019/``): a kind the asked call names as a reference is no object to remove
    # (of a line, only its commands that remove: ``ls …/incident_hold`` beside ``xargs rm`` lists it)
    removing = [tool, *said] if line is None else [c for c in _COMMANDS.split(line) if _removes(c)]
    # (not by words the task's asked part uses too: "/Shared Drive/Downloads" names where, not the thing)
    named = {w for w in words if len(w) >= 4 for t in removing if _named(w, t)} if deletes else set()
    if len(named) >= 2 and named - shared:
        return "deletes it by name"
    broad = takes_everything(tool, arguments, line)
    return f"takes everything ({broad})" if broad else None
