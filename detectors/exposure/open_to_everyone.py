"""exposure.open_to_everyone — an agent's tool call gave access to everyone, or made a private item public.

Why: the quickest way for an agent to "let Priya see the dashboard" or "send the tax file to my
accountant" is the widest one: a policy attached to principal ``*``, a document shared with "anyone with
the link", a repository or a calendar made public. What the call does is in its arguments, whatever the
toolkit calls it: a call that can change access, share or write (``detectors/capabilities/``) whose
access-setting argument (principal, grantee, audience, visibility, access level, sharing, members …) is
a wildcard or a name for everybody (``*``, ``everyone``, ``anyone``, ``public``, ``allUsers``,
``anyoneWithLink``). High, medium when the task itself asked for it wide ("a public link for the album",
a sealed record unsealed; a link asked for, of a call that makes a link — "send me a link" is no ask to
publish a paste); the alert names the argument. A computer-use click on a control that says so ("Make
available to public", "Anyone with the link", "Publish to web") is the same act, as are SQL's ``GRANT …
TO PUBLIC``, a cloud CLI's ``allUsers`` member, a network rule open to any source (``source_net: any``
with a port) and a sharing link open to anyone (``scope: anonymous``, ``shared_link.access: open``).
Denied or failed calls do not fire. CloudTrail's records are ``exposure.public_access``'s.

A grant to the whole organisation (a Drive permission of ``type: domain``, a link of scope ``organization``
or ``company``) is the same act inside the walls: high unless the task asked for it company-wide.

Known gaps: a wider group that is not everybody and not the organisation ("all engineers"); access given
through a link the call only returns (the link shared later is a message, see ``injection.tainted_action``); a
public setting spelled as a boolean with another name (``is_private: false``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.everyone import everyone_in, organisation_in, public_control
from detectors.capabilities.grants import everyone_in_statement, open_network_rule
from detectors.capabilities.words import split_words
from detectors.context import KeyContext
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Outcome, Severity

WHY = __doc__ or ""
# the user asked for it wide, or for a link to hand on ("give me a view-only link to send my roommate")
# ("publish … on the open data portal", "post it on our website")
ASKED_PUBLIC = re.compile(
    r"\b(public(ly)?|publish\w*|open data|website|everyone|anyone|world|unseal\w*|declassif\w*)\b", re.I
)
# a link asked for ("a view-only link, expiring in 7 days") is asked of a call that makes a link; a public
# paste or post made for "send me a link I can open on my phone" is a publication nobody asked for
ASKED_LINK = re.compile(r"\blinks?\b", re.I)
ASKED_ORGANISATION = re.compile(
    r"(?i)\b(whole|entire|all\s+of\s+the|the\s+rest\s+of\s+the)\s+(company|org|organi[sz]ation|firm|staff|domain)\b"
    r"|\b(company|org|organi[sz]ation|firm|domain)[- ]wide\b|\ball\s+(staff|employees|hands)\b|\bintranet\b"
)
CHANGES_ACCESS = frozenset({Capability.IDENTITY, Capability.EGRESS, Capability.WRITE})
# a comment or reply on an item made public (``add_comment(is_private=false)``): its requester reads it
ON_ITEM = frozenset("comment comments reply replies note notes worknote".split())
VISIBILITY = re.compile(r"(?i)^(is_?)?(private|public)=(true|false)$")
# … the item named by the call (``ticket_id``, ``tickets.add_comment``): a note of its own, no item, is a page
ITEMS = frozenset(
    "ticket tickets issue issues case cases incident incidents task tasks request requests".split()
)


class OpenToEveryone(EventDetector):
    id: ClassVar[str] = "exposure.open_to_everyone"
    title: ClassVar[str] = "Access given to everyone"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI02", "ASI03", "T2", "T3"), mitre_attack=("T1098",)
    )
    runbook: ClassVar[str] = (
        "Take the access back now (remove the wildcard grant, unshare or make the item private), check who"
        " reached it meanwhile, and give the access the task needed to the one person who needed it."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities: ClassVar[frozenset[Capability] | None] = CHANGES_ACCESS  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        call = ctx.call
        if not isinstance(event, ToolCall) or call is None or event.source == "cloudtrail":
            return ()
        if event.outcome in (Outcome.DENIED, Outcome.ERROR) or not CHANGES_ACCESS & call.evidence.keys():
            return ()
        arguments = event.arguments  # a share, a control, a statement or command line, a network rule
        link = "link" in split_words(event.tool)  # ``create_sharing_link(scope="anonymous")``
        found = everyone_in(arguments, link=link) or public_control(arguments) or open_network_rule(arguments)
        found = found or everyone_in_statement(arguments, command_of(event))
        whole = None if found else organisation_in(arguments, link=link)  # everyone in the organisation
        found = found or whole
        tool = set(split_words(event.tool))
        item = ITEMS & (tool | {w for k in arguments for w in split_words(str(k))})
        if found is None or (VISIBILITY.match(found) and ON_ITEM & tool and item):
            return ()
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        link = "link" in event.tool.lower() and ASKED_LINK.search(task) is not None
        asked = (
            link or ASKED_PUBLIC.search(task) is not None or bool(whole and ASKED_ORGANISATION.search(task))
        )
        details = {"argument": found, "capabilities": sorted(c.value for c in call.evidence), "asked": asked}
        whom = "the whole organisation" if whole else "everyone"
        title = f"{event.tool} gave access to {whom} ({found})" + (", as the task asked" if asked else "")
        severity = Severity.MEDIUM if asked else Severity.HIGH
        return (Signal.of([event], title=title, severity=severity, details=details),)
