"""Sigma rules in chainwatch (issue 13): translation through pySigma, matching semantics, correlations, the
untranslatable report, and the community AWS rules against the shared Stratus and Panther data. The
community rules are read from ../shared/data, never copied into the project; the rules written here are
this project's own test rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from detectors.engine import Engine, Output, Runner
from detectors.sigma_rules import load_sigma_rules
from schemas.adapters import DeadLetter, parse_bytes
from schemas.events import AnyEvent
from schemas.types import Severity
from tests.conftest import SHARED_DATA

T0 = datetime(2026, 1, 1, tzinfo=UTC)

RULES = {
    "key_for_other.yml": """
title: Access key for another user
id: 8b0c3f5e-0000-4000-8000-000000000001
name: key_for_other
status: test
author: chainwatch tests
level: high
tags: [attack.persistence, attack.t1098.001]
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: iam.amazonaws.com
    eventName: CreateAccessKey
  own:
    userIdentity.userName|fieldref: requestParameters.userName
  failed:
    errorCode|exists: true
  condition: selection and not own and not failed
falsepositives: [administrators onboarding users]
""",
    "versioning_off.yml": """
title: Bucket versioning suspended
status: experimental
level: medium
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName|startswith: PutBucketVers
    requestParameters|contains: suspended
  condition: selection
""",
    "secret_burst.yml": """
title: Secret read
name: secret_read
status: test
level: low
logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventName: GetSecretValue}
  condition: selection
---
title: Many distinct secrets read by one caller
status: test
level: high
correlation:
  type: value_count
  rules: [secret_read]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 3, field: requestParameters.secretId}
""",
    "recon_then_key.yml": """
title: Listing users
name: list_users
status: test
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: ListUsers}, condition: sel}
---
title: Key created
name: key_created
status: test
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CreateAccessKey}, condition: sel}
---
title: Users listed, then a key created
status: test
level: medium
correlation:
  type: temporal_ordered
  rules: [list_users, key_created]
  timespan: 5m
  generate: true
""",
    "untranslatable.yml": """
title: Uses a field CloudTrail does not have
status: test
logsource: {product: aws, service: cloudtrail}
detection: {sel: {status: success}, condition: sel}
---
title: Keywords only
status: test
logsource: {product: aws, service: cloudtrail}
detection: {keywords: [evil], condition: keywords}
---
title: Not CloudTrail
status: test
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4624}, condition: sel}
""",
}


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    for name, text in RULES.items():
        (tmp_path / name).write_text(text.lstrip())
    return tmp_path


def record(
    n: int, name: str, *, arn: str = "arn:aws:iam::111122223333:user/alice", **extra: Any
) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventID": f"ev-{n}",
        "eventTime": (T0 + timedelta(seconds=10 * n)).isoformat().replace("+00:00", "Z"),
        "eventSource": extra.pop("source", "iam.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "userIdentity": {
            "type": "IAMUser",
            "arn": arn,
            "userName": arn.rsplit("/", 1)[-1],
            "accountId": "111122223333",
        },
        "userAgent": "aws-cli/2.15",
        "sourceIPAddress": "203.0.113.9",
        "recipientAccountId": "111122223333",
        **extra,
    }


def run(records: list[dict[str, Any]], detectors: list[Any]) -> Output:
    events: list[AnyEvent] = [
        p for p in parse_bytes(orjson.dumps(records), "test", "cloudtrail") if not isinstance(p, DeadLetter)
    ]
    runner = Runner(Engine(detectors))
    out = runner.feed(events)
    out.extend(runner.flush())
    return out


def test_untranslatable_rules_are_reported_with_the_reason(rules_dir: Path) -> None:
    loaded = load_sigma_rules([rules_dir])
    reasons = {s.title: s.reason for s in loaded.skipped}
    assert (
        "field 'status' is not a CloudTrail field chainwatch keeps"
        in reasons["Uses a field CloudTrail does not have"]
    )
    assert "keyword" in reasons["Keywords only"]
    assert "aws/cloudtrail only" in reasons["Not CloudTrail"]
    ids = {d.id for d in loaded.detectors}
    assert {
        "sigma.key_for_other",
        "sigma.versioning_off",
        "sigma.secret_burst_2",
        "sigma.recon_then_key_3",
    } <= ids
    assert "sigma.secret_burst_1" not in ids, (
        "a rule only a correlation uses (generate: false) does not alert alone"
    )
    assert {"sigma.recon_then_key_1", "sigma.recon_then_key_2"} <= ids, "generate: true keeps the base rules"


def test_a_rule_fires_with_its_level_tags_and_author_and_respects_fieldref_and_exists(
    rules_dir: Path,
) -> None:
    loaded = load_sigma_rules([rules_dir])
    rule = next(d for d in loaded.detectors if d.id == "sigma.key_for_other")
    out = run(
        [
            record(1, "CreateAccessKey", requestParameters={"userName": "bob"}),
            record(2, "CreateAccessKey", requestParameters={"userName": "alice"}),  # own key: filtered
            record(3, "CreateAccessKey", requestParameters={"userName": "carol"}, errorCode="LimitExceeded"),
        ],
        [rule],
    )
    assert [a.event_ids for a in out.alerts] == [("ev-1",)]
    alert = out.alerts[0]
    assert alert.severity is Severity.HIGH
    assert alert.mappings.mitre_attack == ("T1098.001",)
    sigma = alert.details["sigma"]
    assert sigma["author"] == "chainwatch tests" and sigma["level"] == "high"
    assert "attack.t1098.001" in sigma["tags"]


def test_contains_on_a_whole_object_and_startswith_are_case_insensitive(rules_dir: Path) -> None:
    rule = next(d for d in load_sigma_rules([rules_dir]).detectors if d.id == "sigma.versioning_off")
    suspended = {"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended"}}
    enabled = {"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}}
    out = run(
        [
            record(1, "PutBucketVersioning", source="s3.amazonaws.com", requestParameters=suspended),
            record(2, "PutBucketVersioning", source="s3.amazonaws.com", requestParameters=enabled),
        ],
        [rule],
    )
    assert [a.event_ids for a in out.alerts] == [("ev-1",)]


def test_value_count_correlation_counts_distinct_values_per_group(rules_dir: Path) -> None:
    loaded = load_sigma_rules([rules_dir])
    burst = next(d for d in loaded.detectors if d.id == "sigma.secret_burst_2")
    reads = [
        record(
            i,
            "GetSecretValue",
            source="secretsmanager.amazonaws.com",
            requestParameters={"secretId": f"s{i % 3}"},
        )
        for i in range(4)
    ]
    two = [
        record(
            10 + i,
            "GetSecretValue",
            arn="arn:aws:iam::111122223333:user/bob",
            source="secretsmanager.amazonaws.com",
            requestParameters={"secretId": f"t{i % 2}"},
        )
        for i in range(6)
    ]
    out = run(reads + two, [burst])
    assert len(out.alerts) == 1, "alice read 3 distinct secrets; bob read the same 2 over and over"
    assert set(out.alerts[0].event_ids) == {"ev-0", "ev-1", "ev-2"}
    assert out.alerts[0].key_kind == "principal"


def test_temporal_ordered_correlation_needs_the_order(rules_dir: Path) -> None:
    chain = next(d for d in load_sigma_rules([rules_dir]).detectors if d.id == "sigma.recon_then_key_3")
    in_order = run(
        [record(1, "ListUsers"), record(2, "CreateAccessKey", requestParameters={"userName": "x"})], [chain]
    )
    reversed_ = run(
        [record(1, "CreateAccessKey", requestParameters={"userName": "x"}), record(2, "ListUsers")], [chain]
    )
    assert len(in_order.alerts) == 1 and not reversed_.alerts


def test_the_action_prefilter_skips_events_a_rule_cannot_match(rules_dir: Path) -> None:
    rule = next(d for d in load_sigma_rules([rules_dir]).detectors if d.id == "sigma.key_for_other")
    assert rule.relevant("tool_call", "iam", "CreateAccessKey")
    assert not rule.relevant("tool_call", "s3", "GetObject")


COMMUNITY = SHARED_DATA / "sigma" / "aws"
STRATUS = SHARED_DATA / "cloudtrail" / "stratus-red-team"


@pytest.mark.shared_data
def test_the_community_aws_rules_translate_and_fire_on_stratus() -> None:
    loaded = load_sigma_rules([COMMUNITY])
    assert len(loaded.detectors) + len(loaded.skipped) == 57
    assert [s.reason.split(" (")[0] for s in loaded.skipped] == [
        "field 'status' is not a CloudTrail field chainwatch keeps"
    ]
    by_id = {d.id: d for d in loaded.detectors}
    for technique, rule in [
        ("aws.defense-evasion.cloudtrail-stop", "sigma.aws_cloudtrail_disable_logging"),
        ("aws.defense-evasion.vpc-remove-flow-logs", "sigma.aws_cloudtrail_vpc_flow_logs_deleted"),
        ("aws.execution.ssm-send-command", "sigma.aws_cloudtrail_ssm_malicious_usage"),
        ("aws.exfiltration.ec2-share-ebs-snapshot", "sigma.aws_snapshot_backup_exfiltration"),
        ("aws.persistence.lambda-layer-extension", "sigma.aws_new_lambda_layer_attached"),
        ("aws.privilege-escalation.iam-update-user-login-profile", "sigma.aws_update_login_profile"),
    ]:
        records = orjson.loads((STRATUS / f"{technique}.json").read_bytes())
        assert run(records, [by_id[rule]]).alerts, f"{rule} on {technique}"
    # The same rules stay quiet on a technique they are not about.
    quiet = orjson.loads((STRATUS / "aws.defense-evasion.cloudtrail-stop.json").read_bytes())
    assert not run(quiet, [by_id["sigma.aws_snapshot_backup_exfiltration"]]).alerts
