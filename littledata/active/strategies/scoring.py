"""Helpers the strategy families share: uncertainty scores, distances, seeded top-n, and copies
of the head for committees and cross-fitting."""

from __future__ import annotations

from typing import Any

import numpy as np

from littledata.active.strategies.base import predict_proba

__all__ = [
    "entropy",
    "margin",
    "member_clone",
    "min_sq_dist",
    "proba_full",
    "sq_norms",
    "top_n",
]


def top_n(
    candidates: np.ndarray, scores: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Return the ``n`` candidates with the highest ``scores``, ties broken by a seeded random
    permutation (the same ``rng`` state gives the same order)."""
    tiebreak = rng.permutation(len(candidates))
    order = np.lexsort((tiebreak, -np.asarray(scores, dtype=np.float64)))
    return candidates[order[:n]]


def entropy(p: np.ndarray) -> np.ndarray:
    """Entropy of each row of a probability matrix (0 log 0 = 0)."""
    from scipy.special import entr  # -p log p, 0 at p = 0

    return entr(p).sum(axis=1)


def margin(p: np.ndarray) -> np.ndarray:
    """Gap between the two largest probabilities of each row (1 with a single column)."""
    if p.shape[1] < 2:
        return np.ones(len(p))
    part = np.partition(p, p.shape[1] - 2, axis=1)
    return part[:, -1] - part[:, -2]


def sq_norms(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean norm of each row."""
    return np.einsum("ij,ij->i", X, X)


def min_sq_dist(X: np.ndarray, C: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Squared Euclidean distance of each row of X to its nearest row of C (chunked)."""
    xx = sq_norms(X)
    cc = sq_norms(C)
    out = np.empty(len(X), dtype=np.float64)
    for start in range(0, len(C), chunk):
        part = C[start : start + chunk]
        d = xx[:, None] - 2.0 * (X @ part.T) + cc[start : start + chunk][None, :]
        m = d.min(axis=1)
        out = m if start == 0 else np.minimum(out, m)
    return np.maximum(out, 0.0)


def member_clone(model: Any, C: float | None = None) -> Any:
    """An unfitted copy of ``model`` for committee members and cross-fitting.

    A head that tunes its regularisation by inner cross-validation offers ``without_search``
    (littledata's ``logreg``): the copy then skips the search and fits at the C the head chose
    (or ``C`` when given; ``model`` may then be unfitted), so each copy costs one plain fit
    instead of a grid search. Any other estimator is a plain :func:`sklearn.base.clone`.
    """
    if hasattr(model, "without_search"):
        return model.without_search(C=C)
    from sklearn.base import clone

    return clone(model)


def proba_full(model: Any, X: np.ndarray, classes: np.ndarray, strategy: str) -> np.ndarray:
    """Probabilities over ``classes`` (columns of classes the model never saw are 0)."""
    p = predict_proba(model, X, strategy)
    out = np.zeros((len(X), len(classes)))
    cols = np.searchsorted(classes, np.asarray(model.classes_))
    out[:, cols] = p
    return out
