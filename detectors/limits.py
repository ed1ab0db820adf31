"""What breaks a limit the task set (``scope.forbidden_action``): the call does the forbidden verb, or a grave
act of the same kind, or any change to a thing the task said not to touch."""

from __future__ import annotations

from detectors.provenance.intent import GENERIC_CHANGES, Intent, lexicon_of
from detectors.sinks import ANSWERS, IRREVERSIBLE
from schemas.events import AnyEvent
from schemas.types import Capability

# acts grave enough that the capability alone breaks the limit, whatever the call is named
GRAVE = frozenset(
    {Capability.DELETE, Capability.MONEY, Capability.IDENTITY, Capability.COMMUNICATE, Capability.EGRESS}
)
# grave acts named every which way (remove, purge, drop; pay, transfer): the capability alone breaks the limit
SILENT = IRREVERSIBLE
_UNGRANTS = frozenset({"revoke", "unassign", "detach", "unlink", "unshare", "withdraw", "offboard"})
_REMOVE = frozenset({"remove"})
_RIGHTS = frozenset(
    "permission permissions access right rights role roles member members membership memberships grant"
    " grants".split()
)


def breaks(
    capability: Capability, verb: str, verbs: set[str], changes: set[Capability], intent: Intent, named: bool
) -> bool:
    """The call does the forbidden verb (or, for a grave act, a word of the same kind: ``post`` for "don't
    send"), changing something; it deletes, moves money or changes access when the task forbade that; or,
    under "don't change anything", it makes a change the task did not itself ask for; under "don't touch
    the interlock" (``named``: the call names the thing), any change."""
    if verb in GENERIC_CHANGES:  # (running a program changes nothing by itself: ``alembic history``)
        changes = changes - {Capability.EXECUTE}
    if verb == "touch" and named:
        return bool(changes)
    if verb in GENERIC_CHANGES and intent.asks and set(intent.implied) <= ANSWERS:
        return bool(changes)  # "research the fix and tell me, don't change anything yet": every change
    if verb in GENERIC_CHANGES or verb.endswith(" else"):
        return bool(changes - set(intent.implied))  # "prepare the checklist, but don't change anything else"
    # (a word of the same kind, unless it only takes away a right the task itself asks to remove: "Remove his
    # access … don't delete his account" lets ``revoke_operator`` through, never ``purge_user`` nor a send)
    like = verbs & lexicon_of(capability)
    # (``remove_mailbox_permission``; ``members.delete`` of a group: a membership taken away, not the account
    # "don't delete" kept: the task's own "remove him from the group")
    membership = capability == Capability.DELETE and capability in intent.implied and bool(verbs & _RIGHTS)
    if membership and like <= _UNGRANTS | _REMOVE | {"delete"}:
        return False
    ungrants = capability == Capability.DELETE and capability in intent.implied and like <= _UNGRANTS
    # (nor a word the task itself asks for beside the limit: "DEACTIVATE (do not delete) the user")
    alike = (
        capability in GRAVE & changes and not ungrants and not like & set(intent.implied.get(capability, ()))
    )
    if changes and (verb in verbs or (alike and like)):
        return True
    # a grave act named otherwise, unless the task also asks for it ("remove her from the VPN group. Don't
    # delete the mailbox": which delete breaks the limit is then for the call's own words to say)
    return capability in SILENT and capability in changes and capability not in intent.implied


_PROSE_KEYS = frozenset(
    "comment comments note notes message body description reason text summary title".split()
)
_SETTING_LENGTH = 80  # a longer value is content (code, a file, a patch), not a setting
# argument names that say where a call acts, not what it sets
_WHERE_KEYS = frozenset(
    """database db table schema host server env environment site project account region cluster namespace
    bucket path file name id target device service""".split()
)


def set_values(event: AnyEvent) -> str:
    """The call's target and what its arguments set: the names of the fields it sets and their short values,
    not prose or content (a code edit that mentions ``__legacy_mode__`` in its text sets no such thing), nor
    the names of arguments that only say where (``database: staging`` touches no "production database")."""
    arguments = getattr(event, "arguments", None) or {}
    found: list[str] = [str(getattr(event, "target", "") or "")]
    stack: list[tuple[str, object, int]] = [(str(k), v, 0) for k, v in arguments.items()]
    while stack:
        key, value, depth = stack.pop()
        if key.lower() in _PROSE_KEYS:
            continue
        found += [] if key.lower() in _WHERE_KEYS else [key]
        if isinstance(value, dict) and depth < 4:
            stack += [(str(k), v, depth + 1) for k, v in value.items()]
        elif isinstance(value, list) and depth < 4:
            stack += [(key, v, depth + 1) for v in value[:32]]
        elif value is not None and "\n" not in str(value) and len(str(value)) <= _SETTING_LENGTH:
            found.append(str(value))
    return " ".join(found)
