"""One benchmark trial: sample training rows, fit a head, score the test rows.

:func:`run_trial` is the trial itself, on arrays; :func:`run_bench_job` is the job function an
executor (:mod:`littledata.experiments.execution`) calls with a trial's configuration and the
references to its features and labels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from littledata.experiments.execution import Job, JobResult, guarded, limit_threads, resolve
from littledata.tasks import get_task_type

__all__ = ["Fitted", "fit_predict", "run_bench_job", "run_trial"]


@dataclass
class Fitted:
    """A trial's fitted head and its test predictions (:func:`fit_predict`)."""

    model: Any
    train_idx: np.ndarray
    """Rows of the pool the head was trained on."""
    proba: np.ndarray
    classes: np.ndarray
    fit_seconds: float
    predict_seconds: float


def fit_predict(
    x_pool: Any,
    y_pool: np.ndarray,
    x_test: Any,
    *,
    head: str,
    input_kind: str,
    size: int,
    size_mode: str = "total",
    seed: int = 0,
    resampling: str = "none",
    task: str = "single-label",
    head_params: dict[str, Any] | None = None,
    y_test: np.ndarray | None = None,
) -> Fitted:
    """What a trial does before it scores: sample its training rows (seeded), fit the head,
    predict the test rows' probabilities. The same arguments give the same predictions, so the
    report can recompute a stored trial's predictions (parameters as in :func:`run_trial`;
    ``y_test`` only for the shape of the test rows, such as the words per test sentence that a
    sentence-level token head needs; its labels are not read)."""
    task_type = get_task_type(task)
    y_pool = np.asarray(y_pool)
    idx = task_type.sample(y_pool, size, seed, per_class=size_mode == "per_class")
    model = task_type.make_model(
        head,
        head_params=head_params,
        input_kind=input_kind,
        random_state=seed,
        resampling=resampling,
    )
    start = time.perf_counter()
    model.fit(task_type.take(x_pool, y_pool, idx), y_pool[idx])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = task_type.predict_proba(model, x_test, y_test)
    predict_seconds = time.perf_counter() - start
    classes = np.asarray(model.classes_)
    return Fitted(model, idx, proba, classes, fit_seconds, predict_seconds)


def run_trial(
    x_pool: Any,
    y_pool: np.ndarray,
    x_test: Any,
    y_test: np.ndarray,
    *,
    head: str,
    input_kind: str,
    size: int,
    size_mode: str = "total",
    seed: int = 0,
    resampling: str = "none",
    task: str = "single-label",
    head_params: dict[str, Any] | None = None,
    label_names: list[str] | None = None,
) -> dict[str, float]:
    """Run one trial and return its measurements.

    Samples the training rows from the pool (the task type's sampling: stratified and seeded for
    single-label data), fits ``head`` on them, predicts probabilities for the test rows and
    scores them with the task type's metrics.

    Parameters
    ----------
    x_pool, y_pool: features (an array, sparse term counts, or a list of texts for
        ``input_kind="sparse"`` or ``"text"``) and labels of the train pool.
    x_test, y_test: the same for the (capped) test split.
    head: a head name (:data:`littledata.heads.HEADS`).
    input_kind: what ``x_pool`` holds (see :func:`littledata.heads.make_head`).
    size, size_mode: total training rows (``"total"``) or rows per class (``"per_class"``).
    seed: seeds the sample and the head.
    resampling: ``none``, ``oversample`` or ``class_weight``.
    task: the task type's name (:mod:`littledata.tasks`).
    head_params: parameters of the head (a head that tunes an encoder gets ``encoder``).
    label_names: the dataset's label names, for task types that score with them (sequence
        labeling's entity spans).

    Returns
    -------
    ``{metric: value}``: the task's metrics plus ``fit_seconds``, ``predict_seconds``,
    ``train_accuracy``, ``n_train``, ``trial_seconds`` (the whole trial: sampling, fit,
    predictions and metrics), and the task type's diagnostics (single-label: ``top_pred_share``,
    the share of test rows predicted as the most predicted class, and ``collapsed``, 1.0 when
    the test predictions collapsed onto one class, see :mod:`littledata.experiments.collapse`;
    the store keeps it as the trial's flag).
    """
    task_type = get_task_type(task)
    start_trial = time.perf_counter()
    y_pool = np.asarray(y_pool)
    fitted = fit_predict(
        x_pool, y_pool, x_test, head=head, input_kind=input_kind, size=size,
        size_mode=size_mode, seed=seed, resampling=resampling, task=task,
        head_params=head_params, y_test=np.asarray(y_test),
    )  # fmt: skip
    model, idx, proba, classes = fitted.model, fitted.train_idx, fitted.proba, fitted.classes
    x_train, y_train = task_type.take(x_pool, y_pool, idx), y_pool[idx]
    y_test = np.asarray(y_test)
    scores = task_type.score_model(model, y_test, proba, label_names)
    out = {k: float(v) for k, v in scores.items()}
    out.update(task_type.diagnostics(model, x_train, y_train, y_test, proba, classes))
    out["fit_seconds"] = fitted.fit_seconds
    out["predict_seconds"] = fitted.predict_seconds
    out["n_train"] = float(len(idx))
    out["trial_seconds"] = time.perf_counter() - start_trial
    return out


def _input_kind(featurizer_kind: str, x_pool: Any) -> str:
    """Texts for tf-idf reach a trial as term counts (tokenized once per dataset): ``counts``."""
    if featurizer_kind == "sparse" and hasattr(x_pool, "tocsr"):
        return "counts"
    return featurizer_kind


def _bench_values(job: Job) -> dict[str, float]:
    c, data = job.config, job.data
    head_params = None
    if c.get("input") == "text":  # the head tunes the featurizer's encoder on the raw texts
        x_pool, x_test = resolve(data["t_pool"]), resolve(data["t_test"])
        input_kind, head_params = "text", {"encoder": c["featurizer"]}
    else:
        x_pool, x_test = resolve(data["x_pool"]), resolve(data["x_test"])
        input_kind = _input_kind(c["featurizer_kind"], x_pool)
    from littledata.heads import HEADS

    with limit_threads(HEADS[c["head"]].threads):
        return run_trial(
            x_pool,
            np.asarray(resolve(data["y_pool"])),
            x_test,
            np.asarray(resolve(data["y_test"])),
            head=c["head"],
            head_params=head_params,
            input_kind=input_kind,
            size=c["size"],
            size_mode=c["size_mode"],
            seed=c["seed"],
            resampling=c["resampling"],
            task=c["task"],
            label_names=c.get("label_names"),
        )


def run_bench_job(job: Job) -> JobResult:
    """The job function of benchmark trials (never raises; see :func:`~littledata.experiments.
    execution.guarded`)."""
    return guarded(_bench_values, job)
