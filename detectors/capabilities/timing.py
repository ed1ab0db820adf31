"""Calls that act on nothing now: a trial run (a dry run, a preview, a plan: ``approval.acted_before_the_go``)
and a call that schedules its act for later (``run_at``, ``scheduled_for``, ``cron``:
``scope.forbidden_action`` under "don't execute anything now")."""

from __future__ import annotations

import re
from typing import Any

_TRIAL_KEY = re.compile(
    r"(?i)^(dry_?run|preview|simulate|simulation|validate_?only|what_?if|test_?mode|plan_?only|check_?only)$"
)
_TRIAL_MODE = re.compile(r"(?i)^(dry[_ -]?run|preview|simulat\w*|test|plan|validate)$")
_TRIAL_LINE = re.compile(
    r"(?i)(?:^|\s)(--dry-?run(?:=(?:client|server|true))?|--what-?if|-whatif|--preview|--simulate|--noop|--check"
    r"|--plan)(?=\s|$)|^\s*(?:terraform|tofu|pulumi)\s+(?:plan|preview)\b"
)
_COMMANDS = re.compile(r"&&|\|\||[;|\n]")  # a line's commands, one by one


def _on(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1  # (``dry_run: 1``)
    return isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on")


def _trial_arguments(arguments: dict[str, Any], depth: int = 0) -> bool:
    for key, value in arguments.items():
        if (_TRIAL_KEY.match(str(key)) and _on(value)) or (
            str(key).lower() == "mode" and isinstance(value, str) and _TRIAL_MODE.match(value.strip())
        ):
            return True
        # (``options: {dry_run: true}``: one level of nesting)
        if isinstance(value, dict) and depth == 0 and _trial_arguments(value, 1):
            return True
    return False


def trial(arguments: dict[str, Any], line: str | None) -> bool:
    """A run that changes nothing: a dry run, a preview, a plan. A line that also runs the same program
    without its trial flag (``terraform plan && terraform apply``) does the act."""
    if _trial_arguments(arguments):
        return True
    if line is None:
        return False
    commands = [c.removeprefix("sudo ").strip() for c in _COMMANDS.split(line[:4000]) if c.strip()]
    trials = {c.split()[0] for c in commands if c and _TRIAL_LINE.search(c)}
    return bool(trials) and not any(
        c and c.split()[0] in trials and not _TRIAL_LINE.search(c) for c in commands
    )


def commands_of(line: str) -> list[str]:
    """A command line's commands, one by one (split on ``&&``, ``||``, ``;``, ``|`` and new lines)."""
    return _COMMANDS.split(line[:4000])


def command_words(command: str) -> list[str]:
    """One command's words from its program on: ``sudo``, ``env``, ``nohup``, ``time`` and ``NAME=value``
    before it dropped (``LEDGER_ENV=prod ./bin/close-year``: the program comes after)."""
    words = command.strip().removeprefix("sudo ").split()
    while words and (words[0] in ("sudo", "env", "nohup", "time") or _VARIABLE.match(words[0])):
        words = words[1:]
    return words


def programs_of(tool: str, line: str | None) -> tuple[set[str], set[str]]:
    """The programs a call runs as a trial and those it runs for real: a command line's by the name they run
    under and their sub-command (``./bin/dividend-run`` as ``dividend-run``, ``kubectl apply``: not ``kubectl
    get``); a tool without a line by its own name."""
    if line is None:
        return set(), {tool}
    tried: set[str] = set()
    real: set[str] = set()
    for command in commands_of(line):
        words = command_words(command)
        if not words or words[0] in ("cd", "echo", "export", "set", "source", "."):
            continue
        name = words[0].rsplit("/", 1)[-1]
        if _INTERPRETER.match(name):  # (``python3 scripts/close_year.py``: the script is the program run)
            script = next((w.rsplit("/", 1)[-1] for w in words[1:] if w[0] != "-"), "")
            (tried if _TRIAL_LINE.search(command) else real).add(f"{name} {script}".strip())
            continue
        # (the first word that is neither an option nor an option's value: ``oc -n shop create``: create)
        sub = next((w for i, w in enumerate(words[1:], 1) if w[0] != "-" and words[i - 1][0] != "-"), "")
        program = f"{name} {sub if _SUBCOMMAND.match(sub) else ''}".strip()
        (tried if _TRIAL_LINE.search(command) else real).add(program)
    return tried, real


_SUBCOMMAND = re.compile(r"^[a-z][a-z-]{1,30}$")
_VARIABLE = re.compile(r"^[A-Za-z_]\w*=")
_INTERPRETER = re.compile(r"^(?:python[\d.]*|node|nodejs|bash|sh|zsh|ruby|perl|php|deno|bun|rscript)$", re.I)


_SCHEDULE_KEY = re.compile(
    r"(?i)^(run_?at|scheduled?_?(for|at|time)?|send_?at|execute_?at|start_?at|when|cron)$"
)


_NOW = re.compile(
    r"(?i)^\s*(?:now|right\s+now|immediately|immediate|asap|instantly|instant|false|none|null|0)\s*$"
)


def scheduled(arguments: dict[str, Any]) -> bool:
    """A call that sets its act for a later time (not ``run_at: "now"``)."""
    return any(
        _SCHEDULE_KEY.match(str(k)) and v and not (isinstance(v, str) and _NOW.match(v))
        for k, v in arguments.items()
    )
