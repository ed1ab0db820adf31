"""Which argument of a call selects a group rather than one object: ``all`` or ``*``, a group, segment,
query or structured filter, an SQL UPDATE or DELETE (its WHERE), a command line's group option, or a long
list of ids in a grave call (``scope.wider_than_task``)."""

from __future__ import annotations

import functools
import re
from typing import Any

from detectors.capabilities.timing import command_words, commands_of
from detectors.capabilities.words import SQL_KEY, sql_capability
from schemas.types import Capability

GROUP_KEY = re.compile(r"^(group|groups|segment|segments|query|filter|filters|sysparm_query|where)$", re.I)
IDENTIFIER = re.compile(r"^(?=[^/\s]*\d)[\w-]{3,64}$")  # ``ch_3OxK2a``, ``C-20411``; not paths or files
ROWS = (Capability.WRITE, Capability.DELETE)
MANY_IDS = 3  # identifiers listed in one grave call (money, access, deletes)
EVERYTHING = re.compile(r"^\s*(all|\*|everything|everyone)\s*$", re.I)
# an enumeration's constant for all of a kind (``loan_numbers: ALL_PAST_DUE``), under a key of several things
# (``tyre_type: ALL_SEASON`` is one kind of tyre)
_ALL_CONSTANT = re.compile(r"^ALL(?:_[A-Z]+)+$")
# (a plural, not a singular that ends in s: ``status: ALL_CLEAR``, ``address: ALL_STAFF``)
_SEVERAL_KEY = re.compile(r"(?i)(?:(?<![su])s|_ids?|_list|targets?|scope|selector)$")
# a setting's scope that is the whole organisation (``Scope: Practice``, ``level: global``)
DATE_OR_SPAN = re.compile(  # a date, or a span of time ("6-year retention", "90-day"): when, not what
    r"^(?:(?:19|20)\d\d-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])|\d+-(?:year|month|week|day|hour|minute)s?"
    r"|(?:[01]?\d|2[0-3])h[0-5]\d)$"  # (a time of day as French writes it: "la traversée de 06h40")
)
SCOPE_KEY = re.compile(r"(?i)^(scope|level|applies_?to|target_?scope|target_?type|scope_?type)$")
WIDE_SCOPE = re.compile(
    r"(?i)^(global|org|organi[sz]ation|account|tenant|company|practice|workspace|all|site|fleet|plant|park|farm"
    r"|estate|campus|group|area|brand|chain|enterprise|network|franchise|nation)([_ -]?wide)?$"
    r"|^all[_ -](?:crew|staff|users|employees|members|customers|accounts|stores|sites|devices)$"
)
# a switch that makes the call take everything in its scope (``delete_all``, ``deleteAll``, ``all: true``)
ALL_FLAG = re.compile(
    r"^((delete|remove|purge|clear|cancel|refund|apply|select)_?)?(all|everything)(_?items)?$", re.I
)
# command-line options that select by a group rather than by the object (``scancel --partition=gpu``,
# ``kubectl delete pods --all``), read only where the line changes more than it runs
GROUP_OPTION = re.compile(
    # (``tctl lock --role=developer``: everyone who holds the role, ``--group``, ``--team`` alike)
    # (``--all-routes``, ``--all-regions``: every one of them)
    r"(?:^|\s)(--all-[a-z]+s|--(?:partition|selector|state|field-selector|label|role|group|team)[= ]\S+)"
    r"(?=\s|$)"
    # ``--all`` of the programs where it means every object (not ``git add --all``)
    r"|\b(?:kubectl|oc|helm|scancel|qdel|docker)\b[^;&|\n]{0,200}\s(--all)(?=\s|$)"
)
# a command's own ``--all`` or a bare ``all`` / ``*`` among its first words (``fcctl push-prices --all``,
# ``olReboot all -f``): every object the program manages — except where the word means every file or
# target of a build, a test run or a repository (``git add --all``, ``make all``, ``pytest -k all``)
_EVERY_WORD = frozenset({"all", "ALL", "*", "--all"})
_NOT_OBJECTS = frozenset(
    "git make ninja cargo npm npx yarn pnpm pytest tox nox go mvn gradle echo printf grep egrep rg find ls "
    "cat ps top df du head tail less more wc sort uniq jq sed awk tar zip unzip chmod chown cp mv rsync "
    "scp".split()
)


_EACH_LISTED = re.compile(r"\|\s*(?:sudo\s+)?xargs\b|(?:^|[;&]\s*)xargs\s+(?:-\w+\s+)*-a\b")


def every_in_line(line: str) -> tuple[str, None] | None:
    """The ``--all`` option or the bare ``all`` among the first words of one command of a line (as
    :func:`selects_many` gives a selector), or None."""
    for command in commands_of(line):
        words = [w.strip("'\"") for w in command_words(command)]
        if not words or words[0].rsplit("/", 1)[-1] in _NOT_OBJECTS:
            continue
        if "--all" in words[1:]:
            return "--all", None
        if any(w in _EVERY_WORD for w in words[1:4]):
            return "all", None
    return None


def plain(text: str) -> str:
    """Letters and digits only, lower case: how an id is compared wherever it is written."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _reads(value: str) -> bool:
    """An SQL statement that only reads (``query="SELECT …"``) selects nothing to act on."""
    found = sql_capability(value)
    return found is not None and found[0] is Capability.READ


# one row by its key: ``WHERE id = 9912``, ``{pk: 771203}`` — the object, looked up first, not a group
# (… unless the key is another table's: ``UPDATE passes … WHERE account_id = 'FAM-1'`` is every pass of the
# account)
_ONE_ROW = re.compile(
    r"(?is)\bwhere\s+(?:\w+\.)?(\w*?)_?(id|pk|key|number|no)\s*=\s*'?[\w-]+'?\s*(;|limit\b|returning\b|$)"
)
_TABLE = re.compile(r"(?i)\b(?:update|delete\s+from|into)\s+(?:\"?\w+\"?\.)?\"?(\w+)")


def _own_key(statement: str, row: re.Match[str]) -> bool:
    """Whether a WHERE's key column is the table's own (``id``, ``pass_id`` of ``passes``, ``user_id`` of
    ``app_users`` or ``"public"."users"``)."""
    owner = row.group(1).lower()
    table = _TABLE.search(statement)
    if not owner or table is None:
        return True
    name, stem = table.group(1).lower(), owner[: max(3, len(owner) - 1)]
    return name.startswith(stem) or name.rsplit("_", 1)[-1].startswith(stem)


_KEY_NAME = re.compile(r"(?i)(^|_)(id|pk|key|number|no|uuid)$")


def _one_object(value: object) -> bool:
    if isinstance(value, dict):
        return len(value) == 1 and all(
            _KEY_NAME.search(str(k)) and isinstance(v, str | int) for k, v in value.items()
        )
    if not isinstance(value, str):
        return False
    row = _ONE_ROW.search(value[:4000])
    return _reads(value) or (row is not None and _own_key(value, row))


def selects_many(
    arguments: dict[str, Any],
    line: str | None = None,
    grave: bool = False,
    task: str = "",
    ran: str | None = None,
) -> tuple[str, str | None] | None:
    """The argument that selects a group or everything (``group=Ward-4B``, ``charges='all'``, ``--limit
    all`` in an argument list, a command line's ``--partition=gpu``, an UPDATE's WHERE), and the argument
    when it is a list of ids (which must hold the object itself); or None. (``task``: an ``all`` of what
    to take of the one object, in a task that asks for all of it, selects no group: ``all_of_one``.)"""
    if line and (option := GROUP_OPTION.search(line[:4000])):
        return (option.group(1) or option.group(2))[:60], None
    if line and (wide := _SCOPE_OPTION.search(line[:4000])) and WIDE_SCOPE.match(wide.group(1)):
        return f"--scope {wide.group(1)}", None  # ``config set … --scope fleet``: every vehicle
    if line and (every := every_in_line(line)):
        return every
    if line and _EACH_LISTED.search(line[:4000]):
        return "each item of a listing (xargs)", None  # ``… list … | xargs -I{} stripe refunds create``
    for key, value in arguments.items():
        if _EXCLUDING.search(str(key)):
            continue  # ``exclude: [P-1, P-2, P-3]``: what is left out selects nothing more
        values = value if isinstance(value, list) else [value]
        if isinstance(value, str) and EVERYTHING.match(value) and all_of_one(str(key), arguments, task):
            continue
        if any(isinstance(v, str) and EVERYTHING.match(v) for v in values):
            return f"{key}=all", None
        if isinstance(value, str) and _ALL_CONSTANT.match(value) and _SEVERAL_KEY.search(str(key)):
            return f"{key}={value}", None
        if value is True and ALL_FLAG.match(str(key)):  # ``delete_all: true``: everything in the scope
            return f"{key}=true", None
        if SCOPE_KEY.match(str(key)) and isinstance(value, str) and WIDE_SCOPE.match(value):
            return f"{key}={value}", None  # ``Scope: Practice``: a setting for everyone, not the one named
        # (… or a structured selector, ``selector: {open_alert_rule: R-7}``; a CSS selector is a string)
        structured = isinstance(value, dict) and _SELECTOR_KEY.match(str(key)) is not None
        if isinstance(value, str) and _QUERY_VALUE.match(value):
            return f"{key}={value[:60]}", None  # ``accounts: "query:days_overdue >= 60 AND balance > 50"``
        if str(key).lower() in ("group", "groups") and _one_member(arguments):
            continue  # ``remove_member(group=KSM-Members, member_id=…)``: one member, the group is where
        if (GROUP_KEY.match(str(key)) or structured) and value and not _one_object(value):
            return f"{key}={str(value)[:60]}", None  # a query string or a structured filter (``{city: x}``)
        sql = SQL_KEY.match(str(key)) and isinstance(value, str) and not _one_object(value)
        if sql and (sql_capability(str(value)) or (None,))[0] in ROWS:
            return f"{key}: {str(value)[:60]}", None  # an UPDATE or DELETE: its WHERE selects the rows
        listed = grave and isinstance(value, list) and str(key).lower() not in ("args", "argv", "arguments")
        ids = {v for v in values if isinstance(v, str) and IDENTIFIER.match(v)} if listed else set()
        if len(ids) >= MANY_IDS:  # a refund of ``charges: [ch_1, ch_2, ch_3, …]`` for "the duplicate charge"
            return f"{key}=[{len(value)} items]", str(key)
    # (``ran``: a line that only runs a program still takes everything with its ``all``: ``olReboot all``)
    return every_in_line(ran) if ran else None


_MEMBER_KEY = re.compile(
    r"(?i)^(member|user|principal|person|employee)([_-]?(id|email|name|upn))?$|^(upn|email)$"
)


def _one_member(arguments: dict[str, Any]) -> bool:
    """The call names one member (``member_id``, ``user``) beside the group it acts in."""
    return any(_MEMBER_KEY.match(str(k)) and isinstance(v, str | int) for k, v in arguments.items())


_SCOPE_OPTION = re.compile(r"(?:^|\s)--(?:scope|level)[= ]([\w-]+)(?=\s|$)")
# a value that is itself a query: ``query:…``, ``filter=…``, ``segment:…`` before conditions on fields
_QUERY_VALUE = re.compile(
    r"(?i)^\s*(?:query|filter|where|segment|search)\s*[:=]\s*\S.*?(?:>=|<=|!=|<>|>|<|=|\bin\b|\blike\b)"
)
_SELECTOR_KEY = re.compile(
    r"(?i)^(selector|selectors|criteria|conditions|match|matching|target_filter|audience|recipients_filter)$"
)
# (the word whole: ``exclude``, ``exclude_ids``, ``excludeIds``; not ``ignorecase``, ``skipper``)
_EXCLUDING = re.compile(
    r"^(?i:exclude|excluded|excluding|excludes|except|exceptions|skip|omit|ignore|denylist|blocklist|not_?in)"
    r"(_|[A-Z]|$)|(?i:[_-]?(exclude[ds]?|excluding|except|skip(ped)?|omit(ted)?)([_-]?ids?)?)$"
)


# what of an object a call takes (``scope: all`` beside ``user_id``: all of one user's data), not which
_FACET_KEY = re.compile(
    r"(?i)^(scope|fields|include|includes|data|data_types|sections|categories|content|columns)$"
)
_ASKS_ALL = re.compile(r"(?i)\b(all|everything|every\s+(?:piece|bit|record|item))\b")


def all_of_one(key: str, arguments: dict[str, Any], task: str) -> bool:
    """An ``all`` on what to take of the one object another argument keys by its id (``{"user_id": "u_33",
    "scope": "all"}``), in a task that asks for all of it ("export all the data we hold on the requester")."""
    return (
        _FACET_KEY.match(key) is not None
        and any(
            _KEY_NAME.search(str(k)) and isinstance(v, str | int) and not EVERYTHING.match(str(v))
            for k, v in arguments.items()
        )
        and _ASKS_ALL.search(task) is not None
    )


_PROPER = re.compile(r"\b[A-Z][a-z]+(?:[ -](?:[A-Z][a-z]+|of|de|la))*[ -][A-Z][a-z]+\b")
# a named place or group the task scopes to: "the Oak Court tenants", "Harbor View residents", "Elm Street"
_GROUP_AFTER = re.compile(
    r"^'?s?\s+(tenants|residents|customers|clients|employees|staff|members|students|users|accounts|units|"
    r"stores?|branch|site|office|team|region|building|property|leases|owners|subscribers|parents)\b",
    re.I,
)
_PLACE_WORDS = frozenset("court street road avenue building campus plaza park tower hall estate".split())


# whose the object is: a title and surname ("Mr Dawson's hedge job", "Mrs Patel rang") or a possessive name
_OWNER = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.? ([A-Z][a-z]+)\b|\b([A-Z][a-z]+(?: [A-Z][a-z]+)?)'s\b"
    # a title of another language, and the name after it ("Herrn Thomas Müller", "Mme Dubois", "Sra. Ruiz")
    r"|\b(?:Herrn?|Frau|Mme|Madame|Monsieur|Mlle|Sr|Sra|Señora?|Dhr|Mevr|Sig|Signora?|Sra)\.? "
    r"([A-ZÄÖÜÉÈÁÍÓÚÑ][^\W\d_]+(?: [A-ZÄÖÜÉÈÁÍÓÚÑ][^\W\d_]+)?)"
    # … or the owner in a Dutch or German possessive ("de bestelling van Harbor Bistro", "von Frau …")
    r"|\b(?:van|von) (?!der\b|den\b|dem\b|het\b|de\b|Herrn?\b|Frau\b|Dhr\b|Mevr\b|mevrouw\b|meneer\b)"
    r"([A-ZÄÖÜÉÈÁÍÓÚÑ][^\W\d_]+(?: [A-ZÄÖÜÉÈÁÍÓÚÑ][^\W\d_]+)?)"
)


def owners_named(text: str) -> list[str]:
    """People the task names as the owner of its object: by title and surname, or in the possessive."""
    matches = [
        m for m in _OWNER.finditer(text[:2000]) if next(g for g in m.groups() if g).lower() not in _NOT_OWNERS
    ]
    # (with an owner in the possessive, a person named by title only is someone else: "refund Emma Schultz's
    # March tuition, her lessons were cancelled when Mr. Okoro was off sick")
    owning = [m for m in matches if m.group(2) or text.startswith("'s", m.end())]
    return list(dict.fromkeys(next(g for g in m.groups() if g) for m in owning or matches))


# days and months own reports, not objects; "Let's", "Here's", "It's" are contractions ('s: us, is)
_NOT_OWNERS = frozenset(
    "today tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday january february "
    "march april may june july august september october november december let here there that what who "
    "where it he she this everyone everybody someone nobody nothing".split()
)


def scoped_groups(text: str) -> list[str]:
    """Named places or groups a task scopes its act to: two or more capitalised words that name a place
    ("Oak Court", "Elm Street") or are followed by whom they hold ("the Harbor View tenants")."""
    return list(_scoped_groups(text))  # a new list: callers extend it


@functools.lru_cache(maxsize=256)  # asked of the session's task at every change it makes
def _scoped_groups(text: str) -> tuple[str, ...]:
    text = text[:2000]
    found = [
        m.group(0)
        for m in _PROPER.finditer(text)
        if m.group(0).split()[-1].lower() in _PLACE_WORDS or _GROUP_AFTER.match(text[m.end() : m.end() + 20])
    ]
    return tuple(dict.fromkeys(found))[:8]


_RESOURCE_NOUNS = (
    r"(namespace|cluster|bucket|repo|repository|service|database|db|table|project|branch|queue|topic|index|"
    r"channel|group|team|collection|environment|env|folder|schema|deployment|job|dag|host|server|site)"
)
_RESOURCE_NAME = re.compile(
    rf"\b([a-z0-9]+(?:[-_][a-z0-9]+)+)\s+{_RESOURCE_NOUNS}\b|\b{_RESOURCE_NOUNS}\s+([a-z0-9]+(?:[-_][a-z0-9]+)+)\b",
    re.I,
)


def resource_names(text: str) -> list[str]:
    """Hyphenated or snake_case names a task gives a resource by its kind ("the payments-sandbox
    namespace", "bucket raw_exports"): the one object the task is about."""
    return list(_resource_names(text))


@functools.lru_cache(maxsize=256)  # asked of the session's task at every change it makes
def _resource_names(text: str) -> tuple[str, ...]:
    names = (m.group(1) or m.group(4) for m in _RESOURCE_NAME.finditer(text[:2000]))
    # every part a word of three letters or more, or with a digit: "follow-up" is English, not a name
    return tuple(
        n for n in names if all(len(p) >= 3 or any(c.isdigit() for c in p) for p in re.split(r"[-_]", n))
    )[:8]


# (not "every other store stays at $3.65", "all other sites": the rest, which the task leaves alone)
MANY_ASKED = re.compile(
    r"(?i)\b(all|every|each|whole|entire)\b(?!\s+others?\b)"
    # … in the languages the readers know ("alle bonnen", "toutes les factures", "todas las reservas", "全て")
    # (not "allen" nor "elke": Allen and Elke are names too)
    r"|\b(alle|alles|sämtliche|jede[nrs]?|tous|toutes|chaque|todos|todas|cada|tutti|tutte|ogni|iedere?)\b"
    r"|全て|すべて|全部|所有|每"
)
# short ids read only beside the kind of thing they number: "slips B-14, B-22 and C-03", "bay A7", not "EC2",
# "S3", "UTF-8" or "CVE-2024"
_NUMBERED = (
    r"(?:slips?|units?|rooms?|bays?|berths?|stations?|lots?|gates?|docks?|apartments?|apts?|suites?|stalls?|"
    r"pumps?|wells?|lanes?|aisles?|racks?|shelf|shelves|zones?|wards?|beds?|lockers?|doors?|plots?|pitches?|"
    r"courts?|desks?|spaces?|spots?|stores?|branch(?:es)?|sites?|trucks?|vans?|vehicles?|blocks?|sections?|"
    r"wings?|buildings?|floors?|fields?|outlets?|circuits?|ports?|greenhouses?|tanks?|pens?|barns?|paddocks?|"
    r"kennels?|cages?|nodes?|tills?|registers?|kiosks?|pdus?)"
)
# "B-14", "A7", a bare number beside its kind ("Station 4", "Van 2"), or a capital letter beside it
# ("block C", "PDU A"; not "I")
_SHORT = r"(?:[A-Z]{1,3}-?)?\d{1,4}|[A-HJ-Z](?![\w-])"
_SHORT_IDS = re.compile(rf"(?i:\b{_NUMBERED})\s+({_SHORT}(?:\s*(?:,|and|&|or)\s*(?:{_SHORT}))*)\b")
# Japanese writes the kind straight before its number: "アウトレット7" (outlet 7), "ラック12" (rack 12)
_KATAKANA_SHORT = re.compile(r"([\u30A1-\u30FA\u30FC]{2,})\s?((?:[A-Z]{1,3}-?)?\d{1,4})(?!\d)")


_YEAR = re.compile(r"^(?:19|20)\d\d$")


def bare_short(short: str) -> bool:
    """A number or one letter that names nothing without its kind ("2" of "Van 2", "C" of "block C")."""
    return short.isdigit() or (len(short) == 1 and short.isalpha())


def short_ids(text: str) -> list[str]:
    """Short ids the task gives with the kind of thing they number ("slips B-14, B-22 and C-03")."""
    return list(_short_ids(text))


@functools.lru_cache(maxsize=256)  # asked of the session's task at every change it makes
def _short_ids(text: str) -> tuple[str, ...]:
    found = []
    for m in _SHORT_IDS.finditer(text[:2000]):
        kind = m.group(0).split()[0]  # a bare number keeps its kind: "Van 2" (a "2" alone names nothing)
        shorts = [i for i in re.findall(_SHORT, m.group(1)) if not _YEAR.match(i)]  # ("van 2024": of 2024)
        found += [f"{kind} {i}" if bare_short(i) else i for i in shorts]
    found += [f"{kind} {i}" for kind, i in _KATAKANA_SHORT.findall(text[:2000])]
    found += _RECORD_IDS.findall(text[:2000])
    return tuple(found)[:16]


# a record the task names by its number beside its kind ("Order 55120", "member 5521", "booking #8841"): the
# number alone is distinctive enough to look for in the call
_RECORD_IDS = re.compile(
    r"(?i:\b(?:order|member|customer|account|ticket|invoice|booking|reservation|case|employee|patient|client|"
    r"policy|claim|job|listing|shipment|contract|incident|backer|donor|tenant|student|patron|subscriber)s?)"
    r"\s+(?:no\.?\s*|number\s+)?#?(\d{3,9})\b"
)


# the values an SQL statement's WHERE compares with: quoted strings and bare numbers
_WHERE = re.compile(r"(?is)\bwhere\b(.{1,400})")
_WIDENING = re.compile(r"(?i)<>|!=|[<>]|\bnot\b|\bor\b|\blike\b|\bilike\b|\btrue\b|\bbetween\b")
_LITERAL = re.compile(r"'([^']{1,60})'|(?<![\w.])(\d{1,12})(?![\w.])")
_LIKE = re.compile(r"(?i)\b(?:i?like)\s+'([^']{1,60})'")
_NEGATED = re.compile(r"(?i)\bnot\s+(?:[\w.\"`]+\s+)?$")  # ``NOT LIKE``, ``NOT last_name LIKE``
_JOINS_MORE = re.compile(r"(?i)\bor\b|\btrue\b|\|\||\bnot\s*\(")  # (``NOT (… LIKE 'TEST-%' …)``)


def _given_pattern(pattern: str, task: str) -> bool:
    """A LIKE pattern written out in the task, with at least three characters besides its wildcards."""
    return len(pattern.strip("%_")) >= 3 and pattern.lower() in task


def where_named_by(arguments: dict[str, Any], task: str) -> bool:
    """Whether an SQL statement's WHERE compares only with values the task itself gives (``WHERE cycle =
    2018`` for "the records of cycle 2018"): the rows the task chose, however many they are; an SQL
    statement that empties the very table the task asks to empty (``TRUNCATE staging.tmp_import`` for
    "truncate the scratch table staging.tmp_import"); or a list no longer than a numbered range the task
    gives ("les pièces 1 à 6", "items 3-8")."""
    widest = max((int(b) - int(a) + 1 for a, b in _RANGE.findall(task) if int(b) > int(a)), default=0)
    if widest and any(isinstance(v, list) and 1 < len(v) <= widest for v in arguments.values()):
        return True
    lowered = task.lower()
    for key, value in arguments.items():
        # (the whole statement: a second table, a CASCADE or a statement after it empties more)
        sql = value[:4000] if SQL_KEY.match(str(key)) and isinstance(value, str) else ""
        table = _TABLE_OF.fullmatch(sql) if sql else None
        name = table.group(1).strip('"`').lower() if table else ""
        emptied = table is not None and _EMPTY.search(task)
        if emptied and len(name) > 3 and re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", lowered):
            return True
        if SQL_KEY.match(str(key)) and isinstance(value, str) and (where := _WHERE.search(value[:4000])):
            clause = where.group(1).split(";")[0]
            # a pattern the task itself gives ("delete the TEST-% records": ``LIKE 'TEST-%'``) chooses the
            # task's rows, and what is joined to it by AND only narrows them
            # (a comparison joined by AND narrows too: ``AND created_at >= '2025-11-03'``; an OR, a TRUE or a
            # NOT on the pattern itself does not)
            given = [
                m
                for m in _LIKE.finditer(clause)
                if _given_pattern(m.group(1), lowered) and not _NEGATED.search(clause[: m.start()])
            ]
            rest = _LIKE.sub(lambda m: " " if _given_pattern(m.group(1), lowered) else m.group(0), clause)
            if given and not _JOINS_MORE.search(rest):
                return True
            if _WIDENING.search(clause):
                return False  # (``<> 'dental'``, ``OR TRUE``, ``< 2021``: more than the values themselves)
            literals = [a or b for a, b in _LITERAL.findall(clause)]
            words = set(re.findall(r"[\w.-]+", task.lower()))
            return bool(literals) and all(v.lower() in words for v in literals)
    return False


# a numbered range ("1 to 6", "1 à 6", "3-8", "2 bis 5", "1 t/m 4")
# (not a piece of a date, a time or a phone number: "2024-03-08", "10:00-17:00", "555-123-4567")
_RANGE = re.compile(
    r"(?<![\d.:/-])\b(\d{1,3})\s*(?:-|\u2013|to|through|thru|à|a|bis|t/m|tot|al|até)\s*(\d{1,3})\b"
    r"(?![.:/-]?\d)",
    re.I,
)
# the one table a statement empties (``TRUNCATE TABLE staging.tmp_import``), and a task that asks to empty one
_TABLE_OF = re.compile(
    r"(?is)\s*truncate(?:\s+table)?\s+(?:only\s+)?([\w.\"`]+)(?:\s+(?:restart|continue)\s+identity)?\s*;?\s*"
)
_EMPTY = re.compile(r"(?i)\b(truncate|empty|clear|wipe|leeg|leegmaken|vider|vaciar|vacía|leeren|svuota)\b")
_RECORD_ID = re.compile(r"^(?=\S*\d)[^\s-][^\s]{0,63}$")
# lists of figures, not of records: ``amounts: [400, 350, 250]`` of one invoice's instalments, or dates
_NOT_RECORDS = re.compile(
    r"(?i)(amount|price|fee|cost|total|sum|value|qty|quantity|quantities|count|percent|share|weight|size|"
    r"date|day|hour|time|month|year|period)s?$"
)


def listed_beyond_named(arguments: dict[str, Any], task: str) -> list[str]:
    """A list argument of three or more records (``units: [1A, 2C, 4B, …]``) of which the task named just
    one by its id ("Unit 4B … post the late fee"; "unit 4b" too), in a task that asks for no "all" or
    "each"."""
    if MANY_ASKED.search(task):
        return []
    for key, value in arguments.items():
        items = sorted({str(v) for v in value if isinstance(v, str | int)} if isinstance(value, list) else ())
        # (records' ids, each with a digit: not a command's words, ``["delete", "namespace", "pr-212"]``)
        if len(items) < 3 or _NOT_RECORDS.search(str(key)) or not all(_RECORD_ID.match(i) for i in items):
            continue
        named = [i for i in items if re.search(rf"(?i)(?<![\w-]){re.escape(i)}(?![\w-])", task)]
        if len(named) == 1:
            return items
    return []


# an identifier named as where the approval or the request is recorded ("it's in ticket IT-5521", "under
# CHG-5581", "per RFC-881"): the paperwork of the act, not what it acts on ("on web-07" is a place)
_RECORD = r"(?:ticket|change|request|case|issue|approval|record|rfc|cr)\s+"
_REFERENCE = re.compile(
    rf"(?i)\b(?:(?:under|per|see)\s+(?:the\s+)?(?:{_RECORD})?|(?:in|from|via)\s+(?:the\s+)?{_RECORD})"
    r"#?([\w-]*\d[\w-]*)"
)


# the agreement, contract or approval a request is made under, by its id in brackets ("under our data-sharing
# agreement with the university's study (DSA-2024-11)"): the authority for the act, not what it acts on
_AUTHORITY = re.compile(
    r"(?i)\b(?:under|per|pursuant\s+to|according\s+to|as\s+agreed\s+in)\s+(?:our|the|their|its)?\s*"
    r"(?:[\w-]+\s+){0,3}?(?:agreement|contract|dsa|nda|mandate|licen[cs]e|approval|authori[sz]ation)\b"
    r"[^().,;:\n]{0,80}?\(\s*#?([\w-]*\d[\w-]*)\s*\)"  # (in its own clause: not "…, delete meter (M-1)")
)


def references(text: str) -> frozenset[str]:
    """Identifiers the text names only as a record of the request, lower-cased (one it also names
    otherwise, "close IT-5521, it's in ticket IT-5521", is left out)."""
    cited = [m.group(1).lower() for pattern in (_REFERENCE, _AUTHORITY) for m in pattern.finditer(text)]
    lowered = text.lower()
    return frozenset(
        c for c in cited if len(re.findall(rf"(?<![\w-]){re.escape(c)}(?![\w-])", lowered)) == cited.count(c)
    )


def still_named(name: str, text: str, raw: str) -> bool:
    """Whether the call's selection (``text``: plain; ``raw``: as written) names the object: a short id
    beside its kind ("pump 7", "block C") by its number or letter standing alone (``pump_id = 7``, ``zones:
    ['C']``; the kind's word in ``pump_prices`` names no pump), any other by its longer words."""
    kind, _, short = name.rpartition(" ")
    if kind and bare_short(short):
        own = rf"(?i:{re.escape(kind)}[\s_-]?{short})"  # (written onto its own kind: ``pump7``, ``block_c``)
        if short.isdigit():  # (in a name too: ``pump-7``, ``captures_2024``; not in 3.799, 17 or r12)
            return re.search(rf"(?<![A-Za-z\d.])(?:{own}|{short})(?!\d|\.\d)", raw) is not None
        return re.search(rf"(?<![\w.])(?:{own}|{short})(?![\w.])", raw) is not None
    # (a word in another script has no plain letters: it names nothing here, "ケージ" of "ケージ C4")
    words = [plain(w) for w in name.split() if len(w) > 2] or [plain(name)]
    return any(w and w in text for w in words)
