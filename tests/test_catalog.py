"""Conventions are tests: every detector in the catalog is named, described, mapped and tested alike."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from detectors.base import CloseDetector, Detector
from detectors.cases import load_cases
from detectors.registry import CATALOG_ROOT, DetectorLoadError, load_catalog
from detectors.rules import RuleDetector, RuleError

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "cases"
CATALOG = load_catalog()
DETECTORS = CATALOG.detectors

AGENTIC = re.compile(r"^(ASI(0[1-9]|10)|T([1-9]|1[0-5]))$")
NHI = re.compile(r"^NHI([1-9]|10)$")
ATTACK = re.compile(r"^T\d{4}(\.\d{3})?$")
MAX_MODULE_LINES = 100  # one detector = one small module (~80 lines of logic and metadata)


def ids(detectors: list[Detector]) -> list[str]:
    return [d.id for d in detectors]


def test_catalog_is_not_empty_and_ids_are_unique() -> None:
    assert len(DETECTORS) >= 20
    assert len(set(ids(DETECTORS))) == len(DETECTORS)


@pytest.mark.parametrize("detector", DETECTORS, ids=ids(DETECTORS))
def test_id_matches_its_file(detector: Detector) -> None:
    path = Path(detector.source_file).resolve()
    relative = path.relative_to(CATALOG_ROOT).with_suffix("")
    assert detector.id == ".".join(relative.parts)
    assert len(relative.parts) == 2, "detectors live at detectors/<family>/<name>"


@pytest.mark.parametrize("detector", DETECTORS, ids=ids(DETECTORS))
def test_metadata_is_complete(detector: Detector) -> None:
    assert detector.title.strip()
    assert len(detector.description) >= 80, "say why the detector exists"
    assert "gap" in detector.description.lower(), "say what the detector's known gaps are"
    assert detector.runbook.strip(), "a runbook line tells the analyst what to do first"
    assert detector.version >= 1
    mappings = detector.mappings
    assert mappings.owasp_agentic, "map to the OWASP agentic threats / Top 10 for Agentic Applications"
    assert all(AGENTIC.match(m) for m in mappings.owasp_agentic), mappings.owasp_agentic
    assert all(NHI.match(m) for m in mappings.owasp_nhi), mappings.owasp_nhi
    assert all(ATTACK.match(m) for m in mappings.mitre_attack), mappings.mitre_attack


@pytest.mark.parametrize("detector", DETECTORS, ids=ids(DETECTORS))
def test_python_detectors_are_small_documented_modules(detector: Detector) -> None:
    if isinstance(detector, RuleDetector):
        return
    path = Path(detector.source_file)
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), f"{path}: the module docstring says why it exists and its known gaps"
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert len(classes) == 1, f"{path}: one detector class per module"
    lines = [line for line in source.splitlines() if line.strip()]
    assert len(lines) <= MAX_MODULE_LINES, (
        f"{path}: {len(lines)} lines; split helpers into detectors/vocab.py"
    )
    if not isinstance(detector, CloseDetector):
        assert detector.kinds is not None, (
            "declare `kinds` so the engine only calls it for events it can match"
        )


@pytest.mark.parametrize("detector", DETECTORS, ids=ids(DETECTORS))
def test_every_detector_ships_positive_negative_and_edge_cases(detector: Detector) -> None:
    family, name = detector.id.split(".", 1)
    path = CASES / family / f"{name}.yml"
    assert path.is_file(), f"missing case file {path.relative_to(REPO)}"
    cases = load_cases(path)
    assert {c.detector_id for c in cases} == {detector.id}
    assert any(c.expect in ("alert", "finding") for c in cases), "needs a positive case"
    assert any(c.expect == "none" for c in cases), "needs a negative case"
    assert any("edge" in c.tags for c in cases), "needs an edge case (tags: [edge])"


def test_case_files_name_existing_detectors() -> None:
    known = set(ids(DETECTORS))
    for path in CASES.rglob("*.yml"):
        for case in load_cases(path):
            assert case.detector_id in known, f"{path}: no detector {case.detector_id}"


def test_a_duplicate_id_is_an_error(tmp_path: Path) -> None:
    family = tmp_path / "privilege"
    family.mkdir()
    original = CATALOG_ROOT / "privilege" / "escalation_chain.yml"
    (family / "escalation_chain.yml").write_text(original.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DetectorLoadError, match=r"duplicate detector id 'privilege\.escalation_chain'"):
        load_catalog([tmp_path])


def test_a_rule_whose_id_disagrees_with_its_path_is_rejected(tmp_path: Path) -> None:
    family = tmp_path / "custom"
    family.mkdir()
    text = (CATALOG_ROOT / "privilege" / "escalation_chain.yml").read_text(encoding="utf-8")
    (family / "renamed.yml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match="must match the file path"):
        load_catalog([tmp_path])
