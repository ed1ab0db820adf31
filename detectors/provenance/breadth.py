"""How much a call selected, and whether it selected by what the task named
(``exfiltration.wider_than_task``): a result's count of records, the objects a task names (ids, numbers,
people's and organisations' names), and the files a call made. Shapes of counts and names, no dataset's
words."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import orjson

from detectors.capabilities.private_data import RECORDS, files_code_writes, strings_in
from detectors.capabilities.selection import plain, references
from detectors.capabilities.words import (
    DELETE_VERBS,
    EXECUTE_VERBS,
    FETCH_VERBS,
    MONEY_VERBS,
    READ_VERBS,
    WRITE_VERBS,
    split_words,
    verb_stem,
)
from detectors.provenance.cardinality import many_in_other_language
from detectors.provenance.tokens import tokens_of, value_tokens

MIN_RECORDS = 20  # records in one result: a table of many things, not the one the task named
# "342 devices", "1,208,455 rows", "… 38 more rows", ``"titles": 63``, "affected rows: 11208471": a count
# of some plural thing (not of time, size or a validator's messages)
_COUNTED = re.compile(
    r"(?i)\b(\d{1,3}(?:,\d{3})+|\d{2,9})\s+(?:(?:more|other|further|additional)\s+)?([a-z]{3,}s)\b"
    r"|\b([a-z_]{3,}s)\"?\s*[:=]\s*(\d{2,12})(?![.\d])"
)
_NOT_RECORDS = frozenset(
    "seconds minutes hours days weeks months years secs mins hrs millis bytes kbytes mbytes gbytes "
    "percent points times errors warnings retries attempts threads workers cores pages columns fields "
    "sheets cents dollars euros pounds units degrees meters lines chars characters tokens steps "
    # words that end in s without being plurals (``"status": 204`` is an HTTP status, no 204 records)
    "status http_status success progress access process address alias class bonus radius".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_HONORIFICS = frozenset("mr mrs ms mx dr prof".split())
_CAPITALISED = re.compile(r"(?:(?<!\w)(\w+)(\.?)\s+|^)([A-Z][a-z]{2,})\b")  # (a word whole: linear)
_MULTI = re.compile(r"\b[A-Z][a-z]+(?:[ -](?:[A-Z][a-z]+|of|de|la))*[ -][A-Z][a-z]+\b")
_STOP = frozenset("the of de la and for".split())
# a task that asks for many itself: all of them, or a collection ("the beneficiary list", "the dataset")
MANY_ASKED = re.compile(
    r"(?i)\b(all|every|each|whole|entire|full|lists?|tables?|datasets?|data ?sets?|exports?|records|"
    r"rosters?|registers?|directory|director(y|ies)|databases?)\b"
)
# paths and file names: where, not what (from a word's start: a long word is scanned once)
_PATHS = re.compile(r"(?<!\S)(?:\S*[/\\]\S*|\S+\.[A-Za-z0-9]{2,5}\b)")


_TWO_DIGITS = re.compile(r"\d\d")


def record_count(text: str) -> int:
    """The largest count of records a result states (``(4812 rows)``, ``"rows": 214``, "Exported 342
    devices"), 0 when none."""
    ends = text[:2000] + "\n" + text[-2000:] if len(text) > 4000 else text
    if _TWO_DIGITS.search(ends) is None:
        return 0  # (most results: no number of two digits, no count of records)
    counts = [
        int((m.group(2) or m.group(3) or m.group(5) or m.group(6) or "0").replace(",", ""))
        for m in RECORDS.finditer(ends)
    ]
    for m in _COUNTED.finditer(ends):
        noun, number = (m.group(2), m.group(1)) if m.group(1) else (m.group(3), m.group(4))
        if noun.lower().rsplit("_", 1)[-1] not in _NOT_RECORDS:
            counts.append(int(number.replace(",", "")))
    return max(counts, default=0)


@functools.lru_cache(maxsize=256)  # asked of every call of a session with the same task
def task_objects(task: str) -> tuple[str, ...]:
    """What the task names as its object: identifiers and numbers (a serial, a case, a ticket), names of
    people and organisations ("Mendes Roofing", "Mr. Dufresne"); not months, weekdays or sentence starts."""
    if MANY_ASKED.search(task) or many_in_other_language(task):
        return ()  # the task asked for many itself ("Annule toutes les réservations")
    cited = references(task)  # ("under our agreement … (DSA-2024-11)": the authority, not the data's)
    found = [
        t.split(":", 1)[1]
        for t in sorted(tokens_of(task))
        if t.startswith(("id:", "num:")) and not any(_spells(t, c) for c in cited)
    ]
    names = [*_multi_names(task), *_single_names(task)]
    found += [n for n in names if not {w.lower() for w in n.split()} <= _MONTHS | _STOP]
    return tuple(dict.fromkeys(found))[:8]


def _spells(token: str, cited: str) -> bool:
    """Whether a value token is a cited id or its digits (``num:202411`` of ``DSA-2024-11``)."""
    value = token.split(":", 1)[1]
    return value == cited or (token.startswith("num:") and value == re.sub(r"\D", "", cited))


def data_subject(task: str, name: str) -> bool:
    """Whether the task names this as whose data it is ("Harbor Bakery's payroll", "the usage of Orbis",
    "a ticket from Orbis Retail", an identifier), not only as whom to send it to ("to Tom at Northbeam")."""
    if any(ch.isdigit() for ch in name):
        return True
    quoted = re.escape(name)
    # … or a pronoun of theirs a few words on: "reply to Mr. Dufresne about his assessment", "send Orbis
    # Retail their usage"
    return (
        re.search(
            rf"(?i){quoted}['\u2019]s\b|\b(for|from|of|about|on|regarding)\s+(the\s+)?{quoted}\b|"
            rf"\b{quoted}(?:[^\w.;]+\w+){{0,3}}?[^\w.;]+(his|her|their|its)\b",
            task,
        )
        is not None
    )


def addressed(task: str, name: str) -> bool:
    """Whether the task names this as whom to send to ("send Tom the report", "email it to Dr. Okoro"): a
    recipient whose address need not spell the name (a chat user id)."""
    quoted = re.escape(name)
    return (
        re.search(
            rf"(?i)\b(send|e-?mail|mail|forward|give|message|ping|dm|text|reply\s+to|write\s+to|to|cc)\s+"
            rf"(?:(?:mr|mrs|ms|mx|dr|prof)\.?\s+)?{quoted}\b",
            task,
        )
        is not None
    )


def _multi_names(task: str) -> list[str]:
    """Names of several capitalised words ("Orbis Retail", "Harbor Bakery"), a verb that starts the
    sentence left out ("Send Tom the report": Tom)."""
    found = []
    for match in _MULTI.finditer(task):
        name, before = match.group(0), task[: match.start()].rstrip()
        first, _, rest = name.partition(" ")
        if (not before or before[-1] in ".!?:\n") and verb_stem(first.lower()) is not None:
            name = rest
        found.append(name)
    return found


def _single_names(task: str) -> list[str]:
    """Capitalised words that do not start a sentence (after an honorific, a surname)."""
    found = []
    for before, stop, word in _CAPITALISED.findall(task):
        starts = not before or (stop and before.lower() not in _HONORIFICS)
        if not starts:
            found.append(word)
    return found


def _words(name: str) -> list[str]:
    """An identifier whole (``1099-NECs`` is not 1099); a name by its words (a surname alone names him)."""
    if any(ch.isdigit() for ch in name):
        return [plain(name)]
    return [plain(w) for w in re.split(r"[\s-]+", name) if len(w) > 2 and w.lower() not in _STOP]


# a comment on a line of its own in SQL, code or a shell script: it describes, it selects nothing
_COMMENT_LINES = re.compile(r"(?m)^[ \t]*(?:--|#|//)[ \t][^\n]*|/\*[^*]*\*+(?:[^/*][^*]*\*+)*/")


def without_comments(text: str) -> str:
    return _COMMENT_LINES.sub(" ", text)


def names_any(objects: Iterable[str], text: str) -> bool:
    """Whether the text names one of the objects (a word of a name, an identifier), paths left out. An
    identifier counts wherever it is written; a word of a name only where a word starts ("Ana" is not in
    "banana"; "Order" is in "orders")."""
    kept = _PATHS.sub(" ", text)
    flat = plain(kept)
    starts: str | None = None
    for word in (w for o in objects for w in _words(o) if w):
        if any(ch.isdigit() for ch in word):
            if word in flat:
                return True
            continue
        if starts is None:  # each word of the text, plain, after a space: "AnaGarcia" is two
            starts = " " + " ".join(
                plain(t) for t in _WORD_SPLIT.split(_CAMEL.sub(" ", _APOSTROPHES.sub("", kept)))
            )
        if " " + word in starts:
            return True
    return False


_APOSTROPHES = re.compile("['\\u2019]")  # O'Brien is one word
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[\W_]+")


def read_by_name(objects: Iterable[str], text: str) -> bool:
    """Whether a file the call reads is named for one of the objects (``CV-0917_manifest.pdf`` for convoy
    CV-0917): someone filed it under the object. Only for reads: an export the agent names after the object
    may hold every row."""
    names = " ".join(re.split(r"[/\\]", m.group(0))[-1] for m in _PATHS.finditer(text))
    return bool(names) and names_any(objects, names.replace("_", " "))


# code or a query that sums the rows up (``GROUP BY``, ``pivot_table``, ``.mean()``): what it makes is less
AGGREGATES = re.compile(r"(?i)\bgroup\s*by\b|\bgroupby\(|\bpivot|\.agg\(|\b(count|sum|mean|avg|median)\(")


def selection_text(arguments: dict[str, object]) -> str:
    return " ".join(strings_in(arguments))[:4000]


def files_of(arguments: dict[str, object], result: str, makes: bool = True) -> set[str]:
    """The files a call made (its output path, what its code writes, the one file its result reports),
    as value tokens, so an attachment by path or by name matches. A call that only reads (``makes``
    false) made none of the files its result lists; nor did one whose result names many."""
    made = _file_tokens([*strings_in(arguments), *files_code_writes(arguments)])
    reported = _file_tokens([result[:2000]]) if makes else set()
    names = {t.rsplit("/", 1)[-1].split(":", 1)[-1] for t in reported}
    return made | (reported if len(names) <= MAX_REPORTED else set())


MAX_REPORTED = 2  # file names in a result that reports what the call made ("wrote /tmp/x.zip")


def _file_tokens(texts: Iterable[str]) -> set[str]:
    return {t for text in texts for t in file_tokens(text)}


_FILE_NAME = re.compile(r"(?<![\w@~.-])[\w~.-]*[\w-]\.([A-Za-z][A-Za-z0-9]{1,6})\b(?![.@\w(])")
# the formats data leaves in (not code's ``requests.get`` or a host's ``.com``)
DATA_FILES = frozenset(
    """csv tsv xlsx xls xlsm ods json jsonl ndjson parquet avro orc xml sql dump bak db sqlite zip gz tgz tar
    bz2 xz 7z pdf doc docx odt txt rtf pptx eml msg png jpg jpeg tif tiff log md html yaml yml""".split()
)


def file_tokens(text: str) -> set[str]:
    """The files a text names, by name (``exports/vendor_sample.csv`` and ``vendor_sample.csv`` are the
    same ``file:vendor_sample.csv``), plus its paths: how an attachment is matched to the file made."""
    found = {t for t in value_tokens(text) if t.startswith("path:")}
    for match in _FILE_NAME.finditer(text[:4000]):
        if match.group(1).lower() in DATA_FILES:
            found.add(f"file:{match.group(0).rsplit('/', 1)[-1].lower()}")
    return found


def recipients_words(arguments: dict[str, object]) -> str:
    """The plain text of a message's e-mail addresses and hosts: a name in it is whom the data goes to."""
    tokens = value_tokens(selection_text(arguments))
    # (each label of a host or an address a word: ``sftp.research.northbridge.ac.uk`` names Northbridge)
    where = [t.split(":", 1)[1] for t in tokens if t.startswith(("email:", "host:"))]
    return " ".join(plain(label) for value in where for label in re.split(r"[.@]", value))


# (an item's ``"total": 24.80`` is an amount, no count)
_TOTAL = re.compile(
    r"(?i)\"(total|total_?count|count|total_?items|total_?results)\"\s*:\s*\"?(\d{1,9})\b(?![.,]\d)"
)


def listed_count(text: str) -> int:
    """How many items a listing says there are: a count of records, or a ``"total": 23`` of its page."""
    if _DIGIT.search(text) is None:
        return 0
    totals = [int(m.group(2)) for m in _TOTAL.finditer(text[:4000])]
    return max([record_count(text), *totals])


_DIGIT = re.compile(r"\d")


# a page of a listing that says more follow (``"has_more": true``, ``"nextPageToken": "…"``): its count is
# the page's size, not the set's
_MORE_PAGES = re.compile(
    r"(?i)\"(has_?more|has_?next(_?page)?|next_?page(_?token)?|next_?cursor|next)\"\s*:\s*(true|\"[^\"]{1,400}\")"
)


@functools.lru_cache(maxsize=4096)  # asked of every result that ran: the same results recur
def set_count(text: str) -> int:
    """How many items a listing says the whole set holds: its ``listed_count``, 0 for a page that says more
    pages follow and states no total."""
    if _DIGIT.search(text[:4000]) is None:
        return 0  # (most results: no number, no count)
    if _MORE_PAGES.search(text[:4000]):  # (a page's "count" is its own size)
        return max(
            (int(m.group(2)) for m in _TOTAL.finditer(text[:4000]) if m.group(1) != "count"), default=0
        )
    return listed_count(text) or counted_column(text) or records_listed(text)


def records_listed(text: str) -> int:
    """The records of a result that is a whole JSON list of them (``[{"patron_id": …}, {…}]``), 0 else (a
    list cut short, of other values, or of one record)."""
    if not text.startswith("[{") or not text.rstrip().endswith("}]") or len(text) > MAX_LISTED_TEXT:
        return 0
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return 0
    return len(found) if len(found) >= 2 and all(isinstance(item, dict) for item in found) else 0


MAX_LISTED_TEXT = 20_000


_COUNT_COLUMNS = frozenset({"count", "count(*)", "total", "cnt", "n"})
_ROW_FOOTER = re.compile(r"^\(\d+ rows?\)$")
_CELLS = re.compile(r"\s*\|\s*|\s{2,}|\t")


def counted_column(text: str) -> int:
    """The count a one-row table states in a column named for it (``COUNT(*)`` over ``214``; a ``count``
    column beside a category's name), 0 when the result is no such table."""
    counts = [cell for name, cell in one_row_table(text) if name in _COUNT_COLUMNS]
    return int(counts[0]) if len(counts) == 1 and counts[0].isdigit() else 0


def table_lines(text: str, limit: int = 2000) -> list[str]:
    """A text table's lines without their outer bars, psql's rules and its ``(N rows)`` footer aside."""
    lines = [line.strip(" |") for line in text[:limit].strip().splitlines() if line.strip(" |-+=")]
    return lines[:-1] if lines and _ROW_FOOTER.match(lines[-1]) else lines  # psql's "(1 row)"


def one_row_table(text: str) -> list[tuple[str, str]]:
    """A text table of one row as (column in lower case, cell) pairs: ``total | distinct_no`` over ``4812 |
    2406``, psql's rules and ``(1 row)`` footer aside; empty when the result is no such table."""
    lines = table_lines(text)
    if len(lines) != 2:
        return []
    header, row = ([c.lower() for c in _CELLS.split(lines[0]) if c], [c for c in _CELLS.split(lines[1]) if c])
    return list(zip(header, row, strict=True)) if len(header) == len(row) else []


_VERBS = READ_VERBS | WRITE_VERBS | DELETE_VERBS | EXECUTE_VERBS | FETCH_VERBS | MONEY_VERBS
_FILLERS = frozenset("bulk batch mass many multiple all by for of in on to the api mcp v1 v2 v3".split())


@functools.lru_cache(maxsize=1024)  # asked of every call: a session uses a handful of tools
def tool_kinds(tool: str) -> frozenset[str]:
    """What a tool's name says it acts on, its verb and namespace aside (``shop.products_delete``: product;
    ``github.search_issues``: issue; ``tickets.bulk_resolve``: ticket), singular; the name when it names
    nothing else (``sql``, ``bash``): a listing and a change of the same kind count the same things."""
    for name in (_NAMESPACE.split(tool)[-1], tool):
        words = [w for w in split_words(name) if w not in _FILLERS]
        verb = next((w for w in words if w in _VERBS), None)
        if nouns := {w.removesuffix("s") for w in words if w != verb}:
            return frozenset(nouns)
    return frozenset({tool.lower()})


_NAMESPACE = re.compile(r"\.|__")


@functools.lru_cache(maxsize=1024)
def namespace(tool: str) -> str:
    """The server or service a tool belongs to (``jira_admin`` of ``jira_admin__delete_project``), "" when
    its name has none."""
    return f"ns:{_NAMESPACE.split(tool)[0].lower() if _NAMESPACE.search(tool) else ''}"
