"""One simulated active-learning run: a pool with hidden labels, the loop, the reference.

:func:`prepare_task` loads a dataset and featurizes its train split (the pool, capped by a seeded
uniform sample) and test split; :func:`run_trial` runs the loop on it (init labels, then batches
queried by a strategy until the budget, the head evaluated on the test set after every batch, the
stopping criterion read on a stop set of pool rows); :func:`reference_accuracy` trains the same
head on the whole training split. :mod:`littledata.active.simulate` runs many of these as jobs and
stores them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from littledata.active.curves import aulc
from littledata.active.data import load_active_dataset
from littledata.active.learner import ActiveLearner, thread_limit
from littledata.active.stopping import StabilizingPredictions
from littledata.active.strategies import get_strategy
from littledata.active.tuned import text_head
from littledata.datasets.base import Dataset
from littledata.datasets.source import DataSource
from littledata.errors import ConfigError
from littledata.experiments.store import Measurement
from littledata.tasks import get_task_type

__all__ = [
    "CURVE_METRICS",
    "ActiveTask",
    "TrialResult",
    "check_loop",
    "check_settings",
    "curve_metrics",
    "prepare_task",
    "reference_accuracy",
    "run_trial",
]

CURVE_METRICS = ("accuracy", "macro_f1")
"""The metrics of every round of a single-label run (the learning curves)."""


def curve_metrics(task: str) -> tuple[str, ...]:
    """The metrics of every round of a run on a dataset of ``task``, the curve's (the primary
    metric) first: accuracy and macro-F1 for one label per example (only these two: the full
    metric set costs about a second per evaluation with 150 classes), the task's own metrics
    otherwise (multi-label: macro-F1 over labels first)."""
    task_type = get_task_type(task)
    return CURVE_METRICS if task_type.query_task == "single-label" else task_type.metrics


# -- the task ---------------------------------------------------------------------------------


@dataclass
class ActiveTask:
    """A pool and a test set as features with their (hidden) labels.

    ``y_pool``/``y_test`` are indices into ``classes``. ``info`` holds what is recorded with
    each trial (sizes, caps, cap seed). ``X_reference``/``y_reference``: the rows the reference
    head is trained on (the whole training split when the pool is a capped sample of it;
    ``None``: the pool). ``texts_pool``/``texts_test``/``texts_reference``: the same rows'
    texts (str arrays), for a head that fine-tunes its encoder (:mod:`littledata.active.tuned`);
    ``None`` otherwise.
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
    texts_pool: np.ndarray | None = None
    texts_test: np.ndarray | None = None
    texts_reference: np.ndarray | None = None

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
        task: str = "single-label",
    ) -> ActiveTask:
        """Build a task from feature matrices and integer labels (tests, custom features); for
        ``task="multi-label"`` the labels are 0/1 matrices (a column per label); for
        ``"sequence-labeling"`` padded tag matrices
        (:func:`~littledata.tasks.sequence_labeling.pad_tags`), the features a row per word."""
        y_pool, y_test = np.asarray(y_pool, dtype=np.int64), np.asarray(y_test, dtype=np.int64)
        if get_task_type(task).query_task == "multi-label":  # a 0/1 column per label
            k = y_pool.shape[1]
        else:  # class indices (sequence labeling: padded with -1)
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
            {"pool_size": len(y_pool), "test_size": len(y_test), "task": task},
        )


def prepare_task(
    dataset: str | Dataset | DataSource,
    featurizer: str = "minilm",
    *,
    pool_cap: int | None = 20000,
    test_cap: int | None = 2000,
    cap_seed: int = 0,
    mirror: str | None = None,
    texts: bool = False,
) -> ActiveTask:
    """Load a dataset (a registered name, a user's file or :class:`DataSource`, or a loaded
    dataset) and featurize its train (pool) and test splits.

    Whole splits are featurized (through the feature cache, shared with the benchmarks); then the
    pool and the test set are capped by seeded random samples (``cap_seed``; a cap of ``None`` or
    ``0`` keeps the whole split). The reference head
    (labels to 95%) is trained on the whole training split, not only on the capped pool.

    A user's data without a test split gets the benchmark's fixed held-out split (seed
    ``cap_seed``; :func:`littledata.datasets.splitting.with_test_split`), said in
    ``info["split_note"]``; its content fingerprint is ``info["source_fingerprint"]``, which
    joins the runs' keys (a changed file never reuses stored runs). ``texts``: keep the rows'
    texts too (single-label data; for a head that fine-tunes its encoder).
    """
    from littledata.datasets.splitting import with_test_split
    from littledata.experiments.sampling import check_cap
    from littledata.features import get_featurizer

    pool_cap, test_cap = check_cap(pool_cap, "pool_cap"), check_cap(test_cap, "test_cap")
    registered = isinstance(dataset, (str, DataSource)) and DataSource.parse(dataset).is_registered
    ds = load_active_dataset(dataset, mirror=mirror, splits_itself=True)
    ds, split_note = with_test_split(ds, cap_seed)
    task = get_task_type(str(ds.task))
    fz = get_featurizer(featurizer)
    if getattr(fz, "kind", "dense") != "dense":
        raise ConfigError(
            f"Active learning needs a dense featurizer (one vector per text); {featurizer!r} "
            f"is {fz.kind!r}."
        )
    train, test = ds.train, ds.test
    y_train, y_test = task.targets(train), task.targets(test)
    # uniform seeded caps (not stratified as the benchmark's): stored runs keep their keys
    pool_rows = task.cap(y_train, pool_cap, cap_seed, stratified=False)
    test_rows = task.cap(y_test, test_cap, cap_seed + 1, stratified=False)
    X_train = task.featurize(fz, train)  # pairs: [u, v, |u - v|, u * v]; tokens: per word
    X_pool = task.take(X_train, y_train, pool_rows)  # sequence labeling: the sentences' words
    X_test = task.take(task.featurize(fz, test), y_test, test_rows)
    capped = len(pool_rows) < len(train)
    if texts and task.name != "single-label":
        raise ConfigError(
            "A head that fine-tunes its encoder reads texts of single-label data only, not "
            f"{task.name}."
        )
    kept = {} if not texts else {
        "texts_pool": np.asarray(train.texts, dtype=str)[pool_rows],
        "texts_test": np.asarray(test.texts, dtype=str)[test_rows],
        "texts_reference": np.asarray(train.texts, dtype=str) if capped else None,
    }  # fmt: skip
    return ActiveTask(
        dataset=ds.name,
        featurizer=featurizer,
        classes=list(ds.label_names),
        X_pool=X_pool,
        y_pool=y_train[pool_rows],
        X_test=X_test,
        y_test=y_test[test_rows],
        info={
            "pool_size": len(pool_rows),
            "test_size": len(test_rows),
            "train_split_size": len(train),
            "test_split_size": len(test),
            "featurizer_fingerprint": getattr(fz, "fingerprint", None),
            "task": task.name,
            **({} if registered else {"source_fingerprint": ds.fingerprint()}),
            **({"split_note": split_note} if split_note else {}),
        },
        X_reference=X_train if capped else None,
        y_reference=y_train if capped else None,
        **kept,
    )


# -- one run ----------------------------------------------------------------------------------


def _scores(y_true: np.ndarray, proba: np.ndarray, task: str = "single-label") -> dict[str, float]:
    """Accuracy and macro-F1 of the task type's metrics (only these two: the full metric set
    costs about a second per evaluation with 150 classes, too much for every round of every
    run)."""
    classes = np.arange(proba.shape[1])
    return get_task_type(task).score(y_true, proba, classes, metrics=CURVE_METRICS)


def _evaluate(
    learner: ActiveLearner, X: np.ndarray, y_true: np.ndarray, names: Sequence[str] = ()
) -> dict[str, float]:
    """:func:`_scores` of the learner's model on ``X``; from its predictions when the head has no
    ``predict_proba`` (accuracy and macro-F1 need only the predicted class). Multi-label: the
    task's metrics with the model's tuned thresholds; sequence labeling: entity scores of the
    words' tags (``X`` the test sentences' words, ``names`` the tag names)."""
    if learner.task.query_task != "single-label":
        with thread_limit(learner.threads):
            proba = np.asarray(learner.model.predict_proba(np.asarray(X)))
        scores = learner.task.score_model(learner.model, y_true, proba, list(names) or None)
        return {m: scores[m] for m in curve_metrics(learner.task.name)}
    if hasattr(learner.model, "predict_proba"):
        return _scores(y_true, learner.predict_proba(X))
    pred = np.asarray(learner.predict(X), dtype=np.int64)
    return _scores(y_true, np.eye(len(learner.classes))[pred])


@dataclass
class TrialResult:
    """One simulated run: the learning curves and where the stopping criterion fired.

    ``scores`` holds a curve per metric of :func:`curve_metrics` (``metric``, the primary one,
    first); ``stop_score`` is the primary metric where the criterion fired.
    """

    labels: list[int]
    scores: dict[str, list[float]]
    stop_kappa: list[float]
    fit_seconds: list[float]
    query_seconds: list[float]
    stop_labels: float
    stop_score: float
    queried: list[int]
    metric: str = "accuracy"

    @property
    def curve(self) -> list[float]:
        """The primary metric's curve."""
        return self.scores[self.metric]

    @property
    def accuracy(self) -> list[float]:
        """The accuracy curve (single-label runs)."""
        return self.scores["accuracy"]

    @property
    def macro_f1(self) -> list[float]:
        """The macro-F1 curve (over classes; over labels for multi-label runs)."""
        return self.scores["macro_f1"]

    @property
    def stop_accuracy(self) -> float:
        """The primary metric where the stopping criterion fired (accuracy for single-label)."""
        return self.stop_score

    def measurements(self, reference: float | None = None) -> list[Measurement]:
        """The run as store measurements (see the module docstring): a curve per metric, the
        primary metric's AULC, value at the budget (``{metric}_at_budget``) and at the stop
        (``stop_{metric}``)."""
        from littledata.experiments.store import Measurement

        out = []
        for i, x in enumerate(self.labels):
            for name, values in self.scores.items():
                out.append(Measurement(name, values[i], x))
            if not math.isnan(self.stop_kappa[i]):
                out.append(Measurement("stop_kappa", self.stop_kappa[i], x))
            out.append(Measurement("fit_seconds", self.fit_seconds[i], x))
            if i > 0:
                out.append(Measurement("query_seconds", self.query_seconds[i], x))
                # choosing this batch: refitting the head on the previous labels + the query
                round_seconds = self.fit_seconds[i - 1] + self.query_seconds[i]
                out.append(Measurement("round_seconds", round_seconds, x))
        m = self.metric
        out.append(Measurement("aulc", aulc(self.labels, self.curve)))
        out.append(Measurement(f"{m}_at_budget", self.curve[-1]))
        out.append(Measurement("stopped", float(not math.isnan(self.stop_labels))))
        out.append(Measurement("stop_labels", self.stop_labels))
        out.append(Measurement(f"stop_{m}", self.stop_score))
        if reference is not None:
            out.append(Measurement(f"reference_{m}", reference))
        return out


def check_loop(n_pool: int | None, init: int, batch: int, budget: int) -> None:
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


def check_settings(
    init_strategy: str, stop_set_size: int, stop_threshold: float, stop_window: int
) -> None:
    """Check the first batch's strategy and the stopping criterion's settings."""
    _check_init_strategy(init_strategy)
    _check_stopping(stop_set_size, stop_threshold, stop_window)


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
    check_loop(len(task.y_pool), init, batch, budget)
    check_settings(init_strategy, stop_set_size, stop_threshold, stop_window)
    strat = get_strategy(strategy, **dict(strategy_params or {}))
    if subsample is not None:
        strat = get_strategy("subsample", base=strat, size=int(subsample))
    task_name = str(task.info.get("task", "single-label"))
    task_type = get_task_type(task_name)
    text = text_head(head) is not None  # it fine-tunes the featurizer's encoder on the pool's texts
    learner = ActiveLearner(
        task.featurizer if text else None,
        head,
        strat,
        texts=task.texts_pool if text else None,
        features=task.X_pool,
        lengths=_lengths(task_type, task.y_pool),
        classes=list(range(len(task.classes))),
        task=task_name,
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
    X_stop = task_type.take(task.X_pool, task.y_pool, np.sort(stop_rows))
    X_test = task.X_test
    if text:  # the tuned head reads texts
        X_stop, X_test = task.texts_pool[np.sort(stop_rows)], task.texts_test  # type: ignore[index]
    if init_strategy == "random":
        first = rng.choice(len(task.y_pool), size=init, replace=False)
    else:
        first = learner.query(init, strategy="cold-start")
    learner.teach(first, _answers(learner, task.y_pool, first))
    criterion = StabilizingPredictions(stop_threshold, stop_window)
    metrics = curve_metrics(task_name)
    res = TrialResult(
        [], {m: [] for m in metrics}, [], [], [], math.nan, math.nan, [int(i) for i in first],
        metric=metrics[0],
    )  # fmt: skip
    query_seconds = 0.0
    while True:
        start = time.perf_counter()
        learner.fit()
        fit_seconds = time.perf_counter() - start
        scores = _evaluate(learner, X_test, task.y_test, task.classes)
        kappa = criterion.update(_decisions(learner, X_stop))
        res.labels.append(learner.n_labeled)
        for name in metrics:
            res.scores[name].append(scores[name])
        res.stop_kappa.append(kappa)
        res.fit_seconds.append(fit_seconds)
        res.query_seconds.append(query_seconds)
        if criterion.stopped and math.isnan(res.stop_labels):
            res.stop_labels = float(learner.n_labeled)
            res.stop_score = scores[res.metric]
        if learner.n_labeled >= budget:
            break
        n = min(batch, budget - learner.n_labeled)
        start = time.perf_counter()
        idx = learner.query(n)
        query_seconds = time.perf_counter() - start
        learner.teach(idx, _answers(learner, task.y_pool, idx))
        res.queried.extend(int(i) for i in idx)
    return res


def _lengths(task_type: Any, y: np.ndarray) -> np.ndarray | None:
    """Words per sentence of a sequence-labeling task's padded tags (``None`` otherwise)."""
    if task_type.query_task != "sequence-labeling":
        return None
    return (np.asarray(y) >= 0).sum(axis=1)


def _answers(learner: ActiveLearner, y: np.ndarray, rows: np.ndarray) -> Any:
    """The labels a person would give for pool ``rows``: the class indices, for a multi-label
    task each row's list of label indices, for sequence labeling each sentence's tags."""
    if learner.multi_label:
        return [[int(j) for j in np.flatnonzero(r)] for r in np.asarray(y)[rows]]
    if learner.words is not None:
        return [[int(t) for t in r[r >= 0]] for r in np.asarray(y)[rows]]
    return y[rows]


def _decisions(learner: ActiveLearner, X: np.ndarray) -> np.ndarray:
    """The model's decisions on ``X`` as one flat array for the stopping criterion's kappa:
    a class per row, every (row, label) yes/no of a multi-label model, a tag per word."""
    if learner.label_kind != "one":
        with thread_limit(learner.threads):
            return np.asarray(learner.model.predict(np.asarray(X))).ravel()
    return np.asarray(learner.predict(X))


def reference_accuracy(
    task: ActiveTask,
    head: str | Any = "logreg",
    head_params: Mapping[str, Any] | None = None,
    threads: int | None = 1,
) -> float:
    """The primary curve metric (:func:`curve_metrics`; accuracy for single-label) on the
    (capped) test set of ``head`` trained on the task's reference rows: the whole training
    split (:attr:`ActiveTask.X_reference`), or the pool when the task has none."""
    X, y, texts = task.X_pool, task.y_pool, task.texts_pool
    if task.X_reference is not None and task.y_reference is not None:
        X, y, texts = task.X_reference, task.y_reference, task.texts_reference
    task_name = str(task.info.get("task", "single-label"))
    text = text_head(head) is not None
    learner = ActiveLearner(
        task.featurizer if text else None,
        head,
        "random",
        texts=texts if text else None,
        features=X,
        lengths=_lengths(get_task_type(task_name), y),
        classes=list(range(len(task.classes))),
        task=task_name,
        head_params=head_params,
        threads=threads,
        collapse_check=False,
    )
    rows = np.arange(len(y))
    learner.teach(rows, _answers(learner, y, rows))
    metric = curve_metrics(learner.task.name)[0]
    X_test = task.texts_test if text else task.X_test
    return _evaluate(learner, X_test, task.y_test, task.classes)[metric]  # type: ignore[arg-type]
