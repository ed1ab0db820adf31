"""injection.planted_control_channel — an account's recovery, forwarding, payout or callback channel was set
to a value that outside content brought into the session and the user never gave.

Why: the channels that control an account or its money are few: the recovery e-mail and phone, the mail
forwarding address, the payout or vendor bank account, an OAuth redirect URI, a webhook URL. Whoever sets
them owns what follows: password resets, mail, payments, tokens. Business e-mail compromise and account
takeover through an agent both end in one such call whose value came from what the agent read (an invoice's
"remittance update", a ticket's "verification step", a tool answer that "requires a linked recovery
contact"), and the content need not address the agent at all: a planted payee is enough. A call that
changes something (``detectors/capabilities/``) and sets an argument named for such a channel
(``recovery_email``, ``forwarding_address``, ``routing_number``, ``account_number``, ``iban``,
``redirect_uris``, ``webhook_url``, ``billing_email`` …, or ``email``/``phone`` of a tool named for
recovery, security or forwarding) to a value that an untrusted result brought and no trusted input named
(``Provenance.tainted_values``), or writes a package manager's config (``.npmrc``, ``pip.conf``,
``settings.xml`` …: where packages come from and where its token goes) with a URL or host that content
addressing the agent brought, is high; critical when that content addressed the agent; medium when the
task itself asked to change such a channel ("update Acme's bank details from their letter").

Known gaps: a value typed by the agent from a paraphrase; channels with other names (a delegate); values
the user also pasted into the task are trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, EventDetector, KeyKind, Signal
from detectors.capabilities.channels import change_asked, channel_keys, settings_of
from detectors.capabilities.paths import registry_config
from detectors.capabilities.shell import login_keys_written
from detectors.context import KeyContext
from detectors.provenance.breadth import namespace
from detectors.provenance.tokens import shown
from detectors.sinks import ADDRESSED, STRONGLY_ADDRESSED
from detectors.sinks import CHANGES as CHANGING
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset(CHANGING)
KEY = 40  # a public key's base64 body, not a short id


class PlantedControlChannel(EventDetector):
    id: ClassVar[str] = "injection.planted_control_channel"
    title: ClassVar[str] = "Recovery, forwarding or payout channel set to a value outside content planted"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(
        owasp_agentic=("ASI01", "ASI02", "T6"), mitre_attack=("T1098", "T1114.003", "T1657")
    )
    runbook: ClassVar[str] = (
        "Put the channel back to its previous value now, hold payments to the new account, confirm any change"
        " with its owner through a known contact, and find the content that supplied the value."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})
    call_capabilities = CHANGES  # (its first test)

    def check(self, event: AnyEvent, ctx: KeyContext) -> Iterable[Signal]:
        provenance = ctx.provenance
        if not ctx.acted(event, CHANGES) or provenance is None or not provenance.sources:
            return ()
        arguments = settings_of(event.arguments)
        keys = [k for k in channel_keys(event.tool, arguments) if not isinstance(arguments[k], bool | dict)]
        config = registry_config(event.arguments)
        planted = provenance.tainted_values({k: arguments[k] for k in keys} or config, None)
        if config and not keys:  # a registry in a config file: only hosts that instructing content brought
            planted = {t: s for t, s in planted.items() if t[:4] in ("url:", "host") and s.score >= ADDRESSED}
        if not keys and not config and login_keys_written(ctx.call.shell if ctx.call else None):
            found = provenance.tainted_values(event.arguments, None)  # a key a login accepts from now on
            keys, planted = (
                ["authorized_keys"],
                {t: s for t, s in found.items() if t[:3] == "id:" and len(t) > KEY},
            )
        # (a link to the tool's own service, ``api.freeagent.com/…/bank_accounts/88`` set by
        # ``freeagent.invoices.create``, is a record of that service: its host came with its own answers)
        service = namespace(event.tool)[3:]
        planted = {t: s for t, s in planted.items() if not _of_service(t, service)}
        if not planted:
            return ()
        token, source = next(iter(planted.items()))
        keys = [
            k for k in keys if k in arguments and provenance.tainted_values({k: arguments[k]}, None)
        ] or keys
        asked = change_asked(
            event.tool, provenance.trusted_text, Capability.WRITE in provenance.intent.implied
        )
        severity = Severity.CRITICAL if source.score >= STRONGLY_ADDRESSED else Severity.HIGH
        severity = Severity.MEDIUM if asked else severity
        what = ", ".join(keys[:3]) or "its package registry"
        title = f"{event.tool} set {what} to {shown(token)}, which outside content supplied"
        details = {"channel_arguments": keys[:8], "planted": list(planted)[:8], "asked": asked}
        return (Signal.of([event], title=title, severity=severity, details={**details, **source.details()}),)


def _of_service(token: str, service: str) -> bool:
    """Whether a URL or host token is of the named service (one of its host's labels is the name)."""
    if len(service) < 4 or not token.startswith(("url:", "host:")):
        return False
    host = shown(token).split("://", 1)[-1].split("/", 1)[0]
    return service in host.lower().split(".")
