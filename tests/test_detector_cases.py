"""Every detector's case file, run case by case: tests/cases/<family>/<name>.yml against the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.cases import Case, load_cases, run_case
from detectors.registry import Catalog, load_catalog

CASES_ROOT = Path(__file__).resolve().parent / "cases"
CASES: list[Case] = [case for path in sorted(CASES_ROOT.rglob("*.yml")) for case in load_cases(path)]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_case_files_were_found() -> None:
    assert CASES, f"no case files under {CASES_ROOT}"


@pytest.mark.parametrize("case", CASES, ids=[case.test_id for case in CASES])
def test_case(case: Case, catalog: Catalog) -> None:
    result = run_case(catalog.by_id(case.detector_id), case)
    assert result.passed, f"{case.path}: {result.message}"
