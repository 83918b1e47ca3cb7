"""Which differences between methods are real: paired margins and the Friedman/Nemenyi test.

:func:`paired_margin` compares two methods on the trials they share (same dataset, training size
and seed, hence the same training rows): the mean difference of a metric and its confidence
interval (Student's t over the paired differences across datasets × seeds).

:func:`critical_difference` follows Demšar (2006), "Statistical comparisons of classifiers over
multiple data sets", JMLR 7: the methods are ranked on each dataset (by their mean over seeds),
the Friedman test asks whether the mean ranks differ at all, and the Nemenyi post-hoc test calls
two methods different when their mean ranks differ by more than the critical difference
``CD = q_alpha * sqrt(k (k + 1) / (6 N))`` (``k`` methods, ``N`` datasets; ``q_alpha`` is the
studentized range quantile for ``k`` groups and infinite degrees of freedom, divided by
``sqrt(2)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from littledata.experiments.results import higher_is_better, method_label

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CriticalDifference", "Margin", "critical_difference", "paired_margin"]


@dataclass(frozen=True)
class Margin:
    """How much ``best`` beats ``other`` on paired trials (positive: ``best`` is better)."""

    best: str
    other: str
    mean: float
    low: float
    high: float
    n_pairs: int
    n_datasets: int
    confidence: float = 0.95


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    for col, default in (("resampling", "none"), ("size_mode", "total")):
        if col not in frame.columns:
            frame = frame.assign(**{col: default})
    labels = [
        method_label(f, h, r)
        for f, h, r in zip(frame["featurizer"], frame["head"], frame["resampling"], strict=True)
    ]
    return frame.assign(method=labels)


def paired_margin(
    frame: pd.DataFrame,
    metric: str,
    size: int,
    best: str,
    other: str,
    *,
    size_mode: str = "total",
    confidence: float = 0.95,
) -> Margin | None:
    """The mean paired difference ``best - other`` of ``metric`` at ``size`` (sign turned so that
    positive means ``best`` is better for a metric where lower is better), with its
    ``confidence`` interval over the (dataset, seed) pairs both methods have; ``None`` without
    a pair. ``frame``: long-format trials (:meth:`ResultsStore.frame`); methods are named by
    :func:`~littledata.experiments.results.method_label`."""
    from scipy import stats

    frame = _labelled(frame)
    sub = frame[
        (frame["metric"] == metric)
        & (frame["size"] == size)
        & (frame["size_mode"] == size_mode)
        & frame["method"].isin([best, other])
    ]
    if sub.empty:
        return None
    wide = sub.pivot_table(index=["dataset", "seed"], columns="method", values="value")
    if best not in wide or other not in wide:
        return None
    pairs = wide[[best, other]].dropna()
    if pairs.empty:
        return None
    sign = 1.0 if higher_is_better(metric) else -1.0
    diff = sign * (pairs[best] - pairs[other]).to_numpy(dtype=float)
    mean = float(diff.mean())
    n = len(diff)
    if n > 1:
        sem = float(diff.std(ddof=1)) / math.sqrt(n)
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem
    else:
        half = float("nan")
    n_datasets = int(pairs.index.get_level_values("dataset").nunique())
    return Margin(best, other, mean, mean - half, mean + half, n, n_datasets, confidence)


@dataclass(frozen=True)
class CriticalDifference:
    """The Friedman test and Nemenyi critical difference of methods over datasets at one size."""

    ranks: dict[str, float]
    """Mean rank per method (1 = best), best first."""
    n_datasets: int
    statistic: float
    p_value: float
    cd: float
    alpha: float = 0.05
    left_out: list[str] = field(default_factory=list)
    """Methods left out because they did not run on every dataset the others ran on."""

    def groups(self) -> list[tuple[str, str]]:
        """Maximal runs of methods (in rank order) whose mean ranks differ by less than the CD:
        ``(first, last)`` of each run that holds more than one method."""
        names = list(self.ranks)
        out: list[tuple[str, str]] = []
        last_end = -1
        for i, name in enumerate(names):
            j = i
            while j + 1 < len(names) and self.ranks[names[j + 1]] - self.ranks[name] < self.cd:
                j += 1
            if j > i and j > last_end:
                out.append((name, names[j]))
                last_end = j
        return out

    def differ(self, a: str, b: str) -> bool:
        """Whether the Nemenyi test tells ``a`` and ``b`` apart."""
        return abs(self.ranks[a] - self.ranks[b]) >= self.cd


def critical_difference(
    agg: pd.DataFrame,
    metric: str,
    size: int,
    *,
    size_mode: str = "total",
    alpha: float = 0.05,
) -> CriticalDifference | None:
    """Friedman test and Nemenyi critical difference (Demšar 2006) at ``size``.

    ``agg``: :func:`~littledata.experiments.results.aggregate` output (means over seeds). The
    methods compared are those that ran on every dataset where the most methods ran (a complete
    block design); ``None`` with fewer than 3 methods or 2 datasets.
    """
    import numpy as np
    from scipy import stats

    agg = _labelled(agg)
    sub = agg[(agg["metric"] == metric) & (agg["size"] == size) & (agg["size_mode"] == size_mode)]
    sub = sub[sub["mean"].notna()]
    if sub.empty:
        return None
    table = sub.pivot_table(index="dataset", columns="method", values="mean")
    # keep the methods that ran everywhere, on the datasets all of them ran on
    coverage = table.notna().sum()
    full = [str(m) for m in table.columns if coverage[m] == coverage.max()]
    left_out = sorted(str(m) for m in table.columns if str(m) not in full)
    table = table[full].dropna()
    k, n = table.shape[1], table.shape[0]
    if k < 3 or n < 2:
        return None
    values = table.to_numpy(dtype=float)
    if higher_is_better(metric):
        values = -values
    ranks = np.apply_along_axis(stats.rankdata, 1, values)
    mean_ranks = dict(zip(table.columns.astype(str), ranks.mean(axis=0), strict=True))
    if np.all(values == values[:, :1]):  # identical results: nothing to test
        statistic, p_value = 0.0, 1.0
    else:
        statistic, p_value = stats.friedmanchisquare(*values.T)
    q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    cd = q * math.sqrt(k * (k + 1) / (6.0 * n))
    order = sorted(mean_ranks, key=lambda m: (mean_ranks[m], m))
    return CriticalDifference(
        ranks={m: float(mean_ranks[m]) for m in order},
        n_datasets=n,
        statistic=float(statistic),
        p_value=float(p_value),
        cd=float(cd),
        alpha=alpha,
        left_out=left_out,
    )
