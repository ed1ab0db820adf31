"""Scripts a session read or wrote, and what running them would do.

An agent that runs ``./cleanup.sh`` shows nothing dangerous in its command line; the danger is in the
file. When the session has *seen* that file — read it (``cat cleanup.sh``, an editor's view) or written it
(an editor's create, a ``write_file`` call) — its text is read with the same shell or code reader as a
command line, and what it would do (the reader's flags: a system path deleted, logs wiped, the firewall
off …) is remembered by file name. ``destructive.dangerous_command`` then judges ``./cleanup.sh`` by it.
"""

from __future__ import annotations

import re
from typing import Any

from detectors.capabilities import Classification
from detectors.capabilities.shell import analyse, analyse_code
from detectors.provenance.state import Provenance
from schemas.events import ToolCall
from schemas.types import Capability as C

SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".py", ".pl", ".rb", ".ps1")
_LINE_NUMBERS = re.compile(r"^ *\d+\t", re.MULTILINE)  # `cat -n` and editor views number the lines
_CONTENT_KEYS = ("file_text", "content", "contents", "text", "data", "code", "body", "script")
_PATH_KEYS = ("path", "file", "file_path", "filepath", "filename", "target")


def _script_text(path: str, text: str) -> tuple[str, bool] | None:
    """The script's text and whether it is Python, if ``path``/``text`` look like a script."""
    if not path.endswith(SCRIPT_SUFFIXES) and "#!" not in text:
        return None  # neither a script's name nor a shebang (numbering lines cannot make one)
    body = _LINE_NUMBERS.sub("", text)
    first = body.lstrip()[:80]
    python = path.endswith(".py") or (first.startswith("#!") and "python" in first.split("\n", 1)[0])
    if path.endswith(SCRIPT_SUFFIXES) or first.startswith("#!"):
        return body, python
    return None


def _path_of(arguments: dict[str, Any]) -> str | None:
    for key in _PATH_KEYS:
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _written_text(arguments: dict[str, Any]) -> str | None:
    return next((v for k in _CONTENT_KEYS if isinstance(v := arguments.get(k), str) and v), None)


def written_script(event: ToolCall) -> tuple[str, list[str]] | None:
    """(path, flags) of the script a write puts down, when the reader noticed anything in it. A function of
    the call's arguments only: the write's classification keeps it (``Classification.derived``), so the
    detectors that judge it and the provenance that remembers it read the text once."""
    text, path = _written_text(event.arguments), _path_of(event.arguments)
    return _facts(path, text) if path and text else None


def _read_script(event: ToolCall, call: Classification) -> tuple[str, list[str]] | None:
    shell_reads = call.shell.read if call.shell else []
    path = _path_of(event.arguments) or next((p for p in shell_reads if p.endswith(SCRIPT_SUFFIXES)), None)
    return _facts(path, event.result_summary) if path and event.result_summary else None


def _facts(path: str, text: str) -> tuple[str, list[str]] | None:
    script = _script_text(path, text)
    if script is None:
        return None
    body, python = script
    facts = analyse_code(body) if python else analyse(body)
    if not facts.flags:
        return None
    return path, sorted(f for f in facts.flags if not f.startswith("staged:"))


def observe(provenance: Provenance, event: ToolCall, call: Classification) -> None:
    """Remember what a script the call read or wrote would do, when it would do anything notable."""
    if C.WRITE in call.evidence and _written_text(event.arguments) is not None:
        found = call.derived(written_script, event)
    elif C.READ in call.evidence and event.result_summary:
        found = _read_script(event, call)
    else:
        return  # neither wrote nor read a text: no script to remember
    if found is not None:
        provenance.saw_script(event.event_id, *found)


def scripts_run(provenance: Provenance | None, executed: list[str]) -> list[tuple[str, str, list[str]]]:
    """(event, path, flags) of the scripts a line runs that the session read or wrote earlier."""
    if provenance is None or not executed:
        return []
    known = (provenance.script(path) for path in executed)
    return [(str(k[0]), str(k[1]), list(k[2])) for k in known if k is not None]
