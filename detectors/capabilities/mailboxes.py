"""Personal mailboxes: addresses at consumer mail services, and the work address of the same person.

``exfiltration.personal_mailbox`` reads these: a colleague the task named, written to at a free-mail
address while the session read their address at the organisation."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

# consumer mail services (a person's own mailbox, outside any organisation's control); country variants by
# their first label (``yahoo.co.uk``, ``gmx.de``, ``hotmail.fr``)
_PERSONAL_FIRST_LABELS = frozenset(
    "gmail googlemail yahoo ymail hotmail outlook live msn icloud me mac aol proton protonmail pm gmx web "
    "mail yandex zoho fastmail hey qq 163 126 t-online orange free libero laposte btinternet comcast "
    "sbcglobal verizon att tutanota tuta posteo mailbox seznam wp o2 interia".split()
)
# (``mail.example``-like hosts of a provider alone: ``mail.ru``, ``web.de``; never ``mail.acme.com``)
_SHORT_ONLY = frozenset({"mail", "web", "me", "free", "orange", "att", "wp", "o2", "pm"})
_NAME_PART = re.compile(r"[a-z]{3,}")


def personal_mailbox(address: str) -> bool:
    """Whether ``address`` is at a consumer mail service (``mina.kovac.87@gmail.com``)."""
    domain = address.rpartition("@")[2].lower().strip(".")
    labels = domain.split(".")
    if len(labels) < 2 or labels[0] not in _PERSONAL_FIRST_LABELS:
        return False
    # a provider's own domain: one label and a country or generic ending (``gmail.com``, ``yahoo.co.uk``)
    rest = labels[1:]
    return len(rest) == 1 or (len(rest) == 2 and len(rest[-1]) == 2 and labels[0] not in _SHORT_ONLY)


def name_parts(address: str) -> frozenset[str]:
    """The name words of a mailbox (``mina.kovac.87``, ``tom.becker1979`` -> mina, kovac; tom, becker);
    digits and short pieces left out."""
    local = address.partition("@")[0].lower()
    pieces = (p.strip("0123456789") for p in re.split(r"[._+-]", local))
    return frozenset(p for p in pieces if _NAME_PART.fullmatch(p))


def work_address_of(address: str, seen: Iterable[str]) -> str | None:
    """A seen address of the same person (every name word of the mailbox, two at least; or one word that is
    the other's first initial and surname run together: ``mlopes.asl`` for ``maria.lopes``) that is no
    personal mailbox: their address at work."""
    parts = name_parts(address)
    for other in seen:
        if other == address or personal_mailbox(other):
            continue
        known = name_parts(other)
        if (len(parts) >= 2 and parts <= known) or parts & _joined(known):
            return other
    return None


def _joined(parts: frozenset[str]) -> frozenset[str]:
    """A two-word name's run-together forms: ``mlopes``, ``lopesm``, ``marialopes``."""
    if len(parts) != 2:
        return frozenset()
    forms = {f for a, b in itertools.permutations(parts) for f in (a[0] + b, b + a[0], a + b)}
    return frozenset(f for f in forms if len(f) >= 5)
