"""Per-analyst tokens for the triage page: who recorded a verdict is who holds the token (issue 15).

The file (``CHAINWATCH_UI_ANALYSTS_FILE``) holds one line per analyst, ``name<TAB>sha256(token)``, never a
token itself: an admin issues a token with ``chainwatch analysts issue NAME`` (printed once) and revokes it
with ``chainwatch analysts revoke NAME``. The page re-reads the file when it changes, so a revocation takes
effect on the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from schemas.errors import ChainwatchError

ANALYSTS_FILE_ENV = "CHAINWATCH_UI_ANALYSTS_FILE"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class AnalystFileError(ChainwatchError):
    """The analysts file cannot be read or written; the message names it and the fix."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_entries(path: Path) -> dict[str, str]:
    """name -> token digest; a malformed line is an error naming the line."""
    entries: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return entries
    except OSError as exc:
        raise AnalystFileError(
            f"{path}: cannot be read ({exc.strerror}); check {ANALYSTS_FILE_ENV}"
        ) from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, digest = line.partition("\t")
        if not NAME.match(name) or not re.fullmatch(r"[0-9a-f]{64}", digest.strip()):
            raise AnalystFileError(
                f"{path}:{number}: not 'name<TAB>sha256'; fix the line or issue the token again with "
                "`chainwatch analysts issue NAME`"
            )
        entries[name] = digest.strip()
    return entries


def write_entries(path: Path, entries: dict[str, str]) -> None:
    """Replace the file atomically, readable by its owner only (it lets anyone who can write it in)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    body = "# chainwatch triage analysts: name<TAB>sha256(token); edit with `chainwatch analysts`\n"
    body += "".join(f"{name}\t{digest}\n" for name, digest in sorted(entries.items()))
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    os.replace(temporary, path)


def issue(path: Path, name: str) -> str:
    """A new token for ``name`` (replacing any earlier one); only its digest is stored."""
    if not NAME.match(name):
        raise AnalystFileError(
            f"analyst name {name!r}: use letters, digits and . _ @ - (at most 100 characters)"
        )
    entries = read_entries(path)
    token = secrets.token_urlsafe(32)
    entries[name] = token_digest(token)
    write_entries(path, entries)
    return token


def revoke(path: Path, name: str) -> bool:
    entries = read_entries(path)
    if entries.pop(name, None) is None:
        return False
    write_entries(path, entries)
    return True


@dataclass
class AnalystTokens:
    """The analysts file as the server sees it: re-read when its modification time changes."""

    path: Path
    _entries: dict[str, str] = field(default_factory=dict)
    _stamp: tuple[int, int] | None = None

    def who(self, token: str) -> str | None:
        """The analyst holding ``token``, or None. Every entry is compared (constant time per entry)."""
        self._refresh()
        given = token_digest(token)
        found = None
        for name, digest in self._entries.items():
            if hmac.compare_digest(given, digest):
                found = name
        return found

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != self._stamp:
            self._entries = read_entries(self.path)
            self._stamp = stamp
