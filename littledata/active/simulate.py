"""Simulated active learning on a labeled dataset.

The train split (capped at ``pool_cap`` rows, seeded) is the pool, its labels hidden and revealed
only for the rows a strategy queries. The loop starts with ``init`` labels (a seeded random
sample, or a cold-start batch), then queries ``batch`` rows at a time until ``budget`` labels.
After every batch the head is evaluated on the test split (capped at ``test_cap`` rows by a seeded
random sample, the same for every run; both caps and the seed are recorded), and the stopping
criterion (:class:`~littledata.active.stopping.StabilizingPredictions`) reads the model's
predictions on a stop set of ``stop_set_size`` pool rows (unlabeled data: it costs no labels).

Each (dataset, featurizer, head, strategy, seed, init, batch, budget, ...) run is one trial in the
:class:`~littledata.experiments.store.ResultsStore` (``kind="active"``, config field
``role="run"``) with measurements ``accuracy``, ``macro_f1``, ``stop_kappa``, ``fit_seconds``,
``query_seconds`` at ``x`` = number of labels, and per run ``reference_accuracy``, ``aulc``,
``accuracy_at_budget``, ``stopped``, ``stop_labels``, ``stop_accuracy``. The reference (the same
head trained on the whole training split, however the pool is capped) is computed once per
dataset/featurizer/head and stored as its own trial (``role="reference"``). Runs on other task
types store their task's metrics instead (:func:`~littledata.active.loop.curve_metrics`:
multi-label ``macro_f1`` first, sequence labeling ``entity_f1`` first), the curve's metric in
the config field ``curve_metric`` and ``{metric}_at_budget``, ``stop_{metric}``,
``reference_{metric}`` in place of the accuracy ones.

Runs are jobs of the same executors as the benchmark's trials
(:mod:`littledata.experiments.execution`): :func:`simulate` writes the pool and test arrays once
to a work folder and hands each (strategy, seed) run to an executor as a :class:`Job` that
:func:`run_active_job` runs, serially or in local worker processes (``n_jobs``). A run's result
does not depend on where it ran. The label-efficiency summaries (AULC, labels to 95%, ...) live
in :mod:`littledata.active.curves`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.active.curves import (
    GROUP_COLUMNS,
    aulc,
    group_columns,
    labels_to_reach,
    learning_curves,
    run_rows,
    summarize,
)
from littledata.active.data import check_active_task
from littledata.active.learner import check_head_supports, check_strategy_task
from littledata.active.loop import (
    CURVE_METRICS,
    ActiveTask,
    TrialResult,
    check_loop,
    check_settings,
    curve_metrics,
    prepare_task,
    reference_accuracy,
    run_trial,
)
from littledata.active.strategies import get_strategy
from littledata.active.tuned import check_text_head_task, text_head
from littledata.datasets.base import Dataset
from littledata.datasets.source import DataSource
from littledata.errors import ConfigError, LittleDataError
from littledata.experiments.execution import (
    DataRef,
    Executor,
    Job,
    JobResult,
    SerialExecutor,
    get_executor,
    guarded,
    resolve,
    worker_count,
)
from littledata.experiments.store import Measurement
from littledata.tasks import get_task_type

if TYPE_CHECKING:
    import pandas as pd

    from littledata.experiments.store import ResultsStore

log = logging.getLogger(__name__)

__all__ = [
    "CURVE_METRICS",
    "GROUP_COLUMNS",
    "ActiveTask",
    "SimulationResult",
    "TrialResult",
    "aulc",
    "group_columns",
    "labels_to_reach",
    "learning_curves",
    "prepare_task",
    "reference_accuracy",
    "run_active_job",
    "run_rows",
    "run_trial",
    "simulate",
    "summarize",
]

KIND = "active"


# -- many runs --------------------------------------------------------------------------------


def _head_name(head: str | Any) -> str:
    return head if isinstance(head, str) else type(head).__name__


def _resampling(head: str | Any, params: Mapping[str, Any] | None) -> str:
    """The resampling option :func:`littledata.heads.make_head` applies to a named head
    (``"none"`` for an estimator object, which is used as given)."""
    if not isinstance(head, str):
        return "none"
    from littledata.heads import HEADS

    option = str(dict(params or {}).get("resampling", "default"))
    if option == "default":
        info = HEADS.get(head, None)
        option = info.resampling if info is not None else "none"
    return option


def _params_json(params: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(params or {}), sort_keys=True)


@dataclass
class SimulationResult:
    """What :func:`simulate` returns: the long-format measurements and the per-strategy summary."""

    frame: pd.DataFrame
    summary: pd.DataFrame
    ran: int
    skipped: int
    reference_size: int | None = None
    """Rows the reference head was trained on (the whole training split)."""
    split_note: str = ""
    """How the test split was made, for a user's file without one ("" otherwise)."""
    unit: str = "rows"
    """What the pool counts (``"sentences"`` for sequence labeling)."""


def _rows(key: str, config: Mapping[str, Any], measurements: Sequence[Measurement]) -> list[dict]:
    return [
        {"key": key, "metric": m.metric, "x": m.x, "value": m.value, **config} for m in measurements
    ]


def simulate(
    dataset: str | Dataset | DataSource | ActiveTask,
    strategies: Sequence[str] = ("random", "margin"),
    *,
    featurizer: str = "minilm",
    head: str | Any = "logreg",
    head_params: Mapping[str, Any] | None = None,
    strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
    init: int = 20,
    init_strategy: str = "random",
    batch: int = 10,
    budget: int = 500,
    seeds: int | Sequence[int] = 5,
    pool_cap: int | None = 20000,
    test_cap: int | None = 2000,
    cap_seed: int = 0,
    stop_set_size: int = 1000,
    stop_threshold: float = 0.99,
    stop_window: int = 3,
    subsample: int | None = None,
    store: ResultsStore | str | None = None,
    mirror: str | None = None,
    threads: int | None = 1,
    retune_growth: float = 0.25,
    n_jobs: int = 1,
    executor: Executor | str | None = None,
) -> SimulationResult:
    """Simulate active learning for each strategy and seed; store and summarize the curves.

    Parameters
    ----------
    dataset: a registry dataset name, your file's path or a
        :class:`~littledata.datasets.source.DataSource` (your file with its reading options), a
        loaded :class:`~littledata.datasets.base.Dataset` (e.g. your train and test files:
        ``load_dataset(train=..., test=...)``), or a prepared :class:`ActiveTask`. A file
        without a test split gets a seeded held-out one (see :func:`prepare_task`).
    strategies: strategy names (see ``littledata active strategies``).
    featurizer, head, head_params: the features and the head (the same for every strategy).
        A head that fine-tunes its encoder (``setfit``, ``finetune``; single-label data) tunes
        the featurizer's at every fit, on the labeled rows' texts (:mod:`littledata.active.tuned`):
        minutes per run even for a small pool.
    strategy_params: ``{strategy name: {param: value}}``.
    init, init_strategy, batch, budget: the loop (see :func:`run_trial`).
    seeds: how many seeds (``0..seeds-1``) or the seeds themselves.
    pool_cap, test_cap, cap_seed: caps of the pool and the test set (seeded samples; ``None``
        or ``0`` for no cap, as everywhere).
    stop_set_size, stop_threshold, stop_window: the stopping criterion.
    subsample: score at most this many pool rows per query (a seeded random subset).
    store: a :class:`ResultsStore` or its URL; ``None`` keeps the results in memory only.
        Runs whose configuration is already stored are not run again.
    threads: BLAS threads while fitting and querying (see
        :func:`littledata.active.learner.thread_limit`); not part of a run's configuration.
    retune_growth: how often a CV-tuned head searches its C again (see
        :class:`~littledata.active.learner.ActiveLearner`); part of the configuration.
    n_jobs: worker processes for the runs (the ``"local"`` executor; 1: in this process; 0: every
        usable core). The results do not depend on it. A head given as an estimator object
        always runs here.
    executor: an :class:`~littledata.experiments.execution.Executor` or a registered executor's
        name, instead of ``n_jobs`` local workers.

    Returns
    -------
    SimulationResult with ``frame`` (long format, as ``ResultsStore.frame``) and ``summary``
    (:func:`summarize`).
    """
    import pandas as pd

    from littledata.experiments.sampling import check_cap
    from littledata.experiments.store import ResultsStore, trial_key
    from littledata.progress import bar

    pool_cap, test_cap = check_cap(pool_cap, "pool_cap"), check_cap(test_cap, "test_cap")
    worker_count(n_jobs)  # a bad n_jobs fails before any work

    pool_cap, test_cap = check_cap(pool_cap, "pool_cap"), check_cap(test_cap, "test_cap")

    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ConfigError(f"seeds must be at least 1, got {seeds}.")
        seed_list = list(range(int(seeds)))
    else:
        seed_list = [int(s) for s in seeds]
    if not strategies:
        raise ConfigError("Name at least one strategy.")
    built = [get_strategy(s, **dict((strategy_params or {}).get(s, {}))) for s in strategies]
    names = [b.name for b in built]
    # Settings a user can get wrong are checked before the dataset is loaded and featurized.
    check_loop(_known_pool_size(dataset, pool_cap), init, batch, budget)
    check_settings(init_strategy, stop_set_size, stop_threshold, stop_window)
    probe = _probe_head(head, head_params, featurizer)
    known_task = _known_task(dataset)
    for strat in built:
        if subsample is not None:
            strat = get_strategy("subsample", base=strat, size=subsample)
        check_head_supports(strat, probe)
        if known_task:
            check_strategy_task(strat, get_task_type(known_task).query_task)
    if known_task and isinstance(head, str):  # a token head for tokens, a text head for texts
        from littledata.active.rows import check_head_task

        check_head_task(head, get_task_type(known_task))
        if text_head(head) is not None:
            check_text_head_task(text_head(head), known_task)
    if isinstance(dataset, ActiveTask):
        task = dataset
    else:
        task = prepare_task(
            dataset,
            featurizer,
            pool_cap=pool_cap,
            test_cap=test_cap,
            cap_seed=cap_seed,
            mirror=mirror,
            texts=text_head(head) is not None,  # a head that fine-tunes its encoder reads them
        )
    check_loop(len(task.y_pool), init, batch, budget)
    task_name = str(task.info.get("task", "single-label"))
    for strat in built:  # a user's file: its task is known once loaded
        check_strategy_task(strat, get_task_type(task_name).query_task)
    metric = curve_metrics(task_name)[0]
    if isinstance(store, str):
        store = ResultsStore(store)
    base = {
        "dataset": task.dataset,
        "featurizer": task.featurizer,
        "head": _head_name(head),
        "head_params": _params_json(head_params),
        "pool_cap": pool_cap,
        "test_cap": test_cap,
        "cap_seed": cap_seed,
        "pool_size": int(task.info.get("pool_size", len(task.y_pool))),
        "test_size": int(task.info.get("test_size", len(task.y_test))),
    }
    resampling = _resampling(head, head_params)
    if resampling != "none":
        # The head's imbalance handling (its default or head_params'); configurations stored
        # before heads had a default other than none keep their keys.
        base["resampling"] = resampling
    if metric != "accuracy":  # the curve's metric (multi-label: macro-F1); older keys kept
        base["curve_metric"] = metric
    if task.info.get("source_fingerprint"):  # a user's data: its content is in every key
        base["source_fingerprint"] = task.info["source_fingerprint"]
    if task.reference_size != base["pool_size"]:
        # Only when the pool is capped: configurations stored before this field keep their keys.
        base["reference_size"] = task.reference_size
    done = store.completed_keys(KIND) if store is not None else set()
    jobs_dir = tempfile.TemporaryDirectory(prefix="littledata-active-")
    with jobs_dir as tmp:
        refs = _task_refs(task, Path(tmp))
        ref_config = {**base, "role": "reference"}
        ref_key = trial_key(ref_config)
        reference = _stored_reference(store, ref_key, metric) if ref_key in done else math.nan
        runner = _job_function(head)
        options = _run_options(task, head_params, threads)
        if math.isnan(reference):
            ref_job = Job(ref_key, ref_config, refs, options)
            result: dict[str, JobResult] = {}
            SerialExecutor().run(runner, [ref_job], lambda job, res: result.update({job.key: res}))
            _raise_error(result[ref_key])
            reference = float(result[ref_key].values)
            if store is not None:
                ref_meas = [Measurement(metric, reference)]
                store.add_trial(kind=KIND, key=ref_key, config=ref_config, measurements=ref_meas)
        rows: list[dict[str, Any]] = _rows(ref_key, ref_config, [Measurement(metric, reference)])

        configs: list[dict[str, Any]] = []
        for name, raw in zip(names, strategies, strict=True):
            params = dict((strategy_params or {}).get(raw, {}))
            for seed in seed_list:
                configs.append(
                    {
                        **base,
                        "role": "run",
                        "strategy": name,
                        "strategy_params": _params_json(params),
                        "seed": seed,
                        "init": init,
                        "init_strategy": init_strategy,
                        "batch": batch,
                        "budget": budget,
                        "subsample": subsample,
                        "stop_set_size": stop_set_size,
                        "stop_threshold": stop_threshold,
                        "stop_window": stop_window,
                        "retune_growth": retune_growth,
                    }
                )
        keys = [trial_key(c) for c in configs]
        jobs = [
            Job(key, config, refs, options)
            for key, config in zip(keys, configs, strict=True)
            if key not in done
        ]
        skipped = len(configs) - len(jobs)
        finished: dict[str, list[Measurement]] = {}
        by_key = dict(zip(keys, configs, strict=True))
        with bar(total=len(jobs), desc=f"active {task.dataset}", unit="run") as pbar:

            def on_result(job: Job, res: JobResult) -> None:
                _raise_error(res)
                measurements = [*res.values, Measurement(f"reference_{metric}", reference)]
                if store is not None:
                    config = by_key[job.key]
                    store.add_trial(
                        kind=KIND, key=job.key, config=config, measurements=measurements
                    )
                finished[job.key] = measurements
                pbar.update(1)

            executor = _executor(executor, n_jobs, head)
            executor.run(runner, jobs, on_result)
    for key, config in zip(keys, configs, strict=True):  # plan order, whatever the finish order
        if key in finished:
            rows.extend(_rows(key, config, finished[key]))
    ran = len(finished)
    if store is not None and skipped:
        stored = store.frame(KIND)
        frame = stored[stored["key"].isin([*keys, ref_key])].reset_index(drop=True)
    else:
        frame = pd.DataFrame.from_records(rows)
        frame["x"] = frame["x"].astype("float64")
        frame["value"] = frame["value"].astype("float64")
    return SimulationResult(
        frame=frame,
        summary=summarize(frame),
        ran=ran,
        skipped=skipped,
        reference_size=task.reference_size,
        split_note=str(task.info.get("split_note", "")),
        unit=get_task_type(task_name).unit,
    )


# -- runs as jobs -------------------------------------------------------------------------------

_TASK_ARRAYS = (
    "X_pool", "y_pool", "X_test", "y_test", "X_reference", "y_reference",
    "texts_pool", "texts_test", "texts_reference",
)  # fmt: skip


def _task_refs(task: ActiveTask, work: Path) -> dict[str, DataRef]:
    """Write the task's arrays to ``work`` as ``.npy`` files; an executor's jobs read them."""
    refs = {}
    for name in _TASK_ARRAYS:
        arr = getattr(task, name)
        if arr is None:
            continue
        path = work / f"{name}.npy"
        np.save(path, np.asarray(arr), allow_pickle=False)
        refs[name] = DataRef(str(path))
    return refs


def _task_from_job(job: Job) -> ActiveTask:
    data, c, o = job.data, job.config, job.options
    arrays = {name: resolve(data[name]) if name in data else None for name in _TASK_ARRAYS}
    return ActiveTask(
        dataset=c["dataset"],
        featurizer=c["featurizer"],
        classes=list(o.get("classes") or [str(i) for i in range(int(o["n_classes"]))]),
        info={"task": o["task"]},
        **arrays,  # type: ignore[arg-type]
    )


def _run_options(
    task: ActiveTask, head_params: Mapping[str, Any] | None, threads: int | None
) -> dict[str, Any]:
    """What a job needs beyond its stored configuration (not part of the key)."""
    return {
        "head_params": dict(head_params or {}),
        "threads": threads,
        "n_classes": len(task.classes),
        "classes": [str(c) for c in task.classes],  # tag names: entity scores read them
        "task": str(task.info.get("task", "single-label")),
    }


def _active_values(job: Job, head: Any = None) -> Any:
    c, o = job.config, job.options
    task = _task_from_job(job)
    head = c["head"] if head is None else head
    head_params = o["head_params"]
    if c["role"] == "reference":
        return reference_accuracy(task, head, head_params, o["threads"])
    result = run_trial(
        task,
        c["strategy"],
        head=head,
        head_params=head_params,
        strategy_params=json.loads(c["strategy_params"]),
        seed=c["seed"],
        init=c["init"],
        init_strategy=c["init_strategy"],
        batch=c["batch"],
        budget=c["budget"],
        stop_set_size=c["stop_set_size"],
        stop_threshold=c["stop_threshold"],
        stop_window=c["stop_window"],
        subsample=c["subsample"],
        threads=o["threads"],
        retune_growth=c["retune_growth"],
    )
    return result.measurements()


def run_active_job(job: Job) -> JobResult:
    """The job function of simulated runs and reference trials (registry heads by name)."""
    return guarded(_active_values, job)


def _job_function(head: str | Any) -> Callable[[Job], JobResult]:
    if isinstance(head, str):
        return run_active_job
    # an estimator object: runs in this process only (it travels by reference, not by name)
    return functools.partial(guarded, functools.partial(_active_values, head=head))


def _executor(executor: Executor | str | None, n_jobs: int, head: str | Any) -> Executor:
    if not isinstance(head, str):
        return SerialExecutor()
    if executor is None or isinstance(executor, str):
        return get_executor(executor or "local", workers=worker_count(n_jobs))
    return executor


def _raise_error(result: JobResult) -> None:
    if result.error is not None:
        log.debug("%s", result.traceback)
        raise LittleDataError(f"A simulated run failed: {result.error}")


def _stored_reference(store: ResultsStore | None, ref_key: str, metric: str) -> float:
    ref_frame = store.frame(KIND, role="reference")  # type: ignore[union-attr]
    hit = ref_frame[(ref_frame["key"] == ref_key) & (ref_frame["metric"] == metric)]
    return float(hit["value"].iloc[0]) if len(hit) else math.nan


def _known_task(dataset: str | Dataset | DataSource | ActiveTask) -> str | None:
    """The dataset's task type when it is known without loading the data (a task, a loaded
    dataset, a registered name); ``None`` for a user's file."""
    if isinstance(dataset, ActiveTask):
        return str(dataset.info.get("task", "single-label"))
    if isinstance(dataset, Dataset):
        return str(dataset.task)
    source = DataSource.parse(dataset)
    if not source.is_registered:
        return None
    from littledata.datasets.registry import get_spec

    return str(get_spec(str(source.path)).task)


def _known_pool_size(
    dataset: str | Dataset | DataSource | ActiveTask, pool_cap: int | None
) -> int | None:
    """The pool size, known without loading the data: a task's, or a registered dataset's
    train split (from its spec) capped at ``pool_cap``; ``None`` for a user's file."""
    if isinstance(dataset, ActiveTask):
        return len(dataset.y_pool)
    if isinstance(dataset, DataSource):
        if not dataset.is_registered:
            return None
        dataset = str(dataset.path)
    if isinstance(dataset, Dataset):
        n = len(dataset.train) if dataset.train_split in dataset.splits else None
        return n if n is None or pool_cap is None else min(n, pool_cap)
    from littledata.datasets.registry import get_spec
    from littledata.errors import UnknownNameError

    try:
        spec = get_spec(dataset)
    except UnknownNameError:
        return None  # a path to a user's file; load_dataset says what is wrong with it
    check_active_task(spec.name, str(spec.task))
    n = spec.splits.get(spec.train_split)
    if n is None:
        return None
    return n if pool_cap is None else min(n, pool_cap)


def _probe_head(head: str | Any, head_params: Mapping[str, Any] | None, featurizer: str) -> Any:
    """An unfitted head, to check it before any work (an unknown name or parameter fails here;
    a head that fine-tunes its encoder also checks that ``featurizer`` can be tuned)."""
    if isinstance(head, str):
        from littledata.heads import make_head

        if text_head(head) is None:
            return make_head(head, **dict(head_params or {}))
        from littledata.finetune.encoder import tunable_source

        tunable_source(featurizer)
        return make_head(head, input_kind="text", encoder=featurizer, **dict(head_params or {}))
    return head
