"""Single-label classification: one class per text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from littledata.experiments.metrics import METRIC_NAMES, compute_metrics
from littledata.experiments.sampling import cap_indices, sample_train_indices
from littledata.tasks.base import TaskType
from littledata.tasks.registry import register_task_type

if TYPE_CHECKING:
    from littledata.datasets.base import Split

__all__ = ["SingleLabel"]


@register_task_type
class SingleLabel(TaskType):
    """One label per text; targets are int64 indices into the dataset's label names.

    Caps and training samples are stratified (every class keeps its share, at least one row each;
    see :mod:`littledata.experiments.sampling`); the metrics are those of
    :func:`littledata.experiments.metrics.compute_metrics`.
    """

    name = "single-label"
    summary = "one label per text"
    active_learning = True
    query_task = "single-label"
    metrics = METRIC_NAMES

    def targets(self, split: Split) -> np.ndarray:
        return np.asarray(split.labels, dtype=np.int64)

    def class_counts(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        y = np.asarray(y, dtype=np.int64)
        return np.bincount(y, minlength=n_classes) if len(y) else np.zeros(max(n_classes, 1), int)

    def cap(
        self, y: np.ndarray, cap: int | None, seed: int, *, stratified: bool = True
    ) -> np.ndarray:
        """Stratified (:func:`~littledata.experiments.sampling.cap_indices`), or with
        ``stratified=False`` a uniform seeded sample of rows (the active-learning simulation's
        caps, kept so its stored runs stay comparable)."""
        n = len(y)
        if cap is None or n <= cap:
            return np.arange(n)
        if not stratified:
            return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))
        return np.sort(np.asarray(cap_indices(np.asarray(y), cap, seed=seed)))

    def sample(self, y: np.ndarray, size: int, seed: int, *, per_class: bool = False) -> np.ndarray:
        return np.asarray(sample_train_indices(np.asarray(y), size, seed, per_class=per_class))

    def size_problem(
        self, *, dataset: str, n_classes: int, pool_size: int, size: int, per_class: bool
    ) -> str:
        if per_class:
            total = size * n_classes
            if pool_size and total > pool_size:
                return (
                    f"{size} per class x {n_classes} classes = {total} rows, more than the "
                    f"{pool_size} rows in the train pool of {dataset!r}"
                )
            return ""
        if size < n_classes:
            return (
                f"size {size} is smaller than the {n_classes} classes of {dataset!r} (every class "
                "needs at least one training row)"
            )
        if pool_size and size > pool_size:
            return (
                f"size {size} is larger than the {pool_size} rows in the train pool of {dataset!r}"
            )
        return ""

    def score(
        self,
        y_true: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, float]:
        return compute_metrics(y_true, proba, classes, metrics=metrics)
