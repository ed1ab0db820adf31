"""Small pure helpers shared by several catalog detectors (the registry never loads this as a detector).

* Scope strings: a credential scope is either an opaque token (``crm:read``, ``repo:acme/x:write``) or
  ``"<action pattern> <resource pattern>"`` (``s3:GetObject arn:aws:s3:::acme-logs/*``), as the
  simulator and the CloudTrail adapter write them. ``*`` is a wildcard everywhere.
* Task scopes: glob patterns; ``tool:<name>`` entries allow tools, everything else names resources.
* Taint: values harvested from untrusted text (IBANs, e-mail addresses, URLs, hostnames, account and
  wallet numbers), normalised so that the same value written two ways compares equal.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

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


# ---------------------------------------------------------------------------------------------- taint

# Text that tries to instruct the agent rather than inform it.
INSTRUCTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier"
    r"|preceding|original)\s+(?:instructions|prompts?|rules|directions|messages)"
    r"|\byou\s+(?:must|should|need\s+to|are\s+required\s+to)\s+(?:now|immediately|instead)\b"
    r"|\bnew\s+instructions?\s*:"
    r"|\b(?:system\s+prompt|system\s+message|developer\s+message)\b"
    r"|^\s*(?:system|assistant)\s*:"
    r"|<\s*/?\s*(?:system|instructions?)\s*>|\[\s*(?:system|inst)\s*\]"
    r"|\byou\s+are\s+now\s+(?:a|an|in)\b"
    r"|\btransfer\b[^.\n]{0,80}?\bto\b[^.\n]{0,40}?(?:iban|account|wallet|address|[A-Z]{2}\d{2}\s?[A-Z0-9]{4})"
    r"|\bdo\s+not\s+(?:tell|mention|inform|notify|alert)\b[^.\n]{0,40}?\b(?:user|customer|anyone|human)",
    re.IGNORECASE | re.MULTILINE,
)

# Words one of which every INSTRUCTION alternative contains: a cheap substring test on the lower-cased
# text skips the regular expression for almost all content (a 700-character JSON result: ~1 us vs ~120 us).
_INSTRUCTION_WORDS = (
    "ignore", "disregard", "forget", "override", "must", "need to", "required to", "instruction", "system",
    "developer", "assistant", "you are now", "transfer", "do not", "[inst",
)  # fmt: skip


def looks_instructive(text: str) -> bool:
    """Whether outside content tries to instruct the agent (``INSTRUCTION``), with a fast pre-check."""
    lowered = text.lower()
    return any(word in lowered for word in _INSTRUCTION_WORDS) and INSTRUCTION.search(text) is not None


_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")
_URL = re.compile(r"\bhttps?://[^\s\"'<>()\[\]{}]+", re.IGNORECASE)
_HOST = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b", re.IGNORECASE)
_ACCOUNT = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){7,17}(?![\w\-])")
_WALLET = re.compile(r"\b0x[0-9a-fA-F]{40}\b|\bbc1[a-z0-9]{25,60}\b")
# Bare "hostnames" that are really file names in prose.
_FILE_SUFFIXES = frozenset(
    {
        "py",
        "js",
        "ts",
        "tsx",
        "go",
        "md",
        "txt",
        "json",
        "yaml",
        "yml",
        "csv",
        "log",
        "gz",
        "zip",
        "html",
        "pdf",
        "png",
        "jpg",
        "toml",
        "cfg",
        "ini",
        "sh",
        "exe",
    }
)


def _host_of(url: str) -> str | None:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return host or None


def _clean_url(url: str) -> str:
    url = url.rstrip(".,;:!?")
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


# Most specific first: the order in which a finding names the values it matched.
TOKEN_ORDER = ("iban:", "wallet:", "acct:", "email:", "url:", "host:")


def token_rank(token: str) -> int:
    return next((i for i, prefix in enumerate(TOKEN_ORDER) if token.startswith(prefix)), len(TOKEN_ORDER))


def harvest(text: str) -> set[str]:
    """Normalised values in ``text`` that could be a payee or a destination, each prefixed by its type
    (``iban:``, ``email:``, ``url:``, ``host:``, ``acct:``, ``wallet:``)."""
    found: set[str] = set()
    for match in _IBAN.finditer(text):
        found.add("iban:" + match.group(0).replace(" ", "").upper())
    for match in _EMAIL.finditer(text):
        found.add("email:" + match.group(0).lower())
    for match in _URL.finditer(text):
        url = _clean_url(match.group(0))
        found.add("url:" + url)
        host = _host_of(url)
        if host:
            found.add("host:" + host)
    for match in _HOST.finditer(text):
        host = match.group(0).lower()
        if (
            host.rsplit(".", 1)[-1] not in _FILE_SUFFIXES
            and "@" not in text[max(0, match.start() - 1) : match.start()]
        ):
            found.add("host:" + host)
    for match in _ACCOUNT.finditer(_IBAN.sub(" ", text)):  # an IBAN's digits are not a second account
        found.add("acct:" + re.sub(r"[ \-]", "", match.group(0)))
    for match in _WALLET.finditer(text):
        found.add("wallet:" + match.group(0).lower())
    return found


def value_tokens(value: Any) -> Iterator[str]:
    """Tokens of one action argument: the same normalisation as :func:`harvest`, applied to a value that
    *is* a destination (so a bare IBAN, account number or host counts as a whole)."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from value_tokens(item)
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from value_tokens(item)
        return
    if not isinstance(value, str | int) or isinstance(value, bool):
        return
    text = str(value).strip()
    if not text:
        return
    tokens = harvest(text)
    compact = text.replace(" ", "")
    if _IBAN.fullmatch(compact.upper()):
        tokens.add("iban:" + compact.upper())
    if re.fullmatch(r"[\d \-]{8,}", text):
        tokens.add("acct:" + re.sub(r"[ \-]", "", text))
    if text.lower().startswith(("iban:", "mailto:")):
        tokens |= harvest(text.split(":", 1)[1])
    yield from tokens


# ---------------------------------------------------------------------------------- sensitive actions

# Words in a tool or action name (``send_payment``, ``SendPayment``) that move money or data out.
MONEY_WORDS = frozenset(
    {"transfer", "transfers", "pay", "payment", "payments", "payout", "wire", "withdraw", "refund", "remit"}
)
OUTBOUND_WORDS = frozenset(
    {
        "send",
        "email",
        "mail",
        "post",
        "share",
        "upload",
        "delete",
        "remove",
        "forward",
        "publish",
        "invite",
        "webhook",
        "submit",
    }
)
READ_VERBS = frozenset(
    {"read", "get", "list", "fetch", "lookup", "search", "view", "describe", "check", "status"}
)
# Arguments that name where an action sends money, data or a message.
DESTINATION_ARGUMENTS = frozenset(
    {
        "iban",
        "account",
        "account_number",
        "account_id",
        "recipient",
        "recipients",
        "to",
        "cc",
        "bcc",
        "email",
        "url",
        "uri",
        "endpoint",
        "webhook",
        "address",
        "destination",
        "payee",
        "beneficiary",
        "host",
        "hostname",
        "domain",
        "wallet",
    }
)
SHELL_POST = re.compile(
    r"\b(?:curl|wget|http)\b.*(?:-d\b|--data|-F\b|--form|-X\s*(?:POST|PUT)|--post|--upload|-T\b)", re.I
)


def name_words(*names: str) -> set[str]:
    """``send_payment`` / ``SendPayment`` / ``send-payment`` -> {send, payment}."""
    return {
        w for n in names for w in re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", n).lower())
    }


def sensitive_kind(tool: str, action: str, command: str | None = None) -> str | None:
    """``money`` for payments and transfers, ``outbound`` for sends/posts/shares/deletes (and a shell
    ``curl`` that posts data), None for reads and everything else."""
    words = name_words(tool, action)
    if words & MONEY_WORDS and not words & READ_VERBS:
        return "money"
    if (words & OUTBOUND_WORDS and not words & READ_VERBS) or (command and SHELL_POST.search(command)):
        return "outbound"
    return None


def destination_tokens(arguments: dict[str, Any], target: str | None, command: str | None = None) -> set[str]:
    """Normalised tokens of an action's destination arguments, its target and a posting shell command."""
    values: list[Any] = [v for k, v in arguments.items() if k.lower() in DESTINATION_ARGUMENTS]
    if target:
        values.append(target)
    tokens = set(value_tokens(values))
    if command and SHELL_POST.search(command):
        tokens |= harvest(command)
    return tokens
