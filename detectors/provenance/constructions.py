"""The constructions the content model reads: per sentence, then per window of up to three sentences.

Each feature is a construction of general English (and a few words of German, French, Spanish, Italian
and Portuguese), never a sentence of any corpus: who is addressed (an AI by a dedication, a vocative, a
condition on being one, an identity given to "you"; or a person by a greeting, a sign-off, an @-mention),
what the text refers to (the agent's instructions, answer, tools, the user it works for, the output it is
writing), how it asks (imperative sentences, modal obligation, override words near "previous", tool
directions, high-impact verbs, destinations inside a directive, secrecy about the act), how it is dressed
(chat-format role markers, fake authority headers, hidden markup, invisible characters) and how data-like
it is. Each feature carries the sign its weight may take in the model: evidence of addressing can only
raise the score, evidence of ordinary content can only lower it (``Feature.sign``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from detectors.capabilities.words import VERB_CAPABILITIES, verb_stem
from detectors.provenance.tokens import _EMAIL, _HOST, _IBAN, _URL, _WALLET
from schemas.types import Capability as C

FEATURE_VERSION = 2
MAX_TEXT = 8000  # characters of one result read (the contract keeps 4,000)
MAX_SENTENCES = 200

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{1,}|(?<=:)\s+(?=[A-Z])")
# Words: letters of any script (the few non-English lexicon words match too); a hyphenated compound is one
# word ("User-Agent", "the-agent-company"), and addresses are not words at all (a host named after agents
# is not an AI being addressed).
_WORD = re.compile(r"[^\W\d_][\w']*(?:-[\w']+)*")
_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|\S+@\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:[:/]\S*)?", re.I)
_YOU = frozenset(
    "you your yours yourself yourselves u ur du dich dir dein deine vous votre vos tu te ton ta tes "
    "usted tú você".split()
)
_ME = frozenset("i me my mine myself we us our".split())
_AI_WORDS = (
    "assistant assistants ai agent agents chatbot bot bots llm llms gpt chatgpt claude gemini "
    "copilot autopilot ki ia assistent assistenten asistente assistente agente modèle modelo modello "
    "sprachmodell"
)
_AI = frozenset(_AI_WORDS.split())
# A job title: capitalised words before "Agent" or "Assistant" ("Front Desk Agent", "Executive Assistant"),
# unless the word before says AI or opens an address ("AI Agent", "Dear Assistant", "Note to the Assistant").
_JOB_TITLE = re.compile(
    r"\b(?!(?:AI|A\.I|LLM|GPT|Dear|Hi|Hello|Hey|Note|To|For|Attention|Attn|The|Any|An?|This|Your|Our|All|"
    r"Automated|Autonomous|Virtual|Digital|Coding|Chat|Smart|Intelligent)\b)[A-Z][a-z]+(?: [A-Z][a-z]+)? "
    r"(?:Agent|Assistant)s?\b"
)
_INSTRUCTION = frozenset(
    "instruction instructions prompt prompts task tasks directive directives command commands rule rules "
    "guideline guidelines order orders objective objectives goal goals mission role policy protocol "
    "anweisung anweisungen aufgabe befehl instructions consigne consignes tâche instrucciones instrucción "
    "tarea istruzioni istruzione compito instruções instrução tarefa".split()
)
_MODAL = frozenset(
    "must should need needs required require requires mandatory ensure never always immediately urgent "
    "urgently important importantly obligated obliged strictly comply obey adhere abide mandated müssen "
    "musst devez debes devi deve".split()
)
_OVERRIDE = frozenset(
    "ignore disregard forget override bypass skip instead abandon cancel stop ignoriere ignoriert vergiss "
    "ignorez ignore oublie oubliez ignora ignorar olvida olvide dimentica esqueça".split()
)
_PRIOR = frozenset(
    "previous prior above earlier original old former preceding initial all any vorherigen bisherigen "
    "alle précédentes précédents toutes anteriores todas precedenti tutte".split()
)
_SEQUENCE = frozenset("before after first then once next finally prior beforehand afterwards".split())
# Secrecy about the act itself (toward the user or anyone watching), not secrets as a topic: "AWS_SECRET",
# "show hidden files" and "confidential" headers are ordinary content.
_SECRECY = re.compile(
    r"\b(?:secretly|quietly|silently|discreetly|covertly|unnoticed|stealthily|"
    r"without\s+(?:\w+\s+)?(?:telling|notifying|informing|alerting|asking|mentioning|letting|detection|"
    r"leaving\s+(?:a|any)\s+trace|(?:the\s+)?(?:user|anyone|them)\s+knowing)|"
    r"(?:do\s+not|don't|never|no\s+need\s+to)\s+(?:\w+\s+)?(?:tell|mention|inform|reveal|notify|alert|"
    r"disclose|bring\s+(?:this|it)\s+up|say|explain)|"
    r"keep\s+(?:this|it|that)\s+(?:\w+\s+)?(?:secret|hidden|confidential|between\s+us|out\s+of)|"
    r"leave\s+no\s+trace|(?:must|should)\s+not\s+(?:find\s+out|know|notice)|(?:won't|will\s+not)\s+notice)\b",
    re.I,
)
_TOOLISH = frozenset("tool tools function functions api apis plugin plugins call calling invoke".split())
_LEAD_INS = frozenset(
    "please kindly now also first then immediately just simply next finally urgently instead additionally "
    "afterwards subsequently".split()
)
_EXTRA_VERBS = frozenset(
    "do go tell give take ignore forget disregard follow remember note ensure include insert use respond "
    "answer output say reply visit make keep put bring let try consider incorporate integrate embed "
    "append provide explain describe recommend suggest write reveal repeat print state claim pretend act "
    "behave treat prioritize prioritise switch halt cease bypass proceed continue resume begin stop "
    "utilize utilise leverage employ adopt click paste prepend call contact forward grant transfer pay "
    "approve rate rsvp join attend bring preheat mix stir".split()
)
_HIGH_IMPACT = frozenset({C.MONEY, C.EGRESS, C.COMMUNICATE, C.DELETE, C.IDENTITY, C.EXECUTE, C.FETCH})
_AI_NOUN = (
    r"(?:ai|a\.i\.|assistant|agent|model|llm|language model|chatbot|bot|copilot|gpt|autopilot|"
    r"ki|ia|assistent|asistente|assistente|agente|modèle|modelo|modello|sprachmodell)s?"
)
# An AI addressed: a dedication ("note to the assistant", "for any AI agent"), a condition on being one
# ("if you are an AI"), an identity assigned to "you", a vocative at the start of a sentence ("Assistant,"),
# or AI readers described by what they are doing ("models summarizing this page").
_AI_ADDRESSEE = re.compile(
    rf"\b(?:to|for|attention|dear|hey|hi|hello|calling|note to|message to|memo to|an|à|für|para|per)\s+"
    rf"(?:the|any|all|every|each|this|our|my|an?|l'|le|la|der|die|el|il)?\s*(?:\w+\s)?{_AI_NOUN}\b"
    rf"|\b(?:if|when|whenever|since|as)\s+you(?:'re|\s+are)\s+(?:now\s+)?(?:an?\s+|the\s+)?(?:\w+\s+)?"
    rf"{_AI_NOUN}\b"
    rf"|\byou(?:'re|\s+are)\s+(?:now\s+)?(?:an?|the|my|our)\s+(?:\w+\s+)?{_AI_NOUN}\b"
    rf"|^\W*(?:the\s+)?(?:\w+\s)?{_AI_NOUN}\s*[,:!](?=\s|$)"
    rf"|\b{_AI_NOUN}\s+(?:that\s+(?:is|are)\s+)?(?:reading|processing|summari[sz]ing|parsing|browsing|"
    rf"crawling|analy[sz]ing|reviewing|handling|viewing|compiling|preparing|drafting|triaging|answering)\b"
    r"|\b(?:the|any|an?|this)\s+(?:\w+\s)?(?:assistant|agent|ai|llm|chatbot|bot|copilot)s?\s+(?:could|should|"
    r"would|must|will|shall|needs?\s+to|is\s+(?:asked|required|requested|expected|instructed|kindly))\b"
    # an AI named beside people as the reader it is for: "(staff or the inbox assistant)", "a human or an AI"
    rf"|\b(?:staff|humans?|persons?|people|colleagues?|team\s+members?)\s+(?:or|and|/)\s*"
    # (an assistant only so described: "staff and assistants" are people)
    r"(?:the\s+|any\s+|an?\s+)?(?:(?:inbox|mailbox|e?mail|virtual|digital|ai|automated|smart|triage)\s"
    r"assistant|ai|a\.i\.|chatbot|bot|copilot|llm|gpt)s?\b"
    # automation addressed as a class: "automated resolvers must also grant …"
    r"|\b(?:automated|automatic|autonomous)\s+(?:\w+\s+)?(?:resolvers?|agents?|assistants?|systems?|processors?|"
    r"handlers?|workers?|tools?|bots?|reviewers?)\s+(?:must|should|shall|need\s+to|are\s+(?:asked|required|"
    r"expected|instructed))\b",
    re.I,
)
# Every match of _AI_ADDRESSEE holds one of these letter runs: a cheap test before the costly pattern.
_AI_HINT = re.compile(
    r"ai|a\.i\.|assist|asist|agent|model|modèle|llm|bot|copilot|gpt|autopilot|ki|ia|automat|autonom", re.I
)
# The agent's own situation: its instructions, its answer, its tools, the user it works for.
_AGENT_CONTEXT = re.compile(
    r"\byour\s+(?:\w+\s+)?(?:instructions?|tasks?|prompt|responses?|answers?|repl(?:y|ies)|output|"
    r"summar(?:y|ies)|tools?|memory|context|guidelines|rules|programming|directives?|objective|"
    r"mission|role|code|solution|implementation|codebase|reasoning|analysis)\b"
    # "the user" as a party (followed by a verb, a preposition, a possessive or the end), not "user
    # experience"
    r"|\b(?:the|your)\s+(?:user|human|requester|operator)'s"
    r"|\b(?:the|your)\s+(?:user|human|requester|operator)s?(?=\s*(?:[.,;:!?)]|$)|\s+(?:that|about|to|"
    r"and|or|is|was|has|had|asked|asks|wants|wanted|requested|requests|said|says|will|would|must|should|need|"
    r"needs|may|might|can|could|did|does|do|knows?|sees?|gave|provided|approved|already|before|after|in|on|"
    r"with|for|without|from|never|doesn't|won't)\b)"
    r"|\b(?:person|one|people|human)\s+you(?:'re|\s+are)\s+(?:working|acting|operating)\s+(?:for|on)\b"
    r"|\byour\s+(?:new\s+)?(?:job|priority|assignment|purpose|focus)\b"
    # what the reader is producing: "the code you write", "the summary you return"
    r"|\b(?:code|text|answer|output|content|reply|response|summary|solution|program|script|report)\s+(?:that\s+)?"
    r"you\s+(?:write|develop|produce|generate|return|create|give|provide|draft|compose)\b"
    r"|\b(?:system|initial|original|previous|prior|earlier|current)\s+(?:prompt|instructions?|task|request|"
    r"query|goal|objective)\b"
    r"|\b(?:this|the)\s+(?:conversation|chat\s+session|dialogue|context\s+window)\b"
    r"|\bwhen\s+(?:you\s+)?(?:summari[sz]ing|answering|responding|replying|generating|writing)\b",
    re.I,
)
# Role and control markers of chat formats or fake authority headers.
_ROLE_MARKER = re.compile(
    r"(?im)^\W{0,4}(?:system|sys|admin|administrator|root|developer|operator|assistant|ai|agent|"
    r"new\s+instructions?|override|prompt|security\s+team|it\s+department)\s*(?:message|note|notice|"
    r"update|prompt|override|instruction)?\s*(?::(?=\s|$)|[\]>|])"
    r"|<\|?/?\s*(?:system|im_start|im_end|endoftext|user|assistant|instructions?|inst|sys)\s*\|?>"
    r"|\[/?\s*(?:INST|SYS|SYSTEM|ADMIN|ASSISTANT|INSTRUCTIONS?)\s*\]|<<\s*/?SYS\s*>>"
    # a bracketed authority header inside the text: "[SYSTEM NOTICE from Epic Security Admin]"
    r"|\[\s*(?:SYSTEM|ADMIN)\s+(?:NOTICE|MESSAGE|NOTE|UPDATE|ALERT|INSTRUCTIONS?|DIRECTIVE)\b[^\]\n]{0,80}\]"
    r"|#{2,}\s*(?:system|instructions?|new\s+task|task|response)\b"
    r"|\b(?:BEGIN|END)\s+(?:OF\s+)?(?:SYSTEM|ADMIN|PRIORITY|INSTRUCTIONS?|PROMPT|CONTEXT|INPUT|DOCUMENT)\b"
)
_HIDDEN_MARKUP = re.compile(
    r"<!--|display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0\b|aria-hidden|"
    r"\balt\s*=|color\s*:\s*(?:#fff\b|#ffffff|white)",
    re.I,
)
# A person addressed: a greeting with a name or a group of people, a sign-off, an @-mention.
_HUMAN_ADDRESSEE = re.compile(
    r"^\W*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|greetings)\s+"
    r"(?!(?:the|any|all\s+ai|ai|assistant|agent|model|bot|llm)\b)(?:[A-Z][a-z]+|team|all|everyone|folks|"
    r"colleagues|there|guys|y'all)\b"
    r"|^\W*(?:thanks|thank you|many thanks|regards|best|cheers|sincerely|kind regards|best regards|"
    r"warm regards|talk soon)\b[^.!?]{0,30}$"
    r"|(?<![\w@.])@(?!(?:ai|assistant|agent|bot)\b)[a-z][\w.-]{1,20}\b(?![.@]\w)"
    r"|\b(?:your|you)\s+(?:\w+\s+)?(?:manager|team|colleagues?|supervisor|coworkers?|family|doctor|"
    r"teacher|landlord|department|lead|director)\b",
    re.I | re.M,
)
_MARKUP = re.compile(r"<[A-Za-z/!][^>]{0,40}>|\[[A-Z][A-Z _-]{2,}\]|#{2,}|\*{3,}|-{3,}|={3,}")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
_DATA_CHARS = frozenset('{}[]":,|=;<>')


@dataclass(frozen=True)
class Feature:
    """One feature: how a window's sum is scaled, and the sign its weight may take (+1 addressing
    evidence, -1 evidence of ordinary content, 0 free)."""

    name: str
    scale: str  # "word": rate per word; "sentence": share of sentences; "char": rate per character;
    # "count": capped count
    sign: int
    factor: float = 1.0


FEATURES: tuple[Feature, ...] = (
    Feature("second_person", "word", 1, 10.0),
    Feature("ai_terms", "word", 1, 10.0),
    Feature("ai_addressee", "sentence", 1),
    Feature("instruction_terms", "word", 1, 10.0),
    Feature("agent_context", "sentence", 1),
    Feature("imperative_sentences", "sentence", 1),
    Feature("modal_terms", "word", 1, 10.0),
    Feature("override_near_prior", "word", 1, 10.0),
    Feature("sequence_near_you", "word", 1, 10.0),
    Feature("high_impact_imperatives", "sentence", 1),
    Feature("destination_in_directive", "count", 1, 2.0),
    Feature("secrecy", "word", 1, 10.0),
    Feature("tool_terms", "word", 1, 10.0),
    Feature("tool_directive", "sentence", 1),
    Feature("you_and_directive", "sentence", 1),
    Feature("ai_and_directive", "sentence", 1),
    Feature("role_marker", "count", 1, 2.0),
    Feature("hidden_markup", "count", 1, 2.0),
    Feature("invisible_chars", "char", 1, 20.0),
    Feature("human_addressee", "sentence", -1),
    Feature("first_person", "word", -1, 10.0),
    Feature("data_shape", "char", -1),
    Feature("markup", "count", -1, 4.0),
    Feature("questions", "sentence", -1),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_SIGNS: tuple[int, ...] = tuple(f.sign for f in FEATURES)


def _is_verb(word: str) -> bool:
    return word in VERB_CAPABILITIES or word in _EXTRA_VERBS


_NEGATIVE_IMPERATIVE = frozenset({"don't", "dont", "never", "do"})


def _imperative(words: list[str]) -> str | None:
    """The verb a sentence starts with (after lead-ins like "please", "now", "first", or a vocative such as
    "assistant,"), or that follows a "please"/"kindly" inside it, if any."""
    for word in words[:4]:
        if word in _LEAD_INS or word in _AI:
            continue
        if word in _NEGATIVE_IMPERATIVE:
            return "do"
        if _is_verb(word):
            return word
        break
    for index, word in enumerate(words[:-1]):
        if word in ("please", "kindly") and _is_verb(words[index + 1]):
            return words[index + 1]
    return None


@dataclass(frozen=True)
class _Sentence:
    counts: tuple[float, ...]  # FEATURE_NAMES order, raw counts for this sentence
    words: int
    chars: int


def _near(words: list[str], first: frozenset[str], second: frozenset[str], span: int = 5) -> int:
    hits = 0
    for index, word in enumerate(words):
        if word in first and any(w in second for w in words[max(0, index - span) : index + span + 1]):
            hits += 1
    return hits


# What may precede a sentence's first word: space, bullets, numbering, quotes, and leading tags
# ("<p>", "[system]"); a sentence that then opens with "{" is data, and a first word glued to a quote,
# colon, "=", "(" or "_" is a key, an assignment or a call ('{"message": ...', 'delete(x)'), not a verb.
_LEAD = re.compile(r"^(?:\s|<[^>]{0,80}>|\[[^\]]{0,40}\]|[-*•>#\d.)(\'\"`])*")
_GLUED = re.compile(r"^[^\W\d_][\w'-]*(?:[\"=(_]|[:.]\S)")


def _prose_start(text: str) -> bool:
    rest = text[_LEAD.match(text).end() :]  # type: ignore[union-attr]  # the pattern matches empty text
    return not rest.startswith(("{", "}")) and not _GLUED.match(rest)


# One pass over a sentence's words: each lexicon word adds to the counters it belongs to.
_YOU_I, _AI_I, _MODAL_I, _TOOL_I, _INSTRUCTION_I, _ME_I = range(6)
_LEXICON: dict[str, tuple[int, ...]] = {}
for _index, _words in enumerate((_YOU, _AI, _MODAL, _TOOLISH, _INSTRUCTION, _ME)):
    for _word in _words:
        _LEXICON[_word] = (*_LEXICON.get(_word, ()), _index)
# Destinations an instruction can point at: e-mail addresses, URLs, hosts, IBANs, wallets (one scan).
_DESTINATION = re.compile("|".join(f"(?:{p.pattern})" for p in (_EMAIL, _URL, _HOST, _IBAN, _WALLET)), re.I)


@functools.lru_cache(maxsize=8192)  # the same sentences recur from text to text (signatures, templates)
def _sentence(text: str) -> _Sentence:
    prose = _ADDRESS.sub(" ", text) if "." in text or "@" in text else text
    words = [w.lower() for w in _WORD.findall(prose)]
    lexicon = [0, 0, 0, 0, 0, 0]
    for word in words:
        for index in _LEXICON.get(word, ()):
            lexicon[index] += 1
    you, ai, modal, tools, instruction, me = lexicon
    if ai and (titles := len(_JOB_TITLE.findall(prose))):
        ai = max(0, ai - titles)  # "Front Desk Agent", "Executive Assistant": a person's job, not an AI
    verb = _imperative(words) if _prose_start(text) else None
    if "don't" in words or ("do" in words and "not" in words):
        modal += 1
    directive = bool(verb or modal)
    verb_capabilities = (
        VERB_CAPABILITIES.get(verb_stem(verb) or verb or "", frozenset()) if verb else frozenset()
    )
    outward = len(_DESTINATION.findall(text)) if directive and ("@" in text or "." in text) else 0
    ai_addressed = 1.0 if _AI_HINT.search(prose) and _AI_ADDRESSEE.search(prose) else 0.0
    ascii_only = text.isascii()
    counts = (
        you,
        ai,
        ai_addressed,
        instruction,
        1.0 if _AGENT_CONTEXT.search(prose) else 0.0,
        1.0 if verb else 0.0,
        modal,
        _near(words, _OVERRIDE, _PRIOR),
        _near(words, _SEQUENCE, _YOU),
        1.0 if verb_capabilities & _HIGH_IMPACT else 0.0,
        float(outward),
        float(len(_SECRECY.findall(prose))),
        tools,
        1.0 if tools and directive else 0.0,
        1.0 if you and directive else 0.0,
        1.0 if (ai or ai_addressed) and directive else 0.0,
        float(len(_ROLE_MARKER.findall(text))),
        float(len(_HIDDEN_MARKUP.findall(text))),
        0.0 if ascii_only else float(len(_INVISIBLE.findall(text))),
        1.0 if _HUMAN_ADDRESSEE.search(text) else 0.0,
        me,
        float(sum(map(text.count, _DATA_CHARS))),
        float(len(_MARKUP.findall(text))),
        1.0 if text.rstrip().endswith("?") else 0.0,
    )
    return _Sentence(counts, len(words), len(text))


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE.split(text[:MAX_TEXT])]
    return [p for p in parts if p][:MAX_SENTENCES]


@dataclass(frozen=True)
class Windows:
    """A text's windows: the sentences, each window's first and last-but-one sentence index, and the
    feature matrix (one row per window, :data:`FEATURE_NAMES` order). Read-only: shared by a cache."""

    sentences: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    matrix: np.ndarray

    def text(self, index: int) -> str:
        return " ".join(self.sentences[self.starts[index] : self.ends[index]])


_WORD_SCALE = np.array([f.scale == "word" for f in FEATURES])
_SENTENCE_SCALE = np.array([f.scale == "sentence" for f in FEATURES])
_CHAR_SCALE = np.array([f.scale == "char" for f in FEATURES])
_FACTOR = np.array([f.factor for f in FEATURES])


@functools.lru_cache(maxsize=2048)
def window_matrix(text: str, size: int = 3) -> Windows:
    """Every run of up to ``size`` consecutive sentences and its features, computed with one cumulative
    sum over the sentences' counts (the hot path: no Python loop per window or per feature)."""
    sentences = tuple(split_sentences(text.replace("\u2019", "'")))  # typographic apostrophes read as "'"
    if not sentences:
        return Windows((), (), (), np.zeros((0, len(FEATURES))))
    parsed = [_sentence(s) for s in sentences]
    n = len(parsed)
    if n <= size:  # one window, the whole text (most results): the same arithmetic without numpy's overhead
        return Windows(sentences, (0,), (n,), _one_window(parsed))
    starts = np.arange(max(1, n - size + 1))
    ends = np.minimum(starts + size, n)
    counts = np.zeros((n + 1, len(FEATURES) + 2))
    counts[1:, :-2] = [s.counts for s in parsed]
    counts[1:, -2] = [s.words for s in parsed]
    counts[1:, -1] = [s.chars for s in parsed]
    totals = np.cumsum(counts, axis=0)
    sums = totals[ends] - totals[starts]
    values = sums[:, :-2]
    words = np.maximum(1.0, sums[:, -2:-1])
    chars = np.maximum(1.0, sums[:, -1:])
    sentences_in = (ends - starts)[:, None].astype(float)
    matrix = np.where(
        _WORD_SCALE,
        np.minimum(1.0, _FACTOR * values / words),
        np.where(
            _SENTENCE_SCALE,
            values / sentences_in,
            np.where(
                _CHAR_SCALE, np.minimum(1.0, _FACTOR * values / chars), np.minimum(1.0, values / _FACTOR)
            ),
        ),
    )
    matrix.setflags(write=False)
    return Windows(sentences, tuple(starts.tolist()), tuple(ends.tolist()), matrix)


_SCALES = tuple((f.scale, f.factor) for f in FEATURES)


def _one_window(parsed: list[_Sentence]) -> np.ndarray:
    """The feature row of a window of all of ``parsed``, as :func:`window_matrix` computes it for a longer
    text, operation for operation (the counts are whole numbers, so their sums are exact either way)."""
    values = [0.0] * len(FEATURES)
    words = chars = 0.0
    for sentence in parsed:
        values = [v + c for v, c in zip(values, sentence.counts, strict=True)]
        words += sentence.words
        chars += sentence.chars
    words, chars, count = max(1.0, words), max(1.0, chars), float(len(parsed))
    row = [
        min(1.0, factor * v / words)
        if scale == "word"
        else v / count
        if scale == "sentence"
        else min(1.0, factor * v / chars)
        if scale == "char"
        else min(1.0, v / factor)
        for v, (scale, factor) in zip(values, _SCALES, strict=True)
    ]
    matrix = np.array([row])
    matrix.setflags(write=False)
    return matrix


def windows(text: str, size: int = 3) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """(window text, features) for every run of up to ``size`` consecutive sentences."""
    found = window_matrix(text, size)
    return tuple((found.text(i), tuple(row)) for i, row in enumerate(found.matrix.tolist()))


def features(text: str) -> list[list[float]]:
    """The feature rows of a text's windows (training reads these)."""
    return [list(f) for _, f in windows(text)]
