"""The sensitive-API table's conventions, the reusable scoring, and the labelled CloudTrail evaluation
(issue 13): Stratus 35/35 with >= 70 % of alerts on attack calls; the Panther figures as regression floors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.cloudtrail_eval import (
    Note,
    PantherResult,
    check_notes,
    engine_factory,
    evaluate_panther,
    evaluate_stratus,
    load_notes,
)
from detectors.cloud.table import TABLE_PATH, TableError, load_table
from detectors.engine import Engine, Runner
from detectors.evaluation import Label, Score, score
from detectors.registry import load_catalog
from schemas.alerts import Alert
from schemas.events import ToolCall
from schemas.types import Outcome, Severity
from tests.conftest import SHARED_DATA


def test_table_entries_are_complete_and_owners_exist() -> None:
    checks = load_table()
    ids = {d.id for d in load_catalog().detectors}
    assert len(checks) >= 80
    for check in checks:
        assert check.benign and check.mappings.mitre_attack, check.id
        assert check.owner is None or check.owner in ids, f"{check.id}: owner {check.owner} is no detector"
    tactics = {c.tactic for c in checks}
    assert {"defense-evasion", "credential-access", "persistence", "privilege-escalation", "exfiltration",
            "impact", "execution", "discovery"} <= tactics  # fmt: skip


def test_table_conditions_never_key_on_user_agents_or_account_ids() -> None:
    text = TABLE_PATH.read_text(encoding="utf-8")
    conditions = [line for line in text.splitlines() if line.startswith("      ") and "when" not in line]
    assert not [c for c in conditions if "user_agent" in c]
    assert not re.search(r"\b\d{12}\b", text), "no account ids in the table"


def test_a_bad_table_entry_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text(
        "checks:\n  - {id: x, calls: [Foo], severity: loud, tactic: t, title: t, attack: [T1], benign: b}\n"
    )
    with pytest.raises(TableError, match=r"checks\[0\] \(x\)\.severity"):
        load_table(path)


def _alert(ids: tuple[str, ...]) -> Alert:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Alert(
        alert_id="a" + "".join(ids), detector_id="x.y", key="k", session_id="s", severity=Severity.LOW,
        risk_score=1.0, title="t", event_ids=ids, first_seen=now, last_seen=now,
    )  # fmt: skip


def test_scoring_counts_evidence_groups_and_derived_ids() -> None:
    labels = {
        "a1": Label(True, "tech-a"),
        "a2": Label(True, "tech-a"),
        "b1": Label(True, "tech-b"),
        "n1": Label(False, "tech-a"),
    }
    result = score([_alert(("a1:credential",)), _alert(("n1",)), _alert(("zz",))], labels)
    assert (result.positives_flagged, result.positives, result.negatives_flagged) == (1, 3, 1)
    assert result.groups == {"tech-a": True, "tech-b": False} and result.groups_found == 1
    assert result.detections == 3 and result.detections_on_positive == 1
    assert result.missed == ["a2", "b1"] and result.false_flags == ["n1"]


STRATUS = SHARED_DATA / "cloudtrail" / "stratus-red-team"
PANTHER = SHARED_DATA / "cloudtrail" / "panther" / "rules"


@pytest.mark.shared_data
@pytest.mark.slow
def test_stratus_every_technique_alerted_and_alerts_hold_attack_calls() -> None:
    result = evaluate_stratus(STRATUS, engine_factory(None, None))
    assert result.alerts.groups_found == 35, sorted(t for t, f in result.alerts.groups.items() if not f)
    assert result.alerts.precision >= 0.70
    # the noise check on a corpus the Panther work was not tuned on: low+ findings land on attack calls
    # (145, was 148: a public key a call sends, SendSSHPublicKey's argument, is no secret the session read;
    # 143 since session 11: nor is SendSSHPublicKey itself a secret read — a call that only sets or sends a
    # key and gets none back — so the medium secret-flow findings after it in ec2-instance-connect went)
    assert result.findings.precision >= 0.95 and result.findings.detections >= 143


@pytest.mark.shared_data
@pytest.mark.slow
def test_panther_figures_do_not_regress_and_every_difference_is_classified() -> None:
    """Floors at the figures measured after the Panther-gap work (docs/catalog.md); raise them with it. Every
    record chainwatch scores against its label has a note (benchmarks/panther_notes.yml), and no note is
    stale: a note cannot hide a regression, and a fix must remove its note."""
    result = evaluate_panther(PANTHER, engine_factory(None, None))
    assert not result.stale, result.stale
    assert not result.unclassified, result.unclassified
    assert result.findings.recall >= 0.89  # as counted: 189/212
    assert result.explained["findings"].recall >= 0.94  # 189/200
    assert result.flags.false_positive_rate <= 0.10  # 25/252
    # 164/212 (161 before an MFA-step failure and unencrypted manual DB snapshots became low+ findings)
    assert result.flags.recall >= 0.77
    assert result.explained["flags"].recall >= 0.82  # 164/200
    assert result.explained["matched"].recall >= 0.92  # 185/200 at Panther's own severity
    assert result.explained["matched"].false_positive_rate <= 0.01  # 1/205
    assert result.alerts.false_positive_rate <= 0.09  # 22/252
    assert result.explained["findings"].false_positive_rate <= 0.02  # 2/205: state notes only


def test_panther_notes_refuse_a_record_noted_twice(tmp_path: Path) -> None:
    path = tmp_path / "notes.yml"
    path.write_text(
        "principle: [{why: a, records: [r1]}]\nstate: [{why: b, records: [r1]}]\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="r1 is noted twice"):
        load_notes(path)
    path.write_text("opinion: [{why: a, records: [r1]}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown categories"):
        load_notes(path)


def test_a_note_that_no_longer_holds_is_stale() -> None:
    result = PantherResult(findings=Score(missed=["a"], false_flags=["b"]), flags=Score(), alerts=Score())
    result.labels = {"a": Label(True), "b": Label(False), "c": Label(False)}
    result.notes = {"a": Note("state", "x"), "c": Note("principle", "y"), "gone": Note("state", "z")}
    check_notes(result)
    assert result.stale == ["c: now scored as labelled", "gone: no such record"]
    assert result.unclassified == ["b"]


def test_a_should_alert_record_held_by_an_info_finding_only_needs_a_building_block_note() -> None:
    """``a`` is held by nothing, ``i`` and ``j`` by an info finding only, ``f`` by a low+ finding: the low+
    misses ``i`` and ``j`` need a building_block note; such a note on ``f`` or ``a`` is stale."""
    result = PantherResult(findings=Score(missed=["a"]), flags=Score(missed=["a", "i", "j"]), alerts=Score())
    result.labels = {r: Label(True) for r in ("a", "i", "j", "f")}
    result.notes = {
        "a": Note("building_block", "w"),
        "i": Note("building_block", "x"),
        "f": Note("building_block", "y"),
    }
    check_notes(result)
    assert result.stale == [
        "a: no longer held by an info building block only",
        "f: no longer held by an info building block only",
    ]
    assert result.unclassified == ["a", "j"]  # a: missed by every finding, with no principle/state note


# ---- kinds and attempts in the table (issue 13): each graded condition, and the look-alike it must not raise


def _graded(
    action: str,
    *,
    tool: str,
    user_agent: str,
    outcome: Outcome = Outcome.SUCCESS,
    arguments: dict[str, object] | None = None,
) -> list[tuple[str, Severity, bool]]:
    """(check, severity, alert) of the sensitive-API findings on one CloudTrail call by the principal that
    user agent marks (console: a person; Terraform: automation; a plain SDK: unknown)."""
    event = ToolCall(
        event_id="t1",
        event_time=datetime(2026, 1, 1, tzinfo=UTC),
        source="cloudtrail",
        session_id="s",
        agent_id="arn:aws:sts::111122223333:assumed-role/ops/s",
        tool=tool,
        action=action,
        outcome=outcome,
        arguments={"user_agent": user_agent, "user_identity": {"type": "AssumedRole"}, **(arguments or {})},
    )
    runner = Runner(Engine([load_catalog().by_id("cloud.sensitive_api")]))
    out = runner.feed([event])
    out.extend(runner.flush())
    alerted = {e for a in out.alerts for e in a.event_ids}
    return [(str(f.details["check"]), f.severity, "t1" in alerted) for f in out.findings]


SCRIPT, CONSOLE, TERRAFORM = "aws-cli/2.15 Python/3.11", "console.amazonaws.com", "Terraform/1.7 hashicorp"


@pytest.mark.parametrize(
    ("action", "tool", "user_agent", "expected"),
    [
        ("CreateUser", "iam", CONSOLE, ("user_created", Severity.LOW)),  # made by hand
        ("CreateUser", "iam", SCRIPT, ("user_created", Severity.LOW)),
        ("CreateUser", "iam", TERRAFORM, ("user_created", Severity.INFO)),  # the code that manages it
        ("CreateRole", "iam", CONSOLE, ("role_created", Severity.LOW)),
        ("CreateRole", "iam", TERRAFORM, ("role_created", Severity.INFO)),
        ("GetSendQuota", "ses", SCRIPT, ("mail_recon", Severity.LOW)),  # SES abuse's first step
        ("GetSendQuota", "ses", CONSOLE, ("mail_recon", Severity.INFO)),  # the SES console page
        ("GetAlternateContact", "account", SCRIPT, ("account_recon", Severity.LOW)),
        ("GetAlternateContact", "account", CONSOLE, ("account_recon", Severity.INFO)),
        ("GetAccountPasswordPolicy", "iam", TERRAFORM, ("account_recon", Severity.INFO)),
    ],
)
def test_a_check_weighs_the_principal_kind(
    action: str, tool: str, user_agent: str, expected: tuple[str, Severity]
) -> None:
    assert [(c, s) for c, s, _ in _graded(action, tool=tool, user_agent=user_agent)] == [expected]


@pytest.mark.parametrize(
    ("action", "tool", "arguments", "expected"),
    [
        ("GetSecretValue", "secretsmanager", {}, ("secret_read", Severity.LOW)),
        ("GetParameter", "ssm", {"withDecryption": True}, ("secure_parameter_read", Severity.LOW)),
        (
            "DescribeInstanceAttribute",
            "ec2",
            {"attribute": "userData"},
            ("instance_user_data_read", Severity.LOW),
        ),
        ("GetPasswordData", "ec2", {}, ("instance_password_read", Severity.MEDIUM)),
    ],
)
def test_a_denied_credential_read_is_as_severe_as_a_read_and_never_an_alert(
    action: str, tool: str, arguments: dict[str, object], expected: tuple[str, Severity]
) -> None:
    denied = _graded(action, tool=tool, user_agent=SCRIPT, outcome=Outcome.DENIED, arguments=arguments)
    assert [(c, s) for c, s, _ in denied] == [expected]
    assert not any(alert for _, _, alert in denied)


def test_other_denied_attempts_stay_one_step_lower() -> None:
    """The look-alike of the probe rule: a denied bulk read (attempts: finding) is one step lower."""
    assert _graded(
        "BatchGetSecretValue", tool="secretsmanager", user_agent=SCRIPT, outcome=Outcome.DENIED
    ) == [("secrets_read_in_bulk", Severity.LOW, False)]
    plain = _graded("GetParameter", tool="ssm", user_agent=SCRIPT, outcome=Outcome.DENIED)  # no decryption
    assert plain == [("denied_recon", Severity.INFO, False)]  # a denied read of a plain value: discovery


FAILED_SIGN_IN = {
    "response": {"ConsoleLogin": "Failure"},
    "user_identity": {"type": "IAMUser", "userName": "anaya"},
}


@pytest.mark.parametrize(
    ("additional", "error_message", "expected"),
    [
        ({"MFAUsed": "Yes"}, "Failed authentication", ("console_mfa_failed", Severity.MEDIUM)),
        # a wrong password; then a failure that records no authentication error
        ({"MFAUsed": "No"}, "Failed authentication", ("console_login_failed", Severity.INFO)),
        ({"MFAUsed": "Yes"}, None, ("console_login_failed", Severity.INFO)),
    ],
)
def test_a_sign_in_that_fails_at_the_mfa_step_is_a_finding_a_wrong_password_a_building_block(
    additional: dict[str, str], error_message: str | None, expected: tuple[str, Severity]
) -> None:
    """MFAUsed "Yes" on a failed sign-in with an authentication error: the password passed, the second
    factor did not (someone holds the password). A wrong password never reaches the MFA step."""
    arguments = {**FAILED_SIGN_IN, "additional": additional, "error_message": error_message}
    graded = _graded("ConsoleLogin", tool="signin", user_agent="Mozilla/5.0", outcome=Outcome.DENIED,
                     arguments=arguments)  # fmt: skip
    assert [(c, s) for c, s, _ in graded] == [expected]
    assert not any(alert for _, _, alert in graded)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"snapshotType": "manual", "encrypted": False}, [("db_snapshot_unencrypted", Severity.LOW)]),
        ({"snapshotType": "manual", "encrypted": True}, [("db_snapshot_created", Severity.INFO)]),
        ({"snapshotType": "manual"}, [("db_snapshot_created", Severity.INFO)]),  # the response says nothing
        ({"snapshotType": "automated", "encrypted": False}, []),
    ],
)
def test_an_unencrypted_manual_snapshot_is_low_whoever_takes_it(
    response: dict[str, object], expected: list[tuple[str, Severity]]
) -> None:
    """An unencrypted snapshot can be shared with any account or made public by one attribute change; AWS
    never lets an encrypted one be public. Infrastructure code taking it is no excuse: the copy is the
    risk."""
    for user_agent in (SCRIPT, TERRAFORM):
        graded = _graded(
            "CreateDBSnapshot", tool="rds", user_agent=user_agent, arguments={"response": response}
        )
        assert [(c, s) for c, s, _ in graded] == expected


def test_a_bad_severity_by_kind_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text(
        "checks:\n  - {id: x, calls: [Foo], severity: low, severity_by_kind: {robot: info}, tactic: t,"
        " title: t, attack: [T1], benign: b}\n"
    )
    with pytest.raises(TableError, match=r"checks\[0\] \(x\)\.severity_by_kind\.robot: kinds among"):
        load_table(path)
