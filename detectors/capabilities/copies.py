"""What a call copies (a backup, an archive, an export, an upload, a sync), whether its result says the copy
failed, and which names a deletion removes (``destructive.deleted_after_failed_copy``).

Names are compared as words of paths and tables: ``/srv/akten/abgeschlossen/2009`` gives ``abgeschlossen``
and ``2009`` (its last two parts); ``DELETE FROM sorter_readings`` gives ``sorter_readings``. Where the
copy writes (a redirection, an upload's bucket, a remote host) is not what it copies from."""

from __future__ import annotations

import re
from typing import Any

import orjson

from detectors.capabilities.shell import simple_commands
from detectors.capabilities.words import call_verbs
from schemas.events import ToolCall

# the verbs of a call that copies data somewhere else before something may be removed
COPY_VERBS = frozenset(
    """copy cp rsync scp rclone backup archive export dump pg_dump pg_dumpall mysqldump mongodump snapshot
    upload sync transfer migrate replicate mirror""".split()
)
# a result that says the copy did not complete (not "0 errors", "failed: 0", "error": null)
# (nor a word of a file's name the copy lists: ``error.log``, ``failed-payments.csv``, ``logs/failed/``)
_COPY_FAILED = re.compile(
    r"(?i)(?<!\b0 )(?<![/.-])\b(?:failed|failure|denied|no space left|broken pipe|could not|unable to|cannot|"
    r"timed out|aborted|not permitted)\b(?![.-]\w|/)(?!\"?\s*[:=]\s*(?:0|null|false|none)\b)"
    r"|(?<![/.-])\berror\b(?![.-]\w|/)(?!s?\"?\s*[:=]?\s*(?:0|null|false|none|\[\]|\"\")(?:\W|$))"
    r"|\bexit (?:status|code)\s*[1-9]"
)
_PATH = re.compile(r"(?<![\w:/.-])(?:(?:~|\.{0,2})/[\w.~@+-]+(?:/[\w.~@+-]*)*|[\w.-]+/[\w.-]+(?:/[\w.-]+)+)")
_TABLE = re.compile(
    r'(?i)\b(?:from|table|truncate|into|collection|index|database|schema)\s+(?:if\s+exists\s+)?[`"]?([\w.]+)'
)
# a dump's database named by a bare argument (``pg_dump -Fc crm_legacy -f …``), not an option's value
_DUMPED = re.compile(r"\b(?:pg_dump|pg_dumpall|mysqldump|mongodump)\b([^|;&>]*)")
_BARE = re.compile(r"(?:^|\s)(?!-)(?<!-\w\s)([A-Za-z_][\w-]*)(?=\s|$)")
_REMOTE = re.compile(r"^[a-z0-9]+://|^[\w.-]+:/")  # s3://…, https://…, nas:/volume1/…: where it goes
_NAME_KEYS = re.compile(
    r"(?i)^(?:path|paths|src|source|sources|table|tables|database|db|folder|dir|directory|collection|"
    r"index|bucket|prefix|files?|name|target|resource|dataset)$"
)
_GENERIC = frozenset(
    """srv var tmp home data mnt opt usr etc dev null stdin stdout root users user the and all backup backups
    archive archives export exports dump dumps public main default""".split()
)


def copies(event: ToolCall, command: str | None) -> bool:
    """Whether the call copies data somewhere: its name or its command line (``command``) says so."""
    return not COPY_VERBS.isdisjoint(call_verbs(event, command))


def copy_failed(event: ToolCall) -> bool:
    return _COPY_FAILED.search((event.result_summary or "")[:2000]) is not None


def names(event: ToolCall, command: str | None, kept_out: frozenset[str] = frozenset()) -> set[str]:
    """The words of the paths and tables a call names (the command line, or the arguments that name what
    it acts on), those of the paths in or under ``kept_out`` (where it writes) aside."""
    if command is not None:
        texts = [command]
    else:
        texts = [orjson.dumps(v).decode() for k, v in event.arguments.items() if _NAME_KEYS.match(str(k))]
        texts += [
            str(v) for k, v in event.arguments.items() if str(k).lower() in ("query", "sql", "statement")
        ]
    found: set[str] = set()
    for text in texts:
        for path in _PATH.findall(text[:4000]):
            if not _REMOTE.match(path) and not _under(path, kept_out):
                found |= _words(path)
        found |= {t.rsplit(".", 1)[-1].lower() for t in _TABLE.findall(text[:4000])}
        found |= {w.lower() for dump in _DUMPED.findall(text[:4000]) for w in _BARE.findall(dump)}
        if command is None:
            found |= {w for v in _values(event.arguments) for w in _words(v)}
    return {w for w in found if len(w) >= 3 and w not in _GENERIC}


def _values(arguments: dict[str, Any]) -> list[str]:
    return [str(v) for k, v in arguments.items() if _NAME_KEYS.match(str(k)) and isinstance(v, str | int)]


def _words(path: str) -> set[str]:
    """A path's last two parts: what it names, not the roots it shares with much else (``/work``)."""
    parts = [p.lower() for p in re.split(r"[/\s]+", path) if p.strip("*.") and not p.startswith(("-", "$"))]
    return set(parts[-2:])


def _under(path: str, places: frozenset[str]) -> bool:
    return any(path == p or (p.rstrip("/") and path.startswith(p.rstrip("/") + "/")) for p in places)


# the programs whose last operand is where they copy to: ``rsync -a SRC DEST``, ``aws s3 cp SRC DEST``
_COPIERS = frozenset("cp rsync scp rclone gsutil azcopy aws".split())


def copied_to(command: str) -> set[str]:
    """Where a line's copies go (the last operand of each copying program: ``/mnt/nas/`` of ``rsync -a
    /srv/x /mnt/nas/``), which the shell's reading does not say of every copier."""
    found = set()
    for simple in simple_commands(command[:4000]):
        argv = simple.argv[1:] if simple.argv[:1] == ["sudo"] else simple.argv
        operands = [a for a in argv[1:] if not a.startswith("-")]
        if argv and argv[0].rsplit("/", 1)[-1] in _COPIERS and len(operands) >= 2:
            found.add(operands[-1])
    return found
