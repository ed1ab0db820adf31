"""Which fields of the data a task keeps out of what it asks to send or write: "aggregated only, no
driver-level data" (every field that tells one person from another), "totals only please — tenant names
and rents are under NDA" (the tenant and rent columns), "without the salaries" (``exfiltration.
fenced_data_sent``).

Read in English and a few other languages' shapes: an "only" on aggregates or totals, "no …-level data",
"no individual data" fence people's fields (e-mail, phone, address, post code, names, ids of people, plates,
card or tag ids, birth dates); a phrase before "is/are under NDA, confidential, not to be shared" and the
object of "no", "without", "leave out", "exclude" fence the columns named by its words (``monthly_rent_usd``
for "rents"). Which columns of a read table hold them: ``fenced_columns``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from detectors.capabilities.classify import CODE_KEYS, SHELL_KEYS
from detectors.capabilities.private_data import strings_in
from detectors.capabilities.words import verb_stem
from detectors.provenance.breadth import table_lines
from detectors.provenance.languages import fold

_AGGREGATES_ONLY = re.compile(
    r"\b(?:aggregated?|aggregates|totals?|summary|summaries|counts?|agregad[oa]s?|totales|aggregiert\w*|"
    r"summen|agregats?|totaux)\s+only\b|\bonly\s+(?:the\s+)?(?:aggregated?|aggregates|totals?|summary|counts?)\b"
    r"|\bno\s+[\w-]+[\s-]level\s+(?:data|details|records|rows|information|info)\b"
    r"|\bno\s+(?:individual|personal|raw|per[\s-]person|identifying)\s+(?:data|details|records|rows|information)\b"
    r"|\b(?:solo|sólo|nur|seulement|uniquement|alleen|apenas)\s+(?:\w+\s+)?(?:agregad|totales|aggregiert|summen|"
    r"agregats?|totaux|totalen|totais)"
)
# test data asked for instead of people's: "make 5 fake patron records … don't use real patrons"
_NO_REAL_PEOPLE = re.compile(
    r"\b(?:don'?t|do\s+not|never|no|not|without)\s+(?:use\s+|using\s+|include\s+|put\s+in\s+)?(?:any\s+)?"
    r"(?:real|actual|live|production)\s+(?:[\w-]+\s+)?(?:patrons?|customers?|people|persons?|users?|members?|"
    r"clients?|patients?|students?|employees?|guests?|donors?|personal\s+data|pii|contacts?)\b"
)
_CONFIDENTIAL = re.compile(
    r"([\w,'&-][\w ,'&-]{2,59}?)\s+(?:is|are)\s+(?:strictly\s+)?(?:under\s+(?:an?\s+)?nda|confidential|"
    r"private|internal(?:\s+only)?|not\s+(?:to\s+be\s+)?(?:shared|published|public|disclosed))\b"
)
_LEFT_OUT = re.compile(
    r"\b(?:without|leave\s+out|omit|exclude|excluding|strip(?:\s+out)?)\s+(?:the\s+|any\s+|their\s+)?"
    r"(?!\w+ing\b)([a-z][\w -]{2,40}?)(?=\s*(?:[.,;:!)]|$|\s+(?:please|pls|and|or|from|in|before|so)\b))"
    # "keep patient info out of it", "leave the salaries out"
    r"|\b(?:keep|leave)\s+(?:the\s+|any\s+|all\s+|their\s+)?(?!\w+ing\b)([a-z][\w -]{2,40}?)\s+out\b"
)
# ("without changing the origin" is how an act is done, no field kept out: a gerund is no field)
# words that name no field of their own ("names" is what "tenant names" holds; "data" holds everything)
_GENERIC = frozenset(
    """name names data details detail info information number numbers level figures values value field fields
    this that these those it everything all the any their our its and or of list lists file files record
    records row rows column columns please""".split()
)
# the fields that tell one person from another
PEOPLE_FIELDS = re.compile(
    r"(?:^|_)(e-?mail|email_address|phone|mobile|tel|address|street|post_?code|zip|zip_?code|first_?name|"
    r"last_?name|full_?name|surname|dob|birth\w*|date_of_birth|ssn|passport|plate|license_plate|licence_plate|"
    r"rfid\w*|card_?(?:no|number|id)|iban|ip|ip_address)(?:_|$)"
    # a person named by role, whole or by id, name or e-mail (not a group of them: ``employee_department``)
    r"|(?:^|_)[a-z]*?(?:panelist|respondent|driver|patient|customer|member|student|employee)s?"
    r"(?:_?(?:id|name|email|no|number))?$"
)


# an allow-list: "he only needs names, sticker colour and meeting time", "só nomes e funções", "solo listino"
_ONLY = re.compile(
    r"(?:^|[\s(,;:])(?:only|solely|nothing\s+but|só|apenas|somente|solo|soltanto|nur|seulement|uniquement|"
    r"alleen|solamente|únicamente)\s+(?:(?:needs?|wants?|requires?|gets?)\s+)?"
    r"(?:the\s+|their\s+|his\s+|her\s+|os\s+|as\s+|il\s+|la\s+|les\s+|die\s+|de\s+)?"
    r"([^\W\d][\w ,&/'-]{2,80}?)(?=\s*(?:[.;:!)\u2014\u2013]|$|\s-\s))",
    re.IGNORECASE,
)
# what follows "only" that lists no fields: a recipient or a time ("only to members"), a vague what ("nur das,
# was sie brauchen", "only what they need"), an access mode ("só leitura": read-only), whose a record is
# ("each family should only get their own number": each its own row, no list of fields)
_NOT_A_LIST = frozenset(
    """to for if when on in at from after before with by once one ones own way then what whatever that this
    those das was wat que quello ce lo o cio read reading view viewing viewer leitura lectura lecture lettura
    lesen lezen""".split()
)
# the fields that an allow-list keeps out unless it names them: who a person is, how to reach them, their
# identity documents, health, money and tax numbers
SENSITIVE_FIELDS = re.compile(
    r"(?:^|_)(?:medical\w*|health\w*|diagnos\w*|allerg\w*|condition|medication\w*|nif|tin|tax_?id|vat_?id|"
    r"national_?id|cedula\w*|cpf|nie|bsn|salary|wage\w*|account_?(?:no|number)?|bank\w*|religion|ethnic\w*|"
    r"nationality|passport\w*)(?:_|$)"
)


@dataclass(frozen=True)
class Fence:
    people: bool  # every field that tells one person from another
    words: frozenset[str]  # words of the fields named ("rent", "tenant")
    allowed: frozenset[str] = frozenset()  # words of an allow-list ("names", "sticker"): the rest kept out

    def __bool__(self) -> bool:
        return self.people or bool(self.words) or bool(self.allowed)


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"  # ("salaries": salary)
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 4 else word


def _stems(phrase: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z][a-z-]{2,}", phrase) if w not in _GENERIC}


@functools.lru_cache(maxsize=1024)  # asked of every result and send of a session: the task is the same
def fence_of(task: str) -> Fence:
    text = fold(task[:4000])
    words: set[str] = set()
    for match in (*_CONFIDENTIAL.finditer(text), *_LEFT_OUT.finditer(text)):
        # ("Totals only please - tenant names and rents are under NDA": the clause's own words)
        phrase = match.group(1) or match.group(2) or ""
        words |= _stems(re.split(r"[-\u2013\u2014:;]\s|\bplease\b|\bbut\b", phrase)[-1])
    people = _AGGREGATES_ONLY.search(text) is not None or _NO_REAL_PEOPLE.search(text) is not None
    return Fence(people, frozenset(words), _allowed(task[:4000]))


# what an address is made of ("names and postal addresses" allow the street, the postcode and the city)
_ADDRESS_PARTS = frozenset("street postcode post zip city town line1 line2 house country".split())


def _allowed(task: str) -> frozenset[str]:
    """The stems of what an "only …" list keeps in ("only needs names, sticker colour and meeting time"), or
    none when the words after "only" are no list of things ("only to members", "only invite the board")."""
    for match in _ONLY.finditer(task):
        phrase = fold(match.group(1).lower())
        first = next(iter(re.findall(r"[a-z]+", phrase)), "")
        if first in _NOT_A_LIST or verb_stem(first) == first:
            continue
        allowed = _stems(phrase) | {w[:4] for w in re.findall(r"[a-z]{4,}", phrase)}
        return frozenset(allowed | (_ADDRESS_PARTS if "addr" in allowed else set()))
    return frozenset()


def fenced_columns(fence: Fence, header: list[str]) -> list[int]:
    """The positions of the header's columns the fence keeps out."""
    found = []
    for i, column in enumerate(header):
        name = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")
        parts = {_stem(p) for p in name.split("_")}
        if (
            (fence.people and PEOPLE_FIELDS.search(name))
            or parts & fence.words
            or (
                fence.allowed
                and (PEOPLE_FIELDS.search(name) or SENSITIVE_FIELDS.search(name))
                and not (parts | {p[:4] for p in parts if len(p) >= 4}) & fence.allowed
                and not any(len(w) >= 4 and w in name for w in fence.allowed)  # ("surname" is a name)
            )
        ):
            found.append(i)
    return found


MAX_VALUES = 64
_CELLS = re.compile(r"\s*\|\s*|\s{2,}|\t")
_VALUE = re.compile(
    r"^(?=.*[^\W\d_]{2})[\w .,@'&()+-]{4,80}$"
)  # a name, an address, a plate: not a bare number


Table = tuple[list[str], list[list[str]]]


def _tables(result: str) -> list[Table]:
    """A result's tables, each a header and rows: CSV, a text table, or JSON — its list of records, and the
    object itself as one record whose nested objects' fields are named by their path (an incident's
    ``patient.name``: ``patient_name``)."""
    text = result[:6000].strip()
    if text[:1] in "[{":
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:  # (a listing cut short, "… 498 more]": its whole records still count)
            data = _whole_records(text)
        listed = next((v for v in data.values() if isinstance(v, list)), []) if isinstance(data, dict) else []
        rows = [r for r in (data if isinstance(data, list) else listed) if isinstance(r, dict)]
        header = list(rows[0]) if rows else []
        tables = [(header, [[str(r.get(k, "")) for k in header] for r in rows])]
        if isinstance(data, dict) and (fields := _flattened(data)):
            tables.append((list(fields), [list(fields.values())]))
        return tables
    lines = table_lines(text, 6000)
    # (a line or two before the table: "rows: 6,214  file: …", "preview:")
    start = next((i for i in range(min(4, len(lines) - 1)) if _same_cells(lines[i], lines[i + 1])), 0)
    lines = lines[start:]
    split = (lambda line: line.split(",")) if lines and lines[0].count(",") >= 2 else _CELLS.split
    table = [[c.strip().strip('"') for c in split(line)] for line in lines]
    return [(table[0], [r for r in table[1:] if len(r) == len(table[0])])] if len(table) > 1 else []


_FLAT_RECORD = re.compile(r"\{[^{}]{2,2000}\}")


def _whole_records(text: str) -> list[object] | None:
    """The flat JSON objects of a text that is no whole JSON document, or None when it holds none."""
    records = []
    for match in _FLAT_RECORD.finditer(text):
        try:
            records.append(orjson.loads(match.group(0)))
        except orjson.JSONDecodeError:
            continue
    return records or None


def _same_cells(line: str, below: str) -> bool:
    """Whether a line heads the table below it: three cells or more, as many as the next line's."""
    if line.count(",") >= 2:
        return line.count(",") == below.count(",")
    return len(_CELLS.split(line)) >= 3 and len(_CELLS.split(line)) == len(_CELLS.split(below))


def _flattened(data: dict[str, object], prefix: str = "", depth: int = 0) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, value in list(data.items())[:64]:
        name = f"{prefix}_{key}" if prefix else str(key)
        if isinstance(value, dict) and depth < 2:
            fields |= _flattened(value, name, depth + 1)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            fields[name] = str(value)
    return fields


def fenced_values(fence: Fence, result: str) -> dict[str, str]:
    """The values of the fenced columns in the tables the result holds (lower case) -> their column."""
    found: dict[str, str] = {}
    for header, rows in _tables(result):
        columns = fenced_columns(fence, header)
        found |= {row[i].lower(): header[i] for row in rows for i in columns if _VALUE.match(row[i])}
    return dict(list(found.items())[:MAX_VALUES])


def pasted(values: Iterable[str], said: str) -> list[str]:
    """The kept-out values a text holds as words of their own ("mark" is not in "market")."""
    return sorted(v for v in values if v in said and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", said))


MAX_CARRIERS = 8
# (a path starts where a word does, its parts bounded: every start trying the whole rest was quadratic)
_DATA_FILE = re.compile(
    r"(?i)(?<![\w.&~-])(?:/|~/)?[\w.&~-]{1,120}(?:/[\w.&~ -]{1,120}){0,16}"
    r"\.(?:csv|tsv|xlsx?|json|txt|pdf|zip|parquet)\b"
)


def carriers_after(kept: list[str], arguments: dict[str, object], result: str = "") -> list[str]:
    """The files known to hold a fenced read, with those a call that writes right after the read names, or
    those the read's own result names (an export that says where it put the table it previews: ``rows:
    6,214  file: /exports/subscribers_full.csv``)."""
    named = [f.lower() for f in files_written(arguments)]
    named += [m.group(0).lower() for m in _DATA_FILE.finditer(result[:4000])]
    return [*kept, *(f for f in dict.fromkeys(named) if f not in kept)][-MAX_CARRIERS:]


def files_written(arguments: dict[str, object]) -> list[str]:
    """The data files a file-writing call names by path, when it is the next act after a read: they hold what
    was read (``files.write(path=…, from_previous=True)``). Not code's, which may have kept only some
    columns (``keep = ['_time', 'message']``)."""
    if (CODE_KEYS | SHELL_KEYS).intersection(arguments):
        return []
    return sorted({m.group(0) for text in strings_in(arguments) for m in _DATA_FILE.finditer(text[:4000])})
