"""scope.container_beyond_task — a whole namespace, database, table or bucket removed when the task asked
about things inside it.

Why: "clean up the failed pods in staging" ends as ``kubectl delete namespace payments``; "remove the test
account" as ``TRUNCATE … CASCADE``; "delete last month's exports" as ``aws s3 rb --force``. The user asked
for items; the agent removed their container, and everything else in it. A call that deletes
(``detectors/capabilities/``) and removes or empties a whole container (``detectors/capabilities/
containers.py``: SQL ``DROP``/``TRUNCATE``/``DELETE`` without ``WHERE``, the documented CLIs' delete
commands, a bucket lifecycle rule that expires every object, tools named for deleting a namespace,
database, table, bucket, project or repository) is reported unless the task or the user's turns speak of
that kind of container as their object ("drop the events_old table", "truncate EVENTS_STG"; not "the pods
in the payments namespace", nor "the bucket costs too much; delete the proxies", where the removal verb
has another object): high. A directory emptied (``rm -rf /workspace/*``) counts where the task named that
directory as the place of the items to remove and did not ask for everything in it. Containers the session
itself created are cleanup; denied or failed calls do not fire. A delete fed by an unfiltered listing
(``docker rm $(docker ps -aq)``) removes everything there is: the same, unless the task asked for all.

Known gaps: containers with other names (a Helm release, a Terraform workspace); a ``DELETE`` whose
``WHERE`` is wide without being empty (``scope.wider_than_task`` reads selectors); SQL inside files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from detectors.base import AGENTS, UNSURE_AGENTS, KeyKind, Signal, StatefulDetector
from detectors.capabilities.containers import created_containers, removed_containers
from detectors.context import KeyContext
from detectors.provenance.containers_asked import asked_for
from detectors.vocab import command_of
from schemas.alerts import Mappings
from schemas.events import AnyEvent, ToolCall
from schemas.types import Capability, IdentityKind, Severity

WHY = __doc__ or ""
DELETES = frozenset({Capability.DELETE})
MAX_CREATED = 64
_STATEMENT_KEY = re.compile(r"^(sql|query|statement|statements|script|command|cmd)$", re.I)


def _texts(event: ToolCall) -> tuple[tuple[str, ...], frozenset[str]]:  # statements, containers created
    texts = [line] if (line := command_of(event)) else []
    texts += [v for k, v in event.arguments.items() if isinstance(v, str) and _STATEMENT_KEY.match(str(k))]
    return tuple(texts), frozenset(created_containers(texts))


class ContainerBeyondTask(StatefulDetector):
    id: ClassVar[str] = "scope.container_beyond_task"
    title: ClassVar[str] = "Whole container removed when the task asked about items in it"
    description: ClassVar[str] = WHY
    severity: ClassVar[Severity] = Severity.HIGH
    judges: ClassVar[frozenset[IdentityKind]] = AGENTS
    judges_unsure: ClassVar[frozenset[IdentityKind]] = UNSURE_AGENTS
    mappings: ClassVar[Mappings] = Mappings(owasp_agentic=("ASI02", "T2", "ASI08"), mitre_attack=("T1485",))
    runbook: ClassVar[str] = (
        "Restore the container from backups or the platform's retention now (databases and buckets first),"
        " list what else lived in it, and require a human's approval for container-level deletes."
    )
    key: ClassVar[KeyKind] = "session"
    kinds: ClassVar[frozenset[str] | None] = frozenset({"tool_call"})

    def update(
        self, state: dict[str, Any], event: AnyEvent, ctx: KeyContext
    ) -> tuple[dict[str, Any], Iterable[Signal]]:
        if not ctx.acted(event) or ctx.call is None:
            return state, ()
        texts, created = ctx.call.derived(_texts, event)  # once per shape of call: agents repeat theirs
        if created:
            kept = [c for c in state.get("created", ()) if c not in created]
            state["created"] = [*kept, *sorted(created)][-MAX_CREATED:]  # the newest are kept
        if not ctx.acted(event, DELETES) or ctx.provenance is None:
            return state, ()
        task = ctx.provenance.trusted_text
        own = set(state.get("created", ()))
        for kind, name in removed_containers(event.tool, event.arguments, texts):
            if name in own or asked_for(kind, name, task):
                continue
            title = f"{event.tool} removed the whole {kind} {name!r}; the task never asked to remove a {kind}"
            if kind == "listing":  # a delete fed by a listing of everything
                title = f"{event.tool} removed everything `{name}` lists; the task asked for some of it"
            details = {"kind": kind, "name": name}
            return state, (Signal.of([event], title=title, details=details),)
        return state, ()
