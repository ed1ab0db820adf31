"""A task that asks to see the act before it happens (``approval.acted_before_the_go``): "dry run first and
show me the numbers before anything goes out", "wait for my OK", "check with me before you delete anything".

Read from ``data/gates.yml`` (several languages, accents folded) in two shapes, each inside one sentence:
the user's say-so awaited ("wait for my go-ahead", "until I approve", "without my sign-off"); the user asks
to be shown or asked, then "before" a clause or "first" ("show me the list before you delete anything",
"check with me first"). A trial run put first is no gate by itself ("dry run first; if it keeps the last
7 days, go ahead"), nor one the same sentence answers with its own go ("show me, then run it if …"; not
the act a "before" awaits, "check with me before you proceed", nor a go after the awaited OK, "wait for my
OK, then send it").
English "before" counts only before a subject or a verb ("before you send", "before anything goes out",
"before paying"), not before a noun ("show me the logs from before the outage"). A gate the task itself
lifts ("no need to check with me first") is none.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from detectors.provenance.languages import fold

TABLE = Path(__file__).with_name("data") / "gates.yml"
REACH = 10  # words from "show me" to its "before", within a sentence
_LIFTED = re.compile(
    r"\b(?:no need|don'?t need|do not need|needn'?t|without waiting|skip the)\W+(?:\w+\W+){0,2}$|\bno\W+$"
)  # (a bare "no" only right before: "no check with me first"; not "No rush, but show me …", "Arduino")
_ENGLISH_BEFORE_NEXT = re.compile(
    r"\s+(?:you|anything|it|we|i|they|any|something|nothing|this|that|these|those|doing|going|\w{3,}ing)\b"
    r"|\s+the\s+\w+\s+(?:goes|go|is|are|gets|get)\b"
)


# the task's own go after the look ("show me, then run it if nothing prod-looking is hit", "go ahead and …");
# not the act a "before" awaits ("check with me before you proceed", "before going ahead")
_NOT_AWAITED = r"(?<!before )(?<!before you )(?<!before we )(?<!before i )"
_GO_GIVEN = re.compile(
    r"\b(?:then|and)\s+(?:\w+\s+){0,2}?(?:run|apply|send|do|execute|proceed|delete|pay|post)\b"
    rf"|{_NOT_AWAITED}\bgo(?:ing)?\s+ahead\b|{_NOT_AWAITED}\bproceed\w*"
)


def _alternation(words: list[str]) -> str:
    spelled = sorted({fold(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"[\s_-]+").replace(r"\-", r"[\s_-]?") for w in spelled)


@functools.cache
def _patterns() -> list[tuple[re.Pattern[str], bool]]:
    """Each language's two shapes, and whether a go the same sentence gives after it answers it (not after
    the user's awaited say-so: "wait for my OK, then send it" still waits)."""
    table: dict[str, dict[str, list[str]]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    found = []
    for language, words in table.items():
        first = _alternation(words["first"])
        approval, awaits = _alternation(words["approval"]), _alternation(words["awaits"])
        shown, before = _alternation(words["shown"]), _alternation(words["before"])
        gap = r"(?:[^\W_][\w'\u2019-]*[\s,]+){0,%d}?"
        after = _ENGLISH_BEFORE_NEXT.pattern if language == "en" else r"\s"
        found += [
            (re.compile(rf"\b(?:{awaits})\s+{gap % 3}(?:{approval})\b"), False),
            (
                re.compile(
                    rf"\b(?:{shown})\b[\s,]+{gap % REACH}(?:(?:{before})(?={after})|(?:{first})\b(?!\s+\w))"
                ),
                True,
            ),
        ]
    return found


@functools.cache
def _trial_words() -> re.Pattern[str]:
    table: dict[str, dict[str, list[str]]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return re.compile(
        rf"\b(?:{_alternation([w for words in table.values() for w in words['trial_only']])})\b"
    )


# (the act after the trial: "…, then run it", "once it looks sane, run it for real", "before applying it")
_THEN = re.compile(
    r"\b(?:then|after\s?wards?|after\s+(?:that|this|it)|once\s+(?:it|the|that|this|you|we)|for\s+real"
    r"|before\s+(?:(?:you|we)\s+)?(?:apply|run|execute|post|push|deploy|do|\w+ing)"
    r"|if\b[^.;!?]{0,60}\b(?:ok|okay|good|fine|right|clean|sane|pass(?:es)?|succeeds|works))\b"
)


@functools.lru_cache(maxsize=1024)
def trial_only(task: str) -> str | None:
    """The words by which a task asks for a trial run and nothing after it ("run the dividend calc in dry-run
    mode and show me the numbers"), or None: not "dry run first", "…, then run it", "if it looks good, go
    ahead" (a trial put first asks for the act too), nor "no need for a dry run"."""
    folded = fold(task[:4000])
    if (found := _trial_words().search(folded)) is None or _LIFTED.search(folded[: found.start()]):
        return None
    if re.search(r"\bfirst\b", folded) or _THEN.search(folded) or _GO_GIVEN.search(folded):
        return None
    return found.group(0)


@functools.lru_cache(maxsize=1024)  # asked of every acting call of a session: the task is the same
def awaited(task: str) -> str | None:
    """The words by which the task asks to see the act first, or None."""
    for sentence in re.split(r"(?<=[.!?;\n])\s+", fold(task[:4000])):
        for pattern, answerable in _patterns():
            for match in pattern.finditer(sentence):
                if not _LIFTED.search(sentence[: match.start()]) and not (
                    answerable and _GO_GIVEN.search(sentence, match.end())
                ):
                    return match.group(0).strip()
    return None
