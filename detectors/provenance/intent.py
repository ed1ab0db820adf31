"""What the task asks for: the capabilities a stated task (and the user's later turns) implies.

"What time is my meeting with Sarah?" implies reading; "pay the invoice from ACME" implies moving money;
"reply to Bob" implies communicating. A call whose capabilities the task does not imply is *off task*:
alone that is weak (agents legitimately do more than the words say), but after outside content told the
agent to act, it is what separates an injection from the user's own request. Each implied capability
keeps the task words that implied it, so an alert can say "the task's words 'what', 'meeting' imply read;
this call sends money".

The vocabulary is general English of office and software work; reading is always implied.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from detectors.capabilities.words import VERB_CAPABILITIES, verb_stem
from detectors.provenance.languages import Reading, foreign_requests, foreign_weight, read_foreign
from schemas.types import Capability as C

_LEXICON: dict[C, frozenset[str]] = {
    C.WRITE: frozenset(
        """create add update edit modify set write save insert append change fix implement refactor
        build make generate draft prepare compose organize organise rename move copy configure
        install upgrade downgrade schedule book reserve document record log note submit fill apply merge
        commit rebase squash amend resolve close open reopen assign mark label tag rewrite replace patch
        populate enter
        register enroll rebook reschedule adjust correct clean tidy migrate restore sort arrange
        plan setup handle triage host publish upload archive file approve enrol import reject deny release
        reinstate tick untick bump raise lower increase decrease rotate docket quarantine freeze unfreeze
        restrict unrestrict dispatch scrub stage touch include block unblock allowlist whitelist blocklist
        blacklist extend renew waive postpone defer""".split()
    ),
    C.DELETE: frozenset(
        """delete remove clean cleanup clear purge drop cancel uninstall wipe prune kill stop terminate
        reset revoke erase discard unsubscribe deactivate free tear teardown destroy decommission truncate
        offboard rid dedupe dedup deduplicate empty retire void unpublish expunge dispose trash nuke
        eliminate sunset deprovision scrub scratch withdraw retract rescind""".split()
    ),
    C.EXECUTE: frozenset(
        """run execute test build compile install deploy debug start launch script implement fix
        benchmark profile train reproduce automate restart reboot redeploy rerun retry rollout""".split()
    ),
    C.COMMUNICATE: frozenset(
        """send email mail message reply respond forward notify tell inform ask invite post comment accept
        decline rsvp triage
        chat contact call announce remind text dm ping meeting meetings share introduce greet thank
        welcome apologize apologise escalate support inbox customer customers ticket tickets
        txt sms""".split()
    ),
    C.EGRESS: frozenset(
        """upload share publish export push sync attach backup forward transfer send post deliver
        distribute""".split()
    ),
    C.FETCH: frozenset(
        """visit open browse website websites webpage page url link download fetch online web internet
        google site search navigate check clone pull""".split()
    ),
    C.FORM_INPUT: frozenset("""fill form forms submit register sign apply enter checkout efile""".split()),
    C.MONEY: frozenset(
        """pay payment payments payout payouts transfer wire refund purchase buy order book reserve charge
        invoice invoices bill bills reimburse reimbursement donate tip sell trade invest money fund funds
        budget rent subscription checkout flight flights ticket tickets reservation hotel deposit deposits
        wage wages salary salaries fee fees credit credits withdraw""".split()
    ),
    C.IDENTITY: frozenset(
        """grant revoke permission permissions access role roles admin invite onboard offboard enrol enroll
        user users account accounts member members membership group groups password reset owner
        collaborator guest share ban unban suspend unsuspend""".split()
    ),
    C.SECRET: frozenset(
        """password passwords key keys token tokens credential credentials secret secrets ssh
        certificate login apikey pin code""".split()
    ),
}
# A word of the lexicon is an instruction when it stands where an imperative does: first in a sentence or
# clause, or after one of these ("please send", "can you book", "I want to cancel", "find it and upload").
# Elsewhere it is the task's topic ("the risk of investing", "my unread emails") and implies nothing alone.
_SUBJECTS = frozenset("i you we they he she it who".split())
_BEFORE_VERB = frozenset(
    """please kindly pls you to and then also just now first lets let d ll help me can could would
    will should must need want so remote""".split()
)
# words of the lexicons that are only ever nouns: a topic, never the verb of an order ("Customers on the east
# branch are complaining"; a singular "Customer Ana Ruiz …" still opens the case of the one to answer)
_NOUNS_ONLY = frozenset("customers clients inbox meetings website websites webpage url internet web".split())


def _verb_part(piece: str) -> str:
    """A word's verb, or a compound's last part ("force-push": push) where the compound opens a clause."""
    return piece.rsplit("-", 1)[-1].lower() if piece.replace("-", "").isalpha() else ""


_LOCATING = frozenset("in inside within from at".split())
_WH_WORDS = frozenset("what which whether how where when who whom whose".split())
_THIRD_PERSONS = frozenset("he she they someone somebody".split())
# "I"/"we" before a verb plan an act at the start of a clause or after these ("can we send", "first we
# delete", "today I refund"); elsewhere they describe one ("the emails we send", "a screenshot I posted")
_ASKING_US = frozenset("can could should shall may might must let lets first then next now today so".split())
# Generic verbs take their meaning from their object: "update my password", "cancel the reservation",
# "add a user". With one of them, the topic words count too.
_BACK_POINTERS = frozenset("it that this them those these so".split())
_GENERIC = frozenset(
    """update change set add remove delete cancel handle manage process make modify edit reset fix place put
    create do take work deal operate answer schedule issue initiate arrange approve run give enter
    apply include""".split()
)
# words that open a condition before the main clause, and words after which a verb is still the condition's
# ("if they want to cancel", "if it can refund"), not the main clause's order
_CONDITIONS = frozenset("if when once unless whenever".split())
_NOT_BEFORE_MAIN = frozenset(
    """the a an this these those my our your their its his her any to of for with from by at in on or and i
    we you they he she it can could would will should may might must shall do does did not is are was were
    be been has have had that which who asks asked requests requested wants wanted demands demanded mentions
    mentioned says said""".split()
)
# words that open a phrase before the main clause: "Per the policy, …", "Once the PR is merged, …"
_INTRODUCERS = frozenset("per for after before when once if as since following given during in on".split())
_FUNCTION_WORDS = frozenset("and or to at in on of for with from by is are was as that which".split())
# prefixes a verb keeps its meaning under ("re-send", "double-check"), and those that make another verb of it
# ("e-mail", "un-publish")
_AGAIN_PREFIXES = frozenset("re pre co double cross".split())
# how the act is done, the verb after it ("force-push it", "hard-delete the rows", "bulk-update")
_MANNER_PREFIXES = frozenset("force hard soft bulk mass batch".split())
_JOINED_PREFIXES = frozenset("e un".split())


def _prefixed_verb(raw: str) -> str:
    """A hyphenated verb as the word it is (``re-send``: send; ``e-mail``: email); other compounds whole."""
    head, _, rest = raw.lower().partition("-")
    if not rest or "-" in rest:
        return raw
    word = (
        rest
        if head in _AGAIN_PREFIXES or head in _MANNER_PREFIXES
        else head + rest
        if head in _JOINED_PREFIXES
        else ""
    )
    return word if word and _lexicon_hits(word) else raw


# a record's number after a word: "#48213" or three digits or more, then nothing the number counts ("Ticket
# 48213 from …", "Ticket #48213 is …"); "Post 2 updates", "Retry 500 failed jobs" count what the verb acts on
_NUMBERED = re.compile(
    r"\s+(?:#\s?\d+|\d{3,})\b"
    r"(?!\s+(?!(?:and|or|to|at|in|on|of|for|with|from|by|is|are|was|as|that|which|has|had|needs|says)\b)[a-z])"
)
_ANSWERING = frozenset({"tell", "inform", "show", "let", "give", "remind"})  # … me: the answer to the user
_TO_THE_USER = frozenset({"send", "forward", "mail", "email"})  # … me: delivered to the user, not uploaded
# words, clause breaks (a spaced dash starts a clause), identifiers (``export_refills.py``: a name, no word)
# (a hyphenated compound, ``permits-to-work``, ``follow-up``, is one noun: no verb in it)
# (the first two start only where a word does: a long run of letters or digits is scanned once)
_WORDS_AND_BREAKS = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[_.][A-Za-z0-9]+)+|(?<![A-Za-z0-9])[A-Za-z]+(?:-[A-Za-z]+)+|[A-Za-z]+|"
    r"[.!?;\n,]|(?<!\d):|:(?!\d)|\s[-\u2013\u2014]+\s"  # (not a time's colon: "tomorrow's 10:00 signing")
)
# what follows an imperative verb at the start of a clause after a comma ("…, tear down its preview")
_CLAUSE_OBJECT = frozenset(
    "the its their his her my our your this that these those it them down up off out all a an".split()
)
_CHANGING = frozenset(
    {C.WRITE, C.DELETE, C.EXECUTE, C.COMMUNICATE, C.EGRESS, C.MONEY, C.IDENTITY, C.FORM_INPUT}
)


def lexicon_of(capability: C) -> frozenset[str]:
    """The words by which a task asks for this capability."""
    return _LEXICON.get(capability, frozenset())


# function words of English ("a" is Spanish and Portuguese too, and French without its accent)
_ENGLISH = frozenset(
    "the an to and of in for my our your please is are it this that with from on at be".split()
)


@functools.lru_cache(maxsize=1024)
def reads_english(text: str) -> bool:
    """Whether the text is English as far as this reader can tell: its English function words weigh at
    least as much as the words of the likeliest other language (``languages.py``), and its letters are
    mostly Latin."""
    english = sum(w.lower() in _ENGLISH for w in _WORD.findall(text[:2000]))
    latin = sum(ch.isascii() for ch in text[:2000] if ch.isalpha())
    letters = sum(ch.isalpha() for ch in text[:2000]) or 1
    return english >= foreign_weight(text) and latin / letters >= 0.8


@functools.lru_cache(maxsize=1024)
def mentions(text: str, capability: C) -> str | None:
    """A word of the text that speaks of this capability in any form ("canceling", "the cancellation",
    "deletion", "removal": a word of the lexicon with an ending of its verb or noun), as an instruction or
    not; else None. For a check that needs only to know whether the user spoke of such an act at all. Not
    another word a lexicon word begins ("droplet", "clearly", "Dropbox")."""
    forms = _FORMS.get(capability)
    return next((w for w in _WORD.findall(text.lower()) if forms and forms.match(w)), None)


def _forms(words: frozenset[str]) -> re.Pattern[str]:
    """A lexicon's words in their other forms: the word with an ending (a final consonant doubled:
    "cancelled", "dropped"), or, for a word ending in e, its stem with one ("deletion", "erasure"). A bare
    stem is none ("wip", "eras")."""
    whole = "|".join(sorted(words, key=len, reverse=True))
    stems = "|".join(sorted({w[:-1] for w in words if w.endswith("e")}, key=len, reverse=True))
    return re.compile(
        rf"(?:{whole})(?:[lpgnmtd]?(?:s|es|d|ed|ing|ion|ions|ation|ations|al|als|up|ups))?$"
        rf"|(?:{stems})(?:ing|ed|es|ion|ions|ation|ations|al|als|ure)$"
    )


_FORMS = {c: _forms(words) for c, words in _LEXICON.items()}


def _lexicon_hits(word: str) -> list[tuple[C, str]]:
    # (a noun of who does it names a party, not the act: "the distributor's emails", "the site's editor")
    stem = word if word.endswith(("or", "ors")) else verb_stem(word) or word
    hits = []
    for capability, vocabulary in _LEXICON.items():
        if word in vocabulary or stem in vocabulary:
            hits.append((capability, word))
    return hits


@dataclass(frozen=True)
class Intent:
    """Capabilities the trusted text implies, each with the words that implied it. ``stated``: whether any
    task or user turn was seen at all (no task: nothing can be off task)."""

    implied: dict[C, tuple[str, ...]]
    stated: bool
    delegated: tuple[str, ...] = ()  # "follow the instructions in the email": what the content asks is asked
    # "don't apply anything yet": (capability, verb) pairs the task rules out
    forbidden: tuple[tuple[C, str], ...] = ()
    asks: bool = (
        False  # the task asks for an answer: a question, or a request that starts "summarise", "find" …
    )

    def allows(self, capability: C) -> bool:
        if capability is C.FORM_INPUT and self.implied.keys() & _CHANGING:
            return True  # a task that asks to share, pay or send through a UI asks for its forms too
        return not self.stated or capability is C.READ or capability in self.implied

    def off_task(self, capabilities: Iterable[C]) -> list[C]:
        """Capabilities of a call the task did not ask for (reading never counts)."""
        return [c for c in capabilities if not self.allows(c)]

    def explain(self) -> str:
        if not self.stated:
            return "no task stated"
        parts = [f"{c.value} ({', '.join(repr(w) for w in words[:3])})" for c, words in self.implied.items()]
        text = "the task implies read" + (", " + ", ".join(parts) if parts else " only")
        if self.delegated:
            text += f", and hands over to what it reads ({', '.join(repr(w) for w in self.delegated)})"
        return text


@functools.lru_cache(maxsize=4096)
def intent_of(text: str) -> Intent:
    """The intent of the task and user turns joined as one text ("" when none was stated)."""
    if not text.strip():
        return Intent({}, False)
    text = _ROLL_OUT.sub("rollout", text)  # ("roll out the new config": one verb)
    found: dict[C, list[str]] = {}
    topics: dict[C, list[str]] = {}
    in_clause: list[tuple[int, C, str, int]] = []  # (clause, capability, word, where) of every topic
    generic: dict[int, str] = {}  # clauses with a generic verb, and the verb
    generic_at: dict[int, int] = {}  # … and where it stands (its topics are the words after it)
    adjectives: set[str] = set()  # topic words only ever read right after a determiner
    previous, clause, opening = ".", 0, ""
    condition = 0  # words since a conditional opener ("if it's legit restore it": no comma before the order)
    matches = list(_WORDS_AND_BREAKS.finditer(text))
    pieces = [m.group(0) for m in matches]
    for index, raw in enumerate(pieces):
        if raw == ",":  # "PR #412 is merged, tear down its preview": a verb and its object start a clause
            following = pieces[index + 2].lower() if index + 2 < len(pieces) else ""
            # … and so does the word after an opening phrase ("Per the retention schedule, purge …")
            introduced = opening in _INTRODUCERS
            # ("Scrub it from the history, force-push, and tell me …": a list of orders, one verb each)
            listed = following in (",", "and") and _verb_part(pieces[index + 1]) in VERB_CAPABILITIES
            previous = "." if following in _CLAUSE_OBJECT or introduced or listed else previous
            opening = ""
            continue
        raw = _prefixed_verb(raw)  # "e-mail", "re-send", "un-publish": a verb with its prefix
        start, end = matches[index].span()
        if text[end : end + 1] == "/" or text[start - 1 : start] == "/":
            continue  # a part of a path or a branch ("to release/1.4"): a name, no verb
        if not raw.isalpha():
            if "_" in raw or "." in raw[1:]:
                continue  # an identifier or file name: neither a word nor a break
            if raw.replace("-", "").isalpha():
                previous = raw.lower()  # a compound noun: the next word follows a noun
                continue
            previous, clause = ".", clause + 1
            continue
        word = raw.lower()
        opening = word if previous == "." else opening  # the first word of the sentence or clause
        if word in _CONDITIONS and previous in (".", "and", "but", "or", "then", "so"):
            condition = 1
        else:
            condition = 0 if previous == "." else condition + bool(condition)
        if previous in _ANSWERING and word in ("me", "us"):  # "tell me", "show us": the answer, no message
            for hits in (found.get(C.COMMUNICATE, []), topics.get(C.COMMUNICATE, [])):
                if previous in hits:
                    hits.remove(previous)
            in_clause = [t for t in in_clause if t[1:3] != (C.COMMUNICATE, previous)]
        if previous in _TO_THE_USER and word in ("me", "us"):  # "send me the draft": a message to the user,
            for hits in (found.get(C.EGRESS, []), topics.get(C.EGRESS, [])):  # no upload or share asked
                if previous in hits:
                    hits.remove(previous)
            in_clause = [t for t in in_clause if t[1:3] != (C.EGRESS, previous)]
        # ("get rid of": the verb is the pair's second word)
        # ("can we send …", "shall I book …" ask; "the emails we send", "what I paid" describe)
        before_us = pieces[index - 2].lower() if index >= 2 else "."
        asked_of_us = previous in ("i", "we") and (before_us in _ASKING_US or not before_us.isalpha())
        # ("… so I can triage", "so that we could file it": the purpose, the user's own act, asks nothing)
        purpose = previous in ("can", "could") and before_us in ("i", "we") and index >= 3
        purpose = purpose and pieces[index - 3].lower() in ("so", "that")
        # ("I'll approve them myself", "we will send it": the user's own plan)
        # (… and someone else's: "QA will make the disposition call" says who decides, it asks nothing)
        purpose = purpose or (previous in ("ll", "will") and before_us.isalpha() and before_us != "you")
        # ("reply with what we can do", "whatever they could offer": what is possible, not an order)
        purpose = purpose or (previous in ("can", "could") and before_us in ("we", "they") and index >= 3)
        # ("Dr. Haines has to sign off first", "she needs to approve": someone else's act, not the agent's)
        subject = pieces[index - 3] if index >= 3 else ""
        someone = subject.lower() in _THIRD_PERSONS or (subject[:1].isupper() and subject[1:].islower())
        purpose = purpose or (previous == "to" and before_us in ("has", "needs") and someone)
        # ("I'll decide what to purge", "tell me which to cancel": a choice to be made, not an order)
        purpose = purpose or (previous == "to" and before_us in _WH_WORDS)
        # ("you'd send", "I'll pay": after a subject's contraction; "OCR'd text", "the client'll …" are none)
        contracted = previous in ("d", "ll") and before_us not in _SUBJECTS
        instruction = not purpose and (
            previous == "."
            or (previous in _BEFORE_VERB and not contracted)
            or asked_of_us
            or (previous, word) == ("get", "rid")
        )
        # ("Customers on the east branch are complaining": a noun opens the sentence, it orders nothing)
        instruction = instruction and word not in _NOUNS_ONLY
        # ("if it's not delivered refund the buyer": the verb after the condition's last word is the order)
        # (not what the condition asks or mentions, "if a vendor requests transfer of funds tell me": a noun)
        if not instruction and not purpose and condition >= 3 and word in VERB_CAPABILITIES:
            of_next = index + 1 < len(pieces) and pieces[index + 1].lower() == "of"
            instruction = previous.isalpha() and previous not in _NOT_BEFORE_MAIN and not of_next
            condition = 0 if instruction else condition
        # ("Ticket 48213 from Brightloom is disputing …": a record named by its number, not an order to act;
        # "Book 2 rooms", "Order 40 boxes" keep their verbs)
        if instruction and _NUMBERED.match(text, matches[index].end()) and word not in VERB_CAPABILITIES:
            instruction = False
        # "the open permits": a word between a determiner and a noun describes; it fetches nothing
        following = pieces[index + 1].lower() if index + 1 < len(pieces) else ""
        noun_next = following.replace("-", "").isalpha() and following not in _FUNCTION_WORDS
        determined = previous in _DETERMINERS and noun_next
        # ("… out of the MSA in the legal share and put them …": a place, two words after its preposition)
        before_word = pieces[max(0, index - 3) : index]
        in_place = not instruction and bool(_LOCATING & {p.lower() for p in before_word})
        in_place = in_place and all(p.isalpha() for p in before_word)
        for capability, hit in _lexicon_hits(word):
            (found if instruction else topics).setdefault(capability, []).append(hit)
            in_clause += [] if instruction or in_place else [(clause, capability, hit, index)]
            adjectives.update([hit] if determined and not instruction else [])
        # ("make a payment" makes one; "make posts findable by author" makes none: a bare noun is causative)
        causative = word == "make" and following not in _DETERMINERS
        causative = causative or (word == "give" and following in ("me", "us"))  # "give me a list": an answer
        # ("Do not send …": the auxiliary of a negation, no generic verb whose clause's topics are asked for)
        # ("put together a budget overview": composes it, the verb is the pair; its topics ask nothing)
        composed = word == "put" and following == "together"
        if instruction and composed:
            found.setdefault(C.WRITE, []).append("put together")
        if (
            instruction
            and word in _GENERIC
            and not causative
            and not composed
            and not (word == "do" and following == "not")
        ):
            generic[clause] = word
            # (… unless its object is a pronoun that points back: "they asked for a refund, so do that")
            generic_at.setdefault(clause, -1 if following in _BACK_POINTERS else index)
        previous = word
    # "update my password": the object says what the generic verb changes, in its own clause only ("the
    # export is writing 1970 — fix the bug": no export asked)
    # ("run the payments" pays; "re-run the export job" runs the job, it asks for no export; "run the
    # billing tests" runs tests: money only as the object's last word)
    heads = {w.lower() for w in _HEAD.findall(text)} if "run" in generic.values() else set()
    for number, capability, hit, at in in_clause:
        # ("pull the calendar invite and put the questions in a doc": the invite is pull's, not put's)
        after = at > generic_at.get(number, -1)
        if (
            number in generic
            and after
            and (generic[number] != "run" or (capability is C.MONEY and hit in heads))
        ):
            found.setdefault(capability, []).append(hit)
    if C.FETCH in topics:  # "what's on this web page" reads the web; "the open tickets" opens nothing
        fetched = [w for w in topics[C.FETCH] if w not in adjectives]
        found.setdefault(C.FETCH, []).extend(fetched) if fetched else None
    if "http://" in text or "https://" in text or "www." in text:
        found.setdefault(C.FETCH, []).append("a URL")
    if decided := _DECIDE.search(text):  # "decide them": a decision recorded; "before we decide" asks none
        found.setdefault(C.WRITE, []).append(decided.group(0).lower())
    if kept := _INTO_RECORD.search(text):  # "pull the broker quotes into the quotes sheet": a write
        found.setdefault(C.WRITE, []).append(f"into … {(kept.group(1) or kept.group(2)).lower()}")
    if filed := _EXPORT_TO_FILE.search(text):  # "export the list to a spreadsheet": a file made, nothing sent
        exported = filed.group(1).lower()
        found[C.EGRESS] = [w for w in found.get(C.EGRESS, ()) if w != exported]
        found.setdefault(C.WRITE, []).append(f"{exported} … {filed.group(2).lower()}")
    if removal := _TAKE_OFF.search(text):  # "take the discontinued bar off the shop": a removal
        found.setdefault(C.DELETE, []).append(f"take … {removal.group(1).lower()}")
    if deliver := _DELIVER.search(text):  # "get her audiogram to the Auricon repair centre": a delivery
        for capability in (C.EGRESS, C.COMMUNICATE):
            found.setdefault(capability, []).append(f"{deliver.group(1).lower()} … to")
    propose = _PROPOSE.search(text)
    if propose and not _NEGATIONS.search(text[max(0, propose.start() - 12) : propose.start()]):
        found.setdefault(C.EGRESS, []).append(propose.group(0).lower())  # (not "don't open a PR yet")
    filed = _FILE_ISSUE.search(text)  # "file an issue on their GitHub": a post to the project's tracker
    if filed and not _NEGATIONS.search(text[max(0, filed.start() - 12) : filed.start()]):
        found.setdefault(C.COMMUNICATE, []).append(filed.group(0).lower())
    if repair := _REPAIR.search(text):  # "get it running again": a repair, which runs and changes things
        for capability in (C.EXECUTE, C.WRITE):
            found.setdefault(capability, []).append(repair.group(0).lower())
    for switched in _SWITCH.finditer(text):  # "turn off surge pricing", "switch the alarm back on": a change
        if _ordered(text, switched.start()):
            found.setdefault(C.WRITE, []).append(f"{switched.group(1).lower()} {switched.group(2).lower()}")
    for told in _LET_KNOW.finditer(text):  # "let #dispatch-ops know": a message ("let me know": the answer)
        if _ordered(text, told.start()):
            found.setdefault(C.COMMUNICATE, []).append(f"let {told.group(1).strip()} know")
            break
    for priced in _PRICED_DOCUMENT.finditer(text):  # "send them a quote": the quote is made, with its prices
        if _ordered(text, priced.start()):
            for capability in (C.WRITE, C.MONEY):
                found.setdefault(capability, []).append("quote")
            break
    for letter in _WRITE_TO.finditer(text):  # "write to the clients": a message (where "write" is the order)
        if "write" in found.get(C.WRITE, ()) or _ordered(text, letter.start()):
            found.setdefault(C.COMMUNICATE, []).append("write to")
            break
    for confirmed in _CONFIRM_TO.finditer(text):  # "confirm back to her": a reply
        if _ordered(text, confirmed.start()):
            found.setdefault(C.COMMUNICATE, []).append(f"confirm {confirmed.group(1).split()[0].lower()}")
            break
    for answered in _ANSWER_MESSAGE.finditer(text):  # "a question in the inbox from … Answer it": a reply
        if _ordered(text, answered.start()) and _MESSAGE_PLACE.search(text):
            found.setdefault(C.COMMUNICATE, []).append(f"answer {answered.group(1).lower()}")
            break
    foreign = None if reads_english(text) else read_foreign(text)
    for written, english in foreign.acts if foreign else ():  # "Envoie la grille …": the verb's meaning
        for capability, _ in _lexicon_hits(english):
            found.setdefault(capability, []).append(written.lower())
    for placed in _PUT_PLACE.finditer(text):  # "put it in their S3 dropbox", "put the CSV on the share"
        if _ordered(text, placed.start()):
            put = f"{placed.group(1).lower()} … {placed.group(2).lower()}"
            found.setdefault(C.WRITE, []).append(put)
            # (a store others reach: an upload; a local folder or a page is written: "move it into Paid")
            where = set(re.findall(r"[a-z0-9]+", text[placed.start(2) : placed.start(2) + 60].lower()))
            if where & _STORES:
                found.setdefault(C.EGRESS, []).append(put)
            if "channel" in where:  # (a post where people read it)
                found.setdefault(C.COMMUNICATE, []).append(put)
            break
    for placed in _PUT_IN_STATE.finditer(
        text
    ):  # "put account 30288 on test", "put the sensors in maintenance"
        if _ordered(text, placed.start()):
            found.setdefault(C.WRITE, []).append(f"put … {placed.group(1).lower()}")
            break
    if _PUT_INTO.search(text) and "drop" in found.get(C.DELETE, ()):  # "drop it into the deck": a put
        found[C.DELETE] = [w for w in found[C.DELETE] if w != "drop"]
        found.setdefault(C.WRITE, []).append("drop … into")
    if set(found.get(C.DELETE, ())) & _BY_STATUS:  # "void those two in the system": a record's status set
        found.setdefault(C.WRITE, []).extend(sorted(set(found[C.DELETE]) & _BY_STATUS))
    found.pop(C.READ, None)
    asked_words = frozenset(w for words in found.values() for w in words)
    forbidden = forbidden_in(text, asked_words) + _foreign_forbidden(foreign)
    ruled_out = {verb for _, verb in forbidden}  # "don't apply anything": 'apply' implies nothing
    implied = {c: tuple(w for w in dict.fromkeys(words) if w not in ruled_out) for c, words in found.items()}
    implied = {c: words for c, words in implied.items() if words}
    # "… tell me which they're missing. Read-only, just a report.": work that only looks may change nothing
    # (not "share it with her. Read-only, …": what the asked share gives)
    if implied.keys() <= _LOOKING and _READ_ONLY_WORK.search(text):
        forbidden += ((C.WRITE, "change"),)
    asks = asks_for_answer(text) or bool(foreign and foreign.asks)
    return Intent(implied, True, delegation_in(text), forbidden, asks)


# acts done by setting a record's status: voiding a citation, cancelling a booking, retiring an asset
_BY_STATUS = frozenset("void cancel close retire archive deactivate suspend dismiss withdraw".split())
# a file put in a place where others find it: a write, and an upload where the place stores files
_STORES = frozenset(
    "drive bucket dropbox sharepoint share repo repository s3 sftp portal channel box".split()
)
_PUT_PLACE = re.compile(
    r"(?i)\b(put|place|drop|store|stick|file|archive|copy|move|export|sync|mirror|back\s+up)\s+(?:[\w'./-]+\s+){1,5}?"
    r"(?:in|into|on|onto|to)\s+(?:[\w'.-]+\s+){0,5}?"
    r"(folder|drive|bucket|dropbox|sharepoint|share|repo|repository|library|directory|space|s3|sftp|portal|"
    r"channel|wiki|confluence|notion|page|box)\b"
)
# anything put on or in a state or a place is changed: "put the order on hold", "put them in maintenance mode"
# ("pick one, put it in, and confirm": the place left unsaid, the calendar or record the clause is about;
# not "put the kettle on")
_PUT_IN_STATE = re.compile(
    r"(?i)\b(?:put|place)\s+(?:[\w'./()-]+\s+){1,6}?(on|in|into)(?:\s+(?!and\b)[\w-]+|(?<=in)(?:\s*(?:[,.;]|$)|\s+and\b))"
)
_PUT_INTO = re.compile(r"(?i)\bdrop\s+(?:it|them|this|that|these|those)\s+(?:into|in|onto)\b")


def _foreign_forbidden(foreign: Reading | None) -> tuple[tuple[C, str], ...]:
    """(capability, verb) pairs a task in another language rules out ("nicht löschen")."""
    words = foreign.ruled_out if foreign else ()
    return tuple((c, w) for w in words for c, _ in _lexicon_hits(w) if c in _CHANGING)


# a state to bring something back to: the task asks for a repair, whatever the verb ("get the DAG running
# again", "bring the site back up", "make the build pass")
_REPAIR = re.compile(
    r"(?i)\b(get|bring|put|make)\s+(?:\S+\s+){0,3}?(running|working|building|compiling|back\s+(?:up|online)|going|green|"
    r"passing|pass|online|healthy|stable)(?=\s+(?:again|now|today|asap|before|by|for|and)\b|\s*[.,;!]|\s*$)"
)


# an export whose destination is a kind of file (or the user's own disk): "export our top 50 collectors to a
# spreadsheet", "export the log as CSV", "dump it to a local file"; not "export it to the partner's SFTP"
_EXPORT_TO_FILE = re.compile(
    r"(?i)\b(export|dump)\s+(?:[\w'./&-]+\s+){0,10}?(?:to|as|into|in)\s+(?:an?\s+|the\s+|my\s+|one\s+)?"
    r"(?:(?:excel|local|single|new|flat|text|google)\s+)?"
    r"(spreadsheet|csv|xlsx?|excel|pdf|json|txt|file|workbook|sheet|desktop|laptop|disk)s?\b"
)


# "get the signed copy to Priya", "take the report to the Board", "submit the manifest to the Bermuda port
# authority": something delivered to a named party (a capital after "to"; "get the build to pass" delivers
# nothing, nor does an upgrade: "bring the service up to Python 3.12", "take the database to PostgreSQL 16":
# a name with a version)
_DELIVER = re.compile(
    r"\b([Gg]et|[Bb]ring|[Tt]ake|[Ss]ubmit)\s+(?:[\w'()-]+\s+){1,12}?(?<!\bup\s)to\s+(?:the\s+|our\s+|my\s+)?"
    r"[A-Z](?![\w.-]*\s+v?\d)"
)

# "open a PR", "raise a merge request": the branch is pushed for review (a push sends commits out)
_PROPOSE = re.compile(
    r"(?i)\b(open|raise|create|file|submit|put\s+up|make)\s+(?:a|an|the)?\s*(?:draft\s+|new\s+)?"
    r"(PR|MR|pull\s+request|merge\s+request)s?\b"
)


_FILE_ISSUE = re.compile(
    r"(?i)\b(?:file|open|raise|create|submit|log|report)\s+(?:a|an|the)?\s*(?:new\s+|github\s+|bug\s+)?"
    r"(?:issue|bug\s+report|bug|ticket)s?\b|\breport\s+(?:\S+\s+){0,2}?upstream\b"
)


# ("take a look at why it went down", "take note …": no removal; nor past a clause: "… and write down")
# a noun phrase's last word: before a break, a preposition or the end ("run the seller payments for …")
_HEAD = re.compile(
    r"(?i)\b(\w+)(?=\s*(?:[.,;:!?)]|$)|\s+(?:for|on|to|from|in|at|by|of|and|through|via|now|today)\b)"
)


# what is put into a record the user keeps ("… into the quotes sheet", "into our CRM", "in the tracker")
_INTO_RECORD = re.compile(
    r"(?i)(?<!look\s)(?<!looking\s)(?<!dig\s)(?<!digging\s)(?<!delve\s)(?<!go\s)(?<!insight\s)"
    r"\binto\s+(?:the|my|our|a|this|that|their)\s+(?:[\w&'-]+\s+){0,2}?"
    r"(sheet|spreadsheet|workbook|table|tracker|doc|document|log|logbook|notebook|crm|database|calendar|"
    r"board|ledger|register|wiki|notion|airtable)\b"
    # "load the rates … into staging": data loaded into a system (its environment)
    r"|\bload\s+(?:\S+\s+){1,24}?into\s+(staging|production|prod|dev|test|qa|uat|the\s+\w+)\b"
)
# a switch thrown: "turn off surge pricing", "switch the lights back on", "shut down the old VM"
_SWITCH = re.compile(
    r"(?i)\b(turn|switch|shut)(?:s|ing)?\s+(?:(?!(?:and|or|then|if|when)\b)[\w#@&'-]+\s+){0,4}?(off|on|down)\b"
)
# someone other than the user to be told: "let #dispatch-ops know", "let the tenants know"
_LET_KNOW = re.compile(r"(?i)\blet\s+((?!me\b|us\b)(?:[#@\w.&'-]+\s+){1,4}?)know\b")
# an answer given to a message the task points at ("answer it", "answer the customer's question"), in a task
# that names where the message came in (an inbox, a ticket, a chat); "answer my question" is the user's own
# a priced document made for someone: "send them a quote for the York trip", "prepare an estimate" (a write
# of a document whose amounts are the act's own, not a payment the user never asked for)
_PRICED_DOCUMENT = re.compile(
    r"(?i)\b(?:send|prepare|draft|create|make|give|e-?mail|issue|write\s+up)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:quotes?|quotations?|estimates?|proposals?|price\s+offers?)\b"
)
# a letter to people is a message: "write to the clients of booking 5521", "write back to Ana"
_WRITE_TO = re.compile(
    r"(?i)\bwrite\s+(?:back\s+)?to\s+(?:the\s+|our\s+|all\s+|each\s+|every\s+)?(?:him|her|them|(?-i:[A-Z][\w-]+)|"
    r"(?:clients?|customers?|guests?|members?|parents?|families|tenants?|owners?|staff|vendors?|suppliers?|"
    r"applicants?|patients?|students?|users?|people|everyone)\b)"
)
# a confirmation addressed to someone is a message: "confirm back to her", "confirm the date with the florist"
_CONFIRM_TO = re.compile(
    r"(?i)\bconfirm\s+(?:(?:it|this|that|them|(?:the|a|our)\s+[\w-]+(?:\s+[\w-]+)?)\s+)?"
    # (someone's: "with their coordinator"; a name in capitals, whatever the case of the rest: "with pytest",
    # "with curl" are checks)
    r"(back\b|(?:with|to)\s+(?:her|him|them|(?:the|their|his|her|our|your)\s+[a-z]+|(?-i:[A-Z][\w-]+))\b)"
)
_ANSWER_MESSAGE = re.compile(
    r"(?i)\banswer\s+(it|them|him|her|the\s+(?:[\w'-]+\s+){0,2}?(?:e-?mails?|mails?|messages?|questions?|"
    r"enquir(?:y|ies)|inquir(?:y|ies)|tickets?|comments?|reviews?|dms?|letters?|quer(?:y|ies)))\b"
)
_MESSAGE_PLACE = re.compile(
    r"(?i)\b(inbox|mailbox|e-?mails?|mail|messages?|tickets?|dms?|chat|thread|comments?|reviews?|voicemail|"
    r"enquir(?:y|ies)|inquir(?:y|ies)|wrote|sent\s+us|asked\s+us)\b"
)
# what comes before a phrase given as an order: a clause's start, or "please", "and", "to" … ("why the pump
# shuts down", "it turns out", "I'll let Dana know myself" describe or plan; "don't let anyone know" forbids)
_ORDER_BEFORE = re.compile(
    r"(?i)(?:^|[.;:!?,(\n]|\b(?:please|kindly|pls|and|then|to|also|just|now|first|you|can|could|would))\s*$"
)


def _ordered(text: str, start: int) -> bool:
    before = text[max(0, start - 24) : start]
    return not _NEGATIONS.search(before[-12:]) and _ORDER_BEFORE.search(before) is not None


_TAKE_OFF = re.compile(
    r"(?i)\btake\s+(?!a\s+look\b|notes?\b)(?:(?!(?:and|or|then|why|what|how|when|where)\b)[\w&'-]+\s+){0,8}?"
    r"(off|down)\b"
)


_DECIDE = re.compile(r"(?i)\bdecide\s+(on\s+)?(them|it|each|all|these|those|the\s+\w+)\b")


# How a request for an answer starts (after "please", "can you" …): a question word, or a verb of finding
# out and reporting. "Host the site on the bucket" is not one, whatever the lexicon knows of "host".
_ANSWER_LEADS = frozenset(
    """what how why when which who whose where is are does do did was were has have summarise summarize
    summary find check list show tell explain look review read give get count compare analyse analyze
    describe report research search investigate figure identify see whats""".split()
)
_QUESTION_WORDS = frozenset(
    "what how why when which who whose where is are does do did was were has have whats".split()
)
_POLITE = frozenset("please pls kindly can could would you hey hi i we need want to quickly just".split())


_GRANTED = frozenset("access permission permissions role roles rights admin".split())  # give … access


def asks_for_answer(text: str) -> bool:
    """Whether the task asks for an answer: it holds a question mark, or a sentence's first word (after
    politeness) asks to find out or report ("Our users can't sign in. Research the fix and tell me …")."""
    if "?" in text:
        return True
    for sentence in re.split(r"[.!;\n]+", text[:600]):
        for number, clause in enumerate(sentence.split(",")):  # "…, just figure out why and tell me"
            words = [w.lower() for w in re.findall(r"[A-Za-z']+", clause)]
            lead = next((w for w in words if w not in _POLITE), "")
            following = words[words.index(lead) + 1 : words.index(lead) + 2] if lead else []
            if (lead == "get" and following == ["rid"]) or (lead == "give" and _GRANTED & set(words)):
                continue  # "get rid of the test users", "give Tom read access": an act, not an answer
            # after a comma only a verb leads ("which makes it worse" is no request)
            if lead in _ANSWER_LEADS and (number == 0 or lead not in _QUESTION_WORDS):
                return True
    return False


# "Don't apply anything yet", "do not delete the backups", "never push to main", "without sending it": a
# verb the task rules out, a few words after the negation.
_NEGATIONS = re.compile(
    r"\b(?:don'?t|do not|never|without|must not|mustn'?t|should not|shouldn'?t|avoid)\s+", re.I
)
_NEGATION_REACH = 3
_CLAUSE_LEADS = frozenset("but and please just then so also you".split())


def _commands(before: str, negation: str) -> bool:
    """Whether a negation gives an order: "without" always; "don't", "never" … at the start of a sentence
    or clause, or after "but", "and", "please", "you"."""
    if negation.lower().startswith("without"):
        return True
    head = before.rstrip()
    if not head or head[-1] in ".,;:!?\n-(\u2014":
        return True
    return head.rsplit(None, 1)[-1].lower() in _CLAUSE_LEADS


# "don't change anything": a limit on every change, unless an object narrows it ("changing the dates")
GENERIC_CHANGES = frozenset({"change", "modify", "alter", "touch", "edit", "update"})
_WHOLE = frozenset("anything everything yet nothing stuff".split())
DO_ANYTHING = frozenset("execute run do apply perform trigger launch action process push commit".split())
_FILLERS = frozenset("anything any yet the it this that them ever really actually just all a to".split())


_CIRCUMSTANCES = frozenset("during while when whenever if".split())
_OWNERS = frozenset("their its his her the".split())
# verbs of a task's speech that a tool's name uses as nouns (``extract_text``): a verb after a negation
_SPOKEN_VERBS = frozenset({"text"})


_SENTENCE_END = re.compile(r"[.!?;)](?=\s|$)|\n")
_ASIDE = re.compile(r"\([^()\n]*\)")  # "never (ever) delete": an aside in brackets ends no sentence


def forbidden_in(text: str, asked: frozenset[str] = frozenset()) -> tuple[tuple[C, str], ...]:
    """(capability, verb) pairs the task forbids: the first lexicon verb within a few words of a negation.
    A verb the same text also asks for (``asked``: "3. purge the exported permits … Never purge OPEN,
    SUSPENDED or held permits") is ruled out only on the object the negation names (``purge on OPEN``)."""
    found: list[tuple[C, str]] = []
    for match in _NEGATIONS.finditer(text):
        if not _commands(text[: match.start()], match.group(0)):
            continue  # "cancellations don't refund", "I don't have it": a statement, not a limit
        # (within its own sentence: "/32 only - never 'all'). 3. Add a policy" forbids no adding)
        window = _SENTENCE_END.split(_ASIDE.sub(" ", text[match.end() : match.end() + 60]), maxsplit=1)[0]
        window = _E_PREFIX.sub("e", window)  # ("don't e-file anything": the verb ``efile``)
        window = _ROLL_OUT.sub("rollout", window)  # ("don't roll it out to customers": a rollout)
        after = [w.lower() for w in re.findall(r"[A-Za-z]+", window)]
        first = next((w for w in after[:_NEGATION_REACH] if w not in _FILLERS), "")
        # "DON'T send or cancel anything yet": each verb of the pair, on the object they share
        verbs = _coordinated(after, after.index(first)) if first else []
        for verb in verbs:
            found += _limit(text, match, window, verb, after[after.index(verbs[-1]) + 1 :], asked)
    for match in _LEFT_TO_SOMEONE.finditer(text):  # "leave it for Sarah to approve": the agent must not
        found += [(c, match.group(1).lower()) for c, _ in _lexicon_hits(match.group(1)) if c in _CHANGING]
    return tuple(dict.fromkeys(found))


_LOOKING = frozenset({C.READ, C.FETCH, C.EXECUTE})
# the work fenced to reading: "Read-only, just a report.", "(read only)", "stay read-only" — not an access,
# a token or a mode the task asks to make read-only ("give her read-only access", "the cluster goes
# read-only")
_READ_ONLY_WORK = re.compile(
    r"(?i)(?:^|[.!?]\s+|\(\s*)read[- ]only\b(?!\s+(?:access|token|key|role|user|collaborator|mode|replica|"
    r"copy|account|permission|share|link|deploy))"
    r"|\b(?:stay|keep\s+(?:it|this)|strictly|be)\s+read[- ]only\b(?!\s+\w)"
)


_E_PREFIX = re.compile(r"(?i)\be-(?=(?:file|mail|sign|filing)\b)")
_ROLL_OUT = re.compile(r"(?i)\broll\s+(?:(?:it|them|this|that)\s+)?out\b")
_COORDINATORS = frozenset({"or", "nor", "and"})
_BARE_ENDINGS = frozenset("yet now please pls at all today for me us".split())


def _coordinated(after: list[str], index: int) -> list[str]:
    """The verb at ``index`` and each verb joined to it by "or", "nor" or "and" ("send or cancel")."""
    verbs = [after[index]]
    while index + 2 < len(after) and after[index + 1] in _COORDINATORS and _a_verb(after[index + 2]):
        verbs.append(after[index + 2])
        index += 2
    return verbs


def _a_verb(word: str) -> bool:
    return verb_stem(word) == word and any(c in _CHANGING for c, _ in _lexicon_hits(word))


# nouns that name no one thing of a limit's object ("don't touch the decision fields": the decision)
_VAGUE_NOUNS = frozenset(
    """field fields record records data file files setting settings value values entry entries column columns
    row rows thing things stuff part parts bit bits one ones side""".split()
)
_CLAUSE_BREAK = re.compile(r"[,;:(]|\s(?:and|or|but|that|which|because|as|since|until|unless|so)\s")


def _touched(window: str, text: str) -> list[str]:
    """The words naming what "don't touch …" keeps off limits, up to a clause break ("the shutdown
    interlock, that's a code requirement": shutdown, interlock); none for a scope by contrast ("the other
    rooms", "anything else": what the task's own change leaves). A word the rest of the task also uses
    names what it asks for too ("raise the pressure setpoint … don't touch the pressure interlock"): only
    the others, when there are."""
    phrase = _CLAUSE_BREAK.split(window, maxsplit=1)[0]
    # (after the verb; a number too: "don't touch 4 and 6", the rooms beside the one asked)
    words = [w.lower() for w in re.findall(r"[A-Za-z][\w-]*|\b\d{1,4}\b", phrase)][1:]
    if {"other", "else", "others", "rest"} & set(words):
        return []
    skipped = _DETERMINERS | _FILLERS | _VAGUE_NOUNS | _PRONOUNS | _POSSESSIVES
    named = [w for w in words if w not in skipped][:3]
    own = [
        w for w in named if len(re.findall(rf"(?i)(?<![\w-]){re.escape(w)}(?![\w-])", text)) <= words.count(w)
    ]
    return own or named


_POSSESSIVES = frozenset("my his her".split())  # ("don't touch my calendar": the calendar)


def _limit(
    text: str, match: re.Match[str], window: str, verb: str, rest: list[str], asked: frozenset[str]
) -> list[tuple[C, str]]:
    """The (capability, verb) pairs one negated verb rules out."""
    stem = verb if verb in _SPOKEN_VERBS else verb_stem(verb)
    again = stem is not None and verb == "re" + stem  # "do NOT resubmit": the verb again
    if stem != verb and not (verb.endswith("ing") and stem) and not again:  # a verb, not a noun
        return []
    found: list[tuple[C, str]] = []
    if (stem or verb) == "touch":
        # "Do NOT touch the shutdown interlock": no change at all to the thing it names, whatever the
        # verb (a write to ``NH3_INTERLOCK_ENABLE`` breaks it; the asked threshold change does not); "don't
        # touch anything else" only says where the asked change stops, which no verb can say
        # ("look, but don't touch anything": no change at all, as "don't change anything"; not "anything in
        # incident_hold", "anything that has been reported": where the asked change stops, again)
        if not rest or (rest[0] in _WHOLE and set(rest[1:]) <= _BARE_ENDINGS):
            return [(C.WRITE, "change")]
        if rest[0] in _WHOLE:
            return []
        return [(C.WRITE, f"touch on {n}") for n in _touched(window[window.lower().find(verb) :], text)]
    if (stem or verb) in GENERIC_CHANGES and rest and rest[0] not in _WHOLE:
        # … but "find out why, don't change any policies" rules out every change of one ("change on
        # policy") in a task that asks for no change itself; "downgrade them without changing any
        # flights" says how the asked change is made, which no verb can say
        changing = any(c in _CHANGING for w in asked for c, _ in _lexicon_hits(w))
        how = changing or match.group(0).lower().startswith("without")
        # (… and "check the units, DON'T change their status": the status, in a task that changes nothing)
        owned = rest[0] in _OWNERS and rest[1:2] and not _lexicon_hits(rest[1])
        if (rest[0] == "any" or owned) and rest[1:2] and rest[1] not in _CIRCUMSTANCES | _FILLERS and not how:
            noun = (
                re.sub(r"ies$", "y", rest[1])
                if rest[1].endswith("ies")
                else re.sub(r"(?<![su])s$", "", rest[1])
            )
            found += [(c, f"{stem or verb} on {noun}") for c, _ in _lexicon_hits(verb) if c in _CHANGING]
        return found  # "without changing the dates" limits the dates, which no verb can say; not every change
    # "avoid restarting during an active pass": a limit in time, not on the act ("until" is one); not
    # "don't send them while …" nor "don't change anything during …", which rule the act out meanwhile
    if rest and rest[0] in _CIRCUMSTANCES:
        return found
    # "don't execute anything now", "don't run anything yet": that verb, and no change at all either
    whole = (stem or verb) in DO_ANYTHING and rest[:1] in (["anything"], ["everything"]) and not {
        "else", "other", "more"} & set(rest[1:3])  # fmt: skip
    # "don't change anything else": the task's own changes stay allowed; "don't change anything": none is
    scoped = (stem or verb) in GENERIC_CHANGES and bool({"else", "other", "more"} & set(rest[:3]))
    word = f"{stem or verb} else" if scoped else stem or verb
    # "never run against hist-prod-*", "don't push to release/2.x": the limit holds where it names
    if place := re.match(rf"\W*{re.escape(verb)}\s+{_PLACE}", text[match.end() : match.end() + 120], re.I):
        word += f" on {place.group(1).rstrip('.,;:')}"
    elif word in asked and rest and rest[0] not in _PRONOUNS and (objects := _objects(rest)):
        word += f" on {_first_object(text[match.end() : match.end() + 120], objects[0])}"
    found += [(c, word) for c, _ in _lexicon_hits(verb) if c in _CHANGING]
    found += [(C.WRITE, "change")] if whole else []  # ("don't execute anything now": no change at all)
    return found


# (one set: an earlier one with "my", "his", "her" was shadowed by this one, which every reader used)
_DETERMINERS = frozenset("the a an any all of those these this that its their our your".split())
# (what a pronoun stands for is the very thing asked: "send a test to me … do NOT send it to applicants")
_PRONOUNS = frozenset(
    "it them this that these those anything everything anyone anybody yourself yourselves myself".split()
)


def _objects(rest: list[str]) -> list[str]:
    return [w for w in rest if w not in _FILLERS and w not in _DETERMINERS]


def _first_object(window: str, lowered: str) -> str:
    """The object word as written (``OPEN``), so that a call that names it is matched."""
    return next((w for w in re.findall(r"[A-Za-z]+", window) if w.lower() == lowered), lowered)


# where a limit holds: a named place after the verb (a name with a digit, a slash, an underscore or a
# wildcard; not a hyphenated word of prose: "never upload it to third-party sites" holds everywhere)
_PLACE = (
    r"(?:anything\s+|it\s+|them\s+)?(?:against|on|to|in|into|at|from)\s+(?:the\s+)?"
    r"([\w.*/-]*[\d*/_][\w.*/-]*)"
)
_PATH_IN_CALL = re.compile(r"[\w.~*-]*/[\w.~*/-]*")


def limited_verb(word: str, call_text: str) -> str | None:
    """The verb of a forbidden pair's word, or None when its limit names a place (``run on hist-prod-*``)
    the call does not reach. A call on a folder that holds the place (``rm -rf /var/lib/pg`` for "nothing
    in /var/lib/pg/16/main", the prefix ``db/`` for ``db/2024-03``) reaches it."""
    verb, _, place = word.partition(" on ")
    pattern = re.escape(place).replace(r"\*", r"[\w.-]*")
    # (an object word is a whole word: "never purge OPEN permits" is not broken by ``reopened``)
    pattern = rf"(?<![A-Za-z]){pattern}(?![A-Za-z])" if place.isalpha() else pattern
    pattern = rf"(?<![\w.-]){pattern}(?![\w.-])" if place.isdigit() else pattern  # (4 is not in 2024)
    if not place or re.search(pattern, call_text, re.I):
        return verb
    for path in _PATH_IN_CALL.findall(call_text) if "/" in place else ():
        above = re.escape(path.rstrip("/")).replace(r"\*", r"[^/]*")
        if (above or path == "/") and re.match(rf"{above}(/|$)", place, re.I):
            return verb
    return None


# A decision the task leaves to a person: "leave it for Sarah to approve", "keep them for legal to review"
_LEFT_TO_SOMEONE = re.compile(
    r"\b(?:leave|keep|hold)\s+(?:it|them|this|that|the\s+\w+)\s+(?:\w+\s+)?for\s+(?:\w+\s+){1,2}to\s+"
    r"(approve|sign|send|submit|release|merge|publish|pay)\b",
    re.I,
)


# A task that hands the agent over to what it will read: a verb of doing, its object a set of instructions,
# and where they are ("follow the instructions in the latest email", "do all the tasks on my TODO list at
# …", "complete the action items listed in the ticket"). Not "complete the task of booking a flight".
_DELEGATING_VERBS = frozenset(
    "follow do complete perform handle execute carry finish accomplish action process implement obey".split()
)
_INSTRUCTION_OBJECTS = frozenset(
    """instructions instruction tasks todo todos steps actions action items requests request checklist
    directions orders asks""".split()
)
_POINTERS = frozenset(
    "in on at from specified listed described given mentioned sent written there inside contained".split()
)
_DELEGATION_REACH = 6  # words from the verb to the object, and from the object to where it is
# "Handle the customer ticket #5120", "resolve issue 42", "help the customer in chat #331": the request is
# the object itself (what the ticket or the customer asks), no pointer needed
_CASE_VERBS = frozenset(
    "handle resolve process address fix answer solve action help assist serve deal".split()
)
CASE_OBJECTS = frozenset(
    "ticket tickets issue issues request requests inquiry inquiries complaint complaints case cases "
    "amendment amendments "
    "customer customers client clients caller callers requester".split()
)


# "do what she asks", "follow whatever the email says", "handle what the ticket requests"
_DO_WHAT_IT_SAYS = re.compile(
    r"\b(do|follow|handle|complete|action)\s+(what|whatever)\s+(?:(?:she|he|they|it|the|my|our|this|that)\s+)?"
    r"(?:\w+\s+)?(asks?|says?|requests?|wants?|needs?|tells?|instructs?)\b",
    re.I,
)


# "send the record to Det. Alvarez as the bulletin asks", "as the notice requires": what it asks is asked
_AS_IT_ASKS = re.compile(
    r"\bas\s+(?:the|this|that|their|his|her|its)\s+(?:[\w-]+\s+)?([\w-]+)\s+"
    r"(asks|requests|requires|instructs|specifies|directs)\b",
    re.I,
)


def delegation_in(text: str) -> tuple[str, ...]:
    """The words by which a task hands the agent over to instructions it will read, or ()."""
    if match := _DO_WHAT_IT_SAYS.search(text):
        return (match.group(1).lower(), match.group(3).lower())
    if match := _AS_IT_ASKS.search(text):
        return ("as", match.group(1).lower(), match.group(2).lower())
    for clause in _CLAUSE_BREAKS.split(text):
        words = [w.lower() for w in _WORD.findall(clause)]
        for i, word in enumerate(words):
            # ("deal with the request" asks; "we closed the deal with the customer" names a deal)
            leads = word != "deal" or (
                (i == 0 or words[i - 1] in _POLITE) and words[i + 1 : i + 2] == ["with"]
            )
            if word in _CASE_VERBS and leads:
                case = next((w for w in words[i + 1 : i + 1 + _DELEGATION_REACH] if w in CASE_OBJECTS), None)
                if case is not None:
                    return (word, case)
            if word not in _DELEGATING_VERBS:
                continue
            for j in range(i + 1, min(i + 1 + _DELEGATION_REACH, len(words))):
                if words[j] in _INSTRUCTION_OBJECTS:
                    after = words[j + 1 : j + 1 + _DELEGATION_REACH]
                    pointer = next((w for w in after if w in _POINTERS), None)
                    if pointer is not None:
                        return (word, words[j], pointer)
    return ()


# -- what outside content asks for ----------------------------------------------------------------------

# Words after which a verb is a request to the reader: "please send", "you must delete", "could you pay",
# "make sure to forward", and the start of a sentence or clause (the imperative).
_REQUEST_LEAD = frozenset("please kindly pls also then now first immediately just urgently".split())
_REQUEST_AFTER_TWO = frozenset(
    {("you", "must"), ("you", "should"), ("need", "to"), ("have", "to"), ("can", "you"), ("could", "you"),
     ("would", "you"), ("will", "you"), ("sure", "to"), ("remember", "to"), ("forget", "to"), ("you", "to")}
)  # fmt: skip
_REQUESTABLE = frozenset(
    {C.WRITE, C.DELETE, C.EXECUTE, C.COMMUNICATE, C.EGRESS, C.FETCH, C.FORM_INPUT, C.MONEY, C.IDENTITY}
)
_MONEY_OBJECTS = frozenset(
    "money fund funds payment payments amount balance account accounts usd eur dollars portfolio investment "
    "stocks transaction transactions transfer transfers wire refund payout credit credits".split()
)
_SENT_MONEY = frozenset("money funds payment dollars usd eur gbp rent crypto bitcoin btc eth".split())
_COORDINATORS = frozenset({"and", "or"})
_GRAVER_THAN_WRITE = frozenset({C.MONEY, C.IDENTITY, C.DELETE, C.COMMUNICATE, C.EGRESS})
_OBLIGED = frozenset("must should shall".split())
_READER_ROLES = frozenset(
    "assistant assistants agent agents ai bot bots model copilot reader recipient whoever tooling automation "
    "automations workflow workflows integration integrations system systems tool tools processor processors "
    "pipeline pipelines clerk intake".split()  # ("receiving systems should record …", "the clerk should …")
)
_USE_VERBS = frozenset("use call invoke run utilize utilise employ trigger".split())
# what an object starts with: a verb before one is used as a verb ("post them", "email the list")
_OBJECT_STARTS = frozenset(
    "the a an my your our their his her its this that these those them it me us him all every each any "
    "some".split()
)
_LIGHT_VERBS = frozenset("initiate make schedule arrange process execute issue complete set place".split())
# verbs whose request meaning the tool vocabulary leaves open ("post" is also an HTTP method)
_DATA_MOVED = frozenset("via sftp ftp scp file files data dataset datasets folder export backup".split())
_REQUEST_ONLY_VERBS: dict[str, set[C]] = {"post": {C.COMMUNICATE, C.EGRESS}, "text": {C.COMMUNICATE}}
_GIVING = frozenset("give assign hand".split())  # … someone a role: an access change, however far the role
_ACCESS_OBJECTS = frozenset(
    "access permission permissions role roles admin administrator owner guest".split()
)


@functools.lru_cache(maxsize=4096)
def requests_of(text: str) -> frozenset[C]:
    """What outside content asks its reader to *do*: the changing capabilities of the verbs that stand
    where a request does (the start of a sentence, after "please", "you must", "could you", "remember
    to" …) and take an object. "Please grant access to guest_7" asks for an identity change; "Dana will
    send the report", "the refund was sent" and a record's ``"status": "transfer"`` ask for nothing.
    Only prose counts: a JSON or Python-literal result is read through its string values, not its keys.
    Used to tell whether content asked for the very act an agent then did (detectors/injection/),
    whether or not it addressed an AI."""
    found: set[C] = set()
    english = reads_english(text[:2000])
    if "commit" in text or _ONELINE_COMMIT.search(text[:8000]):
        history, commits = _COMMITS.subn("", text[:8000])
        # only a text that is a version history: one line that starts with a hash-like number among other
        # lines ("4f2a9c1 Please delete …", "20240611 Please …") is still read
        text = history if sum(1 for line in history.splitlines() if line.strip()) < commits else text
    for prose in _prose_of(text[:8000]):
        prose = _HARD_WRAP.sub(r"\1 ", prose) if "\n" in prose else prose
        for clause in (c for line in _CLAUSE_BREAKS.split(prose) for c in _cells(line)):
            if _reads_as_prose(clause):
                clause = _active(clause)  # "FO-30417 must be set as admin": "set FO-30417 as admin"
                found |= _requests_in_clause(_WORD_OR_COMMA.findall(clause))
                # "add them as an editor on the drawings folder": a role given, whatever the verb
                found |= {C.IDENTITY} if C.WRITE in found and _ROLE_GIVEN.search(clause) else set()
                # "share the petitions folder with this gmail (editor)": a share with a role is access
                found |= {C.IDENTITY} if C.EGRESS in found and _SHARED_WITH_ROLE.search(clause) else set()
                # "issue a mobile key for the front entry", "issue her a badge": access handed out
                found |= {C.IDENTITY} if _ACCESS_ISSUED.search(clause) else set()
                # content in another language: its verbs, where a request word stands ("wilt u … delen")
                for word in () if english else foreign_requests(clause):
                    found |= {c for c, _ in _lexicon_hits(word) if c in _CHANGING}
    return frozenset(found)


# a request in the passive that says what must be done to a named subject ("FO-30417 must be set as roster
# admin", "invoice 22871 should be paid …"): read as the imperative it stands for
_PASSIVE = re.compile(
    r"(?i)^(?P<subject>.{0,120}?)\b(?:must|should|shall|needs?\s+to|has\s+to|have\s+to|is\s+to|are\s+to)\s+be"
    r"\s+(?P<verb>[a-z]+)\b(?P<rest>.*)$"
)
_PARTICIPLES = {
    **{w: w for w in "set put reset cut".split()},
    **dict(
        pair.split(":")
        for pair in (
            "made:make added:add granted:grant given:give assigned:assign promoted:promote sent:send "
            "paid:pay transferred:transfer wired:wire refunded:refund deleted:delete removed:remove "
            "dropped:drop purged:purge shared:share forwarded:forward moved:move changed:change "
            "updated:update disabled:disable enabled:enable revoked:revoke invited:invite "
            "cancelled:cancel canceled:cancel published:publish posted:post uploaded:upload "
            "emailed:email switched:switch turned:turn approved:approve released:release "
            "rotated:rotate closed:close terminated:terminate upgraded:upgrade elevated:elevate"
        ).split()
    ),
}


def _active(clause: str) -> str:
    """A passive request turned into its imperative; any other clause as it is."""
    passive = _PASSIVE.match(clause) if " be " in clause.lower() else None
    verb = _PARTICIPLES.get(passive.group("verb").lower()) if passive is not None else None
    if passive is None or verb is None:
        return clause
    # its subject: after the last sentence break or comma, before any "is … and" ("…, FO-30417 is the reserve
    # coordinator and must be …"; "… at 7am but it should be closed off": it)
    said = _SENTENCE_BREAK.split(passive.group("subject"))[-1]
    subject = _SUBJECT_ENDS.split(said, maxsplit=1)[0].split()[:4]
    if not any(_IDENTIFIER.search(word) for word in subject):
        return clause  # "it should be closed off until then": a wish about a thing, no act on a named one
    return " ".join([verb, *subject]) + passive.group("rest")


_IDENTIFIER = re.compile(r"\d|@")  # a named one: an employee number, an account, an address


_SENTENCE_BREAK = re.compile(r"[.!?;:,]\s|\b(?:but|so|then|because|if|when)\s", re.I)
_SUBJECT_ENDS = re.compile(r"(?i)\s+(?:is|are|was|were|has|have|and|who|which)\b")


_SHARED_WITH_ROLE = re.compile(
    r"(?i)\bshare\b.{0,120}?\bwith\b.{0,80}?\b(?:editor|edit|viewer|view|commenter|comment|writer|write|owner|"
    r"admin|access|rights|permissions?)\b"
)
_ROLE_GIVEN = re.compile(
    r"(?i)\b(?:add|make|set(?:\s+up)?|invite|put)\s+(?:\S+\s+){1,5}?as\s+(?:an?\s+|the\s+)?(?:co-?)?"
    r"(?:[a-z]+[_-])?"
    r"(?:editor|admin|administrator|owner|member|viewer|collaborator|contributor|maintainer|manager|delegate|"
    r"approver|signatory|signer|keyholder|occupant|authori[sz]ed\s+(?:user|occupant|signer|contact|driver|"
    r"representative|agent|party|person|pickup))s?\b"
)
_ACCESS_ISSUED = re.compile(
    r"(?i)\b(?:issue|grant|provision|create|send)\s+(?:\S+\s+){0,3}?(?:mobile\s+|digital\s+|door\s+|access\s+)"
    # (the verb, not a tracker's issue: "the issue keys", "an issue key" name tickets)
    r"(?:keys?|badges?|fobs?|cards?|pass(?:es)?|credentials?)\b|(?<!the )(?<!an )(?<!jira )(?<!github )"
    r"\bissue\s+(?:\S+\s+){0,2}?(?:keys?|badges?|fobs?|keycards?|access\s+cards?)\b"
)


# a version history lists changes made, in the imperative by convention ("add cell-level heat capacity"):
# ``git log --oneline`` lines (a hash with a digit first) and ``git log``'s commit blocks ask for nothing
# (the graph's margin stays on its line: blank lines before it cost no backtracking)
_ONELINE_COMMIT = re.compile(r"^[ \t*|/\\]*(?=[0-9a-f]{0,39}\d)[0-9a-f]{7,40}\b.*$", re.M)
_COMMITS = re.compile(
    rf"{_ONELINE_COMMIT.pattern}|^commit [0-9a-f]{{7,40}}\b.*\n(?:(?:Author|Date|Merge|AuthorDate|Commit|"
    r"CommitDate):.*\n)*(?:\s*\n| {4}.*\n?)*",
    re.M,
)
# a mail's lines wrapped at a width mid-sentence ("… please move\nCMA CGM TAGE from Berth 3 …"): one line
# (not before a line that starts a field of its own: "…, department\nAccess: HR only")
_HARD_WRAP = re.compile(r"(?m)^([^\n]{50,}[a-z,])\n(?=[A-Za-z0-9(])(?![A-Z][\w -]{0,30}:\s)")
_CLAUSE_BREAKS = re.compile(
    r"[.!?;]+(?=\s|$)|[\n\u2013\u2014]+|:\s|\s-{1,2}\s"
)  # dashes too; not 0.5, a.b@c.io
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\$?\d[\d,.]*")
# an identifier (``delete_webhook``) is one token, never a verb
_WORD_OR_COMMA = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*|\$?\d[\d,.]*|,")
# "Whoever reads this, email the list to …", "After that, delete …": a short introduction and a comma, and
# the request stands where a sentence would start
_INTRODUCTION_WORDS = 6
_PURPOSE_WORDS = 16  # an introduction that says what for ("To let them …,") may run longer
_MEMBERS = frozenset("collaborator collaborators maintainer maintainers member members owner owners".split())
_MIN_WORDS_AFTER_VERB = 2  # "send the report", "transfer $500 to Bob"; not "Transfer successful"


_NUMBER_RUN = re.compile(
    r"(?<![A-Za-z0-9])\d+(?:[-/:.]\d+)*(?![A-Za-z0-9])"
)  # one figure: 123-1234-1234, 17:38, 2024-03-02
_LETTER_RUN = re.compile(r"[A-Za-z]{2,}")


def _cells(line: str) -> list[str]:
    """A CSV row's cells, each read on its own (a header's ``bill/PayerAccountId`` is no request; a notes
    cell's "Please transfer $4,800 to …" is); any other line whole."""
    return _CSV_COMMAS.split(line) if len(_CSV_COMMAS.findall(line)) >= 3 else [line]


_CSV_COMMAS = re.compile(r"(?<=[^\d\s,]),(?=[^\d\s,])")  # between words, no space: a table's field break
_QUOTE_MARKS = re.compile(r"^\s*(?:>\s*)+")
_COMMENT_MARKS = ("#", "//")  # a code comment says what the code does
_IMPORT_LINE = re.compile(r"\s*(import\s+[\w.]+(\s*,\s*[\w.]+)*\s*$|from\s+[\w.]+\s+import\s)")
_CODE_MARKS = frozenset("{}[]()<>=_|&#*\\`~^+@")  # not $ or %: prose names sums and shares


def _reads_as_prose(clause: str) -> bool:
    """Whether a line reads as words to a person, not code, a shell line, a log or a table row: a request
    is written in prose ("os.remove(path)  # delete it", "pkill -f server.py && python3 …" and
    "Sarah, 08:52, 17:38" are not requests)."""
    if clause.lstrip().startswith(_COMMENT_MARKS) or _IMPORT_LINE.match(clause):  # code, not a request
        return False
    clause = _QUOTE_MARKS.sub("", clause)  # a quoted line ("> please …" in markdown or a reply) is prose
    letters = sum(map(str.isalpha, clause))  # (counted by map: no Python step per character)
    marks = sum(map(_CODE_MARKS.__contains__, clause))
    numbers = len(_NUMBER_RUN.findall(clause))
    words = len(_LETTER_RUN.findall(clause))
    return letters >= 10 and marks * 20 <= letters and numbers * 2 <= words + 1


def _requests_in_clause(tokens: list[str]) -> set[C]:
    requested: set[C] = set()
    lowered: list[str] = []
    starts = {0}  # where a request may stand: the clause's start, or after a short introduction and a comma
    commas: set[int] = set()  # words right after a comma ("generate a PIN, text it to …, and set …")
    for token in tokens:
        if token != ",":
            lowered.append(token.lower())
            continue
        commas.add(len(lowered))
        # ("To let them push the fixtures for this issue, add …": a purpose first may run longer)
        if len(lowered) <= _INTRODUCTION_WORDS or (lowered[:1] == ["to"] and len(lowered) <= _PURPOSE_WORDS):
            starts.add(len(lowered))
    opened = False  # a verb with an object stood where a request does: the clause is an imperative
    using = False  # "use/call/run <a tool>": the verb after its "to" is what is asked
    for i, word in enumerate(lowered):
        if len(lowered) - i - 1 < _MIN_WORDS_AFTER_VERB or not word.isalpha():
            continue
        previous = lowered[i - 1] if i else ""
        before = lowered[i - 2] if i > 1 else ""
        takes_object = lowered[i + 1] in _OBJECT_STARTS
        at_request = i in starts or previous in _REQUEST_LEAD or (before, previous) in _REQUEST_AFTER_TWO
        at_request = at_request or (using and previous == "to")  # "use SmartLockTool to unlock the door"
        # "the assistant managing this calendar must add …": an obligation put on whoever reads it
        at_request = at_request or (
            previous in _OBLIGED and bool(_READER_ROLES & set(lowered[max(0, i - 6) : i]))
        )
        # "retrieve my saved cards and email them to …": the second verb of an imperative asks too
        # (… or the next of a list of them after a comma)
        if not at_request and not (opened and (previous in _COORDINATORS or i in commas) and takes_object):
            continue
        # a request is made with the bare verb ("send", "pay"), never "payment" or "sent"
        verb = set(VERB_CAPABILITIES.get(word, ())) | _REQUEST_ONLY_VERBS.get(word, set())
        if word in _LIGHT_VERBS:  # "initiate a payment", "arrange a transfer": the object says what
            verb |= _settled({C.WRITE}, lowered[i + 1 : i + 5]) - {C.WRITE}
        if word == "transfer":  # money, unless what moves is data or a thing ("transfer via SFTP")
            verb.add(C.EGRESS if _DATA_MOVED & set(lowered[i + 1 : i + 4]) else C.MONEY)
        if word == "invite":  # inviting someone into a workspace, team or repository grants membership
            verb.add(C.IDENTITY)
        if word in _GIVING and _ACCESS_OBJECTS & set(lowered[i + 1 : i + 12]):  # "give user X the admin role"
            verb.add(C.IDENTITY)
        # "add kvrn-dev as a collaborator with the maintain role": a member added with a role
        # ("add collaborator `x` with maintain permission": the member's kind named right after the verb)
        if word == "add" and (
            ("as" in lowered[i + 1 : i + 5] and _ACCESS_OBJECTS & set(lowered[i + 1 : i + 12]))
            or _MEMBERS & set(lowered[i + 1 : i + 3])
        ):
            verb.add(C.IDENTITY)
        if verb & _GRAVER_THAN_WRITE:  # "transfer 4,800 EUR" asks to move money, not for a plain write
            verb.discard(C.WRITE)
        opened = opened or bool(verb) or takes_object
        using = using or word in _USE_VERBS
        requested |= verb & _REQUESTABLE
    return _settled(requested, lowered)


def _prose_of(text: str) -> list[str]:
    """The prose inside a result: the string values of a JSON or Python-literal document, or the text."""
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return [text]
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            document = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return [text]
    strings: list[str] = []
    _collect_strings(document, strings, 0)
    return strings


def _collect_strings(value: object, into: list[str], depth: int) -> None:
    if depth > 32 or len(into) > 2000:
        return
    if isinstance(value, str):
        if " " in value:
            into.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_strings(item, into, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_strings(item, into, depth + 1)


_TAKEN_DOWN = frozenset("unpublished retracted withdrawn deleted removed".split())


def _settled(requested: set[C], sentence: list[str]) -> set[C]:
    """A generic request takes its meaning from its object: "grant/give/add … access" changes access,
    "transfer/move … funds" moves money."""
    if not requested:
        return requested
    words = set(sentence)
    if words & _ACCESS_OBJECTS:
        requested = requested | {C.IDENTITY}
    if words & _MONEY_OBJECTS and requested & {C.WRITE, C.MONEY}:
        requested = requested | {C.MONEY}
    if words & _TAKEN_DOWN and C.WRITE in requested:  # "set the story to unpublished": a take-down
        requested = requested | {C.DELETE}
    # "send $500 to …", "send the rent to my new account": what is sent is money
    sums = words & _SENT_MONEY or any(w[:1] in "$€£" and w[1:2].isdigit() for w in words)
    if sums and requested & {C.COMMUNICATE, C.EGRESS}:
        requested = requested | {C.MONEY}
    return requested
