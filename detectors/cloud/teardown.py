"""Set-up and teardown: a delete of what the same key created earlier is clean-up, not destruction.

Infrastructure-as-code, test suites and attack simulations create resources and delete them minutes
later; counted as deletions they drown an analyst in "mass deletion". A create-like call that succeeded
(``Create*``, ``Run*``, ``Put*``, ``Register*``, ``Allocate*``, ``Import*``, ``Copy*``, ``Request*``) leaves
the names, ids and ARNs of what it made in the key's state; a delete that names one of them is clean-up.
Bounded: the newest ``MAX_CREATED`` resources per key are remembered.

Known gaps: resources created before the window (yesterday's ``terraform apply``) are not known, so their
teardown is judged as a delete — the automation thresholds are for that; a delete that names a resource only
through a parent (a bucket's objects) is matched when the parent's name is among its identifiers.
"""

from __future__ import annotations

import re
from typing import Any

from detectors import vocab
from schemas.events import AnyEvent, ToolCall
from schemas.types import Outcome

MAX_CREATED = 512
CREATE_PREFIXES = ("Create", "Run", "Put", "Register", "Allocate", "Import", "Copy", "Request")
_ID_KEY = re.compile(r"(?:Name|Id|Ids|Identifier|Arn|ARN|^name|^key|^bucketName)$")
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")  # Secrets Manager appends six characters to a secret's ARN
_GENERIC = frozenset({"default", "true", "false", "none", "null", "all"})


def _ids_of(value: str) -> set[str]:
    value = value.strip()
    if len(value) < 3 or value.lower() in _GENERIC:
        return set()
    found = {value}
    if value.startswith("arn:"):
        resource = value.split(":", 5)[-1]
        last = re.split(r"[/:]", resource)[-1]
        if len(last) >= 3:
            found.add(last)
        if ":secretsmanager:" in value:
            found.add(_SECRET_SUFFIX.sub("", last))
    return found


def resource_ids(event: ToolCall) -> set[str]:
    """The names, ids and ARNs a call names: its target, request keys like ``*Name``/``*Id``, response ids."""
    found: set[str] = set()
    if event.target:
        found |= _ids_of(event.target)
    for key, value in event.arguments.items():
        if key == "response" and isinstance(value, dict):
            for path, item in value.items():
                if isinstance(item, str) and _ID_KEY.search(path.rsplit(".", 1)[-1]):
                    found |= _ids_of(item)
        elif isinstance(value, str) and _ID_KEY.search(key) and key != "policyArn":
            found |= _ids_of(value)
        elif isinstance(value, list) and _ID_KEY.search(key):
            for item in value[:32]:
                if isinstance(item, str):
                    found |= _ids_of(item)
    return found


_DELETE_API = re.compile(r"^(Delete|Terminate|Purge|Destroy|Drop|BatchDelete)[A-Z]")
_DELETE_TOOL = re.compile(r"^(delete|drop|destroy|purge|wipe|truncate|erase|terminate)(_|$)", re.I)


def is_delete(tool: str, action: str) -> bool:
    """A delete-like call: an AWS Delete*/Terminate*/Purge*/Destroy*/Drop*/BatchDelete* API (not the routine
    ones of ``vocab.ROUTINE_DELETES``) or an agent tool named delete_*/drop_*/destroy_*/purge_* …"""
    return bool(
        (_DELETE_API.match(action) and action not in vocab.ROUTINE_DELETES)
        or _DELETE_TOOL.match(action)
        or _DELETE_TOOL.match(tool)
    )


def is_create(event: AnyEvent) -> bool:
    return (
        isinstance(event, ToolCall)
        and event.outcome == Outcome.SUCCESS
        and event.action.startswith(CREATE_PREFIXES)
        and event.action[len(next(p for p in CREATE_PREFIXES if event.action.startswith(p))) :][:1].isupper()
    )


def remember_created(state: dict[str, Any], event: ToolCall) -> None:
    """Record what a successful create-like call made (state["created"]: id -> event time)."""
    created: dict[str, float] = state.setdefault("created", {})
    when = event.event_time.timestamp()
    for ident in resource_ids(event):
        created.pop(ident, None)
        created[ident] = when
    while len(created) > MAX_CREATED:
        del created[next(iter(created))]


def cleanup_of(state: dict[str, Any] | None, event: ToolCall) -> str | None:
    """The resource this delete removes that the same key created before it; None if it is no clean-up."""
    created: dict[str, float] = (state or {}).get("created") or {}
    if not created:
        return None
    when = event.event_time.timestamp()
    for ident in sorted(resource_ids(event), key=len, reverse=True):
        made = created.get(ident)
        if made is not None and made <= when:
            return ident
    return None
