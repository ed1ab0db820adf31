"""The soak benchmark (benchmarks/soak_bench.py) at a small scale, as a behaviour test: hostile messages of
every kind mixed into a valid stream, through the real broker and the real worker. The benchmark runs the
same code with 100,000 hostile messages and reports the figures (docs/security.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak_bench import run_soak

pytestmark = pytest.mark.kafka


def test_hostile_stream_crashes_nothing_and_every_message_is_accounted_for(
    kafka_broker: Any, tmp_path: Path
) -> None:
    report = run_soak(kafka_broker.bootstrap, tmp_path, hostile=1500, sessions=20, seed=3, timeout=600)
    summary = report.to_dict()
    assert report.worker_alive_throughout and report.worker_exit_code == 0, summary
    assert report.worker_errors == 0, summary  # no unexpected exception on any message
    assert not report.unaccounted, summary["unaccounted_examples"]
    assert report.accounted_ratio == 1.0
    assert report.dead_letters_without_reason == 0
    # only messages built to hold no record may come out as neither event nor dead letter
    assert set(report.empty_kinds) <= {"empty", "tombstone", "format_header"}, report.empty_kinds
    # the run really was hostile and really carried valid work
    assert len(report.kinds) >= 18, report.kinds
    assert report.dead_letter_records >= report.hostile // 2
    assert report.worker_events == report.expected_events >= report.valid_events
    # memory stays bounded: a loose ceiling (the benchmark reports the real peak)
    assert 0 < report.rss_peak_mib < 1536, summary
