"""Query strategies: which unlabeled examples to label next.

Every strategy is one object with one method (the style of small-text), reading a
:class:`QueryContext`::

    strategy.query(ctx)  # ctx: model, embed(rows), n_pool, labeled, unlabeled, y, n, rng, ...

A context holds everything a strategy may read: the current head (``model``, ``None`` before
one can be fit), ``embed(rows)`` (the features of pool rows; by default rows of one fixed
matrix), the labeled rows and their labels ``y``, the candidate rows ``unlabeled``, the batch
size ``n``, the query's ``rng``, the size of the label set ``n_classes`` and the ``task``. It is
checked once when built: indices in range, disjoint, each candidate once; ``1 <= n <=
len(unlabeled)``; one label per labeled row. A pool given as one feature matrix has a shortcut
with small-text's positional arguments::

    strategy.query_features(model, features, indices_labeled, indices_unlabeled, y_labeled, n,
                            seed=0, n_classes=None)

``query`` returns an ``int64`` array of ``n`` distinct members of ``unlabeled``, most wanted
first. Ties in a score are broken by a seeded random permutation of the candidates (not by
position: datasets are often sorted by label, so "lowest index first" would bias a batch toward
one class); with the same seed the order is fully deterministic. A strategy that needs a model
refuses a context without one, and one that needs class probabilities raises a
:class:`~littledata.errors.ConfigError` naming the alternatives when the head has no
``predict_proba``. Composite strategies (``subsample``, ``typiclust-margin``) call the strategies
they combine through ``query(ctx)`` (or a public method such as :meth:`TypiClust.pick`).

Modules, by family: :mod:`.base` (the context and the interface), :mod:`.registry`
(:data:`STRATEGIES`, :func:`register_strategy`, :func:`get_strategy`, the categories),
:mod:`.scoring` (shared helpers), :mod:`.baseline`, :mod:`.uncertainty`, :mod:`.disagreement`,
:mod:`.diversity`, :mod:`.hybrid`, :mod:`.coldstart`, :mod:`.wrappers`.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.array([[-2.0], [-1.0], [-0.1], [0.2], [1.0], [2.0]])
>>> model = LogisticRegression().fit(X[[0, 5]], [0, 1])
>>> ctx = QueryContext.from_features(model, X, [0, 5], [1, 2, 3, 4], [0, 1], 2, seed=0)
>>> get_strategy("margin").query(ctx)
array([2, 3])
>>> get_strategy("margin").query_features(model, X, [0, 5], [1, 2, 3, 4], [0, 1], 2, seed=0)
array([2, 3])
"""

from __future__ import annotations

# Importing the family modules registers their strategies.
from littledata.active.strategies.base import (
    TASKS,
    FixedFeatures,
    QueryContext,
    QueryStrategy,
    SeedLike,
    _check_n,
    as_rng,
    predict_proba,
)
from littledata.active.strategies.baseline import RandomSampling
from littledata.active.strategies.coldstart import ColdStart
from littledata.active.strategies.disagreement import Committee
from littledata.active.strategies.diversity import KCenterGreedy, TypiClust
from littledata.active.strategies.hybrid import (
    ActiveTransfer,
    Badge,
    ClusterMargin,
    TypiClustMargin,
)
from littledata.active.strategies.registry import (
    ALIASES,
    CATEGORIES,
    RANKING_CATEGORIES,
    STRATEGIES,
    StrategyInfo,
    get_strategy,
    list_strategies,
    register_strategy,
    strategy_names,
)
from littledata.active.strategies.scoring import member_clone, top_n
from littledata.active.strategies.uncertainty import (
    EntropySampling,
    LeastConfidence,
    MarginSampling,
)
from littledata.active.strategies.views import WordRows
from littledata.active.strategies.wrappers import Subsample

__all__ = [
    "ALIASES",
    "CATEGORIES",
    "RANKING_CATEGORIES",
    "STRATEGIES",
    "TASKS",
    "ActiveTransfer",
    "Badge",
    "ClusterMargin",
    "ColdStart",
    "Committee",
    "EntropySampling",
    "FixedFeatures",
    "KCenterGreedy",
    "LeastConfidence",
    "MarginSampling",
    "QueryContext",
    "QueryStrategy",
    "RandomSampling",
    "SeedLike",
    "StrategyInfo",
    "Subsample",
    "TypiClust",
    "TypiClustMargin",
    "WordRows",
    "_check_n",
    "as_rng",
    "get_strategy",
    "list_strategies",
    "member_clone",
    "predict_proba",
    "register_strategy",
    "strategy_names",
    "top_n",
]
