"""scope.wrong_environment — the task named staging (or dev, test, a sandbox); the call changed production.

Why: "restart the crash-looping pod in staging": the agent picks the wrong context, and the change lands in
production. When the task and the user's turns name a non-production environment (staging, dev, QA, UAT,
sandbox, scratch, a simulator, a test system) and never production, a call that changes something
(``detectors/capabilities/``: a write, delete, run, access change, payment or send) and names production —
the event's ``environment``, an argument (``env: prod``, ``database: production``) or its command line
(``--context prod-us``, ``postgres://…@prod-db…``, ``terraform workspace select prod``;
``detectors.vocab.production_named``) or the call's own result (``"cluster": "prod-eks-use1"``, "accepted
for network: production"), or a command line without a context of its own after the session showed or chose
a production context (``kubectl config current-context`` printing ``prod-us-east-1``, the row ``kubectl
config get-contexts`` marks in use, ``kubectl config use-context``, ``gcloud config set project``,
``terraform workspace select``), or the production twin of a resource the session used by its staging name
(``shop-staging.myshopify.com``, then a change on ``shop.myshopify.com``) — is reported: high. Denied or
failed calls do not fire.

Known gaps: production named by an alias nobody can read as such (``eu-1``, a cluster ARN); reads of
production (often legitimate); a task naming both ("don't touch production" is no naming).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.environments import (
    OWN_CONTEXT,
    PRODUCTION,
    PRODUCTION_IN_RESULT,
    client_reads_only,
    context_set,
    non_production_named,
    non_production_names,
    production_sibling,
    uses_production_name,
)
from detectors.context import KeyContext
from detectors.provenance.records import production_records
from detectors.vocab import command_of, production_named
from schemas.alerts import Mappings
from schemas.events import AnyEvent
from schemas.types import Capability, Environment, IdentityKind, Severity

WHY = __doc__ or ""
CHANGES = frozenset(map(Capability, "write delete execute identity money egress".split()))
MAX_NAMES = 16  # production resources and variables learned from results, per session


def _only_reads(evidence: dict[Capability, str], line: str) -> bool:
    """A query that only reads, through a tool named for running (``execute_sql`` with a ``SELECT``) or a
    database client's statement on the command line (``psql … -Atc 'select count(*) …'``)."""
    runs = evidence.get(Capability.EXECUTE, "")
    return client_reads_only(line) or (
        Capability.READ in evidence
        and runs.startswith("name:")
        and evidence.keys() & CHANGES == {Capability.EXECUTE}
    )


class WrongEnvironment(StatefulDetector):
    id: ClassVar[str] = "scope.wrong_environment"
    title: ClassVar[str] = "Production changed when the task named another environment"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "ASI08", "T2"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Check what the call changed in production and roll it back; then pin the agent's credentials and"
        " contexts to the environment its task names (a staging kubeconfig, a staging-only database user)."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        provenance = ctx.provenance
        if not ctx.acted(event) or provenance is None:
            return state, ()
        if (named := non_production_named(provenance.trusted_text)) is None:
            return state, ()
        line = command_of(event) or ""
        if context := context_set(line, event.result_summary):
            state["context"] = context  # the cluster or project the next commands act on
        if learned := production_records(event.result_summary or ""):  # a listing's or an env file's
            state["prod_names"] = sorted({*state.get("prod_names", ()), *learned})[-MAX_NAMES:]
        if twins := non_production_names(event.arguments, line):  # ``shop-staging``: ``shop`` is production
            state["twins"] = sorted({*state.get("twins", ()), *twins})[-MAX_NAMES:]
        if not ctx.acted(event, CHANGES) or _only_reads(ctx.call.evidence if ctx.call else {}, line):
            return state, ()
        where = "environment=prod" if event.environment == Environment.PROD else production_named(event)
        if where is None and (said := PRODUCTION_IN_RESULT.search(event.result_summary or "")):
            where = f"its result names {said.group(0)}"  # ``{"cluster": "prod-eks-use1"}`` after a scale
        current = state.get("context") or ""
        spaced = re.sub(r"[-_.]", " ", current)  # ``gke_acme-prod_us-east1_main``
        if where is None and PRODUCTION.search(spaced) and not OWN_CONTEXT.search(line):
            where = f"the current context is {current}"  # shown or chosen earlier in the session
        if where is None and (
            used := uses_production_name(event.arguments, line, state.get("prod_names", ()))
        ):
            where = f"{used}, which the session read as production"
        if where is None:
            where = production_sibling(event.arguments, line, state.get("twins", ()))
        if where is None:
            return state, ()
        details = {"task_environment": named, "production": where}
        title = f"{event.tool} changed production ({where}) though the task named {named}"
        return state, (Signal.of([event], title=title, details=details),)
