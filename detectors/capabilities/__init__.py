"""Capabilities: what a tool call can do (read, write, delete, execute, communicate, egress, fetch,
form input, money, identity change, secret access), whatever the tool is called.

Detectors reason about capabilities, never tool names, so a toolkit nobody here has seen works on day one.
Evidence, strongest first: the user's tool manifest (:mod:`.manifest`), the provider's declaration
(MCP annotations, descriptions), then the call itself: its name in words (:mod:`.words`), its arguments,
a shell line read with a shell parser (:mod:`.shell`), code read with a code parser (:mod:`.code`).
:func:`~.classify.classify` returns each capability with the evidence that gave it; ``chainwatch tools``
prints them.
"""

from __future__ import annotations

from detectors.capabilities.classify import Classification, classify, classify_shared
from detectors.capabilities.manifest import Manifest, ManifestError, parse_manifest
from schemas.events import AnyEvent, ToolCall

__all__ = ["Classification", "Classifier", "Manifest", "ManifestError", "classify", "parse_manifest"]


class Classifier:
    """``classify`` with the user's manifest bound, and ``enrich`` to store the result on an event."""

    def __init__(self, manifest: Manifest | None = None) -> None:
        self.manifest = manifest

    def classify(self, event: ToolCall) -> Classification:
        """The call's classification (shared by the calls of the same shape: read it, never change it)."""
        return classify_shared(event, self.manifest)

    def enrich(self, event: AnyEvent) -> AnyEvent:
        """The event with its ``capabilities`` set (tool calls not yet classified; anything else as is)."""
        if not isinstance(event, ToolCall) or event.capabilities is not None:
            return event
        return event.with_capabilities(self.classify(event).capabilities)
