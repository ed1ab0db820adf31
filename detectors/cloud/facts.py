"""Facts about one AWS call that the sensitive-API table's conditions read as ``facts.<name>``.

A fact is what makes a call risky and cannot be said with a field comparison: a policy document that lets
anyone in, a share with another account, a password changed for someone else. Each is a property computed
on first use, so a condition pays only for the facts it reads. Recognisers shared with other detectors live
in ``detectors.vocab``; here they are named for the table.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from detectors import vocab
from detectors.expr import read_path
from schemas.adapters.cloudtrail import CONTEXT_KEYS
from schemas.events import ToolCall

# Instance families for accelerated computing (GPU, inference, training, FPGA) and bare metal: rare in most
# accounts and the first thing a cryptominer or a stolen-credential GPU farm launches.
_UNUSUAL_INSTANCE = re.compile(
    r"^(?:p\d|g\d|gr\d|inf\d|trn\d|dl\d|f\d|vt\d|x\d[a-z]*)\.|\.metal|\.(?:\d{2,})xlarge$"
)
_ADMIN_POLICY = re.compile(r":policy/(?:AdministratorAccess|IAMFullAccess|PowerUserAccess)$")
_MANY_INSTANCES = 10


def _text(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:  # some consoles wrap scalars: {"value": "p2.xlarge"}
        value = value["value"]
    return str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


class CallFacts(Mapping[str, Any]):
    """Lazily computed facts of one tool call (see the module docstring). A read-only mapping of the
    fact names to their values: that is all the rule language's sandboxed path reader may read."""

    def __init__(self, event: ToolCall) -> None:
        self.event = event
        self.args = event.arguments

    def __getitem__(self, name: str) -> Any:
        if name not in FACT_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(FACT_NAMES))

    def __len__(self) -> int:
        return len(FACT_NAMES)

    # -- who
    @cached_property
    def caller_user(self) -> str:
        """The caller's IAM user name, or its role session name (the person behind an SSO/assumed role)."""
        identity = self.args.get("user_identity")
        identity = identity if isinstance(identity, dict) else {}
        name = _text(identity.get("userName"))
        arn = _text(identity.get("arn")) or _text(self.event.agent_id)
        if not name and "/" in arn:
            name = arn.rsplit("/", 1)[-1]
        return name

    @cached_property
    def caller_role(self) -> str:
        """The role name behind an assumed-role caller."""
        match = re.match(r"^arn:[^:]+:sts::\d*:assumed-role/([^/]+)/", _text(self.event.agent_id))
        return match[1] if match else ""

    @cached_property
    def for_other_user(self) -> bool:
        """The call names an IAM user that is not the caller (a password or key for someone else)."""
        user = _text(self.args.get("userName"))
        response = self.args.get("response")
        if not user and isinstance(response, dict):
            user = _text(response.get("accessKey.userName"))
        return bool(user) and user.lower() != self.caller_user.lower()

    @cached_property
    def on_self(self) -> bool:
        """The call changes the caller's own user or role (attach/put a policy to oneself)."""
        user, role = _text(self.args.get("userName")), _text(self.args.get("roleName"))
        return bool(
            (user and user.lower() == self.caller_user.lower())
            or (role and role.lower() == self.caller_role.lower())
        )

    @cached_property
    def own_account(self) -> str | None:
        return vocab.own_account(self.event)

    # -- what
    @cached_property
    def public(self) -> bool:
        """The call opened the resource to the whole internet (vocab.public_exposure)."""
        return vocab.public_exposure(self.event) is not None

    @cached_property
    def shared_accounts(self) -> list[str]:
        """Other AWS accounts a snapshot, AMI or DB snapshot was shared with (not ``all``, not its own)."""
        own = self.own_account
        return [a for a in vocab.shared_with(self.event) if a != "all" and a != own]

    @cached_property
    def shares_outside(self) -> bool:
        return bool(self.shared_accounts)

    @cached_property
    def policy_document(self) -> Any:
        for key in ("policyDocument", "assumeRolePolicyDocument", "policy", "bucketPolicy", "policyText"):
            if key in self.args:
                return vocab.as_json(self.args[key])
        return None

    @cached_property
    def external_principals(self) -> list[str]:
        """Principals of the request's policy document that are ``*`` or another account."""
        return vocab.external_principals(self.policy_document, self.own_account)

    @cached_property
    def trust_opened(self) -> bool:
        """A role trust policy that lets ``*`` or another account assume the role."""
        return bool(self.external_principals)

    @cached_property
    def grants_everything(self) -> bool:
        """A policy document allowing Action ``*``, or an administrator managed policy."""
        arn = _text(self.args.get("policyArn"))
        return bool(_ADMIN_POLICY.search(arn)) or vocab.policy_allows_everything(self.policy_document)

    @cached_property
    def narrows_trail(self) -> bool:
        """Event selectors that drop management events or keep only reads."""
        return vocab._event_selectors_narrowed(self.args)

    @cached_property
    def instance_type(self) -> str:
        return _text(self.args.get("instanceType"))

    @cached_property
    def unusual_instances(self) -> bool:
        """GPU/accelerated or bare-metal instance types, or many instances in one call."""
        if _UNUSUAL_INSTANCE.search(self.instance_type):
            return True
        counts = [v for k, v in vocab.walk(self.args.get("instancesSet")) if k in ("maxCount", "minCount")]
        return any(isinstance(c, int) and c >= _MANY_INSTANCES for c in counts)

    @cached_property
    def layers(self) -> list[str]:
        """Lambda layers the call attaches (in the request, or the response when the request omits them)."""
        found = vocab.texts(self.args.get("layers"))
        response = self.args.get("response")
        if not found and isinstance(response, dict):
            found = vocab.texts(response.get("layers"))
        return found

    @cached_property
    def with_decryption(self) -> bool:
        return vocab._truthy(self.args.get("withDecryption"))

    @cached_property
    def request_text(self) -> str:
        """The request parameters as one lower-case text (for flags buried in nested structures)."""
        request = {k: v for k, v in self.args.items() if k not in _CONTEXT_KEYS}
        return json.dumps(request, default=str, sort_keys=True).lower()

    @cached_property
    def cross_region(self) -> bool:
        """A copy whose source region differs from the region the call ran in."""
        source = _text(self.args.get("sourceRegion"))
        if not source:
            arn = _text(self.args.get("sourceDBSnapshotIdentifier")) or _text(
                self.args.get("sourceDBClusterSnapshotIdentifier")
            )
            parts = arn.split(":")
            source = parts[3] if arn.startswith("arn:") and len(parts) > 3 else ""
        region = _text(self.args.get("aws_region"))
        return bool(source and region and source != region)

    @cached_property
    def policy_public(self) -> bool:
        """A resource policy anywhere in the request (SQS/SNS attributes, domain access policies …, as a
        JSON string or an object) whose Allow statement lets ``*`` in, not held to an org, account or
        network by a condition."""
        for key, value in _entries(self.args):
            if key.lower() in _POLICY_KEYS and value and "*" in vocab.allowed_principals(value):
                return True
        return False

    # -- whose: accounts other than the one the call ran in
    @cached_property
    def caller_from_other_account(self) -> bool:
        """The caller belongs to another AWS account than the one whose trail recorded the call (a
        cross-account principal reading or changing this account's resources)."""
        identity = self.args.get("user_identity")
        caller = _text(identity.get("accountId")) if isinstance(identity, dict) else ""
        own = self.own_account or ""
        return bool(_ACCOUNT_ID.fullmatch(caller) and _ACCOUNT_ID.fullmatch(own) and caller != own)

    @cached_property
    def resource_accounts_outside(self) -> list[str]:
        """Accounts other than the own one that own a resource the call touched (CloudTrail's
        ``resources``: the other bucket of a CopyObject, the KMS key that encrypted it)."""
        own = self.own_account
        found = [
            _text(item.get("accountId"))
            for item in self.args.get("aws_resources") or []
            if isinstance(item, dict)
        ]
        return sorted({a for a in found if _ACCOUNT_ID.fullmatch(a) and own and a != own})

    @cached_property
    def kms_key_outside(self) -> str:
        """The ARN of the KMS key an S3 write encrypts with, when another account owns it: objects only
        that account can decrypt (the S3 ransomware pattern)."""
        for key in _SSE_KMS_KEYS:
            arn = _text(self.args.get(key))
            account = vocab.account_of(arn) if arn.startswith("arn:") else None
            if account and self.own_account and account != self.own_account:
                return arn
        return ""

    @cached_property
    def customer_key_encryption(self) -> bool:
        """An S3 write encrypted with a key the caller supplies and AWS never keeps (SSE-C): whoever holds
        the key alone can read the object again."""
        return any(_text(self.args.get(key)) for key in _SSE_C_KEYS)

    @cached_property
    def short_expiration(self) -> bool:
        """An enabled lifecycle rule that expires objects within ``SHORT_EXPIRY_DAYS`` days."""
        stack: list[Any] = [self.args]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                expiration = item.get("Expiration")
                enabled = str(item.get("Status", "")).lower() == "enabled"
                if enabled and isinstance(expiration, dict) and _small_number(expiration.get("Days")):
                    return True
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
        return False

    @cached_property
    def instance_credentials_outside(self) -> bool:
        """Role credentials of an EC2 instance (the session is named after the instance id) used from a
        public address, not through an AWS service and not by the SSM agent's own endpoints."""
        match = re.match(
            r"^arn:[^:]+:sts::\d*:assumed-role/[^/]+/(i-[0-9a-f]{8,17})$", _text(self.event.agent_id)
        )
        if not match:
            return False
        identity = self.args.get("user_identity")
        if isinstance(identity, dict) and identity.get("invokedBy"):
            return False
        if _text(self.args.get("event_source")).split(".", 1)[0] in _INSTANCE_AGENT_SERVICES:
            return False
        try:
            address = ipaddress.ip_address(_text(self.args.get("source_ip")))
        except ValueError:
            return False  # "AWS Internal" or a service host name
        return address.is_global


SHORT_EXPIRY_DAYS = 3
_ACCOUNT_ID = re.compile(r"\d{12}")
# S3 request parameters naming the SSE-KMS key, and those of a customer-provided key (SSE-C).
_SSE_KMS_KEYS = ("x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId")
_SSE_C_KEYS = (
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-copy-source-server-side-encryption-customer-algorithm",
    "SSECustomerAlgorithm",
)
_POLICY_KEYS = frozenset({"policy", "accesspolicies", "policytext", "resourcepolicy", "bucketpolicy"})
# Services an instance's own agents call with the instance role (SSM agent, EC2 messages).
_INSTANCE_AGENT_SERVICES = frozenset({"ssm", "ssmmessages", "ec2messages"})


def _entries(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of a nested JSON value, containers included (``vocab.walk`` yields scalars only:
    a policy given as an object, not a JSON string, would be missed)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                yield str(key), child
                if isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(child for child in item if isinstance(child, dict | list))


def _small_number(value: Any) -> bool:
    try:
        return 0 < int(value) <= SHORT_EXPIRY_DAYS
    except (TypeError, ValueError):
        return False


# Keys the cloudtrail adapter adds beside requestParameters (docs/adapters.md).
_CONTEXT_KEYS = CONTEXT_KEYS


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


# Read once: the models' field table is slow to reach per call. A CallView only ever wraps a ToolCall.
_FIELD_NAMES = tuple(ToolCall.model_fields)
_FIELDS = frozenset(_FIELD_NAMES)


class CallView(Mapping[str, Any]):
    """What a table condition reads: the event's contract fields, and ``facts`` (a read-only mapping, so
    the rule language's sandboxed path reader can read it and nothing else)."""

    def __init__(self, event: ToolCall) -> None:
        self._event = event
        self.facts = CallFacts(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._event, name)

    def __getitem__(self, name: str) -> Any:
        if name == "facts":
            return self.facts
        if name in _FIELDS:
            return getattr(self._event, name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(("facts", *_FIELD_NAMES))

    def __len__(self) -> int:
        return 1 + len(_FIELD_NAMES)


def render(template: str, view: CallView) -> str:
    def value(match: re.Match[str]) -> str:
        found = read_path(view, tuple(match[1].split(".")))
        if isinstance(found, list | tuple):
            return ", ".join(str(v) for v in found) or "-"
        return "-" if found is None else str(found)

    return _PLACEHOLDER.sub(value, template)


# The facts a condition may read: the public computed properties of CallFacts.
FACT_NAMES = frozenset(
    name
    for name, value in vars(CallFacts).items()
    if isinstance(value, cached_property) and not name.startswith("_")
)
