"""Wrappers: strategies that run another strategy."""

from __future__ import annotations

from typing import Any

import numpy as np

from littledata.active.strategies.base import QueryContext, QueryStrategy
from littledata.active.strategies.registry import get_strategy, register_strategy
from littledata.errors import ConfigError

__all__ = ["Subsample"]


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

    def supports(self, task: str) -> bool:
        return self.base.supports(task)

    @property
    def uses_n_classes(self) -> bool:  # type: ignore[override]
        return self.base.uses_n_classes

    def get_params(self) -> dict[str, Any]:
        return {"base": self.base, "size": self.size}

    def _query(self, ctx: QueryContext) -> np.ndarray:
        if len(ctx.unlabeled) > max(self.size, ctx.n):
            size = max(self.size, ctx.n)
            ctx = ctx.replace(
                unlabeled=np.sort(ctx.rng.choice(ctx.unlabeled, size=size, replace=False))
            )
        return self.base.query(ctx)
