"""injection.harmful_tool — the agent called a tool whose own name or description declares harm or stealth.

Why: an agent picks tools by what their providers declare (an MCP server's ``tools/list``, an OpenAI-style
``tools`` list). A rogue or poisoned tool can sit in that list under an innocent name, and the model may
choose it while planning, before any injected content arrives: nothing it read steered it, so the
provenance detectors have nothing to trace. What such tools often cannot hide is their purpose: a
description that says the tool works "without detection", "secretly", "covertly", or that it sabotages,
tampers, exfiltrates, steals, hijacks, spoofs or deceives; a name made of such a word (``…Sabotage``,
``…Tampering``, ``…Backdoor``). The words are general English for harm and concealment (the vocabulary of
ATT&CK's tactics), never a benchmark's tool names. A harm word in a sentence about defence ("prevent
tampering", "train staff to spot phishing"), or a name about defence or simulation (``PhishingSimulator``,
``BreachNotification``), does not count. High; medium when the task itself named the tool or asked for
the harm (a red-team exercise).

Known gaps: a rogue tool that declares a harmless purpose (most do) is out of reach here; words in other
languages; descriptions longer than the redacted limit are read as stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.purpose import asks_for_harm, declared_harm
from detectors.context import KeyContext
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import IdentityKind, Severity

WHY = __doc__ or ""


class HarmfulTool(EventDetector):
    id: ClassVar[str] = "injection.harmful_tool"
    title: ClassVar[str] = "Agent called a tool that declares a harmful or covert purpose"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI04", "ASI02", "T2"), mitre_attack=("T1195.001",)
    )
    runbook: ClassVar[str] = (
        "Remove the tool from the agent's toolset (disconnect its MCP server or plug-in), find who added it,"
        " and review what the call did and every later call of the session."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not ctx.acted(event) or event.source == "cloudtrail":
            return ()
        declaration = event.tool_declaration
        found = declared_harm(event.tool, (declaration.description or "") if declaration else "")
        if found is None:
            return ()
        task = ctx.provenance.trusted_text if ctx.provenance is not None else ""
        asked = event.tool.lower() in task.lower() or asks_for_harm(task)
        title = f"{event.tool} declares a harmful or covert purpose ({found})" + (
            ", as the task asked" if asked else ""
        )
        details = {
            "declared": found,
            "asked": asked,
            "description": declaration.description if declaration else None,
        }
        return (
            Signal.of(
                [event], title=title, severity=Severity.MEDIUM if asked else Severity.HIGH, details=details
            ),
        )
