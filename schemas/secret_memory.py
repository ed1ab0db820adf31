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
  :data:`SESSIONS` sessions that hold one (a session with none takes no place), the least recently used
  forgotten first;
- in the forms a JSON string writes it too (``\\"``, ``\\u00e4``): a result that is JSON text echoes it so;
- a dead letter is redacted with the secrets of its record's session (or of the session redacted last);
- in arrival order: a value seen in free text *before* the event that names it as a secret is not
  redacted there (the stream cannot look ahead). Within one event every field counts: an event that
  taught a new secret is redacted once more.
"""

from __future__ import annotations

import json
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
    ) or _KEYPAD_CODE.fullmatch(value) is not None


# a keypad's code with the key that ends it ("4471#", "0922*"): short, but no figure of prose ends so
_KEYPAD_CODE = re.compile(r"[0-9]{4,8}[#*]")


def _written_forms(value: str) -> tuple[str, ...]:
    """``value`` and the forms it takes inside a JSON string (a result that is JSON text: ``\\"``, ``\\\\``,
    ``\\u00e4``), each redacted alike."""
    forms = (value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1])
    return tuple(dict.fromkeys(forms))


class _Known:
    """One session's secrets. ``found`` (written form -> (kind, value)) is replaced whole, never changed in
    place: a thread reading it while another remembers sees one consistent snapshot."""

    __slots__ = ("found", "generation", "key", "values")

    def __init__(self, key: str) -> None:
        self.key = key
        self.values: dict[str, str] = {}  # value -> kind, oldest first
        self.found: dict[str, tuple[str, str]] = {}
        self.generation = 0  # how many values were ever remembered


# the secrets of the session whose event is being redacted
_CURRENT: ContextVar[_Known | None] = ContextVar("secrets_of_the_session", default=None)
# the session most recently redacted in this context (a dead letter's: its record named no session it kept)
_LAST: ContextVar[_Known | None] = ContextVar("secrets_of_the_last_session", default=None)


class SecretMemory:
    """Remembered secrets per session, bounded. Only sessions with a secret take a place: a stream of many
    sessions with none pushes out nobody's secrets."""

    def __init__(self, sessions: int = SESSIONS, per_session: int = PER_SESSION) -> None:
        self._limit, self._per_session = sessions, per_session
        self._sessions: OrderedDict[str, _Known] = OrderedDict()
        self._lock = threading.Lock()  # the guard's proxy redacts from threads

    def session(self, session_id: object) -> _Scope:
        """Redaction inside this block remembers into, and looks for, the secrets of ``session_id``."""
        return _Scope(self, str(session_id))

    def holds(self, session_id: object) -> bool:
        """Whether ``session_id`` has a remembered secret (most sessions have none)."""
        return str(session_id) in self._sessions

    def _enter(self, key: str) -> _Known:
        known = self._sessions.get(key)  # (a read needs no lock: most sessions hold no secret)
        if known is None:
            return _Known(key)  # kept only once it holds a secret (remember)
        with self._lock:
            if key in self._sessions:
                self._sessions.move_to_end(key)
        return known

    @contextmanager
    def last_session(self) -> Iterator[None]:
        """The block redacts with the secrets of the session this context redacted last (for a dead letter
        made right after its record failed)."""
        token = _CURRENT.set(_CURRENT.get() or _LAST.get())
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def remember(self, value: str, kind: str) -> None:
        known = _CURRENT.get()
        if known is None or value in known.values or not memorable(value):
            return
        with self._lock:
            kept = self._sessions.get(known.key)
            if kept is None:
                kept = self._sessions[known.key] = known
                if len(self._sessions) > self._limit:
                    self._sessions.popitem(last=False)
            values = {**kept.values, value: kind}
            while len(values) > self._per_session:
                del values[next(iter(values))]
            kept.values, kept.generation = values, kept.generation + 1
            kept.found = {form: (k, v) for v, k in values.items() for form in _written_forms(v)}
            if kept is not known:  # another thread kept this session first: share its state
                known.values, known.found, known.generation = kept.values, kept.found, kept.generation

    def generation(self) -> int:
        """How many secrets the current session has remembered so far (grows with each new one)."""
        known = _CURRENT.get()
        return 0 if known is None else known.generation

    def active(self) -> bool:
        """Whether the current session has a remembered secret."""
        known = _CURRENT.get()
        return known is not None and bool(known.found)

    def found_in(self, text: str) -> bool:
        """Whether a remembered secret of the current session occurs in ``text``."""
        known = _CURRENT.get()
        return known is not None and any(form in text for form in known.found)

    def replace(self, text: str, marker: Callable[[str, str], str], shielded: re.Pattern[str]) -> str:
        """``text`` with every remembered secret of the current session replaced by ``marker(kind, value)``,
        outside the spans ``shielded`` matches (markers already there: a fingerprint's hex is no secret)."""
        known = _CURRENT.get()
        if known is None or not (found := known.found):
            return text
        forms = sorted((f for f in found if f in text), key=len, reverse=True)  # a value may hold another
        if not forms:
            return text
        pattern = re.compile("|".join(map(re.escape, forms)))  # one pass: a new marker is not searched

        def replaced(piece: str) -> str:
            return pattern.sub(lambda m: marker(*found[m.group(0)]), piece)

        if "[REDACTED:" not in text:
            return replaced(text)
        pieces, kept = shielded.split(text), shielded.findall(text)
        return "".join(replaced(p) + (kept[i] if i < len(kept) else "") for i, p in enumerate(pieces))

    def forget(self) -> None:
        with self._lock:
            self._sessions.clear()
        _LAST.set(None)


class _Scope:
    """The block of :meth:`SecretMemory.session` (a class, not a generator: it is entered for every event)."""

    __slots__ = ("_key", "_memory", "_token")

    def __init__(self, memory: SecretMemory, key: str) -> None:
        self._memory, self._key = memory, key

    def __enter__(self) -> None:
        known = self._memory._enter(self._key)
        self._token = _CURRENT.set(known)
        _LAST.set(known)

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._token)


KNOWN_SECRETS = SecretMemory()
