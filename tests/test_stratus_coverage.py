"""Stratus Red Team detonation logs replayed through the whole catalog: which techniques raise which alerts.

Each of the 35 files in ../shared/data/cloudtrail/stratus-red-team/ is one attack technique's CloudTrail
records. ``COVERED`` says which cloud detectors must alert on it (and, for those detectors, nothing else
may); ``NOT_COVERED`` says why a technique has no cloud detector. The same table is in docs/catalog.md.
Detectors outside ``CLOUD_DETECTORS`` (the credential and agent families) may alert too; they are not
checked here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.engine import Engine, Output, Runner
from detectors.registry import Catalog, load_catalog
from schemas.adapters import DeadLetter, parse_bytes
from schemas.events import AnyEvent
from tests.conftest import SHARED_DATA

STRATUS = SHARED_DATA / "cloudtrail" / "stratus-red-team"

HARVEST = ("credential.secret_read_burst", "behaviour.machine_speed_sensitive")
AUDIT = ("evasion.audit_logging_disabled",)
REMOTE = ("execution.remote_instance_access",)
SHARE = ("exfiltration.cross_account_share",)
BACKDOOR = ("persistence.backdoor_identity",)
TABLE = (
    "cloud.sensitive_api"  # the sensitive-API table (admin policy granted, bulk secret reads, GPU launches)
)

COVERED: dict[str, tuple[str, ...]] = {
    "aws.credential-access.ec2-get-password-data": HARVEST,
    "aws.credential-access.ec2-steal-instance-credentials": REMOTE,
    "aws.credential-access.secretsmanager-batch-retrieve-secrets": (*HARVEST, TABLE),
    "aws.credential-access.secretsmanager-retrieve-secrets": HARVEST,
    "aws.credential-access.ssm-retrieve-securestring-parameters": HARVEST,
    "aws.defense-evasion.cloudtrail-delete": AUDIT,
    "aws.defense-evasion.cloudtrail-event-selectors": AUDIT,
    "aws.defense-evasion.cloudtrail-stop": AUDIT,
    "aws.defense-evasion.dns-delete-logs": AUDIT,
    "aws.defense-evasion.organizations-leave": (TABLE,),  # leave_organization (a denied attempt)
    "aws.defense-evasion.vpc-remove-flow-logs": AUDIT,
    "aws.discovery.ec2-download-user-data": HARVEST,
    "aws.execution.ec2-user-data": (TABLE,),  # user_data_modified
    "aws.execution.ssm-send-command": REMOTE,
    "aws.execution.ssm-start-session": REMOTE,
    "aws.exfiltration.ec2-security-group-open-port-22-ingress": ("exposure.public_access",),
    "aws.exfiltration.ec2-share-ami": SHARE,
    "aws.exfiltration.ec2-share-ebs-snapshot": SHARE,
    "aws.exfiltration.rds-share-snapshot": SHARE,
    "aws.impact.bedrock-invoke-model": ("impact.bedrock_model_hijack",),
    "aws.execution.ec2-launch-unusual-instances": (TABLE,),  # a denied GPU launch (issue 13)
    "aws.lateral-movement.ec2-instance-connect": REMOTE,
    "aws.lateral-movement.ec2-serial-console-send-ssh-public-key": REMOTE,
    "aws.persistence.iam-backdoor-role": BACKDOOR,
    "aws.persistence.iam-backdoor-user": BACKDOOR,
    "aws.persistence.iam-create-admin-user": (*BACKDOOR, "privilege.escalation_chain", TABLE),
    "aws.initial-access.console-login-without-mfa": (TABLE,),  # console_login_without_mfa
    "aws.persistence.iam-create-backdoor-role": (*BACKDOOR, TABLE),
    "aws.persistence.iam-create-user-login-profile": BACKDOOR,
    "aws.persistence.lambda-backdoor-function": (*BACKDOOR, "exposure.public_access"),
    "aws.persistence.lambda-layer-extension": BACKDOOR,
    "aws.persistence.lambda-overwrite-code": BACKDOOR,
    "aws.persistence.rolesanywhere-create-trust-anchor": BACKDOOR,
    "aws.persistence.sts-federation-token": BACKDOOR,
    "aws.privilege-escalation.iam-update-user-login-profile": BACKDOOR,
}

NOT_COVERED: dict[str, str] = {}

# The detectors this table is about: for them, an alert on a technique not listed for it is a failure.
CLOUD_DETECTORS = frozenset(d for ids in COVERED.values() for d in ids)


def replay(path: Path, catalog: Catalog) -> Output:
    parsed = list(parse_bytes(path.read_bytes(), path.name, "cloudtrail"))
    assert not [p for p in parsed if isinstance(p, DeadLetter)], f"{path.name}: records the adapter rejected"
    events: list[AnyEvent] = [p for p in parsed if not isinstance(p, DeadLetter)]
    runner = Runner(Engine(catalog.detectors))
    output = runner.feed(events)
    output.extend(runner.flush())
    return output


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_the_table_names_real_detectors(catalog: Catalog) -> None:
    known = {d.id for d in catalog.detectors}
    assert known >= CLOUD_DETECTORS, sorted(CLOUD_DETECTORS - known)
    assert not set(COVERED) & set(NOT_COVERED)


@pytest.mark.shared_data
@pytest.mark.skipif(not STRATUS.is_dir(), reason=f"shared data absent: {STRATUS}")
def test_every_technique_file_is_in_the_table() -> None:
    techniques = {p.stem for p in STRATUS.glob("aws.*.json")}
    assert len(techniques) == 35
    assert techniques == set(COVERED) | set(NOT_COVERED)


@pytest.mark.shared_data
@pytest.mark.skipif(not STRATUS.is_dir(), reason=f"shared data absent: {STRATUS}")
@pytest.mark.parametrize("technique", sorted(COVERED))
def test_technique_raises_the_expected_alerts(technique: str, catalog: Catalog) -> None:
    output = replay(STRATUS / f"{technique}.json", catalog)
    alerted = {a.detector_id for a in output.alerts}
    expected = set(COVERED[technique])
    assert expected <= alerted, f"missing {sorted(expected - alerted)}; alerts: {sorted(alerted)}"
    unexpected = (alerted & CLOUD_DETECTORS) - expected
    assert not unexpected, f"{sorted(unexpected)} also alerted: add them to the table or fix the over-match"
