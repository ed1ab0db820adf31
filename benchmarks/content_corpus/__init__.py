"""The generated part of the content model's corpus (docs/content-model.md): injections in many styles and
benign look-alikes, each embedded in a realistic carrier of many kinds.

    from benchmarks.content_corpus import generated_texts
    for item in generated_texts(): ...   # Generated(text, label, payload, carrier, style)

Everything is written for this project and drawn from one seeded random source, so the corpus is the same
on every machine. Injected texts: a payload of one of ``payloads.STYLES`` (sometimes obfuscated with
invisible characters, capitals or line breaks) placed in a carrier of ``carriers.CARRIERS``. Benign texts:
the same carriers holding a benign insert of ``benign.STYLES`` (requests to people, steps for a reader,
notes in comments, AI spoken about in the third person, system notices, reviews, questions) or nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from benchmarks.content_corpus import benign, payloads
from benchmarks.content_corpus.carriers import CARRIERS
from benchmarks.content_corpus.values import Values

INJECTED = 3000
BENIGN = 3600


@dataclass(frozen=True)
class Generated:
    text: str
    label: int  # 1: addresses an AI agent with instructions; 0: benign
    payload: str  # the insert as embedded in the carrier ("" when there is none)
    carrier: str
    style: str


def _obfuscate(v: Values, text: str) -> tuple[str, str]:
    roll = v.rng.random()
    if roll < 0.05:
        return "\u200b".join(text.split(" ")).replace("\u200b", "\u200b ", 0), "zero_width"
    if roll < 0.09:
        return text.upper(), "capitals"
    if roll < 0.14:
        words = text.split(" ")
        cut = len(words) // 2
        return " ".join(words[:cut]) + "\n" + " ".join(words[cut:]), "line_break"
    return text, ""


def generated_texts(seed: int = 7, injected: int = INJECTED, benign_count: int = BENIGN) -> list[Generated]:
    v = Values(random.Random(seed))
    carriers = sorted(CARRIERS)
    out: list[Generated] = []
    styles = sorted(payloads.STYLES)
    for index in range(injected):
        style = styles[index % len(styles)]
        payload, obfuscation = _obfuscate(v, payloads.STYLES[style](v))
        carrier = v.pick(carriers)
        text, embedded = CARRIERS[carrier](v, payload)
        out.append(Generated(text, 1, embedded, carrier, style + (f"+{obfuscation}" if obfuscation else "")))
    benign_styles = [name for name, weight in benign.WEIGHTS.items() for _ in range(weight)]
    for _ in range(benign_count):
        carrier = v.pick(carriers)
        if v.rng.random() < 0.8:
            style = v.pick(benign_styles)
            insert = benign.STYLES[style](v)
        else:
            style, insert = "none", ""
        text, embedded = CARRIERS[carrier](v, insert)
        out.append(Generated(text, 0, embedded, carrier, style))
    return out
