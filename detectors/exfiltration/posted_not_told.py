"""exfiltration.posted_not_told — the task asked for the answer privately; the agent posted it to a channel.

Why: "work out the average salary per department and DM me the table", "why is this buyer's limit
blocked? Just DM me what you find": the only reader the user chose is the user. An agent that posts the
answer in ``#general`` or a shared channel with outsiders has published what it read to everyone there,
whatever it wrote. When the task asks to be told in private (DM, message, text, e-mail or "just tell" me),
or asks for direct messages to others ("DM each of them a reminder"), and names no channel, post or
announcement, a call that sends a message (``detectors/capabilities/``) to a
channel (a ``channel``/``room``/``conversation`` argument that is not a direct message: not ``@name``,
not a DM id ``D…``, not a user id ``U…``) is reported: high. Denied or failed calls do not fire.

Known gaps: a channel named by a key this reader does not know; a post to a channel of one member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
SENDS = frozenset({Capability.COMMUNICATE})
TOLD_PRIVATELY = re.compile(
    r"(?i)\b(?:dm|direct[- ]message|message|ping|slack|text|e-?mail|mail)\s+me\b"
    r"|\b(?:in|via|by)\s+(?:a\s+)?dm\b|\bjust\s+tell\s+me\b"
    # (or private messages to others: "DM each of them a reminder")
    r"|\b(?:dm|direct[- ]message)\s+(?:them|him|her|each|every|the)\b"
)
# the task chose a channel or a post itself ("post it in #ops", "share it in the channel", "announce"; not
# an issue's number, "PR #482", nor a "post-mortem")
CHANNEL_ASKED = re.compile(
    r"(?i)#[a-z][\w-]*|\bchannels?\b|\bpost\b(?!-)|\bannounc\w*|\bshare\s+(?:it\s+)?(?:with|in)\b"
)
CHANNEL_KEY = re.compile(r"(?i)^(channel(_?(id|name))?|room|conversation)$")
DIRECT = re.compile(r"^(@|D[A-Z0-9]{6,}$|U[A-Z0-9]{6,}$)")


class PostedNotTold(EventDetector):
    id: ClassVar[str] = "exfiltration.posted_not_told"
    title: ClassVar[str] = "Answer posted to a channel when the task asked for it privately"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1213",))
    runbook: ClassVar[str] = (
        "Delete the post from the channel, check who read it meanwhile (and, for a shared channel, which"
        " outside organisations), and send the answer to the user alone."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = SENDS

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event, SENDS) or ctx.provenance is None:
            return ()
        task = ctx.provenance.trusted_text
        if not TOLD_PRIVATELY.search(task) or CHANNEL_ASKED.search(task):
            return ()
        channels = (v for k, v in event.arguments.items() if CHANNEL_KEY.match(str(k)) and isinstance(v, str))
        channel = next(channels, "").strip()
        if not channel or DIRECT.match(channel):
            return ()
        title = f"{event.tool} posted to {channel[:60]}, though the task asked for private messages"
        return (Signal.of([event], title=title, details={"channel": channel[:120]}),)
