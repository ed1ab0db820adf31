"""STS session tags (issue 13): the tags a session was given, carried to the calls it makes.

CloudTrail records session tags only on the call that made the session — ``AssumeRole`` (``tags`` and
``transitiveTagKeys`` in the request), ``AssumeRoleWithSAML`` / ``AssumeRoleWithWebIdentity`` and
``GetFederationToken`` (``tags`` or ``principalTags``) — never on the calls the session then makes. This
memory keeps them by the new session's ARN and access key id, together with the transitive tags of the
calling session (AWS passes those along a role chain), so that an identities-file rule
(``match: {tags: {agent: "true"}}``) and the heuristics read them on every call of the session.

Known gaps: the session's calls must reach the same engine after the call that made it (a time-ordered
replay, or the stream worker that saw the AssumeRole); tags an identity provider sets without CloudTrail
recording them are not seen; the memory keeps the newest ``MAX_SESSIONS`` sessions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from schemas.events import AnyEvent, ToolCall
from schemas.types import Outcome

_TAGGING_CALLS = frozenset(
    {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetFederationToken"}
)
_ROLE_ARN_PARTS = 6  # arn:partition:iam::account:role/path/Name


@dataclass(frozen=True, slots=True)
class SessionTags:
    tags: tuple[tuple[str, str], ...]
    transitive: frozenset[str]  # tag keys (lower case) that pass on to the sessions this one assumes


def _pairs(value: Any) -> Iterator[tuple[str, str]]:
    """Tags as CloudTrail writes them: a list of {key, value} (any case), or a mapping."""
    if isinstance(value, dict):
        yield from ((str(k), str(v)) for k, v in value.items() if isinstance(v, str | int | float))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                lowered = {str(k).lower(): v for k, v in item.items()}
                if isinstance(lowered.get("key"), str) and isinstance(
                    lowered.get("value"), str | int | float
                ):
                    yield lowered["key"], str(lowered["value"])


def _new_session_arn(arguments: dict[str, Any]) -> str:
    """The session the call made: the response's ARN, else built from the role and the session name."""
    response = arguments.get("response")
    response = response if isinstance(response, dict) else {}
    for key in ("assumedRoleUser.arn", "federatedUser.arn"):
        if isinstance(response.get(key), str):
            return str(response[key])
    role, name = arguments.get("roleArn"), arguments.get("roleSessionName")
    parts = role.split(":", 5) if isinstance(role, str) else []
    if len(parts) == _ROLE_ARN_PARTS and isinstance(name, str) and name:
        return f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{parts[5].rsplit('/', 1)[-1]}/{name}"
    return ""


class SessionTagMemory:
    """Session tags by session ARN and access key id (``learn`` the calls that make sessions, read ``of``)."""

    MAX_SESSIONS = 50_000

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, SessionTags] = OrderedDict()

    def of(self, event: AnyEvent) -> SessionTags | None:
        for handle in (event.credential_id, event.agent_id) if isinstance(event, ToolCall) else ():
            if handle and (found := self._sessions.get(handle)) is not None:
                return found
        return None

    def learn(self, event: AnyEvent) -> None:
        if not (
            isinstance(event, ToolCall)
            and event.tool == "sts"
            and event.action in _TAGGING_CALLS
            and event.outcome not in (Outcome.DENIED, Outcome.ERROR)
        ):
            return
        args = event.arguments
        own = [*_pairs(args.get("tags")), *_pairs(args.get("principalTags"))]
        caller = self.of(event)
        inherited = [(k, v) for k, v in caller.tags if k.lower() in caller.transitive] if caller else []
        transitive = {str(k).lower() for k in args.get("transitiveTagKeys") or [] if isinstance(k, str)}
        response = args.get("response")
        key = response.get("credentials.accessKeyId") if isinstance(response, dict) else None
        handles = [h for h in (_new_session_arn(args), key) if isinstance(h, str) and h]
        if not own and not inherited:  # an untagged session of the same name keeps no older tags
            for handle in handles:
                self._sessions.pop(handle, None)
            return
        tags = dict(inherited) | dict(own)  # a tag the request sets again replaces the inherited value
        found = SessionTags(
            tuple(sorted(tags.items())),
            frozenset(transitive | (caller.transitive if caller else frozenset())),
        )
        for handle in handles:
            self._sessions[handle] = found
            self._sessions.move_to_end(handle)
        while len(self._sessions) > self.MAX_SESSIONS:
            self._sessions.popitem(last=False)
