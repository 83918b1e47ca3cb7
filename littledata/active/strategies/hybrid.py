"""Hybrids: uncertain *and* diverse batches (BADGE, cluster-margin, typiclust-margin), or a
learned error model (active transfer)."""

from __future__ import annotations

import logging

import numpy as np

from littledata.active.strategies.base import QueryContext, QueryStrategy, _whole, predict_proba
from littledata.active.strategies.diversity import TypiClust
from littledata.active.strategies.registry import register_strategy
from littledata.active.strategies.scoring import (
    entropy,
    margin,
    member_clone,
    proba_full,
    sq_norms,
    top_n,
)
from littledata.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["ActiveTransfer", "Badge", "ClusterMargin", "TypiClustMargin"]


@register_strategy("badge", category="hybrid")
class Badge(QueryStrategy):
    """BADGE (Ash et al. 2020): uncertainty and diversity in one batch. Each candidate x becomes
    the gradient of the cross-entropy loss with respect to a linear last layer, taking the
    model's own prediction as the label: g(x) = (p(x) - onehot(argmax p(x))) ⊗ [x, 1]; the batch
    is chosen by k-means++ seeding on these embeddings (the first pick has the largest gradient
    norm, each next one is drawn with probability proportional to its squared distance to the
    nearest pick), so it is uncertain and spread out rather than n near-duplicates.

    The embedding is exact for a linear head on the features (logistic regression); for other
    heads it uses the features as the last layer's input, an approximation. Distances are
    computed from the factors (||g_i - g_j||² = |a_i|²|x_i|² + |a_j|²|x_j|² - 2 (a_i·a_j)(x_i·x_j)),
    so the K×d embedding is never materialised (fast with 150 classes).
    """

    summary = "BADGE: k-means++ on gradient embeddings; uncertain and diverse batches."

    needs_proba = True

    def _query(self, ctx: QueryContext) -> np.ndarray:
        unlabeled, n, rng = ctx.unlabeled, ctx.n, ctx.rng
        X = np.asarray(ctx.embed(unlabeled), dtype=np.float64)
        X = np.hstack([X, np.ones((len(X), 1))])
        P = predict_proba(ctx.model, X[:, :-1], self.name)
        A = P.copy()
        A[np.arange(len(A)), P.argmax(axis=1)] -= 1.0
        aa = sq_norms(A)
        xx = sq_norms(X)
        norms = aa * xx
        perm = rng.permutation(len(unlabeled))
        first = int(perm[np.argmax(norms[perm])])
        chosen = [first]
        dist = np.maximum(norms + norms[first] - 2.0 * (A @ A[first]) * (X @ X[first]), 0.0)
        dist[first] = 0.0
        while len(chosen) < n:
            total = dist.sum()
            if total <= 0 or not np.isfinite(total):
                rest = np.setdiff1d(perm, chosen, assume_unique=True)
                i = int(rest[0])
            else:
                i = int(rng.choice(len(dist), p=dist / total))
            chosen.append(i)
            d_new = np.maximum(norms + norms[i] - 2.0 * (A @ A[i]) * (X @ X[i]), 0.0)
            dist = np.minimum(dist, d_new)
            dist[chosen] = 0.0
        return unlabeled[np.asarray(chosen)]


@register_strategy("cluster-margin", category="hybrid")
class ClusterMargin(QueryStrategy):
    """Cluster-margin, after Citovsky et al. (2021, "Batch Active Learning at Scale"): take the
    ``factor * n`` candidates with the smallest margin (gap between the two most likely
    classes), cluster them into ``n`` groups by k-means on the features, and return the most
    uncertain candidate of each group, most uncertain first. The batch keeps margin sampling's
    focus on the decision boundary but spreads over different parts of it, instead of spending
    several labels on near-duplicates of one confusing example.

    Simplified from the paper, which clusters the whole pool once (hierarchical, average
    linkage) and visits the clusters round-robin; here only the few top candidates are
    clustered, each round, which costs milliseconds. With ``factor=1`` it is margin sampling.

    Parameters
    ----------
    factor: how many margin candidates per requested row are clustered (at least 1).
    n_init: k-means restarts.
    """

    summary = "Smallest margins, spread out: the most uncertain row of each k-means cluster."

    needs_proba = True

    def __init__(self, factor: int = 5, n_init: int = 1) -> None:
        self.factor = _whole("factor", factor, 1, "cluster-margin")
        self.n_init = _whole("n_init", n_init, 1, "cluster-margin")

    def _query(self, ctx: QueryContext) -> np.ndarray:
        import warnings

        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning

        unlabeled, n, rng = ctx.unlabeled, ctx.n, ctx.rng
        X = np.asarray(ctx.embed(unlabeled))
        uncertainty = -margin(predict_proba(ctx.model, X, self.name))
        m = min(len(unlabeled), self.factor * n)
        top = top_n(np.arange(len(unlabeled)), uncertainty, m, rng)  # most uncertain first
        if m == n:
            return unlabeled[top]
        km = KMeans(n_clusters=n, n_init=self.n_init, random_state=int(rng.integers(2**31 - 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than n
            groups = km.fit_predict(np.asarray(X[top], dtype=np.float64))
        # ``top`` is sorted by uncertainty: a group's first member is its most uncertain one
        _, first = np.unique(groups, return_index=True)
        picked = top[np.sort(first)]
        if len(picked) < n:  # duplicate rows can leave groups empty: fill in margin order
            rest = top[~np.isin(top, picked)]
            picked = np.concatenate([picked, rest[: n - len(picked)]])
        return unlabeled[picked]


@register_strategy("active-transfer", category="hybrid", aliases=("transfer",))
class ActiveTransfer(QueryStrategy):
    """Active transfer learning for uncertainty sampling (after R. Munro 2021, "Human-in-the-Loop
    Machine Learning", Manning): a small model learns where the current head is wrong and the
    pool is ranked by its predicted probability of an error. (Konyushkova et al. 2017, "Learning
    Active Learning from Data", learn a query strategy from data in a related way.)

    How the held-out rows are chosen: every labeled row is held out once, by stratified k-fold
    cross-fitting (``n_folds`` folds, fewer when a class has fewer rows): a copy of the head
    (:func:`member_clone`) is fit on the other folds and its prediction on the held-out fold is
    marked right or wrong. No label is set aside for this. The error model is a class-balanced
    logistic regression on the standardised features plus three uncertainty features of the
    fold model's probabilities (max probability, margin, entropy); on the pool it reads the
    current head's probabilities.
    When the out-of-fold predictions hold fewer than two right or two wrong rows (nothing to
    learn), the strategy falls back to margin sampling.

    Parameters
    ----------
    n_folds: cross-fitting folds.
    C: inverse regularisation of the error model.
    """

    summary = "A learned error model ranks the pool by the head's predicted mistakes."

    needs_proba = True

    def __init__(self, n_folds: int = 5, C: float = 1.0) -> None:
        if int(n_folds) < 2:
            raise ConfigError(f"active-transfer needs n_folds >= 2, got {n_folds}.")
        self.n_folds = int(n_folds)
        self.C = float(C)

    @staticmethod
    def _meta(X: np.ndarray, P: np.ndarray) -> np.ndarray:
        return np.hstack([X, P.max(axis=1)[:, None], margin(P)[:, None], entropy(P)[:, None]])

    def _query(self, ctx: QueryContext) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import KFold, StratifiedKFold
        from sklearn.preprocessing import StandardScaler

        model, labeled, unlabeled, y, n, rng = (
            ctx.model,
            ctx.labeled,
            ctx.unlabeled,
            ctx.y,
            ctx.n,
            ctx.rng,
        )
        X_pool = np.asarray(ctx.embed(unlabeled), dtype=np.float64)
        P_pool = predict_proba(model, X_pool, self.name)
        classes = np.unique(y)
        X_lab = np.asarray(ctx.embed(labeled), dtype=np.float64)
        _, counts = np.unique(y, return_counts=True)
        k = min(self.n_folds, len(y) // 2)
        wrong = np.full(len(y), -1)
        P_oof = np.zeros((len(y), len(classes)))
        if k >= 2:
            seed = int(rng.integers(2**31 - 1))
            if counts.min() >= k:
                folds = StratifiedKFold(k, shuffle=True, random_state=seed).split(X_lab, y)
            else:
                folds = KFold(k, shuffle=True, random_state=seed).split(X_lab)
            for train, test in folds:
                if len(np.unique(y[train])) < 2:
                    continue
                member = member_clone(model).fit(X_lab[train], y[train])
                P_oof[test] = proba_full(member, X_lab[test], classes, self.name)
                wrong[test] = (classes[P_oof[test].argmax(axis=1)] != y[test]).astype(int)
        done = wrong >= 0
        n_wrong, n_right = int((wrong[done] == 1).sum()), int((wrong[done] == 0).sum())
        if n_wrong < 2 or n_right < 2:
            log.info(
                "active-transfer: %d wrong / %d right held-out predictions; using margin instead",
                n_wrong,
                n_right,
            )
            return top_n(unlabeled, -margin(P_pool), n, rng)
        P_pool_full = np.zeros((len(unlabeled), len(classes)))
        P_pool_full[:, np.searchsorted(classes, np.asarray(model.classes_))] = P_pool
        scaler = StandardScaler().fit(self._meta(X_lab[done], P_oof[done]))
        error_model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
        error_model.fit(scaler.transform(self._meta(X_lab[done], P_oof[done])), wrong[done])
        p_wrong = error_model.predict_proba(scaler.transform(self._meta(X_pool, P_pool_full)))[:, 1]
        return top_n(unlabeled, p_wrong, n, rng)


@register_strategy("typiclust-margin", category="hybrid")
class TypiClustMargin(QueryStrategy):
    """Low budget first, then the boundary: :class:`TypiClust` while the labels number fewer than
    ``per_class`` per class of the label set, then :class:`ClusterMargin`. Hacohen et al. (2022)
    found that typical examples win while labels are few per class and uncertainty wins once
    the model is good enough to know its boundary; the switch point is measured in labels per
    class, so with many classes (intent data: 150 classes, a few labels each) the typical phase
    spends most of a small budget, and with few classes it is over before the first query.

    The typical phase clusters the pool once into ``per_class × n_classes`` clusters (at most
    ``max_clusters``), so it covers each cluster once, largest first, before the switch. Needs
    ``n_classes`` (the size of the label set) at query time; the active learner passes it.

    Parameters
    ----------
    per_class: labels per class at which the strategy switches to cluster-margin (``0``:
        cluster-margin from the start).
    factor: cluster-margin's candidates per requested row.
    max_clusters: cap on the typical phase's clusters.
    random_state: seed of the typical phase's k-means (see :class:`TypiClust`).
    """

    summary = "TypiClust until per_class labels per class, then cluster-margin."

    needs_proba = True
    uses_n_classes = True

    def __init__(
        self, per_class: int = 2, factor: int = 5, max_clusters: int = 500, random_state: int = 0
    ) -> None:
        name = "typiclust-margin"
        self.per_class = _whole("per_class", per_class, 0, name)
        self.factor = _whole("factor", factor, 1, name)
        self.max_clusters = _whole("max_clusters", max_clusters, 1, name)
        self.random_state = _whole("random_state", random_state, 0, name)
        self._typical = TypiClust(max_clusters=self.max_clusters, random_state=self.random_state)
        self._margin = ClusterMargin(factor=self.factor)

    def _query(self, ctx: QueryContext) -> np.ndarray:
        switch = self.per_class * int(ctx.n_classes)  # type: ignore[arg-type]  (checked by query)
        if len(ctx.labeled) >= switch:
            return self._margin.query(ctx)
        return self._typical.pick(ctx, max(switch, ctx.n))
