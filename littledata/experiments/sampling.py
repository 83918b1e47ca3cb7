"""Seeded, stratified, nested samples of training rows.

These functions see only the labels they are given (pass the *train* split's labels; they never
see, and so can never leak, test rows) and return positions into that label array.

How a sample is drawn (``sample_train_indices(y, size, seed)``):

1. Each class's rows are shuffled once with a generator seeded by ``seed``.
2. Every class gets one row, then the remaining ``size - n_classes`` rows are handed out one at a
   time, each to the class with the largest ``share / (taken + 0.5)`` (``share``: the class's
   fraction of the pool; the Webster/Sainte-Laguë divisor rule; ties broken by a seeded order of
   the classes). A class that has given all its rows is skipped.
3. Each class contributes the first ``taken`` rows of its shuffled order.

This is proportional allocation: each class gets its share of ``size`` rounded to a whole number
of rows, never less than one. It differs from the textbook largest-remainder (Hamilton) rounding
in one deliberate way: largest remainders can *lower* a class's count when the total grows (the
"Alabama paradox"), which would break nesting; the divisor rule never does, and it agrees with
largest remainders except, rarely, by one row in a class.

Because both the per-class orders and the allocations only grow with ``size``, samples are
**nested**: for a fixed seed, the sample of a smaller size is a subset of the sample of a larger
size. Learning curves drawn with one seed then add rows instead of redrawing them, which removes
much of the noise between neighbouring sizes.
"""

from __future__ import annotations

import heapq
import logging
from typing import Any

import numpy as np

from littledata.errors import ConfigError

log = logging.getLogger(__name__)


def _check_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        raise ConfigError(
            "multi-label targets (a 2-D indicator matrix) are not supported by stratified "
            "sampling yet; give a 1-D array of class labels (one label per row)"
        )
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 else y
    if y.ndim != 1:
        raise ConfigError(f"labels must be a 1-D array; got shape {y.shape}")
    if len(y) == 0:
        raise ConfigError("the label array is empty: there are no rows to sample from")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return classes, inverse.reshape(-1), counts


def _class_orders(inverse: np.ndarray, n_classes: int, seed: int) -> list[np.ndarray]:
    """One seeded shuffle of each class's row positions (class order: sorted labels)."""
    rng = np.random.default_rng(seed)
    by_class = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=n_classes))[:-1]
    return [rng.permutation(rows) for rows in np.split(by_class, bounds)]


def _allocate(counts: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Rows per class for ``size`` (one each first, then the Webster divisor rule).

    Assumes ``len(counts) <= size <= counts.sum()``.
    """
    k = len(counts)
    taken = np.ones(k, dtype=np.int64)
    share = counts / counts.sum()
    # the tie-break order does not depend on size, so allocations only ever grow with size
    tie = np.random.default_rng([seed, 1]).permutation(k)
    heap = [(-share[c] / 1.5, int(tie[c]), c) for c in range(k) if counts[c] > 1]
    heapq.heapify(heap)
    for _ in range(size - k):
        _, t, c = heapq.heappop(heap)
        taken[c] += 1
        if taken[c] < counts[c]:
            heapq.heappush(heap, (-share[c] / (taken[c] + 0.5), t, c))
    return taken


def sample_train_indices(
    y: np.ndarray, size: int, seed: int, *, per_class: bool = False
) -> np.ndarray:
    """Draw a stratified, seeded, nested sample of training rows.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Class labels of the pool (the train split). Only these labels are seen.
    size : int
        Total rows to draw or, with ``per_class=True``, rows per class.
    seed : int
        The same seed gives the same sample; samples for one seed are nested across sizes.
    per_class : bool, default=False
        Draw ``size`` rows from every class; a class with fewer rows gives all it has (so the
        total can be below ``size * n_classes``).

    Returns
    -------
    ndarray of int64
        Sorted, distinct positions into ``y``.

    Raises
    ------
    ConfigError
        ``size`` is below 1, below the number of classes (every class needs a row), or above the
        pool size; or ``y`` is multi-label.

    Examples
    --------
    >>> y = np.array(["a"] * 90 + ["b"] * 10)
    >>> idx = sample_train_indices(y, 20, seed=0)
    >>> sorted(np.unique(y[idx], return_counts=True)[1].tolist())
    [2, 18]
    >>> set(sample_train_indices(y, 10, seed=0)) <= set(idx)
    True
    """
    classes, inverse, counts = _check_labels(y)
    size = int(size)
    k = len(classes)
    if size < 1:
        raise ConfigError(f"sample size must be at least 1; got {size}")
    orders = _class_orders(inverse, k, seed)
    if per_class:
        taken = np.minimum(counts, size)
    else:
        if size < k:
            raise ConfigError(
                f"sample size {size} is smaller than the number of classes ({k}): a stratified "
                f"sample needs at least one row per class; use a size >= {k} or per-class sizes"
            )
        if size > len(inverse):
            raise ConfigError(
                f"sample size {size} is larger than the pool of {len(inverse)} training rows; "
                f"use a size <= {len(inverse)} (or a larger pool cap)"
            )
        taken = _allocate(counts, size, seed)
    picked = np.concatenate([order[:t] for order, t in zip(orders, taken, strict=True)])
    return np.sort(picked).astype(np.int64)


def check_cap(cap: Any, name: str = "cap") -> int | None:
    """The one meaning of a row cap everywhere (spec keys, ``bench``, ``active simulate``, the
    library): ``None`` or ``0`` means no cap, a positive integer at most that many rows.

    Returns ``None`` for no cap, else the cap; a negative, fractional or non-integer value is a
    :class:`~littledata.errors.ConfigError`.

    >>> check_cap(0), check_cap(None), check_cap(500)
    (None, None, 500)
    """
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 0:
        raise ConfigError(
            f"{name} must be a number of rows (0 for no cap), got {cap!r}; a negative cap means "
            "nothing."
        )
    return int(cap) or None


def cap_indices(y: np.ndarray, cap: int | None, seed: int) -> np.ndarray:
    """A seeded stratified subsample of at most ``cap`` rows (used to cap pools and test sets).

    With ``cap`` at least the number of classes this is ``sample_train_indices(y, cap, seed)``:
    proportional allocation, every class kept. With fewer than that, every class cannot be kept:
    the ``cap`` largest classes (ties: a seeded order) give one row each, and a warning is logged.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Labels of the rows to cap.
    cap : int or None
        Largest number of rows to keep; None or 0 (or a cap >= n) keeps all rows
        (:func:`check_cap`).
    seed : int

    Returns
    -------
    ndarray of int64
        Sorted, distinct positions into ``y``.

    Examples
    --------
    >>> y = np.repeat([0, 1, 2], [500, 300, 200])
    >>> np.bincount(y[cap_indices(y, 100, seed=0)]).tolist()
    [50, 30, 20]
    """
    cap = check_cap(cap)
    classes, inverse, counts = _check_labels(y)
    n = len(inverse)
    if cap is None or cap >= n:
        return np.arange(n, dtype=np.int64)
    k = len(classes)
    if cap >= k:
        return sample_train_indices(y, cap, seed)
    log.warning(
        "cap %d is below the number of classes (%d): %d classes are dropped", cap, k, k - cap
    )
    orders = _class_orders(inverse, k, seed)
    tie = np.random.default_rng([seed, 1]).permutation(k)
    keep = np.lexsort((tie, -counts))[:cap]
    return np.sort(np.array([orders[c][0] for c in keep], dtype=np.int64))
