"""Query strategies: which unlabeled examples to label next.

Every strategy is one object with one method (the style of small-text)::

    strategy.query(model, features, indices_labeled, indices_unlabeled, y_labeled, n, seed=0)

Parameters of :meth:`QueryStrategy.query`
-----------------------------------------
model: the current head, a fitted scikit-learn classifier trained on ``features[indices_labeled]``
    and ``y_labeled`` (``None`` is accepted by strategies that need no model: random, kcenter,
    cold-start). Strategies that need class probabilities call ``model.predict_proba``; a head
    without it raises a :class:`~littledata.errors.ConfigError` that names the alternatives.
features: the whole pool's feature matrix, shape ``(n_pool, d)``; indices refer to its rows.
indices_labeled: int array, the rows already labeled (may be empty).
indices_unlabeled: int array, the candidate rows; disjoint from ``indices_labeled``.
y_labeled: the labels of ``indices_labeled``, in the same order.
n: how many rows to return, ``1 <= n <= len(indices_unlabeled)``.
seed: an ``int`` or a :class:`numpy.random.Generator`; the same seed gives the same answer.
n_classes: the size of the label set (classes not labeled yet included). Only strategies with
    ``uses_n_classes`` read it (``typiclust-margin``, whose phases are measured in labels per
    class); :class:`~littledata.active.learner.ActiveLearner` always passes it.

Returns an ``int64`` array of ``n`` distinct members of ``indices_unlabeled``, most wanted first.
Ties in a score are broken by a seeded random permutation of the candidates (not by position:
datasets are often sorted by label, so "lowest index first" would bias a batch toward one class);
with the same seed the order is fully deterministic.

Strategies live in :data:`STRATEGIES` (filled by the :func:`register_strategy` decorator) and are
built by name with :func:`get_strategy`.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.array([[-2.0], [-1.0], [-0.1], [0.2], [1.0], [2.0]])
>>> model = LogisticRegression().fit(X[[0, 5]], [0, 1])
>>> get_strategy("margin").query(model, X, [0, 5], [1, 2, 3, 4], [0, 1], 2, seed=0)
array([2, 3])
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

from littledata.errors import ConfigError, DataFormatError, unknown_name

log = logging.getLogger(__name__)

__all__ = [
    "STRATEGIES",
    "ActiveTransfer",
    "Badge",
    "ClusterMargin",
    "ColdStart",
    "Committee",
    "EntropySampling",
    "KCenterGreedy",
    "LeastConfidence",
    "MarginSampling",
    "QueryStrategy",
    "RandomSampling",
    "StrategyInfo",
    "Subsample",
    "TypiClust",
    "TypiClustMargin",
    "get_strategy",
    "list_strategies",
    "register_strategy",
]

SeedLike = int | np.random.Generator | None


def as_rng(seed: SeedLike) -> np.random.Generator:
    """Return a Generator for ``seed`` (an int, a Generator passed through, ``None`` means 0)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(0 if seed is None else seed)


# -- the interface ----------------------------------------------------------------------------


class QueryStrategy:
    """Base class of every strategy; subclasses implement :meth:`_query`.

    Class attributes describe a strategy for listings and checks: ``name``, ``category``
    (``"baseline"``, ``"uncertainty"``, ``"disagreement"``, ``"diversity"``, ``"hybrid"``,
    ``"cold-start"``, ``"wrapper"``), ``needs_model`` and ``needs_proba``.
    """

    name: ClassVar[str] = ""
    category: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    """One line for listings."""
    needs_model: ClassVar[bool] = True
    needs_proba: ClassVar[bool] = False
    uses_n_classes: ClassVar[bool] = False
    """Whether :meth:`_query` takes the ``n_classes`` keyword (the size of the label set)."""

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters (JSON-able), so ``get_strategy(name, **params)``
        rebuilds an equal strategy."""
        params = {}
        for p in inspect.signature(type(self).__init__).parameters.values():
            if p.name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            params[p.name] = getattr(self, p.name)
        return params

    def spec(self) -> dict[str, Any]:
        """Return ``{"name": ..., "params": {...}}``, a JSON-able description."""
        params = {
            k: (v.spec() if isinstance(v, QueryStrategy) else v)
            for k, v in self.get_params().items()
        }
        return {"name": self.name, "params": params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.spec() == other.spec()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(self.name)

    def query(
        self,
        model: Any,
        features: np.ndarray,
        indices_labeled: Sequence[int] | np.ndarray,
        indices_unlabeled: Sequence[int] | np.ndarray,
        y_labeled: Sequence[Any] | np.ndarray,
        n: int,
        *,
        seed: SeedLike = 0,
        n_classes: int | None = None,
    ) -> np.ndarray:
        """Return ``n`` distinct indices from ``indices_unlabeled``, most wanted first.

        See the module docstring for the meaning of every argument.

        Raises
        ------
        ConfigError: ``n`` is not in ``1..len(indices_unlabeled)``, the strategy needs a model
            (or class probabilities) that was not given, or ``n_classes`` is missing where the
            strategy needs it or smaller than the number of labels seen.
        DataFormatError: the indices are out of range, overlap, or do not match ``y_labeled``.
        """
        features = _as_matrix(features)
        labeled = _as_indices(indices_labeled, len(features), "indices_labeled")
        unlabeled = _as_indices(indices_unlabeled, len(features), "indices_unlabeled")
        y = np.asarray(y_labeled)
        if len(y) != len(labeled):
            raise DataFormatError(
                f"y_labeled has {len(y)} labels but indices_labeled has {len(labeled)} rows; "
                "give one label per labeled row, in the same order."
            )
        n = _check_n(n, len(unlabeled))
        if len(np.unique(unlabeled)) != len(unlabeled):
            raise DataFormatError("indices_unlabeled holds the same row twice; pass each once.")
        if len(labeled) and np.isin(unlabeled, labeled).any():
            both = unlabeled[np.isin(unlabeled, labeled)][:5].tolist()
            raise DataFormatError(
                f"Rows {both} are in both indices_labeled and indices_unlabeled; a row is either "
                "labeled or a candidate."
            )
        if self.needs_model and model is None:
            raise ConfigError(
                f"Strategy {self.name!r} needs the current model (a head fitted on the labeled "
                "rows); with no labels yet use 'cold-start' or 'random' for the first batch."
            )
        extra: dict[str, Any] = {}
        if self.uses_n_classes:
            extra["n_classes"] = _check_n_classes(n_classes, y, self.name)
        rng = as_rng(seed)
        chosen = np.asarray(
            self._query(model, features, labeled, unlabeled, y, n, rng, **extra), dtype=np.int64
        )
        # Internal guarantee: n distinct candidates (cheap, and it protects every caller).
        if len(chosen) != n or len(np.unique(chosen)) != n or not np.isin(chosen, unlabeled).all():
            raise AssertionError(f"strategy {self.name!r} returned an invalid batch: {chosen}")
        return chosen

    def _query(
        self,
        model: Any,
        features: np.ndarray,
        labeled: np.ndarray,
        unlabeled: np.ndarray,
        y: np.ndarray,
        n: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        raise NotImplementedError


# -- registry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyInfo:
    """What :func:`list_strategies` shows about a registered strategy."""

    name: str
    category: str
    needs_model: bool
    needs_proba: bool
    description: str
    cls: type[QueryStrategy]


STRATEGIES: dict[str, type[QueryStrategy]] = {}
"""Registered strategies by name (filled by :func:`register_strategy`)."""

ALIASES = {
    "lc": "least-confidence",
    "least-conf": "least-confidence",
    "smallest-margin": "margin",
    "qbc": "committee",
    "core-set": "kcenter",
    "coreset": "kcenter",
    "k-center": "kcenter",
    "transfer": "active-transfer",
    "coldstart": "cold-start",
}

S = TypeVar("S", bound=type[QueryStrategy])


def register_strategy(name: str, *, category: str) -> Callable[[S], S]:
    """Class decorator: register a :class:`QueryStrategy` subclass under ``name``."""

    def decorate(cls: S) -> S:
        if name in STRATEGIES:
            raise ValueError(f"strategy {name!r} is registered twice")
        cls.name = name
        cls.category = category
        STRATEGIES[name] = cls
        return cls

    return decorate


def _normalise(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    return ALIASES.get(key, key)


def get_strategy(name: str | QueryStrategy, **params: Any) -> QueryStrategy:
    """Build the strategy registered as ``name`` with ``params``.

    Names are case-insensitive, ``_`` and ``-`` are the same, and a few aliases work (``qbc``,
    ``coreset``, ``lc``). A :class:`QueryStrategy` instance is returned as it is.

    Raises
    ------
    UnknownNameError: no strategy has that name (the message suggests close names).
    ConfigError: a parameter the strategy does not take, or a bad value.

    Examples
    --------
    >>> get_strategy("committee", n_members=3)
    Committee(n_members=3, disagreement='vote')
    """
    if isinstance(name, QueryStrategy):
        if params:
            raise ConfigError("Pass parameters to a strategy's constructor, not with an instance.")
        return name
    key = _normalise(name)
    try:
        cls = STRATEGIES[key]
    except KeyError:
        raise unknown_name("query strategy", name, STRATEGIES) from None
    accepted = [
        p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "base_params")
    ]
    unknown = sorted(set(params) - set(accepted)) if cls is not Subsample else []
    if unknown:
        raise ConfigError(
            f"Strategy {key!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted) or 'no parameters'}."
        )
    return cls(**params)


def list_strategies() -> list[StrategyInfo]:
    """Return every registered strategy, sorted by name."""
    out = []
    for name in sorted(STRATEGIES):
        cls = STRATEGIES[name]
        doc = cls.summary or " ".join((cls.__doc__ or "").split("\n\n")[0].split())
        needs_model = cls.needs_model if isinstance(cls.needs_model, bool) else False
        needs_proba = cls.needs_proba if isinstance(cls.needs_proba, bool) else False
        out.append(StrategyInfo(name, cls.category, needs_model, needs_proba, doc, cls))
    return out


# -- helpers ----------------------------------------------------------------------------------


def _as_matrix(features: Any) -> np.ndarray:
    if not hasattr(features, "shape") or len(features.shape) != 2:
        shape = getattr(features, "shape", None)
        raise DataFormatError(
            f"features must be a 2-D array (n_pool, d), got shape {shape}; active learning needs "
            "a dense featurizer (one vector per text)."
        )
    return features  # type: ignore[no-any-return]


def _as_indices(values: Any, n_pool: int, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise DataFormatError(f"{what} must be a 1-D sequence of integer row indices.")
    arr = arr.astype(np.int64, copy=False)
    if arr.min() < 0 or arr.max() >= n_pool:
        raise DataFormatError(
            f"{what} holds {int(arr.min() if arr.min() < 0 else arr.max())}, outside the pool's "
            f"rows 0..{n_pool - 1}."
        )
    return arr


def _check_n(n: Any, available: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ConfigError(f"The batch size must be a whole number, got {n!r}.")
    n = int(n)
    if n < 1:
        raise ConfigError(f"The batch size must be at least 1, got {n}.")
    if n > available:
        raise ConfigError(
            f"Asked for {n} examples but only {available} unlabeled examples are left in the "
            "pool; ask for fewer or add texts to the pool."
        )
    return n


def _check_n_classes(n_classes: Any, y: np.ndarray, strategy: str) -> int:
    if n_classes is None:
        raise ConfigError(
            f"Strategy {strategy!r} needs the size of the label set: pass n_classes= to query() "
            "(ActiveLearner does so)."
        )
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ConfigError(f"n_classes must be a whole number, got {n_classes!r}.")
    seen = len(np.unique(y)) if len(y) else 0
    if n_classes < max(2, seen):
        raise ConfigError(
            f"n_classes={n_classes} is too small: a label set has at least two classes and "
            f"y_labeled already holds {seen}."
        )
    return int(n_classes)


def _whole(name: str, value: Any, low: int, strategy: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{strategy}'s {name} must be a whole number ≥ {low}, got {value!r}.")
    return int(value)


def top_n(
    candidates: np.ndarray, scores: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Return the ``n`` candidates with the highest ``scores``, ties broken by a seeded random
    permutation (the same ``rng`` state gives the same order)."""
    tiebreak = rng.permutation(len(candidates))
    order = np.lexsort((tiebreak, -np.asarray(scores, dtype=np.float64)))
    return candidates[order[:n]]


def predict_proba(model: Any, X: np.ndarray, strategy: str) -> np.ndarray:
    """Return ``model.predict_proba(X)``, or raise a clear error when the head has none."""
    if not hasattr(model, "predict_proba"):
        raise ConfigError(
            f"Strategy {strategy!r} needs class probabilities, but the head "
            f"{type(model).__name__} has no predict_proba. Use a head that has them (logreg, "
            "mlp, knn, centroid), wrap the head in sklearn.calibration.CalibratedClassifierCV, or "
            "choose a strategy that needs none (random, kcenter, cold-start, committee with "
            "disagreement='vote')."
        )
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    if proba.ndim != 2 or len(proba) != len(X):
        raise DataFormatError(f"{type(model).__name__}.predict_proba returned shape {proba.shape}.")
    return proba


def _entropy(p: np.ndarray) -> np.ndarray:
    from scipy.special import entr  # -p log p, 0 at p = 0

    return entr(p).sum(axis=1)


def _margin(p: np.ndarray) -> np.ndarray:
    if p.shape[1] < 2:
        return np.ones(len(p))
    part = np.partition(p, p.shape[1] - 2, axis=1)
    return part[:, -1] - part[:, -2]


def _sq_norms(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def _min_sq_dist(X: np.ndarray, C: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Squared Euclidean distance of each row of X to its nearest row of C (chunked)."""
    xx = _sq_norms(X)
    cc = _sq_norms(C)
    out = np.empty(len(X), dtype=np.float64)
    for start in range(0, len(C), chunk):
        part = C[start : start + chunk]
        d = xx[:, None] - 2.0 * (X @ part.T) + cc[start : start + chunk][None, :]
        m = d.min(axis=1)
        out = m if start == 0 else np.minimum(out, m)
    return np.maximum(out, 0.0)


# -- baseline ---------------------------------------------------------------------------------


@register_strategy("random", category="baseline")
class RandomSampling(QueryStrategy):
    """Uniform random sampling from the pool: the baseline every other strategy must beat."""

    summary = "Uniform random rows: the baseline."

    needs_model = False

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        return rng.choice(unlabeled, size=n, replace=False)


# -- uncertainty ------------------------------------------------------------------------------


class _Uncertainty(QueryStrategy):
    needs_proba = True

    def scores(self, proba: np.ndarray) -> np.ndarray:
        """Higher is more uncertain."""
        raise NotImplementedError

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        proba = predict_proba(model, np.asarray(features[unlabeled]), self.name)
        return top_n(unlabeled, self.scores(proba), n, rng)


@register_strategy("least-confidence", category="uncertainty")
class LeastConfidence(_Uncertainty):
    """Least confidence: the rows whose most likely class has the lowest probability (1 - max p);
    uncertainty sampling of Lewis & Gale (1994)."""

    summary = "Lowest top-class probability (Lewis & Gale 1994)."

    def scores(self, proba: np.ndarray) -> np.ndarray:
        return 1.0 - proba.max(axis=1)


@register_strategy("margin", category="uncertainty")
class MarginSampling(_Uncertainty):
    """Smallest margin: the rows with the smallest gap between the two most likely classes
    (Scheffer et al. 2001). Equal margins are ordered by a seeded random permutation."""

    summary = "Smallest gap between the two most likely classes (Scheffer et al. 2001)."

    def scores(self, proba: np.ndarray) -> np.ndarray:
        return -_margin(proba)


@register_strategy("entropy", category="uncertainty")
class EntropySampling(_Uncertainty):
    """Maximum entropy of the predicted class distribution."""

    summary = "Highest entropy of the predicted class distribution."

    def scores(self, proba: np.ndarray) -> np.ndarray:
        return _entropy(proba)


# -- disagreement -----------------------------------------------------------------------------


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


def _stratified_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Resample each class's rows with replacement (every class keeps its count)."""
    parts = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        parts.append(rng.choice(rows, size=len(rows), replace=True))
    return np.concatenate(parts)


def _proba_full(model: Any, X: np.ndarray, classes: np.ndarray, strategy: str) -> np.ndarray:
    """Probabilities over ``classes`` (columns of classes the model never saw are 0)."""
    p = predict_proba(model, X, strategy)
    out = np.zeros((len(X), len(classes)))
    cols = np.searchsorted(classes, np.asarray(model.classes_))
    out[:, cols] = p
    return out


@register_strategy("committee", category="disagreement")
class Committee(QueryStrategy):
    """Query by committee: a bootstrap ensemble of the head (each member fit on a stratified
    bootstrap resample of the labeled rows) and the rows its members disagree on most
    (Seung et al. 1992; McCallum & Nigam 1998). Members of a head that tunes C by inner
    cross-validation reuse the C it chose (:func:`member_clone`): one plain fit per member.

    Parameters
    ----------
    n_members: committee size.
    disagreement: ``"vote"`` (default: the entropy of the members' hard votes, Dagan & Engelson
        1995; any head; ties are broken by the entropy of the members' mean distribution when
        the head has probabilities, then by a seeded permutation) or ``"kl"`` (mean
        Kullback-Leibler divergence of each member's distribution from the committee's mean,
        McCallum & Nigam 1998; needs predict_proba). Vote is the default because KL did much
        worse in our simulations with the CV-tuned logreg head (clinc150, glove50, 200 labels:
        accuracy 0.08 with KL, 0.25 with vote, 0.24 random), its weakly regularised members
        disagreeing most far from the data.
    """

    summary = "Most disagreement in a bootstrap committee of heads (vote entropy, or KL)."

    needs_proba = False  # True with disagreement='kl'

    def __init__(self, n_members: int = 5, disagreement: str = "vote") -> None:
        if disagreement not in ("kl", "vote"):
            raise ConfigError(
                f"Committee disagreement must be 'kl' or 'vote', got {disagreement!r}."
            )
        if int(n_members) < 2:
            raise ConfigError(f"A committee needs at least 2 members, got {n_members}.")
        self.n_members = int(n_members)
        self.disagreement = disagreement
        self.needs_proba = disagreement == "kl"  # type: ignore[misc]

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        classes = np.unique(y)
        X_lab = np.asarray(features[labeled])
        X_pool = np.asarray(features[unlabeled])
        has_proba = hasattr(model, "predict_proba")
        if self.disagreement == "kl" and not has_proba:
            predict_proba(model, X_pool[:0], f"{self.name} (disagreement='kl')")
        probas, votes = [], []
        for _ in range(self.n_members):
            rows = _stratified_bootstrap(y, rng)
            member = member_clone(model).fit(X_lab[rows], y[rows])
            if has_proba:
                p = _proba_full(member, X_pool, classes, self.name)
                probas.append(p)
                votes.append(p.argmax(axis=1))
            else:
                votes.append(np.searchsorted(classes, member.predict(X_pool)))
        if self.disagreement == "kl":
            # mean_m KL(P_m || M) with M the mean distribution equals H(M) - mean_m H(P_m)
            mean = np.mean(probas, axis=0)
            scores = _entropy(mean) - np.mean([_entropy(p) for p in probas], axis=0)
            return top_n(unlabeled, np.maximum(scores, 0.0), n, rng)
        V = np.stack(votes)  # (members, pool)
        counts = np.zeros((len(unlabeled), len(classes)))
        for v in V:
            counts[np.arange(len(unlabeled)), v] += 1
        vote_entropy = _entropy(counts / self.n_members)
        secondary = _entropy(np.stack(probas).mean(axis=0)) if probas else np.zeros(len(unlabeled))
        tiebreak = rng.permutation(len(unlabeled))
        order = np.lexsort((tiebreak, -secondary, -np.round(vote_entropy, 12)))
        return unlabeled[order[:n]]


# -- diversity --------------------------------------------------------------------------------


@register_strategy("kcenter", category="diversity")
class KCenterGreedy(QueryStrategy):
    """Greedy k-center (core-set, Sener & Savarese 2018): repeatedly take the candidate farthest
    (Euclidean, on the features) from every labeled or already chosen row. With no labeled rows
    the first pick is a seeded random candidate."""

    summary = "Greedy k-center core-set: farthest from everything labeled (no model)."

    needs_model = False

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        X = np.asarray(features[unlabeled], dtype=np.float64)
        chosen: list[int] = []
        if len(labeled):
            dist = _min_sq_dist(X, np.asarray(features[labeled], dtype=np.float64))
        else:
            first = int(rng.integers(len(unlabeled)))
            chosen.append(first)
            dist = _min_sq_dist(X, X[[first]])
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


# -- hybrid -----------------------------------------------------------------------------------


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

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        X = np.asarray(features[unlabeled], dtype=np.float64)
        X = np.hstack([X, np.ones((len(X), 1))])
        P = predict_proba(model, X[:, :-1], self.name)
        A = P.copy()
        A[np.arange(len(A)), P.argmax(axis=1)] -= 1.0
        aa = _sq_norms(A)
        xx = _sq_norms(X)
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

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        import warnings

        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning

        X = np.asarray(features[unlabeled])
        uncertainty = -_margin(predict_proba(model, X, self.name))
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


@register_strategy("active-transfer", category="hybrid")
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
        return np.hstack([X, P.max(axis=1)[:, None], _margin(P)[:, None], _entropy(P)[:, None]])

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import KFold, StratifiedKFold
        from sklearn.preprocessing import StandardScaler

        X_pool = np.asarray(features[unlabeled], dtype=np.float64)
        P_pool = predict_proba(model, X_pool, self.name)
        classes = np.unique(y)
        X_lab = np.asarray(features[labeled], dtype=np.float64)
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
                P_oof[test] = _proba_full(member, X_lab[test], classes, self.name)
                wrong[test] = (classes[P_oof[test].argmax(axis=1)] != y[test]).astype(int)
        done = wrong >= 0
        n_wrong, n_right = int((wrong[done] == 1).sum()), int((wrong[done] == 0).sum())
        if n_wrong < 2 or n_right < 2:
            log.info(
                "active-transfer: %d wrong / %d right held-out predictions; using margin instead",
                n_wrong,
                n_right,
            )
            return top_n(unlabeled, -_margin(P_pool), n, rng)
        P_pool_full = np.zeros((len(unlabeled), len(classes)))
        P_pool_full[:, np.searchsorted(classes, np.asarray(model.classes_))] = P_pool
        scaler = StandardScaler().fit(self._meta(X_lab[done], P_oof[done]))
        error_model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
        error_model.fit(scaler.transform(self._meta(X_lab[done], P_oof[done])), wrong[done])
        p_wrong = error_model.predict_proba(scaler.transform(self._meta(X_pool, P_pool_full)))[:, 1]
        return top_n(unlabeled, p_wrong, n, rng)


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

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        if self.n_clusters is not None:
            wanted = self.n_clusters
        else:
            wanted = 1 << (len(labeled) + n - 1).bit_length()  # the next power of two
        return self._pick(features, labeled, unlabeled, n, wanted)

    def _pick(
        self,
        features: np.ndarray,
        labeled: np.ndarray,
        unlabeled: np.ndarray,
        n: int,
        wanted: int,
    ) -> np.ndarray:
        """The batch from a clustering into ``wanted`` clusters (capped by ``max_clusters`` and
        the pool size)."""
        k = max(1, min(wanted, self.max_clusters, len(features)))
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

    def _query(self, model, features, labeled, unlabeled, y, n, rng, *, n_classes):  # type: ignore[no-untyped-def]
        switch = self.per_class * n_classes
        if len(labeled) >= switch:
            return self._margin._query(model, features, labeled, unlabeled, y, n, rng)
        return self._typical._pick(features, labeled, unlabeled, n, max(switch, n))


# -- cold start -------------------------------------------------------------------------------


@register_strategy("cold-start", category="cold-start")
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

    summary = "No labels needed: the example nearest each k-means centre."

    needs_model = False

    def __init__(self, max_fit: int = 10000, n_init: int = 3) -> None:
        self.max_fit = int(max_fit)
        self.n_init = int(n_init)

    def _query(self, model, features, labeled, unlabeled, y, n, rng):  # type: ignore[no-untyped-def]
        import warnings

        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning

        X = np.asarray(features[unlabeled], dtype=np.float64)
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
        d = _sq_norms(X)[:, None] - 2.0 * (X @ centres.T) + _sq_norms(centres)[None, :]
        chosen: list[int] = []
        taken = np.zeros(len(X), dtype=bool)
        for c in np.lexsort((np.arange(n), -sizes)):
            col = d[:, c].copy()
            col[taken] = np.inf
            i = int(np.argmin(col))
            chosen.append(i)
            taken[i] = True
        return unlabeled[np.asarray(chosen)]


# -- wrapper ----------------------------------------------------------------------------------


@register_strategy("subsample", category="wrapper")
class Subsample(QueryStrategy):
    """Run another strategy on a seeded random subset of a large pool (for speed): when there
    are more than ``size`` candidates, ``size`` of them are drawn uniformly (with the query's
    seed) and only those are scored.

    Parameters
    ----------
    base: the wrapped strategy (a name or an instance).
    size: at most this many candidates are scored.
    base_params: parameters for ``base`` when it is given by name (``get_strategy`` also
        passes any other keyword to ``base``).
    """

    summary = "Runs another strategy on a seeded random subset of a large pool."

    def __init__(
        self,
        base: str | QueryStrategy = "margin",
        size: int = 10000,
        base_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(base, dict):  # a spec() read back from JSON
            base_params = dict(base.get("params", {}))
            base = str(base["name"])
        params = {**(base_params or {}), **kwargs}
        self.base = get_strategy(base, **params)
        if int(size) < 1:
            raise ConfigError(f"subsample size must be at least 1, got {size}.")
        self.size = int(size)

    @property
    def needs_model(self) -> bool:  # type: ignore[override]
        return self.base.needs_model

    @property
    def needs_proba(self) -> bool:  # type: ignore[override]
        return self.base.needs_proba

    @property
    def uses_n_classes(self) -> bool:  # type: ignore[override]
        return self.base.uses_n_classes

    def get_params(self) -> dict[str, Any]:
        return {"base": self.base, "size": self.size}

    def _query(self, model, features, labeled, unlabeled, y, n, rng, **extra):  # type: ignore[no-untyped-def]
        if len(unlabeled) > max(self.size, n):
            unlabeled = np.sort(rng.choice(unlabeled, size=max(self.size, n), replace=False))
        return self.base._query(model, features, labeled, unlabeled, y, n, rng, **extra)
