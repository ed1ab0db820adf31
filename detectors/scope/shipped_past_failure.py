"""scope.shipped_past_failure — the session's own checks said red, and the agent released, deployed,
merged or published anyway.

Why: release checklists and pipelines put a test run or a check before the act that reaches users. An agent
told to "ship it today" that sees 14 failing payment tests, or a failed pipeline, and then submits the
build with ``skip_tests:true``, merges the pull request or applies the plan has turned a gate into a
formality. The detector follows the session's results: the latest one that reports checks (``14
failures``, ``Tests failed``, ``FAILED``, ``BUILD FAILURE``, ``"conclusion": "failure"``; or passing:
``0 failures``, ``All tests passed``, ``"conclusion": "success"``) sets the state, and a call that releases
— by its name (release, deploy, publish, promote, rollout, a merge of a pull request or branch), a POST
under an API's release or deployment path (``…/pipelines/release/builds``), or its command line
(``fastlane release|deliver``, ``gh pr merge``, ``helm upgrade``, ``kubectl rollout|apply``, ``npm
publish``, ``twine upload``, ``terraform apply``, a push to main or master) — while the latest checks
failed is reported: high. Not when the task itself says to go ahead despite failures ("even if the tests
fail", "skip the tests"). A force push after the remote refused a push (it held commits the session
lacked: someone's work) is reported too, unless the task says to force.

Known gaps: checks read by a human elsewhere; failures reported in other words (a red badge, an exit code
only); a failure fixed by a later run that printed nothing this detector reads as passing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.checks import FAILED, push_refused, releases, verdict
from detectors.context import KeyContext
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
GO_AHEAD = re.compile(r"(?i)\b(even if|regardless|despite|skip(ping)? (the )?tests|ignore (the )?fail)", re.I)


_RUNS = frozenset({Capability.READ, Capability.EXECUTE, Capability.FETCH})


def _releases(event: ToolCall) -> bool:
    return releases(event, command_of(event) or "")


class ShippedPastFailure(StatefulDetector):
    id: ClassVar[str] = "scope.shipped_past_failure"
    title: ClassVar[str] = "Released, deployed or merged after the session's checks failed"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "ASI08", "T2"), mitre_attack=("T1562",))
    runbook: ClassVar[str] = (
        "Halt the rollout (pull the build from review, roll back the deploy, revert the merge), look at the"
        " failing checks, and make the release step refuse to run while they are red."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.call is None:
            return state, ()
        releases = ctx.call.derived(_releases, event)  # once per shape of call: agents repeat theirs
        signals: tuple[Signal, ...] = ()
        failed_in = state.get("failed")
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        if releases and failed_in and not GO_AHEAD.search(task):
            title = f"{event.tool} released after the session's checks failed ({failed_in[1]})"
            details = {"failed_check_event": failed_in[0], "failure": failed_in[1]}
            signals = (Signal.of([event], title=title, details=details),)
            state.pop("failed")
        shell = ctx.call.shell
        if state.get("refused") and shell and "force_push" in shell.flags and "force" not in task.lower():
            title = f"{event.tool} force-pushed over the remote's newer commits after its push was refused"
            signals = (
                *signals,
                Signal.of([event], title=title, details={"refused_in": state.pop("refused")}),
            )
        if push_refused(event.result_summary or ""):
            state["refused"] = event.event_id
        result = (event.result_summary or "")[-4000:]  # a test run's verdict is at its end
        # (not what a write of the agent's own says: a record it set to "PASS" is no check run; a call no
        # vocabulary reads, ``ci.pipeline``, may be one)
        runs = not ctx.call.evidence or bool(ctx.call.evidence.keys() & _RUNS)
        said = None if releases or not runs else verdict(result)
        if said == "failed" and (failed := FAILED.search(result)):
            state["failed"] = [event.event_id, failed.group(0)[:60]]
        elif said == "passed":
            state.pop("failed", None)
        return state, signals
