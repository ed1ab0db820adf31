"""Look-alike domains: a sender's or a link's domain made to pass for another one the session saw
(``whitfield-fh.co.uk`` for ``whitfieldfh.co.uk``, ``mercyregional-billing.com`` for ``mercyregional.org``,
``bloomandstem-florals.com``, ``rnicrosoft.com``) — ``injection.lookalike_domain``.

Two domains look alike when their names (the label before the public suffix: ``whitfieldfh`` of
``whitfieldfh.co.uk``) differ, yet are the same without hyphens, or one is the other with a hyphenated word
added (``-billing``, ``-support``), or they differ by one letter (swapped, added, dropped or replaced) in a
name of six letters or more, or they read the same once look-alike characters are folded (``rn``/``m``,
``0``/``o``, ``1``/``l``). A subdomain, another country's domain of the same name (``acme.de``) and two
unrelated names are none."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from detectors.provenance.threads import message_bounds
from detectors.provenance.tokens import tokens_of, value_tokens

# the second-level parts of public suffixes seen in mail (``co.uk``, ``com.au``): the name is the label before
_SECOND_LEVEL = frozenset("co com org net ac gov edu ltd plc ne or".split())
_FOLDS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("l", "i"))
_MIN_NAME = 5
_MIN_EDITED = 6


def name_of(domain: str) -> str:
    """The registrable name of a domain: ``whitfieldfh`` of ``mail.whitfieldfh.co.uk``."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


def _folded(name: str) -> str:
    for seen, meant in _FOLDS:
        name = name.replace(seen, meant)
    return name.replace("-", "")


def _one_edit(a: str, b: str) -> bool:
    """Whether one letter swapped with its neighbour, added, dropped or replaced turns ``a`` into ``b``."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
        return len(diff) == 1 or swapped
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@functools.lru_cache(maxsize=4096)
def looks_like(a: str, b: str) -> bool:
    """Whether the names ``a`` and ``b`` (see ``name_of``) are look-alikes of each other."""
    if a == b or min(len(a), len(b)) < _MIN_NAME:
        return False
    if a.replace("-", "") == b.replace("-", "") or _folded(a) == _folded(b):
        return True
    short, long = sorted((a, b), key=len)
    if re.fullmatch(rf"{re.escape(short)}-[a-z]{{3,}}", long):  # ``mercyregional-billing``
        return True
    return min(len(a), len(b)) >= _MIN_EDITED and _one_edit(a, b)


def lookalike_pairs(domains: Iterable[str]) -> list[tuple[str, str]]:
    """Each pair of look-alike domains among ``domains``, in the order given (first seen, then its twin)."""
    return list(_pairs(tuple(domains)))


@functools.lru_cache(maxsize=4096)  # asked at every call of a session: its domains change rarely
def _pairs(domains: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    seen: list[str] = []
    pairs = []
    for domain in domains:
        name = name_of(domain)
        pairs += [(d, domain) for d in seen if looks_like(name_of(d), name)]
        seen.append(domain)
    return tuple(pairs)


def domains_seen(trusted: Iterable[str], tainted: Iterable[str], result: str) -> list[str]:
    """The domains of a session's values, first seen first: the trusted ones (sorted: a set's order follows
    the hash seed), outside content's in the order it came, then a result's in the order its text names
    them (a thread's first message before its twin's reply)."""
    text = result[:8000].lower()
    found = [(text.find(d), d) for d in {domain_of(t) for t in tokens_of(result[:8000])}]
    seen = dict.fromkeys(domain_of(t) for t in [*sorted(trusted), *tainted])
    seen.update(dict.fromkeys(d for _, d in sorted(found)))
    seen.pop("", None)
    return list(seen)


def impostor(pair: tuple[str, str]) -> tuple[str, str]:
    """The pair as (real, twin): the twin is the name with more hyphens or an added word, else the later."""
    first, later = pair
    a, b = name_of(first), name_of(later)
    if a.count("-") != b.count("-"):
        return (first, later) if b.count("-") > a.count("-") else (later, first)
    return (first, later) if len(b) >= len(a) else (later, first)


# where one message of a thread or a listing read as one text starts: a header, a separator, a numbered item
# the arguments that say something about the act rather than carry what it acts on: a report of the
# look-alike ("Not actioned: the sender's domain is …") is no act on it
_PROSE_KEYS = frozenset(
    "body text message content note notes comment comments reason description summary subject title".split()
)


def domain_of(token: str) -> str:
    """The domain of an e-mail, URL or host token, or ""."""
    kind, _, value = token.partition(":")
    if kind == "email":
        return value.rsplit("@", 1)[-1]
    if kind in ("url", "host"):
        return value.split("/", 1)[0].split(":", 1)[0]
    return ""


def twin_values(result: str, twin: str, real: str) -> list[str]:
    """The values only the twin's own messages of a result bring (a case, an account, an address): not
    those another message or record of the same result holds too."""
    text = result[:8000]
    parts = [tokens_of(text[a:b]) for a, b in message_bounds(text) if b > a]
    # (a part that names the real domain too cannot say which of the two brought what)
    own = [
        p for p in parts if any(domain_of(t) == twin for t in p) and not any(domain_of(t) == real for t in p)
    ]
    others = set().union(*(p for p in parts if p not in own)) if len(own) < len(parts) else set()
    return sorted({t for p in own for t in p} - others)


def acting_values(arguments: dict[str, Any]) -> frozenset[str]:
    """The values a call acts with, its prose (a message's body, a note, a reason, at any depth) aside."""
    found: set[str] = set()
    stack: list[tuple[str, Any, int]] = [(str(k), v, 0) for k, v in arguments.items()]
    while stack:
        key, value, depth = stack.pop()
        if key.lower() in _PROSE_KEYS:
            continue
        if isinstance(value, dict) and depth < 4:
            stack += [(str(k), v, depth + 1) for k, v in list(value.items())[:64]]
        elif isinstance(value, list) and depth < 4:
            stack += [(key, v, depth + 1) for v in value[:64]]
        else:
            found |= value_tokens(value)
    return frozenset(found)
