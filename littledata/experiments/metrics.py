"""Metrics of a classifier's predicted probabilities on labeled rows.

All metrics take the true labels, the probability matrix a head returned (``predict_proba``) and
the head's ``classes_`` (column ``j`` of ``proba`` is the probability of ``classes[j]``). The
prediction of a row is ``classes[argmax(proba)]``, as the heads' ``predict`` does.

Definitions (``n`` rows, ``k = len(classes)``, ``p`` the probability row, ``y`` the true label):

``accuracy``
    Fraction of rows whose prediction equals ``y``.
``macro_f1``
    F1 averaged with equal weight over the labels that occur in ``y_true`` or in the predictions
    (scikit-learn's ``f1_score(average="macro")``; a label with no true and no predicted row is
    left out; zero-division counts as 0).
``mcc``
    Matthews correlation coefficient (multi-class form, scikit-learn's ``matthews_corrcoef``).
``roc_auc``
    Macro average over classes of the one-vs-rest ROC AUC of ``p[:, j]`` for "``y`` is class j".
    A class is left out when it has no positive or no negative row in ``y_true`` (its AUC is
    undefined), so classes absent from the test rows do not count; NaN when no class is left.
    With two classes this equals the AUC of the positive class ``classes[1]`` (both one-vs-rest
    AUCs are the same number).
``log_loss``
    Mean of ``-log(max(p_y, 1e-15))``: the true class's probability is clipped at ``1e-15`` so one
    confident mistake costs at most ``-log(1e-15) ≈ 34.5`` instead of infinity.
``ece``
    Expected calibration error of the top label, 15 equal-width confidence bins on ``[0, 1]``
    (bin ``b`` holds confidences in ``(b/15, (b+1)/15]``): ``sum_b n_b / n * |acc_b - conf_b|``.
``brier``
    Mean over rows of ``sum_j (p_j - [y == classes[j]])^2``, in ``[0, 2]``; the same definition
    for two classes, which makes it exactly **twice** scikit-learn's binary
    ``brier_score_loss`` (that one only scores the positive class's probability).

Label names, not integers: labels that carry their names (a dataset split's labels, a
:class:`~littledata.labels.LabelArray`) are compared with ``classes`` by name, so a head fitted
on one file's labels scores correctly on another file whose label indices differ (a test file
without one of the classes). Label names against bare integers raise a
:class:`~littledata.labels.LabelVocabularyError` rather than guess the integers' vocabulary
(:func:`littledata.labels.align`). Bare integers against bare integers are compared as they
are.

Labels the head never saw: ``y_true`` may hold labels that are not in ``classes`` (a class
missing from a tiny training sample). Such a row is always predicted wrong, its true-class
probability is 0 (so its log loss is the clipped ``34.5``), it adds ``1`` to its Brier term for
the missing class, it counts as a negative in every class's one-vs-rest AUC, and it enters
accuracy, macro-F1 and MCC as an ordinary label that is never predicted.

The one list of metric names is :data:`METRICS` (a :class:`~littledata.registry.Registry`): the
metrics above, each one ``@metric`` function of a :class:`Scored`, then the numbers the runner
measures itself (``train_accuracy``, ``fit_seconds``, ``predict_seconds``, ``trial_seconds``,
``n_train``). Spec validation (``metrics = [...]``), the report's labels and the ranking direction
(:data:`LOWER_IS_BETTER`) read it; adding a metric is one decorated function here plus a test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from littledata.errors import DataFormatError
from littledata.labels import align
from littledata.registry import Registry

#: Probabilities are clipped below at this value inside the log loss.
LOG_LOSS_EPS = 1e-15
#: Number of equal-width confidence bins of the expected calibration error.
ECE_BINS = 15


@dataclass(frozen=True)
class Scored:
    """What a metric function reads: the checked inputs of :func:`compute_metrics` and what is
    derived from them once per call.

    ``idx``: column of each row's true class in ``classes`` (-1 for a label the head never saw).
    ``cm``: confusion matrix, rows true, columns predicted; labels the head never saw get their
    own rows and columns after the ``len(classes)`` known ones (never predicted).
    """

    y_true: np.ndarray
    proba: np.ndarray
    classes: np.ndarray
    idx: np.ndarray
    cm: np.ndarray


@dataclass(frozen=True)
class MetricInfo:
    """One named number a benchmark trial stores: its name, its label in figures and tables,
    its direction, and (for the metrics of :func:`compute_metrics`) how to compute it from a
    :class:`Scored`. Entries without ``score`` are measured by the runner (seconds, rows)."""

    name: str
    label: str
    lower_is_better: bool = False
    score: Callable[[Scored], float] | None = None


METRICS: Registry[MetricInfo] = Registry("metric")
"""Every metric and measurement a benchmark trial stores, in the order they are listed: the one
list that spec validation, the report's labels and the ranking direction read."""


def metric(
    name: str, *, label: str, lower_is_better: bool = False
) -> Callable[[Callable[[Scored], float]], Callable[[Scored], float]]:
    """Decorator: register ``score(scored) -> float`` as the metric ``name`` of
    :func:`compute_metrics` (a name already taken raises
    :class:`~littledata.errors.DuplicateNameError`)."""

    def decorate(score: Callable[[Scored], float]) -> Callable[[Scored], float]:
        METRICS.add(name, MetricInfo(name, label, lower_is_better, score))
        return score

    return decorate


def measure(name: str, *, label: str, lower_is_better: bool = False) -> MetricInfo:
    """Register a number the runner measures itself (not computed from probabilities)."""
    return METRICS.add(name, MetricInfo(name, label, lower_is_better))


def _check(y_true: Any, proba: Any, classes: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true, classes = align(y_true, classes)  # label names wherever one side carries them
    proba = np.asarray(proba, dtype=np.float64)
    if y_true.ndim != 1:
        raise DataFormatError(f"y_true must be 1-D (one label per row); got shape {y_true.shape}")
    if len(y_true) == 0:
        raise DataFormatError("y_true is empty: there are no rows to score")
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise DataFormatError(
            f"proba must have shape (n_rows, n_classes) = ({len(y_true)}, {len(classes)}); "
            f"got {proba.shape}"
        )
    if not np.all(np.isfinite(proba)):
        raise DataFormatError("proba holds NaN or infinite values")
    if len(classes) != len(np.unique(classes)):
        raise DataFormatError("classes holds duplicate labels")
    return y_true, proba, classes


def _true_index(y_true: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Column of each row's true class in ``classes``; -1 for labels not in ``classes``."""
    lookup = {c: j for j, c in enumerate(classes.tolist())}
    return np.array([lookup.get(c, -1) for c in y_true.tolist()], dtype=np.int64)


def expected_calibration_error(
    y_true: Any, proba: Any, classes: Any, n_bins: int = ECE_BINS
) -> float:
    """Top-label expected calibration error with ``n_bins`` equal-width bins.

    Parameters
    ----------
    y_true : array of shape (n,)
    proba : array of shape (n, k)
    classes : array of shape (k,)
    n_bins : int, default=15

    Returns
    -------
    float
        ``sum_b (n_b / n) * |accuracy_b - mean_confidence_b|`` over the bins
        ``(b / n_bins, (b + 1) / n_bins]`` of top-label confidence (the first bin includes 0).

    Examples
    --------
    >>> expected_calibration_error(["a", "b"], [[0.9, 0.1], [0.8, 0.2]], ["a", "b"])
    0.45
    """
    y_true, proba, classes = _check(y_true, proba, classes)
    if int(n_bins) < 1:
        raise DataFormatError(f"n_bins must be at least 1; got {n_bins}")
    top = proba.argmax(axis=1)
    conf = proba[np.arange(len(top)), top]
    correct = (classes[top] == y_true).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    n = len(conf)
    acc_sum = np.bincount(bins, weights=correct, minlength=n_bins)
    conf_sum = np.bincount(bins, weights=conf, minlength=n_bins)
    return float(np.abs(acc_sum - conf_sum).sum() / n)


def _macro_f1(cm: np.ndarray) -> float:
    """Macro-F1 from a confusion matrix (rows true, columns predicted), as scikit-learn's
    ``f1_score(average="macro", zero_division=0)``: labels with no true and no predicted row are
    left out."""
    tp = np.diag(cm)
    true_n, pred_n = cm.sum(axis=1), cm.sum(axis=0)
    denom = true_n + pred_n
    present = denom > 0
    f1 = 2 * tp[present] / denom[present]
    return float(f1.mean())


def _mcc(cm: np.ndarray) -> float:
    """Multi-class Matthews correlation (Gorodkin 2004) from a confusion matrix; 0 when undefined,
    as scikit-learn's ``matthews_corrcoef``."""
    t, p = cm.sum(axis=1), cm.sum(axis=0)
    c, s = np.trace(cm), cm.sum()
    denom = np.sqrt((s * s - p @ p) * (s * s - t @ t))
    return float((c * s - t @ p) / denom) if denom > 0 else 0.0


def _macro_ovr_auc(idx: np.ndarray, proba: np.ndarray) -> float:
    """Macro one-vs-rest ROC AUC by the Mann-Whitney rank statistic (ties count one half, the
    same number ``roc_auc_score`` gives); classes without positive or negative rows left out."""
    from scipy.stats import rankdata

    n, k = proba.shape
    n_pos = np.bincount(idx[idx >= 0], minlength=k).astype(np.float64)
    n_neg = n - n_pos
    defined = (n_pos > 0) & (n_neg > 0)
    if not defined.any():
        return float("nan")
    ranks = rankdata(proba, axis=0)
    rows = np.flatnonzero(idx >= 0)
    rank_sum = np.bincount(idx[rows], weights=ranks[rows, idx[rows]], minlength=k)
    u = rank_sum - n_pos * (n_pos + 1) / 2
    return float(np.mean(u[defined] / (n_pos[defined] * n_neg[defined])))


# -- the metrics of compute_metrics, in the order of its result (see the module docstring) ------


@metric("accuracy", label="accuracy")
def _accuracy(s: Scored) -> float:
    return float(np.trace(s.cm) / len(s.y_true))


@metric("macro_f1", label="macro-F1")
def _macro_f1_score(s: Scored) -> float:
    return _macro_f1(s.cm)


@metric("mcc", label="Matthews corr.")
def _mcc_score(s: Scored) -> float:
    return _mcc(s.cm)


@metric("roc_auc", label="macro ROC AUC (one-vs-rest)")
def _roc_auc(s: Scored) -> float:
    return _macro_ovr_auc(s.idx, s.proba)


@metric("log_loss", label="log loss", lower_is_better=True)
def _log_loss(s: Scored) -> float:
    seen = s.idx >= 0
    p_true = np.zeros(len(s.y_true))
    p_true[seen] = s.proba[np.arange(len(s.y_true))[seen], s.idx[seen]]
    return float(np.mean(-np.log(np.maximum(p_true, LOG_LOSS_EPS))))


@metric("ece", label="expected calibration error", lower_is_better=True)
def _ece(s: Scored) -> float:
    return expected_calibration_error(s.y_true, s.proba, s.classes)


@metric("brier", label="Brier score", lower_is_better=True)
def _brier(s: Scored) -> float:
    seen = s.idx >= 0
    rows = np.arange(len(s.y_true))
    onehot = np.zeros_like(s.proba)
    onehot[rows[seen], s.idx[seen]] = 1.0
    # an unseen label adds (0 - 1)^2 = 1 for its missing column
    return float(np.mean(((s.proba - onehot) ** 2).sum(axis=1) + (~seen)))


# -- what the runner measures besides (see littledata.experiments.runner.run_trial) --------------

measure("train_accuracy", label="training-set accuracy")
measure("fit_seconds", label="fit seconds", lower_is_better=True)
measure("predict_seconds", label="predict seconds", lower_is_better=True)
measure("trial_seconds", label="trial seconds", lower_is_better=True)
measure("n_train", label="training rows")
measure("top_pred_share", label="share of the most predicted class")

# -- metrics of the other task types, computed by their task types (littledata.tasks); a
# multi-label trial's ``macro_f1`` is the multi-label macro-F1 (littledata.tasks.multi_label)
OTHER_TASK_METRICS: tuple[str, ...] = tuple(
    measure(name, label=label).name
    for name, label in (
        ("micro_f1", "micro-F1"),
        ("subset_accuracy", "subset accuracy"),
        ("average_precision", "label-wise average precision"),
        ("entity_f1", "entity F1"),
        ("entity_precision", "entity precision"),
        ("entity_recall", "entity recall"),
        ("token_accuracy", "token accuracy"),
    )
)
"""Metrics only other task types than single-label store (multi-label's, sequence labeling's)."""

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS.values() if m.score is not None)
"""The metrics :func:`compute_metrics` returns, in its order."""
KNOWN_METRICS: tuple[str, ...] = tuple(METRICS)
"""Every metric and measurement a benchmark trial stores."""
LOWER_IS_BETTER: frozenset[str] = frozenset(m.name for m in METRICS.values() if m.lower_is_better)
"""Metrics where a smaller value is better (the others: larger is better)."""


def metric_labels() -> dict[str, str]:
    """``{name: label}`` of every registered metric, for figures and tables."""
    return {m.name: m.label for m in METRICS.values()}


def compute_metrics(
    y_true: Any, proba: Any, classes: Any, metrics: Sequence[str] | None = None
) -> dict[str, float]:
    """Accuracy, macro-F1, MCC, ROC AUC, log loss, ECE and Brier score of ``proba``.

    Parameters
    ----------
    y_true : array of shape (n,)
        True labels; may include labels not in ``classes`` (see the module docstring).
    proba : array of shape (n, k)
        Predicted probabilities, column ``j`` for ``classes[j]``.
    classes : array of shape (k,)
        The head's ``classes_``.
    metrics : sequence of str, optional
        Compute only these (names from ``METRIC_NAMES``, returned in the given order); ``None``:
        all. The active-learning simulation scores every round with ``("accuracy",
        "macro_f1")``: ROC AUC and ECE cost about a second per evaluation with 150 classes.

    Returns
    -------
    Scores (a dict of plain Python floats, printed rounded to four decimals)
        Keys ``accuracy``, ``macro_f1``, ``mcc``, ``roc_auc``, ``log_loss``, ``ece``, ``brier``
        (``METRIC_NAMES``, one per :func:`metric` registration). ``roc_auc`` is NaN when no
        class has both positive and negative rows.

    Examples
    --------
    >>> m = compute_metrics(["a", "b", "b"], [[0.8, 0.2], [0.4, 0.6], [0.7, 0.3]], ["a", "b"])
    >>> round(m["accuracy"], 3), round(m["roc_auc"], 3)
    (0.667, 1.0)
    >>> type(m["accuracy"]).__name__, m["accuracy"] == 2 / 3
    ('float', True)
    """
    if metrics is None:
        wanted = [info for info in METRICS.values() if info.score is not None]
    else:
        wanted = [METRICS.get(name) for name in metrics]
        not_scores = [info.name for info in wanted if info.score is None]
        if not_scores:
            raise DataFormatError(
                f"{not_scores[0]!r} is measured by the runner, not computed from predictions; "
                f"compute_metrics gives: {', '.join(METRIC_NAMES)}"
            )
    y_true, proba, classes = _check(y_true, proba, classes)
    k = proba.shape[1]
    idx = _true_index(y_true, classes)
    seen = idx >= 0
    pred_idx = proba.argmax(axis=1)
    # Unseen labels get their own columns after the k known ones (never predicted).
    extra = len(np.unique(y_true[~seen])) if not seen.all() else 0
    if extra:
        _, extra_idx = np.unique(y_true[~seen], return_inverse=True)
        idx_all = idx.copy()
        idx_all[~seen] = k + extra_idx
    else:
        idx_all = idx
    m = k + extra
    cm = np.bincount(idx_all * m + pred_idx, minlength=m * m).reshape(m, m).astype(np.float64)
    scored = Scored(y_true, proba, classes, idx, cm)
    return Scores((info.name, float(info.score(scored))) for info in wanted)  # type: ignore[misc]


class Scores(dict[str, float]):
    """``{metric: value}`` of plain Python floats at full precision, printed rounded to four
    decimals (``{'accuracy': 0.8532, ...}``) so a score reads at a glance."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {_display(v)}" for k, v in self.items()) + "}"


def _display(value: float) -> str:
    if not math.isfinite(value):
        return repr(value)  # nan, inf
    if value and abs(value) < 1e-3:
        return f"{value:.3g}"
    return repr(round(value, 4))
