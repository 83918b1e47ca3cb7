"""Aggregating benchmark trials: mean, spread and ranks of featurizer × head combinations.

The input is :meth:`ResultsStore.frame("bench") <littledata.experiments.store.ResultsStore.frame>`:
one row per trial and metric. :func:`aggregate` averages over seeds per (dataset, featurizer, head,
resampling, size); :func:`mean_ranks` ranks the combinations within each dataset and size (1 = best)
and averages those ranks across datasets, so a combination that wins everywhere has mean rank 1.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "dataset": ["a"] * 4, "featurizer": ["f"] * 4, "head": ["h"] * 4, "size": [20] * 4,
...     "seed": [0, 1, 2, 3], "metric": ["accuracy"] * 4, "value": [0.5, 0.6, 0.7, 0.8]})
>>> aggregate(frame)[["mean", "std", "n"]].round(3).to_dict("records")
[{'mean': 0.65, 'std': 0.129, 'n': 4}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from littledata.experiments.metrics import LOWER_IS_BETTER

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METHOD_COLUMNS",
    "aggregate",
    "collapse_counts",
    "compare_heads",
    "dataset_metrics",
    "datasets_info",
    "describe_data",
    "head_families",
    "higher_is_better",
    "latest_content",
    "mean_ranks",
    "method_collapses",
    "method_label",
    "newest_protocol",
    "rank_table",
    "recommended",
    "with_task_primary",
]

METHOD_COLUMNS = ("featurizer", "head", "resampling")
"""The columns that together name one method (a featurizer × head, with its resampling)."""

_OPTIONAL_DEFAULTS = {"resampling": "none", "size_mode": "total"}


def higher_is_better(metric: str) -> bool:
    """Whether larger values of ``metric`` are better (accuracy: yes; log loss, seconds: no)."""
    return metric not in LOWER_IS_BETTER


def method_label(featurizer: str, head: str, resampling: str = "none") -> str:
    """A short display name of a method, e.g. ``"minilm + logreg"``."""
    label = f"{featurizer} + {head}"
    return label if resampling in ("none", "", None) else f"{label} ({resampling})"


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    missing = {k: v for k, v in _OPTIONAL_DEFAULTS.items() if k not in frame.columns}
    return frame.assign(**missing) if missing else frame


def group_columns(frame: pd.DataFrame) -> list[str]:
    """The columns :func:`aggregate` groups by (the caps join in when they vary in ``frame``)."""
    cols = ["dataset", *METHOD_COLUMNS, "size_mode", "size"]
    for cap in ("train_pool_cap", "test_cap"):
        if cap in frame.columns and frame[cap].nunique(dropna=False) > 1:
            cols.append(cap)
    return cols


def newest_protocol(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep, in every cell (dataset, method, size), only the trials of the newest trial protocol
    stored for it (the ``protocol`` field of the configuration; see
    :data:`littledata.experiments.runner.PROTOCOL`), so trials made under an older protocol are
    never averaged with newer ones. A frame without the field is returned as it is."""
    if frame.empty or "protocol" not in frame.columns:
        return frame
    frame = _with_defaults(frame)
    version = frame["protocol"].fillna(0)
    cells = [frame[c] for c in group_columns(frame)]
    newest = version.groupby(cells, dropna=False).transform("max")
    return frame[version == newest]


def aggregate(frame: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean, standard deviation, standard error and count per group and metric.

    Parameters
    ----------
    frame: long-format trials (``dataset``, ``featurizer``, ``head``, ``size``, ``metric``,
        ``value``; ``resampling`` and ``size_mode`` default to ``"none"`` and ``"total"``).
    metrics: keep only these metrics (default: all).

    Returns
    -------
    One row per (dataset, featurizer, head, resampling, size_mode, size, metric) with ``mean``,
    ``std`` (sample standard deviation, ddof=1; NaN for one seed), ``sem`` (std / sqrt(n)) and
    ``n`` (trials with a value; NaN values are left out).
    """
    import numpy as np
    import pandas as pd

    frame = _with_defaults(frame)
    if metrics is not None:
        frame = frame[frame["metric"].isin(list(metrics))]
    keys = [*group_columns(frame), "metric"]
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "mean", "std", "sem", "n"])
    values = frame.assign(value=frame["value"].astype("float64"))
    grouped = values.groupby(keys, sort=True, dropna=False)["value"]
    out = grouped.agg(mean="mean", std="std", n="count").reset_index()
    out["n"] = out["n"].astype("int64")
    out["sem"] = out["std"] / np.sqrt(out["n"].where(out["n"] > 0))
    return out[[*keys, "mean", "std", "sem", "n"]]


def with_task_primary(frame: pd.DataFrame, primary: str) -> pd.DataFrame:
    """``frame`` plus, for each dataset whose task does not measure ``primary`` (entity F1 for
    sequence labeling, say), its task's own primary metric copied under the name ``primary``,
    so that one ranking ranks every dataset by its task's primary metric (ranks are taken within
    a dataset, so they stay comparable). Frames without a ``task`` column are returned as
    they are."""
    import pandas as pd

    from littledata.tasks import task_metrics

    if frame.empty or "task" not in frame:
        return frame
    extra = []
    for task, rows in frame.groupby("task", dropna=True):
        own = task_metrics(str(task), [primary])[0]
        if own != primary:
            extra.append(rows[rows["metric"] == own].assign(metric=primary))
    return pd.concat([frame, *extra], ignore_index=True) if extra else frame


def head_families(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Datasets grouped by the heads their tasks take (single-label, sentence pairs and
    multi-label share theirs; sequence labeling has token heads), each family ranked apart: a
    method that runs on one family only is never ranked against the other's methods."""
    from littledata.tasks import TASK_TYPES

    if "task" not in frame:
        return {"single-label": sorted(frame["dataset"].unique())}
    families: dict[str, list[str]] = {}
    for dataset, task in sorted(frame.groupby("dataset")["task"].first().items()):
        task_type = TASK_TYPES.get(str(task))
        family = (task_type.head_task or task_type.name) if task_type else str(task)
        families.setdefault(family, []).append(str(dataset))
    first = "single-label" if "single-label" in families else next(iter(families), "")
    return {first: families.pop(first, []), **families} if families else {}


def family_metric(frame: pd.DataFrame, datasets: Sequence[str], primary: str) -> str:
    """The metric a family of ``datasets`` is ranked by: their tasks' own primary metric when
    they share one (``entity_f1`` for entity tags when ``primary`` is macro-F1), else
    ``primary`` (each dataset's own under that name: :func:`with_task_primary`)."""
    own = {dataset_metrics(frame, d, [primary])[0] for d in datasets}
    return own.pop() if len(own) == 1 else primary


def dataset_metrics(frame: pd.DataFrame, dataset: str, metrics: list[str]) -> list[str]:
    """The report's metrics that ``dataset``'s task measures, its task's primary first."""
    from littledata.tasks import task_metrics

    rows = frame[frame["dataset"] == dataset]
    if "task" not in rows or rows["task"].dropna().empty:
        return metrics
    return task_metrics(str(rows["task"].dropna().iloc[0]), metrics)


def mean_ranks(agg: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rank methods within each dataset and size by mean ``metric``; average ranks across datasets.

    Parameters
    ----------
    agg: the output of :func:`aggregate`.
    metric: the metric to rank by (direction from :func:`higher_is_better`). Ties share the
        average rank.

    Returns
    -------
    One row per (featurizer, head, resampling, size_mode, size) with ``mean_rank`` (1 = best),
    ``n_datasets`` (datasets where the method ran at that size) and ``n_methods`` (the largest
    number of methods ranked together), sorted by size and mean rank.
    """
    import pandas as pd

    agg = _with_defaults(agg)
    sub = agg[(agg["metric"] == metric) & agg["mean"].notna()]
    out_cols = [*METHOD_COLUMNS, "size_mode", "size", "mean_rank", "n_datasets", "n_methods"]
    if sub.empty:
        return pd.DataFrame(columns=out_cols)
    within = [c for c in group_columns(sub) if c not in METHOD_COLUMNS]
    sub = sub.copy()
    sub["rank"] = sub.groupby(within, dropna=False)["mean"].rank(
        ascending=not higher_is_better(metric), method="average"
    )
    sub["n_methods"] = sub.groupby(within, dropna=False)["mean"].transform("count")
    keys = [*METHOD_COLUMNS, "size_mode", "size"]
    out = (
        sub.groupby(keys, dropna=False)
        .agg(
            mean_rank=("rank", "mean"),
            n_datasets=("dataset", "nunique"),
            n_methods=("n_methods", "max"),
        )
        .reset_index()
        .sort_values(["size_mode", "size", "mean_rank"], kind="stable")
        .reset_index(drop=True)
    )
    return out[out_cols]


def _labels(frame: pd.DataFrame) -> list[str]:
    return [
        method_label(f, h, r)
        for f, h, r in zip(frame["featurizer"], frame["head"], frame["resampling"], strict=True)
    ]


def rank_table(ranks: pd.DataFrame, collapses: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pivot :func:`mean_ranks` into a table: one row per method, one column per size, plus the
    mean over sizes (``overall``). The index holds method labels (see :func:`method_label`).

    Rows are sorted by ``overall``, best first; with ``collapses`` (:func:`method_collapses`),
    the methods that had a collapsed trial at any size come after all the others (each group
    sorted by ``overall``), so the first row is never a method whose predictions collapsed
    unless every method's did.
    """
    import pandas as pd

    if ranks.empty:
        return pd.DataFrame()
    ranks = ranks.assign(method=_labels(ranks))
    table = ranks.pivot_table(index="method", columns="size", values="mean_rank", aggfunc="mean")
    table.columns = [int(c) for c in table.columns]
    table["overall"] = table.mean(axis=1)
    table = table.sort_values("overall", kind="stable")
    flagged = _flagged(collapses)
    if flagged:
        order = sorted(range(len(table)), key=lambda i: table.index[i] in flagged)
        table = table.iloc[order]
    return table


def _flagged(collapses: pd.DataFrame | None, size: int | None = None) -> set[str]:
    if collapses is None or collapses.empty:
        return set()
    hit = collapses[collapses["n_collapsed"] > 0]
    if size is not None:
        hit = hit[hit["size"] == size]
    return set(hit["method"])


def recommended(
    table: pd.DataFrame, collapses: pd.DataFrame | None = None, size: int | None = None
) -> str | None:
    """The method a report recommends from :func:`rank_table`.

    Without ``size``: the best ``overall`` row among the methods with no collapsed trial at any
    size. With ``size``: the best row in that size's column among the methods with no collapsed
    trial at that size. ``None`` when every candidate collapsed somewhere (or nothing ran).
    """
    column = "overall" if size is None else size
    if table.empty or column not in table.columns:
        return None
    clean = table[~table.index.isin(_flagged(collapses, size))][column].dropna()
    return None if clean.empty else str(clean.idxmin())


def collapse_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """How many trials collapsed, per cell (dataset, method, size) of a long-format frame.

    Uses the store's ``collapsed`` flag (:mod:`littledata.experiments.collapse`). Returns one
    row per cell (the columns of :func:`group_columns`) with ``n_trials``, ``n_checked``
    (trials with a flag; older trials have none) and ``n_collapsed``.
    """
    import pandas as pd

    frame = _with_defaults(frame)
    keys = group_columns(frame)
    if frame.empty or "key" not in frame.columns:
        return pd.DataFrame(columns=[*keys, "n_trials", "n_checked", "n_collapsed"])
    trials = frame.drop_duplicates("key")
    if "collapsed" in trials.columns:
        flag = trials["collapsed"].astype("boolean")
    else:
        flag = pd.Series(pd.NA, index=trials.index, dtype="boolean")
    trials = trials.assign(
        _checked=flag.notna().astype("int64"), _collapsed=flag.fillna(False).astype("int64")
    )
    out = (
        trials.groupby(keys, sort=True, dropna=False)
        .agg(
            n_trials=("key", "count"),
            n_checked=("_checked", "sum"),
            n_collapsed=("_collapsed", "sum"),
        )
        .reset_index()
    )
    return out


def method_collapses(counts: pd.DataFrame) -> pd.DataFrame:
    """Per method, size mode and size: datasets with a collapsed trial (``n_datasets``) and
    collapsed trials (``n_collapsed``), from :func:`collapse_counts`; ``method`` holds the label
    :func:`rank_table` uses."""
    import pandas as pd

    cols = [*METHOD_COLUMNS, "size_mode", "size", "method", "n_datasets", "n_collapsed"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    hit = counts.assign(_hit=(counts["n_collapsed"] > 0).astype("int64"))
    out = (
        hit.groupby([*METHOD_COLUMNS, "size_mode", "size"], dropna=False)
        .agg(n_datasets=("_hit", "sum"), n_collapsed=("n_collapsed", "sum"))
        .reset_index()
    )
    out["method"] = _labels(out)
    return out[cols]


def compare_heads(
    frame: pd.DataFrame, head: str, baseline: str, metric: str = "accuracy"
) -> pd.DataFrame:
    """Paired comparison of two heads on the same features, training rows and test rows.

    Trials of ``head`` and ``baseline`` are paired when they share dataset, featurizer,
    resampling, size and seed (the training sample depends on the seed, not on the head). Per
    (dataset, featurizer, resampling, size) the result holds both means, the mean paired
    difference ``diff`` (``head`` minus ``baseline``, signed so that positive is better even for
    lower-is-better metrics such as log loss), its standard error ``sem`` (sample standard deviation
    of the paired differences over sqrt(n)), ``n`` pairs, and a ``verdict``: ``"win"`` when
    ``diff > sem``, ``"loss"`` when ``diff < -sem``, else ``"tie"`` (within one standard error).
    With one pair ``sem`` is NaN and the verdict follows the sign of ``diff`` ("tie" at 0).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "dataset": "d", "featurizer": "f", "size": 20, "seed": [0, 1, 0, 1],
    ...     "head": ["a", "a", "b", "b"], "metric": "accuracy", "value": [0.8, 0.9, 0.7, 0.7]})
    >>> compare_heads(frame, "a", "b")[["diff", "verdict"]].round(3).to_dict("records")
    [{'diff': 0.15, 'verdict': 'win'}]
    """
    import numpy as np
    import pandas as pd

    frame = _with_defaults(frame)
    frame = frame[(frame["metric"] == metric) & frame["head"].isin([head, baseline])]
    keys = ["dataset", "featurizer", "resampling", "size_mode", "size"]
    wide = frame.pivot_table(
        index=[*keys, "seed"], columns="head", values="value", aggfunc="first"
    ).dropna()
    columns = [*keys, "mean_head", "mean_baseline", "diff", "sem", "n", "verdict"]
    if wide.empty or head not in wide or baseline not in wide:
        return pd.DataFrame(columns=columns)
    sign = 1.0 if higher_is_better(metric) else -1.0
    wide = wide.assign(d=sign * (wide[head] - wide[baseline]))
    grouped = wide.groupby(level=keys)
    out = pd.DataFrame(
        {
            "mean_head": grouped[head].mean(),
            "mean_baseline": grouped[baseline].mean(),
            "diff": grouped["d"].mean(),
            "sem": grouped["d"].std(ddof=1) / np.sqrt(grouped["d"].count()),
            "n": grouped["d"].count(),
        }
    ).reset_index()
    band = out["sem"].fillna(0.0)
    out["verdict"] = np.where(
        out["diff"] > band, "win", np.where(out["diff"] < -band, "loss", "tie")
    )
    return out[columns]


def datasets_info(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per dataset name, what the latest finished run that used it recorded about it (rows per
    split, classes, a user's files and how their test split was made; see
    :func:`littledata.experiments.prepare.describe_dataset`).

    ``runs``: :meth:`ResultsStore.runs("bench") <littledata.experiments.store.ResultsStore.runs>`.
    """
    out: dict[str, dict[str, Any]] = {}
    for run in runs:  # oldest first: later runs overwrite
        summary = run.get("summary") or {}
        for name, about in (summary.get("datasets_info") or {}).items():
            if isinstance(about, dict):
                out[name] = about
    return out


def describe_data(about: dict[str, Any]) -> str:
    """One line about a dataset from its :func:`datasets_info` entry: rows per split, classes
    (the first few names) and, for a file without a test split, how it was split."""
    rows = dict(about.get("rows", {}))
    first = [k for k in ("train", "test") if k in rows]  # stored JSON may sort its keys
    rows = {k: rows[k] for k in [*first, *(k for k in rows if k not in first)]}
    total = sum(int(v) for v in rows.values())
    splits = ", ".join(f"{k} {int(v):,}" for k, v in rows.items())
    names = [str(n) for n in about.get("label_names", [])]
    n_classes = int(about.get("classes", len(names)))
    shown = ", ".join(names[:8]) + (", ..." if n_classes > 8 else "")
    text = f"{total:,} rows ({splits}), {n_classes} classes" + (f" ({shown})" if shown else "")
    if about.get("split_note"):
        text += f"; {about['split_note']}"
    return text


def latest_content(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` without the trials of older versions of a user's file.

    A user's dataset shows under its file name; when the file changed between runs, the store
    holds trials of each version (their keys differ: the content fingerprint is part of them).
    Only the trials of the version stored last are kept, so that results of two different
    files are never averaged together. Returns the frame and, per dataset, how many rows of
    older versions were left out.
    """
    if frame.empty or "source_fingerprint" not in frame.columns:
        return frame, {}
    keep = []
    dropped: dict[str, int] = {}
    for name, sub in frame.groupby("dataset", sort=False):
        versions = sub["source_fingerprint"].dropna()
        if versions.nunique() <= 1:
            keep.append(sub)
            continue
        newest = sub.loc[sub["created"].idxmax(), "source_fingerprint"]
        current = sub["source_fingerprint"] == newest
        keep.append(sub[current])
        dropped[str(name)] = int((~current).sum())
    import pandas as pd

    return pd.concat(keep).sort_index(), dropped
