"""An alert view as an OCSF 1.8.0 Detection Finding (class_uid 2004, category Findings).

The mapping table is in docs/alerts.md. tests/test_ocsf.py validates every alert the catalog raises
on the shared CloudTrail data against the JSON Schema generated from the published OCSF 1.8.0 export
(package ``ocsf-json-schema``), so a field this module gets wrong fails there.
"""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from streams.alerts.view import AlertView, TimelineEvent

OCSF_VERSION = "1.8.0"
CLASS_UID = 2004  # Detection Finding
CATEGORY_UID = 2  # Findings
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200401: Detection Finding: Create

# chainwatch severity -> OCSF severity_id / risk_level_id (captions from the OCSF enums)
SEVERITY_IDS = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_CAPTIONS = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
RISK_LEVEL_IDS = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
RISK_LEVEL_CAPTIONS = {0: "Info", 1: "Low", 2: "Medium", 3: "High", 4: "Critical"}
# finding status: New; In Progress (an analyst confirmed it: true-positive); Suppressed (a suppression
# rule matched, or the verdict was false-positive or benign; OCSF: "reviewed, determined to be benign or
# a false positive")
STATUS_NEW, STATUS_IN_PROGRESS, STATUS_SUPPRESSED = 1, 2, 3
STATUS_CAPTIONS = {1: "New", 2: "In Progress", 3: "Suppressed"}
ANALYTIC_RULE = 1  # analytic.type_id "Rule": every chainwatch detector is a rule or a coded rule


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _product_version() -> str:
    try:
        return version("chainwatch")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


def _attack(technique_id: str) -> dict[str, Any]:
    """T1098.003 -> technique T1098 with sub-technique T1098.003 (OCSF attack object)."""
    base, _, _sub = technique_id.partition(".")
    url = "https://attack.mitre.org/techniques/" + technique_id.replace(".", "/")
    attack: dict[str, Any] = {"technique": {"uid": base}, "version": "v17"}
    if _sub:
        attack["sub_technique"] = {"uid": technique_id, "src_url": url}
    else:
        attack["technique"]["src_url"] = url
    return attack


def _evidence(view: AlertView, event: TimelineEvent) -> dict[str, Any]:
    alert = view.alert
    actor: dict[str, Any] = {
        "app_name": alert.agent_id or "unknown agent",
        "session": _drop_none(
            {
                "uid": alert.session_id,
                "credential_uid": event.credential_id,
                "created_time": _ms(view.session_started),
            }
        ),
    }
    if alert.principal:
        actor["user"] = {"uid": alert.principal, "name": alert.principal}
    evidence: dict[str, Any] = {
        "uid": event.event_id,
        "name": f"{event.tool or event.kind} {event.action or ''}".strip(),
        "actor": actor,
        "data": _drop_none(
            {
                "time": event.time.isoformat(),
                "kind": event.kind,
                "decision": event.decision,
                "outcome": event.outcome,
                "environment": event.environment,
                "credential_id": event.credential_id,
                "triggering": event.triggering,
            }
        ),
    }
    if event.action:
        evidence["api"] = _drop_none(
            {"operation": event.action, "service": {"name": event.tool or event.kind}}
        )
    if event.target:
        evidence["resources"] = [{"uid": event.target, "name": event.target, "type": "target"}]
    return evidence


def _resources(view: AlertView) -> list[dict[str, Any]]:
    targets = dict.fromkeys(e.target for e in view.triggering_events if e.target and e.kind != "credential")
    resources: list[dict[str, Any]] = [{"uid": t, "name": t, "type": "target"} for t in targets]
    for cred in view.credentials:
        resources.append(
            {
                "uid": cred.credential_id,
                "name": cred.credential_id,
                "type": "credential",
                "data": cred.to_dict(),
            }
        )
    return resources


def to_ocsf(view: AlertView) -> dict[str, Any]:
    """The OCSF 1.8.0 Detection Finding of one alert view."""
    alert = view.alert
    severity = str(alert.severity)
    severity_id = SEVERITY_IDS[severity]
    risk_level_id = RISK_LEVEL_IDS[severity]
    if view.suppressed_by or (view.verdict is not None and view.verdict.status != "true-positive"):
        status_id = STATUS_SUPPRESSED
    elif view.verdict is not None:
        status_id = STATUS_IN_PROGRESS
    else:
        status_id = STATUS_NEW
    mappings = alert.mappings
    tags = [{"name": "owasp_agentic", "value": t} for t in mappings.owasp_agentic] + [
        {"name": "owasp_nhi", "value": t} for t in mappings.owasp_nhi
    ]
    finding_info = _drop_none(
        {
            "uid": alert.alert_id,
            "title": alert.title,
            "desc": alert.description or None,
            "created_time": _ms(alert.last_seen),
            "first_seen_time": _ms(alert.first_seen),
            "last_seen_time": _ms(alert.last_seen),
            "analytic": {
                "uid": alert.detector_id,
                "name": alert.detector_id,
                "version": str(alert.detector_version),
                "type_id": ANALYTIC_RULE,
                "type": "Rule",
            },
            "attacks": [_attack(t) for t in mappings.mitre_attack],
            "tags": tags,
            "types": ["agent action chain"],
            "data_sources": ["chainwatch"],
            "related_events": [{"uid": e} for e in alert.event_ids],
            "related_events_count": len(alert.event_ids),
        }
    )
    unmapped = _drop_none(
        {
            "key_kind": alert.key_kind,
            "key": alert.key,
            "principal": alert.principal,
            "agent_id": alert.agent_id,
            "task": view.task,
            "task_scope": list(view.task_scope),
            "blast_radius": view.blast_radius,
            "suppressed_by": view.suppressed_by,
            "suppression_reason": view.suppression_reason,
            "verdict": view.verdict.status if view.verdict else None,
            "details": alert.details,
        }
    )
    finding: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": TYPE_UID,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTIONS[severity_id],
        "risk_score": round(alert.risk_score),
        "risk_level_id": risk_level_id,
        "risk_level": RISK_LEVEL_CAPTIONS[risk_level_id],
        "status_id": status_id,
        "status": STATUS_CAPTIONS[status_id],
        "is_alert": view.suppressed_by is None,
        "time": _ms(alert.last_seen),
        "start_time": _ms(alert.first_seen),
        "end_time": _ms(alert.last_seen),
        "count": len(alert.event_ids),
        "message": alert.title,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": alert.alert_id,
            "correlation_uid": alert.session_id,
            "product": {"name": "chainwatch", "vendor_name": "chainwatch", "version": _product_version()},
            "log_name": "alerts",
        },
        "finding_info": finding_info,
        "evidences": [_evidence(view, e) for e in view.events],
        "resources": _resources(view),
    }
    if alert.runbook:
        finding["remediation"] = {"desc": alert.runbook}
    if view.verdict is not None and view.verdict.note:
        finding["comment"] = view.verdict.note
    if unmapped:
        finding["unmapped"] = unmapped
    return finding
