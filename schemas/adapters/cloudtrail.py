"""``cloudtrail``: AWS CloudTrail records (``{"Records": [...]}``, a JSON array, or JSON lines).

Every record becomes one :class:`ToolCall`; STS/IAM calls that mint or revoke credentials also yield a
:class:`CredentialEvent`. The field-by-field mapping and the known gaps are in ``docs/adapters.md``.
Pure functions: the same file always yields the same events (ids and times come from the records).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.adapters.base import Parsed, parse_records, parse_time, split_records
from schemas.adapters.records import DEFAULT_MAX_RECORD_BYTES
from schemas.errors import InvalidRecord
from schemas.events import AnyEvent, CredentialEvent, ToolCall
from schemas.ids import record_id
from schemas.redaction import is_secret_key
from schemas.types import CredentialAction, Decision, Environment, Outcome

NAME = "cloudtrail"
SOURCE = "cloudtrail"

# STS calls whose response carries a new temporary credential.
STS_ISSUE = frozenset(
    {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetSessionToken", "GetFederationToken"}
)
# Identity types that are a person's own long-lived identity.
HUMAN_IDENTITY_TYPES = frozenset({"IAMUser", "Root"})

# AWS appends the API version to some event names (Lambda: ``UpdateFunctionCode20150331v2``).
_API_VERSION_SUFFIX = re.compile(r"(?:19|20)\d{6}(?:v\d+)?$")
_ARN_IN_TEXT = re.compile(r"\bon resource: (arn:[^\s,;]+)")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# "Nov 30, 2024, 8:43:17 PM" (STS expiration) and "Jul 30, 2024 9:53:13 PM" (IAM createDate).
_AWS_CONSOLE_TIME = re.compile(
    r"^([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ?([AaPp][Mm])$"
)
_MAX_RESPONSE_FIELDS = 16


def looks_like(first_record: Any) -> bool:
    if not isinstance(first_record, dict):
        return False
    records = first_record.get("Records")
    if isinstance(records, list):
        return not records or looks_like(records[0])
    return "eventSource" in first_record and "eventName" in first_record


def parse(data: bytes, origin: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Parsed]:
    records = split_records(data, unwrap_key="Records", max_record_bytes=max_record_bytes)
    return parse_records(records, origin, parse_record)


# ---------------------------------------------------------------------------------------------- identity


@dataclass(frozen=True, slots=True)
class _Caller:
    type: str | None
    session_id: str
    agent_id: str | None
    principal: str | None
    credential_id: str | None
    arn: str | None


def _text(value: Any) -> str | None:
    """A non-empty string form of a scalar, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def _caller(record: dict[str, Any]) -> _Caller:
    identity = record.get("userIdentity")
    if identity is None:
        identity = {}
    if not isinstance(identity, dict):
        raise InvalidRecord(
            f"userIdentity must be an object, got {type(identity).__name__}",
            field="userIdentity",
            fix="give userIdentity as CloudTrail writes it (an object with type, arn, …)",
        )
    kind = _text(identity.get("type"))
    arn = _text(identity.get("arn"))
    key = _text(identity.get("accessKeyId"))
    account = _text(identity.get("accountId")) or _text(record.get("recipientAccountId"))
    user_name = _text(identity.get("userName"))
    principal_id = _text(identity.get("principalId"))
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
    issuer_arn = _text(issuer.get("arn")) if isinstance(issuer, dict) else None

    if kind in ("AssumedRole", "FederatedUser"):
        agent = arn or principal_id
        session = arn or (f"aws-key:{key}" if key else None)
        principal = issuer_arn or _role_of_session(arn)
    elif kind == "IAMUser":
        if not arn and user_name and account:
            arn = f"arn:{_partition(identity)}:iam::{account}:user/{user_name}"
        agent = arn or user_name
        session = f"aws-key:{key}" if key else agent
        principal = arn or user_name
    elif kind == "AWSService":
        invoked_by = _text(identity.get("invokedBy"))
        agent = arn or invoked_by
        session = arn or (f"aws-service:{invoked_by}" if invoked_by else None)
        principal = agent
    else:  # Root, AWSAccount, SAMLUser, WebIdentityUser, IdentityCenterUser, unknown
        label = user_name or principal_id or account
        agent = arn or (f"{kind}:{label}" if kind and label else None)
        session = agent
        principal = agent
    if not session:
        session = f"aws-{(kind or 'unknown').lower()}:{account or 'unknown'}"
    return _Caller(kind, session, agent, principal, key, arn)


def _partition(identity: dict[str, Any]) -> str:
    arn = _text(identity.get("arn")) or ""
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def _role_of_session(session_arn: str | None) -> str | None:
    """``arn:aws:sts::1:assumed-role/R/S`` -> ``arn:aws:iam::1:role/R`` (path unknown)."""
    if not session_arn:
        return None
    match = re.match(r"^arn:([^:]+):sts::(\d*):assumed-role/([^/]+)/", session_arn)
    if not match:
        return None
    return f"arn:{match[1]}:iam::{match[2]}:role/{match[3]}"


# ---------------------------------------------------------------------------------------------- target


@dataclass(frozen=True, slots=True)
class _Where:
    partition: str
    region: str
    account: str
    service: str

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


def _is_arn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("arn:")


def _first_text(value: Any) -> str | None:
    if isinstance(value, list):
        for item in value:
            text = _text(item)
            if text:
                return text
        return None
    return _text(value)


Builder = Callable[[str, _Where], str | None]


def _ssm_parameter(name: str, w: _Where) -> str | None:
    return w.arn("ssm", "parameter/" + name.lstrip("/")) if w.service == "ssm" else None


def _name(name: str, w: _Where) -> str | None:
    if w.service == "cloudtrail":
        return w.arn("cloudtrail", f"trail/{name}")
    return _ssm_parameter(name, w)


def _instance(value: str, w: _Where) -> str | None:
    return w.arn("ec2", f"instance/{value}") if value.startswith(("i-", "mi-")) else None


# requestParameters keys naming the resource a call acts on, most specific first. Entities (user, role)
# come before the policy attached to them: AttachUserPolicy targets the user, the policy stays in arguments.
_SUBJECT_KEYS: list[tuple[str, Builder]] = [
    ("resourceArn", lambda v, w: None),
    ("roleArn", lambda v, w: None),
    ("userName", lambda v, w: w.arn("iam", f"user/{v}", region=False)),
    ("roleName", lambda v, w: w.arn("iam", f"role/{v}", region=False)),
    ("groupName", lambda v, w: w.arn("iam", f"group/{v}", region=False)),
    ("instanceProfileName", lambda v, w: w.arn("iam", f"instance-profile/{v}", region=False)),
    ("policyArn", lambda v, w: None),
    ("bucketName", lambda v, w: w.arn("s3", v, region=False, account=False)),
    ("functionName", lambda v, w: w.arn("lambda", f"function:{v}")),
    ("secretId", lambda v, w: w.arn("secretsmanager", f"secret:{v}")),
    ("trailName", lambda v, w: w.arn("cloudtrail", f"trail/{v}")),
    ("name", _name),
    ("names", _ssm_parameter),
    ("instanceId", _instance),
    ("instanceIds", _instance),
    ("target", _instance),
    ("snapshotId", lambda v, w: w.arn("ec2", f"snapshot/{v}", account=False)),
    ("imageId", lambda v, w: w.arn("ec2", f"image/{v}", account=False)),
    ("groupId", lambda v, w: w.arn("ec2", f"security-group/{v}")),
    ("volumeId", lambda v, w: w.arn("ec2", f"volume/{v}")),
    ("dBSnapshotIdentifier", lambda v, w: w.arn("rds", f"snapshot:{v}")),
    ("dBInstanceIdentifier", lambda v, w: w.arn("rds", f"db:{v}")),
    ("modelId", lambda v, w: w.arn("bedrock", f"foundation-model/{v}", account=False)),
    ("sessionId", lambda v, w: w.arn("ssm", f"session/{v}") if w.service == "ssm" else None),
    ("keyId", lambda v, w: w.arn("kms", f"key/{v}")),
    ("logGroupName", lambda v, w: w.arn("logs", f"log-group:{v}")),
    ("flowLogId", lambda v, w: w.arn("ec2", f"vpc-flow-log/{v}")),
]


def _instances_set(params: dict[str, Any]) -> str | None:
    """An instance id in EC2's ``instancesSet.items[]`` or an SSM/EC2 ``filters`` list."""
    items = params.get("instancesSet")
    items = items.get("items") if isinstance(items, dict) else None
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and _text(item.get("instanceId")):
                return str(item["instanceId"])
    filters = params.get("filters")
    if isinstance(filters, list):
        for item in filters:
            if isinstance(item, dict) and item.get("key") in ("InstanceIds", "instance-id"):
                value = _first_text(item.get("values"))
                if value:
                    return value
    return None


def _unwrap_ec2_request(params: dict[str, Any]) -> dict[str, Any]:
    """EC2's XML-style ``{"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-…"}}}`` made flat."""
    if len(params) != 1:
        return params
    ((key, inner),) = params.items()
    if not (key.endswith("Request") and isinstance(inner, dict)):
        return params
    flat: dict[str, Any] = {}
    for name, value in inner.items():
        if isinstance(value, dict) and "content" in value:
            value = value["content"]
        flat[name[:1].lower() + name[1:]] = value
    return flat


def _response_arns(response: Any) -> Iterator[str]:
    """ARNs of what the call created or changed: ``arn``/``<name>Arn`` at the top or one level down."""
    if not isinstance(response, dict):
        return
    for key in ("arn", "functionArn", "trailARN", "trailArn"):
        if _is_arn(response.get(key)):
            yield response[key]
    for key, child in response.items():
        if isinstance(child, dict):
            for name in ("arn", f"{key}Arn", f"{key}ARN"):
                if _is_arn(child.get(name)):
                    yield child[name]


def _target(record: dict[str, Any], params: dict[str, Any], where: _Where) -> str | None:
    # 1. CloudTrail's own resources list.
    resources = record.get("resources")
    if isinstance(resources, list):
        for resource in resources:
            if isinstance(resource, dict) and _is_arn(resource.get("ARN")):
                return str(resource["ARN"])
    params = _unwrap_ec2_request(params)
    # 2. A subject parameter that already is an ARN (policyArn only after the entities, below).
    for key, _build in _SUBJECT_KEYS:
        value = _first_text(params.get(key))
        if key != "policyArn" and value and value.startswith("arn:"):
            return value
    # 3. The ARN of what the response created (CreateUser's user.arn, PutEventSelectors' trailARN, …).
    for arn in _response_arns(record.get("responseElements")):
        return arn
    # 4. Built from a name in the request.
    instance = _instances_set(params)
    for key, build in _SUBJECT_KEYS:
        value = _first_text(params.get(key))
        if not value:
            continue
        if value.startswith("arn:"):
            return value
        built = build(value, where)
        if built:
            return built
    if instance:
        return where.arn("ec2", f"instance/{instance}")
    # 5. Any ARN among the request parameters, then the resource named in an AccessDenied message.
    for value in params.values():
        first = _first_text(value)
        if first and first.startswith("arn:"):
            return first
    match = _ARN_IN_TEXT.search(str(record.get("errorMessage") or ""))
    return match[1] if match else None


# ---------------------------------------------------------------------------------------------- helpers


def _tool(event_source: str) -> str:
    return event_source.split(".", 1)[0] or event_source


def _action(event_name: str) -> str:
    short = _API_VERSION_SUFFIX.sub("", event_name)
    return short or event_name


def _outcome(record: dict[str, Any]) -> Outcome:
    code = _text(record.get("errorCode"))
    if code:
        if "AccessDenied" in code or "Unauthorized" in code:
            return Outcome.DENIED
        return Outcome.ERROR
    # Sign-in events (ConsoleLogin, PasswordUpdated, ExternalIdPDirectoryLogin, SwitchRole, …) carry no
    # errorCode when they fail: the response says ``{"<eventName>": "Failure"}``.
    response = record.get("responseElements")
    if isinstance(response, dict) and response.get(str(record.get("eventName"))) == "Failure":
        return Outcome.DENIED
    return Outcome.SUCCESS


# Response keys kept beside identifiers: states and types that say what the call did (``snapshotType``
# tells a manual RDS snapshot from an automated one).
_RESPONSE_KEYS = frozenset(
    {"arn", "status", "expiration", "userName", "roleName", "ConsoleLogin", "snapshotType"}
)


def _resource_summary(resources: Any) -> list[dict[str, str]] | None:
    """CloudTrail's ``resources`` list (type, ARN, owning account): who owns what a data event touched,
    e.g. the two buckets of a CopyObject or the KMS key of another account. At most 16 entries."""
    if not isinstance(resources, list):
        return None
    kept: list[dict[str, str]] = []
    for resource in resources[:_MAX_RESPONSE_FIELDS]:
        if not isinstance(resource, dict):
            continue
        item = {
            name: text
            for name, key in (("type", "type"), ("arn", "ARN"), ("arn", "arn"), ("accountId", "accountId"))
            if (text := _text(resource.get(key))) is not None
        }
        if item:
            kept.append(item)
    return kept or None


def _response_summary(response: Any) -> dict[str, Any]:
    """Identifiers from responseElements (new key id, user ARN, status, expiry); never a secret."""
    summary: dict[str, Any] = {}

    def wanted(key: str, value: Any) -> bool:
        if is_secret_key(key) or key in ("requestId", "xmlns"):
            return False
        if isinstance(value, bool):  # flags such as publiclyAccessible, deletionProtection
            return True
        return key in _RESPONSE_KEYS or key.endswith(("Arn", "ARN", "Id"))

    def walk(value: dict[str, Any], prefix: str, depth: int) -> None:
        for key, child in value.items():
            if len(summary) >= _MAX_RESPONSE_FIELDS:
                return
            path = f"{prefix}{key}"
            if isinstance(child, dict) and depth < 2:
                walk(child, path + ".", depth + 1)
            elif wanted(str(key), child) and (isinstance(child, bool) or _text(child) is not None):
                summary[path] = child
            elif key == "layers" and isinstance(child, list):  # Lambda layers: the code that runs first
                arns = [
                    item.get("arn") for item in child if isinstance(item, dict) and _is_arn(item.get("arn"))
                ]
                if arns:
                    summary[path] = arns[:8]

    if isinstance(response, dict):
        walk(response, "", 0)
    return summary


# userIdentity keys kept on the event (issue 13: identity kinds and Sigma's ``userIdentity.*`` fields); the
# access key id is the event's credential_id already.
_IDENTITY_KEYS = ("type", "arn", "principalId", "accountId", "userName", "invokedBy", "identityProvider")
_ISSUER_KEYS = ("type", "arn", "userName", "principalId", "accountId")


def _identity_summary(identity: Any) -> dict[str, Any] | None:
    """The caller as CloudTrail describes it, without secrets: who, through which role, from where."""
    if not isinstance(identity, dict):
        return None
    summary: dict[str, Any] = {k: identity[k] for k in _IDENTITY_KEYS if _text(identity.get(k)) is not None}
    if _text(identity.get("sessionCredentialFromConsole")) is not None:
        summary["sessionCredentialFromConsole"] = str(identity["sessionCredentialFromConsole"]).lower()
    context = identity.get("sessionContext")
    if isinstance(context, dict):
        kept: dict[str, Any] = {}
        issuer = context.get("sessionIssuer")
        if isinstance(issuer, dict):
            kept["sessionIssuer"] = {k: issuer[k] for k in _ISSUER_KEYS if _text(issuer.get(k)) is not None}
        attributes = context.get("attributes")
        if isinstance(attributes, dict) and _text(attributes.get("mfaAuthenticated")) is not None:
            kept["attributes"] = {"mfaAuthenticated": str(attributes["mfaAuthenticated"]).lower()}
        if _text(context.get("sourceIdentity")) is not None:
            kept["sourceIdentity"] = context["sourceIdentity"]
        if kept:
            summary["sessionContext"] = kept
    return summary or None


def parse_aws_time(value: Any) -> datetime | None:
    """ISO-8601, epoch numbers, or the console form "Nov 30, 2024, 8:43:17 PM" (UTC); None if unreadable."""
    if isinstance(value, str):
        match = _AWS_CONSOLE_TIME.match(value.strip())
        if match:
            month = _MONTHS.get(match[1].lower())
            if month is None:
                return None
            hour = int(match[4]) % 12 + (12 if match[7].lower() == "pm" else 0)
            try:
                return datetime(
                    int(match[3]), month, int(match[2]), hour, int(match[5]), int(match[6]), tzinfo=UTC
                )
            except ValueError:
                return None
    try:
        return parse_time(value, field="expiration")
    except (InvalidRecord, ValueError, OverflowError, OSError):
        return None


def _policy_scopes(policy: Any) -> tuple[str, ...]:
    """Actions and resources an inline session policy allows (``*`` for NotAction: over-approximated)."""
    if isinstance(policy, str):
        try:
            policy = orjson.loads(policy)
        except orjson.JSONDecodeError:
            return ()
    if not isinstance(policy, dict):
        return ()
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    scopes: list[str] = []
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict) or statement.get("Effect", "Allow") != "Allow":
            continue
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            values = statement.get(key)
            for value in values if isinstance(values, list) else [values]:
                text = _text(value)
                if text is None:
                    continue
                scope = "*" if key.startswith("Not") else text
                if scope not in scopes:
                    scopes.append(scope)
    return tuple(scopes)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# ---------------------------------------------------------------------------------------------- credentials


def _credential_events(
    record: dict[str, Any],
    *,
    action: str,
    event_id: str,
    event_time: datetime,
    caller: _Caller,
    params: dict[str, Any],
    where: _Where,
) -> Iterator[CredentialEvent]:
    if _text(record.get("errorCode")):
        return
    response = record.get("responseElements")
    response = response if isinstance(response, dict) else {}
    common: dict[str, Any] = {
        "event_id": f"{event_id}:credential",
        "event_time": event_time,
        "source": SOURCE,
        "agent_id": caller.agent_id,
        "principal": caller.principal,
    }
    tool = _tool(str(record.get("eventSource")))

    if tool == "sts" and action in STS_ISSUE:
        credentials = response.get("credentials")
        key = _text(credentials.get("accessKeyId")) if isinstance(credentials, dict) else None
        if not key:
            return
        assumed = response.get("assumedRoleUser")
        federated = response.get("federatedUser")
        subject = (_text(assumed.get("arn")) if isinstance(assumed, dict) else None) or (
            _text(federated.get("arn")) if isinstance(federated, dict) else None
        )
        if action == "GetSessionToken":
            subject = subject or caller.arn or caller.agent_id
            session = f"aws-key:{key}"
        else:
            session = subject or f"aws-key:{key}"
        expires_at = parse_aws_time(credentials.get("expiration")) if isinstance(credentials, dict) else None
        duration = _as_int(params.get("durationSeconds"))
        if duration is not None and duration >= 0:
            ttl: float | None = float(duration)
            expires_at = expires_at or event_time + timedelta(seconds=duration)
        elif expires_at is not None and expires_at >= event_time:
            ttl = (expires_at - event_time).total_seconds()
        else:
            ttl = None
        scopes = list(_policy_scopes(params.get("policy")))
        for item in params.get("policyArns") or []:
            arn = _text(item.get("arn")) if isinstance(item, dict) else _text(item)
            if arn and arn not in scopes:
                scopes.append(arn)
        yield CredentialEvent(
            **common,
            session_id=session,
            credential_id=key,
            action=CredentialAction.ISSUED,
            subject=subject,
            on_behalf_of=caller.agent_id,
            scopes=tuple(scopes),
            ttl_seconds=ttl,
            expires_at=expires_at,
            issuer="aws-sts",
            inherited_from_human=caller.type in HUMAN_IDENTITY_TYPES,
        )
        return

    if tool != "iam":
        return
    if action == "CreateAccessKey":
        access_key = response.get("accessKey")
        access_key = access_key if isinstance(access_key, dict) else {}
        key = _text(access_key.get("accessKeyId"))
        if not key:
            return
        user = _text(access_key.get("userName")) or _text(params.get("userName"))
        subject = where.arn("iam", f"user/{user}", region=False) if user else (caller.arn or caller.agent_id)
        yield CredentialEvent(
            **common,
            session_id=f"aws-key:{key}",
            credential_id=key,
            action=CredentialAction.ISSUED,
            subject=subject,
            on_behalf_of=caller.agent_id,
            ttl_seconds=None,
            issuer="aws-iam",
            inherited_from_human=caller.type == "IAMUser" and subject == caller.arn,
        )
    elif action == "DeleteAccessKey" or (
        action == "UpdateAccessKey" and str(params.get("status", "")).lower() == "inactive"
    ):
        key = _text(params.get("accessKeyId"))
        if not key:
            return
        user = _text(params.get("userName"))
        subject = where.arn("iam", f"user/{user}", region=False) if user else (caller.arn or caller.agent_id)
        yield CredentialEvent(
            **common,
            session_id=f"aws-key:{key}",
            credential_id=key,
            action=CredentialAction.REVOKED,
            subject=subject,
            on_behalf_of=caller.agent_id,
            issuer="aws-iam",
        )


# ---------------------------------------------------------------------------------------------- records

# Keys the adapter adds to ``arguments`` beside ``requestParameters`` (never overwriting one); readers that
# want the request alone (Sigma's ``requestParameters``, the table's ``facts.request_text``) drop these.
CONTEXT_KEYS = frozenset(
    {
        "aws_region", "aws_account", "source_ip", "user_agent", "read_only", "error_code", "error_message",
        "response", "event_source", "event_type", "user_identity", "aws_resources", "additional",
    }
)  # fmt: skip


def parse_record(value: Any, origin: str, record_no: int) -> Iterator[AnyEvent]:
    """One CloudTrail record -> a ToolCall, plus a CredentialEvent for credential-minting/revoking calls."""
    if not isinstance(value, dict):
        raise InvalidRecord(
            f"expected a JSON object, got {type(value).__name__}",
            fix='each record must be one CloudTrail event object ({"eventName": …, "eventTime": …})',
        )
    event_time = parse_time(value.get("eventTime"), field="eventTime")
    event_name = _text(value.get("eventName"))
    if not event_name:
        raise InvalidRecord(
            "missing eventName", field="eventName", fix="every CloudTrail record has eventName"
        )
    event_source = _text(value.get("eventSource"))
    if not event_source:
        raise InvalidRecord(
            "missing eventSource", field="eventSource", fix="give the service, e.g. iam.amazonaws.com"
        )
    caller = _caller(value)
    event_id = _text(value.get("eventID")) or record_id(SOURCE, value)

    raw_params = value.get("requestParameters")
    if raw_params is None:
        params: dict[str, Any] = {}
    elif isinstance(raw_params, dict):
        params = raw_params
    else:
        params = {"requestParameters": raw_params}
    identity = value.get("userIdentity") or {}
    where = _Where(
        partition=_partition(identity),
        region=_text(value.get("awsRegion")) or "",
        account=_text(value.get("recipientAccountId")) or _text(identity.get("accountId")) or "",
        service=_tool(event_source),
    )
    action = _action(event_name)

    arguments = dict(params)
    context = {
        "aws_region": value.get("awsRegion"),
        "aws_account": value.get("recipientAccountId"),
        "source_ip": value.get("sourceIPAddress"),
        "user_agent": value.get("userAgent"),
        "read_only": value.get("readOnly"),
        "error_code": value.get("errorCode"),
        "error_message": value.get("errorMessage"),
        "response": _response_summary(value.get("responseElements")) or None,
        "event_source": event_source,
        "event_type": value.get("eventType"),
        "user_identity": _identity_summary(value.get("userIdentity")),
        "aws_resources": _resource_summary(value.get("resources")),
        # e.g. {"MFAUsed": "No", "LoginTo": …} on console logins: what the sign-in looked like
        "additional": value.get("additionalEventData")
        if isinstance(value.get("additionalEventData"), dict)
        else None,
    }
    for key, item in context.items():
        if item is not None and key not in arguments:
            arguments[key] = item

    outcome = _outcome(value)
    error_code = _text(value.get("errorCode"))
    error_message = _text(value.get("errorMessage"))
    summary = ": ".join(part for part in (error_code, error_message) if part) or None

    yield ToolCall(
        event_id=event_id,
        event_time=event_time,
        source=SOURCE,
        session_id=caller.session_id,
        agent_id=caller.agent_id,
        principal=caller.principal,
        tool=_tool(event_source),
        action=action,
        target=_target(value, params, where),
        environment=Environment.UNKNOWN,
        arguments=arguments,
        outcome=outcome,
        decision=Decision.DENIED if outcome is Outcome.DENIED else Decision.ALLOWED_BY_RULE,
        credential_id=caller.credential_id,
        result_summary=summary,
    )
    yield from _credential_events(
        value,
        action=action,
        event_id=event_id,
        event_time=event_time,
        caller=caller,
        params=params,
        where=where,
    )
