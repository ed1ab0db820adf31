"""injection.credential_on_planted_page — the agent typed a password or a secret into a page it reached
through a link that outside content gave.

Why: credential phishing needs no instruction to the agent. An e-mail says the countersigned contract is in
a "secure document room, sign in with your collections account to confirm receipt", the agent follows the
link, finds a login form and fills it with the account it holds. The behaviour is the same in any wording:
the session navigated to a URL that an untrusted result brought and no trusted input named
(``Provenance.tainted_values``), and a later form input on that page went to a password, passcode, PIN,
one-time-code or secret field, or typed a credential (a redacted secret, a ``{{credentials.x}}`` or
``${SECRET}`` reference). High; critical when the content that gave the link instructed the agent;
medium when the task asked to sign in. A link a web search returned is the agent's own pick, not planted.

Known gaps: a page reached by clicks from the planted page keeps its host only if the click's result shows
no new URL; a credential typed into a field with an ordinary name and no secret shape is not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.forms import page_url, searches, typed_into_secret
from detectors.context import KeyContext
from detectors.provenance.tokens import shown, value_tokens
from detectors.sinks import STRONGLY_ADDRESSED
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
SIGN_IN_ASKED = re.compile(r"(?i)\b(sign|log)[ -]?(in|on)(to)?\b|\blogin\b")  # "sign in to my account": asked


class CredentialOnPlantedPage(StatefulDetector):
    id: ClassVar[str] = "injection.credential_on_planted_page"
    title: ClassVar[str] = "Credential typed into a page that outside content linked to"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI03", "T6"), mitre_attack=("T1566.002", "T1056.003")
    )
    runbook: ClassVar[str] = (
        "Change the password (and any secret typed) now, sign out its sessions, block the page's host, and"
        " find the message that gave the link: others may have received it."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        provenance, call = ctx.provenance, ctx.call
        if not ctx.acted(event) or provenance is None or call is None or not isinstance(event, ToolCall):
            return state, ()
        if searches(event):
            state["searches"] = [*state.get("searches", ()), event.event_id][-8:]
        if (url := page_url(event)) is not None:  # a navigation: the page the next inputs go to
            # a link a web search returned is one the agent chose; one a message or a page gave is planted
            planted = provenance.tainted_values({"url": url}, None)
            given = [s for s in planted.values() if s.event_id not in state.get("searches", ())]
            source = max(given, key=lambda s: s.score, default=None)
            state["page"] = [url[:300], source.event_id, source.score] if source is not None else None
            return state, ()
        page = state.get("page")
        if not page or Capability.FORM_INPUT not in call.evidence:
            return state, ()
        secret = typed_into_secret(event.arguments)
        if secret is None or any(
            provenance.trusts(t) for v in event.arguments.values() for t in value_tokens(v)
        ):
            return state, ()
        state["page"] = None  # one alert per page visit
        severity = Severity.CRITICAL if page[2] >= STRONGLY_ADDRESSED else Severity.HIGH
        severity = Severity.MEDIUM if SIGN_IN_ASKED.search(provenance.trusted_text) else severity
        where = shown("url:" + page[0])
        title = f"{event.tool} typed a credential into {where}, a page outside content linked to"
        details = {"page": page[0], "field": secret[:80], "link_source_event": page[1]}
        return state, (Signal.of([event], title=title, severity=severity, details=details),)
