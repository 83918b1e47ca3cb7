"""The active-learning section of the HTML report.

:func:`render_active_section` turns the store's ``kind="active"`` measurements (long format, as
``ResultsStore.frame("active")`` returns them) into an HTML fragment: per comparison (dataset,
featurizer, head, initial labels, batch, budget) a figure of accuracy against the number of labels
(mean ± std over seeds per strategy, the stopping criterion's point marked, the full-training-set
reference as a dotted line) and a table of the label-efficiency numbers (see
:mod:`littledata.active.simulate` for their definitions). The figures are written into the output
folder as PNG and SVG and the PNG is embedded (base64), so the page reads offline.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.report.figures import figure_html, save_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["render_active_section", "strategy_style"]

# Fixed colours so a strategy looks the same in every figure; random is the black dashed baseline.
_COLORS = {
    "random": "#000000",
    "least-confidence": "#1f77b4",
    "margin": "#d62728",
    "entropy": "#2ca02c",
    "committee": "#9467bd",
    "kcenter": "#8c564b",
    "badge": "#ff7f0e",
    "cluster-margin": "#e377c2",
    "active-transfer": "#17becf",
    "cold-start": "#7f7f7f",
    "typiclust": "#bcbd22",
    "typiclust-margin": "#393b79",
}
_SPARE = ("#637939", "#843c39", "#7b4173", "#3182bd")


def strategy_style(strategy: str, index: int = 0) -> dict[str, Any]:
    """Line style of a strategy in every active-learning figure."""
    color = _COLORS.get(strategy, _SPARE[index % len(_SPARE)])
    return {"color": color, "linestyle": "--" if strategy == "random" else "-"}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _num(value: Any) -> str:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(f)) if f.is_integer() else str(f)


def _title(key: dict[str, Any]) -> str:
    parts = [str(key.get("dataset", "?"))]
    if "featurizer" in key or "head" in key:
        parts.append(f"{key.get('featurizer', '?')} + {key.get('head', '?')}")
    if "init" in key:
        init = _num(key["init"])
        parts.append(f"{init} initial labels ({key.get('init_strategy', 'random')})")
    if "batch" in key:
        parts.append(f"batch {_num(key['batch'])}")
    return " · ".join(parts)


_METRIC_LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "entity_f1": "entity F1"}
"""How the report names a curve's metric (the summary's ``metric``)."""


def _metric_label(summary: pd.DataFrame) -> str:
    metric = str(summary["metric"].iloc[0]) if "metric" in summary and len(summary) else ""
    return _METRIC_LABELS.get(metric, metric or "accuracy")


def _curve_figure(
    curves: pd.DataFrame, summary: pd.DataFrame, key: dict[str, Any], order: list[str]
) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(8.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    reference = math.nan
    stop_drawn = False
    for i, strategy in enumerate(order):
        c = curves[curves["strategy"] == strategy].sort_values("x")
        if c.empty:
            continue
        style = strategy_style(strategy, i)
        row = summary[summary["strategy"] == strategy].iloc[0]
        ax.plot(c["x"], c["mean"], lw=1.8, label=f"{strategy} (AULC {row['aulc']:.3f})", **style)
        ax.fill_between(
            c["x"],
            c["mean"] - c["std"],
            c["mean"] + c["std"],
            color=style["color"],
            alpha=0.12,
            lw=0,
        )
        if not math.isnan(row["stop_labels"]):
            y = float(np.interp(row["stop_labels"], c["x"], c["mean"]))
            ax.plot(
                [row["stop_labels"]],
                [y],
                marker="o",
                ms=9,
                mfc="white",
                mew=2,
                color=style["color"],
                zorder=5,
            )
            stop_drawn = True
        if not math.isnan(row["reference_accuracy"]):
            reference = float(row["reference_accuracy"])
    handles, labels = ax.get_legend_handles_labels()
    if not math.isnan(reference):
        ax.axhline(reference, color="#555555", lw=1, ls=":")
        ax.axhline(0.95 * reference, color="#aaaaaa", lw=0.8, ls=":")
        handles.append(Line2D([], [], color="#555555", lw=1, ls=":"))
        labels.append(f"whole training set ({reference:.3f}); lower: 95%")
    if stop_drawn:
        handles.append(
            Line2D([], [], marker="o", ms=8, mfc="white", mew=2, color="#444444", ls="none")
        )
        labels.append("stopping criterion fires (mean over seeds)")
    ax.set_xlabel("labeled examples")
    ax.set_ylabel(f"test {_metric_label(summary)} (mean ± std over seeds)")
    ax.set_title(_title(key), fontsize=10.5)
    ax.grid(True, alpha=0.3)
    if len(curves):
        ax.set_xlim(curves["x"].min(), curves["x"].max())
    ax.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False
    )
    return fig


def _fmt(value: float, digits: int = 3) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _table(summary: pd.DataFrame, order: list[str], budget: Any) -> str:
    best_aulc = summary["aulc"].max()
    best_budget = summary["accuracy_at_budget"].max()
    metric = html.escape(_metric_label(summary))
    head = (
        "<tr><th class='row'>strategy</th><th>seeds</th><th>AULC</th>"
        f"<th>{metric} at {html.escape(_num(budget))} labels</th><th>macro-F1 AULC</th>"
        "<th>labels to 95%</th>"
        f"<th>stop: labels (seeds)</th><th>stop: {metric}</th><th>seconds / batch</th></tr>"
    )
    rows = []
    for strategy in order:
        part = summary[summary["strategy"] == strategy]
        if part.empty:
            continue
        r = part.iloc[0]
        l95 = "not reached" if math.isnan(r["labels_to_95"]) else f"{int(r['labels_to_95'])}"
        stop = (
            f"{r['stop_labels']:.0f} ({int(r['stopped'])}/{int(r['seeds'])})"
            if r["stopped"]
            else f"– (0/{int(r['seeds'])})"
        )
        aulc_cls = " class='best'" if r["aulc"] == best_aulc else ""
        bud_cls = " class='best'" if r["accuracy_at_budget"] == best_budget else ""
        rows.append(
            f"<tr><td>{html.escape(strategy)}</td><td>{int(r['seeds'])}</td>"
            f"<td{aulc_cls}>{_fmt(r['aulc'])} ± {_fmt(r['aulc_std'])}</td>"
            f"<td{bud_cls}>{_fmt(r['accuracy_at_budget'])} ± "
            f"{_fmt(r['accuracy_at_budget_std'])}</td>"
            f"<td>{_fmt(r['macro_f1_aulc'])}</td><td>{l95}</td><td>{stop}</td><td>{_fmt(r['stop_accuracy'])}</td>"
            f"<td>{_fmt(r['seconds_per_query'], 2)}</td></tr>"
        )
    return f"<table class='active-summary'>{head}{''.join(rows)}</table>"


_INTRO = (
    "<p>Simulated active learning: the training split is the pool, its labels revealed only for "
    "the examples a strategy asks for; after every batch the head is evaluated on the (capped) "
    "test split. Curves are the mean over seeds with a ± one standard deviation band. "
    "<b>AULC</b>: area under the accuracy curve over the label range divided by its length (the "
    "mean accuracy over the range; higher is better). <b>Labels to 95%</b>: the first point where "
    "the seed-averaged curve reaches 95% of the accuracy of the same head trained on the whole "
    "training split, even when the pool is a capped sample of it (dotted lines). <b>Stop</b>: "
    "where the stabilizing-predictions "
    "criterion (Bloodgood &amp; Vijay-Shanker 2009: Cohen's kappa between successive rounds' "
    "predictions on unlabeled stop-set examples) fired, averaged over the seeds in which it "
    "fired. <b>Macro-F1 AULC</b>: the same area for macro-F1, more telling than accuracy on "
    "imbalanced data. <b>Seconds / batch</b>: median time to refit the head and choose one "
    "batch. In two-class problems least-confidence, margin and entropy rank identically, so "
    "their curves coincide.</p>"
)


def render_active_section(frame: pd.DataFrame, out_dir: Path) -> str:
    """Return the HTML of the active-learning section; write its figures into ``out_dir``.

    Parameters
    ----------
    frame: long-format measurements of ``kind="active"`` (``ResultsStore.frame("active")``).
    out_dir: the report folder; ``active_<dataset>_<featurizer>_<head>[...].png`` and ``.svg`` go
        there.

    Returns
    -------
    An HTML fragment (no ``<section>`` wrapper): an introduction, then per comparison a figure
    and a table. A frame without runs gives a short paragraph saying so.
    """
    from littledata.active.curves import group_columns, learning_curves, run_rows, summarize

    out_dir = Path(out_dir)
    runs = run_rows(frame)
    if runs.empty or "strategy" not in runs.columns:
        return (
            "<p>No active-learning runs in the store yet "
            "(<code>littledata active simulate</code>).</p>"
        )
    summary = summarize(frame)
    by_metric = {m: learning_curves(frame, m) for m in summary["metric"].unique()}
    groups = group_columns(runs)
    parts = [_INTRO]
    used_stems: set[str] = set()
    for values, part in summary.groupby(groups, dropna=False, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        key = dict(zip(groups, values, strict=True))
        curves = by_metric[part["metric"].iloc[0]]  # accuracy; macro-F1 (multi-label); entity F1
        mask = np.ones(len(curves), dtype=bool)
        for col, val in key.items():
            mask &= (curves[col] == val).to_numpy()
        c = curves[mask]
        order = sorted(part["strategy"], key=lambda s: (s != "random", -_aulc_of(part, s)))
        fig = _curve_figure(c, part, key, order)
        stem_parts = [key.get(k) for k in ("dataset", "featurizer", "head")]
        stem = "active_" + "_".join(_slug(str(p)) for p in stem_parts if p is not None)
        extra = 1
        base_stem = stem
        while stem in used_stems:
            extra += 1
            stem = f"{base_stem}_{extra}"
        used_stems.add(stem)
        png_path, svg_path, png = save_figure(fig, out_dir, stem)
        title = html.escape(_title(key))
        parts.append(
            f"<article><h3>{title}</h3>"
            + figure_html(png, [svg_path, png_path], f"active learning curves: {_title(key)}")
            + f"{_table(part, order, key.get('budget', 'budget'))}</article>"
        )
    return "".join(parts)


def _aulc_of(summary: pd.DataFrame, strategy: str) -> float:
    value = summary.loc[summary["strategy"] == strategy, "aulc"]
    return float(value.iloc[0]) if len(value) and not math.isnan(value.iloc[0]) else -1.0
