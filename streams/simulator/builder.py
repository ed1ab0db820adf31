"""Writes one simulated session's events against a relative clock; ``simulate`` places them in time.

A session is a clock in milliseconds from its start and a list of event drafts (kind, id, fields); the
workload turns drafts into validated events once every session is written. Credentials issued here are
refreshed a minute before they expire while the session runs, as an agent runtime does.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from schemas.types import CredentialAction, Decision, Environment, Outcome, SessionAction

OK = Outcome.SUCCESS
BY_RULE = Decision.ALLOWED_BY_RULE

EventKind = Literal["tool_call", "credential", "session"]


@dataclass
class _Credential:
    ttl_s: float
    expires_ms: int
    refreshable: bool


@dataclass
class SessionBuilder:
    """Writes one session's events against a relative clock; ``simulate`` places it in time afterwards.

    Scenario functions drive it; detector tests can use it to write a specific chain by hand.
    """

    seed: int
    n: int
    rng: random.Random
    agent_id: str = "agent"
    principal: str | None = None
    clock_ms: int = 0
    drafts: list[tuple[int, EventKind, str, dict[str, Any]]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    end_ms: int | None = None
    credentials: dict[str, _Credential] = field(default_factory=dict, repr=False)

    @property
    def session_id(self) -> str:
        return f"sim-{self.seed}-s{self.n:05d}"

    def _add(self, kind: EventKind, fields: dict[str, Any]) -> str:
        event_id = f"sim-{self.seed}-{self.n}-{len(self.drafts)}"
        self.drafts.append((self.clock_ms, kind, event_id, fields))
        self.clock_ms += 1  # strictly increasing times within a session
        return event_id

    def wait(self, low_s: float, high_s: float) -> None:
        self.clock_ms += int(self.rng.uniform(low_s, high_s) * 1000)

    def mark(self, event_id: str) -> str:
        """Record ``event_id`` as one of the attack's key events."""
        self.steps.append(event_id)
        return event_id

    # -- session boundaries --------------------------------------------------------------------------

    def start(self, task: str, scope: Sequence[str]) -> str:
        return self._add("session", {"action": SessionAction.START, "task": task, "task_scope": tuple(scope)})

    def permission_mode(self, mode: str) -> str:
        return self._add("session", {"action": SessionAction.PERMISSION_MODE, "permission_mode": mode})

    def end(self) -> str:
        self.end_ms = self.clock_ms
        return self._add("session", {"action": SessionAction.END})

    # -- credentials ---------------------------------------------------------------------------------

    def credential_id(self, prefix: str, k: int = 0) -> str:
        digest = hashlib.blake2b(f"{self.seed}:{self.n}:{k}:{prefix}".encode(), digest_size=10).hexdigest()
        if prefix in ("ASIA", "AKIA"):  # AWS access key id shape: 4 letters + 16 upper-case alphanumerics
            return prefix + digest[:16].upper()
        return f"{prefix}-{digest[:16]}"

    def issue(
        self,
        credential_id: str,
        *,
        scopes: Sequence[str],
        ttl_s: float,
        issuer: str,
        inherited_from_human: bool = False,
        refreshable: bool = True,
    ) -> str:
        self.credentials[credential_id] = _Credential(ttl_s, self.clock_ms + int(ttl_s * 1000), refreshable)
        event_id = self._add(
            "credential",
            {
                "credential_id": credential_id,
                "action": CredentialAction.ISSUED,
                "subject": self.agent_id,
                "on_behalf_of": self.principal,
                "scopes": tuple(scopes),
                "ttl_seconds": ttl_s,
                "_expires_ms": self.clock_ms + int(ttl_s * 1000),
                "issuer": issuer,
                "inherited_from_human": inherited_from_human,
            },
        )
        self.clock_ms += self.rng.randint(200, 1500)  # the agent gets the token, then starts working
        return event_id

    def _lifecycle(self, credential_id: str, action: CredentialAction) -> str:
        return self._add(
            "credential", {"credential_id": credential_id, "action": action, "subject": self.agent_id}
        )

    def revoke(self, credential_id: str) -> str:
        self.credentials.pop(credential_id, None)
        return self._lifecycle(credential_id, CredentialAction.REVOKED)

    def expire(self, credential_id: str) -> str:
        credential = self.credentials.pop(credential_id)
        self.clock_ms = max(self.clock_ms, credential.expires_ms)
        return self._lifecycle(credential_id, CredentialAction.EXPIRED)

    def _refresh_due(self) -> None:
        """The agent runtime renews a credential a minute before it expires, while the session runs."""
        if self.end_ms is not None:
            return
        for credential_id, credential in self.credentials.items():
            if not credential.refreshable or self.clock_ms < credential.expires_ms - 60_000:
                continue
            credential.expires_ms = self.clock_ms + int(credential.ttl_s * 1000)
            self._add(
                "credential",
                {
                    "credential_id": credential_id,
                    "action": CredentialAction.REFRESHED,
                    "subject": self.agent_id,
                    "on_behalf_of": self.principal,
                    "ttl_seconds": credential.ttl_s,
                    "_expires_ms": credential.expires_ms,
                },
            )

    # -- tool calls ----------------------------------------------------------------------------------

    def call(
        self,
        tool: str,
        action: str,
        *,
        env: Environment,
        target: str | None = None,
        args: dict[str, Any] | None = None,
        outcome: Outcome = OK,
        decision: Decision = BY_RULE,
        approved_by: str | None = None,
        cred: str | None = None,
        untrusted: bool = False,
        result: str | None = None,
        ms: tuple[float, float] = (80.0, 900.0),
        think_s: tuple[float, float] = (1.0, 8.0),
    ) -> str:
        """One tool call; the clock moves on by its duration and a think time."""
        if self.credentials:
            self._refresh_due()
        duration = round(self.rng.uniform(*ms), 1)
        event_id = self._add(
            "tool_call",
            {
                "tool": tool,
                "action": action,
                "target": target,
                "environment": env,
                "arguments": args or {},
                "outcome": outcome,
                "decision": decision,
                "approved_by": approved_by,
                "credential_id": cred,
                "duration_ms": duration,
                "untrusted_content": untrusted,
                "result_summary": result,
            },
        )
        self.clock_ms += int(duration) + int(self.rng.uniform(*think_s) * 1000)
        return event_id

    def aws(self, action: str, target: str | None, env: Environment, **kw: Any) -> str:
        return self.call("aws", action, target=target, env=env, **kw)

    def bash(self, command: str, env: Environment, **kw: Any) -> str:
        return self.call("bash", "exec", env=env, args={"command": command}, **kw)
