"""Tasks in other languages: which acts a French, German, Spanish, Portuguese, Italian or Dutch task asks for.

The intent reader (``intent.py``) reads English grammar: an imperative first in a clause, a generic verb
and its object. A task in another language ("Envoie la grille tarifaire à Mme Chan", "Bitte lade die
Bescheinigungen hoch") read that way implies nothing but reading, so the user's own request looks off task.
This reader finds the language by its words (a word several languages share counts less), then the verbs
of that language's table (``data/languages.yml``, data a detection engineer can extend), each read as the
English lexicon word that means the same; it also tells whether the task asks for an answer and which
verbs it rules out ("nicht löschen", "no borres"). Coarser than the English reader on purpose: in German
and Dutch a verb implies its act wherever it stands (the infinitive comes last); in the Romance languages,
whose imperative is also the third person ("supprime": delete!, or it deletes), an infinitive counts
anywhere and another form only first in a clause; forms that are common nouns too count only there.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TABLE = Path(__file__).with_name("data") / "languages.yml"
# words, and the breaks that start a clause; letters of any script, apostrophes split ("l'agence")
_WORDS_AND_BREAKS = re.compile(r"[^\W\d_]+|[.!?;:\n,()]")
_BREAKS = frozenset(".!?;:\n,()")
# pronouns Spanish and Italian join to a verb ("envíala", "bórralo", "mandaglielo"), longest first
_CLITICS = ("selos", "selas", "glielo", "gliela", "selo", "sela", "melo", "mela", "telo", "noslo", "los",
            "las", "les", "nos", "gli", "lo", "la", "le", "me", "te", "se", "li", "ne", "mi",
            "ci")  # fmt: skip
_NEGATION_REACH = 3  # words from a negation to the verb it rules out ("ne supprime pas", "no lo borres")


@functools.lru_cache(maxsize=1 << 16)  # texts repeat their words: each is folded once
def fold(word: str) -> str:
    """A word without case or accents ("Lösche" -> "losche"), as the table is keyed."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Language:
    name: str
    function: frozenset[str]
    verbs: dict[str, str]  # form -> English lexicon word, wherever it stands
    leading: dict[str, str]  # form -> English word, first in a clause only
    answers: frozenset[str]
    polite: frozenset[str]
    negations: frozenset[str]
    joins: frozenset[str]
    particles: frozenset[str]  # a separated prefix that makes its clause's verb another ("lade … herunter")
    # endings of the infinitives of a language whose imperative is also its third person ("supprime",
    # "borra"): there only an infinitive implies its act anywhere; empty: every form does (German, Dutch)
    infinitives: tuple[str, ...]
    many: frozenset[str] = frozenset()  # words by which a task speaks of several things ("les", "todos")
    plurals_unseen: bool = False  # its plural nouns look singular: a task in it never asks about one
    requests: frozenset[str] = frozenset()  # words by which content asks its reader ("veuillez", "wilt")
    nouns: dict[str, str] = field(default_factory=dict)  # a noun of an act -> English word, anywhere
    access: frozenset[str] = frozenset()  # nouns of access ("Rolle", "acceso"): an act on one grants
    # endings a negated imperative adds to a polite form ("no cancele" -> "no canceles"): after a negation, a
    # form with one of them is the verb of the form without it
    negated: tuple[str, ...] = ()
    # endings of a form that is a request wherever no subject stands before it (French "ajoutez", "payez":
    # "vous ajoutez" says what someone does)
    imperatives: tuple[str, ...] = ()
    subjects: frozenset[str] = frozenset()
    # forms that are only ever an order (Italian "scrivi", "rispondi": no statement uses them), and the words
    # after "write" that make it a letter to someone ("ai", "à", "an")
    commands: frozenset[str] = frozenset()
    datives: frozenset[str] = frozenset()
    # words after which an infinitive describes a thing, not an act asked ("da chiudere": to be closed)
    describing: frozenset[str] = frozenset()
    # its plural imperatives made from the infinitives ("pagate"), which are its past participles too ("le
    # fatture pagate"): an order only where an object follows, not before a break, "e" or "non"
    plural_forms: frozenset[str] = frozenset()

    def words(self) -> frozenset[str]:
        """Every word the table knows of this language: the evidence that a text is in it."""
        return self.function | self.verbs.keys() | self.leading.keys() | self.answers | self.nouns.keys()


def _forms(table: dict[str, list[str]] | None) -> dict[str, str]:
    return {fold(form): english for english, forms in (table or {}).items() for form in forms}


# English verbs of software work that Dutch and German take as they are, with their own infinitive ending
# ("rebasen", "force-pushen", "deployen", "committen"): a language's ``loans`` gives the endings
_LOAN_VERBS = """push pull merge rebase deploy commit upload download reset restart install update share post
    mail delete cancel patch release sync forward print scan""".split()


def _plurals(forms: dict[str, str], endings: dict[str, str] | None) -> dict[str, str]:
    """The plural imperatives a language makes from its infinitives (Italian "sostituire": "sostituite"),
    for the verbs the table lists; they count where any non-infinitive form does (first in a clause)."""
    return {
        form[: -len(ending)] + plural: english
        for form, english in forms.items()
        for ending, plural in (endings or {}).items()
        if form.endswith(ending)
    }


def _loans(endings: list[str] | None) -> dict[str, str]:
    forms: dict[str, str] = {}
    for verb, ending in ((v, e) for v in _LOAN_VERBS for e in endings or ()):
        stem = verb[:-1] if verb.endswith("e") and ending.startswith("e") else verb
        forms[stem + ending] = verb
        if verb[-1] in "tp" and verb[-2] in "aeiou":  # "committen", "resetten"
            forms[verb + verb[-1] + ending] = verb
    return forms


@functools.cache
def languages() -> tuple[Language, ...]:
    """The table, loaded once."""
    raw = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return tuple(
        Language(
            name,
            frozenset(fold(w) for w in spec.get("function", [])),
            {
                **_loans(spec.get("loans")),
                **_plurals(_forms(spec.get("verbs")), spec.get("plurals")),
                **_forms(spec.get("verbs")),
            },
            _forms(spec.get("leading")),
            frozenset(fold(w) for w in spec.get("answers", [])),
            frozenset(fold(w) for w in spec.get("polite", [])),
            frozenset(fold(w) for w in spec.get("negations", [])),
            frozenset(fold(w) for w in spec.get("joins", [])),
            frozenset(fold(w) for w in spec.get("particles", [])),
            tuple(spec.get("infinitives", [])),
            frozenset(fold(w) for w in spec.get("many", [])),
            bool(spec.get("plurals_unseen", False)),
            frozenset(" ".join(fold(w) for w in phrase.split()) for phrase in spec.get("requests", [])),
            _forms(spec.get("nouns")),
            frozenset(fold(w) for w in spec.get("access", [])),
            tuple(spec.get("negated", [])),
            tuple(spec.get("imperatives", [])),
            frozenset(fold(w) for w in spec.get("subjects", [])),
            frozenset(fold(w) for w in spec.get("commands", [])),
            frozenset(fold(w) for w in spec.get("datives", [])),
            frozenset(fold(w) for w in spec.get("describing", [])),
            frozenset(
                _plurals(_forms(spec.get("verbs")), spec.get("plurals")).keys() - _forms(spec.get("verbs"))
            ),
        )
        for name, spec in raw.items()
    )


@dataclass(frozen=True)
class Reading:
    """What a task in another language asks: (word as written, English word) for every act, whether it
    asks for an answer, and the English words of the acts it rules out."""

    language: str
    acts: tuple[tuple[str, str], ...] = ()
    asks: bool = False
    ruled_out: tuple[str, ...] = ()


def _verb(word: str, table: dict[str, str]) -> str | None:
    """The English word of a form, or of the form without a joined pronoun ("envíala": envía)."""
    if word in table:
        return table[word]
    for clitic in _CLITICS:
        if word.endswith(clitic) and len(word) - len(clitic) >= 4 and word[: -len(clitic)] in table:
            return table[word[: -len(clitic)]]
    return None


def _negated_verb(word: str, language: Language) -> str | None:
    """The verb of a negated imperative the table lists by its polite form only ("canceles": "cancele")."""
    return next(
        (
            english
            for ending in language.negated
            if word.endswith(ending) and (english := _verb(word[: -len(ending)], language.verbs))
        ),
        None,
    )


@functools.cache
def _weights() -> dict[str, dict[str, float]]:
    """Per language, how much each of its words says the text is in it: a word of several languages
    ("la", "que", "de") says less."""
    shared: dict[str, int] = {}
    for language in languages():
        for word in language.words():
            shared[word] = shared.get(word, 0) + 1
    return {lang.name: {w: 1 / shared[w] for w in lang.words()} for lang in languages()}


def foreign_weight(text: str) -> float:
    """How much of the text is words of the table's likeliest language (0 when none appear)."""
    pieces = [fold(p) for p in _WORDS_AND_BREAKS.findall(text[:2000]) if p not in _BREAKS]
    return max(_scores(pieces), key=_weight)[0] if pieces else 0.0


def language_of(text: str) -> Language | None:
    """The table's likeliest language of the text; None when none of its words appear."""
    return _language_of([fold(p) for p in _WORDS_AND_BREAKS.findall(text[:2000]) if p not in _BREAKS])


def _language_of(pieces: list[str]) -> Language | None:
    """The table's language whose words weigh most in the text; None when none of them appear."""
    best, language = max(_scores(pieces), key=_weight)
    return language if best > 0 else None


def _weight(scored: tuple[float, Language]) -> float:
    return scored[0]


def _scores(pieces: list[str]) -> list[tuple[float, Language]]:
    if not pieces:
        return [(0, lang) for lang in languages()]
    # one column of weights per language, summed in the text's order (the same sums, word by word)
    columns = zip(*(_word_weights(p) for p in pieces), strict=True)
    return [(sum(column), lang) for column, lang in zip(columns, languages(), strict=True)]


@functools.lru_cache(maxsize=1 << 16)  # a word's weights are looked up once, not once per text
def _word_weights(word: str) -> tuple[float, ...]:
    """How much one folded word says a text is in each of the table's languages, in the table's order."""
    weights = _weights()
    row = []
    for lang in languages():
        weight = weights[lang.name].get(word)
        # (a verb with a joined pronoun, "mándale", is as much the language's as the verb)
        row.append(weight if weight is not None else 1.0 if _verb(word, lang.verbs) else 0.0)
    return tuple(row)


_GENERIC_CHANGES = frozenset({"change", "modify", "alter", "touch", "edit", "update"})
_NOTHING = frozenset("nada nothing rien nichts niets niks niente nulla nic".split())
_ELSE = frozenset("verder sonst ansonsten weiter altro autre otra otro outra outro anders else mais".split())


@functools.lru_cache(maxsize=1024)
def read_foreign(text: str) -> Reading | None:
    """The reading of a task in one of the table's languages; None when no language's function words
    appear at all."""
    if (unspaced := read_unspaced(text)) is not None:
        return unspaced
    original = _WORDS_AND_BREAKS.findall(text[:2000])
    pieces = [p if p in _BREAKS else fold(p) for p in original]
    language = _language_of(pieces)
    if language is None:
        return None
    acts: list[tuple[str, str]] = []
    # acts named by a noun ("le paiement"), with their clause: asked unless the task asks a question
    nouns: list[tuple[int, str, str]] = []
    acted: set[int] = set()  # the clauses with an act's verb
    clause = 0
    ruled_out: list[str] = []
    asks, leading, since_negation, clause_acts = False, True, _NEGATION_REACH + 1, 0
    for index, (word, written) in enumerate(zip(pieces, original, strict=True)):
        if word in _BREAKS:
            leading, since_negation, clause_acts = True, _NEGATION_REACH + 1, len(acts)
            clause += 1
            continue
        english = _verb(word, language.verbs)
        if not english and since_negation <= _NEGATION_REACH:
            english = _negated_verb(word, language)  # "NO canceles nada": the polite "cancele" negated
        if english and not leading and written[:1].isupper() and not written.isupper():
            english = None  # a capital inside a clause is a noun or a name ("prüfe die Zahlen": numbers)
        if word in language.particles and len(acts) > clause_acts:
            acts.pop()  # "lade den Bericht herunter": a download, not the upload "lade" began
        if english and index and pieces[index - 1] in language.describing:
            english = None  # "l'ordine da chiudere entro le 18": the order to be closed, a thing described
        after = pieces[index + 1] if index + 1 < len(pieces) else "."
        if (
            english
            and word in language.plural_forms
            and after in _BREAKS | language.joins | language.negations
        ):
            english = None  # "le fatture di marzo, pagate e non pagate": the paid ones, a participle
        if english and since_negation <= _NEGATION_REACH:
            # (a change of something named limits that thing, which no verb can say: "NUNCA alterar pelo
            # despacho"; "no cambies nada" rules every change out)
            # ("verder niks aanpassen", "nichts ändern": the nothing stands before the verb)
            following = pieces[index + 1 : index + 3] + pieces[max(0, index - 3) : index]
            # ("verder niets aanpassen", "sonst nichts ändern": nothing *else*, which says where the task's
            # own change stops and rules no act out)
            generic = english in _GENERIC_CHANGES
            if not generic or (not _NOTHING.isdisjoint(following) and _ELSE.isdisjoint(following)):
                ruled_out.append(english)  # "ne supprime pas", "no borres", "nicht löschen"
            english = None
        if (
            english
            and not leading
            and language.infinitives
            and not word.endswith(language.infinitives)
            and word not in language.commands  # ("se il vento supera … scrivi ai clienti": only an order)
        ):
            english = None  # "le script supprime les fichiers": a statement, not an imperative
        if english == "write" and index + 1 < len(pieces) and pieces[index + 1] in language.datives:
            english = "message"  # "scrivi ai clienti", "écris à Marie": a letter to people
        english = english or (_verb(word, language.leading) if leading else None)
        if not english and word in language.nouns:
            nouns.append((clause, written, language.nouns[word]))
        if english:
            acts.append((written, english))
            acted.add(clause)
        asks = asks or (leading and word in language.answers)
        since_negation = 1 if word in language.negations else since_negation + 1
        leading = (
            leading and (word in language.polite or word in language.negations)
        ) or word in language.joins
        clause += word in language.joins
    # ("préparer le paiement" asks to pay; "vérifie si le paiement est arrivé" asks whether it arrived;
    # "verifica …, se for, emite uma nota de crédito" asks a question and an act: a noun in its clause counts)
    acts += [(written, english) for c, written, english in nouns if not asks or c in acted]
    return Reading(language.name, tuple(acts), asks, tuple(dict.fromkeys(ruled_out)))


UNSPACED_TABLE = Path(__file__).with_name("data") / "unspaced_languages.yml"
_HAN_OR_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MIN_UNSPACED = 4  # characters of the script before a text counts as written in it (not a name in kanji)


@dataclass(frozen=True)
class Unspaced:
    """A language written without spaces (Japanese, Chinese): its verbs are found as stems anywhere."""

    name: str
    script: re.Pattern[str] | None
    reach: int
    verbs: tuple[tuple[str, str], ...]  # (stem, English word), longest stem first
    answers: tuple[str, ...]
    negations_after: tuple[str, ...]
    negations_before: tuple[str, ...]
    requests: tuple[str, ...]
    not_marks: tuple[str, ...]  # words that hold a negation or a request word and are neither (分别, 申请)
    # nouns of acts (Korean 결제, 주문) that ask for the act only with a verb's ending after them
    # (결제해, 삭제 부탁): alone they name a thing ("결제 내역": the payment history; "삭제된 파일": the
    # deleted files)
    noun_stems: frozenset[str] = frozenset()
    endings: tuple[str, ...] = ()


@functools.cache
def unspaced_languages() -> tuple[Unspaced, ...]:
    raw = yaml.safe_load(UNSPACED_TABLE.read_text(encoding="utf-8"))
    return tuple(
        Unspaced(
            name,
            re.compile(spec["script"]) if spec.get("script") else None,
            int(spec.get("reach", 4)),
            tuple(
                sorted(
                    (
                        (s, e)
                        for part in ("verbs", "nouns")
                        for e, stems in spec.get(part, {}).items()
                        for s in stems
                    ),
                    key=_longest,
                )
            ),
            tuple(spec.get("answers", [])),
            tuple(spec.get("negations_after", [])),
            tuple(spec.get("negations_before", [])),
            tuple(spec.get("requests", [])),
            tuple(spec.get("not_marks", [])),
            frozenset(s for stems in spec.get("nouns", {}).values() for s in stems),
            tuple(spec.get("endings", [])),
        )
        for name, spec in raw.items()
    )


def _longest(pair: tuple[str, str]) -> int:
    return -len(pair[0])


def _spared(language: Unspaced, text: str) -> list[tuple[int, int]]:
    """Where the text holds a word that only contains a negation or a request word (识别: identify)."""
    return [m.span() for word in language.not_marks for m in re.finditer(re.escape(word), text)]


def _marked(marks: tuple[str, ...], text: str, lo: int, hi: int, spared: list[tuple[int, int]]) -> bool:
    """Whether one of the marks stands within text[lo:hi], not inside a word that is none."""
    return any(
        not any(a <= m.start() and m.end() <= b for a, b in spared)
        for mark in marks
        for m in re.compile(re.escape(mark)).finditer(text, max(0, lo), hi)
    )


def _unspaced_language(head: str) -> Unspaced | None:
    if len(_HAN_OR_KANA.findall(head)) < _MIN_UNSPACED:
        return None
    tables = unspaced_languages()
    scripted = next((t for t in tables if t.script is not None and t.script.search(head)), None)
    return scripted or next(
        (t for t in tables if t.script is None and any(stem in head for stem, _ in t.verbs)), None
    )


@functools.lru_cache(maxsize=1024)
def read_unspaced(text: str) -> Reading | None:
    """The reading of a task in Japanese or Chinese: every verb stem of the table is an act, unless a
    negation stands right after it (削除しないで: don't delete) or before it (不要删除); longer stems first,
    so 再起動 (restart) is not also 起動 (start)."""
    head = text[:2000]
    language = _unspaced_language(head)
    if language is None:
        return None
    spared = _spared(language, head)
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str, str]] = []
    ruled_out: list[str] = []
    for stem, english in language.verbs:
        for match in re.finditer(re.escape(stem), head):
            start, end = match.span()
            if any(a < end and start < b for a, b in taken):
                continue
            taken.append((start, end))
            negated = _marked(language.negations_after, head, end, end + language.reach, spared)
            before = start - language.reach
            negated = negated or _marked(language.negations_before, head, before, start, spared)
            ruled_out += [english] if negated else []
            if stem in language.noun_stems and not negated and not _ended(language, head, end):
                continue  # "결제 내역을 확인해": the payment history, a thing looked at
            found += [] if negated else [(start, stem, english)]
    acts = tuple((stem, english) for _, stem, english in sorted(found))
    asks = any(word in head for word in language.answers)
    # (a verb the task also asks for is limited only on an object, which this reader cannot name)
    ruled_out = [english for english in ruled_out if english not in {e for _, e in acts}]
    return Reading(language.name, acts, asks, tuple(dict.fromkeys(ruled_out)))


def _ended(language: Unspaced, text: str, end: int) -> bool:
    """Whether a verb's ending follows a noun of an act at ``end`` (삭제해, 환불 부탁), not another act's stem
    (결제 해지: the payment cancelled)."""
    rest = text[end:].removeprefix(" ")
    return any(rest.startswith(e) for e in language.endings) and not any(
        rest.startswith(stem) for stem, _ in language.verbs
    )


def foreign_requests(clause: str) -> tuple[str, ...]:
    """The English words of the acts a clause of outside content in another language asks its reader for
    ("wilt u de basis delen met …": share): read as a task is, but only where the clause holds one of its
    language's request words, since content that describes acts ("de factuur is verzonden") asks none."""
    reading = read_foreign(clause)
    if reading is None or not reading.acts:
        return ()
    unspaced = next((u for u in unspaced_languages() if u.name == reading.language), None)
    if unspaced is not None:  # (content in Japanese or Chinese asks where it says "please": ください, 请)
        asked = _marked(unspaced.requests, clause, 0, len(clause), _spared(unspaced, clause))
        return tuple(e for _, e in reading.acts) if asked else ()
    language = next(lang for lang in languages() if lang.name == reading.language)
    text = " " + " ".join(fold(w) for w in _WORDS_AND_BREAKS.findall(clause[:2000])) + " "
    asked = any(f" {phrase} " in text for phrase in language.requests)  # (phrases too: "por favor")
    asked = asked or any(
        fold(written).endswith(language.imperatives)
        and not any(f" {subject} {fold(written)} " in text for subject in language.subjects)
        for written, _ in reading.acts
    )
    if not asked:
        return ()
    acts = tuple(english for _, english in reading.acts)
    # an act on an access ("den Prüfzugang anlegen", "Rolle 'Data Export'"): a grant, compounds too
    on_access = any(w in language.access or w.endswith(_long(language.access)) for w in text.split())
    return (*acts, "grant") if on_access else acts


@functools.cache
def _long(nouns: frozenset[str]) -> tuple[str, ...]:
    return tuple(n for n in nouns if len(n) >= 6)  # the head of a compound ("Prüfzugang": zugang; not
    # "Kontrolle" for "rolle")


@functools.cache
def forms_meaning(*english: str) -> frozenset[str]:
    """Every language's (folded) verb forms that mean one of these English words ("borra", "supprime",
    "verwijder" for "delete"): for readers that look for a verb beside a name."""
    return frozenset(
        form
        for language in languages()
        for table in (language.verbs, language.leading)
        for form, meaning in table.items()
        if meaning in english
    )
