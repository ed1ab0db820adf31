"""Where money goes, as a tool result states it: the accounts, IBANs and cards a record holds for a party
(``injection.changed_payee``). Shapes, not any one bank's or dataset's words."""

from __future__ import annotations

import functools
import re
from typing import Any

import orjson

from detectors.provenance.threads import message_bounds

# an account number beside its label (``"account_number": "63819204"``, "account 19384726", ``iban``);
# a card by its last four (``card ****2231``, "ending in 4411")
_IBAN_SHAPE = r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"  # compact or in fours
_ACCOUNT = re.compile(
    # (inside a key too: ``"vendor_iban_on_file": …``, ``supplier_bank_account``)
    r"(?i)(?:\b|_)(?:account|acct|iban|bank_?account|account_?(?:number|no)|routing|bsb|clabe|payee_?account)"
    r"(?:_(?:on_file|number|no|current|old|new|primary|default))?"
    r"[\"']?\s*[:=]?\s*[\"']?(?:no\.?|number|#)?\s*[\"']?"
    rf"({_IBAN_SHAPE}(?![a-z])|\d[\d -]{{5,22}}\d)"
)
# a table's column of bank details (``bank_on_file``, ``payout account``, ``IBAN``): its label is the header
_ACCOUNT_COLUMN = re.compile(r"(?i)\b(?:bank|account|acct|iban|payout|payee)")
_CELL_ACCOUNT = re.compile(rf"\b({_IBAN_SHAPE}|\d{{7,18}})\b")


def _in_account_columns(text: str) -> set[str]:
    """Account numbers and IBANs in the cells of a ``|``- or tab-separated table's bank-details columns
    ("consignor | net_due | bank_on_file" over "C-1044 | £48,320 | Barclays 20-45-77 / 43918822")."""
    lines = text.splitlines()
    for number, line in enumerate(lines[:50]):
        separator = "|" if "|" in line else "\t" if "\t" in line else ""
        if not separator:
            continue
        header = line.split(separator)
        columns = [i for i, cell in enumerate(header) if _ACCOUNT_COLUMN.search(cell)]
        if not columns:
            continue
        rows = (row.split(separator) for row in lines[number + 1 : number + 201])
        return {
            _compact(m.group(1))
            for cells in rows
            if len(cells) == len(header)
            for i in columns
            for m in _CELL_ACCOUNT.finditer(cells[i])
        }
    return set()


# a card's or an account's last four: "**** 4471", "ending in 4471", a record's ``"account_last4": "4421"``
_CARD = re.compile(
    r"(?i)(?:\*{2,}\s?|x{3,}\s?|\bending(?:\s+in)?\s+|(?<![a-z])last_?(?:4|four)(?:_digits)?\"?\s*[:=]\s*\"?)(\d{4})\b"
)
MIN_ACCOUNT_DIGITS = 7  # a sort code (6 digits) or a short reference is no account


def _compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


@functools.lru_cache(maxsize=4096)  # asked of every result: the same results recur
def destinations_in(text: str) -> frozenset[str]:
    """The payment destinations a result states: account numbers and IBANs (compact, upper case) and
    ``card:NNNN`` for a card's last four; empty for most results."""
    head = text[:4000]
    if not any(ch.isdigit() for ch in head):
        return frozenset()
    found = {_compact(m.group(1)) for m in _ACCOUNT.finditer(head)} | _in_account_columns(head)
    found = {f for f in found if sum(ch.isdigit() for ch in f) >= MIN_ACCOUNT_DIGITS}
    return frozenset(found | {f"card:{m.group(1)}" for m in _CARD.finditer(head)})


@functools.lru_cache(maxsize=4096)
def filed_destinations(text: str) -> frozenset[str]:
    """The destinations a result labels as the ones on file (``"vendor_iban_on_file": …``, "account on
    record: …"): the party's own record, whatever else the session read."""
    head = text[:4000]
    if "on_file" not in head.lower() and "on file" not in head.lower() and "on record" not in head.lower():
        return frozenset()
    return frozenset(
        _compact(m.group(1))
        for m in _ACCOUNT.finditer(head)
        if _ON_FILE.search(head[max(0, m.start() - 40) : m.start(1)])
    )


_ON_FILE = re.compile(r"(?i)on[_ ](?:file|record)")


def payee_of(token: str) -> str | None:
    """The account a value token names (``num:19384726``, ``iban:DE89…``), or None (a sort code, a sum)."""
    kind, _, value = token.partition(":")
    if kind == "iban":
        return value.upper()
    if kind == "num" and value.isdigit() and len(value) >= MIN_ACCOUNT_DIGITS:
        return value
    return None


# the free text of a payment: what it says is for the payee's books, not where the money goes (a memo that
# quotes the customer's account at the vendor, "acct 0044817", routes no money)
_MEMO_KEYS = frozenset(
    "memo note notes description comment comments message remarks narrative purpose reference".split()
)


def routing_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """A payment's arguments without its free text."""
    return {k: v for k, v in arguments.items() if str(k).lower() not in _MEMO_KEYS}


MAX_RECORDED = 32  # destinations on record remembered per session


def remember_destinations(
    state: dict[str, Any], result: str | None, arguments: dict[str, Any], untrusted: bool, event_id: str
) -> None:
    """Puts the destinations a result states on record (``state["on_record"]``: destination -> the event
    that stated it first) and those it labels as on file (``state["filed"]``). A record that restates what
    content stated first makes it the one on record, not planted; so does an API record that returns it
    without having been given it (the supplier file a task says to check an invoice against): a document or
    a message could restate what it planted, a lookup by the party's id returns what is on file."""
    if not (stated := destinations_in(result or "")):
        return
    on_record: dict[str, str] = state.get("on_record") or {}
    looked_up = _lookup_arguments(result, arguments)
    fresh = {
        d: event_id
        for d in sorted(stated)
        if d not in on_record or not untrusted or (looked_up and d not in looked_up)
    }
    state["on_record"] = dict(list({**on_record, **fresh}.items())[-MAX_RECORDED:])
    text = (result or "")[:4000]
    if fresh and len(bounds := message_bounds(text)) > 2:
        # a thread read at once: which of its messages stated each destination first
        parts: dict[str, int] = {}
        for index, (start, end) in enumerate(bounds):
            for found in sorted(destinations_in(text[start:end]) & fresh.keys()):  # (not a set's order)
                parts.setdefault(found, index)
        state["part"] = dict(list({**state.get("part", {}), **parts}.items())[-MAX_RECORDED:])
    if filed := filed_destinations(result or ""):
        state["filed"] = sorted({*state.get("filed", ()), *filed})[-MAX_RECORDED:]


def _lookup_arguments(result: str | None, arguments: dict[str, Any]) -> str:
    """The arguments' text (upper case, no spaces) of a call that returned structured records (an API's
    JSON), or "" for any other call."""
    if not (result or "").lstrip().startswith(("{", "[")):
        return ""
    return orjson.dumps(arguments).decode().upper().replace(" ", "") or "{}"


# a message's header in a thread read as one text ("From: Jess <jess@…>")
def earlier_message(state: dict[str, Any], stated: str, account: str) -> bool:
    """Whether ``stated`` came in an earlier message of the thread that brought ``account``."""
    parts = state.get("part") or {}
    return stated in parts and account in parts and parts[stated] < parts[account]
