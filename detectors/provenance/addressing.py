"""How much a piece of outside content addresses the agent: a phrase-independent score in [0, 1].

Injected content is content that talks *to the agent*: it is written in the second person, in the
imperative, about instructions, tasks, tools, the user or the assistant itself; it asks for acts with
outside reach (send, pay, share, delete, visit) and for secrecy; it hides in out-of-place markup or
invisible characters. A web page, an API answer, a log or a colleague's e-mail to a person reads
differently: third person, data-shaped, or addressed to a human about the human's own work.

So the score is built from *constructions* of general English, never from any corpus's sentences:
rates of second-person words, imperative sentences (a sentence that starts with a verb, after an optional
"please"/"now"/"first"), modal obligation, words about instructions and AI systems, override and
sequencing words near "you", high-impact verbs in imperative position, destinations, secrecy, markup,
invisible characters, and how data-like the text is. Each window of up to three sentences gets the
features; a linear model (scikit-learn logistic regression, trained by ``benchmarks.content_model`` on the
corpus documented in docs/content-model.md and shipped as a skops file) turns them into a probability; the
content's score is its most addressing window, whose strongest features are the explanation.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from detectors.capabilities.words import VERB_CAPABILITIES, verb_stem
from detectors.provenance.tokens import tokens_of
from schemas.errors import ChainwatchError
from schemas.types import Capability as C

FEATURE_VERSION = 2
MAX_TEXT = 8000  # characters of one result read (the contract keeps 4,000)
MAX_SENTENCES = 200

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{1,}|(?<=:)\s+(?=[A-Z])")
# Words: letters of any script (the few non-English lexicon words match too); a hyphenated compound is one
# word ("User-Agent", "the-agent-company"), and addresses are not words at all (a host named after agents
# is not an AI being addressed).
_WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[\w'’]+)*")
_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|\S+@\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:[:/]\S*)?", re.I)
_YOU = frozenset("you your yours yourself yourselves u ur du dich dir dein deine vous votre vos tu te ton ta tes "
                 "usted tú você".split())
_ME = frozenset("i me my mine myself we us our".split())
_AI_WORDS = (
    "assistant assistants ai agent agents chatbot bot bots llm llms gpt chatgpt claude gemini "
    "copilot autopilot ki ia assistent assistenten asistente assistente agente modèle modelo modello "
    "sprachmodell"
)
_AI = frozenset(_AI_WORDS.split())
_INSTRUCTION = frozenset(
    "instruction instructions prompt prompts task tasks directive directives command commands rule rules "
    "guideline guidelines order orders objective objectives goal goals mission role policy protocol "
    "anweisung anweisungen aufgabe befehl instructions consigne consignes tâche instrucciones instrucción "
    "tarea istruzioni istruzione compito instruções instrução tarefa".split()
)
_MODAL = frozenset(
    "must should need needs required require requires mandatory ensure never always immediately urgent "
    "urgently important importantly obligated obliged strictly comply obey adhere abide mandated müssen musst "
    "devez debes devi deve".split()
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
    r"(?:do\s+not|don't|don’t|never|no\s+need\s+to)\s+(?:\w+\s+)?(?:tell|mention|inform|reveal|notify|alert|"
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
    rf"|\b(?:if|when|whenever|since|as)\s+you(?:'re|’re|\s+are)\s+(?:now\s+)?(?:an?\s+|the\s+)?(?:\w+\s+)?"
    rf"{_AI_NOUN}\b"
    rf"|\byou(?:'re|’re|\s+are)\s+(?:now\s+)?(?:an?|the|my|our)\s+(?:\w+\s+)?{_AI_NOUN}\b"
    rf"|^\W*(?:the\s+)?(?:\w+\s)?{_AI_NOUN}\s*[,:!](?=\s|$)"
    rf"|\b{_AI_NOUN}\s+(?:that\s+(?:is|are)\s+)?(?:reading|processing|summari[sz]ing|parsing|browsing|"
    rf"crawling|analy[sz]ing|reviewing|handling|viewing)\b"
    r"|\b(?:the|any|an?|this)\s+(?:\w+\s)?(?:assistant|agent|ai|llm|chatbot|bot|copilot)s?\s+(?:could|should|"
    r"would|must|will|shall|needs?\s+to|is\s+(?:asked|required|requested|expected|instructed|kindly))\b",
    re.I,
)
# The agent's own situation: its instructions, its answer, its tools, the user it works for.
_AGENT_CONTEXT = re.compile(
    r"\byour\s+(?:\w+\s+)?(?:instructions?|tasks?|prompt|responses?|answers?|repl(?:y|ies)|output|"
    r"summar(?:y|ies)|tools?|memory|context|guidelines|rules|programming|directives?|objective|"
    r"mission|role|code|solution|implementation|codebase|reasoning|analysis)\b"
    # "the user" as a party (followed by a verb, a preposition, a possessive or the end), not "user experience"
    r"|\b(?:the|your)\s+(?:user|human|requester|operator)(?:'s|’s)"
    r"|\b(?:the|your)\s+(?:user|human|requester|operator)s?(?=\s*(?:[.,;:!?)]|$)|\s+(?:that|about|to|"
    r"and|or|is|was|has|had|asked|asks|wants|wanted|requested|requests|said|says|will|would|must|should|need|"
    r"needs|may|might|can|could|did|does|do|knows?|sees?|gave|provided|approved|already|before|after|in|on|"
    r"with|for|without|from|never|doesn't|won't)\b)"
    r"|\b(?:person|one|people|human)\s+you(?:'re|’re|\s+are)\s+(?:working|acting|operating)\s+(?:for|on)\b"
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
_OUTWARD = ("email:", "url:", "host:", "iban:", "wallet:")


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


_NEGATIVE_IMPERATIVE = frozenset({"don't", "dont", "don’t", "never", "do"})


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
_GLUED = re.compile(r"^[^\W\d_][\w'’-]*(?:[\"=(_]|[:.]\S)")


def _prose_start(text: str) -> bool:
    rest = text[_LEAD.match(text).end() :]  # type: ignore[union-attr]  # the pattern matches empty text
    return not rest.startswith(("{", "}")) and not _GLUED.match(rest)


def _sentence(text: str) -> _Sentence:
    prose = _ADDRESS.sub(" ", text) if "." in text or "@" in text else text
    raw = _WORD.findall(prose)
    words = [w.lower().replace("’", "'") for w in raw]
    verb = _imperative(words) if _prose_start(text) else None
    you = sum(w in _YOU for w in words)
    ai = sum(w in _AI for w in words)
    modal = sum(w in _MODAL for w in words) + (
        1 if "don't" in words or ("do" in words and "not" in words) else 0
    )
    directive = bool(verb or modal)
    tools = sum(w in _TOOLISH for w in words)
    verb_capabilities = (
        VERB_CAPABILITIES.get(verb_stem(verb) or verb or "", frozenset()) if verb else frozenset()
    )
    outward = (
        sum(1 for t in tokens_of(text) if t.startswith(_OUTWARD))
        if directive and ("@" in text or "." in text)
        else 0
    )
    ai_addressed = 1.0 if _AI_ADDRESSEE.search(prose) else 0.0
    counts = (
        you,
        ai,
        ai_addressed,
        sum(w in _INSTRUCTION for w in words),
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
        float(len(_INVISIBLE.findall(text))),
        1.0 if _HUMAN_ADDRESSEE.search(text) else 0.0,
        sum(w in _ME for w in words),
        float(sum(ch in _DATA_CHARS for ch in text)),
        float(len(_MARKUP.findall(text))),
        1.0 if text.rstrip().endswith("?") else 0.0,
    )
    return _Sentence(counts, len(words), len(text))


def _window_features(sentences: list[_Sentence]) -> list[float]:
    words = max(1, sum(s.words for s in sentences))
    chars = max(1, sum(s.chars for s in sentences))
    n = len(sentences)
    out = []
    for index, feature in enumerate(FEATURES):
        value = sum(s.counts[index] for s in sentences)
        if feature.scale == "word":
            out.append(min(1.0, feature.factor * value / words))
        elif feature.scale == "sentence":
            out.append(value / n)
        elif feature.scale == "char":
            out.append(min(1.0, feature.factor * value / chars))
        else:
            out.append(min(1.0, value / feature.factor))
    return out


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE.split(text[:MAX_TEXT])]
    return [p for p in parts if p][:MAX_SENTENCES]


@functools.lru_cache(maxsize=2048)
def windows(text: str, size: int = 3) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """(window text, features) for every run of up to ``size`` consecutive sentences."""
    sentences = split_sentences(text)
    if not sentences:
        return ()
    parsed = [_sentence(s) for s in sentences]
    out = []
    for start in range(len(parsed)):
        end = min(len(parsed), start + size)
        out.append((" ".join(sentences[start:end]), tuple(_window_features(parsed[start:end]))))
        if end == len(parsed):
            break
    return tuple(out)


def features(text: str) -> list[list[float]]:
    """The feature rows of a text's windows (training reads these)."""
    return [list(f) for _, f in windows(text)]


# ---------------------------------------------------------------------------------------------- the model

MODEL_FORMAT = "chainwatch-content-model"
MODEL_FILE = "content_model.skops"  # package data beside this module
# What a content-model file may hold: a scikit-learn pipeline of a scaler and a logistic regression, and
# plain data. Anything else is refused before skops builds an object (as for the session models).
ALLOWED_TYPES = (
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
)


class ContentModelError(ChainwatchError):
    """A content-model file that cannot be used; the message names the file, what is wrong and the fix."""


@dataclass(frozen=True)
class Addressing:
    """A content's score, the window that scored it and the features that weighed most there."""

    score: float
    window: str
    reasons: tuple[str, ...]


class ContentModel:
    """A fitted linear model over :data:`FEATURE_NAMES`, evaluated in plain Python (a dot product per
    window: no scikit-learn call on the hot path)."""

    def __init__(
        self,
        weights: tuple[float, ...],
        intercept: float,
        means: tuple[float, ...],
        scales: tuple[float, ...],
        metadata: dict[str, object] | None = None,
    ) -> None:
        if not len(weights) == len(means) == len(scales) == len(FEATURE_NAMES):
            raise ValueError(f"a content model needs {len(FEATURE_NAMES)} weights, means and scales")
        self.weights = weights
        self.intercept = intercept
        self.means = means
        self.scales = tuple(s if s > 0 else 1.0 for s in scales)
        self.metadata = metadata or {}

    def _logit(self, row: tuple[float, ...]) -> tuple[float, list[float]]:
        parts = [
            w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.means, self.scales, strict=True)
        ]
        return self.intercept + sum(parts), parts

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one model object per process; results are immutable)
    def score(self, text: str) -> Addressing:
        best: tuple[float, str, list[float]] = (-math.inf, "", [])
        for window, row in windows(text):
            logit, parts = self._logit(row)
            if logit > best[0]:
                best = (logit, window, parts)
        if best[0] == -math.inf:
            return Addressing(0.0, "", ())
        probability = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, best[0]))))
        ranked = sorted(zip(best[2], FEATURE_NAMES, strict=True), reverse=True)
        reasons = tuple(name.replace("_", " ") for part, name in ranked[:3] if part > 0.25)
        return Addressing(round(probability, 4), best[1][:300], reasons)


def model_from_pipeline(pipeline: object, metadata: dict[str, object] | None = None) -> ContentModel:
    """The fitted scaler + logistic regression of a scikit-learn pipeline as a :class:`ContentModel`."""
    scaler, regression = pipeline.steps[0][1], pipeline.steps[-1][1]  # type: ignore[attr-defined]
    return ContentModel(
        tuple(float(w) for w in regression.coef_[0]),
        float(regression.intercept_[0]),
        tuple(float(m) for m in scaler.mean_),
        tuple(float(s) for s in scaler.scale_),
        metadata,
    )


def load_content_model(data: bytes, origin: str = MODEL_FILE) -> ContentModel:
    """A content model from a skops file's bytes; refuses anything but the allowed types, a foreign format
    or features of another version, naming the file and the fix."""
    import io
    import json
    import zipfile

    from skops.io import get_untrusted_types, loads

    fix = "retrain it with `python -m benchmarks.content_model --out FILE`"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ContentModelError(f"{origin}: not a skops archive ({exc}); {fix}") from None
    untrusted = [t for t in get_untrusted_types(data=data) if t not in ALLOWED_TYPES]
    if untrusted:
        raise ContentModelError(f"{origin}: holds types a content model never has ({untrusted[:3]}); {fix}")
    del schema
    bundle = loads(data, trusted=list(ALLOWED_TYPES))
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise ContentModelError(f"{origin}: not a chainwatch content model; {fix}")
    if bundle.get("feature_version") != FEATURE_VERSION or tuple(bundle.get("features", ())) != FEATURE_NAMES:
        raise ContentModelError(
            f"{origin}: built for other features (version {bundle.get('feature_version')}); {fix}"
        )
    metadata = bundle.get("metadata")
    return model_from_pipeline(bundle["pipeline"], metadata if isinstance(metadata, dict) else None)


@functools.lru_cache(maxsize=1)
def shipped_model() -> ContentModel:
    """The content model shipped with chainwatch (package data), loaded once."""
    import importlib.resources

    data = (importlib.resources.files("detectors.provenance") / MODEL_FILE).read_bytes()
    return load_content_model(data)


def addressing(text: str | None) -> Addressing:
    """How much ``text`` addresses the agent, by the shipped model."""
    if not text:
        return Addressing(0.0, "", ())
    return shipped_model().score(text)
