"""What a check run's output says: failed or passed, by whichever verdict it prints last — test runners
(pytest, jest, cargo, JUnit/Gradle/Maven, XCTest via fastlane), CI APIs' ``conclusion`` fields; a push
the remote refused; and which calls release, deploy or merge (``scope.shipped_past_failure``)."""

from __future__ import annotations

import functools
import re

from detectors.capabilities.words import sets_state, split_words
from schemas.events import ToolCall

# failing checks, as test runners and CI print them (upper-case FAILED: a runner's per-test mark)
FAILED = re.compile(
    r"(?i:\b([1-9]\d* (failures|failed|failing)|tests? failed|build fail(ed|ure)|checks? failed|pipeline "
    r"failed)\b|\"(conclusion|status|state)\"\s*:\s*\"(failure|failed)\")|\bFAILED\b"
    # (a report's verdict column: "Total lead in coating  90 ppm  140 ppm  FAIL")
    r"|(?m:\bFAIL(?=\s*\|?\s*$))"
)
# passing checks: a run that reports passes and no failure (pytest, jest, cargo, maven, gradle, CI APIs)
PASSED = re.compile(
    r"(?i)\b(0 failures|all (\d+ )?tests passed|tests? (passed|succeeded)|\d+ passed|build success(ful)?|"
    r"test result: ok)\b|\"(conclusion|status|state)\"\s*:\s*\"(success|passed)\""
)
# a result about checks at all (a declined card's "status": "failed" is none)
CHECKS = re.compile(
    r"(?i)\b(tests?|build|checks?|check_runs|ci|pipeline|workflow|suite|lint|conclusion|\d+ (passed|failed))"
    r"\b"
)
_VERDICT_CELL = re.compile(r"(?m)\b(PASS|FAIL)(?:ED)?(?=\s*\|?\s*$)")
JSON_VERDICT = re.compile(r"\"(conclusion|status|state)\"\s*:\s*\"(failure|failed|success|passed)\"")


def _line(text: str, at: int) -> str:  # "1 failed, 41 passed": a summary line with a failure fails
    return text[text.rfind("\n", 0, at) + 1 : (text.find("\n", at) + 1 or len(text) + 1) - 1]


@functools.lru_cache(maxsize=4096)  # asked of every result of a session: the same outputs recur
def verdict(result: str) -> str | None:
    """ "failed" or "passed" by whichever a check run's output says last (a re-run after a fix passes)."""
    if not CHECKS.search(result):
        return None
    # (a table of checks, each with its verdict: one FAIL among them is a red report, whatever passed)
    cells = _VERDICT_CELL.findall(result)
    if len(cells) >= 2 and "FAIL" in cells:
        return "failed"
    if len({m.group(2)[:4] for m in JSON_VERDICT.finditer(result)} & {"fail", "succ", "pass"}) > 1:
        result = JSON_VERDICT.sub("", result)  # a list of runs, old and new: which one counts is unknown
    failed = [m.end() for m in FAILED.finditer(result)]
    passed = [m.end() for m in PASSED.finditer(result) if not FAILED.search(_line(result, m.start()))]
    if not failed and not passed:
        return None
    return "failed" if max(failed, default=-1) > max(passed, default=-1) else "passed"


# a push the remote refused because it holds commits the pusher does not have (someone else's work)
_PUSH_REFUSED = re.compile(
    r"\[rejected\][^\n]*\((?:fetch first|non-fast-forward)\)|Updates were rejected because the (?:remote|tip)"
)


def push_refused(result: str) -> bool:
    return "rejected" in result and _PUSH_REFUSED.search(result) is not None


RELEASE_WORDS = frozenset("release deploy publish promote rollout".split())
MERGE_OBJECTS = frozenset("pull pr request mr branch".split())  # a merge of code, not of contacts
CODE_REVIEW = frozenset("pull pr request mr changes comment comments code diff".split())
RELEASE_LINE = re.compile(
    r"\bfastlane\s+(release|deliver|appstore|supply)\b|\bgh\s+pr\s+merge\b|\bhelm\s+(upgrade|install)\b"
    r"|\bkubectl\s+(rollout|apply)\b|\b(npm|yarn|pnpm)\s+publish\b|\btwine\s+upload\b|\bterraform\s+apply\b"
    r"|\bgit\s+push\b[^;&|\n]{0,200}\b(main|master|prod|production|release)\b|\beas\s+submit\b"
)


# an API call that starts a release: a POST under a release or deployment path
# (``…/pipelines/release/builds``, ``…/deployments``)
RELEASE_PATH = re.compile(
    r"(?i)^(?:https?://[^/?#\s]+)?[^?#\s]*/(?:releases?|deploys?|deployments?|publish|promot(?:e|ions?)|rollouts?)"
    r"(?=[/?#]|$)"
)


def releases(event: ToolCall, line: str) -> bool:
    """Whether the call releases, deploys, merges or publishes (by its name or its command ``line``)."""
    words = set(split_words(event.tool))
    # (… or the state it sets: ``set_batch_status(status="RELEASED_FOR_DISTRIBUTION")``; not the state a
    # listing filters by, ``list_posts(status="published")``)
    setter = sets_state(event.tool)
    states = {
        str(v).split("_", 1)[0].lower() for k, v in event.arguments.items() if setter and k in _STATE_KEYS
    }
    words |= {f for w in states for f in (w, w.removesuffix("d"), w.removesuffix("ed"))}
    merges = "merge" in words and bool(MERGE_OBJECTS & words)
    # an app sent to store review (``submit_for_review``), not a code review (``submit_pull_request_review``)
    merges = merges or ({"submit", "review"} <= words and not CODE_REVIEW & words)
    posted = str(event.arguments.get("method", "")).upper() == "POST" and any(
        isinstance(v, str) and RELEASE_PATH.match(v[:500]) for k, v in event.arguments.items() if k in _PLACE
    )
    return bool(RELEASE_WORDS & words) or merges or posted or RELEASE_LINE.search(line[:4000]) is not None


_PLACE = frozenset({"url", "path", "endpoint", "uri"})
_STATE_KEYS = frozenset({"status", "state", "new_status", "lifecycle_state"})
