"""The report's decision: per training size, the method to use, by how much, and how sure.

For every training size, :func:`by_size_html` writes one sentence: the best featurizer + head by
mean rank among the methods whose predictions never collapsed at that size (the same choice as
:func:`~littledata.experiments.results.recommended`), its margin over the runner-up with a paired
confidence interval over datasets × seeds (:func:`~littledata.experiments.significance.
paired_margin`), and a critical-difference diagram (Friedman test and Nemenyi post-hoc test,
Demšar 2006; :func:`~littledata.experiments.significance.critical_difference`) that shows which
differences between mean ranks are real.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from littledata.experiments.results import (
    mean_ranks,
    method_collapses,
    rank_table,
    recommended,
)
from littledata.experiments.significance import (
    CriticalDifference,
    critical_difference,
    paired_margin,
)
from littledata.report.figures import METRIC_NAMES, figure_html, save_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["by_size_html", "by_task_html", "cd_figure", "choices_by_size", "runner_up"]


def runner_up(
    table: pd.DataFrame, collapses: pd.DataFrame | None, size: int, best: str
) -> str | None:
    """The second-best method at ``size`` by mean rank, among those that never collapsed there."""
    if size not in table.columns:
        return None
    return recommended(table.drop(index=best, errors="ignore"), collapses, size=size)


def choices_by_size(
    agg: pd.DataFrame, collapses: pd.DataFrame | None, metric: str, mode: str
) -> dict[int, tuple[str | None, str | None]]:
    """Per size of ``mode``: (recommended method, runner-up) by mean rank of ``metric``."""
    part = agg[agg["size_mode"] == mode] if "size_mode" in agg.columns else agg
    table = rank_table(mean_ranks(part, metric), collapses)
    out: dict[int, tuple[str | None, str | None]] = {}
    for size in [c for c in table.columns if c != "overall"]:
        best = recommended(table, collapses, size=size)
        out[int(size)] = (best, runner_up(table, collapses, size, best) if best else None)
    return out


def by_task_html(
    agg: pd.DataFrame,
    counts: pd.DataFrame,
    tasks: dict[str, list[str]],
    metric: str,
    mode: str,
) -> str:
    """For a family that holds several task types (``tasks``: task → its datasets), the method
    recommended over all sizes for each task type's datasets alone, so that a reader with
    multi-label data sees the choice for multi-label data; ``""`` for a family of one task."""
    if len(tasks) < 2:
        return ""
    items = []
    for task, datasets in tasks.items():
        part = agg[agg["dataset"].isin(datasets) & (agg["size_mode"] == mode)]
        flags = method_collapses(
            counts[counts["dataset"].isin(datasets) & (counts["size_mode"] == mode)]
        )
        table = rank_table(mean_ranks(part, metric), flags)
        if table.empty:
            continue
        best = recommended(table, flags)
        which = ", ".join(datasets) if len(datasets) <= 3 else f"{len(datasets)} datasets"
        choice = (
            f"<b>{html.escape(best)}</b> (mean rank {float(table.at[best, 'overall']):.2f})"
            if best
            else "no recommendation (every method collapsed in some trial)"
        )
        items.append(f"<li>{html.escape(task)} ({html.escape(which)}): {choice}</li>")
    name = html.escape(METRIC_NAMES.get(metric, metric))
    return (
        f"<p>The same choice by mean rank of {name} over all sizes, for each task type's "
        "datasets alone:</p><ul class='by-task'>" + "".join(items) + "</ul>"
    )


def _signed(x: float) -> str:
    return f"{x:+.3f}"


def _sentence(
    frame: pd.DataFrame, table: pd.DataFrame, metric: str, mode: str, size: int,
    best: str | None, other: str | None, rows: str = "rows",
) -> str:  # fmt: skip
    unit = f"training {rows} per class" if mode == "per_class" else f"training {rows}"
    name = html.escape(METRIC_NAMES.get(metric, metric))
    if best is None:
        return (
            f"<li><b>{size} {unit}</b>: no recommendation; every method's predictions collapsed "
            "onto one class in some trial.</li>"
        )
    rank = float(table.at[best, size])
    text = f"<li><b>{size} {unit}</b>: use <b>{html.escape(best)}</b> (mean rank {rank:.2f})"
    if other is None:
        return text + "; no other method ran at this size.</li>"
    margin = paired_margin(frame, metric, size, best, other, size_mode=mode)
    if margin is None:
        return text + f"; the runner-up {html.escape(other)} shares no trial with it.</li>"
    text += f". It beats the runner-up {html.escape(other)} by {_signed(margin.mean)} {name} "
    if margin.n_pairs > 1:
        text += (
            f"(95% confidence interval {_signed(margin.low)} to {_signed(margin.high)}, paired "
            f"over {margin.n_pairs} trials: {margin.n_datasets} "
            f"{'dataset' if margin.n_datasets == 1 else 'datasets'} × seeds)"
        )
        if margin.low <= 0 <= margin.high:
            text += "; the interval holds 0, so the two are not told apart"
    else:
        text += "(one paired trial: no interval)"
    return text + ".</li>"


def cd_figure(cd: CriticalDifference, title: str) -> Figure:
    """A critical-difference diagram: methods on an axis of mean rank (best on the left), bars
    joining the methods the Nemenyi test does not tell apart, the CD drawn above the axis."""
    from matplotlib.figure import Figure

    names = list(cd.ranks)
    k = len(names)
    half = (k + 1) // 2
    step = 0.35
    bottom = -(half + 1) * step - 0.3
    fig = Figure(figsize=(8.0, 0.8 + 0.9 * (1.8 - bottom) / 1.5))
    ax = fig.add_axes((0.25, 0.02, 0.5, 0.84))
    lo, hi = 1.0, float(max(k, 2))
    ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))  # rank 1 on the left
    ax.set_ylim(bottom, 1.8)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", linewidth=1)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.15, color="black", linewidth=1)
        ax.text(r, 0.25, str(r), ha="center", va="bottom", fontsize=8)
    ax.hlines(1.3, lo, lo + cd.cd, color="black", linewidth=1.5)  # the critical difference
    ax.text(lo + cd.cd / 2, 1.45, f"CD = {cd.cd:.2f}", ha="center", va="bottom", fontsize=8)
    for i, name in enumerate(names):
        rank = cd.ranks[name]
        left = i < half
        row = i if left else k - 1 - i
        y = -(row + 1) * step - 0.3
        x_text = lo - 0.05 * (hi - lo) if left else hi + 0.05 * (hi - lo)
        ax.vlines(rank, y, 0, color="#444", linewidth=0.8)
        ax.hlines(y, rank, x_text, color="#444", linewidth=0.8)
        ax.text(
            x_text, y, f"{name} ({rank:.2f})", ha="right" if left else "left", va="center",
            fontsize=8,
        )  # fmt: skip
    for j, (first, last) in enumerate(cd.groups()):
        y = -0.12 - 0.1 * j
        ax.hlines(y, cd.ranks[first] - 0.03, cd.ranks[last] + 0.03, color="#c00000", linewidth=3)
    fig.suptitle(title, fontsize=9)
    return fig


def by_size_html(
    frame: pd.DataFrame,
    agg: pd.DataFrame,
    collapses: pd.DataFrame | None,
    metric: str,
    mode: str,
    out: Path,
    figures: list[Path],
    *,
    stem_suffix: str = "",
    rows: str = "rows",
) -> str:
    """The recommendation by size: one sentence per size and a critical-difference diagram per
    size (figures written into ``out`` as ``cd_<size><stem_suffix>``, and embedded).

    ``frame`` and ``agg`` hold one family of tasks (the datasets ranked together); ``rows`` is
    what their training sizes count (``sentences`` for entity tags)."""
    part = agg[agg["size_mode"] == mode] if "size_mode" in agg.columns else agg
    table = rank_table(mean_ranks(part, metric), collapses)
    if table.empty:
        return ""
    choices = choices_by_size(agg, collapses, metric, mode)
    name = html.escape(METRIC_NAMES.get(metric, metric))
    items = [
        _sentence(frame, table, metric, mode, size, best, other, rows)
        for size, (best, other) in choices.items()
    ]
    diagrams = []
    for size in choices:
        cd = critical_difference(agg, metric, size, size_mode=mode)
        if cd is None:
            continue
        unit = f"training {rows}" + (" per class" if mode == "per_class" else "")
        stem = (f"cd_{size}" if mode == "total" else f"cd_{mode}_{size}") + stem_suffix
        fig = cd_figure(cd, f"{size} {unit}: mean rank by {metric}")
        png_path, svg_path, png = save_figure(fig, out, stem)
        figures += [png_path, svg_path]
        verdict = "the mean ranks differ" if cd.p_value < cd.alpha else "no difference is shown"
        left = (
            f" Left out (did not run on every dataset): {html.escape(', '.join(cd.left_out))}."
            if cd.left_out
            else ""
        )
        diagrams.append(
            f"<details><summary>{size} {unit}: Friedman χ² = {cd.statistic:.1f}, "
            f"p = {cd.p_value:.2g} ({verdict}); critical difference {cd.cd:.2f} over "
            f"{cd.n_datasets} datasets</summary>"
            + figure_html(png, [svg_path, png_path], f"critical-difference diagram at {size}")
            + f"{left}</details>"
        )
    intro = (
        f"<p>Per training size, the method with the best mean rank by {name} among those whose "
        "predictions never collapsed there, and its margin over the runner-up: the mean paired "
        "difference over the trials both ran (same dataset, size and seed, so the same training "
        "rows) with a 95% Student-t confidence interval.</p>"
    )
    cd_intro = (
        "<p>Critical-difference diagrams (Demšar 2006, <i>Statistical comparisons of classifiers "
        "over multiple data sets</i>, JMLR 7): methods on an axis of mean rank across datasets "
        "(best on the left); a red bar joins methods whose mean ranks differ by less than the "
        "Nemenyi critical difference (α = 0.05), which the test does not tell apart.</p>"
        if diagrams
        else ""
    )
    return (
        intro + "<ul class='recommend'>" + "".join(items) + "</ul>" + cd_intro + "".join(diagrams)
    )
