"""Identity kinds (issue 13): the identities file, the heuristics, how a key's kind settles, which detectors
judge which kinds, and the kind on chains and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from detectors.engine import Engine, Runner
from detectors.identity import IdentityFileError, IdentityResolver, Resolution, load_identities
from detectors.registry import load_catalog
from schemas.adapters import DeadLetter, parse_bytes
from schemas.events import AnyEvent, CredentialEvent, ToolCall
from schemas.types import CredentialAction, IdentityKind, Outcome, Severity

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "identities.yml"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def call(
    n: int = 0, *, arn: str, user_agent: str = "aws-cli/2.15", source: str = "cloudtrail", **extra: Any
) -> ToolCall:
    identity: dict[str, Any] = {"type": extra.pop("identity_type", "AssumedRole"), "arn": arn}
    identity.update(extra.pop("identity", {}))
    return ToolCall(
        event_id=f"e{n}",
        event_time=T0 + timedelta(seconds=n),
        source=source,
        session_id=extra.pop("session_id", arn),
        agent_id=arn,
        principal=extra.pop("principal", arn),
        tool=extra.pop("tool", "s3"),
        action=extra.pop("action", "ListBuckets"),
        outcome=Outcome.SUCCESS,
        arguments={"user_agent": user_agent, "user_identity": identity, **extra.pop("arguments", {})},
        **extra,
    )


def kind_of(event: AnyEvent, resolver: IdentityResolver | None = None) -> IdentityKind:
    return (resolver or IdentityResolver()).resolve(event).kind


ROLE = "arn:aws:sts::111122223333:assumed-role/{role}/{session}"


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (call(arn=ROLE.format(role="x", session="y"), source="native"), IdentityKind.AGENT),
        (
            call(arn=ROLE.format(role="ops", session="s"), user_agent="Boto3/1.34 strands-agents/0.1"),
            IdentityKind.AGENT,
        ),
        (call(arn=ROLE.format(role="ops", session="support-agent-7")), IdentityKind.AGENT),
        (call(arn=ROLE.format(role="deploy", session="1700")), IdentityKind.UNKNOWN),
        (
            call(
                arn=ROLE.format(role="deploy", session="1700"),
                user_agent="APN/1.0 HashiCorp/1.0 Terraform/1.6.0",
            ),
            IdentityKind.AUTOMATION,
        ),
        (call(arn=ROLE.format(role="ci", session="GitHubActions")), IdentityKind.AUTOMATION),
        (
            call(arn=ROLE.format(role="AWSServiceRoleForAutoScaling", session="AutoScaling")),
            IdentityKind.SERVICE,
        ),
        (
            call(
                arn="arn:aws:iam::111122223333:user/alice",
                identity_type="IAMUser",
                user_agent="console.amazonaws.com",
            ),
            IdentityKind.HUMAN,
        ),
        (
            call(arn=ROLE.format(role="AWSReservedSSO_Admin_0a1b", session="bob@example.com")),
            IdentityKind.HUMAN,
        ),
        (call(arn="arn:aws:iam::111122223333:user/ci-bot", identity_type="IAMUser"), IdentityKind.UNKNOWN),
        (
            call(
                arn="aws-unknown:111122223333", identity_type="", arguments={"event_type": "AwsServiceEvent"}
            ),
            IdentityKind.SERVICE,
        ),
    ],
    ids=[
        "native",
        "agent-ua",
        "agent-session",
        "sdk",
        "terraform",
        "ci-session",
        "service-role",
        "console",
        "sso",
        "iam-user-sdk",
        "aws-service-event",
    ],
)
def test_heuristics(event: ToolCall, kind: IdentityKind) -> None:
    assert kind_of(event) is kind


def test_identities_file_wins_over_heuristics_and_reads_tags(tmp_path: Path) -> None:
    path = tmp_path / "identities.yml"
    path.write_text(
        "version: 1\n"
        "principals:\n  - match: 'arn:aws:iam::*:role/helper*'\n    tags: {agent: 'true'}\n"
        "identities:\n"
        "  - {kind: agent, name: tagged agents, match: {tags: {agent: 'true'}}}\n"
        "  - {kind: human, match: {session_name: '*@example.com', role_name: [Admin, Ops]}}\n"
    )
    resolver = IdentityResolver(load_identities(path))
    tagged = call(
        arn=ROLE.format(role="helper-1", session="s"),
        user_agent="Terraform/1.6",
        principal="arn:aws:iam::111122223333:role/helper-1",
    )
    assert resolver.resolve(tagged) == Resolution(
        IdentityKind.AGENT, "identities file: tagged agents", from_file=True
    )
    person = call(
        arn=ROLE.format(role="Ops", session="dana@example.com"),
        principal="arn:aws:iam::111122223333:role/Ops",
    )
    assert resolver.resolve(person).kind is IdentityKind.HUMAN
    assert resolver.resolve(call(arn=ROLE.format(role="Ops", session="cron"))).kind is IdentityKind.UNKNOWN


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("identities: [{kind: robot, match: {arn: x}}]", "identities[0].kind: 'robot' is not one of"),
        ("identities: [{kind: agent, match: {colour: blue}}]", "unknown field 'colour'"),
        ("identities: [{kind: agent}]", "identities[0].match: give at least one field"),
        ("identities: [{kind: agent, match: {arn: []}}]", "give a glob pattern"),
        ("version: 2\nidentities: []", "version 2 is not supported"),
        ("identities: [oops", "not valid YAML"),
    ],
)
def test_bad_identities_files_say_where_and_what(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(IdentityFileError, match=None) as raised:
        load_identities(path)
    assert fragment in str(raised.value) and str(path) in str(raised.value)


def test_the_documented_example_file_loads() -> None:
    assert load_identities(EXAMPLE).rules


def test_a_key_kind_settles_and_only_upgrades_to_agent() -> None:
    settle = IdentityResolver.settle
    human = Resolution(IdentityKind.HUMAN, "console")
    unknown = Resolution(IdentityKind.UNKNOWN, "none")
    agent = Resolution(IdentityKind.AGENT, "agent ua")
    filed = Resolution(IdentityKind.AUTOMATION, "file", from_file=True)
    assert settle(None, unknown) == unknown
    assert settle(unknown, human) == human
    assert settle(human, unknown) == human
    assert settle(human, agent) == agent
    assert settle(agent, human) == agent
    assert settle(filed, agent) == filed
    assert settle(human, filed) == filed


def _human_key_session() -> list[AnyEvent]:
    """A person's console session that inherits nothing but uses a long-lived key: what
    credential.inherited_human judged before kinds existed."""
    arn = "arn:aws:iam::111122223333:user/alice"
    first = call(
        0,
        arn=arn,
        identity_type="IAMUser",
        user_agent="console.amazonaws.com",
        session_id="s1",
        credential_id="AKIAEXAMPLE",
    )
    issued = CredentialEvent(
        event_id="c1", event_time=T0, source="cloudtrail", session_id="s1", agent_id=arn, principal=arn,
        credential_id="AKIAEXAMPLE", action=CredentialAction.USED, inherited_from_human=True,
    )  # fmt: skip
    return [first, issued]


def test_agent_centric_detectors_do_not_judge_people_and_the_kind_reaches_chains_and_alerts() -> None:
    catalog = load_catalog()
    inherited = catalog.by_id("credential.inherited_human")
    runner = Runner(Engine([inherited]))
    out = runner.feed(_human_key_session())
    out.extend(runner.flush())
    assert not out.findings, "a human's own session is not judged by an agent-centric detector"
    assert {c.identity_kind for c in out.chains} == {IdentityKind.HUMAN}
    assert out.chains[-1].identity_reason and "heuristic" in out.chains[-1].identity_reason


def test_unknown_principals_are_judged_one_step_lower_and_say_so() -> None:
    inherited = load_catalog().by_id("credential.inherited_human")
    events = _human_key_session()
    events[0] = events[0].model_copy(
        update={"arguments": {"user_agent": "aws-cli/2", "user_identity": {"type": "IAMUser"}}}
    )
    runner = Runner(Engine([inherited]))
    out = runner.feed(events)
    out.extend(runner.flush())
    assert out.alerts, "unknown principals are still judged"
    alert = out.alerts[0]
    assert alert.identity_kind is IdentityKind.UNKNOWN
    assert alert.severity is Severity.MEDIUM  # HIGH, one step lower
    assert "one severity step lower" in alert.details["identity_note"]


# ---- STS session tags (detectors/identity/session_tags.py): real CloudTrail records through the adapter

ACCOUNT = "111122223333"


def _assume(
    n: int, caller: str, caller_key: str, role: str, session: str, new_key: str, **request: Any
) -> dict[str, Any]:
    """A CloudTrail AssumeRole record: ``caller`` (an assumed-role ARN) makes the session ``role/session``."""
    return {
        "eventVersion": "1.08",
        "eventTime": f"2026-01-01T00:0{n}:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.0.0.1",
        "userAgent": "Boto3/1.34 Python/3.12",
        "eventID": f"assume-{n}",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": caller,
            "accountId": ACCOUNT,
            "accessKeyId": caller_key,
        },
        "requestParameters": {
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "roleSessionName": session,
            **request,
        },
        "responseElements": {
            "credentials": {"accessKeyId": new_key, "expiration": "Jan 1, 2026, 1:00:00 AM"},
            "assumedRoleUser": {
                "arn": ROLE.format(role=role, session=session),
                "assumedRoleId": f"AROA:{session}",
            },
        },
    }


def _list_buckets(n: int, role: str, session: str, key: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventTime": f"2026-01-01T00:0{n}:30Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.0.0.1",
        "userAgent": "Boto3/1.34 Python/3.12",
        "eventID": f"list-{n}",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": ROLE.format(role=role, session=session),
            "accountId": ACCOUNT,
            "accessKeyId": key,
        },
    }


def _kinds(records: list[dict[str, Any]], resolver: IdentityResolver | None = None) -> dict[str, str]:
    """Session ARN -> the kind its chain settled on, after a replay of the records through the adapter."""
    events = [
        e for e in parse_bytes(orjson.dumps(records), "tags", "cloudtrail") if not isinstance(e, DeadLetter)
    ]
    runner = Runner(Engine([load_catalog().by_id("cloud.sensitive_api")], identities=resolver))
    out = runner.feed(events)
    out.extend(runner.flush())
    return {c.session_id: str(c.identity_kind) for c in out.chains}


APP = ROLE.format(role="app-runtime", session="i-0abc")


def test_an_agent_session_tag_makes_the_sessions_calls_an_agent_and_untagged_sessions_stay_unknown() -> None:
    tagged = [
        _assume(0, APP, "ASIAAPP", "ops", "task-1700", "ASIATASK", tags=[{"key": "agent", "value": "true"}]),
        _list_buckets(1, "ops", "task-1700", "ASIATASK"),
    ]
    assert _kinds(tagged)[ROLE.format(role="ops", session="task-1700")] == "agent"
    untagged = [
        _assume(0, APP, "ASIAAPP", "ops", "task-1700", "ASIATASK"),
        _list_buckets(1, "ops", "task-1700", "ASIATASK"),
    ]
    assert _kinds(untagged)[ROLE.format(role="ops", session="task-1700")] == "unknown"
    not_an_agent = [
        _assume(0, APP, "ASIAAPP", "ops", "task-1700", "ASIATASK", tags=[{"Key": "agent", "Value": "false"}]),
        _list_buckets(1, "ops", "task-1700", "ASIATASK"),
    ]
    assert _kinds(not_an_agent)[ROLE.format(role="ops", session="task-1700")] == "unknown"


def test_transitive_session_tags_follow_a_role_chain_and_others_do_not(tmp_path: Path) -> None:
    path = tmp_path / "identities.yml"
    path.write_text("identities:\n  - {kind: automation, name: batch team, match: {tags: {team: batch}}}\n")
    records = [
        _assume(
            0,
            APP,
            "ASIAAPP",
            "ops",
            "first",
            "ASIA1",
            transitiveTagKeys=["agent"],
            tags=[{"key": "agent", "value": "yes"}, {"key": "team", "value": "batch"}],
        ),
        _assume(1, ROLE.format(role="ops", session="first"), "ASIA1", "data", "second", "ASIA2"),
        _list_buckets(2, "data", "second", "ASIA2"),
        _assume(3, APP, "ASIAAPP", "ops", "third", "ASIA3", tags=[{"key": "team", "value": "batch"}]),
        _list_buckets(4, "ops", "third", "ASIA3"),
    ]
    kinds = _kinds(records, IdentityResolver(load_identities(path)))
    assert kinds[ROLE.format(role="data", session="second")] == "agent"  # the transitive agent tag
    assert kinds[ROLE.format(role="ops", session="third")] == "automation"  # the file's rule on a session tag


def test_a_denied_assume_role_teaches_no_tags_and_a_retag_replaces_the_old_one() -> None:
    denied = _assume(0, APP, "ASIAAPP", "ops", "s", "ASIAX", tags=[{"key": "agent", "value": "true"}])
    denied["errorCode"] = "AccessDenied"
    del denied["responseElements"]
    assert (
        _kinds([denied, _list_buckets(1, "ops", "s", "ASIAX")])[ROLE.format(role="ops", session="s")]
        == "unknown"
    )
    again = [
        _assume(0, APP, "ASIAAPP", "ops", "s", "ASIAOLD", tags=[{"key": "agent", "value": "true"}]),
        _assume(1, APP, "ASIAAPP", "ops", "s", "ASIANEW"),  # the same session name, now without tags
        _list_buckets(2, "ops", "s", "ASIANEW"),
    ]
    resolver = IdentityResolver()
    _kinds(again, resolver)
    session_call = ToolCall(
        event_id="x",
        event_time=T0,
        source="cloudtrail",
        session_id="x",
        agent_id=ROLE.format(role="ops", session="s"),
        tool="s3",
        action="ListBuckets",
        credential_id="ASIANEW",
        arguments={"user_identity": {"type": "AssumedRole"}},
    )
    assert resolver.resolve(session_call).kind is IdentityKind.UNKNOWN
