"""Uncertainty sampling: the rows whose predicted class distribution is least sure."""

from __future__ import annotations

import numpy as np

from littledata.active.strategies.base import QueryContext, QueryStrategy
from littledata.active.strategies.registry import register_strategy
from littledata.active.strategies.scoring import entropy, margin, top_n
from littledata.active.strategies.views import TASKS, check_aggregate

__all__ = ["EntropySampling", "LeastConfidence", "MarginSampling"]


class _Uncertainty(QueryStrategy):
    """Scores each candidate's predicted class distribution; the highest scores win.

    For a task whose examples have several distributions (multi-label: one per label, around
    its tuned threshold; sequence labeling: one per word) the scores are aggregated per example
    by ``aggregate``: ``"mean"`` or ``"max"`` (the most uncertain one); ``None`` takes the
    task's default (:mod:`littledata.active.strategies.views`). Single-label examples have one
    distribution, so it changes nothing there.
    """

    needs_proba = True
    tasks = TASKS  # each task's view gives its distributions

    def __init__(self, aggregate: str | None = None) -> None:
        self.aggregate = check_aggregate(aggregate, self.name)

    def scores(self, proba: np.ndarray) -> np.ndarray:
        """Higher is more uncertain."""
        raise NotImplementedError

    def _query(self, ctx: QueryContext) -> np.ndarray:
        scores = ctx.uncertainty(ctx.unlabeled, self.scores, self.name, self.aggregate)
        return top_n(ctx.unlabeled, scores, ctx.n, ctx.rng)


@register_strategy("least-confidence", category="uncertainty", aliases=("lc", "least-conf"))
class LeastConfidence(_Uncertainty):
    """Least confidence: the rows whose most likely class has the lowest probability (1 - max p);
    uncertainty sampling of Lewis & Gale (1994)."""

    summary = "Lowest top-class probability (Lewis & Gale 1994)."

    def scores(self, proba: np.ndarray) -> np.ndarray:
        return 1.0 - proba.max(axis=1)


@register_strategy("margin", category="uncertainty", aliases=("smallest-margin",))
class MarginSampling(_Uncertainty):
    """Smallest margin: the rows with the smallest gap between the two most likely classes
    (Scheffer et al. 2001). Equal margins are ordered by a seeded random permutation."""

    summary = "Smallest gap between the two most likely classes (Scheffer et al. 2001)."

    def scores(self, proba: np.ndarray) -> np.ndarray:
        return -margin(proba)


@register_strategy("entropy", category="uncertainty")
class EntropySampling(_Uncertainty):
    """Maximum entropy of the predicted class distribution."""

    summary = "Highest entropy of the predicted class distribution."

    def scores(self, proba: np.ndarray) -> np.ndarray:
        return entropy(proba)
