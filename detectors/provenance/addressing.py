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

FEATURE_VERSION = 1
MAX_TEXT = 8000  # characters of one result read (the contract keeps 4,000)
MAX_SENTENCES = 200

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{1,}|(?<=:)\s+(?=[A-Z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_YOU = frozenset("you your yours yourself yourselves u ur".split())
_ME = frozenset("i me my mine myself we us our".split())
_AI = frozenset(
    "assistant assistants ai model models agent agents chatbot bot bots llm llms gpt chatgpt claude gemini "
    "copilot system automated automation".split()
)
_INSTRUCTION = frozenset(
    "instruction instructions prompt prompts task tasks directive directives command commands rule rules "
    "guideline guidelines order orders objective objectives goal goals mission role policy protocol".split()
)
_MODAL = frozenset(
    "must should need needs required require requires mandatory ensure sure never always immediately "
    "urgent urgently important importantly critical necessary obligated only".split()
)
_OVERRIDE = frozenset("ignore disregard forget override bypass skip instead abandon cancel stop".split())
_PRIOR = frozenset("previous prior above earlier original old former preceding initial all any".split())
_SEQUENCE = frozenset("before after first then once next finally prior beforehand afterwards".split())
_SECRECY = frozenset(
    "secret secretly quietly silently discreet discreetly unnoticed hidden hide covert covertly "
    "confidential without".split()
)
_TELL = frozenset("tell mention inform reveal notify alert show let".split())
_RESPONSE = frozenset("response answer reply output respond summary".split())
_USER = frozenset("user users human humans customer requester".split())
_TOOLISH = frozenset("tool tools function functions api apis plugin plugins call calling invoke".split())
_LEAD_INS = frozenset(
    "please kindly now also first then immediately just simply next finally urgently".split()
)
_EXTRA_VERBS = frozenset(
    "do go tell give take ignore forget disregard follow remember note ensure include insert use respond "
    "answer output say reply visit make keep put bring let try consider incorporate integrate embed "
    "append provide explain describe recommend suggest write".split()
)
_HIGH_IMPACT = frozenset({C.MONEY, C.EGRESS, C.COMMUNICATE, C.DELETE, C.IDENTITY, C.EXECUTE, C.FETCH})
_MARKUP = re.compile(r"<[A-Za-z/!][^>]{0,40}>|\[[A-Z][A-Z _-]{2,}\]|#{2,}|\*{3,}|-{3,}|={3,}|<!--")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
_DATA_CHARS = frozenset('{}[]":,|=;<>')

FEATURE_NAMES: tuple[str, ...] = (
    "second_person",
    "first_person",
    "ai_terms",
    "instruction_terms",
    "imperative_sentences",
    "modal_terms",
    "override_near_prior",
    "sequence_near_you",
    "high_impact_imperatives",
    "destinations",
    "secrecy",
    "response_terms",
    "user_terms",
    "tool_terms",
    "you_and_imperative",
    "markup",
    "uppercase_words",
    "invisible_chars",
    "data_shape",
    "digits",
    "questions",
    "log_length",
)


def _is_verb(word: str) -> bool:
    return word in VERB_CAPABILITIES or word in _EXTRA_VERBS


_NEGATIVE_IMPERATIVE = frozenset({"don't", "dont", "never", "do"})


def _imperative(words: list[str]) -> str | None:
    """The verb a sentence starts with (after lead-ins like "please", "now", "first"), or that follows a
    "please"/"kindly" inside it, if any."""
    for word in words[:4]:
        if word in _LEAD_INS:
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


def _sentence(text: str) -> _Sentence:
    raw = _WORD.findall(text)
    words = [w.lower() for w in raw]
    n = len(words)
    verb = _imperative(words)
    you = sum(w in _YOU for w in words)
    verb_capabilities = (
        VERB_CAPABILITIES.get(verb_stem(verb) or verb or "", frozenset()) if verb else frozenset()
    )
    data_chars = sum(ch in _DATA_CHARS for ch in text)
    counts = (
        you,
        sum(w in _ME for w in words),
        sum(w in _AI for w in words),
        sum(w in _INSTRUCTION for w in words),
        1.0 if verb else 0.0,
        sum(w in _MODAL for w in words)
        + (1 if "don't" in words or ("do" in words and "not" in words) else 0),
        _near(words, _OVERRIDE, _PRIOR),
        _near(words, _SEQUENCE, _YOU),
        1.0 if verb_capabilities & _HIGH_IMPACT else 0.0,
        float(len(tokens_of(text)))
        if ("@" in text or "." in text or any(ch.isdigit() for ch in text))
        else 0.0,
        sum(w in _SECRECY for w in words) + _near(words, _TELL, frozenset({"not", "don't", "never"}), 2),
        _near(words, _RESPONSE, _YOU, 2),
        sum(w in _USER for w in words),
        sum(w in _TOOLISH for w in words),
        1.0 if you and (verb or any(w in _MODAL for w in words)) else 0.0,
        float(len(_MARKUP.findall(text))),
        float(sum(1 for w in raw if len(w) >= 3 and w.isupper())),
        float(len(_INVISIBLE.findall(text))),
        float(data_chars),
        float(sum(ch.isdigit() for ch in text)),
        1.0 if text.rstrip().endswith("?") else 0.0,
        0.0,
    )
    return _Sentence(counts, n, len(text))


def _window_features(sentences: list[_Sentence], total_chars: int) -> list[float]:
    words = max(1, sum(s.words for s in sentences))
    chars = max(1, sum(s.chars for s in sentences))
    n = len(sentences)
    sums = [sum(s.counts[i] for s in sentences) for i in range(len(FEATURE_NAMES))]
    per_word = {0, 1, 2, 3, 5, 6, 7, 10, 11, 12, 13, 16}
    per_sentence = {4, 8, 14, 20}
    per_char = {17, 18, 19}
    out = []
    for index, value in enumerate(sums):
        if index in per_word:
            out.append(min(1.0, 10.0 * value / words))
        elif index in per_sentence:
            out.append(value / n)
        elif index in per_char:
            out.append(min(1.0, value / chars * (20.0 if index == 17 else 1.0)))
        elif index == 9:
            out.append(min(1.0, value / 3.0))
        elif index == 15:
            out.append(min(1.0, value / 2.0))
        else:  # log_length: of the whole content, not the window
            out.append(math.log10(1 + total_chars) / 4.0)
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
    total = min(len(text), MAX_TEXT)
    out = []
    for start in range(len(parsed)):
        end = min(len(parsed), start + size)
        out.append((" ".join(sentences[start:end]), tuple(_window_features(parsed[start:end], total))))
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
