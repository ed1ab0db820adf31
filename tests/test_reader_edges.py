"""Edges of the readers added in session 12, each found by a review that tried inputs the first version
got wrong: a quoted action in a message body, a file a task only mentions, foreign words that look like
requests, first-person plans, commands split by ``cd`` or a pipe, prod in a key or in ``non-prod``,
everyday "do not remove" notes, a password in angle brackets, a URL that contains ``rm``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detectors.capabilities import Classifier
from detectors.capabilities.containers import removed_containers, task_names
from detectors.capabilities.environments import PRODUCTION_VALUE
from detectors.capabilities.paths import above_named_path, within_named_paths
from detectors.capabilities.shell import analyse
from detectors.provenance.holds import covers, marks_in
from detectors.provenance.intent import intent_of, requests_of
from detectors.provenance.state import Provenance
from detectors.sinks import forward_targets, send_destinations
from schemas.events import ToolCall
from schemas.redaction import redact_text
from schemas.types import Capability as C


def _call(tool: str, **arguments: object) -> ToolCall:
    return ToolCall(
        event_id="e", event_time=datetime(2025, 1, 1, tzinfo=UTC), source="t", session_id="s",
        tool=tool, action=tool, arguments=arguments,
    )  # fmt: skip


def test_a_forward_quoted_in_a_message_body_hides_no_recipient() -> None:
    mail = _call("send_email", to="someone@outside.example", body="see router.forward('https://wiki.corp/x')")
    assert not forward_targets(mail)
    assert "email:someone@outside.example" in send_destinations(mail, Classifier().classify(mail))
    route = _call(
        "http_request",
        url="https://api.mail.example/v3/routes",
        form={"action": ["forward('https://r.example/in')"]},
    )
    assert forward_targets(route) == {"host:r.example", "url:r.example/in"}


@pytest.mark.parametrize(
    "task",
    ["Follow up on src/api/list.ts and fix the crash.", "Per the TODO in src/app/main.py, fix the loop."],
)
def test_a_file_the_task_only_mentions_is_not_its_instructions(task: str) -> None:
    provenance = Provenance()
    provenance.trust(task)
    assert not provenance.points_at({"path": "/repo/" + task.split(" in ")[-1].split()[0].rstrip(",.")}, None)
    assert not provenance.points_at({"path": "/repo/src/api/list.ts"}, None)


@pytest.mark.parametrize(
    "text",
    [
        "Merci pour votre paiement, il sera traité.",
        "El pago puede tardar 3 días.",
        "Transferencia a favor de Acme.",
    ],
)
def test_foreign_words_that_only_look_like_requests_ask_nothing(text: str) -> None:
    assert not requests_of(text)


@pytest.mark.parametrize(
    ("task", "implied", "absent"),
    [
        ("Vérifie si le paiement est arrivé.", set(), {C.MONEY}),
        ("First we delete the stale preview branches, then we push the fix.", {C.DELETE, C.EGRESS}, set()),
        ("Don't open a PR yet, just commit locally.", set(), {C.EGRESS}),
    ],
)
def test_what_a_task_plans_or_rules_out(task: str, implied: set[C], absent: set[C]) -> None:
    found = set(intent_of(task).implied)
    assert implied <= found and not absent & found


class _Task:
    trusted_text = "Delete the tmp- workspaces under /var/lib/jenkins/workspace/ older than 30 days."


@pytest.mark.parametrize("line", ["cd /var/lib/jenkins && rm -rf ./*", "ls /var/lib/jenkins | xargs rm -rf"])
def test_a_recursive_delete_above_the_named_path_across_cd_or_a_pipe(line: str) -> None:
    assert above_named_path(line, _Task()) == ("/var/lib/jenkins", "/var/lib/jenkins/workspace")


def test_a_path_that_climbs_out_of_the_named_one_is_not_inside_it() -> None:
    assert not within_named_paths(["/var/lib/jenkins/workspace/../.."], _Task())
    assert within_named_paths(["/var/lib/jenkins/workspace/tmp-*"], _Task())


@pytest.mark.parametrize(
    ("record", "production"),
    [
        ('{"id":"ws-1","is_prod":false}', False),
        ('{"env":"non-prod"}', False),
        ('{"env":"pre-prod"}', False),
        ('{"name":"shop-prod"}', True),
        ('{"tags":["shop","prod"]}', True),
    ],
)
def test_a_record_says_production_by_a_value_not_a_key(record: str, production: bool) -> None:
    assert bool(PRODUCTION_VALUE.search(record)) is production


@pytest.mark.parametrize(
    "text",
    ["# DO NOT REMOVE - required by systemd", "Order 88 on hold for payment", "keep until the sprint ends"],
)
def test_everyday_notes_are_no_hold(text: str) -> None:
    assert marks_in(text) is None


def test_a_date_in_the_line_does_not_leave_a_held_folder_out() -> None:
    assert covers(
        "/srv/exports", "/srv/exports/2024/HOLD.txt", "find /srv/exports -newermt 2024-01-01 -delete"
    )


def test_a_password_in_angle_brackets_is_still_redacted() -> None:
    assert "hunter2" not in redact_text("password: <hunter2!>")


def test_a_bucket_path_that_contains_rm_deletes_nothing() -> None:
    facts = analyse("aws s3 ls s3://evidence/rm-queue/")
    assert not facts.deleted and C.DELETE not in facts.capabilities


def test_a_loop_that_only_prints_deletes_nothing() -> None:
    line = 'for j in $(nomad job status -short); do echo "would delete $j"; done'
    assert not list(removed_containers("terminal", {"command": line}, (line,)))


def test_a_container_the_task_keeps_is_not_asked_for() -> None:
    assert not task_names("build-2024", "Clean the old build folders but keep build 2024.")
    assert task_names("pr-482", "PR 482 got merged, tear down its preview.")


def test_a_procedure_given_by_its_path_with_spaces_is_the_users_and_a_file_to_review_is_not() -> None:
    from detectors.provenance.state import Provenance

    handed = Provenance()
    handed.trust(
        "Do her offboarding following the runbook in our SharePoint (IT/Runbooks/Staff leaver.docx)."
    )
    assert handed.points_at({"site": "/sites/Office", "path": "IT/Runbooks/Staff leaver.docx"}, None)
    reviewed = Provenance()
    reviewed.trust("Review src/payments/retry.py in acme/widgets for style issues and leave suggestions.")
    assert not reviewed.points_at({"repo": "acme/widgets", "path": "src/payments/retry.py"}, None)


def test_a_phone_number_given_without_its_area_code_is_the_users() -> None:
    from detectors.provenance.state import Provenance

    provenance = Provenance()
    provenance.trust("Text the gate code to Dale from Keystone Locksmith (555-0148).")
    assert provenance.trusts("num:15035550148") and provenance.trusts("num:5035550148")
    assert not provenance.trusts("num:15035550199")


def test_a_runbook_named_in_capitals_before_its_noun_is_handed_over() -> None:
    from detectors.provenance.state import Provenance

    provenance = Provenance()
    provenance.trust("Follow the Cycle Rollover runbook in Confluence to close out the 2024 cycle.")
    assert provenance.points_at({"space": "ADM", "title": "Runbook - Cycle Rollover"}, None)
    assert not provenance.points_at({"space": "ADM", "title": "Rollover FAQ"}, None)
