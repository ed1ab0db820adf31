"""What a call grants: administrator rights named by the clouds' documented roles, by a name for
"everything" under a role, permission or group argument, by a role whose own name says it administers, or
by a policy statement allowing ``*`` on ``*`` (``privilege.admin_grant``)."""

from __future__ import annotations

import itertools
import re
import shlex
from typing import Any

import orjson

from detectors.capabilities.words import split_words

# Full-access grants as the clouds and Kubernetes name them (their documentation), wherever they appear.
DOCUMENTED_ADMIN = re.compile(
    r"(^|[/:\s\"'])(AdministratorAccess|IAMFullAccess|PowerUserAccess)\b|\broles/(owner|editor|"
    r"iam\.securityAdmin|resourcemanager\.organizationAdmin)\b|\bcluster-admin\b|"
    r"^(Owner|User Access Administrator|Global Administrator|Privileged Role Administrator)$"
    r"|(?i:\b(ALTER|CREATE)\s+(ROLE|USER)\b.*\bSUPERUSER\b|\bGRANT\s+ALL\s+PRIVILEGES\b)"  # SQL
)
# Under an argument that sets a role, permission, group or access level: a name for "everything".
GRANT_KEY = re.compile(r"role|permission|group|access|level|privilege|policy|scope|membership", re.I)
EVERYTHING = re.compile(
    r"^(admin|admins|administrators?|owner|owners|super_?user|super[-_ ]?admin|root|sudo|sudoers|wheel|"
    r"domain admins|enterprise admins|full[-_ ]?(access|control)|all)$",
    re.I,
)
# arguments that hand roles out (``roles: [rol_OrgAdmin]``), not the role a call runs as (``role: X_ADMIN``)
# (not ``assignee``: the person a task or ticket goes to, "owner" there is whose it is, no role)
ASSIGNING_KEY = re.compile(r"(?i)^(roles|groups|role_?ids|add_?roles?|assign(?!ee)\w*|new_?roles?|grant\w*)$")
ALL_ACCESS_FLAG = re.compile(
    r"(?i)^(access_?all|all_?access|full_?access|is_?admin|admin|super_?user|is_?owner)$"
)
ADMIN_WORDS = frozenset("admin admins administrator administrators owner superuser superadmin".split())


def admin_grant_in(arguments: dict[str, Any], depth: int = 0) -> str | None:
    """The first argument that grants administrator rights, looking into nested settings and statements."""
    if _allows_everything(arguments):
        return "a statement allowing action * on resource *"
    for key, value in arguments.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and depth < 4 and (found := admin_grant_in(item, depth + 1)):
                return f"{key}.{found}"
            if item is True and (ALL_ACCESS_FLAG.match(str(key)) or _admin_flag(str(key))):
                return f"{key}=true"  # ``accessAll: true``, ``is_admin: true``, ``superAdmin: true``
            if not isinstance(item, str):
                continue
            text = item.strip()
            if text.startswith("{") and depth < 4 and (found := admin_grant_in(_document(text), depth + 1)):
                return f"{key}.{found}"  # a policy document given as JSON text (``--policy-document '{…}'``)
            granting = GRANT_KEY.search(str(key)) is not None
            named_admin = ASSIGNING_KEY.match(str(key)) is not None and admin_role(text)
            if DOCUMENTED_ADMIN.search(text) or (granting and EVERYTHING.match(text)) or named_admin:
                return f"{key}={text[:80]}"
    return None


_FLAG_WORDS = frozenset("is super site org global account workspace tenant make as".split())


def _admin_flag(key: str) -> bool:
    """A switch whose every word says who administers (``superAdmin``, ``isSiteAdmin``, ``org_owner``), not
    what is done for one (``notify_admin``, ``admin_email``)."""
    words = set(split_words(key))
    return bool(words & ADMIN_WORDS) and words <= ADMIN_WORDS | _FLAG_WORDS


def admin_role(text: str) -> bool:
    """A role whose own name says it administers (``rol_OrgAdmin``, "Space Admin", ``workspace-owner``)."""
    words = set(split_words(text))  # (a read-only administrator, ``READ_ONLY_ADMIN``, changes nothing)
    return (
        len(text) <= 60 and bool(ADMIN_WORDS & words) and not words & {"read", "readonly", "viewer", "view"}
    )


def _document(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _allows_everything(statement: dict[str, Any]) -> bool:
    action = statement.get("Action", statement.get("action"))
    resource = statement.get("Resource", statement.get("resource"))
    effect = str(statement.get("Effect", statement.get("effect", "Allow")))
    return effect.lower() == "allow" and _is_star(action) and _is_star(resource)


def _is_star(value: Any) -> bool:
    return value == "*" or (isinstance(value, list) and "*" in value)


# a command line that hands out roles (``kcadm.sh add-roles … --rolename realm-admin``, ``tool assign-role
# --group Admins``): its verb assigns, and an option for a role or group names one that administers
_ASSIGNING_VERBS = frozenset("add assign grant attach bind make promote elevate".split())
_ROLE_OPTION = re.compile(
    r"(?i)^--?(role|roles|rolename|group|groups|groupname|permission|permissions|privileges?)$"
)


def name_admin_grant(tool: str) -> str | None:
    """A tool named for handing out an administrator role (``okta.assign_admin_role``, ``AddOwner``): the
    administrator word after the verb (not ``slack.admin.roles.add``) is what it hands out, last or before a
    word for a role (not ``add_admin_note``, ``assign_ticket_to_admin``), and not a record's owner
    (``assign_account_owner`` in a CRM, ``assign_issue_owner``)."""
    words = list(split_words(tool))
    verb = next((i for i, w in enumerate(words) if w in _ASSIGNING_VERBS), None)
    after = words[verb + 1 :] if verb is not None else []
    spot = next((i for i, w in enumerate(after) if w in ADMIN_WORDS), None)
    if spot is None or not set(after[spot + 1 :]) <= _ROLE_WORDS or _OBJECT_WORDS & set(after[:spot]):
        return None
    return f"{tool} assigns an administrator role"


_ROLE_WORDS = frozenset(
    "role roles rights right privilege privileges permission permissions access status".split()
)
# a record's owner or a hand-over to the administrators, not a role: ``assign_issue_owner``, ``…_to_admin``
_OBJECT_WORDS = frozenset(
    "to for of with issue ticket case deal lead opportunity task record contact account document file page "
    "event incident".split()
)


def role_tool_grant(tool: str, arguments: dict[str, Any]) -> str | None:
    """A tool named for assigning roles (``okta.roles.assign``, ``assign_role``) given an administrator role
    by its type or name (``type: APP_ADMIN``, ``roleName: "Super Admin"``)."""
    words = set(split_words(tool))
    if not ({"role", "roles"} & words and _ASSIGNING_VERBS & words):
        return None
    for key, value in arguments.items():
        if isinstance(value, str) and _ROLE_NAME_KEY.match(str(key)) and admin_role(value):
            return f"{key}={value[:60]}"
    return None


_ROLE_NAME_KEY = re.compile(r"(?i)^(type|name|role_?(type|name|id)?|label)$")


def line_admin_grant(line: str) -> str | None:
    """The option of a role-assigning command line that names an administering role, or None."""
    try:
        argv = shlex.split(line[:2000])
    except ValueError:
        argv = line[:2000].split()
    verbs = {w for word in argv[1:3] for w in split_words(word)}
    if not verbs & _ASSIGNING_VERBS:
        return None
    for option, value in itertools.pairwise(argv):
        if _ROLE_OPTION.match(option) and (admin_role(value) or EVERYTHING.match(value)):
            return f"{option} {value[:60]}"
    return None


# the same in a statement or a command line: SQL's ``GRANT … TO PUBLIC``, a cloud CLI's ``allUsers`` member or
# ``--acl public-read``
STATEMENT_EVERYONE = re.compile(
    r"(?is)\bgrant\b[^;]{0,300}?\bto\s+public\b|--member[= ]\"?all(authenticated)?users\b|"
    r"\biam\s+ch\s+all(authenticated)?users:|--acl[= ]public-read(-write)?\b|"
    r"--public-access[= ](blob|container)\b|"
    # Windows: a folder's ACL or a share granted to Everyone or every signed-in user (``icacls … /grant
    # "Everyone:(OI)(CI)F"``, ``New-SmbShare … -FullAccess Everyone``)
    # (after other principals too: ``/grant OPS\\jo:R Everyone:F``, ``-FullAccess "OPS\\ops","Everyone"``;
    # Grant-SmbShareAccess names its principal ``-AccountName``)
    r"\b(?:i?c)?acls\b[^;&|\n]{0,300}?/grant(?::r)?\s+(?:[\"']?[^\s\"';&|/]+:\S*\s+){0,5}[\"']?"
    r"(everyone|\*s-1-1-0|authenticated users|\*s-1-5-11):|"
    r"\b(new-smbshare|grant-smbshareaccess)\b[^;\n]{0,300}?-((full|change|read)?access|accountname)\s+"
    r"(?:[\"']?[^\s\"',;]+[\"']?\s*,\s*){0,5}[\"']?everyone\b|"
    # MinIO's anonymous access on a bucket (``mc anonymous set download alias/b``, ``mc policy set public``)
    r"\bmc\s+(anonymous|policy)\s+set\s+(download|upload|public)\b|"
    # Kubernetes' groups of every signed-in user, everyone, or every service account, bound to a role or an
    # OpenShift security context constraint
    r"(add-(scc|role|cluster-role)-to-group|rolebinding)[^;&|\n]{0,200}?\bsystem:(authenticated|unauthenticated|"
    r"serviceaccounts)\b"
)
STATEMENT_KEYS = frozenset("sql query statement command cmd script".split())


def everyone_in_statement(arguments: dict[str, Any], line: str | None) -> str | None:
    """A SQL statement or command line that grants to everybody (``GRANT SELECT … TO PUBLIC``)."""
    texts = [v for k, v in arguments.items() if str(k).lower() in STATEMENT_KEYS and isinstance(v, str)]
    found = next((m for t in [*texts, line or ""] if (m := STATEMENT_EVERYONE.search(t[:8000]))), None)
    return None if found is None else " ".join(found.group(0).split())[:80]


# a network rule that lets anyone in: a source of ``any``, ``0.0.0.0/0`` or ``::/0`` on a rule with a port
# or protocol (``firewall.add_rule(source_net="any", destination_port="502")``)
_SOURCE_KEY = re.compile(
    r"(?i)^(source|src|from|remote)([-_]?(net|ip|ips|cidr|address|addr|range))?$|^cidr_?ip$"
)
# (a firewall's own name for any address: FortiGate's ``srcaddr: all``; a rule's ``service: MODBUS-TCP-502``)
_ANYWHERE = re.compile(r"(?i)^\s*(any|all|\*|0\.0\.0\.0/0|::/0|internet)\s*$")
_RULE_KEYS = re.compile(r"(?i)port|protocol")
# (a ``service`` makes a rule only beside where it lets in: a log alert's ``service``, ``source: all``: none)
_SERVICE_KEY = re.compile(r"(?i)^services?$")
_DESTINATION_KEY = re.compile(r"(?i)^(destination|dest|dst)[-_]?(net|ip|ips|cidr|address|addr|range|intf)$")


# a rule that keeps traffic out (``action: deny``): from anywhere it blocks, it admits no one
_BLOCKS = re.compile(r"(?i)^\s*(deny|drop|block|reject|refuse|disallow)\s*$")
_ACTION_KEYS = frozenset("action policy verdict target rule_action access decision".split())


def open_network_rule(arguments: dict[str, Any]) -> str | None:
    """The argument of a network rule that admits any source, or None (not a rule that blocks)."""
    keys = [str(k) for k in arguments]
    served = any(map(_SERVICE_KEY.match, keys)) and any(map(_DESTINATION_KEY.match, keys))
    if not (served or any(map(_RULE_KEYS.search, keys))):
        return None
    if any(
        str(k).lower() in _ACTION_KEYS and isinstance(v, str) and _BLOCKS.match(v)
        for k, v in arguments.items()
    ):
        return None
    for key, value in arguments.items():
        if _SOURCE_KEY.match(str(key)) and isinstance(value, str) and _ANYWHERE.match(value):
            return f"{key}={value}"
    return None


# what a grant's own result says the grantee now has (``"effectivePermission": "Full Control"``, ``"group":
# "Site Owners"``): the widest rights, whatever the call's arguments said (a group by its number)
_RESULT_ADMIN = re.compile(
    r"(?i)\"(?:effective_?permissions?|permissions?(?:_?level)?|roles?(?:_?name)?|access_?level|group(?:_?name)?)\"\s*:"
    r"\s*\"([^\"\n]{0,80}\b(?:full control|owners?|administrators?|admins?|superusers?)\b[^\"\n]{0,40})\""
)


def result_admin_grant(result: str | None, arguments: dict[str, Any]) -> str | None:
    """The widest rights a grant's result says it gave, as ``key: value`` text, or None. An entry of a list
    (the item's whole access list, its owner first) counts only when it names the grantee (a value the
    call gave): the owner already there was granted nothing."""
    text = (result or "")[:4000]
    given = [v for v in arguments.values() if isinstance(v, str) and len(v) >= 3]
    for found in _RESULT_ADMIN.finditer(text):
        listed = text.count("[", 0, found.start()) > text.count("]", 0, found.start())
        entry = text[text.rfind("{", 0, found.start()) + 1 : (text.find("}", found.end()) + 1) or None]
        if not listed or any(v in entry for v in given):
            return f"its result: {found.group(0)[:80]}"
    return None
