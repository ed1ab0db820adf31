"""scope.broadcast_beyond_task — a message sent to everyone when the task named a few.

Why: "e-mail the three customers whose orders were delayed" ends, one wrong argument later, as a campaign
to the whole customer list; "tell Priya" as a post with ``@channel``. The wording is the user's and the
message may be polite; the audience is what the user never chose. A call that messages or sends
(``detectors/capabilities/``; or writes a campaign, judged by its list) whose audience argument — a list,
segment, audience, group, mention or recipient — means everybody (``all_customers``, ``everyone``,
``all-users``, ``@channel``, ``@everyone``, ``@here``, ``*``, a list's address that says so: ``all-staff@…``,
``efilers-all@…``), or whose result says it reached 50 or more (``"recipients": 212``, a gateway's
``"queued": 2318``), is reported: high; medium when the task asked
for everyone ("announce to all customers", "newsletter", "every member"). Denied or failed calls do not
fire.

Known gaps: a list named without "all" (``segment_42``) that holds everyone; many single messages that add
up to a broadcast (``behaviour.runaway_loop`` sees the repetition).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.audience import all_list_in, asks_all, asks_group
from detectors.capabilities.channels import COUNTED, messaged_many
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
AUDIENCE_KEY = re.compile(
    r"^(list|lists|list_?ids?|segment|segments|segment_?ids?|audience|audiences|group|groups|to|recipients?"
    r"|send_?to|mention|mentions|distribution|targets?|stations?|channels?|devices?)$",
    re.I,
)
EVERYBODY = re.compile(
    r"^\s*(\*|@?everyone|@channel|@here|@all|all|(all|every)[-_ ]?\w*"
    # … or a list's address that says so (``all-staff@``, ``efilers-all@``, ``everyone@``): its shape checked
    # first, then one word of it, so a long hyphenated name is read once, not split every way
    r"|(?=[\w+.-]*@[\w.-]+\s*$)(?:[\w+.-]*[-_.])?(?:all|everyone|everybody)[-_.@][\w+.@-]*)\s*$",
    re.I,
)
CAMPAIGN_KEY = re.compile(
    r"^(list|lists|list_?ids?|segment|segments|segment_?ids?|audience|audiences)$", re.I
)
SENDS = frozenset({Capability.COMMUNICATE, Capability.EGRESS})


def everybody_in(arguments: dict[str, Any], sends: bool) -> str | None:
    """The audience argument that means everybody (``list_ids: [all_customers]``), or None; a ``@channel``
    mention inside a message's text counts too. A call that only writes (a campaign created, then
    scheduled) is judged by its list, segment or audience."""
    for key, value in arguments.items():
        values = value if isinstance(value, list) else [value]
        audience = AUDIENCE_KEY.match(str(key)) and (sends or CAMPAIGN_KEY.match(str(key)))
        if audience and any(isinstance(v, str) and EVERYBODY.match(v) for v in values):
            return f"{key}={values[0]}"
        if isinstance(value, str) and re.search(r"(?<![\w@])@(channel|everyone|here)\b", value):
            return f"{key} mentions everyone"
    return None


class BroadcastBeyondTask(EventDetector):
    id: ClassVar[str] = "scope.broadcast_beyond_task"
    title: ClassVar[str] = "Message sent to everyone"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"))
    runbook: ClassVar[str] = (
        "Stop or cancel the send if it is scheduled; tell the recipients it was a mistake if it went out;"
        " narrow the agent's messaging tool to the recipients its tasks name."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = SENDS | {Capability.WRITE}  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, SENDS | {Capability.WRITE}) or ctx.call is None:
            return ()
        found = everybody_in(event.arguments, bool(SENDS & ctx.call.evidence.keys())) or messaged_many(
            event.result_summary
        )
        if found is None:
            return ()
        intent = ctx.provenance.intent if ctx.provenance is not None else None
        # "everyone" asked only counts for a task that asks to message at all ("tag all the tickets" does not)
        asked = intent is not None and bool(SENDS & intent.implied.keys())
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        asked = asked and asks_all(task)
        if (
            not asked
            and found.startswith(COUNTED)
            and asks_group(task)
            and not all_list_in(event.result_summary)
        ):
            return ()  # ("text the affected properties": 58 queued may be that group; a count cannot tell)
        title = f"{event.tool} sent to everyone ({found})" + (", as the task asked" if asked else "")
        details = {"audience": found, "asked": asked}
        return (
            Signal.of(
                [event], title=title, severity=Severity.MEDIUM if asked else Severity.HIGH, details=details
            ),
        )
