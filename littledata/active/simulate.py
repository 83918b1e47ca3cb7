"""Simulated active learning on a labeled dataset, and label-efficiency summaries.

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
dataset/featurizer/head and stored as its own trial (``role="reference"``).

Label-efficiency summaries (:func:`summarize`), per strategy:

- AULC: the area under the accuracy-vs-labels curve by the trapezoid rule over the label range
  ``[init, budget]``, divided by the range's length, i.e. the mean accuracy over the range
  (between 0 and 1; a curve at 1.0 everywhere scores 1.0). Computed per seed, then mean ± std.
- accuracy at the budget: the last point of each seed's curve, mean ± std.
- labels to 95%: the first number of labels at which the seed-averaged curve reaches 95% of the
  reference accuracy (NaN: not reached within the budget).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.active.learner import ActiveLearner, check_head_supports
from littledata.active.stopping import StabilizingPredictions
from littledata.active.strategies import get_strategy
from littledata.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from littledata.datasets.base import Dataset
    from littledata.experiments.store import Measurement, ResultsStore

log = logging.getLogger(__name__)

__all__ = [
    "GROUP_COLUMNS",
    "ActiveTask",
    "SimulationResult",
    "TrialResult",
    "aulc",
    "group_columns",
    "labels_to_reach",
    "learning_curves",
    "load_single_label",
    "prepare_task",
    "reference_accuracy",
    "run_rows",
    "run_trial",
    "simulate",
    "summarize",
]

KIND = "active"
GROUP_COLUMNS = ("dataset", "featurizer", "head", "init_strategy", "init", "batch", "budget")
"""Config fields that make one comparison (one figure, one table block); strategy varies in it."""


# -- label-efficiency numbers -----------------------------------------------------------------


def aulc(x: Sequence[float], y: Sequence[float]) -> float:
    """Area under a learning curve, normalised by its label range.

    The trapezoid rule over the points ``(x, y)`` (sorted by ``x``), divided by
    ``max(x) - min(x)``: the mean of ``y`` over the range under linear interpolation, so an
    accuracy curve gives a number in [0, 1]. A single point gives its ``y``.

    >>> aulc([20, 30, 40], [0.5, 0.7, 0.7])
    0.65
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xs) == 0:
        return math.nan
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if len(xs) == 1 or xs[-1] == xs[0]:
        return float(ys.mean())
    area = float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2.0))
    return area / float(xs[-1] - xs[0])


def labels_to_reach(x: Sequence[float], y: Sequence[float], target: float) -> float:
    """The smallest ``x`` whose ``y`` is at least ``target`` (NaN when no point reaches it).

    >>> labels_to_reach([20, 30, 40, 50], [0.5, 0.72, 0.69, 0.8], 0.7)
    30.0
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(xs, kind="stable")
    hit = np.flatnonzero(ys[order] >= target)
    return float(xs[order][hit[0]]) if len(hit) else math.nan


# -- the task ---------------------------------------------------------------------------------


def load_single_label(name: str, *, mirror: str | None = None) -> Dataset:
    """Load a registry dataset and check it is single-label classification."""
    from littledata import load_dataset
    from littledata.datasets.base import Task

    ds = load_dataset(name, mirror=mirror)
    if ds.task != Task.SINGLE_LABEL:
        raise ConfigError(
            f"Active learning here needs a single-label classification dataset; {ds.name!r} is "
            f"{ds.task.value}."
        )
    return ds


def _cap(n: int, cap: int | None, seed: int) -> np.ndarray:
    if cap is None or n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))


@dataclass
class ActiveTask:
    """A pool and a test set as features with their (hidden) labels.

    ``y_pool``/``y_test`` are indices into ``classes``. ``info`` holds what is recorded with
    each trial (sizes, caps, cap seed). ``X_reference``/``y_reference``: the rows the reference
    head is trained on (the whole training split when the pool is a capped sample of it;
    ``None``: the pool).
    """

    dataset: str
    featurizer: str
    classes: list[str]
    X_pool: np.ndarray
    y_pool: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    X_reference: np.ndarray | None = None
    y_reference: np.ndarray | None = None

    @property
    def reference_size(self) -> int:
        """How many rows the reference head is trained on."""
        return len(self.y_pool if self.y_reference is None else self.y_reference)

    @classmethod
    def from_arrays(
        cls,
        X_pool: np.ndarray,
        y_pool: np.ndarray,
        X_test: np.ndarray,
        y_test: np.ndarray,
        classes: Sequence[str] | None = None,
        *,
        dataset: str = "custom",
        featurizer: str = "custom",
    ) -> ActiveTask:
        """Build a task from feature matrices and integer labels (tests, custom features)."""
        y_pool, y_test = np.asarray(y_pool, dtype=np.int64), np.asarray(y_test, dtype=np.int64)
        k = int(max(y_pool.max(), y_test.max())) + 1
        names = [str(c) for c in (classes if classes is not None else range(k))]
        return cls(
            dataset,
            featurizer,
            names,
            np.asarray(X_pool),
            y_pool,
            np.asarray(X_test),
            y_test,
            {"pool_size": len(y_pool), "test_size": len(y_test)},
        )


def prepare_task(
    dataset: str,
    featurizer: str = "minilm",
    *,
    pool_cap: int | None = 20000,
    test_cap: int | None = 2000,
    cap_seed: int = 0,
    mirror: str | None = None,
) -> ActiveTask:
    """Load a registry dataset and featurize its train (pool) and test splits.

    Whole splits are featurized (through the feature cache, shared with the benchmarks); then the
    pool and the test set are capped by seeded random samples (``cap_seed``). The reference head
    (labels to 95%) is trained on the whole training split, not only on the capped pool.
    """
    from littledata.features import featurize, get_featurizer

    ds = load_single_label(dataset, mirror=mirror)
    fz = get_featurizer(featurizer)
    if getattr(fz, "kind", "dense") != "dense":
        raise ConfigError(
            f"Active learning needs a dense featurizer (one vector per text); {featurizer!r} "
            f"is {fz.kind!r}."
        )
    train, test = ds.train, ds.test
    pool_rows = _cap(len(train), pool_cap, cap_seed)
    test_rows = _cap(len(test), test_cap, cap_seed + 1)
    X_train = np.asarray(featurize(train.texts, fz))
    y_train = np.asarray(train.labels, dtype=np.int64)
    X_pool = X_train[pool_rows]
    X_test = np.asarray(featurize(test.texts, fz))[test_rows]
    capped = len(pool_rows) < len(train)
    return ActiveTask(
        dataset=ds.name,
        featurizer=featurizer,
        classes=list(ds.label_names),
        X_pool=X_pool,
        y_pool=y_train[pool_rows],
        X_test=X_test,
        y_test=np.asarray(test.labels, dtype=np.int64)[test_rows],
        info={
            "pool_size": len(pool_rows),
            "test_size": len(test_rows),
            "train_split_size": len(train),
            "test_split_size": len(test),
            "featurizer_fingerprint": getattr(fz, "fingerprint", None),
        },
        X_reference=X_train if capped else None,
        y_reference=y_train if capped else None,
    )


# -- one run ----------------------------------------------------------------------------------


def _scores(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 with the definitions of
    :func:`littledata.experiments.metrics.compute_metrics` (macro-F1 over the labels present in
    the true or predicted rows, zero division as 0). Only these two: the full metric set costs
    about a second per evaluation with 150 classes, too much for every round of every run."""
    from sklearn.metrics import accuracy_score, f1_score

    pred = proba.argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(y_true, pred)),
        "macro_f1": float(f1_score(y_true, pred, average="macro", zero_division=0)),
    }


def _evaluate(learner: ActiveLearner, X: np.ndarray, y_true: np.ndarray) -> dict[str, float]:
    """:func:`_scores` of the learner's model on ``X``; from its predictions when the head has no
    ``predict_proba`` (accuracy and macro-F1 need only the predicted class)."""
    if hasattr(learner.model, "predict_proba"):
        return _scores(y_true, learner.predict_proba(X))
    pred = np.asarray(learner.predict(X), dtype=np.int64)
    return _scores(y_true, np.eye(len(learner.classes))[pred])


@dataclass
class TrialResult:
    """One simulated run: the learning curve and where the stopping criterion fired."""

    labels: list[int]
    accuracy: list[float]
    macro_f1: list[float]
    stop_kappa: list[float]
    fit_seconds: list[float]
    query_seconds: list[float]
    stop_labels: float
    stop_accuracy: float
    queried: list[int]

    def measurements(self, reference: float | None = None) -> list[Measurement]:
        """The run as store measurements (see the module docstring)."""
        from littledata.experiments.store import Measurement

        out = []
        for i, x in enumerate(self.labels):
            out.append(Measurement("accuracy", self.accuracy[i], x))
            out.append(Measurement("macro_f1", self.macro_f1[i], x))
            if not math.isnan(self.stop_kappa[i]):
                out.append(Measurement("stop_kappa", self.stop_kappa[i], x))
            out.append(Measurement("fit_seconds", self.fit_seconds[i], x))
            if i > 0:
                out.append(Measurement("query_seconds", self.query_seconds[i], x))
                # choosing this batch: refitting the head on the previous labels + the query
                round_seconds = self.fit_seconds[i - 1] + self.query_seconds[i]
                out.append(Measurement("round_seconds", round_seconds, x))
        out.append(Measurement("aulc", aulc(self.labels, self.accuracy)))
        out.append(Measurement("accuracy_at_budget", self.accuracy[-1]))
        out.append(Measurement("stopped", float(not math.isnan(self.stop_labels))))
        out.append(Measurement("stop_labels", self.stop_labels))
        out.append(Measurement("stop_accuracy", self.stop_accuracy))
        if reference is not None:
            out.append(Measurement("reference_accuracy", reference))
        return out


def _check_loop(n_pool: int | None, init: int, batch: int, budget: int) -> None:
    """Check the loop's settings; the budget against the pool only when ``n_pool`` is known."""
    for name, value in (("init", init), ("batch", batch), ("budget", budget)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(f"{name} must be a whole number, got {value!r}.")
    if batch < 1:
        raise ConfigError(f"The batch size must be at least 1, got {batch}.")
    if init < 1:
        raise ConfigError(f"init (labels before the first query) must be at least 1, got {init}.")
    if budget < init:
        raise ConfigError(f"The budget ({budget}) is smaller than the initial labels ({init}).")
    if n_pool is not None and budget > n_pool:
        raise ConfigError(
            f"The budget ({budget} labels) is larger than the pool ({n_pool} examples); "
            "lower --budget or raise the pool cap."
        )


def _check_init_strategy(init_strategy: str) -> None:
    if init_strategy not in ("random", "cold-start"):
        raise ConfigError(f"init_strategy must be 'random' or 'cold-start', got {init_strategy!r}.")


def _check_stopping(stop_set_size: int, stop_threshold: float, stop_window: int) -> None:
    if isinstance(stop_set_size, bool) or not isinstance(stop_set_size, (int, np.integer)):
        raise ConfigError(f"stop_set_size must be a whole number, got {stop_set_size!r}.")
    if stop_set_size < 1:
        raise ConfigError(
            f"The stopping criterion's stop set needs at least 1 example, got {stop_set_size}."
        )
    StabilizingPredictions(stop_threshold, stop_window)  # checks threshold and window


def run_trial(
    task: ActiveTask,
    strategy: str,
    *,
    head: str | Any = "logreg",
    head_params: Mapping[str, Any] | None = None,
    strategy_params: Mapping[str, Any] | None = None,
    seed: int = 0,
    init: int = 20,
    init_strategy: str = "random",
    batch: int = 10,
    budget: int = 500,
    stop_set_size: int = 1000,
    stop_threshold: float = 0.99,
    stop_window: int = 3,
    subsample: int | None = None,
    threads: int | None = 1,
    retune_growth: float = 0.25,
) -> TrialResult:
    """Run one simulated active-learning loop on ``task`` (see the module docstring).

    ``init_strategy`` is ``"random"`` (a seeded uniform sample of ``init`` pool rows) or
    ``"cold-start"`` (the cold-start strategy's batch). ``subsample`` wraps the strategy in
    :class:`~littledata.active.strategies.Subsample` with that size. ``threads``: BLAS threads
    (see :func:`littledata.active.learner.thread_limit`). ``retune_growth``: see
    :class:`~littledata.active.learner.ActiveLearner`.
    """
    _check_loop(len(task.y_pool), init, batch, budget)
    _check_stopping(stop_set_size, stop_threshold, stop_window)
    _check_init_strategy(init_strategy)
    strat = get_strategy(strategy, **dict(strategy_params or {}))
    if subsample is not None:
        strat = get_strategy("subsample", base=strat, size=int(subsample))
    learner = ActiveLearner(
        None,
        head,
        strat,
        features=task.X_pool,
        classes=list(range(len(task.classes))),
        seed=seed,
        head_params=head_params,
        threads=threads,
        retune_growth=retune_growth,
        collapse_check=False,  # the run is scored on test rows; keep its timings comparable
    )
    rng = np.random.default_rng([seed, 7919])
    stop_rows = rng.choice(
        len(task.y_pool), size=min(stop_set_size, len(task.y_pool)), replace=False
    )
    X_stop = task.X_pool[np.sort(stop_rows)]
    if init_strategy == "random":
        first = rng.choice(len(task.y_pool), size=init, replace=False)
    else:
        first = learner.query(init, strategy="cold-start")
    learner.teach(first, task.y_pool[first])
    criterion = StabilizingPredictions(stop_threshold, stop_window)
    res = TrialResult([], [], [], [], [], [], math.nan, math.nan, [int(i) for i in first])
    query_seconds = 0.0
    while True:
        start = time.perf_counter()
        learner.fit()
        fit_seconds = time.perf_counter() - start
        scores = _evaluate(learner, task.X_test, task.y_test)
        kappa = criterion.update(np.asarray(learner.predict(X_stop)))
        res.labels.append(learner.n_labeled)
        res.accuracy.append(scores["accuracy"])
        res.macro_f1.append(scores["macro_f1"])
        res.stop_kappa.append(kappa)
        res.fit_seconds.append(fit_seconds)
        res.query_seconds.append(query_seconds)
        if criterion.stopped and math.isnan(res.stop_labels):
            res.stop_labels = float(learner.n_labeled)
            res.stop_accuracy = scores["accuracy"]
        if learner.n_labeled >= budget:
            break
        n = min(batch, budget - learner.n_labeled)
        start = time.perf_counter()
        idx = learner.query(n)
        query_seconds = time.perf_counter() - start
        learner.teach(idx, task.y_pool[idx])
        res.queried.extend(int(i) for i in idx)
    return res


def reference_accuracy(
    task: ActiveTask,
    head: str | Any = "logreg",
    head_params: Mapping[str, Any] | None = None,
    threads: int | None = 1,
) -> float:
    """Accuracy on the (capped) test set of ``head`` trained on the task's reference rows: the
    whole training split (:attr:`ActiveTask.X_reference`), or the pool when the task has none."""
    X, y = task.X_pool, task.y_pool
    if task.X_reference is not None and task.y_reference is not None:
        X, y = task.X_reference, task.y_reference
    learner = ActiveLearner(
        None,
        head,
        "random",
        features=X,
        classes=list(range(len(task.classes))),
        head_params=head_params,
        threads=threads,
        collapse_check=False,
    )
    learner.teach(np.arange(len(y)), y)
    return _evaluate(learner, task.X_test, task.y_test)["accuracy"]


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
        info = HEADS.get(head)
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


def _rows(key: str, config: Mapping[str, Any], measurements: Sequence[Measurement]) -> list[dict]:
    return [
        {"key": key, "metric": m.metric, "x": m.x, "value": m.value, **config} for m in measurements
    ]


def simulate(
    dataset: str | ActiveTask,
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
) -> SimulationResult:
    """Simulate active learning for each strategy and seed; store and summarize the curves.

    Parameters
    ----------
    dataset: a registry dataset name, or a prepared :class:`ActiveTask`.
    strategies: strategy names (see ``littledata active strategies``).
    featurizer, head, head_params: the features and the head (the same for every strategy).
    strategy_params: ``{strategy name: {param: value}}``.
    init, init_strategy, batch, budget: the loop (see :func:`run_trial`).
    seeds: how many seeds (``0..seeds-1``) or the seeds themselves.
    pool_cap, test_cap, cap_seed: caps of the pool and the test set (seeded samples).
    stop_set_size, stop_threshold, stop_window: the stopping criterion.
    subsample: score at most this many pool rows per query (a seeded random subset).
    store: a :class:`ResultsStore` or its URL; ``None`` keeps the results in memory only.
        Runs whose configuration is already stored are not run again.
    threads: BLAS threads while fitting and querying (see
        :func:`littledata.active.learner.thread_limit`); not part of a run's configuration.
    retune_growth: how often a CV-tuned head searches its C again (see
        :class:`~littledata.active.learner.ActiveLearner`); part of the configuration.

    Returns
    -------
    SimulationResult with ``frame`` (long format, as ``ResultsStore.frame``) and ``summary``
    (:func:`summarize`).
    """
    import pandas as pd

    from littledata.experiments.store import ResultsStore, trial_key
    from littledata.progress import track

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
    _check_loop(_known_pool_size(dataset, pool_cap), init, batch, budget)
    _check_stopping(stop_set_size, stop_threshold, stop_window)
    _check_init_strategy(init_strategy)
    probe = _probe_head(head, head_params)
    for strat in built:
        if subsample is not None:
            strat = get_strategy("subsample", base=strat, size=subsample)
        check_head_supports(strat, probe)
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
        )
    _check_loop(len(task.y_pool), init, batch, budget)
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
    if task.reference_size != base["pool_size"]:
        # Only when the pool is capped: configurations stored before this field keep their keys.
        base["reference_size"] = task.reference_size
    rows: list[dict[str, Any]] = []
    keys: list[str] = []
    done = store.completed_keys(KIND) if store is not None else set()

    ref_config = {**base, "role": "reference"}
    ref_key = trial_key(ref_config)
    reference = math.nan
    if ref_key in done:
        ref_frame = store.frame(KIND, role="reference")  # type: ignore[union-attr]
        hit = ref_frame[(ref_frame["key"] == ref_key) & (ref_frame["metric"] == "accuracy")]
        if len(hit):
            reference = float(hit["value"].iloc[0])
    if math.isnan(reference):
        reference = reference_accuracy(task, head, head_params, threads)
        from littledata.experiments.store import Measurement

        ref_meas = [Measurement("accuracy", reference)]
        if store is not None:
            store.add_trial(kind=KIND, key=ref_key, config=ref_config, measurements=ref_meas)
    rows.extend(_rows(ref_key, ref_config, [_measurement("accuracy", reference)]))

    plan = [
        (name, raw, seed) for name, raw in zip(names, strategies, strict=True) for seed in seed_list
    ]
    ran = skipped = 0
    for name, raw, seed in track(plan, total=len(plan), desc=f"active {task.dataset}", unit="run"):
        params = dict((strategy_params or {}).get(raw, {}))
        config = {
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
        key = trial_key(config)
        keys.append(key)
        if key in done:
            skipped += 1
            continue
        result = run_trial(
            task,
            name,
            head=head,
            head_params=head_params,
            strategy_params=params,
            seed=seed,
            init=init,
            init_strategy=init_strategy,
            batch=batch,
            budget=budget,
            stop_set_size=stop_set_size,
            stop_threshold=stop_threshold,
            stop_window=stop_window,
            subsample=subsample,
            threads=threads,
            retune_growth=retune_growth,
        )
        measurements = result.measurements(reference)
        if store is not None:
            store.add_trial(kind=KIND, key=key, config=config, measurements=measurements)
        rows.extend(_rows(key, config, measurements))
        ran += 1
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
    )


def _known_pool_size(dataset: str | ActiveTask, pool_cap: int | None) -> int | None:
    """The pool size, known without loading the data: a task's, or a registered dataset's
    train split (from its spec) capped at ``pool_cap``; ``None`` for a user's file."""
    if isinstance(dataset, ActiveTask):
        return len(dataset.y_pool)
    from littledata.datasets.base import Task
    from littledata.datasets.registry import get_spec
    from littledata.errors import UnknownNameError

    try:
        spec = get_spec(dataset)
    except UnknownNameError:
        return None  # a path to a user's file; load_dataset says what is wrong with it
    if spec.task != Task.SINGLE_LABEL:
        raise ConfigError(
            f"Active learning here needs a single-label classification dataset; {spec.name!r} is "
            f"{spec.task.value}."
        )
    n = spec.splits.get(spec.train_split)
    if n is None:
        return None
    return n if pool_cap is None else min(n, pool_cap)


def _probe_head(head: str | Any, head_params: Mapping[str, Any] | None) -> Any:
    """An unfitted head, to check it before any work (an unknown name fails here)."""
    if isinstance(head, str):
        from littledata.heads import make_head

        return make_head(head, **dict(head_params or {}))
    return head


def _measurement(metric: str, value: float, x: float | None = None) -> Measurement:
    from littledata.experiments.store import Measurement

    return Measurement(metric, value, x)


# -- summaries --------------------------------------------------------------------------------


def run_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of simulated runs (without the reference trials)."""
    if "role" in frame.columns:
        frame = frame[frame["role"] == "run"]
    return frame


def group_columns(frame: pd.DataFrame) -> list[str]:
    """The :data:`GROUP_COLUMNS` present in ``frame``."""
    return [c for c in GROUP_COLUMNS if c in frame.columns]


def learning_curves(frame: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Seed-averaged curves: one row per group, strategy and ``x`` with ``mean``, ``std``
    (population std over seeds; 0 for one seed) and ``n`` (seeds)."""
    import pandas as pd

    runs = run_rows(frame)
    runs = runs[runs["metric"] == metric]
    cols = [*group_columns(runs), "strategy"]
    if runs.empty:
        return pd.DataFrame(columns=[*cols, "x", "mean", "std", "n"])
    out = (
        runs.groupby([*cols, "x"], dropna=False)["value"]
        .agg(mean="mean", std=lambda v: float(np.std(v)), n="count")
        .reset_index()
    )
    return out


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group and strategy: seeds, AULC, accuracy at the budget (mean and std over seeds),
    the same two for macro-F1 (means; more telling than accuracy on imbalanced data),
    the reference accuracy, labels to reach 95% of it (on the seed-averaged curve), how many
    seeds the stopping criterion fired in, the mean labels and accuracy where it fired, the
    highest windowed mean kappa a run reached (``stop_signal_max``, mean over seeds: how close
    a run that did not stop came to the threshold), and the
    median seconds to choose a batch (refitting the head + the query), ``seconds_per_query``."""
    import pandas as pd

    runs = run_rows(frame)
    cols = [*group_columns(runs), "strategy"]
    columns = [
        *cols,
        "seeds",
        "aulc",
        "aulc_std",
        "accuracy_at_budget",
        "accuracy_at_budget_std",
        "macro_f1_aulc",
        "macro_f1_at_budget",
        "reference_accuracy",
        "labels_to_95",
        "stopped",
        "stop_labels",
        "stop_accuracy",
        "stop_signal_max",
        "seconds_per_query",
    ]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    records = []
    for group, part in runs.groupby(cols, dropna=False, sort=True):
        acc = part[part["metric"] == "accuracy"]
        per_seed = [
            (aulc(s["x"], s["value"]), float(s.sort_values("x")["value"].iloc[-1]))
            for _, s in acc.groupby("key")
        ]
        au = np.array([a for a, _ in per_seed])
        last = np.array([b for _, b in per_seed])
        mean_curve = acc.groupby("x")["value"].mean()
        f1 = part[part["metric"] == "macro_f1"]
        f1_runs = [
            (aulc(r["x"], r["value"]), r.sort_values("x")["value"].iloc[-1])
            for _, r in f1.groupby("key")
        ]
        ref = part.loc[part["metric"] == "reference_accuracy", "value"]
        reference = float(ref.iloc[0]) if len(ref) else math.nan
        target = 0.95 * reference
        stopped = part.loc[part["metric"] == "stopped", "value"]
        stop_labels = part.loc[part["metric"] == "stop_labels", "value"].dropna()
        stop_acc = part.loc[part["metric"] == "stop_accuracy", "value"].dropna()
        qsec = part.loc[part["metric"] == "round_seconds", "value"]
        signal_max = []
        for _, run in part[part["metric"] == "stop_kappa"].groupby("key"):
            window = int(run["stop_window"].iloc[0]) if "stop_window" in run else 3
            rolled = run.sort_values("x")["value"].rolling(window).mean().max()
            if not math.isnan(rolled):
                signal_max.append(float(rolled))
        records.append(
            {
                **dict(zip(cols, group if isinstance(group, tuple) else (group,), strict=True)),
                "seeds": len(per_seed),
                "aulc": float(au.mean()) if len(au) else math.nan,
                "aulc_std": float(au.std()) if len(au) else math.nan,
                "accuracy_at_budget": float(last.mean()) if len(last) else math.nan,
                "accuracy_at_budget_std": float(last.std()) if len(last) else math.nan,
                "macro_f1_aulc": float(np.mean([a for a, _ in f1_runs])) if f1_runs else math.nan,
                "macro_f1_at_budget": (
                    float(np.mean([b for _, b in f1_runs])) if f1_runs else math.nan
                ),
                "reference_accuracy": reference,
                "labels_to_95": (
                    labels_to_reach(mean_curve.index, mean_curve.values, target)
                    if not math.isnan(reference)
                    else math.nan
                ),
                "stopped": int(stopped.sum()) if len(stopped) else 0,
                "stop_labels": float(stop_labels.mean()) if len(stop_labels) else math.nan,
                "stop_accuracy": float(stop_acc.mean()) if len(stop_acc) else math.nan,
                "stop_signal_max": float(np.mean(signal_max)) if signal_max else math.nan,
                "seconds_per_query": float(qsec.median()) if len(qsec) else math.nan,
            }
        )
    return pd.DataFrame.from_records(records, columns=columns)
