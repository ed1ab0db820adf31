"""The notebooks (notebooks/*.ipynb) carry no stored outputs and run top to bottom against a freshly
built demo database: a notebook that raises fails the suite."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from streams.simulator.demo import NOTEBOOK_DB_ENV, NOTEBOOK_LAKE_ENV, ensure_demo_db

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = {"alert_triage", "credential_posture", "blast_radius", "anomaly_model"}
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_question_has_a_notebook() -> None:
    assert {p.stem for p in ALL} >= EXPECTED


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has stored outputs: clear them"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
        assert "attachments" not in cell, f"{path.name} cell {index} has attachments"


@pytest.fixture(scope="module")
def notebook_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_demo_db(tmp_path_factory.mktemp("notebooks") / "chainwatch.duckdb")


@pytest.fixture(scope="module")
def notebook_lake(tmp_path_factory: pytest.TempPathFactory, notebook_db: Path) -> str:
    """The same demo history in a DuckLake (what `chainwatch load --lake` writes)."""
    from streams.ingest.replay import replay
    from streams.settings import build_engine, load_settings
    from streams.store.lake import Lake

    lake = Lake(str(tmp_path_factory.mktemp("notebook-lake") / "catalog.sqlite"))
    workload = notebook_db.parent / "workload.jsonl"
    replay([str(workload)], build_engine(load_settings()), db_path=lake, fmt="native")
    return lake.catalog


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, notebook_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NOTEBOOK_DB_ENV, str(notebook_db))  # the kernel inherits it
    execute(path)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_executes_on_the_lake(
    path: Path, notebook_lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data team's notebook on the live lake: its own DuckDB, the lake attached read-only."""
    monkeypatch.setenv(NOTEBOOK_LAKE_ENV, notebook_lake)
    execute(path)


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, when any cell raises
    images = sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    )
    assert images >= 1, f"{path.name} drew no figure"


def test_an_interrupted_demo_build_leaves_no_database_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    import streams.ingest.replay

    def interrupted(paths: list[str], engine: object, *, db_path: Path, **_: object) -> None:
        con = duckdb.connect(str(db_path))  # half a build: a database file, then the user stops it
        con.execute("CREATE TABLE events (event_id VARCHAR)")
        con.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(streams.ingest.replay, "replay", interrupted)
    target = tmp_path / "demo" / "chainwatch.duckdb"
    with pytest.raises(KeyboardInterrupt):
        ensure_demo_db(target, sessions=5)
    assert not target.exists()  # the next run builds it again instead of reading half a demo
    assert sorted(p.name for p in target.parent.iterdir()) == ["workload.jsonl"]
