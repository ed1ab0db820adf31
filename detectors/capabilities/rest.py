"""What a changing HTTP request does, read from its URL's path.

A generic ``http_request``/``fetch``/``curl`` tool carries its meaning in the request alone: ``POST
…/payments/tr_1/refunds`` moves money, ``POST /v1/orgs/acme/invitations`` changes who has access, ``POST
/chat/messages`` sends a message. REST names the resource a request creates or changes in the path's last
nouns (identifiers between them are skipped), so those are read as a tool's name would be, with the
resource nouns of money, access and messages that carry no verb ("payouts", "members") added.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from detectors.capabilities import words
from schemas.types import Capability as C

_RESOURCES: dict[C, frozenset[str]] = {
    C.MONEY: frozenset(
        """payments payment payouts payout disbursements disbursement refunds refund charges charge transfers
        transfer remittances remittance withdrawals withdrawal wires wire""".split()
    ),
    C.IDENTITY: frozenset(
        """members membership memberships invitations invitation invites invite collaborators roles
        role_assignments roleassignments rolebindings permissions grants users""".split()
    ),
    C.COMMUNICATE: frozenset("messages emails mail sms notifications replies".split()),
}
_BY_NOUN = {noun: capability for capability, nouns in _RESOURCES.items() for noun in nouns}
# a path segment that names one item, not a resource: digits, a prefixed key (``tr_WDqYK6vllg``), a long token
# (not a verb after a prefix, ``bulk_cancel``: a key's tail has a capital or a digit)
_ITEM = re.compile(r"\d|^[a-z]{1,5}_(?![a-z]+$)[A-Za-z0-9]{6,}$|^[\w-]{25,}$|^\{.*\}$")
_CHANGING_METHODS = frozenset("POST PUT PATCH".split())
_RESOURCES_READ = 2  # the last two nouns: ``/payments/{id}/refunds`` is a refund of a payment


def path_capabilities(url: str, method: str) -> list[tuple[C, str]]:
    """Capabilities (beyond reading) a request of this method to this URL or path changes, with why."""
    if method.upper() not in _CHANGING_METHODS:
        return []
    try:
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    except ValueError:
        return []
    nouns = [s for s in path.split("/") if s and not _ITEM.search(s)][-_RESOURCES_READ:]
    found: dict[C, str] = {}
    for segment in reversed(nouns):
        resource = segment.lower().lstrip("_")
        if (capability := _BY_NOUN.get(resource)) is not None:
            found.setdefault(capability, f"{method.upper()} to …/{segment}")
            continue
        named = words.name_capabilities(segment)
        if named and {c for c, _ in named} <= {C.READ, C.FETCH}:
            break  # ``POST /logs/_search``: a query sent as a body, the request reads
        for capability, why in named:
            found.setdefault(capability, f"{method.upper()} to …/{segment} ({why})")
    return list(found.items())
