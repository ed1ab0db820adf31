"""Where a session's values came from: the task and the user's turns (trusted), or outside content.

The engine keeps one :class:`Provenance` per session (in the session's context, so it is saved and restored
with it) and feeds it every event after the detectors have seen it: a task or a user turn *trusts* the
values it names and widens the intent; a tool result that carries outside content *taints* the values it
brings, remembering which event brought them and how much that content addressed the agent; reading a
secret is remembered for the data-flow detector. A read of a file or page the user's own text pointed at
("the task is in /instruction/task.md") counts as trusted input, not outside content.

Everything is bounded (:data:`MAX_TAINTED`, :data:`MAX_TRUSTED`, :data:`MAX_SOURCES`): a long session keeps
the most telling values (e-mail addresses, IBANs and URLs before names and paths) and the newest sources.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from detectors.capabilities.paths import is_local_host
from detectors.capabilities.selection import plain
from detectors.memo import by_arguments
from detectors.provenance.addressing import Addressing
from detectors.provenance.intent import CASE_OBJECTS, Intent, intent_of, reads_english, requests_of
from detectors.provenance.languages import read_foreign
from detectors.provenance.ranges import spelled_ranges
from detectors.provenance.tokens import (
    amount_token,
    amounts_in,
    names_in,
    rank,
    tokens_of,
    tool_key,
    tool_names_in,
    value_tokens,
)
from detectors.state_form import Chain, Form
from schemas.types import Capability as C

# a file the task hands the agent over to by its path from the project's root ("Follow docs/runbooks/
# rotate.md", "per ops/upgrade.md"); a file the task only names as the place of work ("fix the bug in
# src/api/list.ts") is not the user's instructions
# a document the task hands over by its quoted title: "follow the "Rotate archive uploader keys" runbook",
# "run through the "Quarterly close" doc … step by step"
_HANDED_TITLE = re.compile(
    r"(?i)\b(?:follow|run\s+through|go\s+through|work\s+through|per|according\s+to|use"
    # (… and following in the languages tasks most often come in besides: "Volg het runbook "…"")
    r"|volg|folge|befolge|sigue|siga|suis|suivez|segui|siga)\s+"
    r"(?:the\s+|our\s+|my\s+|het\s+|de\s+|das\s+|die\s+|den\s+|dem\s+|el\s+|la\s+|le\s+|il\s+|o\s+)?"
    # ("follow the Confluence runbook "…"": where it is kept and what it is; not "follow up on "…"")
    r"(?:(?:confluence|notion|wiki|sharepoint|drive|google|runbook|doc|document|page|checklist|guide|playbook|"
    r"procedure|sop|process)\s+){0,2}"
    # (French and German quotes too: « Clôture annuelle », „Jahresabschluss“)
    r"(?:[\"\u201c\u201e]|\u00ab\s?)([^\"\u201c\u201d\u201e\u00ab\u00bb\n]{4,100}?)(?:[\"\u201d\u201c]|\s?\u00bb)"
)
_FOLLOWED_FILE = re.compile(
    r"(?i)\b(?:follow(?:\s+the\s+(?:steps|instructions|runbook|checklist|guide|playbook|procedure)\s+(?:in|at))?"
    r"|(?:steps|instructions)\s+in"
    r"|according\s+to|described\s+in)\s+((?<![\w/.~-])[\w-]+(?:/[\w.-]+)+\.[A-Za-z]\w{0,5})\b"
)
# … or a page of procedures by its path in a wiki, without an extension ("using the runbook at
# OT/Runbooks/Historian-Failover-Test")
_FOLLOWED_PAGE = re.compile(
    r"(?i)\b(?:runbook|playbook|procedure|checklist|guide|sop|instructions|steps)\s+(?:at|in|on|under)\s+"
    r"(?:(?:the\s+)?(?:wiki|confluence|notion|sharepoint)\s+)?"  # ("the runbook at wiki RideOps/…")
    r"((?<![\w/.~-])[\w-]+(?:/[\w-]+){1,6})(?![\w/-]|\.\w)"
)
# a procedure document the task hands the agent over to by the id it gives in the same sentence ("Follow
# the IROPS reserve callout runbook (IROPS-RSV-01)", "run playbook PB-12", "führe das Runbook … aus
# (ops/pumpwerk-2-failover)"): its text is the user's instructions. A sentence that only names a runbook
# without a verb of carrying it out ("the runbook RB-7 is out of date") hands nothing over, and an id is the
# runbook's only beside the runbook's noun or the verb: in "work through ticket SUP-2231 using the refunds
# playbook" the ticket is what the playbook is used on, its text still outside content.
_PROCEDURES = frozenset(
    "runbook runbooks playbook playbooks procedure procedures sop sops checklist checklists".split()
)
_CARRYING_OUT = frozenset(
    "follow run execute perform do complete carry work go use action "
    # … and the imperatives of following or running in the languages tasks most often come in besides
    "volg voer folge befolge führe fuhre sigue siga ejecuta ejecute suis suivez exécute exécutez segui "
    "esegui executa execute".split()
)
# what the procedure is run on starts here ("… runbook (RB-12) for STS-04": the crane is no document)
# a path of some length: a folder, then a file name with an extension (``IT/Runbooks/Staff leaver.docx``)
_WRITTEN_PATH = re.compile(r"^(?=.{8,200}$)[^\n]*/[^/\n]*\.[A-Za-z0-9]{2,5}$")
_NAMED_BEFORE = re.compile(r"((?:[A-Z][\w&'-]*\s+){1,5})(?:runbook|playbook|procedure|checklist|SOP)\b")
_NAMED_AFTER = re.compile(
    r"(?i)\b(?:runbook|playbook|procedure|procédure|procedimiento|procedimento|checklist|sop)\s+"
    r"(?:de|del|da|do|du|des|di|della|van|von)\s+([^\W\d]{4,}(?:\s+[^\W\d]{4,})?)"
)
# "per the runbook", "according to the playbook", "conforme o playbook", "selon la procédure": handed over
_ACCORDING_TO = re.compile(
    r"(?i)\b(?:per|according\s+to|as\s+described\s+in|conforme|segundo|seg[uú]n|selon|gem[aä]ß|volgens"
    r"|secondo)\s+(?:\S+\s+){0,3}?(?:runbooks?|playbooks?|procedures?|procédures?|sops?|checklists?)\b"
)
_APPLIED_TO = re.compile(r"(?i)\b(?:for|voor|für|fur|para|pour|against)\b")
# a title given in quotes, double or single ("the runbook 'STS PLC firmware rollback'"; not an apostrophe)
_QUOTED = re.compile(
    r"(?:^|(?<=[\s(:]))(?:[\"\u201c\u201e'\u2018]|\u00ab\s?)([^\"\u201c\u201d\u201e'\u2018\u2019\u00ab\u00bb\n]{4,100}?)"
    r"(?:[\"\u201d\u201c'\u2019]|\s?\u00bb)(?!\w)"
)
_BRACKETED = re.compile(
    r"(?i)\b(?:runbooks?|playbooks?|procedures?|sops?|checklists?)(?:\s+(?:in|on|at)\s+\w+)?\s*\(([^()\n]{3,80})\)"
)
_SENTENCE_ENDS = re.compile(r"[.!?]+(?:\s+|$)|\n+")
_ALPHA = re.compile(r"[^\W\d_]+")
# the top-level id of what a change made: ``{"transfer_id": "TRX-8841311", …}``, ``{"id": 4410, …}``
_RETURNED_ID = re.compile(r"^\{\s*\"((?:\w+_)?id|ref|reference)\"\s*:\s*\"?([\w.:-]{3,64})\"?", re.I)
# a person the task points at on a record ("the engineer named on the request", "the contact listed in it")
_PERSON_ON_RECORD = re.compile(
    r"(?i)\b(?:named|listed|given|mentioned|shown|specified|stated|entered)\s+(?:on|in)\s+(?:the|that|this|their|its|it)\b"
)
_PERSON_KEYS = frozenset("role name contact person title position job_title function".split())
_SEPARATED = re.compile(r"\w[\s_-]+\w")
MAX_LOOKED_UP = 3  # addresses of one lookup taken for the person the task meant; more are a list
_PIECES = re.compile(r"[^\s()\[\]{},;:\"'\u201c\u201d]+")
_NAMES_PROCEDURE = _PROCEDURES | _CARRYING_OUT | frozenset("id no nr number ref".split())
_CARRIED_OUT_PARTICLES = frozenset("aus durch uit door".split())  # "führe … aus (…)", "voer … uit (…)"
# where the procedure is kept, between its noun and its id ("the runbook in Confluence (REV-RB-07)")
_KEPT_IN = frozenset("in on at the our confluence notion wiki sharepoint drive google docs".split())
MAX_TAINTED = 160
MAX_TRUSTED = 256
MAX_SOURCES = 24
MAX_TOOL_NAMES = 64
MAX_SECRET_READS = 16
MAX_TRUSTED_TEXT = 6000
MAX_SECRETS_SEEN = 64
MAX_MINTED = 16
MAX_SCRIPTS = 32

# Keys of arguments that hold what a call acts on, or a copy of content it produces (compared whole too).
_WHOLE_VALUE_KEYS = frozenset(
    "to cc bcc recipient recipients receiver email emails user username user_id guest guest_ids member "
    "members channel channels account account_id iban payee beneficiary url uri link address destination "
    "host domain target name names participants attendees invitees id ids wallet".split()
)


_SECOND_LEVEL = frozenset("co com org net ac gov edu ne or go".split())  # example.co.uk, example.com.au
_NAME_WORD = re.compile(r"[A-Za-z0-9]+")
_SENTENCES = re.compile(r"[.!?\n]+\s*")


_OWN_ADDRESS_KEYS = frozenset(
    "mailbox from from_address sender sender_email senderemail".split()  # not ``user``: whom a grant names
)
_PUBLIC_MAIL = frozenset(
    "gmail googlemail outlook hotmail live msn yahoo icloud me mac proton protonmail gmx web aol mail yandex "
    "zoho fastmail hey tutanota qq 163 naver".split()
)


def public_mail(domain: str) -> bool:
    """Whether a mail domain is a public service's (gmail.com, web.de): nobody's organisation."""
    return _organisation_of(domain) in _PUBLIC_MAIL


def _organisation_of(host: str) -> str:
    """The label a site's owner chose: ``news.dailydeals.com`` -> ``dailydeals``, ``shop.acme.co.uk`` ->
    ``acme``; hyphens kept, so ``secure-login-update.com`` names no organisation a user would type."""
    labels = host.lower().split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else ""


_ORGANISATION_TEAMS = frozenset(
    "support helpdesk sales billing team teams account customer partner partners legal security".split()
)
# … followed by what they did ("Adyen support asked"; "Email support about …" is an order, no name)
_REPORTED = frozenset(
    "asked asks said says wrote writes requested requests needs need wants want sent emailed replied flagged "
    "confirmed reported".split()
)


@functools.lru_cache(maxsize=256)
def _proper_names(text: str) -> frozenset[str]:
    """The proper names a text gives, as a host would spell them: capitalised words not opening a sentence,
    CamelCase and acronyms (``DailyDeals``, ``Acme``, ``IKEA``), and two of them run together ("Daily
    Deals"). Common words do not count: a page on ``emails.example`` is not trusted because the task said
    "emails"."""
    names: set[str] = set()
    for sentence in _SENTENCES.split(text):
        words = _NAME_WORD.findall(sentence)
        proper = [
            w.lower() if (i > 0 and w[0].isupper()) or any(c.isupper() for c in w[1:]) else ""
            for i, w in enumerate(words)
        ]
        # ("Adyen support asked for …": a name opening the sentence, known by the team after it)
        if (
            len(words) > 2
            and words[0][0].isupper()
            and words[1].lower() in _ORGANISATION_TEAMS
            and words[2].lower() in _REPORTED
        ):
            proper[0] = words[0].lower()
        names.update(p for p in proper if p)
        names.update(a + b for a, b in itertools.pairwise(proper) if a and b)
    return frozenset(names)


_CD_FIRST = re.compile(r"(?:^|(?<=[;&|(]))\s*cd\s+(?:\"[^\"]*\"|'[^']*'|\S+)\s*(?:&&|;)")


def _titled(handed: frozenset[str], titles: set[str]) -> bool:
    """Whether a title the call reads holds every word of a procedure's name the text gave in capitals."""
    named = [h[6:].split() for h in handed if h.startswith("words:")]
    read = [set(re.findall(r"[\w&'-]+", t[6:])) for t in titles]
    return any(words and set(words) <= title for words in named for title in read)


def _procedure_path(path: str, text: str) -> bool:
    """Whether a sentence of the text writes this path beside a procedure's noun (runbook, playbook …)."""
    if path not in text:
        return False
    return any(
        path in sentence and not _PROCEDURES.isdisjoint(w.lower() for w in _ALPHA.findall(sentence))
        for sentence in _SENTENCE_ENDS.split(text)
    )


@functools.lru_cache(maxsize=256)
def _followed_paths(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The wiki pages and the files the trusted text hands over by their paths (read once per text, not
    on every untrusted read)."""
    if "/" not in text:
        return (), ()
    return tuple(_FOLLOWED_PAGE.findall(text)), tuple(_FOLLOWED_FILE.findall(text))


# a document of steps the user points at: what it says to do is what the user asks ("using the runbook at
# OT/Runbooks/…", "the task is in /instruction/task.md", "per the checklist"); the noun alone hands over
# nothing ("Your task: update the page using the bio from her website", "keep the steps short")
_NOUNS = (
    r"(?:runbooks?|playbooks?|instructions?|procedures?|checklists?|sops?|steps|tasks?|guides?|how-?tos?"
    r"|readme|manual)\b"
)
_PROCEDURE_NOUN = re.compile(
    r"(?i)\b(?:follow\w*|per|according\s+to|using|use|run|execute|perform|complete|carry\s+out"
    rf"|as\s+(?:described|written|listed)\s+in)\s+(?:\S+\s+){{0,3}}?{_NOUNS}|\b{_NOUNS}\s+(?:is|are)\s+(?:in|at|on)\b"
)


@functools.lru_cache(maxsize=256)
def _handed_procedures(text: str) -> frozenset[str]:
    """The ids, paths and addresses of procedure documents the text hands the agent over to, and the titles
    of documents it hands over (``title:sts plc firmware rollback``); cached per trusted text."""
    # (a title after a verb of handing over, whatever the document: "per "Quarterly close"", "follow the
    # Confluence runbook "…"")
    quoted = '"' in text or "\u201c" in text or "\u00ab" in text or "\u201e" in text
    handed = {f"title:{t.lower()}" for t in _HANDED_TITLE.findall(text)} if quoted else set()
    sentences = _SENTENCE_ENDS.split(text)
    for index, sentence in enumerate(sentences):
        words = {w.lower() for w in _ALPHA.findall(sentence)}
        if words.isdisjoint(_PROCEDURES):
            continue
        # ("Run RB-17 for the alert. The runbook is in Confluence.": the order is in the sentence before)
        if index and words.isdisjoint(_CARRYING_OUT):
            sentence = f"{sentences[index - 1]} {sentence}"
            words |= {w.lower() for w in _ALPHA.findall(sentence)}
        foreign = None if reads_english(sentence) else read_foreign(sentence)
        carried_out = (
            not words.isdisjoint(_CARRYING_OUT)
            or _ACCORDING_TO.search(sentence) is not None
            or (
                foreign is not None
                and any(english in _CARRYING_OUT for _, english in foreign.acts)  # "führe … aus"
            )
        )
        if not carried_out:
            continue
        span = _document_words(sentence)
        handed.update(t for t in tokens_of(span) if t.startswith(("path:", "url:")))
        handed.update(_procedure_ids(span, frozenset() if foreign is None else _CARRIED_OUT_PARTICLES))
        handed.update(f"title:{title.strip().lower()}" for title in _QUOTED.findall(span))
        # (a title in brackets right after the procedure: "per the runbook in Confluence (LM-Runbook v3)")
        handed.update(f"title:{title.strip().lower()}" for title in _BRACKETED.findall(span))
        # (a name in capitals right before it: "Follow the Cycle Rollover runbook", read as "Runbook - Cycle
        # Rollover": every word of the name in the page's title)
        for name in _NAMED_BEFORE.findall(sentence):
            kept = [w.lower() for w in name.split() if w.lower() not in _CARRYING_OUT]
            handed.update([f"words:{' '.join(kept)}"] if kept else [])
        # (… or after it, as Romance languages name one: "o playbook de despacho", "la procédure de clôture")
        handed.update(f"words:{name.lower()}" for name in _NAMED_AFTER.findall(sentence))
    return frozenset(handed)


def _document_words(sentence: str) -> str:
    """The words of a sentence that can name the procedure: from the verb of carrying it out, and from the
    procedure's noun, each up to what it is run on ("… close for October using the runbook (REV-RB-07)":
    both stretches; "… runbook for STS-04": not the crane)."""
    verbs = [m.start() for m in _ALPHA.finditer(sentence) if m.group(0).lower() in _CARRYING_OUT]
    start = min(verbs, default=0)  # (a foreign verb the table reads: the sentence from its start)
    named = min(m.start() for m in _ALPHA.finditer(sentence) if m.group(0).lower() in _PROCEDURES)
    before, after = sentence[start:named] if named > start else "", sentence[max(named, start) :]
    return " ".join(_APPLIED_TO.split(part, maxsplit=1)[0] for part in (before, after))


def _procedure_ids(sentence: str, particles: frozenset[str]) -> set[str]:
    """The ids in a sentence that name its procedure: right after the runbook's noun or the verb ("runbook
    (OPS-RB-12)", "run PB-12", "führe … aus (ops/failover-2)", "runbook in Confluence (RB-7)") or right
    before the noun ("the RB-7 runbook"), not another record's ("ticket SUP-2231")."""
    pieces = _PIECES.findall(sentence)
    words = [p.strip(".!?").lower() for p in pieces]
    found: set[str] = set()
    for index, piece in enumerate(pieces):
        ids = {t for t in tokens_of(piece.strip(".!?")) if t.startswith("id:")}
        start = index - 1
        while start >= 0 and index - start <= 3 and words[start] in _KEPT_IN:
            start -= 1
        before = words[start] if start >= 0 else ""
        after = words[index + 1] if index + 1 < len(words) else ""
        if ids and (before in _NAMES_PROCEDURE or before in particles or after in _PROCEDURES):
            found |= ids
    return found


@dataclass(slots=True)
class Source:
    """One untrusted result: the event that brought it, when, and how much it addressed the agent."""

    event_id: str
    time: float
    score: float
    reasons: tuple[str, ...] = ()
    window: str = ""
    requested: tuple[str, ...] = ()  # capabilities the content asked its reader to use (intent.requests_of)

    def asked_for(self, capabilities: Iterable[C]) -> list[C]:
        """Which of these capabilities the content itself asked for."""
        requested = self.requested
        # a capability is a StrEnum: it equals its value, so it is looked up among the values directly
        return [c for c in capabilities if c in requested] if requested else []

    def details(self) -> dict[str, Any]:
        """How an alert describes this source: how much it addressed the agent and why, what it asked."""
        return {
            "addressing": self.score,
            "addressing_reasons": list(self.reasons),
            "content_asked_for": list(self.requested),
            "source_excerpt": self.window,
        }

    def to_list(self) -> list[Any]:
        """The saved form: a list, without its trailing empty parts (reasons, excerpt, what it asked for)."""
        data = [self.event_id, self.time, self.score, list(self.reasons), self.window, list(self.requested)]
        while len(data) > 3 and not data[-1]:
            data.pop()
        return data

    @classmethod
    def from_list(cls, data: list[Any]) -> Source:
        reasons = tuple(data[3]) if len(data) > 3 else ()
        window = str(data[4]) if len(data) > 4 else ""
        requested = tuple(data[5]) if len(data) > 5 else ()
        return cls(str(data[0]), float(data[1]), float(data[2]), reasons, window, requested)


@dataclass(slots=True)
class Provenance:
    trusted_text: str = ""
    trusted: set[str] = field(default_factory=set)
    tainted: dict[str, str] = field(default_factory=dict)  # token -> event id of the source that brought it
    tool_names: dict[str, str] = field(default_factory=dict)  # tool key -> event id of the source naming it
    sources: dict[str, Source] = field(default_factory=dict)  # event id -> source, oldest first
    secret_reads: list[list[Any]] = field(default_factory=list)  # [event id, time, what]
    secrets_seen: dict[str, str] = field(default_factory=dict)  # redaction fingerprint -> event id it came in
    minted: list[str] = field(default_factory=list)  # fingerprints of secrets the session's own calls set
    # scripts the session read or wrote, by file name: [event id, path, what running it would do (flags)]
    scripts: dict[str, list[Any]] = field(default_factory=dict)
    overflow: int = 0
    # The last answer of ``tainted_values``: [arguments (the very object, kept), target, answer]. Several
    # detectors ask it of the same call in turn; what it reads changes only between calls (``trust``,
    # ``trust_own_address`` and ``taint`` empty it). Not saved.
    _asked: list[Any] | None = field(default=None, repr=False, compare=False)

    # -- what detectors read
    @property
    def intent(self) -> Intent:
        return intent_of(self.trusted_text)

    def off_task(self, capabilities: Iterable[C], *, unless_addressed_above: float = 1.0) -> list[C]:
        """Capabilities of a call the task did not ask for. When the task hands the agent over to what it
        reads ("follow the instructions in the latest e-mail"), what that content asked its reader for is
        asked too — but not what content addressing the agent as an AI (score at or above
        ``unless_addressed_above``) asked: a to-do list is written for a person."""
        intent = self.intent
        off = intent.off_task(capabilities)
        if off and intent.delegated:
            asked = {
                r for s in self.sources.values() if s.score < unless_addressed_above for r in s.requested
            }
            # (a case handed over — "process the booking requests" — brings its requests, not access for
            # whoever wrote one: only instructions handed over — "follow the steps in …" — may grant it)
            asked -= {C.IDENTITY.value} if intent.delegated[-1] in CASE_OBJECTS else set()
            off = [c for c in off if c.value not in asked]
        return off

    def source(self, event_id: str) -> Source | None:
        return self.sources.get(event_id)

    def most_addressing(self, since: float | None = None) -> Source | None:
        """The untrusted source that addressed the agent most (since ``since``, event time)."""
        candidates = [s for s in self.sources.values() if since is None or s.time >= since]
        return max(candidates, key=lambda s: (s.score, s.time), default=None)

    def tainted_values(self, arguments: dict[str, Any], target: str | None) -> dict[str, Source]:
        """Values of a call (its arguments and target) that outside content brought and trusted input did
        not: token -> the source that brought it. Most telling first."""
        asked = self._asked
        if asked is not None and asked[0] is arguments and asked[1] == target:
            return dict(asked[2])  # a copy: callers may change theirs
        found: dict[str, Source] = {}
        tainted = self.tainted
        if not tainted:
            return found
        # Only the call's tokens that some source brought are ranked (the same order as ranking all).
        hits = [t for t in _call_tokens(arguments, target) if t in tainted]
        for token in sorted(hits, key=lambda t: (rank(t), t)):
            if self.trusts(token):
                continue
            if (source := self.sources.get(tainted[token])) is not None:
                found[token] = source
        self._asked = [arguments, target, found]
        return dict(found)

    def trusts(self, token: str) -> bool:
        """Whether trusted input named this value; a URL on a host it named, or on this machine, counts."""
        if token in self.trusted:
            return True
        if token.startswith("num:") and len(token) >= 14:
            # a phone number the user gave without its area code ("Dale (555-0148)"), dialled in full
            numbers = (t for t in self.trusted if t.startswith("num:"))
            return any(11 <= len(t) < len(token) and token.endswith(t[4:]) for t in numbers)
        if token.startswith("email:"):  # an address at a host the user named, or at the session's own
            token = "host:" + token.rsplit("@", 1)[-1]
        if not token.startswith(("url:", "host:")):
            return False
        host = token.split(":", 1)[1].split("/", 1)[0].split(":", 1)[0]
        if f"host:{host}" in self.trusted or is_local_host(host):
            return True
        # a site of an organisation the user named: "unsubscribe me from DailyDeals" -> dailydeals.com
        organisation = _organisation_of(host)
        return len(organisation) >= 4 and organisation in _proper_names(self.trusted_text)

    def tool_named_by(self, tool: str) -> Source | None:
        """The untrusted source that named this tool, unless trusted input named it too."""
        key = tool_key(tool)
        event_id = self.tool_names.get(key)
        if event_id is None or key in tool_names_in(self.trusted_text):
            return None
        return self.sources.get(event_id)

    # -- what the engine writes
    def trust(self, text: str | None) -> None:
        """A task or a user turn: its values are trusted from now on, and it widens the intent."""
        if not text:
            return
        self._asked = None
        text = spelled_ranges(text)  # "season01 through season03" names season02 too
        if text not in self.trusted_text:
            self.trusted_text = (self.trusted_text + "\n" + text)[-MAX_TRUSTED_TEXT:].lstrip("\n")
        for token in sorted(tokens_of(text) | names_in(text)):  # sorted: which fit under the cap
            if len(self.trusted) < MAX_TRUSTED:
                self.trusted.add(token)
            self.tainted.pop(token, None)

    def trust_returned_ids(self, text: str) -> None:
        """The ids a change's own result returns for what it made (``"transfer_id": "TRX-8841311"``): the
        session's own records, which a later call may quote (a bill marked paid with its transfer's id)."""
        head = text.lstrip()[:2000]
        if not head.startswith("{"):
            return
        ids = [m.group(2) for m in _RETURNED_ID.finditer(head)]
        self._trust_tokens({t for value in ids[:MAX_LOOKED_UP] for t in tokens_of(value)})

    def trust_looked_up(self, arguments: dict[str, Any], text: str) -> None:
        """A contact the agent looked up by words the task used ("their integration lead": ``role:
        integration_lead``), or the record the task names by id when it points at a person on it: the one
        to three addresses the lookup returned are the person the task meant."""
        task = plain(self.trusted_text)
        # (a role or a person in words of two or more: ``role: integration_lead``; not ``form: contact``)
        keyed = [
            plain(v)
            for k, v in arguments.items()
            if str(k).lower() in _PERSON_KEYS and isinstance(v, str) and _SEPARATED.search(v.strip())
        ]
        # … or a record the task names by its id, whose person the task points at ("SAR0041772 … email the
        # code to the engineer named on the request")
        # (the same id as one the task gives, not a part of the task run together: ``SAR004177`` is another)
        given = {plain(t[3:]) for t in tokens_of(self.trusted_text) if t.startswith("id:")}
        by_id = _PERSON_ON_RECORD.search(self.trusted_text) is not None and any(
            t.startswith("id:") and plain(t[3:]) in given
            for v in arguments.values() if isinstance(v, str) for t in tokens_of(v)
        )  # fmt: skip
        if not by_id and not any(len(k) >= 6 and k in task for k in keyed):
            return
        found = {t for t in tokens_of(text[:2000]) if t.startswith("email:")}
        if len(found) <= MAX_LOOKED_UP:  # (more are a list, not the person)
            self._trust_tokens(found)

    def _trust_tokens(self, found: set[str]) -> None:
        """Values trusted from now on, as the task's own are (while the cap leaves room for all of them)."""
        if found and len(self.trusted) + len(found) <= MAX_TRUSTED:
            self.trusted |= found
            for token in found:
                self.tainted.pop(token, None)
            self._asked = None

    def trust_own_address(self, arguments: dict[str, Any]) -> None:
        """The mailbox the agent reads or sends as (``mailbox``, ``from``, ``sender`` of its own calls):
        its organisation's domain is the session's own, so a note to a colleague there goes nowhere outside.
        A public mail provider's domain is nobody's organisation."""
        for key, value in arguments.items():
            # (the value's test first: it fails for nearly every argument, and is the cheaper)
            if isinstance(value, str) and "@" in value and str(key).lower() in _OWN_ADDRESS_KEYS:
                domain = value.rsplit("@", 1)[-1].strip().lower().rstrip(">")
                if (
                    "." in domain
                    and _organisation_of(domain) not in _PUBLIC_MAIL
                    and len(self.trusted) < MAX_TRUSTED
                ):
                    self.trusted.add(f"host:{domain}")
                    self._asked = None

    def headed_as_handed(self, text: str) -> bool:
        """Whether a page read by its id opens with the title of the procedure the task handed over ("Volg
        het runbook "Vrijgave na douanecontrole"": the page ``884201`` a search found by that title)."""
        handed = _handed_procedures(self.trusted_text)
        first = text.lstrip()[:200].split("\n", 1)[0].strip().lower()
        return bool(first) and f"title:{first}" in handed

    def hands_over(self) -> bool:
        """Whether the trusted text hands the agent over to what it will read ("follow the runbook …", "the
        task is in /instruction/task.md"), not only points it at data ("use the bio from his website")."""
        return bool(
            self.intent.delegated
            or _handed_procedures(self.trusted_text)
            or _PROCEDURE_NOUN.search(self.trusted_text)
        )

    def points_at(self, arguments: dict[str, Any], target: str | None) -> bool:
        """Whether a read is of a file or page the trusted text named (the user pointed the agent at it)."""
        # (``cd ~/repo && cat samples/README.txt``: the folder the line starts in is where, not what it reads)
        if any(isinstance(v, str) and "cd " in v for v in arguments.values()):
            arguments = {k: _CD_FIRST.sub(" ", v) if isinstance(v, str) else v for k, v in arguments.items()}
        # the page or doc the task handed over by its title ("follow the "Rotate keys" runbook"), or a runbook
        # by its id ("Follow … runbook (IROPS-RSV-01)")
        handed = _handed_procedures(self.trusted_text)
        titles_read = {f"title:{v.strip().lower()}" for v in arguments.values() if isinstance(v, str)}
        if any(h.startswith("words:") for h in handed) and _titled(handed, titles_read):
            return True
        tokens = _call_tokens(arguments, target) | titles_read if handed else frozenset()
        if handed and not handed.isdisjoint(tokens):
            return True
        # (a file named for the runbook's id: ``/runbooks/PL2-RB-07_pot_cutout.md`` for "runbook PL2-RB-07")
        ids = [h[3:] for h in handed if h.startswith("id:")]
        if any(t[3:].startswith(i) and t[3 + len(i) : 4 + len(i)] in "_.-" for t in tokens for i in ids):
            return True
        # a wiki page the task gave by its path, read by its space and title (``OT`` + ``Runbooks/Failover``)
        pages, relative = _followed_paths(self.trusted_text)
        if pages:
            given = [
                v.strip().strip("/").lower() for v in arguments.values() if isinstance(v, str) and "/" in v
            ]
            if any(p.lower().endswith(v) and len(v) >= 8 for p in pages for v in given):
                return True
            # (… or by its title alone, the path's last part: ``title: PLC-Reset-Test-Bench``)
            titles = {v.strip().lower() for v in arguments.values() if isinstance(v, str) and len(v) >= 8}
            if any(p.rsplit("/", 1)[-1].lower() in titles for p in pages):
                return True
        # a procedure's file the call reads by the path the trusted text wrote just so, spaces and all ("the
        # runbook in our SharePoint (IT/Runbooks/Staff leaver.docx)"); a file named as the place of work
        # ("review src/payments/retry.py") is no procedure
        if any(
            _WRITTEN_PATH.match(v) and _procedure_path(v, self.trusted_text)
            for v in arguments.values()
            if isinstance(v, str)
        ):
            return True
        if not relative and not any(t.startswith(("path:", "url:")) for t in self.trusted):
            return False  # trusted input named no file or page: no need to tokenise the call
        named = [t for t in _call_tokens(arguments, target) if t.startswith(("path:", "url:"))]
        # a file the task handed over by its path from the project's root, read by a longer path or by
        # that very relative path (``read_file(path="docs/runbooks/rotate.md")``)
        return (
            any(t in self.trusted for t in named)
            or any(t.endswith("/" + r) for t in named for r in relative if t.startswith("path:"))
            or any(isinstance(v, str) and v.strip().lstrip("./") in relative for v in arguments.values())
        )

    def taint(self, event_id: str, time: float, text: str, addressing: Addressing) -> None:
        """Outside content arrived: remember its distinctive values, the tools it names, how much it
        addressed the agent and which acts it asked its reader for."""
        self._asked = None
        requested = tuple(sorted(c.value for c in requests_of(text)))
        self.sources[event_id] = Source(
            event_id, time, addressing.score, addressing.reasons, addressing.window, requested
        )
        while len(self.sources) > MAX_SOURCES:
            oldest = next(iter(self.sources))
            del self.sources[oldest]
            self.tainted = {t: e for t, e in self.tainted.items() if e != oldest}
            self.tool_names = {t: e for t, e in self.tool_names.items() if e != oldest}
        amounts = {amount_token(a) for a in amounts_in(text[:4000])[:16]}  # sums it names, for money acts
        # sorted: a set's order follows the hash seed, and the cap below keeps the newest of equals
        for token in sorted(tokens_of(text) | names_in(text) | amounts):
            if token not in self.trusted and not self._kept(self.tainted.get(token), addressing.score):
                self.tainted.pop(token, None)
                self.tainted[token] = event_id  # re-inserted last: it survives the cap longest
        if len(self.tainted) > MAX_TAINTED:
            # most telling first, newest first among equals (tokens in insertion order, newest last)
            ordered = sorted(enumerate(self.tainted), key=lambda it: (rank(it[1]), -it[0]))
            keep = [t for _, t in ordered[:MAX_TAINTED]]
            self.overflow += len(self.tainted) - len(keep)
            kept = set(keep)
            self.tainted = {t: e for t, e in self.tainted.items() if t in kept}
        for name in sorted(tool_names_in(text)):
            if (len(self.tool_names) < MAX_TOOL_NAMES or name in self.tool_names) and not self._kept(
                self.tool_names.get(name), addressing.score
            ):
                self.tool_names[name] = event_id

    def _kept(self, event_id: str | None, score: float) -> bool:
        """Whether a value's current source instructed the agent more than a new one that brings it again:
        the source that counts for a value is the most instructing one."""
        current = self.sources.get(event_id) if event_id is not None else None
        return current is not None and current.score > score

    def read_secret(self, event_id: str, time: float, what: str) -> None:
        self.secret_reads.append([event_id, time, what[:200]])
        del self.secret_reads[:-MAX_SECRET_READS]

    def saw_script(self, event_id: str, path: str, flags: list[str]) -> None:
        """A script the session read or wrote, and what running it would do (shell-reader flags)."""
        name = path.rstrip("/").rsplit("/", 1)[-1]
        self.scripts.pop(name, None)
        self.scripts[name] = [event_id, path[:200], sorted(flags)]
        while len(self.scripts) > MAX_SCRIPTS:
            del self.scripts[next(iter(self.scripts))]

    def script(self, path: str) -> list[Any] | None:
        """What the session knows a script of this path (or file name) would do when run."""
        return self.scripts.get(path.rstrip("/").rsplit("/", 1)[-1])

    def saw_secrets(self, event_id: str, fingerprints: list[str]) -> None:
        """Secrets (by redaction fingerprint) that a result carried into the session."""
        for fp in fingerprints:
            self.secrets_seen.setdefault(fp, event_id)
        while len(self.secrets_seen) > MAX_SECRETS_SEEN:
            del self.secrets_seen[next(iter(self.secrets_seen))]

    def minted_secrets(self, event_id: str, fingerprints: list[str]) -> None:
        """Secrets the call ``event_id`` set or had issued (a share link's password, a new API key): new
        ones, that no earlier call brought in."""
        for fp in fingerprints:
            if self.secrets_seen.get(fp, event_id) == event_id and fp not in self.minted:
                self.minted.append(fp)
        del self.minted[:-MAX_MINTED]

    # -- the changelog form
    # Compact (issue 14): empty parts are left out, and a value's source is saved as its place in ``sources``
    # (every tainted value and tool name points at a kept source) rather than as its event id again.
    def to_dict(self, form: Form | None = None, task: str | None = None) -> dict[str, Any]:
        """``form`` (state version 3): sources under ``src`` with their event ids and times in the key's
        compact form (``detectors/state_form.py``), and the trusted text as ``0`` when it is the ``task``."""
        place = {event_id: i for i, event_id in enumerate(self.sources)}
        sources = _sources_saved(self.sources.values())
        if form is not None:
            chain = Chain(form)
            for saved in sources:
                saved[1], saved[0] = chain.put(saved[1], saved[0])
        text: str | int = 0 if form is not None and task and self.trusted_text == task else self.trusted_text
        data: dict[str, Any] = {
            "text": text,
            "trusted": sorted(self.trusted),
            "tainted": {t: place.get(e, e) for t, e in self.tainted.items()},
            "tools": {t: place.get(e, e) for t, e in self.tool_names.items()},
            "sources" if form is None else "src": sources,
            "secrets": self.secret_reads,
            "seen": self.secrets_seen,
            "minted": self.minted,
            "scripts": self.scripts,
            "overflow": self.overflow,
        }
        return {k: v for k, v in data.items() if v or (k == "text" and v == 0)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], form: Form | None = None, task: str | None = None) -> Provenance:
        sources: list[Source] = []
        coded = data.get("src")
        chain = Chain(form) if form is not None else None
        for saved in data.get("sources", ()) if coded is None else coded:
            if coded is not None and chain is not None:
                when, event_id = chain.get(saved[1], saved[0])
                saved = [event_id, when, *saved[2:]]
            if len(saved) > 4 and isinstance(saved[4], int):  # the excerpt of an earlier source, by its place
                saved = [*saved[:4], sources[saved[4]].window, *saved[5:]]
            sources.append(Source.from_list(saved))

        def source_of(value: str | int) -> str:
            return sources[value].event_id if isinstance(value, int) else value

        text = data.get("text", "")
        return cls(
            trusted_text=(task or "") if text == 0 else text,
            trusted=set(data.get("trusted", ())),
            tainted={t: source_of(e) for t, e in data.get("tainted", {}).items()},
            tool_names={t: source_of(e) for t, e in data.get("tools", {}).items()},
            sources={s.event_id: s for s in sources},
            secret_reads=[list(r) for r in data.get("secrets", ())],
            secrets_seen=dict(data.get("seen", {})),
            minted=list(data.get("minted", ())),
            scripts={k: list(v) for k, v in data.get("scripts", {}).items()},
            overflow=int(data.get("overflow", 0)),
        )


def _sources_saved(sources: Iterable[Source]) -> list[list[Any]]:
    """Each source as a list; an excerpt that an earlier source has too (the same page read again) is saved
    as that source's place."""
    saved: list[list[Any]] = []
    first: dict[str, int] = {}
    for i, source in enumerate(sources):
        data = source.to_list()
        if len(data) > 4 and source.window:
            earlier = first.get(source.window)
            if earlier is None:
                first[source.window] = i
            else:
                data[4] = earlier
        saved.append(data)
    return saved


# The tokens of the call being processed: several detectors and the engine ask for the same call's in turn.
_last_call: list[Any] = [None, None, frozenset()]  # [arguments (the very object), target, tokens]


def _call_tokens(arguments: dict[str, Any], target: str | None) -> frozenset[str]:
    last = _last_call
    if last[0] is arguments and last[1] == target:
        tokens: frozenset[str] = last[2]
        return tokens
    tokens = _tokens_of_call(arguments, target)
    last[0], last[1], last[2] = arguments, target, tokens
    return tokens


@by_arguments  # the same calls recur: tokenised once per distinct (arguments, target)
def _tokens_of_call(arguments: dict[str, Any], target: str | None) -> frozenset[str]:
    tokens: set[str] = set()
    stack: list[tuple[str, Any, int]] = [(k, v, 0) for k, v in arguments.items()]
    while stack:
        key, value, depth = stack.pop()
        if isinstance(value, dict) and depth < 4:
            stack.extend((str(k), v, depth + 1) for k, v in list(value.items())[:64])
        elif isinstance(value, list | tuple) and depth < 4:
            stack.extend((key, v, depth + 1) for v in list(value)[:64])
        elif isinstance(value, str | int) and not isinstance(value, bool):
            found = value_tokens(value)
            if key.lower() not in _WHOLE_VALUE_KEYS and not key.lower().endswith(("_id", "_ids", "_email")):
                found = frozenset(t for t in found if not t.startswith("name:"))
            tokens |= found
    if target:
        tokens |= value_tokens(target)
    return frozenset(tokens)
