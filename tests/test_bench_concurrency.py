"""Benchmark runs disturbed by other processes: `cache clear` during a run, two identical runs at
once, the work folders of killed runs. Real processes, a tiny made-up grid (see _toybench)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import _toybench as toy
import pytest

from littledata.experiments.store import ResultsStore
from littledata.features import cache as feature_cache


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return toy.write_script(tmp_path)


def test_cache_clear_during_a_run_fails_no_trial(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LITTLEDATA_HOME", str(home))
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    proc = toy.start(script, url, toy.GRID, {"LITTLEDATA_HOME": str(home), "TOY_SLOW": "0.05"})
    clears = removed = 0
    try:
        while proc.poll() is None:  # clear as fast as possible for the whole run
            removed += feature_cache.clear().removed
            clears += 1
            time.sleep(0.01)
    finally:
        summary = toy.summary_of(proc)
    assert clears > 10
    assert summary["failed"] == 0, summary["failures"]
    assert summary["run"] == toy.PLANNED
    # once the run is over, nothing holds the entries any more
    feature_cache.clear()
    assert feature_cache.entries() == []


def test_a_run_removes_what_killed_runs_left_and_nothing_live(script: Path, tmp_path: Path) -> None:
    from littledata import io

    tmp, home = tmp_path / "tmp", tmp_path / "home"
    tmp.mkdir()
    old = time.time() - 3600
    dead = tmp / "littledata-bench-k1ll3d00"  # a killed run's work folder (its lock is free)
    dead.mkdir()
    (dead / ".lock").touch()
    (dead / "toy_a.y_pool.npy").write_bytes(b"\0" * 1000)
    features = home / "features"
    features.mkdir(parents=True)
    dead_npy = features / ".0123456789abcdef-0123456789abcdef.k1ll3d00.npy.tmp"
    dead_npy.write_bytes(b"\0" * 1000)  # a killed featurization's matrix
    for path in (dead, dead_npy):
        os.utime(path, (old, old))
    with io.locked_temp_dir("littledata-bench-", tmp) as live:  # a run that is still going
        os.utime(live, (old, old))
        env = {"TMPDIR": str(tmp), "LITTLEDATA_HOME": str(home)}
        grid = {**toy.GRID, "datasets": ["toy_a"], "n_jobs": 1}
        summary = toy.summary_of(toy.start(script, f"sqlite:///{tmp_path / 'r.sqlite'}", grid, env))
        assert summary["run"] == toy.PLANNED // 2
        assert live.exists()
    assert not dead.exists() and not dead_npy.exists()
    assert sorted(p.name for p in tmp.iterdir()) == []  # the run's own folder is gone too
    assert tempfile.gettempdir() != str(tmp)  # (the test did not touch this process's temp dir)


def test_two_identical_runs_at_once_share_the_trials(script: Path, tmp_path: Path) -> None:
    """(With one worker each, to keep it quick: the claims are taken in the run's own process
    either way; benchmarks/faults.py replays this with worker pools.)"""
    db = tmp_path / "results.sqlite"
    url = f"sqlite:///{db}"
    ResultsStore(url).close()
    env = {"LITTLEDATA_HOME": str(tmp_path / "home"), "TOY_SLOW": "0.1"}
    grid = {**toy.GRID, "n_jobs": 1}
    procs = [toy.start(script, url, grid, env) for _ in range(2)]
    summaries = [toy.summary_of(p) for p in procs]
    assert toy.counts(db) == (toy.PLANNED, toy.PLANNED)  # every trial stored once
    assert sum(s["run"] for s in summaries) == toy.PLANNED  # and counted by one run only
    for s in summaries:
        assert s["failed"] == 0
        assert s["run"] + s["already_stored"] + s["by_other_runs"] == toy.PLANNED, s
    assert ResultsStore(url).claims("bench") == []  # both released what they held
