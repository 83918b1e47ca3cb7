"""Diversity: rows that cover the pool, chosen from the features alone (no model)."""

from __future__ import annotations

from typing import Any

import numpy as np

from littledata.active.strategies.base import QueryContext, QueryStrategy, _whole
from littledata.active.strategies.registry import register_strategy
from littledata.active.strategies.scoring import min_sq_dist
from littledata.active.strategies.views import TASKS

__all__ = ["KCenterGreedy", "TypiClust"]


@register_strategy("kcenter", category="diversity", aliases=("core-set", "coreset", "k-center"))
class KCenterGreedy(QueryStrategy):
    """Greedy k-center (core-set, Sener & Savarese 2018): repeatedly take the candidate farthest
    (Euclidean, on the features) from every labeled or already chosen row. With no labeled rows
    the first pick is a seeded random candidate."""

    tasks = TASKS  # reads only the pool's features

    summary = "Greedy k-center core-set: farthest from everything labeled (no model)."

    needs_model = False

    def _query(self, ctx: QueryContext) -> np.ndarray:
        labeled, unlabeled, n, rng = ctx.labeled, ctx.unlabeled, ctx.n, ctx.rng
        X = np.asarray(ctx.embed(unlabeled), dtype=np.float64)
        chosen: list[int] = []
        if len(labeled):
            dist = min_sq_dist(X, np.asarray(ctx.embed(labeled), dtype=np.float64))
        else:
            first = int(rng.integers(len(unlabeled)))
            chosen.append(first)
            dist = min_sq_dist(X, X[[first]])
            dist[first] = -1.0
        # ties (equal distances) follow a seeded permutation: argmax over a permuted view
        perm = rng.permutation(len(unlabeled))
        while len(chosen) < n:
            i = int(perm[np.argmax(dist[perm])])
            chosen.append(i)
            d = X - X[i]
            dist = np.minimum(dist, np.einsum("ij,ij->i", d, d))
            dist[i] = -1.0
        return unlabeled[np.asarray(chosen)]


def _typicality(X: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """TypiClust's typicality: 1 / (mean Euclidean distance to the ``k`` nearest other rows of
    the same group); a row alone in its group gets 1."""
    from sklearn.neighbors import NearestNeighbors

    out = np.ones(len(X), dtype=np.float64)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        kk = min(k, len(rows) - 1)
        if kk < 1:
            continue
        dist, _ = NearestNeighbors(n_neighbors=kk + 1).fit(X[rows]).kneighbors(X[rows])
        out[rows] = 1.0 / np.maximum(dist[:, 1:].mean(axis=1), 1e-12)
    return out


@register_strategy("typiclust", category="diversity")
class TypiClust(QueryStrategy):
    """TypiClust, after Hacohen, Dekel and Weinshall (2022, "Active Learning on a Budget:
    Opposite Strategies Suit High and Low Budgets"): cluster the whole pool by k-means, then take
    the most *typical* unlabeled row (the one with the densest neighbourhood: smallest mean
    distance to its ``knn`` nearest rows in its cluster) of the cluster with the fewest labels,
    largest cluster first. With few labels per class this covers the data's modes with clean,
    central examples, which beats uncertainty sampling (whose boundary estimates are still poor)
    and random sampling (which wastes labels on outliers and on already covered regions).
    Ignores the model, so it also picks a first batch with no labels at all.

    Parameters
    ----------
    n_clusters: number of k-means clusters. ``None`` follows the paper (labeled rows plus
        ``n``), rounded up to a power of two so that the pool is clustered again only when that
        number doubles (a k-means on a 20,000-row pool takes seconds), at most ``max_clusters``.
        A clustering is kept for the pool while the strategy object lives.
    max_clusters: cap on the number of clusters.
    knn: neighbours for typicality.
    min_cluster_size: clusters smaller than this are visited only when no larger cluster has
        unlabeled rows (the paper drops them: they are outliers, not modes).
    random_state: seed of the k-means. Fixed, not drawn from the query's seed, so that a
        session saved and resumed clusters its pool exactly as before (the clustering itself
        is not saved); simulated runs with different seeds differ in their first labels.
    """

    tasks = TASKS  # reads only the pool's features

    summary = "Low budgets: the most typical row of the least-labeled, largest k-means cluster."

    needs_model = False

    def __init__(
        self,
        n_clusters: int | None = None,
        max_clusters: int = 500,
        knn: int = 20,
        min_cluster_size: int = 5,
        random_state: int = 0,
    ) -> None:
        name = "typiclust"
        self.n_clusters = None if n_clusters is None else _whole("n_clusters", n_clusters, 1, name)
        self.max_clusters = _whole("max_clusters", max_clusters, 1, name)
        self.knn = _whole("knn", knn, 1, name)
        self.min_cluster_size = _whole("min_cluster_size", min_cluster_size, 1, name)
        self.random_state = _whole("random_state", random_state, 0, name)
        self._cache: tuple[Any, int, np.ndarray, np.ndarray] | None = None

    def _clusters(self, features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Cluster labels and typicality of every pool row, cached per (pool, k)."""
        import warnings

        from sklearn.cluster import KMeans, MiniBatchKMeans
        from sklearn.exceptions import ConvergenceWarning

        if self._cache is not None and self._cache[0] is features and self._cache[1] == k:
            return self._cache[2], self._cache[3]
        X = np.asarray(features, dtype=np.float64)
        seed = self.random_state
        # as the paper's code: exact k-means for few clusters, mini-batch k-means for many
        km = (
            KMeans(n_clusters=k, n_init=1, random_state=seed)
            if k <= 50
            else MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=seed)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k
            groups = km.fit_predict(X).astype(np.int64)
        typical = _typicality(X, groups, self.knn)
        self._cache = (features, k, groups, typical)
        return groups, typical

    def _query(self, ctx: QueryContext) -> np.ndarray:
        if self.n_clusters is not None:
            wanted = self.n_clusters
        else:
            wanted = 1 << (len(ctx.labeled) + ctx.n - 1).bit_length()  # the next power of two
        return self.pick(ctx, wanted)

    def pick(self, ctx: QueryContext, n_clusters: int) -> np.ndarray:
        """The batch of ``ctx.n`` rows from a clustering of the whole pool into ``n_clusters``
        clusters (capped by ``max_clusters`` and the pool size); composites such as
        :class:`~littledata.active.strategies.hybrid.TypiClustMargin` call it with their own
        number of clusters."""
        features = ctx.pool_features()
        labeled, unlabeled, n = ctx.labeled, ctx.unlabeled, ctx.n
        k = max(1, min(n_clusters, self.max_clusters, len(features)))
        groups, typical = self._clusters(features, k)
        sizes = np.bincount(groups, minlength=k)
        n_labels = np.bincount(groups[labeled], minlength=k)
        free = np.zeros(len(features), dtype=bool)
        free[unlabeled] = True
        n_free = np.bincount(groups[unlabeled], minlength=k)
        big = sizes >= self.min_cluster_size
        chosen: list[int] = []
        for _ in range(n):
            open_ = n_free > 0
            pool = np.flatnonzero(open_ & big) if (open_ & big).any() else np.flatnonzero(open_)
            # fewest labels first, then the largest cluster, then the lowest cluster number
            c = pool[np.lexsort((pool, -sizes[pool], n_labels[pool]))[0]]
            rows = np.flatnonzero((groups == c) & free)
            i = int(rows[np.argmax(typical[rows])])
            chosen.append(i)
            free[i] = False
            n_free[c] -= 1
            n_labels[c] += 1
        return np.asarray(chosen, dtype=np.int64)
