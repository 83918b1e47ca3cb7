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

An executor pulls its jobs from a :class:`JobSource`: a fixed :class:`JobList`, or the
benchmark's claims feeder (:class:`littledata.experiments.claims.TrialFeeder`), which hands out
only the trials this run claimed in the results store, so runs of one spec executing at the same
time share the work; when its own jobs are done, the executor waits on the source for jobs other
runs left unfinished. After handing a job's result to ``on_result`` it tells the source
(``done``).

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
    "JobList",
    "JobResult",
    "JobSource",
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

    ``uri`` is a local path to a ``.npy`` file (read memory-mapped, ``allow_pickle=False``), a
    ``.npz`` file of a scipy sparse matrix (term counts) or a ``.json`` file of texts (a list).
    Other schemes (an object store) belong to the executors that can resolve them.
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
        elif uri.endswith(".json"):
            import json

            with open(uri, encoding="utf-8") as f:
                _resolved[uri] = json.load(f)
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


# -- where jobs come from ----------------------------------------------------------------------


@runtime_checkable
class JobSource(Protocol):
    """What an executor pulls jobs from.

    ``take(n)`` returns up to ``n`` jobs available now (never blocks); ``wait()`` blocks until
    jobs may be available again and returns whether any job is still open; ``waiting`` says
    whether jobs remain that are not available yet (an executor then looks again every
    ``poll_s`` seconds); ``done(key)`` is told once a job's result was handed on; ``take_all()``
    takes every job that can be taken now.
    """

    poll_s: float

    @property
    def waiting(self) -> bool: ...

    def take(self, n: int) -> list[Any]: ...

    def take_all(self) -> list[Any]: ...

    def wait(self) -> bool: ...

    def done(self, key: str) -> None: ...


class JobList:
    """A :class:`JobSource` over a fixed list of jobs, handed out in order."""

    poll_s = 0.0

    def __init__(self, jobs: Sequence[Job]) -> None:
        self._jobs = list(reversed(jobs))  # pop() takes them in the given order

    @property
    def waiting(self) -> bool:
        return False

    def take(self, n: int) -> list[Job]:
        return [self._jobs.pop() for _ in range(min(n, len(self._jobs)))]

    def take_all(self) -> list[Job]:
        return self.take(len(self._jobs))

    def wait(self) -> bool:
        return bool(self._jobs)

    def done(self, key: str) -> None:
        pass

    def __len__(self) -> int:
        return len(self._jobs)


def as_source(jobs: JobSource | Sequence[Job]) -> JobSource:
    """``jobs`` as a :class:`JobSource` (a sequence becomes a :class:`JobList`)."""
    return jobs if isinstance(jobs, JobSource) else JobList(jobs)  # type: ignore[arg-type]


# -- the interface -----------------------------------------------------------------------------


OnResult = Callable[[Job, JobResult], None]


@runtime_checkable
class Executor(Protocol):
    """Runs jobs and hands each result to ``on_result`` in the calling process, as it arrives.

    ``fn`` is a module-level job function (see the module docstring); ``jobs`` a list of jobs or
    a :class:`JobSource`. ``on_result`` is called exactly once per job, in the calling thread, in
    any order, then the source is told ``done(key)``; a job whose worker died gets a result with
    an ``error``.
    """

    name: str
    workers: int

    def run(
        self,
        fn: Callable[[Job], JobResult],
        jobs: JobSource | Sequence[Job],
        on_result: OnResult,
    ) -> None: ...


EXECUTORS: dict[str, type] = {}


def register_executor(cls: type) -> type:
    """Class decorator: register an executor class under its ``name`` (no duplicates)."""
    name = cls.name  # type: ignore[attr-defined]
    if name in EXECUTORS:
        raise ValueError(f"an executor named {name!r} is already registered")
    EXECUTORS[name] = cls
    return cls


def worker_count(n_jobs: int) -> int:
    """Worker processes for ``n_jobs``: itself, or every usable core for 0 (or a negative
    number). More workers than usable cores (``os.sched_getaffinity``) only add memory (each
    holds its own copy of the libraries) and contention: ``n_jobs`` is capped there, with a
    warning; below -1 is a ConfigError."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < -1:
        from littledata.errors import ConfigError

        raise ConfigError(
            f"The number of worker processes must be a positive integer, or 0 (or -1) for every "
            f"usable core; got {n_jobs!r}."
        )
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    if n_jobs > cores:
        log.warning(
            "n_jobs=%d is more than the %d usable cores; using %d worker processes.",
            n_jobs, cores, cores,
        )  # fmt: skip
        return cores
    return n_jobs if n_jobs > 0 else cores


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
    """BLAS/OpenMP threads limited to ``threads`` in the block (one thread is a no-op inside a
    worker, which is limited to one for its whole life)."""
    if _worker_limits is not None and threads == 1:
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

    def run(
        self,
        fn: Callable[[Job], JobResult],
        jobs: JobSource | Sequence[Job],
        on_result: OnResult,
    ) -> None:
        source = as_source(jobs)
        while source.wait():
            for job in source.take(1):
                with limit_threads(1):
                    result = fn(job)
                on_result(job, result)
                source.done(job.key)


# -- local worker processes --------------------------------------------------------------------


def init_worker(parent_pid: int | None = None) -> None:
    """Limit every thread pool of a worker process to one thread (the workers are the
    parallelism), before and after the numeric libraries load; end the worker when the process
    that started it (``parent_pid``) dies, even by ``kill -9`` (see :mod:`littledata.processes`)."""
    global _worker_limits
    from littledata.processes import die_with_parent

    die_with_parent(parent_pid)
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

    def run(
        self,
        fn: Callable[[Job], JobResult],
        jobs: JobSource | Sequence[Job],
        on_result: OnResult,
    ) -> None:
        source = as_source(jobs)
        workers = self.workers
        if isinstance(source, JobList):
            workers = min(workers, len(source))
        if workers <= 1:
            SerialExecutor().run(fn, source, on_result)
            return
        retry: list[Job] = []
        breaks: dict[str, int] = {}
        pool_breaks = 0
        while True:
            requeue = self._run_pool(fn, retry, source, workers, on_result)
            if not requeue:
                return
            pool_breaks += 1
            log.warning("a worker process died; %d jobs in flight are retried", len(requeue))
            for job in requeue:
                breaks[job.key] = breaks.get(job.key, 0) + 1
            again = [j for j in requeue if breaks[j.key] < 2 and pool_breaks < MAX_POOL_BREAKS]
            for job in requeue:
                if job not in again:
                    on_result(job, JobResult(job.key, error="the worker process died"))
                    source.done(job.key)
            if pool_breaks >= MAX_POOL_BREAKS:
                for job in [*again, *source.take_all()]:
                    on_result(job, JobResult(job.key, error="the worker pool kept dying"))
                    source.done(job.key)
                return
            retry = list(reversed(again))

    @staticmethod
    def _run_pool(
        fn: Callable[[Job], JobResult],
        retry: list[Job],
        source: JobSource,
        workers: int,
        on_result: OnResult,
    ) -> list[Job]:
        """Run ``retry`` (popped from the end), then the jobs ``source`` hands out, in one process
        pool, keeping at most two per worker in flight. Returns the jobs in flight when the pool
        broke (empty when every job is done)."""
        ctx = multiprocessing.get_context("spawn")
        in_flight: dict[cf.Future[JobResult], Job] = {}
        executor = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=init_worker, initargs=(os.getpid(),)
        )
        try:
            while True:
                free = 2 * workers - len(in_flight)
                batch = [retry.pop() for _ in range(min(free, len(retry)))]
                batch += source.take(free - len(batch)) if free > len(batch) else []
                for job in batch:
                    in_flight[executor.submit(fn, job)] = job
                if not in_flight:
                    if source.wait():  # jobs that others held may come back
                        continue
                    return []
                # while others hold jobs, look again now and then for jobs to take over
                timeout = source.poll_s if source.waiting else None
                finished, _ = cf.wait(in_flight, timeout=timeout, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    job = in_flight.pop(future)
                    try:
                        result = future.result()
                    except cf.process.BrokenProcessPool:
                        return [job, *in_flight.values()]
                    on_result(job, result)
                    source.done(job.key)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
