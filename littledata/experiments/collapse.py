"""Collapsed predictions: a model that predicts (nearly) one class for everything.

On imbalanced data a head fitted on few rows can learn the class prior and little else: it then
predicts the majority class for almost every row, which scores the majority share in accuracy
and looks fine in a table of accuracies. This module says when that happened.

Definition (:func:`check_collapse`): predictions *collapse* when

1. one label ``c`` receives at least ``COLLAPSE_SHARE`` (95%) of the predictions, and
2. at least ``MIN_OTHER_SHARE`` (10%) of the rows truly belong to other labels than ``c``
   (equivalently: ``c`` is at most 90% of the true labels).

Condition 2 is what "the rows hold several classes with a meaningful share" means here: when
90% or more of the rows truly are ``c``, predicting ``c`` for 95% of them can be right. When it
holds, at most 5% of the rows are predicted as anything but ``c`` while at least 10% are not
``c``, so at least half of the rows of the other labels are predicted as ``c``: the model has
given up on them. A benchmark trial applies it to its test rows; the active learner (and any
other user of a head) to cross-validated predictions on its labeled rows
(:func:`cross_validated_collapse`, :func:`warn_if_collapsed`).

Examples
--------
>>> check_collapse(["a"] * 80 + ["b"] * 20, ["a"] * 97 + ["b"] * 3).collapsed
True
>>> check_collapse(["a"] * 92 + ["b"] * 8, ["a"] * 100).collapsed  # 92% truly "a"
False
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "COLLAPSE_SHARE",
    "MIN_OTHER_SHARE",
    "Collapse",
    "check_collapse",
    "cross_validated_collapse",
    "warn_if_collapsed",
]

COLLAPSE_SHARE = 0.95
"""Predictions collapse when one label gets at least this share of them ..."""

MIN_OTHER_SHARE = 0.10
"""... while at least this share of the rows truly belong to other labels."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Collapse:
    """The outcome of :func:`check_collapse`.

    Attributes
    ----------
    collapsed: whether the predictions collapsed (see the module docstring).
    label: the most predicted label.
    predicted_share: the share of rows predicted as ``label``.
    true_share: the share of rows whose true label is ``label``.
    n_rows: the number of rows checked.
    """

    collapsed: bool
    label: Any
    predicted_share: float
    true_share: float
    n_rows: int

    def describe(self) -> str:
        """One line, e.g. ``"97% of 100 rows predicted 'a' (truly 80%)"``."""
        return (
            f"{self.predicted_share:.0%} of {self.n_rows} rows predicted {self.label!r} "
            f"(truly {self.true_share:.0%})"
        )


def check_collapse(
    y_true: Any,
    y_pred: Any,
    *,
    share: float = COLLAPSE_SHARE,
    min_other: float = MIN_OTHER_SHARE,
) -> Collapse:
    """Whether ``y_pred`` collapses onto one label (definition in the module docstring).

    Parameters
    ----------
    y_true, y_pred: true and predicted labels of the same rows (any comparable labels).
    share: the predicted share that counts as "nearly everything" (default 0.95).
    min_other: the share of rows of other true labels that must exist (default 0.10).

    Returns
    -------
    Collapse (``collapsed`` is ``False`` for no rows).
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D and of the same length, got shapes {y_true.shape} "
            f"and {y_pred.shape}"
        )
    n = len(y_pred)
    if n == 0:
        return Collapse(False, None, 0.0, 0.0, 0)
    labels, counts = np.unique(y_pred, return_counts=True)
    top = labels[int(np.argmax(counts))]
    n_top, n_other = int(counts.max()), int(np.sum(y_true != top))
    eps = 1e-9 * n  # compare counts, so that 90 of 100 rows is exactly 90%
    collapsed = n_top >= share * n - eps and n_other >= min_other * n - eps
    predicted_share, true_share = n_top / n, (n - n_other) / n
    label = top.item() if hasattr(top, "item") else top
    return Collapse(bool(collapsed), label, predicted_share, true_share, n)


def cross_validated_collapse(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    n_splits: int = 3,
    random_state: int = 0,
    min_rows: int = 10,
) -> Collapse | None:
    """Check the out-of-fold predictions of ``estimator`` on its training rows for collapse.

    Each row is predicted by a clone of ``estimator`` fitted on the other folds (stratified,
    shuffled with ``random_state``), so the check sees what the model does on rows it did not
    learn, as a test set would, without needing one.

    Parameters
    ----------
    estimator: an unfitted (or fitted: it is cloned) scikit-learn classifier.
    X, y: the training rows and their labels.
    n_splits: folds (lowered to the size of the largest class when that is smaller).
    random_state: seeds the fold split.
    min_rows: fewer rows than this: no check (``None``).

    Returns
    -------
    Collapse, or ``None`` when the rows are too few to cross-validate: fewer than ``min_rows``,
    or fewer than two labels with two or more rows (a training fold could then miss a label).
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(y)
    if len(y) < min_rows:
        return None
    _, counts = np.unique(y, return_counts=True)
    if int(np.sum(counts >= 2)) < 2:
        return None
    folds = max(2, min(int(n_splits), int(counts.max())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        # "The least populated class in y has only 1 members": those rows join the training folds
        warnings.filterwarnings("ignore", message=".*least populated class.*")
        y_pred = cross_val_predict(clone(estimator), X, y, cv=cv)
    return check_collapse(y, y_pred)


def warn_if_collapsed(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    what: str = "the model",
    logger: logging.Logger | None = None,
    n_splits: int = 3,
    random_state: int = 0,
) -> Collapse | None:
    """Run :func:`cross_validated_collapse` and log a warning when the predictions collapse.

    Meant for code that fits a head for use (``littledata train``, the active learner): it
    cannot see test rows, but its cross-validated predictions show a model that learned only the
    class prior. Returns the check (``None`` when the rows were too few to check).
    """
    check = cross_validated_collapse(estimator, X, y, n_splits=n_splits, random_state=random_state)
    if check is not None and check.collapsed:
        (logger or _log).warning(
            "%s predicts one class for nearly everything: in cross-validation on its %d labeled "
            "rows, %s. It has learned little beyond the class frequencies; label more rows of "
            "the other classes, or use resampling='class_weight' or 'oversample' "
            "(docs/heads.md, 'Class imbalance').",
            what,
            check.n_rows,
            check.describe(),
        )
    return check
