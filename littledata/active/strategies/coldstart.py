"""Cold start: a representative, diverse first batch with no labels."""

from __future__ import annotations

import numpy as np

from littledata.active.strategies.base import QueryContext, QueryStrategy
from littledata.active.strategies.registry import register_strategy
from littledata.active.strategies.scoring import sq_norms
from littledata.active.strategies.views import TASKS

__all__ = ["ColdStart"]


@register_strategy("cold-start", category="cold-start", aliases=("coldstart",))
class ColdStart(QueryStrategy):
    """Cold start without labels: k-means with n clusters on the candidates' features and, for
    each centre, the candidate nearest to it; a diverse, representative first batch. Ordered by
    cluster size (the largest cluster's representative first). Ignores the model and labels.

    Parameters
    ----------
    max_fit: fit k-means on a seeded random subset of at most this many candidates (speed); the
        representatives are still chosen among all candidates.
    n_init: k-means restarts.
    """

    tasks = TASKS  # reads only the pool's features

    summary = "No labels needed: the example nearest each k-means centre."

    needs_model = False

    def __init__(self, max_fit: int = 10000, n_init: int = 3) -> None:
        self.max_fit = int(max_fit)
        self.n_init = int(n_init)

    def _query(self, ctx: QueryContext) -> np.ndarray:
        import warnings

        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning

        unlabeled, n, rng = ctx.unlabeled, ctx.n, ctx.rng
        X = np.asarray(ctx.embed(unlabeled), dtype=np.float64)
        fit_rows = np.arange(len(X))
        if len(X) > max(self.max_fit, n):
            fit_rows = np.sort(rng.choice(len(X), size=max(self.max_fit, n), replace=False))
        km = KMeans(n_clusters=n, n_init=self.n_init, random_state=int(rng.integers(2**31 - 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than n
            km.fit(X[fit_rows])
        labels = km.predict(X)
        sizes = np.bincount(labels, minlength=n)
        centres = km.cluster_centers_
        d = sq_norms(X)[:, None] - 2.0 * (X @ centres.T) + sq_norms(centres)[None, :]
        chosen: list[int] = []
        taken = np.zeros(len(X), dtype=bool)
        for c in np.lexsort((np.arange(n), -sizes)):
            col = d[:, c].copy()
            col[taken] = np.inf
            i = int(np.argmin(col))
            chosen.append(i)
            taken[i] = True
        return unlabeled[np.asarray(chosen)]
