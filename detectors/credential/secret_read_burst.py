"""credential.secret_read_burst — many distinct secrets read (or tried) in a short window.

Why: a task needs the one or two secrets of the service it works on. Reading eight or more different
secrets within ten minutes is harvesting: a compromised or hijacked agent collecting credentials to
move laterally (Stratus secretsmanager-retrieve-secrets, ssm-retrieve-securestring-parameters,
ec2-get-password-data). ``detectors.vocab.secret_reads`` names the secrets a call reads: Secrets Manager
GetSecretValue/BatchGetSecretValue, SSM parameters read with decryption, EC2 GetPasswordData and
userData, secret CLIs (``aws secretsmanager``, ``vault``, ``kubectl get secret -o yaml``…) and shell or
file-tool reads of credential files (``~/.aws/credentials``, ``.env``, SSH keys, ``.netrc``, kubeconfig).
A bulk read whose size the log does not show (a filtered BatchGetSecretValue page, GetParametersByPath)
counts as five. Written in Python because one call can read many secrets, which a threshold rule's
one-value-per-event ``distinct`` cannot count. Denied attempts count: a burst of denied reads is still
harvesting, reported at medium severity. One finding per burst: after it fires the detector is quiet
for one window.

Known gaps: a slow harvest (a few secrets an hour) stays under the threshold; secrets read through an
application's own API, environment dumps (``env``, ``printenv``) and process memory are not seen;
the threshold is per session, so a harvest spread over several sessions or keys is missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import PRINCIPALS, Signal, StatefulDetector
from detectors.context import KeyContext
from detectors.vocab import may_read_secret, secret_reads
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import IdentityKind, Outcome, Severity

WHY = __doc__ or ""
THRESHOLD = 8  # distinct secrets
WINDOW_SECONDS = 600.0
MAX_ENTRIES = 256


class SecretReadBurst(StatefulDetector):
    id: ClassVar[str] = "credential.secret_read_burst"
    title: ClassVar[str] = "Burst of secret reads"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = PRINCIPALS  # every principal but AWS services
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI03", "T3", "T2"),
        owasp_nhi=("NHI2", "NHI5"),
        mitre_attack=("T1555.006", "T1552.001"),
    )
    runbook: ClassVar[str] = (
        "Revoke the session's credential; rotate every secret it read (listed in details), audit their use."
    )
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    windows: ClassVar[dict[str, float]] = {"window": WINDOW_SECONDS}  # what the engine may drop (issue 14)
    deadlines: ClassVar[tuple[str, ...]] = ("quiet_until",)

    def relevant(self, kind: str, tool: str | None, action: str) -> bool:
        return tool is None or may_read_secret(tool, action)  # shell calls, file reads, secret APIs

    def initial_state(self) -> dict[str, Any]:
        return {"window": [], "quiet_until": None}

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        keys = secret_reads(event) if isinstance(event, ToolCall) else []
        if not isinstance(event, ToolCall) or not keys:
            return state, ()
        now = ctx.now
        if now < (state.get("quiet_until") or now):
            return state, ()
        denied = event.outcome == Outcome.DENIED
        window = [e for e in state.get("window", []) if abs(now - e[0]) <= WINDOW_SECONDS]  # late events too
        window += [
            [now, event.event_id, key, denied, event.credential_id, str(event.environment)] for key in keys
        ]
        distinct = sorted({e[2] for e in window})
        if len(distinct) < THRESHOLD:
            state["window"] = window[-MAX_ENTRIES:]
            return state, ()
        state["window"], state["quiet_until"] = [], now + WINDOW_SECONDS
        first, last = min(e[0] for e in window), max(e[0] for e in window)
        all_denied = all(e[3] for e in window)
        verb = "tried to read" if all_denied else "read"
        named = [k for k in distinct if "#bulk" not in k]
        bulk = len(distinct) > len(named)
        agent = event.agent_id or ctx.agent_id or "an agent"
        title = (
            f"{agent} {verb} {len(distinct)}{'+' if bulk else ''} distinct secrets"
            f" in {last - first:.0f}s{' (all denied)' if all_denied else ''}"
        )
        signal = Signal(
            event_ids=tuple(dict.fromkeys(e[1] for e in window))[-50:],
            first_time=first,
            last_time=last,
            title=title,
            severity=Severity.MEDIUM if all_denied else None,
            details={
                "secrets": named[:50],
                "distinct": len(distinct),
                "bulk_reads": bulk,
                "all_denied": all_denied,
            },
            credential_ids=tuple(dict.fromkeys(e[4] for e in window if e[4])),
            environments=tuple(dict.fromkeys(e[5] for e in window)),
            session_id=event.session_id,
        )
        return state, [signal]
