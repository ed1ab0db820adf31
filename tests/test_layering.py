"""The three packages depend one way: schemas <- detectors <- streams. Only streams does I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STDLIB = set(sys.stdlib_module_names)

# Third-party imports each package may use (standard library is always fine).
ALLOWED = {
    "schemas": {"pydantic", "pydantic_core", "orjson", "schemas"},
    "detectors": {
        "pydantic",
        "pydantic_core",
        "orjson",
        "yaml",
        "numpy",
        "sklearn",
        "skops",
        "schemas",
        "detectors",
    },
}
FORBIDDEN_EVERYWHERE_BUT_STREAMS = {
    "faust",
    "kafka",
    "aiokafka",
    "duckdb",
    "pyarrow",
    "streams",
    "typer",
    "rich",
    "mode",
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str) -> list[str]:
    problems = []
    for path in sorted((REPO / package).rglob("*.py")):
        for line, module in imported_modules(path):
            if module in STDLIB or module == "__future__":
                continue
            if module in FORBIDDEN_EVERYWHERE_BUT_STREAMS or module not in ALLOWED[package]:
                problems.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("package", ["schemas", "detectors"])
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    assert violations(package) == []


def test_the_checker_catches_a_wrong_way_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import duckdb\nfrom streams.store import Store\nfrom schemas.events import ToolCall\n")
    modules = [m for _, m in imported_modules(bad)]
    assert modules == ["duckdb", "streams", "schemas"]
    assert {"duckdb", "streams"} <= FORBIDDEN_EVERYWHERE_BUT_STREAMS


def test_streams_is_the_only_package_that_imports_io_libraries() -> None:
    users = {
        module
        for path in (REPO / "streams").rglob("*.py")
        for _, module in imported_modules(path)
        if module in {"duckdb", "faust", "kafka"}
    }
    assert {"duckdb", "faust", "kafka"} >= users and "duckdb" in users
