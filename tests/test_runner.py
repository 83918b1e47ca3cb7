"""The benchmark runner: a tiny grid end to end, resume after SIGKILL, failed trials.

The runs happen in a subprocess running a small script (written below) so that the worker
processes, which the runner starts with the ``spawn`` method, import the same script as their
``__main__`` and see the same made-up datasets and test hooks (``TOY_SLOW`` slows each fit down
so a run can be killed in the middle).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from littledata.experiments.metrics import KNOWN_METRICS, OTHER_TASK_METRICS
from littledata.experiments.spec import load_spec
from littledata.experiments.store import ResultsStore

SCRIPT = r'''
"""Runs a spec over made-up datasets; imported again by each spawned worker."""
import json
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

import littledata.heads

from littledata.datasets.base import Dataset, Split, Task

def _toy_texts(n, n_classes, rng):
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    texts = []
    for y in labels:
        words = [f"w{y}x{j}" for j in rng.integers(0, 6, size=4)]
        words += [f"noise{j}" for j in rng.integers(0, 30, size=4)]
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, labels.astype(np.int64)


def toy(name):
    n_classes = {"toy_a": 3, "toy_b": 8}[name]
    rng = np.random.default_rng(len(name) * 7 + n_classes)
    train = Split(*_toy_texts(200, n_classes, rng))
    test = Split(*_toy_texts(80, n_classes, rng))
    return Dataset(name, Task.SINGLE_LABEL, [f"c{i}" for i in range(n_classes)],
                   {"train": train, "test": test})


REGISTRY = {
    "toy_a": SimpleNamespace(task="single-label"),
    "toy_b": SimpleNamespace(task="single-label"),
    "toy_tokens": SimpleNamespace(task="sequence-labeling"),
}

SLOW = float(os.environ.get("TOY_SLOW", "0"))
if SLOW:
    _make_head = littledata.heads.make_head

    def _slow_make_head(*args, **kwargs):
        model = _make_head(*args, **kwargs)
        fit = model.fit

        def slow_fit(*a, **k):
            time.sleep(SLOW)
            return fit(*a, **k)

        model.fit = slow_fit
        return model

    littledata.heads.make_head = _slow_make_head


if __name__ == "__main__":
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    spec = load_spec(overrides=json.loads(sys.argv[2]))
    summary = run_benchmark(spec, store=ResultsStore(sys.argv[1]), loader=toy, registry=REGISTRY)
    print(json.dumps(summary.to_dict()))
'''

# compute_metrics' metrics + what the runner measures itself (not other task types' metrics)
N_METRICS = len(KNOWN_METRICS) - len(OTHER_TASK_METRICS)


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runner") / "toy_bench.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def _module(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("toy_bench", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GRID: dict[str, Any] = {
    "datasets": ["toy_a", "toy_b", "toy_tokens"],
    "featurizers": ["tfidf"],
    "heads": ["knn", "centroid", "logreg"],
    "sizes": [6, 12, 40],
    "seeds": 2,
    "train_pool_cap": 60,
    "test_cap": 30,
    "n_jobs": 2,
}
# toy_a (3 classes): 3 sizes; toy_b (8 classes): 2 sizes (6 < 8 is skipped); toy_tokens skipped
PLANNED = 3 * (3 + 2) * 2


def _run(script: Path, url: str, overrides: dict[str, Any], **env: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(script), url, json.dumps(overrides)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _counts(db: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(db, timeout=30)
    try:
        trials, distinct = con.execute(
            "select count(*), count(distinct key) from trials"
        ).fetchone()
        meas = con.execute("select count(*) from measurements").fetchone()[0]
    finally:
        con.close()
    return trials, distinct, meas


@pytest.mark.integration
def test_tiny_grid_runs_end_to_end_and_a_rerun_skips_everything(
    script: Path, tmp_path: Path
) -> None:
    db = tmp_path / "results.sqlite"
    url = f"sqlite:///{db}"
    summary = _run(script, url, GRID)
    assert summary["planned"] == PLANNED
    assert summary["run"] == PLANNED and summary["failed"] == 0
    assert summary["already_stored"] == 0 and summary["workers"] == 2
    assert summary["caps"] == {"toy_a": {"pool": 60, "test": 30}, "toy_b": {"pool": 60, "test": 30}}
    reasons = [s["reason"] for s in summary["skipped"]]
    assert any("'toy_tokens' is sequence-labeling" in r for r in reasons)
    assert any("size 6 is smaller than the 8 classes of 'toy_b'" in r for r in reasons)
    assert _counts(db) == (PLANNED, PLANNED, PLANNED * N_METRICS)

    frame = ResultsStore(url).frame("bench")
    # the one list names what a single-label trial stores
    assert set(frame["metric"]) == set(KNOWN_METRICS) - set(OTHER_TASK_METRICS)
    assert set(frame["train_pool_cap"]) == {60} and set(frame["test_cap"]) == {30}
    acc = frame[(frame["metric"] == "accuracy") & (frame["size"] == 40)]
    assert acc["value"].between(0, 1).all()
    # the toy classes are separable by their words: far above chance with 40 rows
    assert acc[acc["dataset"] == "toy_a"]["value"].mean() > 0.8
    n_train = frame[frame["metric"] == "n_train"]
    assert (n_train["value"] == n_train["size"]).all()

    again = _run(script, url, GRID)
    assert again["run"] == 0 and again["already_stored"] == PLANNED
    assert _counts(db) == (PLANNED, PLANNED, PLANNED * N_METRICS)


@pytest.mark.integration
def test_resume_after_sigkill_mid_run(script: Path, tmp_path: Path) -> None:
    grid = {**GRID, "heads": ["knn", "centroid"], "baseline": False}
    planned = 2 * (3 + 2) * 2
    db = tmp_path / "results.sqlite"
    url = f"sqlite:///{db}"
    ResultsStore(url).close()  # tables exist before the poll below reads them
    proc = subprocess.Popen(
        [sys.executable, str(script), url, json.dumps(grid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TOY_SLOW": "0.3"},
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    try:
        deadline = time.monotonic() + 120
        while _counts(db)[0] < 4:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no trial was stored within 2 minutes"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    stored, distinct, meas = _counts(db)
    assert 4 <= stored < planned  # killed in the middle
    assert distinct == stored and meas == stored * N_METRICS  # no half-written trial
    con = sqlite3.connect(db)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    con.close()

    summary = _run(script, url, grid)
    assert summary["already_stored"] == stored
    assert summary["run"] == planned - stored and summary["failed"] == 0
    assert _counts(db) == (planned, planned, planned * N_METRICS)


@pytest.mark.integration
def test_a_failing_trial_is_recorded_and_retried(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from littledata.experiments.runner import run_benchmark

    toy = _module(script)
    import littledata.heads

    real = littledata.heads.make_head

    def flaky(name: str, **kwargs: Any) -> Any:
        if name == "centroid":
            raise RuntimeError("centroid broke")
        return real(name, **kwargs)

    monkeypatch.setattr(littledata.heads, "make_head", flaky)
    spec = load_spec(overrides={**GRID, "n_jobs": 1, "datasets": ["toy_a"]})
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    plan = run_benchmark(spec, store=store, loader=toy.toy, registry=toy.REGISTRY, dry_run=True)
    assert plan.planned == 3 * 3 * 2 and plan.run == 0  # tfidf + knn, centroid, logreg (baseline)
    assert store.completed_keys("bench") == set() and store.runs("bench") == []
    summary = run_benchmark(spec, store=store, loader=toy.toy, registry=toy.REGISTRY)
    n_centroid = 3 * 2
    assert summary.failed == n_centroid and summary.run == summary.planned - n_centroid
    assert all("RuntimeError: centroid broke" in msg for _, msg in summary.failures)
    failures = store.failures("bench")
    assert len(failures) == n_centroid and set(failures["head"]) == {"centroid"}
    assert "centroid" not in set(store.frame("bench")["head"])

    monkeypatch.setattr(littledata.heads, "make_head", real)
    again = run_benchmark(spec, store=store, loader=toy.toy, registry=toy.REGISTRY)
    assert again.run == n_centroid and again.failed == 0
    assert store.failures("bench").empty


def test_samples_come_from_the_pool_and_are_reproducible() -> None:
    from littledata.experiments.trials import run_trial

    rng = np.random.default_rng(0)
    centres = np.eye(5) * 3.0  # one direction per class: separable by cosine too
    y_pool = np.repeat([0, 1, 2], 40)
    x_pool = rng.normal(size=(120, 5)) + centres[y_pool]
    y_test = np.repeat([0, 1, 2], 10)
    x_test = rng.normal(size=(30, 5)) + centres[y_test]
    kw = {"head": "centroid", "input_kind": "dense", "size": 15}
    a = run_trial(x_pool, y_pool, x_test, y_test, seed=1, **kw)
    b = run_trial(x_pool, y_pool, x_test, y_test, seed=1, **kw)
    assert a["accuracy"] == b["accuracy"] and a["n_train"] == 15
    assert a["accuracy"] > 0.9
    y2 = np.r_[np.zeros(100, int), np.ones(20, int)]
    x2 = rng.normal(size=(120, 5)) + centres[y2]
    y2_test = np.r_[np.zeros(10, int), np.ones(10, int)]
    x2_test = rng.normal(size=(20, 5)) + centres[y2_test]
    kw = {"head": "centroid", "input_kind": "dense", "size": 12, "seed": 0}
    over = run_trial(x2, y2, x2_test, y2_test, resampling="oversample", **kw)
    assert over["n_train"] == 12  # distinct rows; oversampling only repeats them
    assert over["accuracy"] >= 0.85


def test_a_dataset_that_cannot_be_loaded_is_skipped_not_fatal(script: Path, tmp_path: Path) -> None:
    from littledata.errors import DownloadError
    from littledata.experiments.runner import run_benchmark

    toy = _module(script)

    def loader(name: str) -> Any:
        if name == "toy_b":
            raise DownloadError("toy_b.tar is a git archive; use --mirror")
        return toy.toy(name)

    spec = load_spec(overrides={**GRID, "datasets": ["toy_a", "toy_b"]})
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    plan = run_benchmark(spec, store=store, loader=loader, registry=toy.REGISTRY, dry_run=True)
    assert plan.planned == 3 * 3 * 2  # toy_a only
    (skip,) = [s for s in plan.skipped if s.dataset == "toy_b"]
    assert "could not be loaded" in skip.reason and "--mirror" in skip.reason

    def nothing_loads(name: str) -> Any:
        raise DownloadError(f"{name} is unreachable")

    with pytest.raises(DownloadError, match=r"No dataset of the spec could be loaded"):
        run_benchmark(spec, store=store, loader=nothing_loads, registry=toy.REGISTRY, dry_run=True)
