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

Labels the head never saw: ``y_true`` may hold labels that are not in ``classes`` (a class
missing from a tiny training sample). Such a row is always predicted wrong, its true-class
probability is 0 (so its log loss is the clipped ``34.5``), it adds ``1`` to its Brier term for
the missing class, it counts as a negative in every class's one-vs-rest AUC, and it enters
accuracy, macro-F1 and MCC as an ordinary label that is never predicted.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, matthews_corrcoef, roc_auc_score

from littledata.errors import DataFormatError

#: Probabilities are clipped below at this value inside the log loss.
LOG_LOSS_EPS = 1e-15
#: Number of equal-width confidence bins of the expected calibration error.
ECE_BINS = 15

METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "macro_f1",
    "mcc",
    "roc_auc",
    "log_loss",
    "ece",
    "brier",
)
#: Metrics where a smaller value is better (the others: larger is better).
LOWER_IS_BETTER: frozenset[str] = frozenset({"log_loss", "ece", "brier"})


def _check(y_true: Any, proba: Any, classes: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    classes = np.asarray(classes)
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


def compute_metrics(y_true: Any, proba: Any, classes: Any) -> dict[str, float]:
    """Accuracy, macro-F1, MCC, ROC AUC, log loss, ECE and Brier score of ``proba``.

    Parameters
    ----------
    y_true : array of shape (n,)
        True labels; may include labels not in ``classes`` (see the module docstring).
    proba : array of shape (n, k)
        Predicted probabilities, column ``j`` for ``classes[j]``.
    classes : array of shape (k,)
        The head's ``classes_``.

    Returns
    -------
    dict[str, float]
        Keys ``accuracy``, ``macro_f1``, ``mcc``, ``roc_auc``, ``log_loss``, ``ece``, ``brier``
        (``METRIC_NAMES``). ``roc_auc`` is NaN when no class has both positive and negative rows.

    Examples
    --------
    >>> m = compute_metrics(["a", "b", "b"], [[0.8, 0.2], [0.4, 0.6], [0.7, 0.3]], ["a", "b"])
    >>> round(m["accuracy"], 3), round(m["roc_auc"], 3)
    (0.667, 1.0)
    """
    y_true, proba, classes = _check(y_true, proba, classes)
    n, k = proba.shape
    rows = np.arange(n)
    idx = _true_index(y_true, classes)
    seen = idx >= 0
    pred = classes[proba.argmax(axis=1)]

    # labels as strings only if the two label sets have different kinds (e.g. int vs str)
    y_cmp, pred_cmp = y_true, pred
    if y_true.dtype.kind != pred.dtype.kind and not (
        y_true.dtype.kind in "iuf" and pred.dtype.kind in "iuf"
    ):
        y_cmp, pred_cmp = y_true.astype(str), pred.astype(str)

    accuracy = float(np.mean(pred_cmp == y_cmp))
    macro_f1 = float(f1_score(y_cmp, pred_cmp, average="macro", zero_division=0))
    with warnings.catch_warnings():
        # a single label in y_true and the predictions: MCC is 0, sklearn also warns
        warnings.simplefilter("ignore", UserWarning)
        mcc = float(matthews_corrcoef(y_cmp, pred_cmp))

    aucs = []
    for j in range(k):
        positive = idx == j
        n_pos = int(positive.sum())
        if 0 < n_pos < n:
            aucs.append(roc_auc_score(positive, proba[:, j]))
    roc_auc = float(np.mean(aucs)) if aucs else float("nan")

    p_true = np.zeros(n)
    p_true[seen] = proba[rows[seen], idx[seen]]
    log_loss = float(np.mean(-np.log(np.maximum(p_true, LOG_LOSS_EPS))))

    onehot = np.zeros_like(proba)
    onehot[rows[seen], idx[seen]] = 1.0
    # an unseen label adds (0 - 1)^2 = 1 for its missing column
    brier = float(np.mean(((proba - onehot) ** 2).sum(axis=1) + (~seen)))

    return {
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "mcc": mcc,
        "roc_auc": roc_auc,
        "log_loss": log_loss,
        "ece": expected_calibration_error(y_true, proba, classes),
        "brier": brier,
    }
