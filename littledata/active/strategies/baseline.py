"""The baseline: uniform random sampling."""

from __future__ import annotations

import numpy as np

from littledata.active.strategies.base import QueryContext, QueryStrategy
from littledata.active.strategies.registry import register_strategy
from littledata.active.strategies.views import TASKS

__all__ = ["RandomSampling"]


@register_strategy("random", category="baseline")
class RandomSampling(QueryStrategy):
    """Uniform random sampling from the pool: the baseline every other strategy must beat."""

    tasks = TASKS  # reads no labels and no model

    summary = "Uniform random rows: the baseline."

    needs_model = False

    def _query(self, ctx: QueryContext) -> np.ndarray:
        return ctx.rng.choice(ctx.unlabeled, size=ctx.n, replace=False)
