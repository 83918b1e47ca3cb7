"""Multi-label classification: a set of labels per text (targets: a 0/1 matrix, a column per label).

Heads: every single-label head, one per label (one-vs-rest), each with its own decision threshold
tuned by cross-validation on the training rows (:class:`littledata.models.MultiLabelHead`).

Sampling (:func:`covering_order`): a seeded order of the rows in which, for each label from the
rarest in the pool to the most common, the first row (in a seeded shuffle) that holds a label not
yet covered comes first; the other rows follow in the shuffled order. A training sample of
``size`` rows is the first ``size`` of that order, so every label with a row in the pool is in
training as soon as ``size`` reaches the number of covering rows (at most one per label), and the
samples of one seed are nested (the rows at 50 are among those at 100). This is the first step of
iterative stratification (Sechidis et al., 2011, "On the Stratification of Multi-label Data",
ECML PKDD), which also visits the rarest labels first, without its balancing of label shares
across folds.

Metrics (:func:`multilabel_scores`): ``macro_f1`` (F1 per label averaged over the labels that
occur in the true or the predicted sets), ``micro_f1``, ``subset_accuracy`` (the predicted set
equals the true set) and ``average_precision`` (the mean over labels with a positive test row of
each label's average precision; :func:`per_label_average_precision` gives them one by one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.errors import DataFormatError
from littledata.tasks.base import TaskType
from littledata.tasks.registry import register_task_type

if TYPE_CHECKING:
    from littledata.datasets.base import Split

__all__ = [
    "MULTI_LABEL_METRICS",
    "MultiLabel",
    "covering_order",
    "multilabel_scores",
    "per_label_average_precision",
]

MULTI_LABEL_METRICS: tuple[str, ...] = (
    "macro_f1",
    "micro_f1",
    "subset_accuracy",
    "average_precision",
)


def covering_order(y: np.ndarray, seed: int) -> np.ndarray:
    """The seeded row order of the module docstring: rows covering every label first.

    >>> y = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 0, 0]])
    >>> sorted(covering_order(y, seed=0)[:2].tolist())  # one row per rare label
    [2, 3]
    """
    y = _indicators(y)
    order = np.random.default_rng(seed).permutation(len(y))
    shuffled = y[order]
    counts = y.sum(axis=0)
    covered = np.zeros(y.shape[1], dtype=bool)
    first: list[int] = []
    for label in np.argsort(counts, kind="stable"):
        if covered[label] or counts[label] == 0:
            continue
        pos = int(np.flatnonzero(shuffled[:, label])[0])
        first.append(pos)
        covered |= shuffled[pos].astype(bool)
    rest = np.setdiff1d(np.arange(len(y)), first, assume_unique=True)
    return order[np.concatenate([np.asarray(first, dtype=np.int64), rest])]


def _indicators(y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 2:
        raise DataFormatError(
            f"multi-label targets must be a 0/1 matrix (rows x labels); got shape {y.shape}"
        )
    if y.size and not np.isin(y, (0, 1)).all():
        raise DataFormatError("multi-label targets must hold only 0 and 1")
    return y.astype(np.uint8, copy=False)


def per_label_average_precision(y_true: Any, proba: Any) -> np.ndarray:
    """Average precision of each label's scores (NaN for a label with no positive test row)."""
    from sklearn.metrics import average_precision_score

    y_true, proba = _indicators(y_true), np.asarray(proba, dtype=np.float64)
    out = np.full(y_true.shape[1], np.nan)
    for j in range(y_true.shape[1]):
        if y_true[:, j].any():
            out[j] = average_precision_score(y_true[:, j], proba[:, j])
    return out


def multilabel_scores(
    y_true: Any,
    y_pred: Any,
    proba: Any,
    metrics: Sequence[str] | None = None,
) -> dict[str, float]:
    """The multi-label metrics of the module docstring (``metrics``: a subset; ``None``: all).

    ``y_true`` and ``y_pred`` are 0/1 matrices (rows x labels), ``proba`` each label's score.

    >>> s = multilabel_scores([[1, 0], [0, 1]], [[1, 0], [1, 1]], [[0.9, 0.1], [0.6, 0.8]])
    >>> round(s["micro_f1"], 3), s["subset_accuracy"], s["average_precision"]
    (0.8, 0.5, 1.0)
    """
    y_true, y_pred = _indicators(y_true), _indicators(y_pred)
    proba = np.asarray(proba, dtype=np.float64)
    if y_true.shape != y_pred.shape or proba.shape != y_true.shape:
        raise DataFormatError(
            f"y_true {y_true.shape}, y_pred {y_pred.shape} and proba {proba.shape} must have "
            "the same shape (rows x labels)"
        )
    if len(y_true) == 0:
        raise DataFormatError("y_true is empty: there are no rows to score")
    wanted = list(metrics) if metrics is not None else list(MULTI_LABEL_METRICS)
    unknown = [m for m in wanted if m not in MULTI_LABEL_METRICS]
    if unknown:
        raise DataFormatError(
            f"{unknown[0]!r} is no multi-label metric; they are: {', '.join(MULTI_LABEL_METRICS)}"
        )
    t, p = y_true.astype(bool), y_pred.astype(bool)
    tp = (t & p).sum(axis=0).astype(np.float64)
    denom = (t.sum(axis=0) + p.sum(axis=0)).astype(np.float64)
    present = denom > 0
    values = {
        "macro_f1": float((2 * tp[present] / denom[present]).mean()) if present.any() else 0.0,
        "micro_f1": float(2 * tp.sum() / denom.sum()) if denom.sum() else 0.0,
        "subset_accuracy": float((t == p).all(axis=1).mean()),
    }
    if "average_precision" in wanted:
        ap = per_label_average_precision(y_true, proba)
        values["average_precision"] = float(np.nanmean(ap)) if np.isfinite(ap).any() else np.nan
    return {m: values[m] for m in wanted}


@register_task_type
class MultiLabel(TaskType):
    """A set of labels per text (see the module docstring); ``classes_`` of its models are the
    label columns ``0 .. k-1``."""

    name = "multi-label"
    summary = "several labels per text"
    metrics = MULTI_LABEL_METRICS
    head_task = "single-label"
    active_learning = True
    query_task = "multi-label"
    no_confusion_matrix = (
        "each text holds a set of labels, so there is no one true and one predicted class to "
        "cross in a confusion matrix, and a text is rarely all right or all wrong; macro-F1 "
        "(F1 per label, averaged) and the other metrics in the curves and tables score each label"
    )

    def targets(self, split: Split) -> np.ndarray:
        return _indicators(split.labels)

    def class_counts(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        y = np.asarray(y)
        if not len(y):
            return np.zeros(max(n_classes, 1), dtype=np.int64)
        return y.sum(axis=0).astype(np.int64)

    def cap(
        self, y: np.ndarray, cap: int | None, seed: int, *, stratified: bool = True
    ) -> np.ndarray:
        n = len(y)
        if cap is None or n <= cap:
            return np.arange(n)
        if not stratified:
            return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))
        return np.sort(covering_order(y, seed)[:cap])

    def sample(self, y: np.ndarray, size: int, seed: int, *, per_class: bool = False) -> np.ndarray:
        if per_class:
            raise DataFormatError("multi-label training sizes count rows, not rows per label")
        if size > len(y):
            raise DataFormatError(f"cannot sample {size} rows from a pool of {len(y)}")
        return np.sort(covering_order(y, seed)[:size])

    def size_problem(
        self, *, dataset: str, n_classes: int, pool_size: int, size: int, per_class: bool
    ) -> str:
        if per_class:
            return (
                f"{dataset!r} is multi-label: training sizes count rows (sizes = [...]), not "
                "rows per label"
            )
        if size < 2:
            return f"size {size} is too small to fit one-vs-rest heads"
        if pool_size and size > pool_size:
            return (
                f"size {size} is larger than the {pool_size} rows in the train pool of {dataset!r}"
            )
        return ""

    def make_model(
        self,
        head: str,
        *,
        head_params: dict[str, Any] | None = None,
        input_kind: str = "dense",
        random_state: int = 0,
        resampling: str | None = None,
    ) -> Any:
        from littledata.models.multilabel import MultiLabelHead

        return MultiLabelHead(
            head,
            head_params=head_params,
            input_kind=input_kind,
            random_state=random_state,
            resampling=resampling,
        )

    def score(
        self,
        y_true: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
        metrics: Sequence[str] | None = None,
        *,
        thresholds: np.ndarray | None = None,
    ) -> dict[str, float]:
        """The multi-label metrics, predicting a label where its score reaches its threshold
        (``thresholds``: one per label, 0.5 each by default)."""
        proba = np.asarray(proba, dtype=np.float64)
        cut = np.full(proba.shape[1], 0.5) if thresholds is None else np.asarray(thresholds)
        return multilabel_scores(y_true, (proba >= cut).astype(np.uint8), proba, metrics)

    def score_model(
        self,
        model: Any,
        y_true: np.ndarray,
        proba: np.ndarray,
        label_names: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """The metrics with the model's tuned thresholds (``thresholds_``) where it has them."""
        return self.score(
            y_true,
            proba,
            np.asarray(model.classes_),
            thresholds=getattr(model, "thresholds_", None),
        )

    def diagnostics(
        self,
        model: Any,
        x_train: Any,
        y_train: np.ndarray,
        y_test: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
    ) -> dict[str, float]:
        """Training-set subset accuracy (``train_accuracy``) and ``collapsed``: every test row
        got the same set of labels."""
        pred = np.asarray(model.predict(x_train))
        test_pred = np.asarray(model.predict_from_proba(proba))
        distinct = len(np.unique(test_pred, axis=0)) if len(test_pred) else 0
        return {
            "train_accuracy": float((pred == np.asarray(y_train)).all(axis=1).mean()),
            "collapsed": float(len(test_pred) > 1 and distinct == 1),
        }
