"""behaviour.runaway_loop — the same call repeated many times in a short window.

Why: an agent stuck in a loop (a tool error it cannot read, a planner that never sees its goal met, an
injected "keep retrying") burns money and API quota, hammers the target, and can turn one bad
decision into thousands of writes — a cascading failure no single call shows. A call is "the same" when
its tool, action, target and arguments are equal (a 64-bit digest of them as sorted-key JSON); it
fires when one signature is seen ``COUNT`` (20) times within ``WINDOW_SECONDS`` (120 s), then that
signature's count starts afresh. One alert per ``suppress_seconds`` (10 min) per session. A loop of
reads (``Describe``/``Get``/``List``/``read``… calls) is low severity: it costs quota, not data.

Thresholds: busy benign agents poll. In the simulator (3 seeds x 300 benign sessions) the most repeated
benign call (cloud-ops ``DescribeInstances`` with the same filter, between other reads and throttling
retries) peaks at 14 within 120 s (23 within 300 s); tau-bench airline transcripts never repeat an
identical call more than 4 times. 20 in two minutes — one identical call every 6 s — is a loop.

Known gaps: a loop that varies an argument (a timestamp, a page counter, a random id) is not the same
call; slow loops (one call a minute) stay under the window; SDK/Terraform "waiters" polling a
``Describe*`` call every 1-2 s fire (at low severity; Stratus Red Team's CloudTrail warm-ups show
them); at most ``MAX_SIGNATURES`` signatures are tracked per session (least recently seen dropped).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from typing import Any, ClassVar

import orjson

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.helpers import READ_VERBS, name_words
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""
COUNT = 20
WINDOW_SECONDS = 120.0
MAX_SIGNATURES = 64


@functools.lru_cache(maxsize=2048)
def digest(payload: bytes) -> str:
    """64 bits of blake2b in 11 characters (a key of the saved state), memoised: loops repeat calls."""
    return base64.urlsafe_b64encode(hashlib.blake2b(payload, digest_size=8).digest()).decode()[:11]


def signature(event: ToolCall) -> str:
    call = [event.tool, event.action, event.target, event.arguments]
    payload = orjson.dumps(call, default=str, option=orjson.OPT_SORT_KEYS)
    return digest(payload) if len(payload) <= 1024 else digest.__wrapped__(payload)


class RunawayLoop(StatefulDetector):
    id: ClassVar[str] = "behaviour.runaway_loop"
    title: ClassVar[str] = "Agent repeating the same call in a loop"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.MEDIUM
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS  # agent-centric (issue 13)
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI08", "ASI10", "T4", "T7"), owasp_nhi=(), mitre_attack=("T1499",)
    )
    runbook: ClassVar[str] = (
        "Pause the agent and check the repeated call's results; cap its retries or rate before resuming."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    suppress_seconds: ClassVar[float] = 600.0

    def compact(self, state: dict[str, Any], horizon: float) -> None:
        """A signature whose calls no later event can keep stays in its place (least recently seen), empty."""
        for recent in (state.get("calls") or {}).values():
            if recent and all(horizon - c[0] > WINDOW_SECONDS for c in recent):
                recent.clear()

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall):
            return state, ()
        now = ctx.now
        calls: dict[str, list[list[Any]]] | None = state.get("calls")
        if calls is None:
            calls = state["calls"] = {}
        sig = signature(event)
        recent = calls.pop(sig, None) or []
        if recent and now - recent[0][0] > WINDOW_SECONDS:
            recent = [c for c in recent if now - c[0] <= WINDOW_SECONDS]
        recent.append([now, event.event_id])
        if len(recent) < COUNT:
            calls[sig] = recent  # re-inserted last: the dict's order is least recently seen first
            if len(calls) > MAX_SIGNATURES:
                del calls[next(iter(calls))]
            return state, ()
        span = recent[-1][0] - recent[0][0]
        return state, [
            Signal(
                severity=Severity.LOW if name_words(event.tool, event.action) & READ_VERBS else None,
                event_ids=tuple(c[1] for c in recent),
                first_time=recent[0][0],
                last_time=now,
                title=f"{event.tool}/{event.action} called {len(recent)} times in {span:.0f} s",
                details={
                    "count": len(recent),
                    "window_seconds": WINDOW_SECONDS,
                    "target": event.target,
                },
                credential_ids=(event.credential_id,) if event.credential_id else (),
                environments=(str(event.environment),),
                session_id=event.session_id,
            )
        ]
