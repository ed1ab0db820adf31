"""Values that can be traced: the distinctive strings a text brings into a session and a call carries out.

A destination, payee or object of an action is almost always a *distinctive* string: an e-mail address, a
URL or host, an IBAN or account number, a wallet address, a file path, an identifier with digits or
separators (``guest_amy01``, ``credit_card_7815826``), a short proper name given as a whole argument
(``Alice``). Each is normalised (case, spacing, URL scheme, trailing slashes) so that the same value written
two ways compares equal, and prefixed by its type. Ordinary words are never tokens: provenance follows
values, not vocabulary.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

MAX_TOKEN = 96  # characters kept of one token

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?|ftp|sftp|ssh|git)://[^\s\"'<>()\[\]{}]+", re.I)
_HOST = re.compile(
    r"(?<![.@/\\])\b(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b(?::\d{2,5})?"
    r"(?:/[^\s\"'<>()]*)?",
    re.I,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I)
_DIGITS = re.compile(r"(?<![\w.])\+?\d[\d \-]{4,22}\d(?!\w|\.\d)")
_WALLET = re.compile(r"\b0x[a-fA-F0-9]{40}\b|\b(?:bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,62}\b")
_PATH = re.compile(r"(?:(?<=\s)|^|(?<=[\"'`=(]))(?:~|\.{1,2})?/[\w.\-~]+(?:/[\w.\-~*]*)*")
_IDENT = re.compile(r"\b[A-Za-z0-9][\w\-.]*[\w]\b")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][\w.]{1,30}")
# CamelCase words with at least two capitals and a small letter (``CovertFundReallocation``,
# ``DNSManagementTool``), and snake_case words (``send_money``).
_TOOLISH = re.compile(
    r"\b(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z][A-Za-z0-9]*[A-Z])[A-Za-z][A-Za-z0-9]{3,}\b"
    r"|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"
    r"|\b[a-z][a-z0-9_-]*\.[a-z][a-z0-9_]*[a-z0-9]\b(?!\.\w)"  # an MCP server's tool: weather.feedback
)
# Top-level domains a host must end in: the common generic ones and every two-letter country code but the
# few that are everyday file suffixes or code words (``requests.get``, ``self.id``, ``app.py``).
_GENERIC_TLDS = frozenset(
    "com net org edu gov mil int info biz name pro io ai app dev cloud tech online site website store "
    "shop blog news live email link click xyz top club space fun icu vip page host art design agency "
    "company services solutions digital network systems media global world today center group team work "
    "jobs bank finance money pay law health care life museum travel studio example test local internal "
    "corp lan".split()
)
_NOT_TLDS = frozenset("py js ts rb sh go rs id md os cc so mo pl pm am is it in at do be".split())
# File suffixes that look like top-level domains in ``report.py`` / ``notes.md``.
_FILE_SUFFIXES = frozenset(
    "py js ts md txt csv json yaml yml xml html htm pdf png jpg jpeg gif svg toml cfg ini sh log zip tar gz "
    "doc docx xls xlsx ppt pptx exe dll so rs go java rb php c h cpp sql db out err tmp bak lock env pub "
    "key pem crt conf sqlite parquet ipynb whl".split()
)


def _url_token(url: str) -> str:
    url = url.rstrip(".,;:!?'\")]")
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1].lower().removeprefix("www.")  # user:password@ is not the host
    path = path.rstrip("/")
    return f"url:{host}/{path}" if path else f"url:{host}"


def _host_token(host: str) -> str | None:
    host = host.lower().split("/", 1)[0].rsplit("@", 1)[-1].removeprefix("www.")
    bare = host.split(":", 1)[0]
    numeric = bare.replace(".", "").isdigit()
    if numeric:
        return f"host:{bare}" if bare.count(".") == 3 else None
    tld = bare.rsplit(".", 1)[-1]
    if tld in _FILE_SUFFIXES or not (tld in _GENERIC_TLDS or (len(tld) == 2 and tld not in _NOT_TLDS)):
        return None
    return f"host:{bare}"


def _id_token(word: str) -> str | None:
    """Identifiers of things: letters and digits together (``ZFA04Y``, ``guest_amy01``, ``INV-2024-118``).
    Words without a digit (``due_date``, ``content-type``) are names of fields, not values."""
    if len(word) < 5 or len(word) > MAX_TOKEN or word.isalpha():
        return None  # (a word of letters only holds no digit)
    if any(ch.isdigit() for ch in word) and any(ch.isalpha() for ch in word):
        return "id:" + word.lower()
    return None


_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\](?!\.)")
_MARKER_LABEL = re.compile(r"\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\](?=\.)")  # a secret as a host label
_DIGIT = re.compile(r"\d")  # what the IBAN, number and wallet patterns all need


@functools.lru_cache(maxsize=16384)
def tokens_of(text: str) -> frozenset[str]:
    """The distinctive values in a free text (a web page, an e-mail, a task); redaction markers are not
    values (secrets are followed by their fingerprints elsewhere)."""
    if "[REDACTED:" in text:
        text = _MARKER.sub("REDACTED:", text)  # one word, so that user:secret@host stays one URL
        text = _MARKER_LABEL.sub("redacted", text)  # and <secret>.host.example stays one host
    found: set[str] = set()
    spans: list[tuple[int, int]] = []
    # Each scan runs only where its pattern can match at all (an address needs "@", a URL "://", a host
    # ".", a path "/", account numbers, IBANs and wallets a digit): most values are plain words.
    at = "@" in text
    digit = _DIGIT.search(text) is not None
    if at:
        for match in _EMAIL.finditer(text):
            found.add("email:" + match.group(0).lower())
            spans.append(match.span())
    if "://" in text:
        for match in _URL.finditer(text):
            found.add(_url_token(match.group(0)))
            host = _host_token(match.group(0).split("://", 1)[1])
            if host:
                found.add(host)
            spans.append(match.span())
    if "." in text:
        for match in _HOST.finditer(text):
            start = match.start()
            if _inside(start, spans) or (start and text[start - 1] in "@./\\"):
                continue
            host = _host_token(match.group(0))
            if host:
                found.add(host)
                spans.append(match.span())
                if "/" in match.group(0):
                    found.add(_url_token(match.group(0)))
    if digit:
        ibans = False  # (an IBAN is at least 12 characters, a number 6, a wallet 26: shorter texts skip them)
        for match in _IBAN.finditer(text) if len(text) >= 12 else ():
            found.add("iban:" + match.group(0).replace(" ", "").upper())
            spans.append(match.span())
            ibans = True
        for match in _DIGITS.finditer(_IBAN.sub(" ", text) if ibans else text) if len(text) >= 6 else ():
            digits = re.sub(r"[ \-+]", "", match.group(0))
            if len(digits) >= 6:
                found.add("num:" + digits)
        blanked = _IBAN.sub(lambda m: " " * len(m.group(0)), text) if ibans else text
        for match in _PHONE.finditer(blanked) if len(text) >= 10 else ():
            written = match.group(0)
            if _inside(match.start(), spans) or _LONGER.match(blanked, match.end()):
                continue  # inside an address or a URL, or a group of a longer number (a card's)
            if written.isdigit():
                continue  # digits alone (an AWS account, an order number) are a number, read as such above
            # a phone number written "(312) 555-0187" in a ticket and "+13125550187" in a call: both end in
            # the same ten digits (a country code varies how it is written, not the line)
            digits = re.sub(r"\D", "", match.group(0))
            if len(digits) >= 10:
                found.add("num:" + digits[-10:])
        for match in _WALLET.finditer(text) if len(text) >= 26 else ():
            found.add("wallet:" + match.group(0).lower())
            spans.append(match.span())
    if "/" in text:
        for match in _PATH.finditer(text):
            path = match.group(0).rstrip(".,;:")
            if len(path) > 2 and "//" not in path:
                found.add("path:" + path[:MAX_TOKEN])
    if at:
        for match in _HANDLE.finditer(text):
            if not _inside(match.start(), spans):  # not the user@ part of a URL or address
                found.add("handle:" + match.group(0)[1:].lower())
    if digit or not text.isascii():  # an identifier holds a digit (``str.isdigit``: any script's)
        for match in _IDENT.finditer(text):
            word = match.group(0)
            if len(word) < 5 or word.isalpha():
                continue  # no identifier (``_id_token``'s first test, before the costlier ones)
            if _inside(match.start(), spans):
                continue  # part of an e-mail address, URL or host already taken whole
            token = _id_token(word)
            if token:
                found.add(token)
    return frozenset(found)


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return bool(spans) and any(a <= position < b for a, b in spans)


# A single word named as a tool: quoted or in backticks, or next to "tool", "function", "API", "command".
_NAMED_TOOL = re.compile(
    "[\"'`\u201c\u2018]([A-Za-z][\\w.-]{2,48})[\"'`\u201d\u2019]"
    r"|\b(?:tool|function|api|command|plugin|action)\s+(?:named\s+|called\s+)?([A-Za-z][\w.-]{2,48})"
    r"|\b([A-Za-z][\w.-]{2,48})\s+(?:tool|function|api|command|plugin)\b",
    re.I,
)
_NOT_NAMES = frozenset("the this that your a an any other all these those following same new".split())


@functools.lru_cache(maxsize=4096)  # asked again of the same texts: each result, the session's trusted text
def tool_names_in(text: str) -> frozenset[str]:
    """Words that could be a tool's name, normalised with :func:`tool_key`: CamelCase and snake_case words
    (``CovertFundReallocation``, ``send_money``), and single words named as a tool (``"Quackery"``,
    ``the Quackery tool``)."""
    found = {tool_key(m.group(0)) for m in _TOOLISH.finditer(text)}
    for match in _NAMED_TOOL.finditer(text):
        word = next(g for g in match.groups() if g)
        if word.lower() not in _NOT_NAMES:
            found.add(tool_key(word))
    return frozenset(found)


_CURRENCY = r"(?:usd|eur|gbp|chf|jpy|inr|eth|btc|usdc|usdt|sol|dollars?|euros?|pounds?|bucks)"
_AMOUNT = re.compile(
    rf"[$€£¥]\s?(\d[\d,]*(?:\.\d{{3}})*(?:\.\d+)?)\s?(k\b)?"
    rf"|\b(\d[\d,]*(?:\.\d{{3}})*(?:\.\d+)?)\s?(k\b)?\s?{_CURRENCY}\b",
    re.I,
)


def amounts_in(text: str) -> list[float]:
    """Sums of money a text states with a currency (``$1,200``, ``0.1 ETH``, ``5k EUR``, ``€412.500`` as
    412,500 but ``$3.499`` as 3.499; ``42,50 €`` is not read: a decimal comma is ambiguous)."""
    found = []
    for match in _AMOUNT.finditer(text):
        number, thousands = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        )
        if _DOTTED_THOUSANDS.match(number) and _EURO.search(match.group(0)):
            number = number.replace(".", "")  # "€412.500": thousands where the euro is; "$3.499" a price
        value = float(number.replace(",", ""))
        found.append(value * 1000 if thousands else value)
    return found


_DOTTED_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$")
_EURO = re.compile(r"(?i)€|\beur(?:os?)?\b")


def amount_token(value: float) -> str:
    return f"amt:{value:g}"


def tool_key(name: str) -> str:
    """A tool name compared without case or separators: ``Send_Money`` == ``sendmoney``."""
    return _SEPARATORS.sub("", name).lower()


_SEPARATORS = re.compile(r"[\W_]+")


_LONGER = re.compile(r"[ .-]?\d")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\w)")
_WHOLE_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_WHOLE_NUMBER = re.compile(r"\+?[\d \-]{6,24}")
_SHORT_NAME = re.compile(r"^[A-Z][a-z][\w'.-]*(?: [A-Z][a-z][\w'.-]*){0,2}$")


def value_tokens(value: object) -> frozenset[str]:
    """The tokens of one argument value: those of its text, and the whole value when it is itself a
    short proper name (``Alice``, ``Fred Smith``), an identifier or a bare number."""
    if isinstance(value, bool) or value is None:
        return frozenset()
    return _text_value_tokens(str(value).strip())


@functools.lru_cache(maxsize=16384)
def _text_value_tokens(text: str) -> frozenset[str]:
    """:func:`value_tokens` of a value's text (the same argument values recur call after call)."""
    if not text or len(text) > 20_000:
        return frozenset()
    found = set(tokens_of(text))
    compact = text.replace(" ", "")
    if _WHOLE_IBAN.fullmatch(compact.upper()) and len(text) <= 42:
        found.add("iban:" + compact.upper())
        found.discard("id:" + compact.lower())
    if _WHOLE_NUMBER.fullmatch(text):
        found.add("num:" + re.sub(r"[ \-+]", "", text))
    if _SHORT_NAME.match(text) and len(text) <= 40:
        found.add("name:" + text.lower())
    return frozenset(found)


@functools.lru_cache(maxsize=4096)
def names_in(text: str) -> frozenset[str]:
    """Capitalised words and pairs (proper names) of a text, as ``name:`` tokens: what a short argument
    like ``Alice`` is compared against."""
    found = set()
    # a name ends in a letter or digit: "O'Brien" keeps its apostrophe, "'Helen Park'" loses its quotes
    for match in re.finditer(r"\b[A-Z][a-z](?:[\w'-]*\w)?(?: [A-Z][a-z](?:[\w'-]*\w)?)?", text):
        found.add("name:" + match.group(0).lower())
        found.add("name:" + match.group(0).split(" ", 1)[0].lower())
    return frozenset(found)


# Most telling first: the order in which a finding names the values it matched, and which survive a cap.
_RANK = ("iban:", "wallet:", "email:", "url:", "num:", "host:", "handle:", "id:", "path:", "name:")


def rank(token: str) -> int:
    return next((i for i, prefix in enumerate(_RANK) if token.startswith(prefix)), len(_RANK))


def shown(token: str) -> str:
    """A token as an analyst reads it: the value without its type prefix."""
    return token.split(":", 1)[1]


def distinct(tokens: Iterable[str]) -> set[str]:
    """The tokens with a phone number's two spellings (``num:13125550187`` and ``num:3125550187``, see
    :func:`tokens_of`) counted once."""
    found = set(tokens)
    numbers = [t for t in found if t.startswith("num:") and len(t) >= 14]
    return found - {t for t in numbers if any(o != t and o.endswith(t[4:]) for o in numbers)}
