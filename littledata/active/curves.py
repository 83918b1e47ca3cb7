"""Label-efficiency numbers and summaries of simulated active-learning runs.

- AULC (:func:`aulc`): the area under the accuracy-vs-labels curve by the trapezoid rule over the
  label range ``[init, budget]``, divided by the range's length, i.e. the mean accuracy over the
  range (between 0 and 1; a curve at 1.0 everywhere scores 1.0). Computed per seed, then
  mean ± std.
- accuracy at the budget: the last point of each seed's curve, mean ± std.
- labels to 95% (:func:`labels_to_reach`): the first number of labels at which the seed-averaged
  curve reaches 95% of the reference accuracy (NaN: not reached within the budget).

:func:`learning_curves` and :func:`summarize` read the long-format frame of
:meth:`littledata.experiments.store.ResultsStore.frame` (kind ``"active"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GROUP_COLUMNS",
    "aulc",
    "curve_metric",
    "group_columns",
    "labels_to_reach",
    "learning_curves",
    "run_rows",
    "summarize",
]

GROUP_COLUMNS = ("dataset", "featurizer", "head", "init_strategy", "init", "batch", "budget")
"""Config fields that make one comparison (one figure, one table block); strategy varies in it."""


def aulc(x: Sequence[float], y: Sequence[float]) -> float:
    """Area under a learning curve, normalised by its label range.

    The trapezoid rule over the points ``(x, y)`` (sorted by ``x``), divided by
    ``max(x) - min(x)``: the mean of ``y`` over the range under linear interpolation, so an
    accuracy curve gives a number in [0, 1]. A single point gives its ``y``.

    >>> aulc([20, 30, 40], [0.5, 0.7, 0.7])
    0.65
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xs) == 0:
        return math.nan
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if len(xs) == 1 or xs[-1] == xs[0]:
        return float(ys.mean())
    area = float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2.0))
    return area / float(xs[-1] - xs[0])


def labels_to_reach(x: Sequence[float], y: Sequence[float], target: float) -> float:
    """The smallest ``x`` whose ``y`` is at least ``target`` (NaN when no point reaches it).

    >>> labels_to_reach([20, 30, 40, 50], [0.5, 0.72, 0.69, 0.8], 0.7)
    30.0
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(xs, kind="stable")
    hit = np.flatnonzero(ys[order] >= target)
    return float(xs[order][hit[0]]) if len(hit) else math.nan


# -- summaries --------------------------------------------------------------------------------


def run_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of simulated runs (without the reference trials)."""
    if "role" in frame.columns:
        frame = frame[frame["role"] == "run"]
    return frame


def group_columns(frame: pd.DataFrame) -> list[str]:
    """The :data:`GROUP_COLUMNS` present in ``frame``."""
    return [c for c in GROUP_COLUMNS if c in frame.columns]


def learning_curves(frame: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Seed-averaged curves: one row per group, strategy and ``x`` with ``mean``, ``std``
    (population std over seeds; 0 for one seed) and ``n`` (seeds)."""
    import pandas as pd

    runs = run_rows(frame)
    runs = runs[runs["metric"] == metric]
    cols = [*group_columns(runs), "strategy"]
    if runs.empty:
        return pd.DataFrame(columns=[*cols, "x", "mean", "std", "n"])
    out = (
        runs.groupby([*cols, "x"], dropna=False)["value"]
        .agg(mean="mean", std=lambda v: float(np.std(v)), n="count")
        .reset_index()
    )
    return out


def curve_metric(frame: pd.DataFrame) -> str:
    """The primary metric of the runs in ``frame``: their ``curve_metric`` config field
    (multi-label runs: ``macro_f1``), ``accuracy`` for runs without one."""
    if "curve_metric" in frame.columns:
        values = frame["curve_metric"].dropna().unique()
        if len(values):
            return str(values[0])
    return "accuracy"


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group and strategy: the curve's ``metric`` (:func:`curve_metric`; the columns named
    ``accuracy`` hold it: macro-F1 over labels for multi-label runs), seeds, AULC, accuracy at
    the budget (mean and std over seeds), the same two for macro-F1 (means; more telling than
    accuracy on imbalanced data),
    the reference accuracy, labels to reach 95% of it (on the seed-averaged curve), how many
    seeds the stopping criterion fired in, the mean labels and accuracy where it fired, the
    highest windowed mean kappa a run reached (``stop_signal_max``, mean over seeds: how close
    a run that did not stop came to the threshold), and the
    median seconds to choose a batch (refitting the head + the query), ``seconds_per_query``."""
    import pandas as pd

    runs = run_rows(frame)
    cols = [*group_columns(runs), "strategy"]
    columns = [
        *cols,
        "metric",
        "seeds",
        "aulc",
        "aulc_std",
        "accuracy_at_budget",
        "accuracy_at_budget_std",
        "macro_f1_aulc",
        "macro_f1_at_budget",
        "reference_accuracy",
        "labels_to_95",
        "stopped",
        "stop_labels",
        "stop_accuracy",
        "stop_signal_max",
        "seconds_per_query",
    ]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    records = []
    for group, part in runs.groupby(cols, dropna=False, sort=True):
        metric = curve_metric(part)
        acc = part[part["metric"] == metric]
        per_seed = [
            (aulc(s["x"], s["value"]), float(s.sort_values("x")["value"].iloc[-1]))
            for _, s in acc.groupby("key")
        ]
        au = np.array([a for a, _ in per_seed])
        last = np.array([b for _, b in per_seed])
        mean_curve = acc.groupby("x")["value"].mean()
        f1 = part[part["metric"] == "macro_f1"]
        f1_runs = [
            (aulc(r["x"], r["value"]), r.sort_values("x")["value"].iloc[-1])
            for _, r in f1.groupby("key")
        ]
        ref = part.loc[part["metric"] == f"reference_{metric}", "value"]
        reference = float(ref.iloc[0]) if len(ref) else math.nan
        target = 0.95 * reference
        stopped = part.loc[part["metric"] == "stopped", "value"]
        stop_labels = part.loc[part["metric"] == "stop_labels", "value"].dropna()
        stop_acc = part.loc[part["metric"] == f"stop_{metric}", "value"].dropna()
        qsec = part.loc[part["metric"] == "round_seconds", "value"]
        signal_max = []
        for _, run in part[part["metric"] == "stop_kappa"].groupby("key"):
            window = int(run["stop_window"].iloc[0]) if "stop_window" in run else 3
            rolled = run.sort_values("x")["value"].rolling(window).mean().max()
            if not math.isnan(rolled):
                signal_max.append(float(rolled))
        records.append(
            {
                **dict(zip(cols, group if isinstance(group, tuple) else (group,), strict=True)),
                "metric": metric,
                "seeds": len(per_seed),
                "aulc": float(au.mean()) if len(au) else math.nan,
                "aulc_std": float(au.std()) if len(au) else math.nan,
                "accuracy_at_budget": float(last.mean()) if len(last) else math.nan,
                "accuracy_at_budget_std": float(last.std()) if len(last) else math.nan,
                "macro_f1_aulc": float(np.mean([a for a, _ in f1_runs])) if f1_runs else math.nan,
                "macro_f1_at_budget": (
                    float(np.mean([b for _, b in f1_runs])) if f1_runs else math.nan
                ),
                "reference_accuracy": reference,
                "labels_to_95": (
                    labels_to_reach(mean_curve.index, mean_curve.values, target)
                    if not math.isnan(reference)
                    else math.nan
                ),
                "stopped": int(stopped.sum()) if len(stopped) else 0,
                "stop_labels": float(stop_labels.mean()) if len(stop_labels) else math.nan,
                "stop_accuracy": float(stop_acc.mean()) if len(stop_acc) else math.nan,
                "stop_signal_max": float(np.mean(signal_max)) if signal_max else math.nan,
                "seconds_per_query": float(qsec.median()) if len(qsec) else math.nan,
            }
        )
    return pd.DataFrame.from_records(records, columns=columns)
