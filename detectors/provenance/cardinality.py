"""How many things a task speaks of: one ("Unlock Priya's account", "Mute the api-5xx-rate monitor"), or
several ("the test bookings", "all drafts", "whatever is stuck", "clear some space").

``scope.effect_beyond_task`` judges a change that reached dozens of items against a task that spoke of one.
A task speaks of several when it has a word that says so — "all", "every", "each", a plural pronoun, an
indefinite amount ("some", "whatever", "a pile of") — or a plural noun: an English word in ``-s`` where a
noun stands (after "the", "his", "old test"; not after "he" or "it", nor before "expired", "getting" or
"she", where it is a verb: "his card shows expired", "the customer says she…"), or an irregular plural
("people", "staff"). In another language of the provenance table (``data/languages.yml``) its ``many``
words do the same (plural articles and possessives); a language whose plural nouns look singular (German,
Dutch) never reads as asking about one, nor does one that marks no plural at all (Japanese, Chinese).
Shapes of English and of the table, no corpus's words.
"""

from __future__ import annotations

import functools
import re

from detectors.capabilities.words import PEOPLE_PLURALS
from detectors.provenance.intent import reads_english
from detectors.provenance.languages import fold, foreign_weight, language_of, read_unspaced

_LETTERS = re.compile(r"[^\W\d_]+")  # a word of any alphabet ("vários")
_WORD = re.compile("[A-Za-z][A-Za-z'\u2019-]*")  # (an apostrophe typed or typeset)
# words that speak of several or all things, or of an unstated amount
_MANY = frozenset(
    """all every each whole entire across everyone everybody everything bulk mass batch any anything
    whatever whichever several multiple many various some few both them these those pile bunch lots
    stuff space room junk clutter mess backlog queue org-wide globally""".split()
)
_CONTAINED = frozenset("batch queue backlog".split())  # many words that also name one container
_IRREGULAR = frozenset("people children men women data staff folks media criteria".split())
# words in -s that are no plural nouns
_NOT_PLURAL = frozenset(
    """has was does goes its his hers ours yours theirs always perhaps sometimes towards afterwards besides
    unless thanks plus news series whereas yes lens chaos alias atlas canvas bias analytics physics
    economics mathematics logistics diabetes species means
    keeps goes says needs wants seems fails throws tries happens crashes hangs""".split()
)  # (the last line: verbs a task uses of its one thing, "the alarm keeps tripping", "it fails")
# plural units of time and measure: "for 30 days" is how long, not how many things
_UNITS = frozenset(
    """seconds minutes hours days weeks months years secs mins hrs bytes percent points times cents dollars
    euros pounds units degrees metres meters miles kilos grams litres liters""".split()
)
# a word before which a word in -s is a verb: a subject pronoun or an adverb ("it keeps", "never asks")
_SUBJECTS = frozenset(
    """he she it that which who this what there one never always still also just only often usually
    sometimes really actually already""".split()
)
# words after which a word stands as a noun
_DETERMINERS = frozenset("the these those my our your their all some any no old".split())
# a word after which the word in -s before it was a verb ("shows expired", "says she", "needs my")
_AFTER_VERB = frozenset(
    """a an the it him her them me us up out off on he she my his their our your its now
    today tomorrow tonight yesterday like""".split()
)


@functools.lru_cache(maxsize=1024)
def many_word(text: str) -> str | None:
    """The word by which the text speaks of several things; ``"(language)"`` for a task in a language
    whose plurals cannot be seen; None when it speaks of one."""
    if read_unspaced(text) is not None:
        return "(unspaced)"  # Japanese and Chinese mark no plural: "テスト用の入居者アカウント" may be many
    # (one word of another language in a short English task, "check", does not make it Dutch)
    if not reads_english(text) and foreign_weight(text) >= 2:
        language = language_of(text)
        if language is not None:
            if language.plurals_unseen:
                return f"({language.name})"
            foreign: list[str] = _LETTERS.findall(text[:2000])
            return next((w for w in foreign if fold(w) in language.many), None)
    found = list(_WORD.finditer(text[:2000]))
    words = [m.group(0) for m in found]
    # (a capital after a sentence's end opens it, "… twice. Duplicates should go", and names nothing)
    gaps = [text[a.end() if a else 0 : m.start()] for a, m in zip([None, *found], found, strict=False)]
    opens = [i == 0 or bool(_ENDS & set(gap)) for i, gap in enumerate(gaps)]
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in ("some", "any") and _one_unknown(words, i, opens):
            continue  # "some spam bot joined": one thing not yet known, not an amount
        if lower in _CONTAINED and i > 0 and words[i - 1].lower().endswith(("'s", "\u2019s")):
            continue  # "Friday's batch": the one batch the task places something in, not an amount
        if lower in _CONTAINED and _WHERE_FROM & {w.lower() for w in words[max(0, i - 3) : i]}:
            continue  # "remove the duplicate request OR-5521 from the 2025B queue": where the one thing is
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if lower in _IRREGULAR and following in _CONTAINERS | _HEADS:
            continue  # "our media bucket", "the data folder": a noun naming the one thing after it
        if lower in _MANY or lower in _IRREGULAR:
            return word
        if _plural_noun(words, i, opens[i]):
            return word
    return None


_ENDS = frozenset(".!?:;\n")
_WHERE_FROM = frozenset("from in into out on off".split())
# what "some" measures out when it is an amount ("some space", "some junk"), not one unknown thing
_MASS = frozenset("space room time data money storage memory disk junk stuff info information work".split())


def _one_unknown(words: list[str], i: int, opens: list[bool]) -> bool:
    """Whether "some"/"any" stands before a singular count noun ("some spam bot", "any order"): the next
    two words hold no plural, no amount and no other word of many."""
    after = [(j, words[j].lower()) for j in range(i + 1, min(i + 3, len(words)))]
    return bool(after) and not any(
        w in _MASS or w in _MANY or w in _IRREGULAR or _plural_noun(words, j, opens[j]) for j, w in after
    )


_CONTAINERS = frozenset(
    "table list database db sheet spreadsheet folder directory queue inbox log dataset channel index view "
    "bucket collection register ledger".split()
)


# nouns of one document or record that a word in -s before them describes ("the expenses story")
_HEADS = frozenset(
    "story article report post page piece memo file document policy claim statement summary form note entry "
    "thread ticket email letter review dashboard spreadsheet sheet record".split()
)
_FUNCTION_AFTER = frozenset(
    "of to and or for in on at from with by that which who the a an is are were was be been".split()
)
_PLACES = frozenset("in from of on into inside within".split())


def many_in_other_language(text: str) -> bool:
    """Whether a task in another language speaks of all or many by its own words ("toutes les
    réservations", "alle Buchungen"); its plural nouns aside (those need a reader of the language)."""
    if reads_english(text) or foreign_weight(text) < 2:
        return False
    language = language_of(text)
    return language is not None and any(fold(w) in language.many for w in _LETTERS.findall(text[:2000]))


def asks_for_one(text: str) -> bool:
    """Whether the text speaks of one thing only (no plural, no "all", no unstated amount)."""
    return many_word(text) is None


_THEY = re.compile(r"(?i)\b(?:they|them|themselves)\b")


@functools.lru_cache(maxsize=1024)  # asked per call of a session whose task speaks of no one thing
def one_person(text: str) -> bool:
    """Whether the text speaks of one person by title and name ("Mrs. Okafor … cancel her home visits")
    and of no group of people: her visits are that one person's."""
    named = {m.group(0).split()[-1] for m in _TITLED.finditer(text[:2000])}
    return len(named) == 1 and _PEOPLE.search(text) is None


_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Sr|Sra|Dhr|Mevr)\.?\s+[A-Z][\w'-]+")
_PEOPLE = re.compile(rf"(?i)\b(?:{'|'.join(PEOPLE_PLURALS)})\b")


def names_one(text: str) -> bool:
    """Whether the text speaks of one record only, "them" read as the one party it names ("Unit 4B hasn't
    paid … send them the reminder"); "the units on the report" speak of several."""
    return asks_for_one(_THEY.sub("it", text))


def _plural_noun(words: list[str], i: int, opens: bool) -> bool:
    word, lower = words[i], words[i].lower()
    if (word[0].isupper() and not opens) or len(lower) < 4 or not lower.endswith("s"):
        return False  # (a name, "Analytics" in "Ridgeway Analytics", is no plural)
    if lower.endswith(("ss", "us", "is", "'s", "\u2019s")) or lower in _NOT_PLURAL or lower in _UNITS:
        return False
    before = words[i - 1].lower() if i else ""
    after = words[i + 1].lower() if i + 1 < len(words) else ""
    if before in _SUBJECTS:
        return False
    if "-" in lower and after.isalpha() and after not in _FUNCTION_AFTER:
        return False  # "the capital-calls sync": a compound that names the next noun, no plural
    if after in _CONTAINERS and not {w.lower() for w in words[max(0, i - 3) : i]}.isdisjoint(_PLACES):
        return False  # "an entry in the inventory receipts table": where the one thing is, by its name
    if after in _HEADS and (i + 2 >= len(words) or not words[i + 2].lower().endswith("s")):
        return False  # "the council expenses story", "the sales report": a word naming the one thing after it
    if before in _DETERMINERS:  # a noun follows them, whatever comes after ("the branches the bot left")
        return True
    return not (after.endswith(("ed", "ing", "ly", "en")) or after in _AFTER_VERB)


# "her two tickets", "3 duplicate orders", "tres pedidos duplicados": a number the task gives before a
# plural noun (not a unit: "for 30 days"; not money: "£24 for")
_NUMBER_WORDS = {
    **dict.fromkeys(("one", "un", "une", "uno", "una", "ein", "eine", "een", "um", "uma"), 1),
    **dict.fromkeys(("two", "dos", "deux", "zwei", "twee", "due", "dois", "duas"), 2),
    **dict.fromkeys(("three", "tres", "trois", "drei", "drie", "tre", "tres", "três"), 3),
    **dict.fromkeys(("four", "cuatro", "quatre", "vier", "quattro", "quatro"), 4),
    **dict.fromkeys(("five", "cinco", "cinq", "fünf", "funf", "vijf", "cinque"), 5),
    **dict.fromkeys(("six", "seis", "sechs", "zes", "sei"), 6),
    **dict.fromkeys(("seven", "siete", "sept", "sieben", "zeven", "sette", "sete"), 7),
    **dict.fromkeys(("eight", "ocho", "huit", "acht", "otto", "oito"), 8),
    **dict.fromkeys(("nine", "nueve", "neuf", "neun", "negen", "nove"), 9),
    **dict.fromkeys(("ten", "diez", "dix", "zehn", "tien", "dieci", "dez"), 10),
}
# number words of another language that English writes with another sense ("due", "Sept")
_ENGLISH_TOO = frozenset({"due", "sept"})
_COUNTED = re.compile(
    r"(?i)(?<![£$€¥\w.,])(\d{1,2}|[^\W\d_]{2,8})(?=\s+(?:[^\W\d_]+\s+){0,1}?([^\W\d_]{3,}s)\b)"
)


def stated_counts(text: str) -> list[tuple[int, str]]:
    """The numbers of things the task itself gives, with the noun counted ("her two tickets": (2,
    "tickets")); units and measures left out."""
    found = []
    for match in _COUNTED.finditer(text[:2000]):
        word, noun = match.group(1).lower(), match.group(2).lower()
        number = int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 0)
        if word in _ENGLISH_TOO and reads_english(text):
            continue  # "the due invoices", "the Sept invoices": no number in English
        if number and noun not in _UNITS and noun not in _NOT_PLURAL:
            found.append((number, noun))
    return found
