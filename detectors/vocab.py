"""Shared vocabularies of the cloud and action detectors: API names, agent tool names, shell patterns.

Plain constants and small pure functions (no detector classes; the registry never loads this module as
a detector). Other detectors import these names, so keep them stable: add to a set rather than rename it.

Field conventions read here (see ``streams/simulator/workload.py`` and ``schemas/adapters/cloudtrail.py``):
AWS calls carry the API name in ``action`` and CloudTrail ``requestParameters`` in ``arguments`` (plus
``aws_account`` from the CloudTrail adapter); shell calls are ``tool="bash", action="exec"`` with
``arguments.command``; other agent tools use snake_case names in ``tool``/``action``.

YAML rules cannot import these names; the rules that need a vocabulary keep a short inline list and say
so (``destructive.mass_deletion``, ``execution.remote_instance_access``).

Speed (these run on every tool call): what depends on names only is memoised per (tool, action)
(``per_name``), what depends on a shell line per line (``per_text``: agents repeat a few commands). The
``may_*`` predicates say whether a recogniser can fire at all for a tool and action; the recognisers use
them as fast paths and detectors as their ``relevant`` hook. A new branch keyed on an API name must add
that name to the set its ``may_*`` predicate reads (``_AUDIT_ARGUMENT_APIS``, ``EXPOSURE_APIS``,
``BACKDOOR_APIS`` …), or the fast path will hide it.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from detectors.capabilities.words import CLI_PROGRAMS, argv_line, split_words
from schemas.events import ToolCall
from schemas.types import Capability, Environment, Severity

Reason = tuple[str, Severity]  # what happened, in words, and how bad it is
_R = TypeVar("_R")
MAX_CACHED_TEXT = 512  # longer texts (scripts, heredocs) are classified afresh: the caches stay small


def per_text(function: Callable[[str], _R]) -> Callable[[str], _R]:
    """``function`` (pure, of one string, with an immutable result) memoised: agents repeat the same few
    shell commands (``pytest -q``, ``git status``) thousands of times. Long texts bypass the cache."""
    cached = functools.lru_cache(maxsize=2048)(function)

    @functools.wraps(function)
    def call(text: str) -> _R:
        return cached(text) if len(text) <= MAX_CACHED_TEXT else function(text)

    return call


def per_name(function: Callable[[str, str], _R]) -> Callable[[str, str], _R]:
    """``function`` (pure, of a tool and an action name) memoised: a few hundred distinct pairs at most."""
    return functools.lru_cache(maxsize=4096)(function)


# (a tool named ``ssh`` runs its ``command`` on the host it is given: a shell line all the same)
SHELL_TOOLS = frozenset(
    {"bash", "shell", "sh", "zsh", "terminal", "run_command", "execute_command", "exec", "ssh"}
)
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Search", "BatchGet", "Query", "Scan")
_READ_TOOL = re.compile(r"^(get|list|read|lookup|search|view|fetch)(_|$)")


@functools.lru_cache(maxsize=4096)
def is_read_only(action: str) -> bool:
    """A cloud read API (``GetObject``, ``DescribeInstances``) or a snake_case read tool (``get_order``)."""
    return action.startswith(READ_ONLY_PREFIXES) or bool(_READ_TOOL.match(action))


_SHELL_NAME_WORDS = frozenset("bash shell terminal console cmd sh zsh powershell pwsh exec execute".split())


@per_name
def is_shell(tool: str, action: str) -> bool:
    """Whether calls of this tool and action are shell calls (their ``command`` argument is a shell line,
    or the tool is a program run with an argument list: ``aws`` with ``args: [cloudtrail, stop-logging]``)."""
    lowered = tool.lower()
    return (
        lowered in SHELL_TOOLS
        or action in ("exec", "run", "shell")
        or lowered in CLI_PROGRAMS
        or lowered.endswith(("_cli", "-cli", ".cli"))  # ``op_cli``, ``aws_cli``: a program's command line
        or bool(_SHELL_NAME_WORDS & set(split_words(tool)))  # ``run_shell``, ``ssh_exec``
    )


def command_of(event: ToolCall) -> str | None:
    """The shell command of a shell tool call (or the command line of a program-named tool with an
    argument list), else None. About five detectors ask it of each call in turn: the last answer is kept
    for the event it was asked of (held by reference, so the identity test cannot mistake another event)."""
    asked, answer = _LAST_COMMAND[0]
    if asked is event:
        return answer
    found = _command_of(event)
    _LAST_COMMAND[0] = (event, found)
    return found


_LAST_COMMAND: list[tuple[ToolCall | None, str | None]] = [(None, None)]
_COMMAND_KEYS = ("command", "cmd", "commands", "cmdline", "line", "bash", "shell", "input")


def _command_of(event: ToolCall) -> str | None:
    if not is_shell(event.tool, event.action):
        return None
    if (line := argv_line(event.tool, event.arguments)) is not None:
        return line
    # (a terminal tool's ``input``, a runner's ``cmdline``: the same line under another name)
    command = next((event.arguments[k] for k in _COMMAND_KEYS if event.arguments.get(k)), None)
    if isinstance(command, list):
        command = " ".join(str(part) for part in command)
    return command if isinstance(command, str) and command.strip() else None


def shell_segments(command: str) -> Iterator[list[str]]:
    """Each simple command of a shell line (split on ; && || | and newlines) as argv, ``sudo``/env dropped."""
    for segment in re.split(r"\|\||&&|[;|\n]", command):
        try:
            argv = shlex.split(segment, posix=True)
        except ValueError:
            argv = segment.split()
        while argv and (
            argv[0] in ("sudo", "nohup", "time", "exec", "command") or re.match(r"^\w+=", argv[0])
        ):
            argv = argv[1:]
        if argv:
            yield argv


def as_json(value: Any) -> Any:
    """A JSON document given as text (IAM policies in CloudTrail are strings), parsed; else the value."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, scalar) pair of a nested JSON value; list items keep their parent's key."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from walk(child, str(child_key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item, key)
    else:
        yield key, value


def texts(value: Any) -> list[str]:
    """A string or a list of strings as a list of non-empty strings."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str | int) and str(v)]
    return [str(value)] if isinstance(value, str | int) and str(value) else []


def account_of(arn: str | None) -> str | None:
    """The account id of an ARN (``arn:aws:iam::123456789012:user/x`` -> ``123456789012``)."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" and parts[4].isdigit() else None


def own_account(event: ToolCall) -> str | None:
    """The AWS account the call ran in: CloudTrail's recipient account, else the target's or caller's ARN."""
    account = event.arguments.get("aws_account")
    if isinstance(account, str) and account.isdigit():
        return account
    return account_of(event.target) or account_of(event.principal) or account_of(event.agent_id)


# ------------------------------------------------------------------------------------------ destructive

DESTRUCTIVE_API_PREFIXES = ("Delete", "Terminate", "Purge", "Destroy", "Drop", "BatchDelete")
DESTRUCTIVE_APIS = frozenset({"ScheduleKeyDeletion", "DeregisterImage", "DisableKey"})
# Deletes that are plumbing, not destruction: queue consumption, session and tag clean-up, service ENIs.
ROUTINE_DELETES = frozenset(
    {
        "DeleteMessage", "DeleteMessageBatch", "TerminateSession", "DeleteSession", "DeleteTags",
        "DeleteNetworkInterface", "DeleteChangeSet", "DeleteLaunchTemplateVersions", "DeleteAlarms",
        "DeleteMarker", "DeleteObjectTagging", "DeleteBucketTagging",
    }
)  # fmt: skip
# Deletes that take data or a whole system with them.
CRITICAL_DESTRUCTIVE_APIS = frozenset(
    {
        "DeleteDBInstance", "DeleteDBCluster", "DeleteBucket", "DeleteTable", "DeleteStack", "DeleteVolume",
        "DeleteBackupVault", "DeleteRecoveryPoint", "DeleteFileSystem", "ScheduleKeyDeletion",
        "DeleteCluster", "DeleteDBSnapshot", "DeleteDBClusterSnapshot", "DeleteSnapshot", "DeleteGlobalTable",
        "DeleteRepository", "DeleteKeyspace", "DeleteDatabase", "DeleteReplicationGroup",
        "DeleteCacheCluster", "DeleteDomain",
    }
)  # fmt: skip
# Deletes of one record or object: destructive, but narrow.
SINGLE_RECORD_DELETES = frozenset(
    {"DeleteObject", "DeleteItem", "DeleteRow", "DeleteParameter", "DeleteRecord"}
)
DESTRUCTIVE_TOOL = re.compile(r"^(delete|drop|destroy|purge|wipe|truncate|erase|terminate|rm)(_|$)", re.I)
TEMP_PATH = re.compile(r"(^|/)(tmp|temp|\.?cache|scratch)(/|$)|\.(tmp|temp|part|partial|bak)$", re.I)
# `rm -r` of these is routine build hygiene, in any environment.
BUILD_DIRS = re.compile(
    r"(^|/)(node_modules|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox|\.venv|venv|build|dist"
    r"|target|out|coverage|\.next|\.gradle)/?$"
)
# Paths whose recursive removal takes a system or its data with it: roots, and data directories.
CRITICAL_PATHS = re.compile(
    r"^(/|/\*|~/?|\$HOME/?|\.\.?/?|/(etc|home|root|usr|var|opt|srv|data|mnt|boot)/?"
    r"|/(var/lib|data|home|srv)/[^/]+(/[^/]+)?/?)$"
)
BASH_DESTRUCTIVE: tuple[tuple[str, re.Pattern[str], Severity], ...] = (
    (
        "terraform destroy",
        re.compile(
            r"\b(?:terraform|tofu|terragrunt)\b(?:\s+-\S+)*\s+destroy\b"
            r"|\b(?:terraform|tofu)\b[^;&|\n]*\sapply\b[^;&|\n]*\s-destroy\b|\b(?:pulumi|cdk)\s+destroy\b"
        ),
        Severity.CRITICAL,
    ),
    (
        "DROP/TRUNCATE in SQL",
        re.compile(
            r"\bDROP\s+(?:TABLE|DATABASE|SCHEMA|COLLECTION)\b|\bTRUNCATE\s+(?:TABLE\s+[\w\"`\[]|[\w.\"`]+\s*;)|\bdropDatabase\s*\("
            r"|\bFLUSHALL\b|\bdropdb\s+\w|\bDELETE\s+FROM\s+[\w.\"`]+\s*(?:;|\"|'|$)",
            re.I,
        ),
        Severity.CRITICAL,
    ),
    (
        "disk wipe",
        re.compile(r"\bmkfs(?:\.\w+)?\s|\bdd\b[^;&|\n]*\bof=/dev/|\bshred\s|\bwipefs\s"),
        Severity.CRITICAL,
    ),
    (
        "git force-push",
        re.compile(
            # bounded: ``git`` and ``push`` repeated thousands of times no longer backtrack for minutes
            r"\bgit(?:\s+[^\s;&|]+){0,4}?\s+push\b[^;&|\n]{0,300}?(?:\s--force(?:-with-lease)?\b|\s-[a-zA-Z]*f\b|\s\+[\w/.-]+)"
        ),
        Severity.HIGH,
    ),
    (
        "kubectl delete",
        re.compile(r"\bkubectl\b[^;&|\n]*\sdelete\s|\bhelm\s+(?:uninstall|delete)\s"),
        Severity.HIGH,
    ),
    (
        "cloud CLI delete",
        re.compile(
            r"\baws\s+[\w-]+\s+(?:delete|terminate|purge|deregister)-|\baws\s+s3\s+(?:rb|rm)\s"
            r"|\bgcloud\b[^;&|\n]*\s(?:delete|destroy)\b|\baz\b[^;&|\n]*\sdelete\b"
        ),
        Severity.HIGH,
    ),
)


_REMOVAL_HINT = re.compile(
    r"\brm\b[^;&|\n]*\s-(?:-recursive|[a-zA-Z]*[rR])|\bfind\b[^;&|\n]*\s-(?:delete|exec)\b"
)


def recursive_removal(command: str) -> Reason | None:
    """``rm -r``/``rm -rf``/``find … -delete`` of anything but temp and build directories."""
    if not _REMOVAL_HINT.search(command):
        return None  # fast path: tokenising every shell command is the expensive part
    for argv in shell_segments(command):
        name = argv[0].rsplit("/", 1)[-1]
        if name == "rm" and any(re.match(r"^-[a-zA-Z]*[rR]", a) or a == "--recursive" for a in argv[1:]):
            paths = [a for a in argv[1:] if not a.startswith("-")]
        elif name == "find" and ("-delete" in argv or "rm" in argv):
            paths = argv[1:2]
        else:
            continue
        risky = [p for p in paths if not (TEMP_PATH.search(p) or BUILD_DIRS.search(p))]
        if risky or not paths:
            severity = Severity.CRITICAL if any(CRITICAL_PATHS.match(p) for p in risky) else Severity.HIGH
            return f"recursive removal of {' '.join(risky) or '?'}", severity
    return None


MAX_DESTRUCTIVE_TEXT = 8000  # a longer line is read on its start (a pasted file is not a command)


@per_text
def destructive_command(command: str) -> Reason | None:
    """Why a shell line destroys something (and how badly), or None."""
    found = recursive_removal(command)
    if found:
        return found
    for label, pattern, severity in BASH_DESTRUCTIVE:
        if pattern.search(command[:MAX_DESTRUCTIVE_TEXT]):
            return label, severity
    return None


@per_name
def may_destroy(tool: str, action: str) -> bool:
    """Whether ``destructive_reason`` can be anything but None for a call of these names (shell calls:
    depending on the command; others: on their names, for a force-push or a record delete their arguments)."""
    if is_shell(tool, action) or (tool == "git" and action == "push"):
        return True
    if action in ROUTINE_DELETES:
        return False
    return bool(
        action in CRITICAL_DESTRUCTIVE_APIS
        or action in SINGLE_RECORD_DELETES
        or action in DESTRUCTIVE_APIS
        or (action.startswith(DESTRUCTIVE_API_PREFIXES) and action[:1].isupper())
        or DESTRUCTIVE_TOOL.match(action)
        or DESTRUCTIVE_TOOL.match(tool)
    )


def destructive_reason(event: ToolCall) -> Reason | None:
    """Why this call destroys something (and how badly), or None. The outcome is the caller's business."""
    action = event.action
    command = command_of(event)
    if command is not None:
        return destructive_command(command)
    if not may_destroy(event.tool, action):
        return None  # fast path: most calls are not named like a deletion
    if event.tool == "git" and action == "push" and event.arguments.get("force") in (True, "true", "yes"):
        return "git force-push", Severity.HIGH
    if action in ROUTINE_DELETES:
        return None
    if action in CRITICAL_DESTRUCTIVE_APIS:
        return action, Severity.CRITICAL
    if action in SINGLE_RECORD_DELETES:
        key = str(event.arguments.get("key") or event.target or "")
        return None if TEMP_PATH.search(key) else (action, Severity.MEDIUM)
    if action in DESTRUCTIVE_APIS or (action.startswith(DESTRUCTIVE_API_PREFIXES) and action[:1].isupper()):
        return action, Severity.HIGH
    if DESTRUCTIVE_TOOL.match(action) or DESTRUCTIVE_TOOL.match(event.tool):
        return action, Severity.HIGH
    return None


# ------------------------------------------------------------------------------------------ sensitive

IDENTITY_CREATION = frozenset(
    {
        "CreateUser", "CreateRole", "CreateLoginProfile", "CreateSAMLProvider", "CreateOpenIDConnectProvider",
        "CreateTrustAnchor", "GetFederationToken", "create_user", "create_role", "create_service_account",
        "invite_user",
    }
)  # fmt: skip
POLICY_CHANGE = frozenset(
    {
        "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "PutUserPolicy", "PutRolePolicy",
        "PutGroupPolicy", "CreatePolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion",
        "UpdateAssumeRolePolicy", "AddUserToGroup", "AddRoleToInstanceProfile", "PutUserPermissionsBoundary",
        "PutRolePermissionsBoundary", "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
        "UpdateLoginProfile", "PutBucketPolicy", "PutBucketAcl", "DeletePublicAccessBlock",
        "DeleteBucketPublicAccessBlock", "PutKeyPolicy", "CreateGrant", "AddPermission", "PutResourcePolicy",
        "SetRepositoryPolicy", "ModifySnapshotAttribute", "ModifyImageAttribute", "ModifyDBSnapshotAttribute",
        "ModifyDBClusterSnapshotAttribute", "grant_role", "grant_permission", "add_collaborator",
        "add_member", "set_iam_policy", "update_permissions",
    }
)  # fmt: skip
NETWORK_CHANGE = frozenset(
    {
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress", "ModifySecurityGroupRules", "CreateSecurityGroup",
        "CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry", "CreateRoute",
        "ReplaceRoute", "AttachInternetGateway", "CreateVpcPeeringConnection", "AcceptVpcPeeringConnection",
        "CreateFunctionUrlConfig", "update_firewall", "open_port", "update_security_group",
        "add_firewall_rule",
    }
)  # fmt: skip
KEY_CREATION = frozenset(
    {
        "CreateAccessKey", "CreateKey", "ImportKeyMaterial", "CreateKeyPair", "ImportKeyPair",
        "CreateServiceSpecificCredential", "UploadSSHPublicKey", "UploadSigningCertificate", "create_api_key",
        "create_access_key", "create_token", "create_ssh_key", "add_deploy_key",
    }
)  # fmt: skip
SENSITIVE_CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("identity creation", IDENTITY_CREATION),
    ("permission change", POLICY_CHANGE),
    ("network change", NETWORK_CHANGE),
    ("key creation", KEY_CREATION),
)
SENSITIVE_ACTIONS = IDENTITY_CREATION | POLICY_CHANGE | NETWORK_CHANGE | KEY_CREATION
SENSITIVE_COMMAND = re.compile(
    r"\baws\s+iam\s+(?:create|attach|put|update|add)-|\baws\s+ec2\s+(?:authorize|revoke)-security-group"
    r"|\baws\s+kms\s+create-key\b|\baws\s+sts\s+get-federation-token\b|\bkubectl\s+create\s+(?:cluster)?rolebinding\b"
    r"|\bgcloud\b[^;&|\n]*\sadd-iam-policy-binding\b|\bgcloud\s+iam\s+service-accounts\s+keys\s+create\b"
    r"|\baz\s+role\s+assignment\s+create\b"
)
MONEY_MOVEMENT_TOOLS = frozenset(
    {"transfer_funds", "send_payment", "wire_transfer", "create_payout", "issue_refund"}
)


@per_name
def category_of(tool: str, action: str) -> str | None:
    """The sensitive category a tool or action name is in (first of ``SENSITIVE_CATEGORIES``), else None."""
    for label, names in SENSITIVE_CATEGORIES:
        if action in names or tool in names:
            return label
    return None


@per_text
def privileged_command(command: str) -> bool:
    return SENSITIVE_COMMAND.search(command) is not None


def sensitive_category(event: ToolCall) -> str | None:
    """Identity creation, permission/network change or key creation (API, agent tool or CLI form), or, for
    a tool of any name, what its capabilities say it does: changing access or moving money."""
    label = category_of(event.tool, event.action)
    if label is not None:
        return label
    command = command_of(event)
    if command and privileged_command(command):
        return "privileged CLI command"
    capabilities = event.capabilities or ()
    if Capability.IDENTITY in capabilities and Capability.READ not in capabilities:
        return "identity or permission change"
    if Capability.MONEY in capabilities and Capability.READ not in capabilities:
        return "money movement"
    return None


@per_name
def may_change_access_or_money(tool: str, action: str) -> bool:
    """Whether a call's name says it changes access or moves money (``sensitive_category``'s capability
    part can only hold for such names, or for calls whose arguments say so: those are judged per call)."""
    from detectors.capabilities.words import name_capabilities

    found = {c for c, _ in name_capabilities(f"{action}_{tool}" if action != tool else tool)}
    return bool(found & {Capability.IDENTITY, Capability.MONEY})


# ------------------------------------------------------------------------------------------ secrets

SECRET_READ_APIS = frozenset(
    {
        "GetSecretValue", "BatchGetSecretValue", "GetParameter", "GetParameters", "GetParametersByPath",
        "GetPasswordData", "DescribeInstanceAttribute", "get_secret", "read_secret", "get_secret_value",
        "vault_read",
    }
)  # fmt: skip
BULK_WEIGHT = 5  # secrets a filtered/paged bulk read counts for: the log does not say how many it returned
SECRET_FILE = re.compile(
    r"(?:^|[\s/'\"=:])(\.aws/credentials|\.aws/config|\.env(?:\.[\w-]+)?|id_rsa|id_ed25519|id_ecdsa|\.netrc"
    r"|\.pgpass|\.git-credentials|\.docker/config\.json|\.kube/config|kubeconfig|/etc/shadow|credentials\.json"
    r"|secrets?\.ya?ml|\.npmrc|\.pypirc|\.vault-token)(?=$|[\s'\";|)])"
)
FILE_READERS = frozenset(
    {
        "cat", "less", "more", "head", "tail", "bat", "strings", "base64", "xxd", "od", "cp", "scp", "tar",
        "zip", "grep", "awk", "sed", "source", ".", "curl", "nl", "tac",
    }
)  # fmt: skip
READ_FILE_TOOLS = frozenset({"read_file", "read", "view_file", "open_file", "cat_file", "Read"})
SECRET_CLI = re.compile(
    r"\baws\s+secretsmanager\s+(?:get-secret-value|batch-get-secret-value)\b"
    r"|\baws\s+ssm\s+get-parameters?(?:-by-path)?\b[^;&|\n]*--with-decryption|\bvault\s+(?:kv\s+get|read)\s"
    r"|\bkubectl\s+get\s+secrets?\b[^;&|\n]*-o\s*(?:yaml|json)|\bgcloud\s+secrets\s+versions\s+access\b"
    r"|\baz\s+keyvault\s+secret\s+show\b"
)


_SECRET_NAMES = SECRET_READ_APIS | READ_FILE_TOOLS  # actions that may read a secret without a shell


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@per_text
def secret_command(command: str) -> tuple[str, ...]:
    """Identities of the secrets a shell line reads: credential files given to a reader, secret CLIs."""
    keys = []
    for argv in shell_segments(command) if SECRET_FILE.search(command) else ():
        found = SECRET_FILE.search(" ".join(argv[1:])) if argv[0].rsplit("/", 1)[-1] in FILE_READERS else None
        if found:
            keys.append(f"file:{found.group(1)}")
    return tuple(keys) or ((f"cli:{command.strip()[:200]}",) if SECRET_CLI.search(command) else ())


@per_text
def secret_path(path: str) -> bool:
    """Whether a path names a credential file (``SECRET_FILE``): file-tool reads repeat the same paths."""
    return SECRET_FILE.search(path) is not None


@per_name
def may_read_secret(tool: str, action: str) -> bool:
    """Whether ``secret_reads`` can be non-empty for a call of these names."""
    return is_shell(tool, action) or action in _SECRET_NAMES or tool in READ_FILE_TOOLS


def secret_reads(event: ToolCall) -> list[str]:
    """Identities of the secrets a call reads, attempted or not (empty: not a secret read).

    A filtered or path-wide bulk read counts as ``BULK_WEIGHT`` secrets of its own; parameters count only
    when read with decryption; ``DescribeInstanceAttribute`` only for ``userData`` (where secrets hide).
    """
    args, action = event.arguments, event.action
    command = command_of(event)
    if command is not None:
        return list(secret_command(command))
    if action in READ_FILE_TOOLS or event.tool in READ_FILE_TOOLS:
        path = str(args.get("path") or args.get("file_path") or event.target or "")
        return [f"file:{path}"] if secret_path(path) else []
    if action not in SECRET_READ_APIS:
        return []
    bulk = [f"{event.event_id}#bulk{i}" for i in range(BULK_WEIGHT)]
    if action in ("GetParameter", "GetParameters", "GetParametersByPath"):
        if not _truthy(args.get("withDecryption")):
            return []
        if action == "GetParametersByPath":
            return bulk
        return texts(args.get("names") or args.get("name")) or [event.target or event.event_id]
    if action == "BatchGetSecretValue":
        return texts(args.get("secretIdList")) or bulk
    if action == "DescribeInstanceAttribute":
        return [str(args.get("instanceId") or event.target)] if args.get("attribute") == "userData" else []
    ident = args.get("secretId") or args.get("instanceId") or args.get("name") or event.target
    return [str(ident or event.event_id)]


# ------------------------------------------------------------------------------------------ audit trail

AUDIT_DISABLE_APIS: dict[str, Reason] = {
    "StopLogging": ("stopped CloudTrail logging", Severity.CRITICAL),
    "DeleteTrail": ("deleted a CloudTrail trail", Severity.CRITICAL),
    "DeleteEventDataStore": ("deleted a CloudTrail Lake event data store", Severity.CRITICAL),
    "StopEventDataStoreIngestion": ("stopped CloudTrail Lake ingestion", Severity.CRITICAL),
    "DeleteFlowLogs": ("deleted VPC flow logs", Severity.HIGH),
    "DeleteResolverQueryLogConfig": ("deleted Route 53 resolver query logging", Severity.HIGH),
    "DisassociateResolverQueryLogConfig": ("detached Route 53 resolver query logging", Severity.HIGH),
    "DeleteDetector": ("deleted the GuardDuty detector", Severity.CRITICAL),
    "DisassociateFromMasterAccount": ("detached GuardDuty from its administrator", Severity.HIGH),
    "DisassociateFromAdministratorAccount": ("detached GuardDuty from its administrator", Severity.HIGH),
    "StopMonitoringMembers": ("stopped GuardDuty monitoring of member accounts", Severity.HIGH),
    "StopConfigurationRecorder": ("stopped the AWS Config recorder", Severity.HIGH),
    "DeleteConfigurationRecorder": ("deleted the AWS Config recorder", Severity.HIGH),
    "DeleteDeliveryChannel": ("deleted the AWS Config delivery channel", Severity.HIGH),
    "DisableSecurityHub": ("disabled Security Hub", Severity.HIGH),
    "BatchDisableStandards": ("disabled Security Hub standards", Severity.MEDIUM),
    "DeleteAnalyzer": ("deleted an IAM Access Analyzer", Severity.MEDIUM),
    "DisableMacie": ("disabled Macie", Severity.MEDIUM),
}
AUDIT_LOG_GROUP = re.compile(r"cloudtrail|audit|flow|guardduty|security|waf", re.I)
BASH_AUDIT_TAMPERING: tuple[tuple[str, re.Pattern[str], Severity], ...] = (
    ("deleted or disabled the auditd rules", re.compile(r"\bauditctl\s+(?:-D\b|-e\s*0\b)"), Severity.HIGH),
    (
        "stopped a logging or audit service",
        re.compile(
            r"\b(?:systemctl|service)\s+(?:stop|disable|mask)\s+(?:auditd|rsyslog|syslog-ng|systemd-journald|falco"
            r"|osqueryd|wazuh-agent|amazon-cloudwatch-agent|datadog-agent)\b|\b(?:auditd|rsyslog|falco)\s+stop\b"
        ),
        Severity.HIGH,
    ),
    (
        "cleared the shell history",
        re.compile(
            r"\bhistory\s+-c\b|\bunset\s+HISTFILE\b|\bHISTFILE=/dev/null|\bHISTSIZE=0\b|\bset\s+\+o\s+history\b"
            r"|(?:>\s*|\brm\s+(?:-\w+\s+)*|\bshred\s+(?:-\w+\s+)*|\bln\s+-sf\s+/dev/null\s+)\S*\.(?:bash|zsh)_history"
        ),
        Severity.MEDIUM,
    ),
    (
        "erased system logs",
        re.compile(
            # (a journal vacuumed down to seconds, minutes or hours is erased; ``--vacuum-time=14d`` keeps two
            # weeks: retention, the housekeeping that frees a disk)
            r"\bjournalctl\b[^;&|\n]*--vacuum-(?:time[= ]\s*\d+\s*(?:s|sec|secs|seconds?|m|min|mins|minutes?|"
            r"h|hours?)?(?![\w])|files[= ]\s*[01]\b)|\btruncate\s+-s\s*0\s+/var/log/|>\s*/var/log/\S+"
            r"|\brm\s+(?:-\w+\s+)*/var/log/|\bwevtutil\s+cl\b|\bClear-EventLog\b"
        ),
        Severity.HIGH,
    ),
)
AUDIT_TOOL = re.compile(
    r"^(disable|stop|delete|clear|purge)_(audit|logs?|logging|trail|telemetry|monitoring)", re.I
)


def _event_selectors_narrowed(args: dict[str, Any]) -> bool:
    selectors = args.get("eventSelectors")
    if isinstance(selectors, list):
        return not selectors or any(
            isinstance(s, dict)
            and (s.get("includeManagementEvents") is False or s.get("readWriteType") == "ReadOnly")
            for s in selectors
        )
    advanced = args.get("advancedEventSelectors")
    if isinstance(advanced, list):
        return not any(value == "Management" for _, value in walk(advanced))
    return False


@per_text
def audit_command(command: str) -> Reason | None:
    """What audit trail a shell line switched off or erased, and how badly; else None. An AWS CLI call is
    its API (``aws cloudtrail stop-logging`` is ``StopLogging``)."""
    for label, pattern, severity in BASH_AUDIT_TAMPERING:
        if pattern.search(command):
            return label, severity
    for api in aws_cli_apis(command):
        if api in AUDIT_DISABLE_APIS:
            return AUDIT_DISABLE_APIS[api]
    return None


_AWS_CLI = re.compile(
    r"(?:^|[\s;&|(])aws\s+(?:--?[\w-]+(?:[ =][^\s-][^\s]*)?\s+)*([a-z0-9-]+)\s+([a-z0-9-]+)"
)


def aws_cli_apis(command: str) -> list[str]:
    """The AWS APIs a shell line calls through the AWS CLI: ``aws ec2 delete-snapshot`` -> ``DeleteSnapshot``
    (the CLI's operation names are the APIs' in kebab case)."""
    if "aws" not in command:
        return []
    return ["".join(part.capitalize() for part in m.group(2).split("-")) for m in _AWS_CLI.finditer(command)]


# APIs whose arguments say whether they narrow the audit trail (every API ``audit_tampering`` tests by name).
_AUDIT_ARGUMENT_APIS = frozenset(
    {
        "PutEventSelectors", "UpdateTrail", "UpdateDetector", "CreateFilter", "UpdateFilter",
        "PutBucketLogging", "DeleteLogGroup",
    }
)  # fmt: skip


@per_name
def may_tamper(tool: str, action: str) -> bool:
    """Whether ``audit_tampering`` can be anything but None for a call of these names."""
    return bool(
        is_shell(tool, action)
        or action in AUDIT_DISABLE_APIS
        or action in _AUDIT_ARGUMENT_APIS
        or AUDIT_TOOL.match(action)
        or AUDIT_TOOL.match(tool)
    )


def _bucket_logging_off(args: dict[str, Any]) -> bool:
    """A PutBucketLogging whose logging status has no LoggingEnabled target. A record that does not show
    the status at all says nothing about what the call set."""
    status = next((v for k, v in args.items() if k.lower() == "bucketloggingstatus"), None)
    return status is not None and "LoggingEnabled" not in json.dumps(status, default=str)


def audit_tampering(event: ToolCall) -> Reason | None:
    """What audit or security telemetry this call switched off or narrowed, and how badly; else None."""
    command = command_of(event)
    if command is not None:
        return audit_command(command)
    if not may_tamper(event.tool, event.action):
        return None  # fast path: no audit API or tool of that name
    args, action = event.arguments, event.action
    if action in AUDIT_DISABLE_APIS:
        return AUDIT_DISABLE_APIS[action]
    if action == "PutEventSelectors" and _event_selectors_narrowed(args):
        return (
            "narrowed CloudTrail event selectors (management or write events no longer logged)",
            Severity.HIGH,
        )
    narrowing = ("isMultiRegionTrail", "includeGlobalServiceEvents", "enableLogFileValidation")
    if action == "UpdateTrail" and any(args.get(k) is False for k in narrowing):
        return "narrowed a CloudTrail trail (regions, global events or log validation off)", Severity.HIGH
    if action == "UpdateDetector" and args.get("enable") is False:
        return "disabled the GuardDuty detector", Severity.CRITICAL
    if action in ("CreateFilter", "UpdateFilter") and str(args.get("action", "")).upper() == "ARCHIVE":
        return "added a GuardDuty filter that auto-archives findings", Severity.MEDIUM
    if action == "PutBucketLogging" and _bucket_logging_off(args):
        return "turned off S3 server access logging", Severity.MEDIUM
    if action == "DeleteLogGroup" and AUDIT_LOG_GROUP.search(
        str(args.get("logGroupName") or event.target or "")
    ):
        return "deleted an audit log group", Severity.HIGH
    if AUDIT_TOOL.match(action) or AUDIT_TOOL.match(event.tool):
        return f"ran {action}", Severity.HIGH
    return None


# ------------------------------------------------------------------------------------------ exposure

PUBLIC_GRANTEES = re.compile(r"AllUsers|AuthenticatedUsers|public-read(?:-write)?\b")
SHARE_APIS = frozenset(
    {
        "ModifySnapshotAttribute",
        "ModifyImageAttribute",
        "ModifyDBSnapshotAttribute",
        "ModifyDBClusterSnapshotAttribute",
    }
)
RESOURCE_POLICY_KEYS = ("bucketPolicy", "policy", "policyText", "resourcePolicy", "Policy")
RESOURCE_POLICY_APIS = frozenset(
    {
        "PutBucketPolicy", "PutKeyPolicy", "PutResourcePolicy", "SetRepositoryPolicy", "PutRepositoryPolicy",
        "PutBackupVaultAccessPolicy", "PutRegistryPolicy", "PutFileSystemPolicy", "PutAccessPointPolicy",
    }
)  # fmt: skip
PUBLIC_COMMAND = re.compile(
    r"--cidr(?:-ip(?:v6)?)?[ =]\S*/0\b|--source-ranges[ =]\S*0\.0\.0\.0/0|--acl[ =]public-read"
    # the shorthand of ``--ip-permissions`` (``IpRanges=[{CidrIp=0.0.0.0/0}]``, ``CidrIpv6=::/0``)
    r"|\bCidrIp(?:v6)?=(?:0\.0\.0\.0/0|::/0)"
    r"|\bgsutil\s+(?:iam|acl)\s+ch\b[^;&|\n]*\b(?i:allUsers)\b|--principal[ =]['\"]?\*"
    # Azure: an NSG rule from anywhere, storage opened to anonymous reads
    r"|--source-address-prefix(?:es)?[ =]['\"]?(?:\*|0\.0\.0\.0/0|Internet|Any)(?:['\"]|\s|$)"
    r"|--allow-blob-public-access[ =]true|--public-access[ =](?:blob|container)\b"
    # a repository published (``gh repo create … --public``, ``gh repo edit --visibility public``)
    r"|\bgh\s+repo\s+(?:create|edit)\b[^;&|\n]*--(?:public|visibility[ =]public)\b"
)
# Every API the exposure check can fire on (the exposure detector's index).
EXPOSURE_APIS = (
    frozenset(
        {
            "AuthorizeSecurityGroupIngress", "ModifySecurityGroupRules", "CreateNetworkAclEntry",
            "PutBucketAcl", "DeletePublicAccessBlock", "DeleteBucketPublicAccessBlock",
            "DeleteAccountPublicAccessBlock", "AddPermission", "CreateFunctionUrlConfig",
        }
    )
    | SHARE_APIS
    | RESOURCE_POLICY_APIS
)  # fmt: skip


def world_cidrs(args: dict[str, Any]) -> list[str]:
    """CIDR ranges with a /0 prefix (the whole IPv4 or IPv6 space) anywhere in the request."""
    return [str(v) for k, v in walk(args) if k.lower().startswith("cidr") and str(v).strip().endswith("/0")]


def shared_with(event: ToolCall) -> list[str]:
    """Accounts (or ``all``) a snapshot, AMI or DB snapshot was just shared with; empty if none."""
    if event.action not in SHARE_APIS:
        return []
    args = event.arguments
    if event.action.startswith("ModifyDB"):
        return texts(args.get("valuesToAdd"))
    added: list[str] = []
    for key in ("createVolumePermission", "launchPermission"):
        block = args.get(key)
        if isinstance(block, dict):
            added += [
                str(v) for k, v in walk(block.get("add")) if k in ("userId", "group", "organizationArn")
            ]
    if str(args.get("operationType", "")).lower() == "add":
        added += texts(args.get("userIds")) + texts(args.get("userGroups"))
    return [a for a in added if a]


def _statements(document: Any) -> list[dict[str, Any]]:
    document = as_json(document)
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements if isinstance(s, dict)] if isinstance(statements, list) else []


# Condition keys that narrow *who* may use a wildcard principal (an organisation, an account, a source
# resource, a network). Other keys (sts:ExternalId, aws:SecureTransport, aws:MultiFactorAuthPresent, dates)
# leave ``*`` open to any AWS account: an external id is no secret, and anyone can sign in with MFA.
_NARROWING_CONDITION_KEY = re.compile(
    r"^(?:aws:(?:Principal(?:OrgID|OrgPaths|Account|Arn|IsAWSService)|Source(?:Account|Arn|OrgID|OrgPaths"
    r"|Owner|Vpce?|Ip)|userid|username|CalledVia(?:First|Last)?|ViaAWSService)|kms:(?:CallerAccount|ViaService)"
    r"|(?:sns|sqs|s3|lambda):\w*(?:SourceArn|SourceAccount|Principal)\w*)$",
    re.IGNORECASE,
)


def _narrowed(condition: Any) -> bool:
    """Whether a statement's Condition holds its wildcard principal to someone (see above)."""
    if not isinstance(condition, dict):
        return False
    return any(
        isinstance(keys, dict) and any(_NARROWING_CONDITION_KEY.match(str(k)) for k in keys)
        for keys in condition.values()
    )


def allowed_principals(document: Any) -> list[str]:
    """Principals an IAM/resource policy lets in (``*``, ARNs, account ids, services): Allow statements."""
    found: list[str] = []
    for statement in _statements(document):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal in ("*", {"AWS": "*"}) and _narrowed(statement.get("Condition")):
            continue  # a wildcard held to an org, account, source or network is not public
        found += [str(v) for _, v in walk(principal) if v is not None]
    return found


def foreign(principal: str, own: str | None) -> bool:
    """``*``, or an account id / ARN of another account than ``own`` (any account when ``own`` is unknown)."""
    account = account_of(principal) or (principal if re.fullmatch(r"\d{12}", principal) else None)
    return principal == "*" or (account is not None and account != own)


def external_principals(document: Any, own: str | None) -> list[str]:
    """The principals of a policy that are ``*`` or belong to another AWS account than ``own``."""
    return [p for p in allowed_principals(document) if foreign(p, own)]


def policy_allows_everything(document: Any) -> bool:
    """An Allow statement with Action ``*`` (a session or inline policy that grants everything)."""
    return any(
        s.get("Effect", "Allow") == "Allow" and "*" in texts(s.get("Action")) for s in _statements(document)
    )


# CLI commands that set a resource policy (``aws s3api put-bucket-policy --policy '{…}'``) or lift a public
# access block (``put-public-access-block`` with ``Block…=false``)
_POLICY_COMMAND = re.compile(
    r"\b(put-bucket-policy|set-repository-policy|put-resource-policy|put-key-policy|add-permission)\b"
)
_BLOCK_LIFTED = re.compile(
    r"\bput-public-access-block\b.*\b(BlockPublic\w*|RestrictPublicBuckets)[\"']?\s*[=:]\s*false", re.I
)


@per_text
def public_command(command: str) -> Reason | None:
    """What a shell line opened to the whole internet; else None."""
    found = PUBLIC_COMMAND.search(command)
    if found:
        return f"opened access to the world from the shell ({found.group(0)})", Severity.HIGH
    if (policy := _POLICY_COMMAND.search(command)) and "*" in command:
        document = _option_value(command, "--policy")
        if document is not None and "*" in allowed_principals(document):
            return (
                f"set a resource policy from the shell ({policy.group(1)}) that lets anyone (*) in",
                Severity.HIGH,
            )
    if _BLOCK_LIFTED.search(command):
        return (
            "lifted an S3 public access block from the shell (put-public-access-block … false)",
            Severity.MEDIUM,
        )
    return None


def _option_value(command: str, option: str) -> str | None:
    """The value of a command-line option (``--policy '{…}'`` or ``--policy={…}``), or None."""
    try:
        argv = shlex.split(command[:20000])
    except ValueError:
        return None
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def public_exposure(event: ToolCall) -> Reason | None:
    """What this call opened to the whole internet, and how badly; else None."""
    args, action = event.arguments, event.action
    command = command_of(event)
    if command is not None:
        return public_command(command)
    if action not in EXPOSURE_APIS:
        return None  # fast path: every branch below is one of these APIs
    named = ("groupId", "bucketName", "functionName", "snapshotId", "imageId", "dBSnapshotIdentifier")
    what = next((str(args[k]) for k in named if args.get(k)), None) or event.target or action
    if action in ("AuthorizeSecurityGroupIngress", "ModifySecurityGroupRules", "CreateNetworkAclEntry"):
        cidrs = world_cidrs(args)
        inbound = not (args.get("egress") is True or args.get("ruleAction") == "deny")
        if cidrs and inbound:
            ports = (
                "/".join(sorted({str(v) for k, v in walk(args) if k in ("fromPort", "FromPort")})) or "all"
            )
            return f"opened {what} to {cidrs[0]} on port {ports}", Severity.HIGH
    if "all" in shared_with(event):
        return f"made {what} public (shared with all AWS accounts)", Severity.CRITICAL
    if action == "PutBucketAcl" and PUBLIC_GRANTEES.search(json.dumps(args, default=str)):
        return f"granted public access to bucket {what}", Severity.CRITICAL
    if action in (
        "DeletePublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
        "DeleteAccountPublicAccessBlock",
    ):
        return f"removed the S3 public access block of {what}", Severity.MEDIUM
    conditioned = any(args.get(k) for k in ("sourceArn", "sourceAccount", "principalOrgID"))
    if action == "AddPermission" and args.get("principal") == "*" and not conditioned:
        return f"let anyone invoke Lambda function {what}", Severity.HIGH
    if action == "CreateFunctionUrlConfig" and str(args.get("authType", "")).upper() == "NONE":
        return f"gave Lambda function {what} a public URL without authentication", Severity.HIGH
    if action in RESOURCE_POLICY_APIS and any(
        "*" in allowed_principals(args.get(key)) for key in RESOURCE_POLICY_KEYS if key in args
    ):
        return f"set a resource policy ({action}) that lets any principal (*) into {what}", Severity.HIGH
    return None


# ------------------------------------------------------------------------------------------ exfiltration

SENSITIVE_DATA = re.compile(
    r"customer|export|pii|personal|payroll|salary|passport|ssn|credit.?card|cardholder|backup|dump"
    r"|users?\.(?:csv|json|sql)|patients?|medical|invoices?",
    re.I,
)
SNAPSHOT_APIS = frozenset(
    {
        "CreateSnapshot", "CreateSnapshots", "CreateDBSnapshot", "CreateDBClusterSnapshot", "CopySnapshot",
        "CopyDBSnapshot", "CreateImage", "StartExportTask", "CreateBackup",
    }
)  # fmt: skip
DUMP_COMMAND = re.compile(r"\b(?:pg_dump|pg_dumpall|mysqldump|mongodump|mongoexport)\b")
EXPORT_TOOL = re.compile(r"^(export|dump|download|bulk_read|backup)_", re.I)
EMAIL_TOOLS = frozenset({"send_email", "send_mail", "email", "reply_email", "forward_email"})
UPLOAD_TOOLS = re.compile(
    r"^(http_post|http_put|http_request|upload|upload_file|webhook|send_webhook)$", re.I
)
UPLOAD_COMMAND = re.compile(
    r"\bcurl\b[^;&|\n]*(?:\s-T\s|--upload-file|\s-d\s*@|--data(?:-binary)?\s*@|\s-F\s*\S*=@)"
    r"|\bwget\b[^;&|\n]*--post-file|\bscp\s[^;&|\n]*\s\S+@?[\w.-]+:|\brsync\s[^;&|\n]*\s[\w.-]+:"
)
URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+|\b[\w.-]+@([\w-]+\.[\w.-]+):")


# A word of every SENSITIVE_DATA alternative: a quick test on lower-cased ASCII text (4-10x faster).
_SENSITIVE_DATA_HINT = re.compile(
    r"customer|export|pii|personal|payroll|salary|passport|ssn|credit|cardholder|backup|dump|user|patient"
    r"|medical|invoice"
)


@per_text
def customer_data(text: str) -> bool:
    """Whether a target names customer or personal data (``SENSITIVE_DATA``)."""
    if text.isascii() and not _SENSITIVE_DATA_HINT.search(text.lower()):
        return False
    return SENSITIVE_DATA.search(text) is not None


@per_text
def dump_command(command: str) -> bool:
    return DUMP_COMMAND.search(command) is not None


@per_name
def read_plan(tool: str, action: str) -> tuple[bool, bool, str | None, bool]:
    """What ``sensitive_read`` must look at for a call of these names: (a shell call, may read a secret,
    the label its name alone gives (a snapshot or a data export), a read-only action)."""
    named = (
        "a snapshot/backup"
        if action in SNAPSHOT_APIS
        else "a data export"
        if EXPORT_TOOL.match(action) or EXPORT_TOOL.match(tool)
        else None
    )
    return is_shell(tool, action), may_read_secret(tool, action), named, is_read_only(action)


def sensitive_read(event: ToolCall) -> str | None:
    """A read of something worth stealing: a secret, a customer/PII export, a dump, a snapshot or backup."""
    shell, secret, named, read_only = read_plan(event.tool, event.action)
    command = command_of(event) if shell else None
    if command is not None:
        if secret_command(command):
            return "secrets"
        if event.action in SNAPSHOT_APIS:
            return "a snapshot/backup"
        return "a database dump" if dump_command(command) else None
    if secret and secret_reads(event):
        return "secrets"
    if named is not None:
        return named
    if read_only and customer_data(f"{event.target or ''} {event.arguments.get('key') or ''}"):
        return "customer data"
    return None


def host_of(value: str) -> str | None:
    """The host of a URL or ``user@host:`` remote, lower-cased; None when there is none."""
    if "://" in value:
        return (urlsplit(value).hostname or "").lower() or None
    match = URL_IN_TEXT.search(value)
    return match.group(1).lower() if match and match.group(1) else None


@per_text
def upload_command(command: str) -> tuple[str, str | None] | None:
    """(what, host) when a shell line uploads or posts a file, else None."""
    if not UPLOAD_COMMAND.search(command):
        return None
    found = URL_IN_TEXT.search(command)
    return f"uploaded data from the shell ({command[:80]})", host_of(found.group(0)) if found else None


@per_name
def may_send(tool: str, action: str) -> bool:
    """Whether ``outbound_transfer`` can be anything but None for a call of these names."""
    return bool(
        is_shell(tool, action)
        or action in SHARE_APIS
        or action in EMAIL_TOOLS
        or tool in EMAIL_TOOLS
        or UPLOAD_TOOLS.match(action)
        or UPLOAD_TOOLS.match(tool)
    )


def outbound_transfer(event: ToolCall) -> tuple[str, str | None] | None:
    """(what, destination) when the call sends data out: a snapshot/AMI share (destination: the accounts),
    a mail with attachments or a large body (the recipient's domain), an upload or POST (the host)."""
    if not may_send(event.tool, event.action):
        return None  # fast path: neither a share, a mail, a shell call nor an upload tool
    args = event.arguments
    shared = shared_with(event)
    if shared:
        return f"shared {event.target or event.action} with {', '.join(shared)}", ",".join(shared)
    if event.action in EMAIL_TOOLS or event.tool in EMAIL_TOOLS:
        recipient = str(args.get("recipient") or args.get("to") or event.target or "")
        if args.get("attachments") or len(str(args.get("body") or "")) > 2000:
            return f"mailed data to {recipient}", recipient.rsplit("@", 1)[-1].lower() or None
        return None
    command = command_of(event)
    if command is not None:
        return upload_command(command)
    if UPLOAD_TOOLS.match(event.action) or UPLOAD_TOOLS.match(event.tool):
        url = str(args.get("url") or event.target or "")
        if str(args.get("method") or "POST").upper() in ("POST", "PUT", "PATCH"):
            return f"sent data to {url or 'an unknown destination'}", host_of(url)
    return None


# ------------------------------------------------------------------------------------------ persistence

BACKDOOR_APIS = frozenset(
    {
        "CreateLoginProfile", "UpdateLoginProfile", "UpdateAssumeRolePolicy", "CreateRole", "CreateAccessKey",
        "UpdateFunctionCode", "UpdateFunctionConfiguration", "AddPermission", "CreateTrustAnchor",
        "GetFederationToken", "CreateSAMLProvider", "UpdateSAMLProvider", "CreateOpenIDConnectProvider",
        "UploadSSHPublicKey",
    }
)  # fmt: skip
AUTHORIZED_KEYS = re.compile(
    r">>?\s*\S*\.ssh/authorized_keys\b|\btee\s+(?:-a\s+)?\S*\.ssh/authorized_keys\b|\bssh-copy-id\s"
)
_CREDENTIAL_FOR_USER = {
    "CreateLoginProfile": "set a console password for",
    "UpdateLoginProfile": "reset the console password of",
    "CreateAccessKey": "minted an access key for",
    "UploadSSHPublicKey": "added an SSH key to",
}


@per_text
def backdoor_command(command: str) -> Reason | None:
    """A shell line that adds an SSH key to ``authorized_keys``; else None."""
    return ("added an SSH key to authorized_keys", Severity.HIGH) if AUTHORIZED_KEYS.search(command) else None


def _is_caller(event: ToolCall, user: str) -> bool:
    caller = event.principal or event.agent_id or ""
    return ":user/" in caller and caller.endswith(f"/{user}")


def backdoor_reason(event: ToolCall) -> Reason | None:
    """How this call leaves a way back in (a password, key, trust, code or federation path), or None.

    Self-service is not a backdoor: a user resetting their own password or minting their own key."""
    command = command_of(event)
    if command is not None:
        return backdoor_command(command)
    if event.action not in BACKDOOR_APIS:
        return None  # fast path: every branch below is one of these APIs
    args, action, own = event.arguments, event.action, own_account(event)
    user, function = str(args.get("userName") or ""), str(args.get("functionName") or event.target or "")
    if action in _CREDENTIAL_FOR_USER:
        if not user or _is_caller(event, user):
            return None
        return f"{_CREDENTIAL_FOR_USER[action]} IAM user {user}", Severity.HIGH
    if action in ("UpdateAssumeRolePolicy", "CreateRole"):
        outside = external_principals(args.get("policyDocument") or args.get("assumeRolePolicyDocument"), own)
        if not outside:
            return None
        severity = Severity.CRITICAL if "*" in outside else Severity.HIGH
        return f"let {', '.join(outside[:3])} assume role {args.get('roleName') or event.target}", severity
    if action == "AddPermission" and args.get("functionName"):
        principal = str(args.get("principal") or "")
        if not foreign(principal, own):
            return None
        return f"let {principal} invoke Lambda function {function}", Severity.HIGH
    if action == "UpdateFunctionCode":
        return f"replaced the code of Lambda function {function}", Severity.MEDIUM
    raw_response = args.get("response")
    response: dict[str, Any] = raw_response if isinstance(raw_response, dict) else {}
    if action == "UpdateFunctionConfiguration" and (args.get("layers") or response.get("layers")):
        # CloudTrail may log the layers only in the response (the adapter keeps their ARNs there)
        layers = texts(args.get("layers")) or texts(response.get("layers"))
        outside_layers = [layer for layer in layers if account_of(layer) not in (None, own)]
        severity = Severity.HIGH if outside_layers else Severity.MEDIUM
        return f"attached layer {(outside_layers or layers)[0]} to Lambda function {function}", severity
    if action == "CreateTrustAnchor":
        return f"registered IAM Roles Anywhere trust anchor {args.get('name') or event.target}", Severity.HIGH
    if action == "GetFederationToken" and policy_allows_everything(args.get("policy")):
        return (
            f"minted a federation token for {args.get('name')} with an allow-everything policy",
            Severity.HIGH,
        )
    if action in ("CreateSAMLProvider", "UpdateSAMLProvider", "CreateOpenIDConnectProvider"):
        return f"registered an external identity provider ({action})", Severity.HIGH
    return None


# Read-named calls that are sensitive all the same (secret reads, federation tokens, file-tool reads).
_SENSITIVE_READS = SECRET_READ_APIS | SENSITIVE_ACTIONS | READ_FILE_TOOLS


def _always(event: ToolCall) -> bool:
    return True


@per_name
def sensitive_checks(tool: str, action: str) -> tuple[Callable[[ToolCall], object], ...]:
    """The parts of ``is_sensitive`` that can be true for a call of these names that has no shell command,
    in ``is_sensitive``'s order (``_always`` when the names alone make it sensitive; empty: never)."""
    if is_read_only(action) and action not in _SENSITIVE_READS:
        return (secret_reads,) if tool in READ_FILE_TOOLS else ()  # plain reads: only a secret file
    if action in MONEY_MOVEMENT_TOOLS or tool in MONEY_MOVEMENT_TOOLS or category_of(tool, action):
        return (_always,)
    parts = (
        (secret_reads, may_read_secret(tool, action)),
        (destructive_reason, may_destroy(tool, action)),
        (audit_tampering, may_tamper(tool, action)),
        (public_exposure, action in EXPOSURE_APIS),
        (shared_with, action in SHARE_APIS),
        (backdoor_reason, action in BACKDOOR_APIS),
    )
    return tuple(check for check, possible in parts if possible)


@per_name
def may_be_sensitive(tool: str, action: str) -> bool:
    """Whether ``is_sensitive`` can be true for a call of these names (shell calls: by their command)."""
    return is_shell(tool, action) or bool(sensitive_checks(tool, action))


@per_text
def sensitive_command(command: str) -> bool:
    """Whether a shell line is privileged, reads a secret, destroys, tampers, exposes or backdoors."""
    return bool(
        privileged_command(command)
        or secret_command(command)
        or destructive_command(command)
        or audit_command(command)
        or public_command(command)
        or backdoor_command(command)
    )


def is_sensitive(event: ToolCall) -> bool:
    """Any call this vocabulary calls risky: an identity, permission, network or key change, a secret read,
    a destructive, audit-tampering, exposing, sharing or backdooring call, or money movement."""
    tool, action = event.tool, event.action
    command = command_of(event)
    if command is None:
        return any(check(event) for check in sensitive_checks(tool, action))
    return bool(
        action in MONEY_MOVEMENT_TOOLS
        or tool in MONEY_MOVEMENT_TOOLS
        or category_of(tool, action)
        or sensitive_command(command)
        or shared_with(event)
    )


# ------------------------------------------------------------------------------------------ environments

_ENV_KEYS = re.compile(
    r"^(env|environment|stage|tier|database|db|db_?name|cluster|namespace|context|profile|workspace|host|"
    r"connection|connection_?string|dsn|pipeline|target|deploy_?target|destination|stack|space)$",
    re.I,
)
_PRODUCTION = re.compile(r"(^|[-_.:/@])(prod|production|prd)([-_.:/]|$)", re.I)
# where a command line says which environment it acts on: a context, profile, workspace, cluster or
# namespace option, or a host or connection string with a production label
_PRODUCTION_IN_LINE = re.compile(
    # (``--cluster-name aks-prod-weu``, ``--resource-group rg-prod``, ``-g rg-prod-weu`` too)
    # (``--id net-production`` of a stack, ``--destination-environment Production`` of a promotion)
    # (``--server rms-prod``, ``promote … --to rms-prod`` of a recipe or release server)
    # (not ``--target production`` of a build tool: a bundle's mode, not a place)
    # (``--db nav_prod``: a database named for production, its word joined by "_")
    r"(?:--(?:context|profile|env|environment|workspace|cluster|namespace|stack|project|host|id|server|to|"
    r"db|database|dsn|destination|(?:destination|target|to)-environment)(?:-name)?[= ]"
    r"|--resource-group[= ]|\s-g\s|\s-n\s"
    # ``-h`` is a host only to database clients (``du -h``, ``df -h`` are sizes)
    r"|\b(?:psql|pg_dump|pg_dumpall|pg_restore|mysql|mysqldump|redis-cli|mongo|mongosh|clickhouse-client)\b"
    r"[^;&|\n]{0,200}?\s-h\s?)"
    r"\S*?(?<![a-z0-9])(?:prod|production|prd)(?![a-z0-9])|[@/]\S*\b(?:prod|production|prd)\b[\w.-]*\.[a-z]{2,}"
    r"|\bworkspace select (?:prod|production)\b"
    # a connection string's host (libpq's ``"host=core-db-prod.int… dbname=core"``, ODBC's ``Server=…``)
    r"|\b(?:host|hostaddr|server)=[\"']?[\w.-]*\b(?:prod|production|prd)\b[\w.-]*"
    # an environment variable named for production (``DATABASE_URL=$PROD_DATABASE_URL``)
    r"|\$\{?(?:[a-z0-9]+_)*(?:prod|production|prd)(?:_[a-z0-9]+)*\}?(?![\w])"
    # a project or dataset named for production (``acme-prod.analytics``)
    r"|[`'\"\s]([a-z0-9]+-)+(?:prod|production)[.:`]",
    re.I,
)


def production_named(event: ToolCall) -> str | None:
    """What says a call acts on production when its source does not: an argument that names it
    (``database: production``, ``env: prod``), or its command line (``--context prod-us``,
    ``postgres://app@prod-db.example.com``)."""
    for key, value in event.arguments.items():
        if isinstance(value, str) and _ENV_KEYS.match(key) and _PRODUCTION.search(value.strip()):
            return f"{key}={value[:60]}"
    command = command_of(event)
    if command and (match := _PRODUCTION_IN_LINE.search(command)):
        return match.group(0).strip().rsplit("@", 1)[-1].lstrip("/")[:80]  # a host, not its credentials
    for value in event.arguments.values():  # a REST path: ``…/environments/production/strategies``
        if isinstance(value, str) and (match := _PRODUCTION_IN_PATH.search(value[:500])):
            return match.group(0)
    return None


# an API path whose segment is the environment (``/environments/production/``, ``/env/prod/deploy``,
# ``?environment=production``); a word inside a name (``product``, ``prod-notes.md``) is none
_PRODUCTION_IN_PATH = re.compile(
    r"^https?://[^\s?#]*/(?:environments?|envs?|stages?|tiers?)/(?:prod|production|prd)(?=[/?#]|$)"
    r"|^https?://\S*[?&](?:env|environment|stage)=(?:prod|production|prd)(?=[&#]|$)",
    re.I,
)


def in_production(event: ToolCall) -> bool:
    """The event's environment, or — when the source does not say — :func:`production_named`."""
    if event.environment is not None and event.environment != Environment.UNKNOWN:
        return event.environment == Environment.PROD
    return production_named(event) is not None
