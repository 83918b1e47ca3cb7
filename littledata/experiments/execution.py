"""Executors: how planned work runs, behind one small interface.

Planning decides *what* runs (trials with keys and configurations); an :class:`Executor` decides
*where*: in this process (:class:`SerialExecutor`), in a pool of local worker processes
(:class:`LocalPoolExecutor`, the default), or on a cluster (a later executor). Work reaches an
executor as :class:`Job` objects that carry only JSON-able configuration and :class:`DataRef`
references to arrays, never arrays themselves, so an executor can send a job anywhere that can
resolve the references (a memory-mapped local file today; an object store on a cluster).

An executor calls a *job function*: a module-level function ``fn(job) -> JobResult`` that never
raises (a failure comes back as ``JobResult.error``). Module-level, so that a worker process or
a remote node can import it by name. The benchmark's trials
(:func:`littledata.experiments.trials.run_bench_job`) and the active-learning simulation's runs
(:func:`littledata.active.simulate.run_active_job`) are two such functions.

Executors are registered by name (:data:`EXECUTORS`, :func:`get_executor`); a new executor is one
class with a ``run`` method.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from littledata.errors import unknown_name

log = logging.getLogger(__name__)

__all__ = [
    "EXECUTORS",
    "DataRef",
    "Executor",
    "Job",
    "JobResult",
    "LocalPoolExecutor",
    "SerialExecutor",
    "get_executor",
    "guarded",
    "register_executor",
    "resolve",
]

MAX_POOL_BREAKS = 3
"""Worker pools that may die in one run before the remaining jobs are marked failed."""


# -- what an executor moves --------------------------------------------------------------------


@dataclass(frozen=True)
class DataRef:
    """A reference to an array that a job reads.

    ``uri`` is a local path to a ``.npy`` file (read memory-mapped, ``allow_pickle=False``) or a
    ``.npz`` file of a scipy sparse matrix (term counts). Other schemes (an object store) belong
    to the executors that can resolve them.
    """

    uri: str

    @property
    def is_sparse(self) -> bool:
        """Whether the reference is a sparse matrix (``.npz``)."""
        return self.uri.endswith(".npz")


_resolved: dict[str, Any] = {}


def resolve(ref: DataRef | str) -> Any:
    """The array behind ``ref``; a process keeps at most 16 resolved arrays open."""
    uri = ref.uri if isinstance(ref, DataRef) else str(ref)
    if uri not in _resolved:
        if len(_resolved) > 16:  # keep a worker's open maps bounded
            _resolved.clear()
        if uri.endswith(".npz"):
            import scipy.sparse as sp

            _resolved[uri] = sp.load_npz(uri).tocsr()
        else:
            _resolved[uri] = np.load(uri, mmap_mode="r", allow_pickle=False)
    return _resolved[uri]


@dataclass(frozen=True)
class Job:
    """One unit of work: a key, a JSON-able configuration and named data references.

    ``options`` are JSON-able settings of how to run it that are not part of what is measured
    (thread counts, parameters the configuration stores in another form), so not of the key.
    """

    key: str
    config: Mapping[str, Any]
    data: Mapping[str, DataRef] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class JobResult:
    """What a job function returns: ``values`` or an ``error`` message (with its traceback)."""

    key: str
    values: Any = None
    error: str | None = None
    traceback: str = ""


def guarded(fn: Callable[[Job], Any], job: Job) -> JobResult:
    """Run ``fn(job)`` and wrap its return value, or the exception it raised, in a JobResult."""
    try:
        return JobResult(job.key, values=fn(job))
    except Exception as exc:  # a failed job is data, not a crash
        return JobResult(
            job.key, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
        )


# -- the interface -----------------------------------------------------------------------------


OnResult = Callable[[Job, JobResult], None]


@runtime_checkable
class Executor(Protocol):
    """Runs jobs and hands each result to ``on_result`` in the calling process, as it arrives.

    ``fn`` is a module-level job function (see the module docstring). ``on_result`` is called
    exactly once per job, in the calling thread, in any order; a job whose worker died gets a
    result with an ``error``.
    """

    name: str
    workers: int

    def run(
        self, fn: Callable[[Job], JobResult], jobs: Sequence[Job], on_result: OnResult
    ) -> None: ...


EXECUTORS: dict[str, type] = {}


def register_executor(cls: type) -> type:
    """Class decorator: register an executor class under its ``name`` (no duplicates)."""
    name = cls.name  # type: ignore[attr-defined]
    if name in EXECUTORS:
        raise ValueError(f"an executor named {name!r} is already registered")
    EXECUTORS[name] = cls
    return cls


def get_executor(name: str = "local", *, workers: int = 1) -> Executor:
    """Build the executor registered as ``name`` with ``workers`` workers."""
    if name not in EXECUTORS:
        raise unknown_name("executor", name, EXECUTORS)
    return EXECUTORS[name](workers=workers)  # type: ignore[no-any-return]


# -- in this process ---------------------------------------------------------------------------

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
_worker_limits: Any = None


@contextlib.contextmanager
def limit_threads(threads: int = 1) -> Iterator[None]:
    """BLAS/OpenMP threads limited to ``threads`` in the block (a no-op inside a worker, which
    is limited for its whole life)."""
    if _worker_limits is not None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield


@register_executor
class SerialExecutor:
    """Runs every job in this process, one after the other, with one BLAS thread."""

    name: ClassVar[str] = "serial"

    def __init__(self, workers: int = 1) -> None:
        self.workers = 1

    def run(self, fn: Callable[[Job], JobResult], jobs: Sequence[Job], on_result: OnResult) -> None:
        for job in jobs:
            with limit_threads(1):
                result = fn(job)
            on_result(job, result)


# -- local worker processes --------------------------------------------------------------------


def init_worker() -> None:
    """Limit every thread pool of a worker process to one thread (the workers are the
    parallelism), before and after the numeric libraries load."""
    global _worker_limits
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from threadpoolctl import threadpool_limits

    _worker_limits = threadpool_limits(limits=1)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@register_executor
class LocalPoolExecutor:
    """Runs jobs in ``workers`` spawned processes on this machine (one BLAS thread each).

    At most two jobs per worker are in flight. When a worker process dies (killed, out of
    memory), the pool is rebuilt and the jobs that were in flight are retried once; after
    :data:`MAX_POOL_BREAKS` broken pools the remaining jobs fail with a message. With one worker
    the jobs run in this process (:class:`SerialExecutor`).

    Worker processes are started with ``spawn``, which imports the caller's main module again
    in each worker: in a script, start the work under ``if __name__ == "__main__":``.
    """

    name: ClassVar[str] = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, int(workers))

    def run(self, fn: Callable[[Job], JobResult], jobs: Sequence[Job], on_result: OnResult) -> None:
        workers = min(self.workers, len(jobs))
        if workers <= 1:
            SerialExecutor().run(fn, jobs, on_result)
            return
        by_key = {job.key: job for job in jobs}
        queue = list(reversed(jobs))  # pop() takes them in the given order
        breaks: dict[str, int] = {}
        pool_breaks = 0
        while queue:
            requeue = self._run_pool(fn, queue, by_key, workers, on_result)
            if not requeue:
                break
            pool_breaks += 1
            log.warning("a worker process died; %d jobs in flight are retried", len(requeue))
            for key in requeue:
                breaks[key] = breaks.get(key, 0) + 1
            again = [k for k in requeue if breaks[k] < 2 and pool_breaks < MAX_POOL_BREAKS]
            for key in requeue:
                if key not in again:
                    on_result(by_key[key], JobResult(key, error="the worker process died"))
            if pool_breaks >= MAX_POOL_BREAKS:
                for job in reversed(queue):
                    on_result(job, JobResult(job.key, error="the worker pool kept dying"))
                break
            queue.extend(by_key[k] for k in reversed(again))

    @staticmethod
    def _run_pool(
        fn: Callable[[Job], JobResult],
        queue: list[Job],
        by_key: Mapping[str, Job],
        workers: int,
        on_result: OnResult,
    ) -> list[str]:
        """Run jobs from ``queue`` (popped from the end) in one process pool. Returns the keys
        in flight when the pool broke (empty when done)."""
        ctx = multiprocessing.get_context("spawn")
        in_flight: dict[cf.Future[JobResult], str] = {}
        executor = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=init_worker
        )
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers:
                    job = queue.pop()
                    in_flight[executor.submit(fn, job)] = job.key
                finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    key = in_flight.pop(future)
                    try:
                        result = future.result()
                    except cf.process.BrokenProcessPool:
                        return [key, *in_flight.values()]
                    on_result(by_key[key], result)
            return []
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
