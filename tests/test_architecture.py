"""The floor plan holds: the import contracts in pyproject.toml pass on the tree, fail on a wrong-way import,
and docs/architecture.md names exactly the rooms that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "detectors", "streams")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The three packages and pyproject.toml, copied so that a test may break them."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold_on_the_tree() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("detectors/base.py", "import duckdb", "only streams does I/O"),
        ("schemas/events.py", "import detectors.engine", "no import runs back up"),
        ("streams/store/views.py", "import streams.kafka.wire", "the store never reaches"),
        ("streams/alerts/ocsf.py", "import streams.cli.common", "rooms of streams"),
        ("streams/kafka/wire.py", "import streams.ingest.replay", "rooms of streams"),
    ],
)
def test_a_wrong_way_import_breaks_a_contract(tree_copy: Path, module: str, line: str, broken: str) -> None:
    path = tree_copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    broken_names = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(broken in row for row in broken_names) or broken in result.stdout


def test_a_circle_inside_a_room_breaks_a_contract(tree_copy: Path) -> None:
    # alerts/render.py imports alerts/view.py; the way back makes a circle between siblings
    view = tree_copy / "streams/alerts/view.py"
    view.write_text(view.read_text(encoding="utf-8") + "\nimport streams.alerts.render  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "no circles" in result.stdout


def test_streams_holds_only_rooms_settings_and_the_package_marker() -> None:
    loose = sorted(p.name for p in (REPO / "streams").glob("*.py"))
    assert loose == ["__init__.py", "settings.py"]


def test_the_architecture_page_names_every_room_and_only_those() -> None:
    rooms = {p.name for p in (REPO / "streams").iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = page[page.index("## The rooms of `streams/`") : page.index("The contracts, in words")]
    named = set(re.findall(r"^\| `([a-z_]+)/` \|", table, flags=re.MULTILINE))
    assert named == rooms
    for room in rooms:  # every module a room's row names exists
        row = next(r for r in table.splitlines() if r.startswith(f"| `{room}/`"))
        for module in re.findall(r"`([a-z_]+\.py)`", row):
            assert (REPO / "streams" / room / module).is_file(), f"{room}/{module} named but missing"
