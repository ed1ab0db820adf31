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


def script_facts(event: ToolCall, call: Classification) -> tuple[str, list[str], bool] | None:
    """(path, flags, written) of a script the call wrote (``written``) or read: what running it would do
    (the reader's flags), when the reader noticed anything."""
    evidence = call.evidence
    arguments = event.arguments
    text: str | None = None
    if C.WRITE in evidence:
        text = next((v for k in _CONTENT_KEYS if isinstance(v := arguments.get(k), str) and v), None)
    written = text is not None
    if written:
        path = _path_of(arguments)
    elif C.READ in evidence and event.result_summary:
        shell_reads = call.shell.read if call.shell else []
        path = _path_of(arguments) or next((p for p in shell_reads if p.endswith(SCRIPT_SUFFIXES)), None)
        text = event.result_summary
    else:
        return None  # neither wrote nor read a text: no script to remember
    if not path or not text:
        return None
    script = _script_text(path, text)
    if script is None:
        return None
    body, python = script
    facts = analyse_code(body) if python else analyse(body)
    if not facts.flags:
        return None
    return path, sorted(f for f in facts.flags if not f.startswith("staged:")), written


def observe(provenance: Provenance, event: ToolCall, call: Classification) -> None:
    """Remember what a script the call read or wrote would do, when it would do anything notable."""
    found = script_facts(event, call)
    if found is not None:
        provenance.saw_script(event.event_id, found[0], found[1])


def scripts_run(provenance: Provenance | None, executed: list[str]) -> list[tuple[str, str, list[str]]]:
    """(event, path, flags) of the scripts a line runs that the session read or wrote earlier."""
    if provenance is None or not executed:
        return []
    known = (provenance.script(path) for path in executed)
    return [(str(k[0]), str(k[1]), list(k[2])) for k in known if k is not None]
