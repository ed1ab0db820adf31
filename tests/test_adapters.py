"""Source adapters: CloudTrail and OpenAI-style chat transcripts, on real files and small inline fixtures."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.adapters import ADAPTERS, DeadLetter, Parsed, cloudtrail, detect_format, openai_chat, parse_bytes
from schemas.adapters.cloudtrail import CONTEXT_KEYS
from schemas.events import MAX_TEXT, CredentialEvent, SessionEvent, ToolCall, event_from_json, event_to_json
from schemas.ids import record_id
from schemas.redaction import redact_text
from schemas.types import CredentialAction, Decision, Environment, Outcome, SessionAction
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA
STRATUS = SHARED / "cloudtrail" / "stratus-red-team"
TAU_BENCH = SHARED / "transcripts" / "tau-bench" / "gpt-4o-airline.json"
STRATUS_FILES = sorted(STRATUS.glob("*.json")) if STRATUS.is_dir() else []


def shared(*paths: Path) -> pytest.MarkDecorator:
    missing = [p for p in paths if not p.exists()]
    return pytest.mark.skipif(bool(missing), reason=f"shared data absent: {missing}")


def events_of(parsed: list[Parsed]) -> list[ToolCall | CredentialEvent | SessionEvent]:
    return [p for p in parsed if not isinstance(p, DeadLetter)]


def dead_of(parsed: list[Parsed]) -> list[DeadLetter]:
    return [p for p in parsed if isinstance(p, DeadLetter)]


def ct(data: bytes, origin: str = "trail.json") -> list[Parsed]:
    return list(cloudtrail.parse(data, origin))


def chat(data: bytes, origin: str = "chats.jsonl") -> list[Parsed]:
    return list(openai_chat.parse(data, origin))


def walk(value: Any) -> Any:
    """Every (key, value) pair of a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield key, child
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)


def test_registry_names() -> None:
    assert cloudtrail.NAME == "cloudtrail"
    assert openai_chat.NAME == "openai-chat"
    assert ADAPTERS["cloudtrail"] is cloudtrail and ADAPTERS["openai-chat"] is openai_chat


# ============================================================================================ CloudTrail
# Inline records, written for these tests (account 111122223333 and keys are AWS's documentation examples).

ACCOUNT = "111122223333"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
ALICE = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLEALICE",
    "arn": USER_ARN,
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "userName": "alice",
}
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/agent-7"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deployer"
AGENT_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLE:agent-7",
    "arn": ROLE_SESSION,
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLENEWKEY001",
    "sessionContext": {
        "sessionIssuer": {"type": "Role", "arn": ROLE_ARN, "userName": "deployer", "accountId": ACCOUNT},
        "attributes": {"creationDate": "2024-05-01T10:00:00Z", "mfaAuthenticated": "false"},
    },
}
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEtokenTOKENtokenTOKENtokenTOKEN0123456789abcdefABCDEF+/=="


def rec(name: str, source: str = "iam.amazonaws.com", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "agent-runtime/1.0",
        "userIdentity": ALICE,
        "requestParameters": None,
        "responseElements": None,
        "readOnly": False,
        "eventID": f"id-{name}",
        "recipientAccountId": ACCOUNT,
    }
    record.update(extra)
    return record


ASSUME_ROLE = rec(
    "AssumeRole",
    "sts.amazonaws.com",
    eventTime="2024-05-01T10:00:00Z",
    requestParameters={"roleArn": ROLE_ARN, "roleSessionName": "agent-7", "durationSeconds": 3600},
    responseElements={
        "credentials": {
            "accessKeyId": "ASIAEXAMPLENEWKEY001",
            "sessionToken": SESSION_TOKEN,
            "expiration": "May 1, 2024, 11:00:00 AM",
        },
        "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:agent-7", "arn": ROLE_SESSION},
    },
    resources=[{"ARN": ROLE_ARN, "accountId": ACCOUNT, "type": "AWS::IAM::Role"}],
)
AGENT_CALL = rec(
    "UpdateFunctionCode20150331v2",
    "lambda.amazonaws.com",
    eventTime="2024-05-01T10:05:00Z",
    userIdentity=AGENT_ROLE,
    requestParameters={"functionName": "billing-export", "publish": True},
)
DENIED_CALL = rec(
    "DeleteTrail",
    "cloudtrail.amazonaws.com",
    eventTime="2024-05-01T10:06:00Z",
    userIdentity=AGENT_ROLE,
    requestParameters={"name": "org-trail"},
    errorCode="AccessDenied",
    errorMessage="User is not authorized to perform: cloudtrail:DeleteTrail",
)
CREATE_KEY = rec(
    "CreateAccessKey",
    eventTime="2024-05-01T10:07:00Z",
    requestParameters={"userName": "svc-export"},
    responseElements={
        "accessKey": {
            "accessKeyId": "AKIAEXAMPLESVCKEY001",
            "status": "Active",
            "userName": "svc-export",
            "createDate": "May 1, 2024 10:07:00 AM",
        }
    },
)
DEACTIVATE_KEY = rec(
    "UpdateAccessKey",
    eventTime="2024-05-01T10:08:00Z",
    requestParameters={"userName": "svc-export", "accessKeyId": "AKIAEXAMPLESVCKEY001", "status": "Inactive"},
)
DELETE_KEY = rec(
    "DeleteAccessKey",
    eventTime="2024-05-01T10:09:00Z",
    requestParameters={"userName": "svc-export", "accessKeyId": "AKIAEXAMPLESVCKEY001"},
)
INLINE_RECORDS = [ASSUME_ROLE, AGENT_CALL, DENIED_CALL, CREATE_KEY, DEACTIVATE_KEY, DELETE_KEY]


def as_records(records: list[Any]) -> bytes:
    return orjson.dumps({"Records": records})


def as_array(records: list[Any]) -> bytes:
    return orjson.dumps(records, option=orjson.OPT_INDENT_2)


def as_lines(records: list[Any]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def test_cloudtrail_inline_mapping() -> None:
    parsed = ct(as_records(INLINE_RECORDS))
    assert not dead_of(parsed)
    calls = [e for e in parsed if isinstance(e, ToolCall)]
    creds = [e for e in parsed if isinstance(e, CredentialEvent)]
    assert len(calls) == len(INLINE_RECORDS)
    assert [c.event_id for c in calls] == [r["eventID"] for r in INLINE_RECORDS]
    assert [(c.action.value, c.credential_id) for c in creds] == [
        ("issued", "ASIAEXAMPLENEWKEY001"),
        ("issued", "AKIAEXAMPLESVCKEY001"),
        ("revoked", "AKIAEXAMPLESVCKEY001"),
        ("revoked", "AKIAEXAMPLESVCKEY001"),
    ]
    assume, agent, denied, create, deactivate, delete = calls

    assert assume.source == "cloudtrail" and assume.tool == "sts" and assume.action == "AssumeRole"
    assert assume.target == ROLE_ARN
    assert assume.session_id == "aws-key:AKIAIOSFODNN7EXAMPLE"
    assert assume.agent_id == USER_ARN and assume.principal == USER_ARN
    assert assume.credential_id == "AKIAIOSFODNN7EXAMPLE"
    assert assume.event_time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert assume.ingest_time is None
    assert assume.environment is Environment.UNKNOWN
    assert (assume.outcome, assume.decision) == (Outcome.SUCCESS, Decision.ALLOWED_BY_RULE)
    assert assume.arguments["roleSessionName"] == "agent-7"
    assert assume.arguments["aws_region"] == "us-east-1"
    assert assume.arguments["source_ip"] == "198.51.100.7"
    assert assume.arguments["user_agent"] == "agent-runtime/1.0"
    assert assume.arguments["read_only"] is False
    assert assume.arguments["response"]["credentials.accessKeyId"] == "ASIAEXAMPLENEWKEY001"
    assert assume.arguments["response"]["assumedRoleUser.arn"] == ROLE_SESSION
    assert "error_code" not in assume.arguments

    issued = creds[0]
    assert issued.event_id == "id-AssumeRole:credential"
    assert issued.session_id == ROLE_SESSION  # the session that will use the credential
    assert issued.subject == ROLE_SESSION and issued.on_behalf_of == USER_ARN
    assert issued.ttl_seconds == 3600
    assert issued.expires_at == datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    assert issued.issuer == "aws-sts" and issued.inherited_from_human is True
    assert issued.scopes == ()

    # The agent's calls land in the session the credential was issued for, and name that credential.
    assert agent.session_id == denied.session_id == ROLE_SESSION
    assert agent.credential_id == denied.credential_id == issued.credential_id
    assert agent.agent_id == ROLE_SESSION and agent.principal == ROLE_ARN
    assert agent.tool == "lambda" and agent.action == "UpdateFunctionCode"
    assert agent.target == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:billing-export"

    assert (denied.outcome, denied.decision) == (Outcome.DENIED, Decision.DENIED)
    assert denied.arguments["error_code"] == "AccessDenied"
    assert "not authorized" in denied.arguments["error_message"]
    assert denied.target == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail"

    assert create.target == f"arn:aws:iam::{ACCOUNT}:user/svc-export"
    new_key = creds[1]
    assert new_key.session_id == "aws-key:AKIAEXAMPLESVCKEY001"
    assert new_key.subject == f"arn:aws:iam::{ACCOUNT}:user/svc-export"
    assert new_key.ttl_seconds is None and new_key.expires_at is None  # long-lived
    assert new_key.issuer == "aws-iam"
    assert new_key.inherited_from_human is False  # minted for another (service) user
    assert creds[2].event_id == "id-UpdateAccessKey:credential"
    assert creds[3].event_id == "id-DeleteAccessKey:credential"
    assert creds[3].session_id == "aws-key:AKIAEXAMPLESVCKEY001"
    assert deactivate.target == delete.target == create.target


def test_cloudtrail_three_container_shapes_agree() -> None:
    shapes = [as_records(INLINE_RECORDS), as_array(INLINE_RECORDS), as_lines(INLINE_RECORDS)]
    results = [ct(data) for data in shapes]
    assert results[0] == results[1] == results[2]
    assert len(results[0]) == len(INLINE_RECORDS) + 4
    for data in shapes:
        assert detect_format(data) == "cloudtrail"
        assert list(parse_bytes(data, "trail.json")) == results[0]


def test_cloudtrail_replay_is_deterministic() -> None:
    no_id = {k: v for k, v in AGENT_CALL.items() if k != "eventID"}
    data = as_lines([*INLINE_RECORDS, no_id])
    first, second = ct(data), ct(data)
    assert first == second
    assert [event_to_json(e) for e in events_of(first)] == [event_to_json(e) for e in events_of(second)]
    last = events_of(first)[-1]
    assert last.event_id == record_id("cloudtrail", no_id)
    assert all(e.ingest_time is None for e in events_of(first))


def test_cloudtrail_event_json_round_trips() -> None:
    for event in events_of(ct(as_records(INLINE_RECORDS))):
        assert event_from_json(event_to_json(event)) == event


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("AccessDenied", Outcome.DENIED),
        ("AccessDeniedException", Outcome.DENIED),
        ("Client.UnauthorizedOperation", Outcome.DENIED),
        ("UnauthorizedAccess", Outcome.DENIED),
        ("EntityTemporarilyUnmodifiableException", Outcome.ERROR),
        ("NoSuchEntity", Outcome.ERROR),
        (None, Outcome.SUCCESS),
    ],
)
def test_cloudtrail_outcome_from_error_code(code: str | None, outcome: Outcome) -> None:
    extra = {"errorCode": code, "errorMessage": "something"} if code else {}
    (call,) = events_of(ct(orjson.dumps([rec("DeleteUser", requestParameters={"userName": "bob"}, **extra)])))
    assert isinstance(call, ToolCall)
    assert call.outcome is outcome
    assert call.decision is (Decision.DENIED if outcome is Outcome.DENIED else Decision.ALLOWED_BY_RULE)


def test_cloudtrail_failed_calls_never_issue_or_revoke() -> None:
    failed = [
        {**r, "errorCode": "AccessDenied", "errorMessage": "no"}
        for r in (ASSUME_ROLE, CREATE_KEY, DELETE_KEY, DEACTIVATE_KEY)
    ]
    parsed = ct(as_lines(failed))
    assert not dead_of(parsed)
    assert all(isinstance(e, ToolCall) for e in parsed) and len(parsed) == 4
    # The AssumeRole that was refused still names the role it tried, from resources.
    assert parsed[0].target == ROLE_ARN


def test_cloudtrail_update_access_key_active_is_not_a_revocation() -> None:
    active = {
        **DEACTIVATE_KEY,
        "requestParameters": {**DEACTIVATE_KEY["requestParameters"], "status": "Active"},
    }
    assert [type(e) for e in ct(as_lines([active]))] == [ToolCall]


def test_cloudtrail_get_session_token_and_federation_token() -> None:
    session_token = rec(
        "GetSessionToken",
        "sts.amazonaws.com",
        requestParameters={"durationSeconds": 900},
        responseElements={
            "credentials": {
                "accessKeyId": "ASIAEXAMPLESESSION01",
                "sessionToken": SESSION_TOKEN,
                "expiration": "2024-05-01T10:15:00Z",
            }
        },
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": "arn:aws:s3:::logs/*",
            },
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
        ],
    }
    federation = rec(
        "GetFederationToken",
        "sts.amazonaws.com",
        eventID="id-fed",
        requestParameters={"name": "agent", "policy": orjson.dumps(policy).decode()},
        responseElements={
            "credentials": {
                "accessKeyId": "ASIAEXAMPLEFEDERAT01",
                "sessionToken": SESSION_TOKEN,
                "expiration": "May 1, 2024, 10:00:00 PM",
            },
            "federatedUser": {
                "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/agent",
                "federatedUserId": f"{ACCOUNT}:agent",
            },
        },
    )
    creds = [e for e in ct(as_lines([session_token, federation])) if isinstance(e, CredentialEvent)]
    gst, fed = creds
    assert gst.session_id == "aws-key:ASIAEXAMPLESESSION01"
    assert gst.subject == USER_ARN and gst.ttl_seconds == 900
    assert gst.expires_at == datetime(2024, 5, 1, 10, 15, tzinfo=UTC)
    assert fed.session_id == fed.subject == f"arn:aws:sts::{ACCOUNT}:federated-user/agent"
    assert fed.scopes == ("s3:GetObject", "s3:ListBucket", "arn:aws:s3:::logs/*")  # Deny is no scope
    assert fed.ttl_seconds == 12 * 3600
    assert fed.expires_at == datetime(2024, 5, 1, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nov 30, 2024, 8:43:17 PM", datetime(2024, 11, 30, 20, 43, 17, tzinfo=UTC)),
        ("Jul 30, 2024 9:53:13 PM", datetime(2024, 7, 30, 21, 53, 13, tzinfo=UTC)),
        ("Aug 2, 2024, 12:05:00 AM", datetime(2024, 8, 2, 0, 5, tzinfo=UTC)),
        ("Aug 2, 2024, 12:05:00 PM", datetime(2024, 8, 2, 12, 5, tzinfo=UTC)),
        ("2024-11-30T20:43:17Z", datetime(2024, 11, 30, 20, 43, 17, tzinfo=UTC)),
        ("2024-11-30T21:43:17+01:00", datetime(2024, 11, 30, 20, 43, 17, tzinfo=UTC)),
        ("not a time", None),
        (None, None),
    ],
)
def test_cloudtrail_expiration_formats(text: str | None, expected: datetime | None) -> None:
    assert cloudtrail.parse_aws_time(text) == expected


@pytest.mark.parametrize(
    ("identity", "session", "agent", "principal"),
    [
        ({**ALICE}, "aws-key:AKIAIOSFODNN7EXAMPLE", USER_ARN, USER_ARN),
        ({k: v for k, v in ALICE.items() if k != "accessKeyId"}, USER_ARN, USER_ARN, USER_ARN),
        (AGENT_ROLE, ROLE_SESSION, ROLE_SESSION, ROLE_ARN),
        (
            {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
            "aws-service:lambda.amazonaws.com",
            "lambda.amazonaws.com",
            "lambda.amazonaws.com",
        ),
        (
            {"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT},
            f"arn:aws:iam::{ACCOUNT}:root",
            f"arn:aws:iam::{ACCOUNT}:root",
            f"arn:aws:iam::{ACCOUNT}:root",
        ),
        (None, f"aws-unknown:{ACCOUNT}", None, None),
    ],
)
def test_cloudtrail_session_identity(
    identity: dict[str, Any] | None, session: str, agent: str | None, principal: str | None
) -> None:
    record = rec("ListUsers", userIdentity=identity)
    (call,) = events_of(ct(orjson.dumps([record])))
    assert (call.session_id, call.agent_id, call.principal) == (session, agent, principal)


def test_cloudtrail_console_login_failure_is_denied() -> None:
    login = rec("ConsoleLogin", "signin.amazonaws.com", responseElements={"ConsoleLogin": "Failure"})
    (call,) = events_of(ct(orjson.dumps([login])))
    assert call.outcome is Outcome.DENIED


@pytest.mark.parametrize("name", ["PasswordUpdated", "ExternalIdPDirectoryLogin", "SwitchRole"])
def test_cloudtrail_failed_sign_in_events_are_denied(name: str) -> None:
    """Sign-in events report failure in responseElements, not errorCode."""
    failed = rec(name, "signin.amazonaws.com", responseElements={name: "Failure"})
    worked = rec(name, "signin.amazonaws.com", responseElements={name: "Success"})
    calls = events_of(ct(orjson.dumps([failed, worked])))
    assert [c.outcome for c in calls] == [Outcome.DENIED, Outcome.SUCCESS]


def test_cloudtrail_keeps_resource_owners_and_snapshot_type() -> None:
    copy = rec(
        "CopyObject",
        "s3.amazonaws.com",
        resources=[
            {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::out", "accountId": "999999999999"},
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::out/db.csv"},
            "not a resource",
        ],
    )
    snapshot = rec("CreateDBSnapshot", "rds.amazonaws.com", responseElements={"snapshotType": "manual"})
    (copied, snapped) = events_of(ct(orjson.dumps([copy, snapshot])))
    assert copied.arguments["aws_resources"] == [
        {"type": "AWS::S3::Bucket", "arn": "arn:aws:s3:::out", "accountId": "999999999999"},
        {"type": "AWS::S3::Object", "arn": "arn:aws:s3:::out/db.csv"},
    ]
    assert snapped.arguments["response"]["snapshotType"] == "manual"


def test_cloudtrail_context_keys_are_the_documented_list() -> None:
    """Readers that want the request alone drop CONTEXT_KEYS: every key the adapter adds must be in it."""
    full = rec(
        "ConsoleLogin",
        "signin.amazonaws.com",
        errorCode="Failed",
        errorMessage="no",
        responseElements={"ConsoleLogin": "Failure"},
        additionalEventData={"MFAUsed": "No"},
        resources=[{"ARN": "arn:aws:iam::123456789012:user/alice"}],
        eventType="AwsConsoleSignIn",
    )
    (call,) = events_of(ct(orjson.dumps([full])))
    assert set(call.arguments) == CONTEXT_KEYS


def test_cloudtrail_malformed_records_become_dead_letters() -> None:
    good_first = rec("ListUsers", eventID="good-1")
    good_last = rec("ListRoles", eventID="good-2")
    no_time = {k: v for k, v in rec("CreateUser", eventID="no-time").items() if k != "eventTime"}
    bad_time = rec("CreateUser", eventID="bad-time", eventTime="yesterday at noon")
    no_name = {k: v for k, v in rec("CreateUser", eventID="no-name").items() if k != "eventName"}
    bad_identity = rec("CreateUser", eventID="bad-identity", userIdentity="alice")
    leaky = {**ASSUME_ROLE, "eventTime": "not a time"}  # carries a session token
    lines = [
        orjson.dumps(good_first),
        orjson.dumps("just a string"),
        orjson.dumps(no_time),
        orjson.dumps(bad_time),
        b'{"eventName": "CreateUser", "eventTime": ',  # broken JSON line
        orjson.dumps(no_name),
        orjson.dumps(bad_identity),
        orjson.dumps(leaky),
        orjson.dumps(good_last),
    ]
    parsed = ct(b"\n".join(lines), origin="broken.jsonl")
    assert [e.event_id for e in events_of(parsed)] == ["good-1", "good-2"]
    dead = dead_of(parsed)
    assert [d.record_no for d in dead] == [2, 3, 4, 5, 6, 7, 8]
    assert all(d.origin == "broken.jsonl" and d.stage == "parse" for d in dead)
    not_object, missing_time, unreadable_time, broken, missing_name, identity, leaked = dead
    assert "expected a JSON object" in not_object.reason and "str" in not_object.reason
    assert "field 'eventTime'" in missing_time.reason and "missing" in missing_time.reason
    assert "field 'eventTime'" in unreadable_time.reason and "yesterday at noon" in unreadable_time.reason
    assert "fix:" in unreadable_time.reason
    assert "not valid JSON" in broken.reason and broken.raw.startswith('{"eventName"')
    assert "field 'eventName'" in missing_name.reason
    assert "field 'userIdentity'" in identity.reason
    assert "broken.jsonl record 8" in leaked.reason
    # A dead letter is stored too: its raw copy must not carry the session token.
    assert SESSION_TOKEN not in leaked.raw and "ASIAEXAMPLENEWKEY001" in leaked.raw


def test_cloudtrail_malformed_records_in_an_array() -> None:
    records = [rec("ListUsers", eventID="a"), 42, {"eventName": "X"}, rec("ListRoles", eventID="b")]
    parsed = ct(orjson.dumps({"Records": records}))
    assert [e.event_id for e in events_of(parsed)] == ["a", "b"]
    assert [d.record_no for d in dead_of(parsed)] == [2, 3]
    assert "field 'eventTime'" in dead_of(parsed)[1].reason


def test_cloudtrail_looks_like() -> None:
    assert cloudtrail.looks_like(ASSUME_ROLE)
    assert cloudtrail.looks_like({"Records": [ASSUME_ROLE]})
    assert not cloudtrail.looks_like({"messages": []})
    assert not cloudtrail.looks_like([ASSUME_ROLE])
    assert not cloudtrail.looks_like("eventName")


# --------------------------------------------------------------------------------------- Stratus Red Team

# file -> (tool calls = records, credential events, sessions)
STRATUS_EXPECTED: dict[str, tuple[int, int, int]] = {
    "aws.credential-access.ec2-get-password-data.json": (34, 2, 2),
    "aws.credential-access.ec2-steal-instance-credentials.json": (45, 0, 2),
    "aws.credential-access.secretsmanager-batch-retrieve-secrets.json": (5, 0, 1),
    "aws.credential-access.secretsmanager-retrieve-secrets.json": (21, 0, 1),
    "aws.credential-access.ssm-retrieve-securestring-parameters.json": (10, 0, 1),
    "aws.defense-evasion.cloudtrail-delete.json": (1, 0, 1),
    "aws.defense-evasion.cloudtrail-event-selectors.json": (1, 0, 1),
    "aws.defense-evasion.cloudtrail-stop.json": (1, 0, 1),
    "aws.defense-evasion.dns-delete-logs.json": (1, 0, 1),
    "aws.defense-evasion.organizations-leave.json": (3, 2, 2),
    "aws.defense-evasion.vpc-remove-flow-logs.json": (1, 0, 1),
    "aws.discovery.ec2-download-user-data.json": (19, 2, 2),
    "aws.execution.ec2-launch-unusual-instances.json": (3, 2, 2),
    "aws.execution.ec2-user-data.json": (35, 0, 1),
    "aws.execution.ssm-send-command.json": (56, 0, 1),
    "aws.execution.ssm-start-session.json": (29, 0, 1),
    "aws.exfiltration.ec2-security-group-open-port-22-ingress.json": (1, 0, 1),
    "aws.exfiltration.ec2-share-ami.json": (1, 0, 1),
    "aws.exfiltration.ec2-share-ebs-snapshot.json": (1, 0, 1),
    "aws.exfiltration.rds-share-snapshot.json": (1, 0, 1),
    "aws.impact.bedrock-invoke-model.json": (15, 0, 1),
    "aws.initial-access.console-login-without-mfa.json": (1, 0, 1),
    "aws.lateral-movement.ec2-instance-connect.json": (3, 0, 1),
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json": (4, 0, 1),
    "aws.persistence.iam-backdoor-role.json": (1, 0, 1),
    "aws.persistence.iam-backdoor-user.json": (1, 1, 2),
    "aws.persistence.iam-create-admin-user.json": (3, 1, 2),
    "aws.persistence.iam-create-backdoor-role.json": (2, 0, 1),
    "aws.persistence.iam-create-user-login-profile.json": (3, 0, 1),
    "aws.persistence.lambda-backdoor-function.json": (1, 0, 1),
    "aws.persistence.lambda-layer-extension.json": (1, 0, 1),
    "aws.persistence.lambda-overwrite-code.json": (1, 0, 1),
    "aws.persistence.rolesanywhere-create-trust-anchor.json": (2, 0, 1),
    "aws.persistence.sts-federation-token.json": (2, 1, 2),
    "aws.privilege-escalation.iam-update-user-login-profile.json": (1, 0, 1),
}
_ISSUING = {"AssumeRole", "GetFederationToken", "GetSessionToken", "CreateAccessKey"}


def stratus(name: str) -> tuple[list[Any], list[Parsed]]:
    path = STRATUS / name
    data = path.read_bytes()
    return orjson.loads(data), ct(data, origin=name)


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_all_files_present() -> None:
    assert sorted(p.name for p in STRATUS_FILES) == sorted(STRATUS_EXPECTED)


@pytest.mark.shared_data
@shared(STRATUS)
@pytest.mark.parametrize("path", STRATUS_FILES, ids=lambda p: p.name)
def test_stratus_file(path: Path) -> None:
    records, parsed = stratus(path.name)
    assert isinstance(records, list)
    assert detect_format(path.read_bytes(), path.name) == "cloudtrail"
    assert not dead_of(parsed)
    events = events_of(parsed)
    calls = [e for e in events if isinstance(e, ToolCall)]
    creds = [e for e in events if isinstance(e, CredentialEvent)]
    # Counted from the raw records: successful credential-minting calls.
    minted = sum(1 for r in records if r["eventName"] in _ISSUING and not r.get("errorCode"))
    assert len(calls) == len(records)
    assert len(creds) == minted
    assert len(events) == len(records) + len(creds)
    assert (len(calls), len(creds), len({e.session_id for e in events})) == STRATUS_EXPECTED[path.name]

    assert [c.event_id for c in calls] == [r["eventID"] for r in records]
    assert len({e.event_id for e in events}) == len(events)
    for call, record in zip(calls, records, strict=True):
        assert call.source == "cloudtrail"
        assert call.tool == record["eventSource"].split(".")[0]
        assert not re.search(r"\d{8}(v\d+)?$", call.action)
        assert call.event_time == datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
        assert call.ingest_time is None
        assert call.credential_id == record["userIdentity"].get("accessKeyId")
        assert call.environment is Environment.UNKNOWN
        if record.get("errorCode"):
            assert call.arguments["error_code"] == record["errorCode"]
            assert call.outcome in (Outcome.DENIED, Outcome.ERROR)
        else:
            assert call.outcome is Outcome.SUCCESS
        if call.outcome is Outcome.DENIED:
            assert call.decision is Decision.DENIED
        else:
            assert call.decision is Decision.ALLOWED_BY_RULE
    for cred in creds:
        assert cred.action is CredentialAction.ISSUED
        assert cred.event_id.endswith(":credential")


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_replay_and_shapes_agree() -> None:
    path = STRATUS / "aws.credential-access.ec2-get-password-data.json"
    records = orjson.loads(path.read_bytes())
    array = ct(path.read_bytes(), origin="x")
    assert array == ct(path.read_bytes(), origin="x")
    assert ct(as_records(records), origin="x") == array
    assert ct(as_lines(records), origin="x") == array


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_create_admin_user() -> None:
    _, parsed = stratus("aws.persistence.iam-create-admin-user.json")
    account = "229654561268"
    new_user = f"arn:aws:iam::{account}:user/malicious-iam-user"
    calls = {e.action: e for e in parsed if isinstance(e, ToolCall)}
    assert set(calls) == {"CreateUser", "AttachUserPolicy", "CreateAccessKey"}
    for call in calls.values():
        assert call.tool == "iam"
        assert call.target == new_user
        assert call.session_id == "aws-key:AKIAOZUDECYXYM4ONAN4"
        assert call.agent_id == f"arn:aws:iam::{account}:user/christophe"
        assert call.credential_id == "AKIAOZUDECYXYM4ONAN4"
    assert calls["AttachUserPolicy"].arguments["policyArn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert calls["CreateUser"].arguments["response"]["user.arn"] == new_user
    assert calls["CreateAccessKey"].arguments["response"]["accessKey.accessKeyId"] == "AKIAXAFZN8JEPF6L682H"

    (cred,) = [e for e in parsed if isinstance(e, CredentialEvent)]
    assert cred.action is CredentialAction.ISSUED
    assert cred.credential_id == "AKIAXAFZN8JEPF6L682H"
    assert cred.subject == new_user
    assert cred.session_id == "aws-key:AKIAXAFZN8JEPF6L682H"
    assert cred.on_behalf_of == f"arn:aws:iam::{account}:user/christophe"
    assert cred.issuer == "aws-iam" and cred.ttl_seconds is None
    assert cred.event_id == "94faedcc-0fa4-46e6-9322-022e8e934f04:credential"


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_federation_token() -> None:
    _, parsed = stratus("aws.persistence.sts-federation-token.json")
    federated = "arn:aws:sts::742491224508:federated-user/stratus_red_team"
    issuing_user = "arn:aws:iam::742491224508:user/stratus-red-team-user-federation-user"
    mint, cred, use = parsed
    assert isinstance(mint, ToolCall) and mint.action == "GetFederationToken"
    assert isinstance(cred, CredentialEvent)
    assert cred.action is CredentialAction.ISSUED
    assert cred.credential_id == "ASIASTJKC5GCM7ZE6LUP"
    assert cred.scopes == ("*",)
    assert cred.ttl_seconds == 12 * 3600
    assert cred.expires_at == datetime(2024, 11, 30, 20, 43, 17, tzinfo=UTC)
    assert cred.session_id == cred.subject == federated
    assert cred.on_behalf_of == issuing_user
    assert cred.issuer == "aws-sts" and cred.inherited_from_human is True
    # The federated user's next call belongs to the session the credential was issued for.
    assert isinstance(use, ToolCall) and use.action == "GetCallerIdentity"
    assert use.session_id == federated and use.credential_id == cred.credential_id
    assert use.principal == issuing_user


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_assumed_role_chain() -> None:
    _, parsed = stratus("aws.defense-evasion.organizations-leave.json")
    creds = {e.credential_id: e for e in parsed if isinstance(e, CredentialEvent)}
    (leave,) = [e for e in parsed if isinstance(e, ToolCall) and e.action == "LeaveOrganization"]
    cred = creds[leave.credential_id]  # the call used a credential this file saw issued
    assert leave.session_id == cred.session_id == cred.subject
    assert cred.session_id.startswith(
        "arn:aws:sts::307578594326:assumed-role/stratus-red-team-leave-org-role/"
    )
    assert cred.ttl_seconds == 900 and cred.expires_at == datetime(2024, 8, 2, 8, 45, tzinfo=UTC)
    assert (leave.outcome, leave.decision) == (Outcome.DENIED, Decision.DENIED)
    assert leave.principal == "arn:aws:iam::307578594326:role/stratus-red-team-leave-org-role"


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_lambda_versioned_event_names() -> None:
    actions = {}
    for name in (
        "aws.persistence.lambda-backdoor-function.json",
        "aws.persistence.lambda-overwrite-code.json",
        "aws.persistence.lambda-layer-extension.json",
    ):
        (call,) = stratus(name)[1]
        assert isinstance(call, ToolCall)
        actions[call.action] = call.target
    assert actions == {
        "AddPermission": "arn:aws:lambda:ca-centralnorth-1r:880896431042:function:"
        "stratus-red-team-backdoor-f-func",
        "UpdateFunctionCode": "arn:aws:lambda:ap-westeast-2r:266106314375:function:"
        "stratus-red-team-olc-func-vayhjqkdav",
        "UpdateFunctionConfiguration": "arn:aws:lambda:eugov-eastcentral-1r:712967571683:function:"
        "stratus-red-team-lambda-layer-simpleLambda",
    }


@pytest.mark.shared_data
@shared(STRATUS)
@pytest.mark.parametrize(
    ("name", "action", "target"),
    [
        (
            "aws.defense-evasion.cloudtrail-stop.json",
            "StopLogging",
            "arn:aws:cloudtrail:apiso-centralnorth-2r:143434273843:trail/stratus-red-team-ct-stop-trail-buykxbqejv",
        ),
        (
            "aws.exfiltration.ec2-share-ebs-snapshot.json",
            "ModifySnapshotAttribute",
            "arn:aws:ec2:me-central-3r::snapshot/snap-041993b54a9b3af6f",
        ),
        (
            "aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
            "AuthorizeSecurityGroupIngress",
            "arn:aws:ec2:us-northeast-1r:032092706103:security-group/sg-003dc7f1f1c686164",
        ),
        (
            "aws.defense-evasion.vpc-remove-flow-logs.json",
            "DeleteFlowLogs",
            "arn:aws:ec2:megov-south-1r:498376118699:vpc-flow-log/fl-0e17aa62a21d4bbfe",
        ),
        (
            "aws.credential-access.secretsmanager-retrieve-secrets.json",
            "GetSecretValue",
            "arn:aws:secretsmanager:cn-centraleast-1r:903144391865:secret:stratus-red-team-retrieve-secret-",
        ),
    ],
)
def test_stratus_targets(name: str, action: str, target: str) -> None:
    calls = [e for e in stratus(name)[1] if isinstance(e, ToolCall) and e.action == action]
    assert calls
    assert calls[0].target is not None and calls[0].target.startswith(target)


@pytest.mark.shared_data
@shared(STRATUS)
def test_stratus_secrets_never_survive() -> None:
    seen_tokens = 0
    for path in STRATUS_FILES:
        records, parsed = stratus(path.name)
        secrets = [
            v
            for k, v in walk(records)
            if k in ("sessionToken", "secretAccessKey") and isinstance(v, str) and len(v) > 20
        ]
        seen_tokens += len(secrets)
        for event in events_of(parsed):
            dumped = event.model_dump_json()
            assert "IQoJ" not in dumped
            for secret in secrets:
                assert secret not in dumped
                assert secret[-24:] not in dumped
    assert seen_tokens == 9  # every successful STS call in the corpus carries one


# ============================================================================================ openai-chat


def transcript(**extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": "You are a travel agent."},
            {"role": "user", "content": "Cancel reservation ABC123 please."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_reservation", "arguments": '{"reservation_id": "ABC123"}'},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": '{"reservation_id": "ABC123", "status": "ok"}',
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {
                            "name": "cancel_reservation",
                            "arguments": '{"reservation_id": "ABC123"',
                        },
                    },
                    {
                        "type": "function",
                        "function": {"name": "fetch", "arguments": '{"url": "https://x.test/a"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_2", "content": "Error: reservation already cancelled"},
            {"role": "assistant", "content": "Done."},
        ]
    }
    item.update(extra)
    return item


def test_chat_inline_mapping() -> None:
    parsed = chat(orjson.dumps([transcript()]), origin="/tmp/runs/chats.json")
    assert not dead_of(parsed)
    start, get, cancel, fetch, end = parsed
    session = "chats.json#1"
    assert isinstance(start, SessionEvent) and start.action is SessionAction.START
    assert start.event_id == f"{session}:start" and start.session_id == session
    assert start.task == "Cancel reservation ABC123 please."
    assert start.event_time == datetime(2024, 1, 1, tzinfo=UTC)
    assert start.agent_id == "openai-chat" and start.source == "openai-chat"

    assert isinstance(get, ToolCall)
    assert get.event_id == f"{session}:call_1"
    assert get.tool == get.action == "get_reservation"
    assert get.target == "ABC123"
    assert get.arguments == {"reservation_id": "ABC123"}
    assert get.result_summary == '{"reservation_id": "ABC123", "status": "ok"}'
    assert get.untrusted_content is True
    assert (get.outcome, get.decision) == (Outcome.SUCCESS, Decision.UNKNOWN)
    assert get.environment is Environment.UNKNOWN
    assert get.event_time == datetime(2024, 1, 1, 0, 0, 2, tzinfo=UTC)  # message index 2

    # Malformed arguments are kept raw, not fatal; the error result makes the outcome an error.
    assert isinstance(cancel, ToolCall)
    assert cancel.arguments == {"_raw": '{"reservation_id": "ABC123"'}
    assert cancel.target is None
    assert cancel.outcome is Outcome.ERROR
    assert cancel.result_summary == "Error: reservation already cancelled"

    # No id, no result: id from the message index, outcome unknown, no outside content.
    assert isinstance(fetch, ToolCall)
    assert fetch.event_id == f"{session}:4.1"
    assert fetch.target == "https://x.test/a"
    assert fetch.result_summary is None and fetch.untrusted_content is False
    assert fetch.outcome is Outcome.UNKNOWN

    assert isinstance(end, SessionEvent) and end.action is SessionAction.END
    assert end.event_id == f"{session}:end"
    assert end.event_time == datetime(2024, 1, 1, 0, 0, 7, tzinfo=UTC)  # one past the last message
    assert all(e.ingest_time is None for e in events_of(parsed))


def test_chat_missing_tool_result() -> None:
    item = transcript()
    item["messages"] = [m for m in item["messages"] if m.get("role") != "tool"]
    calls = [e for e in chat(orjson.dumps(item)) if isinstance(e, ToolCall)]
    assert len(calls) == 3
    assert all(c.result_summary is None and c.outcome is Outcome.UNKNOWN for c in calls)
    assert not any(c.untrusted_content for c in calls)


def test_chat_metadata_fills_the_context() -> None:
    item = transcript(
        metadata={
            "session_id": "sess-42",
            "agent_id": "travel-bot",
            "parent_agent_id": "orchestrator",
            "principal": "user:mia",
            "credential_id": "tok-7",
            "environment": "production",
            "decision": "approved",
            "approved_by": "ops-lead",
            "task_scope": ["reservation:ABC123", "tool:cancel_*"],
            "start_time": "2024-06-01T12:00:00Z",
        }
    )
    events = events_of(chat(orjson.dumps(item)))
    start = events[0]
    assert isinstance(start, SessionEvent)
    assert start.session_id == "sess-42"
    assert start.task_scope == ("reservation:ABC123", "tool:cancel_*")
    assert start.event_time == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    for event in events:
        assert event.agent_id == "travel-bot" and event.parent_agent_id == "orchestrator"
        assert event.principal == "user:mia"
    call = events[1]
    assert isinstance(call, ToolCall)
    assert call.event_id == "sess-42:call_1"
    assert call.environment is Environment.PROD
    assert call.credential_id == "tok-7"
    assert (call.decision, call.approved_by) == (Decision.APPROVED, "ops-lead")
    assert call.event_time == datetime(2024, 6, 1, 12, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("extra", "session"),
    [
        ({"session_id": "top", "metadata": {"session_id": "meta"}, "id": "item"}, "top"),
        ({"metadata": {"session_id": "meta"}, "id": "item"}, "meta"),
        ({"id": 17}, "17"),
        ({}, "chats.jsonl#2"),
    ],
)
def test_chat_session_id_precedence(extra: dict[str, Any], session: str) -> None:
    data = as_lines([transcript(id="first"), transcript(**extra)])
    events = events_of(chat(data))
    assert {e.session_id for e in events[5:]} == {session}


def test_chat_errors_and_outside_content() -> None:
    def one(result: dict[str, Any]) -> ToolCall:
        item = {
            "traj": [
                {"role": "user", "content": [{"type": "text", "text": "Read the page"}]},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "browse", "arguments": {"path": "/a"}}}],
                },
                {"role": "tool", "tool_call_id": "c", **result},
            ]
        }
        start, call, _end = events_of(chat(orjson.dumps(item)))
        assert isinstance(start, SessionEvent) and start.task == "Read the page"
        assert isinstance(call, ToolCall) and call.target == "/a"
        return call

    assert one({"content": "Error: 404"}).outcome is Outcome.ERROR
    assert one({"content": "  error: timeout"}).outcome is Outcome.ERROR
    assert one({"content": "boom", "isError": True}).outcome is Outcome.ERROR
    assert one({"content": '{"error": "rate limited"}'}).outcome is Outcome.ERROR
    assert one({"content": '{"error": null, "data": 1}'}).outcome is Outcome.SUCCESS
    assert one({"content": "No errors found in the page."}).outcome is Outcome.SUCCESS
    long = one({"content": [{"type": "text", "text": "x" * (MAX_TEXT + 500)}]})
    assert long.result_summary == "x" * MAX_TEXT and long.untrusted_content is True


def test_chat_repeated_tool_call_ids_keep_both_calls() -> None:
    call = {"id": "dup", "function": {"name": "calculate", "arguments": '{"expression": "1+1"}'}}
    item = {
        "messages": [
            {"role": "user", "content": "sum"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "dup", "content": "2"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "dup", "content": "Error: overflow"},
        ]
    }
    calls = [e for e in chat(orjson.dumps(item), origin="c.json") if isinstance(e, ToolCall)]
    assert [c.event_id for c in calls] == ["c.json#1:dup", "c.json#1:dup@3"]
    assert [c.result_summary for c in calls] == ["2", "Error: overflow"]
    assert [c.outcome for c in calls] == [Outcome.SUCCESS, Outcome.ERROR]


def test_chat_legacy_function_call() -> None:
    item = {
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "function_call": {"name": "weather", "arguments": '{"city": "Oslo"}'}},
            {"role": "function", "name": "weather", "content": "sunny"},
        ]
    }
    (call,) = [e for e in chat(orjson.dumps(item), origin="w.json") if isinstance(e, ToolCall)]
    assert call.event_id == "w.json#1:1" and call.tool == "weather"
    assert call.arguments == {"city": "Oslo"} and call.result_summary == "sunny"


def test_chat_bad_items_become_dead_letters() -> None:
    lines = [
        orjson.dumps(transcript(id="good-1")),
        orjson.dumps(["not", "an", "object"]),
        orjson.dumps({"id": "no-messages", "metadata": {}}),
        orjson.dumps({"id": "bad-traj", "traj": "hello"}),
        b'{"messages": [',
        orjson.dumps(transcript(id="bad-time", metadata={"start_time": "whenever"})),
        orjson.dumps(transcript(id="good-2")),
    ]
    parsed = chat(b"\n".join(lines), origin="items.jsonl")
    assert {e.session_id for e in events_of(parsed)} == {"good-1", "good-2"}
    dead = dead_of(parsed)
    assert [d.record_no for d in dead] == [2, 3, 4, 5, 6]
    not_object, no_messages, bad_traj, broken, bad_time = dead
    assert "expected a JSON object" in not_object.reason and "list" in not_object.reason
    assert "field 'messages'" in no_messages.reason and "missing" in no_messages.reason
    assert "field 'traj'" in bad_traj.reason and "str" in bad_traj.reason
    assert "not valid JSON" in broken.reason
    assert "field 'metadata.start_time'" in bad_time.reason


def test_chat_shapes_and_detection_agree() -> None:
    items = [transcript(id="a"), transcript(id="b")]
    lines, array = as_lines(items), as_array(items)
    assert chat(lines) == chat(array) == chat(lines)
    for data in (lines, array, orjson.dumps(items[0])):
        assert detect_format(data) == "openai-chat"
    assert openai_chat.looks_like({"traj": []})
    assert not openai_chat.looks_like({"messages": "x"})
    assert not openai_chat.looks_like(ASSUME_ROLE)


def test_chat_later_user_turns_are_prompts_in_message_order() -> None:
    item = transcript()
    item["messages"].insert(4, {"role": "user", "content": "Actually, keep it and just check."})
    item["messages"].append({"role": "user", "content": [{"type": "text", "text": "Thanks, bye."}]})
    parsed = events_of(chat(orjson.dumps(item), origin="c.json"))
    kinds = [(type(e).__name__, getattr(e, "action", None)) for e in parsed]
    assert kinds == [
        ("SessionEvent", SessionAction.START),
        ("ToolCall", "get_reservation"),
        ("SessionEvent", SessionAction.PROMPT),
        ("ToolCall", "cancel_reservation"),
        ("ToolCall", "fetch"),
        ("SessionEvent", SessionAction.PROMPT),
        ("SessionEvent", SessionAction.END),
    ]
    start, _get, keep, _cancel, _fetch, bye, _end = parsed
    assert isinstance(start, SessionEvent) and start.task == "Cancel reservation ABC123 please."
    assert isinstance(keep, SessionEvent) and isinstance(bye, SessionEvent)
    assert (keep.event_id, keep.task, keep.event_time) == (
        "c.json#1:prompt@4",
        "Actually, keep it and just check.",
        datetime(2024, 1, 1, 0, 0, 4, tzinfo=UTC),
    )
    assert bye.task == "Thanks, bye."


OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_reservation",
            "description": "Get the details of a reservation.",
            "parameters": {"type": "object", "properties": {"reservation_id": {"type": "string"}}},
        },
    },
    {"type": "function", "function": {"name": "fetch", "description": "Fetch a URL.", "parameters": None}},
    {"type": "web_search_preview"},  # a built-in tool without a name: skipped
]


def test_chat_tools_list_declares_each_calls_tool() -> None:
    calls = [
        e for e in events_of(chat(orjson.dumps(transcript(tools=OPENAI_TOOLS)))) if isinstance(e, ToolCall)
    ]
    get, cancel, fetch = calls
    assert get.tool_declaration is not None
    assert get.tool_declaration.description == "Get the details of a reservation."
    assert (get.tool_declaration.parameters, get.tool_declaration.source) == (("reservation_id",), "openai")
    assert cancel.tool_declaration is None  # not declared
    assert fetch.tool_declaration is not None and fetch.tool_declaration.parameters == ()
    # Anthropic specs (input_schema) and the legacy ``functions`` list are read too
    anthropic = [
        {"name": "fetch", "description": "Fetch a page", "input_schema": {"properties": {"url": {}}}}
    ]
    calls = [e for e in events_of(chat(orjson.dumps(transcript(tools=anthropic)))) if isinstance(e, ToolCall)]
    assert calls[2].tool_declaration is not None
    assert (calls[2].tool_declaration.source, calls[2].tool_declaration.parameters) == ("anthropic", ("url",))
    legacy = [
        {"name": "get_reservation", "description": "Look one up", "parameters": {"properties": {"id": {}}}}
    ]
    calls = [
        e for e in events_of(chat(orjson.dumps(transcript(functions=legacy)))) if isinstance(e, ToolCall)
    ]
    assert calls[0].tool_declaration is not None and calls[0].tool_declaration.parameters == ("id",)


def test_chat_agentdojo_calls_name_the_function_and_give_args_as_a_dict() -> None:
    send = {
        "function": "send_money",
        "args": {"recipient": "DE89370400440532013000", "amount": 100},
        "id": None,
    }
    read = {"function": "read_file", "args": {"file_path": "bill.txt"}, "id": "r1"}
    item = {
        "messages": [
            {"role": "system", "content": "You are a bank assistant."},
            {"role": "user", "content": "Pay the bill in bill.txt"},
            {"role": "assistant", "content": None, "tool_calls": [read]},
            {
                "role": "tool",
                "content": "Pay DE89370400440532013000",
                "tool_call_id": "r1",
                "tool_call": read,
                "error": None,
            },
            {"role": "assistant", "content": None, "tool_calls": [send]},
            {
                "role": "tool",
                "content": "",
                "tool_call_id": None,
                "tool_call": send,
                "error": "insufficient funds",
            },
        ]
    }
    first, second = [
        e for e in events_of(chat(orjson.dumps(item), origin="dojo.json")) if isinstance(e, ToolCall)
    ]
    assert (first.tool, first.arguments, first.target) == ("read_file", {"file_path": "bill.txt"}, "bill.txt")
    assert (first.outcome, first.result_summary) == (Outcome.SUCCESS, "Pay DE89370400440532013000")
    assert second.tool == "send_money" and second.arguments["amount"] == 100
    assert second.event_id == "dojo.json#1:4" and second.outcome is Outcome.ERROR


def test_chat_anthropic_tool_use_and_tool_result_blocks() -> None:
    item = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is on example.org?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "fetch",
                        "input": {"url": "https://example.org"},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "fetch",
                        "input": {"url": "https://bad.example"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "Hello"}],
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "content": "DNS failure",
                        "is_error": True,
                    },
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "It says Hello."}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "x", "content": "late"},
                    {"type": "text", "text": "Thanks"},
                ],
            },
        ]
    }
    parsed = events_of(chat(orjson.dumps(item), origin="claude.json"))
    start, one, two, thanks, _end = parsed
    assert isinstance(start, SessionEvent) and start.task == "What is on example.org?"
    assert isinstance(one, ToolCall) and isinstance(two, ToolCall)
    assert (one.event_id, one.tool, one.arguments) == (
        "claude.json#1:toolu_1",
        "fetch",
        {"url": "https://example.org"},
    )
    assert (one.result_summary, one.outcome, one.untrusted_content) == ("Hello", Outcome.SUCCESS, True)
    assert (two.result_summary, two.outcome) == ("DNS failure", Outcome.ERROR)
    # a user message of tool results only is not a turn; text beside a tool result is
    assert (
        isinstance(thanks, SessionEvent) and thanks.action is SessionAction.PROMPT and thanks.task == "Thanks"
    )


@pytest.mark.shared_data
@shared(TAU_BENCH)
def test_tau_bench_transcripts() -> None:
    raw = orjson.loads(TAU_BENCH.read_bytes())
    parsed = list(parse_bytes(TAU_BENCH.read_bytes(), str(TAU_BENCH)))
    assert not dead_of(parsed)
    events = events_of(parsed)

    starts = [e for e in events if isinstance(e, SessionEvent) and e.action is SessionAction.START]
    ends = [e for e in events if isinstance(e, SessionEvent) and e.action is SessionAction.END]
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(raw) == len(starts) == len(ends) == 200
    assert len({e.session_id for e in events}) == 200
    assert starts[0].session_id == "gpt-4o-airline.json#1"

    # Expected from the raw file: its own tool calls, and each call's result (the next tool message
    # with the call's id: tau-bench reuses ids within a transcript).
    expected_calls: list[tuple[str, str, str | None]] = []
    for item in raw:
        traj = item["traj"]
        claimed: set[int] = set()
        for index, message in enumerate(traj):
            for call in message.get("tool_calls") or []:
                result = next(
                    (
                        j
                        for j in range(index + 1, len(traj))
                        if j not in claimed and traj[j].get("tool_call_id") == call["id"]
                    ),
                    None,
                )
                if result is not None:
                    claimed.add(result)
                content = traj[result]["content"] if result is not None else None
                expected_calls.append((call["function"]["name"], call["function"]["arguments"], content))
    assert len(calls) == len(expected_calls) == 1164
    for call, (name, arguments, content) in zip(calls, expected_calls, strict=True):
        assert call.tool == call.action == name
        assert call.arguments == orjson.loads(arguments)
        assert content is not None
        assert call.result_summary == content[:MAX_TEXT]
        assert call.untrusted_content is True
        assert call.outcome is (Outcome.ERROR if content.startswith("Error:") else Outcome.SUCCESS)
    assert Counter(c.outcome for c in calls)[Outcome.ERROR] == 73

    for item, start in zip(raw, starts, strict=True):
        first_user = next(m["content"] for m in item["traj"] if m["role"] == "user")
        assert start.task == first_user
    # every later user turn is a prompt event, the text cut and redacted like a task
    prompts = [e for e in events if isinstance(e, SessionEvent) and e.action is SessionAction.PROMPT]
    later = [m["content"] for item in raw for m in [u for u in item["traj"] if u["role"] == "user"][1:]]
    assert len(prompts) == len(later) == 1290
    assert [p.task for p in prompts] == [redact_text(text[:MAX_TEXT]) for text in later]
    targets = Counter(c.target is not None for c in calls)
    assert targets[True] > targets[False]
    assert len({e.event_id for e in events}) == len(events)
    by_session: dict[str, list[datetime]] = {}
    for event in events:
        by_session.setdefault(event.session_id, []).append(event.event_time)
    assert all(times == sorted(times) for times in by_session.values())

    again = events_of(list(parse_bytes(TAU_BENCH.read_bytes(), str(TAU_BENCH))))
    assert [e.event_id for e in again] == [e.event_id for e in events]
    assert again == events


@pytest.mark.parametrize("when", [1e22, -1e20, -1, 10**30])
def test_an_epoch_beyond_any_calendar_is_a_dead_letter_naming_the_field(when: float) -> None:
    record = {"eventTime": when, "eventName": "GetObject", "eventSource": "s3.amazonaws.com"}
    data = json.dumps({"Records": [record]}).encode()  # json: orjson refuses integers beyond 64 bits
    parsed = list(parse_bytes(data, "trail.json", "cloudtrail"))
    [letter] = [p for p in parsed if isinstance(p, DeadLetter)]
    assert "eventTime" in letter.reason and "out of range" in letter.reason
