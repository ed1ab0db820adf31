"""Who made an event: the identities file first, then the heuristics; and how a key's kind settles."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from detectors.identity.facts import PrincipalFacts, facts_of
from detectors.identity.heuristics import heuristic_kind
from detectors.identity.identities_file import IdentitiesFile
from detectors.identity.session_tags import SessionTagMemory
from schemas.events import AnyEvent
from schemas.types import IdentityKind


@dataclass(frozen=True, slots=True)
class Resolution:
    kind: IdentityKind
    reason: str
    from_file: bool = False


class IdentityResolver:
    """Resolves events to kinds. Memoised: the same principal facts give the same kind; the only memory is
    the session tags STS gave each session (``learn``), added to the facts of the session's calls."""

    def __init__(self, identities: IdentitiesFile | None = None) -> None:
        self.identities = identities
        self.session_tags = SessionTagMemory()
        self._resolve_facts = lru_cache(maxsize=4096)(self._uncached)

    def learn(self, event: AnyEvent) -> None:
        """Remember the session tags of a call that makes a session (AssumeRole and kin)."""
        self.session_tags.learn(event)

    def resolve(self, event: AnyEvent) -> Resolution:
        facts = facts_of(event)
        tagged = self.session_tags.of(event)
        if tagged is not None:
            facts = replace(facts, tags=tuple(sorted((dict(tagged.tags) | dict(facts.tags)).items())))
        return self._resolve_facts(facts)

    def _uncached(self, facts: PrincipalFacts) -> Resolution:
        if self.identities is not None:
            tags = self.identities.tags_of(facts)
            for rule in self.identities.rules:
                if rule.matches(facts, tags):
                    return Resolution(rule.kind, f"identities file: {rule.name}", from_file=True)
        kind, reason = heuristic_kind(facts)
        return Resolution(kind, f"heuristic: {reason}")

    @staticmethod
    def settle(current: Resolution | None, new: Resolution) -> Resolution:
        """A key's kind: the first event that says something decides; the identities file overrides a
        heuristic; a later sign of an agent upgrades a heuristic kind to agent (an agent that also drives
        Terraform or a browser is still an agent); nothing ever downgrades."""
        if current is None or current.kind is IdentityKind.UNKNOWN:
            return new if new.kind is not IdentityKind.UNKNOWN or current is None else current
        if current.from_file:
            return current
        if new.from_file or (new.kind is IdentityKind.AGENT and current.kind is not IdentityKind.AGENT):
            return new
        return current


DEFAULT_RESOLVER = IdentityResolver()
