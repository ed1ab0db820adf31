"""Secret redaction for tool arguments, results and task text, applied before anything is stored or sent.

A redacted value becomes ``[REDACTED:<kind>:<fingerprint>]``. The fingerprint is the first 12 hex
digits of SHA-256 over the secret, so analysts can see that two events used the same secret without
seeing it. AWS access key *ids* (AKIA…/ASIA…) are identifiers, not secrets — AWS prints them in
CloudTrail and the console, and an analyst needs one to revoke it — so they are kept; the secret
access key and session token beside them are redacted.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

# Dictionary keys whose values are secrets whatever they look like.
_SECRET_KEY_NAMES = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|private[_-]?key|authorization|"
    r"secret[_-]?(access[_-]?)?key|"
    r"client[_-]?secret|credential|session[_-]?token|access[_-]?token|refresh[_-]?token|cookie)$",
    re.IGNORECASE,
)
# Keys that contain a secret-ish word but hold identifiers, not secrets.
_NOT_SECRET_KEY_NAMES = re.compile(
    r"(access[_-]?key[_-]?id|token[_-]?type|secret[_-]?(id|name|arn)|credential[_-]?(id|type|source)|"
    r"tokens?_?(count|used|usage)|max[_-]?tokens|password[_-]?(last[_-]?used|reset[_-]?required)|"
    r"(next|page|continuation|client|idempotency)[_-]?token)$",
    re.IGNORECASE,
)

# (kind, pattern, group holding the secret; -1: whichever alternative group matched).
# Order matters: wider shapes first.
_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9 ]+ )?PRIVATE KEY-----[\s\S]*?"
            r"(?:-----END (?:[A-Z0-9 ]+ )?PRIVATE KEY-----|$)"
        ),
        0,
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    ("bearer", re.compile(r"(?i)\b(?:bearer|token)\s+([A-Za-z0-9._~+/=-]{16,})"), 1),
    (
        "basic_auth",
        re.compile(r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+([A-Za-z0-9+/=]{8,})"),
        1,
    ),
    # Greedy up to the last "@" before the host, so a password containing "@" is not half kept.
    # The scheme is anchored and bounded: an unbounded one made long words quadratic.
    (
        "url_password",
        re.compile(r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^\s:/@]+:([^\s/]+)@"),
        1,
    ),
    (
        "aws_secret_access_key",
        re.compile(
            r"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|secretkey)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})"
        ),
        1,
    ),
    # A key id followed by its unlabelled secret (CSV exports, `aws configure` echo, …).
    (
        "aws_secret_access_key",
        re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b[\s,;:|\"'=]{1,6}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
        1,
    ),
    ("aws_session_token", re.compile(r"\b(?:IQoJ|FwoG|FQoG)[A-Za-z0-9/+=]{40,}"), 0),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"), 0),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"), 0),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), 0),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), 0),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"), 0),
    (
        "password_assignment",
        # `password=x`, `"password": "x y"`, `DB_PASSWORD: x`, `"access_token": "x"` — but not an
        # ARN's `:secret:name` (hence nothing word-like, ':' or '/' right before the key).
        re.compile(
            r"(?i)(?<![\w:/-])[\w-]{0,64}?(?:password|passwd|pwd|secret|api[_-]?key|token)(?:[_-]?(?:access[_-]?)?key)?[\"']?\s*[:=]\s*"
            r"(?:[\"']([^\"'\n]{4,})|([^\s\"',;&]{4,}))"
        ),
        -1,
    ),
    # Command-line credentials: `curl -u user:pass`, `--password pass`, `--password=pass`.
    (
        "cli_password",
        re.compile(
            r"(?:(?<=\s)|^)(?:(?:-u|--user)\s+[^\s:]+:(\S{4,})|--(?:password|passwd|token)(?:\s+|=)(\S{4,}))"
        ),
        -1,
    ),
]

_MAX_ROUNDS = 4
_REDACTED = re.compile(r"\[REDACTED:[a-z_]+:[0-9a-f]{12}\]")

# The literals (lower case) one of which each pattern needs: a pattern runs only on text that
# contains one of them, so ordinary arguments cost a few substring checks instead of regex scans.
_NEEDS: dict[str, tuple[str, ...]] = {
    "private_key": ("private key",),
    "jwt": ("eyj",),
    "bearer": ("bearer", "token"),
    "url_password": ("@",),
    "aws_secret_access_key": ("secret", "akia", "asia"),
    "basic_auth": ("authorization",),
    "cli_password": ("-u", "--user", "--pass", "--token"),
    "aws_session_token": ("iqoj", "fwog", "fqog"),
    "openai_key": ("sk-",),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack_token": ("xox",),
    "google_api_key": ("aiza",),
    "stripe_key": ("sk_", "rk_"),
    "password_assignment": ("pass", "pwd", "secret", "api", "token"),
}
# A pattern without an entry above always runs (safe default for a newly added pattern).
_CHECKED = [(kind, pattern, group, frozenset(_NEEDS.get(kind, ("",)))) for kind, pattern, group in _PATTERNS]
_LITERALS = re.compile(
    "|".join(sorted({re.escape(x) for needs in _NEEDS.values() for x in needs}, key=len, reverse=True))
)
_ALWAYS = any("" in needs for *_, needs in _CHECKED)


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _marker(kind: str, secret: str) -> str:
    return f"[REDACTED:{kind}:{fingerprint(secret)}]"


def redact_text(text: str) -> str:
    """Replace every secret-shaped substring of ``text`` by its marker."""
    if len(text) < 8:
        return text
    # Until nothing changes: a marker can open a new match (``xAKIA…`` becomes ``]AKIA…``, now at a
    # word boundary), and redacting twice must change nothing. Each round only removes secrets.
    for _ in range(_MAX_ROUNDS):
        before = text
        present = set(_LITERALS.findall(text.lower()))
        if not present and not _ALWAYS:
            return text
        present.add("")
        for kind, pattern, group, needs in _CHECKED:
            if not needs.isdisjoint(present):
                text = _sub(text, kind, pattern, group)
        if text == before:
            break
    return text


def _sub(text: str, kind: str, pattern: re.Pattern[str], group: int) -> str:
    # A match that touches an existing marker is left alone: redacting part of a marker (a URL
    # password pattern reading "[REDACTED:github_token:…]" as user:password) would not be idempotent.
    markers = [m.span() for m in _REDACTED.finditer(text)] if "[REDACTED:" in text else []

    def replace(match: re.Match[str]) -> str:
        index = (match.lastindex or 0) if group < 0 else group
        secret = match.group(index)
        if not secret or _REDACTED.fullmatch(secret) or secret.startswith("[REDACTED:"):
            return match.group(0)
        start, end = match.span(index)
        if any(m_start < end and start < m_end for m_start, m_end in markers):
            return match.group(0)
        offset = match.start(0)
        whole = match.group(0)
        return whole[: start - offset] + _marker(kind, secret) + whole[end - offset :]

    return pattern.sub(replace, text)


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY_NAMES.search(name)) and not _NOT_SECRET_KEY_NAMES.search(name)


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact a JSON-like value recursively; values under secret-named keys are redacted whole."""
    if key is not None and is_secret_key(key) and isinstance(value, str | int | float) and value != "":
        text = str(value)
        if _REDACTED.fullmatch(text):
            return text
        return _marker("named_secret", text)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        # Keys are redacted too: a token can be a map key (``{"ghp_…": "alice"}``).
        return {redact_text(str(k)): redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def markers(text: str) -> list[tuple[str, str]]:
    """(kind, fingerprint) of every redaction marker in ``text``: the same secret gets the same fingerprint
    wherever it was redacted, so a secret read in one place can be recognised where it leaves."""
    if "[REDACTED:" not in text:
        return []
    return [tuple(m.group(0)[10:-1].rsplit(":", 1)) for m in _REDACTED.finditer(text)]  # type: ignore[misc]
