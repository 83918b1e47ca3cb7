"""Active learning: query strategies, the active learner, simulation and label-efficiency numbers.

- :mod:`littledata.active.strategies`: ``get_strategy(name, **params)`` and the strategies.
- :mod:`littledata.active.learner`: :class:`ActiveLearner` (query, teach, model, save/load).
- :mod:`littledata.active.simulate`: the simulated loop on a labeled dataset, AULC and friends.
- :mod:`littledata.active.stopping`: the stabilizing-predictions stopping criterion.
"""

from __future__ import annotations

from littledata.active.learner import ActiveLearner
from littledata.active.stopping import StabilizingPredictions
from littledata.active.strategies import (
    STRATEGIES,
    QueryStrategy,
    get_strategy,
    list_strategies,
    register_strategy,
)

__all__ = [
    "STRATEGIES",
    "ActiveLearner",
    "QueryStrategy",
    "StabilizingPredictions",
    "get_strategy",
    "list_strategies",
    "register_strategy",
]
