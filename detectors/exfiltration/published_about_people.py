"""exfiltration.published_about_people — a public post names a person the session read about, together with
their health, their money troubles or a legal or police matter.

Why: "post a thank-you for the weekend's callouts" ends with each casualty's name, age and injury on the
team's Facebook page; "reply to the 1-star review" with the reviewer's full name, his friends' drunkenness
and his card's last digits; "remind the owners about worming" with who is in arrears, in the yard's group.
The send was asked for and goes where the task said; what is wrong is whom it exposes. A call that posts
publicly (a social page or account, a review reply, an argument that makes it public:
``visibility: public``, ``published: true``) whose text holds a person's full name that a tool result of
the session brought, and words of health (an injury, a diagnosis, intoxication, a hospital), of money
trouble (arrears, debt, a chargeback) or of the law (police, court, arrest), is reported: high. Names the
user wrote are theirs to publish; posts without a name, or with a name and none of those words, are not
judged.

A chat channel everyone is in counts as public too: ``#general``, ``random``, an announcements or community
channel, or one whose post result says it reaches 50 people or more or is shared with other organisations.

Known gaps: a person named by first name, initials or a handle (a title and surname counts); sensitive
facts in other words or other languages; a private group of many, named otherwise, is not read as public.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.audience import posts_publicly
from detectors.capabilities.private_data import people_named_in, strings_in
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
MAX_NAMES = 64  # people's names remembered from results, per session
SENDS = frozenset({Capability.COMMUNICATE, Capability.EGRESS, Capability.WRITE})
SENSITIVE = re.compile(
    r"(?i)\b(fractur\w*|injur\w*|chest pain|cardiac|heart attack|stroke|seizure|epilep\w*|diabet\w*|cancer|"
    r"pregnan\w*|miscarr\w*|hiv|hepatitis|mental health|suicid\w*|overdos\w*|intoxicated|drunk|vomit\w*|"
    r"hospital\w*|airlift\w*|diagnos\w*|medication|rehab\w*|disabilit\w*|arrears|overdue|debts?|unpaid|"
    r"surger(?:y|ies)|surgical|ambulance|paramedics?|antidepressants?|broke\s+(?:his|her|their)\s+\w+|"
    r"chargebacks?|bankrupt\w*|evict\w*|solicitor'?s?|arrest\w*|convict\w*|police|court|lawsuit|"
    r"abus(?:e|ed|ive)|domestic violence|hospice|terminally ill|dementia)\b"
)
# a street or a place by its kind ("Pine Hollow Rd", "Lakeview Terrace"): with a first name, whom it means
_STREET = re.compile(
    r"\b(?:[A-Z][a-z]+ ){1,3}"
    r"(?:Rd|Road|St|Street|Ave|Avenue|Ln|Lane|Dr|Drive|Ct|Court|Terrace|Way|Close|Place)\b"
)


def _named(name: str, text: str) -> bool:
    """The person is in the text by full name, by title and surname ("Mr Thornton" for Mark Thornton), or by
    first name beside a street ("Kayla from Pine Hollow Rd")."""
    first, surname = name.split(" ", 1)[0], name.rsplit(" ", 1)[-1]
    if name in text or re.search(rf"\b(Mr|Mrs|Ms|Miss|Dr)\.? {re.escape(surname)}\b", text) is not None:
        return True
    return any(
        _STREET.search(text, m.end(), m.end() + 40) for m in re.finditer(rf"\b{re.escape(first)}\b", text)
    )


class PublishedAboutPeople(StatefulDetector):
    id: ClassVar[str] = "exfiltration.published_about_people"
    title: ClassVar[str] = "Public post names a person with their health, money or legal matters"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2"), mitre_attack=("T1567",))
    runbook: ClassVar[str] = (
        "Take the post down now, tell the people it named (health and money details may need notice by law)"
        " and make the agent's public posts wait for a person's approval."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not isinstance(event, ToolCall) or ctx.provenance is None or not ctx.acted(event):
            return state, ()
        names: list[str] = state.get("names") or []
        signals: tuple[Signal, ...] = ()
        if names and ctx.acted(event, SENDS) and posts_publicly(event):
            text = " ".join(strings_in(event.arguments))[:8000]
            trusted = ctx.provenance.trusted_text
            named = [n for n in names if _named(n, text) and n not in trusted]
            if named and (said := SENSITIVE.search(text)):
                title = f"{event.tool} posted publicly about {named[0]} ({said.group(0).lower()})"
                details = {
                    "people": named[:8],
                    "sensitive": sorted({m.lower() for m in SENSITIVE.findall(text)}),
                }
                signals = (Signal.of([event], title=title, details=details),)
        result = (event.result_summary or "")[:8000]
        if result and (fresh := [n for n in people_named_in(result) if n not in names]):
            state["names"] = [*names, *fresh][-MAX_NAMES:]
        return state, signals
