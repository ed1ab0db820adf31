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
_CONFIDENTIAL = re.compile(
    r"([\w,'&-][\w ,'&-]{2,59}?)\s+(?:is|are)\s+(?:strictly\s+)?(?:under\s+(?:an?\s+)?nda|confidential|"
    r"private|internal(?:\s+only)?|not\s+(?:to\s+be\s+)?(?:shared|published|public|disclosed))\b"
)
_LEFT_OUT = re.compile(
    r"\b(?:without|leave\s+out|omit|exclude|excluding|strip(?:\s+out)?)\s+(?:the\s+|any\s+|their\s+)?"
    r"(?!\w+ing\b)([a-z][\w -]{2,40}?)(?=\s*(?:[.,;:!)]|$|\s+(?:please|pls|and|or|from|in|before|so)\b))"
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


@dataclass(frozen=True)
class Fence:
    people: bool  # every field that tells one person from another
    words: frozenset[str]  # words of the fields named ("rent", "tenant")

    def __bool__(self) -> bool:
        return self.people or bool(self.words)


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
        words |= _stems(re.split(r"[-\u2013\u2014:;]\s|\bplease\b|\bbut\b", match.group(1))[-1])
    return Fence(_AGGREGATES_ONLY.search(text) is not None, frozenset(words))


def fenced_columns(fence: Fence, header: list[str]) -> list[int]:
    """The positions of the header's columns the fence keeps out."""
    found = []
    for i, column in enumerate(header):
        name = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")
        parts = {_stem(p) for p in name.split("_")}
        if (fence.people and PEOPLE_FIELDS.search(name)) or parts & fence.words:
            found.append(i)
    return found


MAX_VALUES = 64
_CELLS = re.compile(r"\s*\|\s*|\s{2,}|\t")
_VALUE = re.compile(
    r"^(?=.*[^\W\d_]{2})[\w .@'&()+-]{4,80}$"
)  # a name, an address, a plate: not a bare number


def _records(result: str) -> tuple[list[str], list[list[str]]]:
    """A result's table: its header and rows (CSV, a text table, or a JSON list of records)."""
    text = result[:6000].strip()
    if text[:1] in "[{":
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
        listed = next((v for v in data.values() if isinstance(v, list)), []) if isinstance(data, dict) else []
        rows = data if isinstance(data, list) else listed
        rows = [r for r in rows if isinstance(r, dict)]
        header = list(rows[0]) if rows else []
        return header, [[str(r.get(k, "")) for k in header] for r in rows]
    lines = table_lines(text, 6000)
    split = (lambda line: line.split(",")) if lines and lines[0].count(",") >= 2 else _CELLS.split
    table = [[c.strip().strip('"') for c in split(line)] for line in lines]
    return (table[0], [r for r in table[1:] if len(r) == len(table[0])]) if len(table) > 1 else ([], [])


def fenced_values(fence: Fence, result: str) -> dict[str, str]:
    """The values of the fenced columns in a table the result holds (lower case) -> their column."""
    header, rows = _records(result)
    columns = fenced_columns(fence, header)
    found = {row[i].lower(): header[i] for row in rows for i in columns if _VALUE.match(row[i])}
    return dict(list(found.items())[:MAX_VALUES]) if columns and rows else {}


def pasted(values: Iterable[str], said: str) -> list[str]:
    """The kept-out values a text holds as words of their own ("mark" is not in "market")."""
    return sorted(v for v in values if v in said and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", said))
