"""Secrets recognised by where they stood, remembered per session so that they are recognised anywhere later.

Most secrets have a shape (``ghp_…``, ``AKIA…``, a PEM block) and are redacted wherever they appear. A
password has none: it is found only by its place, under a key named ``password`` or after ``PASSWORD=``.
The same value written later in free text (a command's output, a message, a result that echoes the
request) has no such place, and was stored raw. This memory keeps each secret that was redacted for its
place, per session, and :func:`schemas.redaction.redact_text` redacts it wherever it turns up again in the
same session, under the same marker (the same fingerprint: an analyst sees it is one secret).

What it keeps, and why:

- only values a text could not hold by chance: at least 8 characters, with letters and digits both
  (``postgres`` under a ``password`` key is not remembered, or every later ``psql -U postgres`` would lose
  its user name; nor is ``os.environ[``, a header's value that was code, not a secret). A password of
  letters and symbols alone is not remembered: the memory is a second net, not the first;
- per session: an event is redacted while :meth:`SecretMemory.session` names its session, and only that
  session's secrets are looked for (a handful, so a text costs a few substring searches; one pattern of
  every secret of every session cost 70 µs per text at a thousand). Sessions are partitioned by their id
  in the stream, so a session's events are read in one process, in order;
- in this process only, never stored or sent; at most :data:`PER_SESSION` values per session and
  :data:`SESSIONS` sessions, the least recently used forgotten first;
- in arrival order: a value seen in free text *before* the event that names it as a secret is not
  redacted there (the stream cannot look ahead). Within one event the arguments are read first.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SESSIONS = 20_000
PER_SESSION = 32
_MAX_LENGTH = 512
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script


def memorable(value: str) -> bool:
    """A value that would not turn up in an unrelated text by chance."""
    return (
        8 <= len(value) <= _MAX_LENGTH
        and _DIGIT.search(value) is not None
        and _LETTER.search(value) is not None
    )


# the secrets of the session whose event is being redacted (value -> the kind it was redacted as)
_CURRENT: ContextVar[dict[str, str] | None] = ContextVar("secrets_of_the_session", default=None)


class SecretMemory:
    """Remembered secrets per session, bounded."""

    def __init__(self, sessions: int = SESSIONS, per_session: int = PER_SESSION) -> None:
        self._limit, self._per_session = sessions, per_session
        self._sessions: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()  # the guard's proxy redacts from threads

    @contextmanager
    def session(self, session_id: object) -> Iterator[None]:
        """Redaction inside this block remembers into, and looks for, the secrets of ``session_id``."""
        key = str(session_id)
        with self._lock:
            known = self._sessions.get(key)
            if known is None:
                known = self._sessions[key] = {}
                if len(self._sessions) > self._limit:
                    self._sessions.popitem(last=False)
            else:
                self._sessions.move_to_end(key)
        token = _CURRENT.set(known)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def remember(self, value: str, kind: str) -> None:
        known = _CURRENT.get()
        if known is None or value in known or not memorable(value):
            return
        known[value] = kind
        if len(known) > self._per_session:
            del known[next(iter(known))]

    def active(self) -> bool:
        """Whether the current session has a remembered secret."""
        return bool(_CURRENT.get())

    def found_in(self, text: str) -> bool:
        """Whether a remembered secret of the current session occurs in ``text``."""
        known = _CURRENT.get()
        return bool(known) and any(value in text for value in known)  # type: ignore[union-attr]

    def replace(self, text: str, marker: Callable[[str, str], str], shielded: re.Pattern[str]) -> str:
        """``text`` with every remembered secret of the current session replaced by ``marker(kind, value)``,
        outside the spans ``shielded`` matches (markers already there: a fingerprint's hex is no secret)."""
        known = _CURRENT.get()
        if not known:
            return text
        found = sorted((v for v in known if v in text), key=len, reverse=True)  # a value may hold another
        if not found:
            return text
        pattern = re.compile("|".join(map(re.escape, found)))  # one pass: a new marker is not searched

        def replaced(piece: str) -> str:
            return pattern.sub(lambda m: marker(known[m.group(0)], m.group(0)), piece)

        if "[REDACTED:" not in text:
            return replaced(text)
        pieces, kept = shielded.split(text), shielded.findall(text)
        return "".join(replaced(p) + (kept[i] if i < len(kept) else "") for i, p in enumerate(pieces))

    def forget(self) -> None:
        with self._lock:
            self._sessions.clear()


KNOWN_SECRETS = SecretMemory()
