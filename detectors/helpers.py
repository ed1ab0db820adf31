"""Small pure helpers shared by several catalog detectors (the registry never loads this as a detector).

* Scope strings: a credential scope is either an opaque token (``crm:read``, ``repo:acme/x:write``) or
  ``"<action pattern> <resource pattern>"`` (``s3:GetObject arn:aws:s3:::acme-logs/*``), as the
  simulator and the CloudTrail adapter write them. ``*`` is a wildcard everywhere.
* Task scopes: glob patterns; ``tool:<name>`` entries allow tools, everything else names resources.
* Names: a tool or action name split into words (``SendPayment`` -> send, payment) and the read verbs.

Where values came from (taint) is ``detectors/provenance/``; what a call can do, ``detectors/capabilities/``.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable

# ---------------------------------------------------------------------------------------------- scopes

# Resource patterns that reach everything in a cloud account (or every account).
_EVERYTHING = frozenset({"*", "*:*", "arn:*", "arn:aws:*", "arn:aws:*:*:*:*", "arn:*:*:*:*:*"})
# Services whose write/admin actions hand out identities, keys or money.
SENSITIVE_SERVICES = frozenset(
    {"iam", "sts", "kms", "secretsmanager", "organizations", "ssm", "payments", "billing", "admin"}
)
_ADMIN_WORDS = re.compile(r"admin|root|owner|fullaccess|secret|kms|iam:|sts:|payment|delete|destroy", re.I)
_WRITE_WORDS = re.compile(r"write|put|create|update|modify|refund|send|attach|run|exec|push|deploy", re.I)
_READ_WORDS = re.compile(r"read|get|list|describe|view|filter|search|pull|lookup", re.I)


def split_scope(scope: str) -> tuple[str, str | None]:
    """``"s3:GetObject arn:aws:s3:::b/*"`` -> (action, resource); opaque: (scope, None)."""
    parts = scope.strip().split(None, 1)
    if len(parts) == 2:
        return parts[0], parts[1]
    return (parts[0] if parts else ""), None


def is_wildcard(scope: str) -> bool:
    """A scope that reaches everything: ``*``, ``*:*``, ``* *``, ``* arn:aws:*`` …"""
    action, resource = split_scope(scope)
    return action in _EVERYTHING and (resource is None or resource in _EVERYTHING)


def is_service_wildcard(scope: str) -> bool:
    """Every action of one service (``iam:*``), on any resource or on all of them."""
    action, resource = split_scope(scope)
    return action.endswith(":*") and action != "*:*" and (resource is None or resource in _EVERYTHING)


def covers(parent: str, child: str) -> bool:
    """Whether a holder of ``parent`` can do everything ``child`` allows (glob on action and resource)."""
    if is_wildcard(parent) or parent == child:
        return True
    p_action, p_resource = split_scope(parent)
    c_action, c_resource = split_scope(child)
    if not fnmatch.fnmatchcase(c_action, p_action):
        return False
    if p_resource is None or p_resource in _EVERYTHING:
        return True
    return c_resource is not None and fnmatch.fnmatchcase(c_resource, p_resource)


def scope_weight(scope: str) -> float:
    """How much one granted scope adds to a blast radius: reads 1, writes 2, admin/secrets/money 3,
    a whole service 4 (5 for a sensitive one). A full wildcard is handled by the caller."""
    action, resource = split_scope(scope)
    service = action.split(":", 1)[0].lower()
    if is_service_wildcard(scope) or (action.endswith(":*") and resource is not None):
        return 5.0 if service in SENSITIVE_SERVICES else 4.0
    text = scope.lower()
    if _ADMIN_WORDS.search(text) or service in SENSITIVE_SERVICES:
        return 3.0
    if _WRITE_WORDS.search(action):
        return 2.0
    if _READ_WORDS.search(action):
        return 1.0
    return 1.5


def scope_used(scope: str, targets: Iterable[str], tools: Iterable[str]) -> bool:
    """Whether the session touched something the scope grants: a target inside its resource pattern,
    or (for an opaque or all-resources scope like ``crm:read``, ``iam:* *``) a target or tool that
    mentions its service (``crm`` ~ ``crm:orders/1``). A full wildcard is used by any touch."""
    action, resource = split_scope(scope)
    if resource is not None and resource not in _EVERYTHING:
        return any(fnmatch.fnmatchcase(t, resource) for t in targets)
    service = action.split(":", 1)[0].lower()
    if not service or service == "*":
        return any(True for _ in targets) or any(True for _ in tools)
    return any(service in t.lower() for t in targets) or any(service in t.lower() for t in tools)


@functools.lru_cache(maxsize=4096)
def compiled_task_scope(
    patterns: tuple[str, ...],
) -> tuple[re.Pattern[str] | None, dict[str, re.Pattern[str]]]:
    """A task scope compiled once (sessions share a few scopes): the tool globs as one regex (None when the
    scope names no tools) and the resource globs as one regex per namespace (``helpers.namespace``)."""
    tools, resources = split_task_scope(patterns)
    by_space: dict[str, list[str]] = {}
    for pattern in resources:
        by_space.setdefault(namespace(pattern), []).append(fnmatch.translate(pattern))
    tool_regex = re.compile("|".join(fnmatch.translate(t) for t in tools)) if tools else None
    return tool_regex, {space: re.compile("|".join(parts)) for space, parts in by_space.items()}


@functools.lru_cache(maxsize=4096)
def scope_reasons(patterns: tuple[str, ...], tool: str, target: str | None) -> tuple[str, ...]:
    """Why a call of ``tool`` on ``target`` is outside a task scope: ``tool`` when tool globs exist and none
    matches, ``target`` when resource globs exist for the target's namespace and none matches."""
    tools, resources = compiled_task_scope(patterns)
    reasons = []
    if tools is not None and not tools.match(tool):
        reasons.append("tool")
    if target and resources:
        allowed = resources.get(namespace(target))
        if allowed is not None and not allowed.match(target):
            reasons.append("target")
    return tuple(reasons)


def split_task_scope(patterns: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Task-scope globs -> (tool patterns without ``tool:``, resource patterns)."""
    tools: list[str] = []
    resources: list[str] = []
    for pattern in patterns:
        if pattern.startswith("tool:"):
            tools.append(pattern[5:])
        else:
            resources.append(pattern)
    return tuple(tools), tuple(resources)


def namespace(value: str) -> str:
    """The part before the first ``:`` (``arn``, ``repo``, ``https``, ``mailto``), lower-cased."""
    head, sep, _ = value.partition(":")
    return head.lower() if sep else ""


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


# ---------------------------------------------------------------------------------------------- names

READ_VERBS = frozenset(
    {"read", "get", "list", "fetch", "lookup", "search", "view", "describe", "check", "status"}
)


def name_words(*names: str) -> set[str]:
    """``send_payment`` / ``SendPayment`` / ``send-payment`` -> {send, payment}."""
    return {
        w for n in names for w in re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", n).lower())
    }
