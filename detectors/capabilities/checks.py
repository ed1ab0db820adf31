"""What a check run's output says: failed or passed, by whichever verdict it prints last — test runners
(pytest, jest, cargo, JUnit/Gradle/Maven, XCTest via fastlane), CI APIs' ``conclusion`` fields
(``scope.shipped_past_failure``)."""

from __future__ import annotations

import functools
import re

# failing checks, as test runners and CI print them (upper-case FAILED: a runner's per-test mark)
FAILED = re.compile(
    r"(?i:\b([1-9]\d* (failures|failed|failing)|tests? failed|build fail(ed|ure)|checks? failed|pipeline "
    r"failed)\b|\"(conclusion|status|state)\"\s*:\s*\"(failure|failed)\")|\bFAILED\b"
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
JSON_VERDICT = re.compile(r"\"(conclusion|status|state)\"\s*:\s*\"(failure|failed|success|passed)\"")


def _line(text: str, at: int) -> str:  # "1 failed, 41 passed": a summary line with a failure fails
    return text[text.rfind("\n", 0, at) + 1 : (text.find("\n", at) + 1 or len(text) + 1) - 1]


@functools.lru_cache(maxsize=4096)  # asked of every result of a session: the same outputs recur
def verdict(result: str) -> str | None:
    """ "failed" or "passed" by whichever a check run's output says last (a re-run after a fix passes)."""
    if not CHECKS.search(result):
        return None
    if len({m.group(2)[:4] for m in JSON_VERDICT.finditer(result)} & {"fail", "succ", "pass"}) > 1:
        result = JSON_VERDICT.sub("", result)  # a list of runs, old and new: which one counts is unknown
    failed = [m.end() for m in FAILED.finditer(result)]
    passed = [m.end() for m in PASSED.finditer(result) if not FAILED.search(_line(result, m.start()))]
    if not failed and not passed:
        return None
    return "failed" if max(failed, default=-1) > max(passed, default=-1) else "passed"
