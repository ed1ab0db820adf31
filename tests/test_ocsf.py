"""OCSF 1.8.0 Detection Finding export, validated against the published OCSF schema.

The JSON Schema comes from the ``ocsf-json-schema`` package, which generates it from the OCSF 1.8.0
schema export (the same data schema.ocsf.io serves); enum captions are checked against that export.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
from typer.testing import CliRunner

from streams.alerts.ocsf import CLASS_UID, OCSF_VERSION, to_ocsf
from streams.alerts.view import list_alerts, load_view
from streams.ingest.replay import replay
from streams.settings import Settings, build_engine


@pytest.fixture(scope="module")
def ocsf_export() -> dict[str, Any]:
    export: dict[str, Any] = get_ocsf_schema(version=OCSF_VERSION)
    assert export["version"] == OCSF_VERSION
    return export


@pytest.fixture(scope="module")
def validator(ocsf_export: dict[str, Any]) -> jsonschema.Draft202012Validator:
    embedded = OcsfJsonSchemaEmbedded(ocsf_export)
    name = embedded.lookup_class_name_from_uid(CLASS_UID)
    assert name == "detection_finding"
    schema = embedded.get_class_schema(name, profiles=[])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def stratus_db(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Path]:
    files = sorted(str(p) for p in (shared_data / "cloudtrail" / "stratus-red-team").glob("*.json"))
    db = tmp_path_factory.mktemp("ocsf") / "stratus.duckdb"
    report = replay(files, build_engine(Settings()), db_path=db)
    assert report.alerts, "the catalog raised no alert on the Stratus detonations"
    yield db


def _errors(validator: jsonschema.Draft202012Validator, finding: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(finding)]


def _caption(export: dict[str, Any], attribute: str, value: int) -> str:
    enum = export["classes"]["detection_finding"]["attributes"][attribute]["enum"]
    return str(enum[str(value)]["caption"])


@pytest.mark.shared_data
def test_every_alert_on_the_shared_data_is_a_valid_detection_finding(
    stratus_db: Path, validator: jsonschema.Draft202012Validator, ocsf_export: dict[str, Any]
) -> None:
    con = duckdb.connect(str(stratus_db), read_only=True)
    rows = list_alerts(con)
    stored = con.execute("SELECT count(*), count(DISTINCT detector_id) FROM alerts").fetchone()
    assert stored is not None and len(rows) == stored[0]
    detectors = set()
    for row in rows:
        view = load_view(con, row.alert.alert_id)
        finding = to_ocsf(view)
        assert _errors(validator, finding) == [], row.alert.detector_id
        # The sibling strings must be the OCSF captions of their ids, which JSON Schema cannot check.
        assert finding["severity"] == _caption(ocsf_export, "severity_id", finding["severity_id"])
        assert finding["risk_level"] == _caption(ocsf_export, "risk_level_id", finding["risk_level_id"])
        assert finding["status"] == _caption(ocsf_export, "status_id", finding["status_id"])
        assert finding["activity_name"] == _caption(ocsf_export, "activity_id", finding["activity_id"])
        assert finding["type_name"] == _caption(ocsf_export, "type_uid", finding["type_uid"])
        # The chain is the evidence: every event of the view, the triggering ones flagged.
        assert [e["uid"] for e in finding["evidences"]] == [e.event_id for e in view.events]
        flagged = {e["uid"] for e in finding["evidences"] if e["data"]["triggering"]}
        assert flagged == {e.event_id for e in view.events if e.triggering}
        assert finding["finding_info"]["analytic"]["uid"] == row.alert.detector_id
        assert {r["uid"] for r in finding["resources"] if r["type"] == "credential"} == {
            c.credential_id for c in view.credentials
        }
        detectors.add(row.alert.detector_id)
    assert len(detectors) == stored[1]


@pytest.mark.shared_data
def test_the_validator_rejects_what_ocsf_does_not_allow(
    stratus_db: Path, validator: jsonschema.Draft202012Validator
) -> None:
    """A check that cannot fail proves nothing: broken findings must be refused."""
    con = duckdb.connect(str(stratus_db), read_only=True)
    finding = to_ocsf(load_view(con, list_alerts(con, limit=1)[0].alert.alert_id))
    broken: list[dict[str, Any]] = []
    for mutate in (
        lambda f: f.__setitem__("severity_id", 7),
        lambda f: f["finding_info"].pop("uid"),
        lambda f: f.__setitem__("chainwatch_extra", 1),
        lambda f: f["metadata"].pop("version"),
        lambda f: f["finding_info"]["analytic"].__setitem__("type_id", "rule"),
        lambda f: f.__setitem__("time", "2026-01-05T09:00:00Z"),
    ):
        copy_ = copy.deepcopy(finding)
        mutate(copy_)
        broken.append(copy_)
    for item in broken:
        assert _errors(validator, item), item


@pytest.mark.shared_data
def test_cli_ocsf_output_validates(stratus_db: Path, validator: jsonschema.Draft202012Validator) -> None:
    from streams.cli.main import app

    result = CliRunner().invoke(app, ["alerts", "--db", str(stratus_db), "--ocsf", "--severity", "critical"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert lines and all(f["severity_id"] == 5 for f in lines)
    for finding in lines:
        assert _errors(validator, finding) == []


def test_verdicts_and_suppression_set_the_finding_status(tmp_path: Path) -> None:
    """Suppressed / false-positive -> Suppressed, true-positive -> In Progress, none -> New."""
    from datetime import UTC, datetime

    from streams.alerts.view import AlertView, Verdict
    from tests.test_suppression import make_alert

    view = AlertView(alert=make_alert())
    assert to_ocsf(view)["status_id"] == 1
    suppressed = AlertView(alert=make_alert(), suppressed_by="ci-bot", suppression_reason="expected")
    assert to_ocsf(suppressed)["status_id"] == 3 and to_ocsf(suppressed)["is_alert"] is False
    now = datetime.now(UTC)
    assert to_ocsf(AlertView(alert=make_alert(), verdict=Verdict("benign", None, "a", now)))["status_id"] == 3
    confirmed = AlertView(alert=make_alert(), verdict=Verdict("true-positive", "confirmed", "a", now))
    assert to_ocsf(confirmed)["status_id"] == 2 and to_ocsf(confirmed)["comment"] == "confirmed"
