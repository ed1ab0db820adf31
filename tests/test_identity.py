"""Identity kinds (issue 13): the identities file, the heuristics, how a key's kind settles, which detectors
judge which kinds, and the kind on chains and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from detectors.engine import Engine, Runner
from detectors.identity import IdentityFileError, IdentityResolver, Resolution, load_identities
from detectors.registry import load_catalog
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
