"""exfiltration.secret_flow — a secret the session read leaves it, or is sent to a destination the task
did not name.

Why: a leaked key does its damage when it leaves, and an agent leaks with two ordinary calls: it reads a
secret (a private key, ``.env``, cloud credentials, a password file, a secret-manager value), then uploads,
posts, mails or messages it. chainwatch redacts every secret it sees and marks it with a fingerprint of
its value (``[REDACTED:<kind>:<fingerprint>]``), so the *same* secret is recognised where it came in (a
result) and where it leaves (an outbound call's payload: body, message, data, a shell upload or heredoc;
not the password or token the call authenticates with). Four shapes fire, each critical when the
destination was planted by outside content:

* a call sends a file that holds a secret by convention (``curl -F f=@~/.ssh/id_rsa``, ``scp .env …``), or
  one the session found a secret in or wrote a secret it had read into (a script with the database password
  pasted in, then ``git add`` and ``git push``):
  high when neither the task nor the user named the destination (or there is none to name: a ``git push`` of a
  commit that added ``.npmrc``), or when it is a private key (which should not leave at all); medium for
  another secret file sent where the task said;
* an outbound call's payload (or that of a tool nothing is known of, or of an API call that only reads:
  either may send what it is given to its server)
  carries a secret the session read earlier (same fingerprint): high, medium
  when it has destinations and every one is one the task named (a post or a comment names no reader);
* a message, post, form or log line carries a credential in clear that the session never read (a password
  typed into a chat, a live key in a debug log): high, medium when the task itself was about secrets
  ("send Bob the new wifi password");
* after reading a secret, a call that sends (egress, message, form; not a plain fetch) reaches a
  destination nobody named: high when the content that brought it instructed the agent or the task asked
  for no such send, medium otherwise.

A new secret the session itself set or had issued (the password it put on a share link, the partner's
replacement key) and then hands, alone, to a person (an address, a number), or through a message where the
task asks to send and is about that secret, is a delivery: medium, not high. The same key in a comment, a
post, or a message no task asked for stays high.

A lookup or request whose host name carries data (a base64, base32 or hex label that decodes to text, a
secret the redactor caught there: exfiltration over DNS) is a send, so the second and fourth shapes see it;
a secret base64-encoded keeps the fingerprint of the secret inside.

Known gaps: a secret split, encrypted or summarised before it leaves is only seen by the fourth shape; a
secret the redactor does not recognise has no fingerprint; destinations in the task are trusted even when
the task itself was the attack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import EventDetector, KeyKind, Signal
from detectors.context import KeyContext
from detectors.sinks import secret_leak
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Severity

WHY = __doc__ or ""


class SecretFlow(EventDetector):
    id: ClassVar[str] = "exfiltration.secret_flow"
    title: ClassVar[str] = "Secret sent out of the session"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI03", "T6", "T3"),
        owasp_nhi=("NHI2", "NHI4"),
        mitre_attack=("T1552", "T1041"),
    )
    runbook: ClassVar[str] = (
        "Rotate the secret now (it has left); find what the destination did with it, and how the session came"
        " to send it (the task, or content it read)."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        if not isinstance(event, ToolCall) or ctx.provenance is None or ctx.call is None:
            return ()
        found = secret_leak(event, ctx.call, ctx.provenance)
        return (found,) if found is not None else ()
