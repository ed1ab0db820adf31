"""The eql peer benchmark's own logic, offline: its workloads, chainwatch's matches on them, and the
comparison that explains each difference from EQL by a documented one. No test installs eql (AGPL, never a
dependency): the one that runs the eql side uses the benchmark's throwaway virtualenv only when it exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from benchmarks.engine_bench import parse
from benchmarks.eql_peer_bench import (
    DEFAULT_VENV,
    EqlUnavailable,
    chainwatch_engine,
    chainwatch_matches,
    ensure_eql,
    has_eql,
    run_eql,
)
from benchmarks.eql_peer_workload import (
    CASE,
    REPEATED_START,
    TIE,
    Facts,
    Workload,
    compare,
    dense,
    facts_of,
    sparse,
)
from schemas.adapters import parse_bytes


@pytest.fixture(scope="module")
def small_dense() -> Workload:
    return dense(sessions=40, chains=8, seed=3)


def test_dense_workload_is_deterministic_valid_and_in_time_order(small_dense: Workload) -> None:
    assert dense(sessions=40, chains=8, seed=3).data == small_dense.data
    assert dense(sessions=40, chains=8, seed=4).data != small_dense.data
    items = list(parse_bytes(small_dense.data, "bench", "native"))
    assert [i for i in items if hasattr(i, "reason")] == []  # no dead letter: chainwatch reads every line
    assert len(items) == small_dense.events
    times = [orjson.loads(line)["event_time"] for line in small_dense.data.splitlines()]
    assert times == sorted(times)  # EQL reads a stream in time order
    assert small_dense.sessions == 40 and len(small_dense.planted_sessions) == 40


def test_chainwatch_reports_exactly_the_planted_chains(small_dense: Workload) -> None:
    """The generator's account of what chainwatch should report is right (else the benchmark's comparison
    would explain differences against a wrong expectation)."""
    found = chainwatch_matches(chainwatch_engine(), parse(small_dense.data))
    assert found == small_dense.expected["chainwatch"]
    assert len(found) > 100


def test_sparse_workload_plants_chains_among_simulated_traffic() -> None:
    workload = sparse(sessions=30, planted=6, seed=5)
    assert len(workload.planted_sessions) == 6 and workload.sessions == 36
    found = chainwatch_matches(chainwatch_engine(), parse(workload.data))
    planted = {m for m in found if m[0] in workload.planted_sessions}
    assert planted == workload.expected["chainwatch"]
    assert workload.expected["chainwatch"]


def test_every_planted_difference_is_explained_by_its_documented_reason(small_dense: Workload) -> None:
    cw, eql = small_dense.expected["chainwatch"], small_dense.expected["eql"]
    differing = {i for _, ids in cw ^ eql for i in ids}
    result = compare(cw, eql, facts_of(small_dense.data, differing))
    assert result.identical == len(cw & eql) > 0
    reasons = {d.reason for d in result.differences}
    assert reasons == {REPEATED_START, TIE, CASE}  # all three shapes are planted, and nothing else differs
    assert result.unexplained == []


def test_a_difference_no_documented_one_explains_is_reported() -> None:
    facts = {
        "c1": Facts(0.0, "CreateUser", "bob"),
        "g1": Facts(10.0, "AttachUserPolicy", "bob"),
        "k1": Facts(20.0, "CreateAccessKey", "bob"),
        "c0": Facts(5.0, "CreateUser", "bob"),
    }
    chain = ("s", ("c1", "g1", "k1"))
    only_chainwatch = compare({chain}, set(), facts)  # steps in time order: no tie explains it
    assert [d.reason for d in only_chainwatch.differences] == [None]
    assert only_chainwatch.unexplained[0].chainwatch == chain[1]
    only_eql = compare(set(), {chain}, facts)  # one user name throughout: not a matter of case
    assert [d.reason for d in only_eql.differences] == [None]
    # EQL reporting an *earlier* start than chainwatch is not the documented repeated-start difference
    swapped = compare({("s", ("c0", "g1", "k1"))}, {chain}, facts)
    assert [d.reason for d in swapped.differences] == [None]
    explained = compare({chain}, {("s", ("c0", "g1", "k1"))}, facts)
    assert [d.reason for d in explained.differences] == [REPEATED_START]


def test_the_benchmark_never_imports_eql_into_chainwatchs_process() -> None:
    code = "import sys, benchmarks.eql_peer_bench; print('eql' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_without_its_virtualenv_the_benchmark_says_how_to_get_it_and_installs_nothing(tmp_path: Path) -> None:
    venv = tmp_path / "no-eql"
    with pytest.raises(EqlUnavailable, match="without --no-install"):
        ensure_eql(venv, install=False)
    assert not venv.exists()


@pytest.mark.skipif(
    not has_eql(DEFAULT_VENV), reason="no eql virtualenv (python -m benchmarks.eql_peer_bench)"
)
def test_eql_side_reports_the_chains_eql_semantics_give(small_dense: Workload, tmp_path: Path) -> None:
    path = tmp_path / "dense.jsonl"
    path.write_bytes(small_dense.data)
    version, side = run_eql(DEFAULT_VENV / "bin" / "python", path, repeat=1)
    assert version.startswith("1.0")
    assert side.matches == small_dense.expected["eql"]
