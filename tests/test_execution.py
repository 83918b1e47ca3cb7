"""Executors: the interface between planning and running, shown with a toy executor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from littledata.datasets.base import Dataset, Split, Task
from littledata.errors import UnknownNameError
from littledata.experiments.execution import (
    EXECUTORS,
    DataRef,
    Executor,
    Job,
    JobResult,
    JobSource,
    SerialExecutor,
    as_source,
    get_executor,
    guarded,
    resolve,
)
from littledata.experiments.spec import load_spec
from littledata.experiments.store import ResultsStore


class ReversedExecutor:
    """A toy executor: runs the jobs in this process, last job first, and remembers them."""

    name: ClassVar[str] = "reversed-toy"

    def __init__(self, workers: int = 1) -> None:
        self.workers = 1
        self.seen: list[str] = []

    def run(
        self,
        fn: Callable[[Job], JobResult],
        jobs: JobSource | Sequence[Job],
        on_result: Callable[[Job, JobResult], None],
    ) -> None:
        source = as_source(jobs)
        while source.wait():
            for job in reversed(source.take_all()):
                self.seen.append(job.key)
                on_result(job, fn(job))
                source.done(job.key)


def _toy(name: str) -> Dataset:
    rng = np.random.default_rng(3)

    def split(n: int) -> Split:
        y = np.arange(n) % 3
        texts = [f"w{c}a w{c}b noise{int(rng.integers(0, 20))}" for c in y]
        return Split(texts, y.astype(np.int64))

    return Dataset(
        name, Task.SINGLE_LABEL, ["a", "b", "c"], {"train": split(90), "test": split(30)}
    )


REGISTRY = {"toy": type("Spec", (), {"task": "single-label"})()}


def _run(executor: Executor | str | None, tmp_path: Path, name: str) -> tuple[dict, object]:
    from littledata.experiments.runner import run_benchmark

    spec = load_spec(
        overrides={
            "datasets": ["toy"],
            "featurizers": ["tfidf"],
            "heads": ["centroid", "knn"],
            "sizes": [6, 30],
            "seeds": 2,
            "baseline": False,
            "n_jobs": 1,
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / name}")
    summary = run_benchmark(spec, store=store, loader=_toy, registry=REGISTRY, executor=executor)
    frame = store.frame("bench")
    frame = frame[~frame["metric"].str.endswith("_seconds")]
    return {
        (k, m): v for k, m, v in zip(frame["key"], frame["metric"], frame["value"], strict=True)
    }, summary


def test_a_toy_executor_runs_the_real_runner_with_the_same_results(tmp_path: Path) -> None:
    toy = ReversedExecutor()
    by_toy, summary = _run(toy, tmp_path, "toy.sqlite")
    by_serial, _ = _run("serial", tmp_path, "serial.sqlite")
    assert summary.run == summary.planned == 2 * 2 * 2  # heads x sizes x seeds
    assert toy.seen == list(reversed(summary.keys))  # the executor chose the order
    assert by_toy == by_serial and len(by_toy) > 0


def test_executors_are_registered_by_name() -> None:
    assert {"serial", "local"} <= set(EXECUTORS)
    assert isinstance(get_executor("serial"), SerialExecutor)
    assert get_executor("local", workers=3).workers == 3
    with pytest.raises(UnknownNameError, match="Did you mean: serial"):
        get_executor("serail")


def _boom(job: Job) -> int:
    raise ValueError(f"bad {job.key}")


def test_a_job_that_raises_comes_back_as_an_error(tmp_path: Path) -> None:
    result = guarded(_boom, Job("k1", {}))
    assert result.key == "k1" and result.values is None
    assert result.error == "ValueError: bad k1" and "Traceback" in result.traceback
    path = tmp_path / "a.npy"
    np.save(path, np.arange(6, dtype=np.float32).reshape(2, 3))
    arr = resolve(DataRef(str(path)))
    assert isinstance(arr, np.memmap) and arr.shape == (2, 3)
