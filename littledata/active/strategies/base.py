"""The query-strategy interface: :class:`QueryContext` (everything a strategy may read) and
:class:`QueryStrategy` (one method, ``query(ctx)``), with the input checks they share.

A strategy reads the pool through the context, never through a matrix it is handed: the
features of rows come from ``ctx.embed(rows)`` (by default rows of a fixed feature matrix; an
encoder being fine-tuned would embed them anew), class probabilities from ``ctx.proba(rows)``.
A new need (another task type, token features, a second view of the data) is a new context
field, not a new argument of every strategy.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from littledata.active.strategies.views import TASKS, WordRows, aggregate, default_aggregate
from littledata.errors import ConfigError, DataFormatError

__all__ = [
    "TASKS",
    "FixedFeatures",
    "QueryContext",
    "QueryStrategy",
    "SeedLike",
    "as_rng",
    "predict_proba",
]

SeedLike = int | np.random.Generator | None


def as_rng(seed: SeedLike) -> np.random.Generator:
    """Return a Generator for ``seed`` (an int, a Generator passed through, ``None`` means 0)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(0 if seed is None else seed)


# -- input checks -----------------------------------------------------------------------------


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


# -- the context ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FixedFeatures:
    """The default ``embed``: rows of one feature matrix that does not change between queries.

    ``FixedFeatures(X)(rows) == X[rows]``; :meth:`QueryContext.pool_features` returns ``X``
    itself, so a strategy can cache work on the whole pool (a clustering) by its identity.
    """

    matrix: np.ndarray

    def __post_init__(self) -> None:
        _as_matrix(self.matrix)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        return self.matrix[rows]


@dataclass(frozen=True, eq=False)
class QueryContext:
    """Everything a query strategy may read, checked once when it is built.

    Attributes
    ----------
    model: the current head, fitted on ``embed(labeled)`` and ``y`` (``None`` before a head can
        be fit; strategies with ``needs_model`` refuse it).
    embed: ``embed(rows) -> (len(rows), d)`` features of pool rows; :class:`FixedFeatures` for a
        fixed matrix (what :meth:`from_features` builds).
    n_pool: the number of pool rows; indices are ``0 .. n_pool - 1``.
    labeled: int64 rows already labeled (may be empty).
    unlabeled: int64 candidate rows, disjoint from ``labeled``, each once.
    y: the labels of ``labeled``, in the same order.
    n: how many rows to return, ``1 <= n <= len(unlabeled)``.
    rng: the query's random generator (an int or ``None`` is turned into one); the same state
        gives the same answer.
    n_classes: the size of the label set (classes nobody labeled yet included), or ``None``;
        checked by the strategies that read it (``uses_n_classes``).
    words: for ``task="sequence-labeling"`` (and only then), the pool's word features
        (:class:`~littledata.active.strategies.views.WordRows`); ``embed`` then gives one
        vector per sentence (the learner's: the mean of its words), for strategies that read
        the pool's features.
    task: what the strategies see of the task type, one of :data:`TASKS` (``"single-label"``,
        ``"multi-label"``, ``"sequence-labeling"``; ``TaskType.query_task``): it gives the
        uncertainty strategies their meaning (:meth:`uncertainty`,
        :mod:`littledata.active.strategies.views`), and a strategy refuses a task it does not
        handle (``QueryStrategy.tasks``).

    Raises
    ------
    ConfigError: ``n`` is not in ``1..len(unlabeled)`` or an unknown ``task``.
    DataFormatError: indices out of range, repeated or in both sets, or ``y`` not one label per
        labeled row.
    """

    model: Any
    embed: Callable[[np.ndarray], np.ndarray]
    n_pool: int
    labeled: np.ndarray
    unlabeled: np.ndarray
    y: np.ndarray
    n: int
    rng: np.random.Generator
    n_classes: int | None = None
    task: str = "single-label"
    words: WordRows | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise the fields once, here
        labeled = _as_indices(self.labeled, self.n_pool, "indices_labeled")
        unlabeled = _as_indices(self.unlabeled, self.n_pool, "indices_unlabeled")
        y = np.asarray(self.y)
        if len(y) != len(labeled):
            raise DataFormatError(
                f"y_labeled has {len(y)} labels but indices_labeled has {len(labeled)} rows; "
                "give one label per labeled row, in the same order."
            )
        n = _check_n(self.n, len(unlabeled))
        if len(np.unique(unlabeled)) != len(unlabeled):
            raise DataFormatError("indices_unlabeled holds the same row twice; pass each once.")
        if len(labeled) and np.isin(unlabeled, labeled).any():
            both = unlabeled[np.isin(unlabeled, labeled)][:5].tolist()
            raise DataFormatError(
                f"Rows {both} are in both indices_labeled and indices_unlabeled; a row is either "
                "labeled or a candidate."
            )
        if self.task not in TASKS:
            raise ConfigError(
                f"Unknown task {self.task!r} for a query; the strategies handle: "
                f"{', '.join(TASKS)}."
            )
        if (self.task == "sequence-labeling") != (self.words is not None):
            raise ConfigError(
                "A sequence-labeling query needs the pool's word features (words=WordRows(...)), "
                "and only a sequence-labeling query reads them."
            )
        if self.words is not None and len(self.words.lengths) != self.n_pool:
            raise DataFormatError(
                f"words describes {len(self.words.lengths)} sentences but the pool has "
                f"{self.n_pool} rows."
            )
        put(self, "labeled", labeled)
        put(self, "unlabeled", unlabeled)
        put(self, "y", y)
        put(self, "n", n)
        put(self, "rng", as_rng(self.rng))

    @classmethod
    def from_features(
        cls,
        model: Any,
        features: np.ndarray,
        indices_labeled: Sequence[int] | np.ndarray,
        indices_unlabeled: Sequence[int] | np.ndarray,
        y_labeled: Sequence[Any] | np.ndarray,
        n: int,
        *,
        seed: SeedLike = 0,
        n_classes: int | None = None,
        task: str = "single-label",
        words: WordRows | None = None,
    ) -> QueryContext:
        """The context of a pool with one fixed feature matrix ``features`` ``(n_pool, d)``
        (for sentences, one vector per sentence; ``words``: their word features)."""
        features = _as_matrix(features)
        return cls(
            model=model,
            embed=FixedFeatures(features),
            n_pool=len(features),
            labeled=indices_labeled,  # type: ignore[arg-type]
            unlabeled=indices_unlabeled,  # type: ignore[arg-type]
            y=y_labeled,  # type: ignore[arg-type]
            n=n,
            rng=seed,  # type: ignore[arg-type]
            n_classes=n_classes,
            task=task,
            words=words,
        )

    def replace(self, **changes: Any) -> QueryContext:
        """A copy with ``changes`` (checked again), e.g. fewer candidates; the rng is shared."""
        return dataclasses.replace(self, **changes)

    def pool_features(self) -> np.ndarray:
        """The features of every pool row. With :class:`FixedFeatures` this is the matrix
        itself (the same object in every query of a session), else ``embed(all rows)``."""
        if isinstance(self.embed, FixedFeatures):
            return self.embed.matrix
        return self.embed(np.arange(self.n_pool))

    def proba(self, rows: np.ndarray, strategy: str = "this strategy") -> np.ndarray:
        """``model.predict_proba(embed(rows))`` as float64; a head without ``predict_proba``
        raises a :class:`~littledata.errors.ConfigError` naming ``strategy`` and the
        alternatives."""
        return predict_proba(self.model, np.asarray(self.embed(rows)), strategy)

    def uncertainty(
        self,
        rows: np.ndarray,
        score: Callable[[np.ndarray], np.ndarray],
        strategy: str = "this strategy",
        how: str | None = None,
    ) -> np.ndarray:
        """One uncertainty score per row of ``rows``: ``score`` (higher is more uncertain) of
        each class distribution the task's view gives a row (one for single-label, one binary
        distribution per label around its threshold for multi-label), aggregated per row by
        ``how`` (``"mean"`` or ``"max"``; ``None``: the task's default). See
        :mod:`littledata.active.strategies.views`."""
        from littledata.active.strategies.views import uncertainty_parts

        if self.words is not None:  # sentences: the head scores each word
            X, owner = self.words(rows)
            proba = predict_proba(self.model, X, strategy)
        else:
            proba, owner = self.proba(rows, strategy), np.arange(len(rows))
        parts, owner = uncertainty_parts(self.task, self.model, proba, owner)
        return aggregate(score(parts), owner, len(rows), how or default_aggregate(self.task))


# -- the interface ----------------------------------------------------------------------------


class QueryStrategy:
    """Base class of every strategy; subclasses implement :meth:`_query`.

    Class attributes describe a strategy for listings and checks: ``name``, ``category``
    (``"baseline"``, ``"uncertainty"``, ``"disagreement"``, ``"diversity"``, ``"hybrid"``,
    ``"cold-start"``, ``"wrapper"``), ``needs_model``, ``needs_proba``, ``uses_n_classes``.
    """

    name: ClassVar[str] = ""
    category: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    """One line for listings."""
    needs_model: ClassVar[bool] = True
    needs_proba: ClassVar[bool] = False
    tasks: ClassVar[tuple[str, ...]] = ("single-label",)
    """The task types (:data:`TASKS`) the strategy handles."""
    uses_n_classes: ClassVar[bool] = False
    """Whether the strategy reads ``ctx.n_classes`` (the size of the label set)."""

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

    def supports(self, task: str) -> bool:
        """Whether the strategy handles the task type ``task`` (one of :data:`TASKS`)."""
        return task in self.tasks

    def query(self, ctx: QueryContext) -> np.ndarray:
        """Return ``ctx.n`` distinct rows of ``ctx.unlabeled``, most wanted first (``int64``).

        Raises
        ------
        ConfigError: the strategy does not handle ``ctx.task``.
        ConfigError: the strategy needs a model (or class probabilities) that ``ctx`` lacks, or
            ``ctx.n_classes`` is missing where the strategy needs it or smaller than the number
            of labels seen.
        """
        if not self.supports(ctx.task):
            raise ConfigError(
                f"Strategy {self.name!r} does not handle {ctx.task} data (it handles "
                f"{', '.join(self.tasks)}); 'littledata active strategies' lists what each "
                "strategy handles."
            )
        if self.needs_model and ctx.model is None:
            raise ConfigError(
                f"Strategy {self.name!r} needs the current model (a head fitted on the labeled "
                "rows); with no labels yet use 'cold-start' or 'random' for the first batch."
            )
        if self.uses_n_classes:
            _check_n_classes(ctx.n_classes, ctx.y, self.name)
        chosen = np.asarray(self._query(ctx), dtype=np.int64)
        # Internal guarantee: n distinct candidates (cheap, and it protects every caller).
        n = ctx.n
        if (
            len(chosen) != n
            or len(np.unique(chosen)) != n
            or not np.isin(chosen, ctx.unlabeled).all()
        ):
            raise AssertionError(f"strategy {self.name!r} returned an invalid batch: {chosen}")
        return chosen

    def query_features(
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
        """Convenience: ``query(QueryContext.from_features(...))`` for a pool given as one
        feature matrix ``(n_pool, d)`` (small-text's positional call).

        Raises what :class:`QueryContext` and :meth:`query` raise.
        """
        ctx = QueryContext.from_features(
            model,
            features,
            indices_labeled,
            indices_unlabeled,
            y_labeled,
            n,
            seed=seed,
            n_classes=n_classes,
        )
        return self.query(ctx)

    def _query(self, ctx: QueryContext) -> np.ndarray:
        """The strategy itself: ``ctx.n`` rows of ``ctx.unlabeled`` (``ctx`` is checked)."""
        raise NotImplementedError
