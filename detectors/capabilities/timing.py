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


def trial(arguments: dict[str, Any], line: str | None) -> bool:
    """A run that changes nothing: a dry run, a preview, a plan."""
    for key, value in arguments.items():
        on = value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"))
        if (_TRIAL_KEY.match(str(key)) and on) or (
            str(key).lower() == "mode" and isinstance(value, str) and _TRIAL_MODE.match(value.strip())
        ):
            return True
    return line is not None and _TRIAL_LINE.search(line[:4000]) is not None


_SCHEDULE_KEY = re.compile(
    r"(?i)^(run_?at|scheduled?_?(for|at|time)?|send_?at|execute_?at|start_?at|when|cron)$"
)


def scheduled(arguments: dict[str, Any]) -> bool:
    """A call that sets its act for a later time."""
    return any(_SCHEDULE_KEY.match(str(k)) and v for k, v in arguments.items())
