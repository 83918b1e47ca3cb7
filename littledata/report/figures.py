"""Figures of the benchmark report (matplotlib, no display needed).

Every figure is built on a :class:`matplotlib.figure.Figure` directly (no pyplot state, no GUI
backend) and saved as PNG and SVG by :func:`save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from littledata.experiments.metrics import metric_labels
from littledata.experiments.results import higher_is_better, method_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["METRIC_NAMES", "learning_curve_figure", "rank_figure", "save_figure", "style_for"]

METRIC_NAMES = metric_labels()
"""``{metric: label}`` for axes and titles (from :data:`littledata.experiments.metrics.METRICS`)."""

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_FIXED_COLORS = {"minilm": "#1f77b4", "glove50": "#e6820e", "tfidf": "#555555"}
_HEAD_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"))
BASELINE_COLOR = "#000000"
COLLAPSE_COLOR = "#d00000"
COLLAPSE_LABEL = "predictions collapsed (≥ 1 seed)"
_RESAMPLING_DASHES = {"oversample": (0, (1, 1)), "class_weight": (0, (4, 1, 1, 1, 1, 1))}


def style_for(
    featurizers: Sequence[str], heads: Sequence[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Line styles per (featurizer, head): colour by featurizer, dash and marker by head, the same
    in every figure of a report."""
    colors: dict[str, str] = {}
    free = [c for c in _PALETTE if c not in _FIXED_COLORS.values()]
    for name in featurizers:
        colors[name] = _FIXED_COLORS.get(name) or free[len(colors) % len(free)]
    styles = {}
    for f in featurizers:
        for i, h in enumerate(heads):
            dash, marker = _HEAD_STYLES[i % len(_HEAD_STYLES)]
            styles[(f, h)] = {"color": colors[f], "linestyle": dash, "marker": marker}
    return styles


def _default_resampling(head: str) -> str:
    from littledata.heads import HEADS

    return str(getattr(HEADS.get(head, None), "resampling", "none"))


def _size_axis(ax: Any, sizes: Sequence[float], per_class: bool, rows: str = "rows") -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(list(sizes)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{int(s)}" for s in sizes])
    ax.set_xlabel(f"training {rows}{' per class' if per_class else ''} (log scale)")
    if len(sizes) > 1:
        ax.set_xlim(min(sizes) / 1.15, max(sizes) * 1.15)


def learning_curve_figure(
    agg: pd.DataFrame,
    dataset: str,
    metrics: Sequence[str],
    styles: dict[tuple[str, str], dict[str, Any]],
    baseline: tuple[str, str] | None = ("tfidf", "logreg"),
    subtitle: str = "",
    collapses: pd.DataFrame | None = None,
    baseline_resampling: str = "none",
    size_unit: str = "rows",
) -> Figure:
    """Learning curves of one dataset: one panel per metric, one line per method (mean over seeds
    with a ± one standard deviation band), the baseline drawn thick and black.

    Parameters
    ----------
    agg: :func:`littledata.experiments.results.aggregate` rows of this dataset.
    dataset: the dataset's name (title).
    metrics: the metrics to draw, one panel each.
    styles: :func:`style_for` output.
    baseline: the (featurizer, head) drawn as the baseline.
    subtitle: a second title line (e.g. classes and caps).
    collapses: :func:`littledata.experiments.results.collapse_counts` rows of this dataset; a
        point where at least one trial's predictions collapsed gets a red cross.
    size_unit: what the training sizes count (``rows``; ``sentences`` for entity tags).
    baseline_resampling: the resampling option of the baseline line.
    """
    from matplotlib.figure import Figure

    metrics = [m for m in metrics if m in set(agg["metric"])] or list(metrics[:1])
    n = len(metrics)
    fig = Figure(figsize=(5.2 * n + 2.6, 4.3), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    per_class = bool((agg["size_mode"] == "per_class").any()) if "size_mode" in agg else False
    sizes = sorted(float(s) for s in agg["size"].unique())
    handles: dict[str, Any] = {}
    methods = agg[["featurizer", "head", "resampling"]].drop_duplicates()
    methods = methods.sort_values(["featurizer", "head", "resampling"]).itertuples(index=False)
    methods = list(methods)
    hit: set[tuple[str, str, str, float]] = set()
    if collapses is not None and not collapses.empty:
        for r in collapses[collapses["n_collapsed"] > 0].itertuples(index=False):
            hit.add((r.featurizer, r.head, r.resampling, float(r.size)))
    for ax, metric in zip(axes, metrics, strict=True):
        sub = agg[agg["metric"] == metric]
        for feat, head, resampling in methods:
            rows = sub[
                (sub["featurizer"] == feat)
                & (sub["head"] == head)
                & (sub["resampling"] == resampling)
            ].sort_values("size")
            if rows.empty:
                continue
            is_base = (
                baseline is not None
                and (feat, head) == baseline
                and resampling == baseline_resampling
            )
            style = dict(
                styles.get((feat, head), {"color": "#777777", "linestyle": "-", "marker": "o"})
            )
            label = method_label(feat, head, resampling)
            if is_base:
                style.update(color=BASELINE_COLOR, linestyle="--", marker="o")
                label += " (baseline)"
            elif resampling != _default_resampling(head):  # hollow, its own dash pattern
                style.update(
                    linestyle=_RESAMPLING_DASHES.get(resampling, (0, (1, 1))),
                    markerfacecolor="white",
                )
            x = rows["size"].to_numpy(dtype=float)
            y = rows["mean"].to_numpy(dtype=float)
            sd = rows["std"].fillna(0.0).to_numpy(dtype=float)
            (line,) = ax.plot(
                x, y, label=label, linewidth=2.6 if is_base else 1.6, markersize=4.5,
                zorder=5 if is_base else 3, **style,
            )  # fmt: skip
            ax.fill_between(
                x, y - sd, y + sd, color=style["color"], alpha=0.10 if not is_base else 0.14,
                linewidth=0, zorder=1,
            )  # fmt: skip
            handles.setdefault(label, line)
            bad = [i for i, xi in enumerate(x) if (feat, head, resampling, float(xi)) in hit]
            if bad:
                (cross,) = ax.plot(
                    x[bad], y[bad], linestyle="none", marker="x", markersize=9,
                    color=COLLAPSE_COLOR, markeredgewidth=2.2, zorder=6,
                )  # fmt: skip
                handles.setdefault(COLLAPSE_LABEL, cross)
        _size_axis(ax, sizes, per_class, size_unit)
        name = METRIC_NAMES.get(metric, metric)
        arrow = "higher is better" if higher_is_better(metric) else "lower is better"
        ax.set_ylabel(f"{name} ({arrow})")
        ax.grid(True, which="major", alpha=0.3)
        ax.set_title(name, fontsize=10)
    title = dataset if not subtitle else f"{dataset}\n{subtitle}"
    fig.suptitle(title, fontsize=11)
    if COLLAPSE_LABEL in handles:  # the marker's explanation goes last, after the methods
        handles[COLLAPSE_LABEL] = handles.pop(COLLAPSE_LABEL)
    fig.legend(
        list(handles.values()), list(handles), loc="outside right center", fontsize=8.5,
        frameon=False, title="featurizer + head", title_fontsize=9,
    )  # fmt: skip
    return fig


def rank_figure(
    table: pd.DataFrame, metric: str, per_class: bool = False, rows: str = "rows"
) -> Figure:
    """A heat map of mean ranks (rows: methods, best first; columns: sizes and overall);
    ``rows``: what the sizes count (``sentences`` for entity tags)."""
    import numpy as np
    from matplotlib.figure import Figure

    values = table.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(1.0 * n_cols + 3.2, 0.42 * n_rows + 1.5), layout="constrained")
    ax = fig.subplots()
    finite = values[np.isfinite(values)]
    vmax = float(finite.max()) if finite.size else 1.0
    image = ax.imshow(values, cmap="RdYlGn_r", vmin=1.0, vmax=max(vmax, 1.5), aspect="auto")
    ax.set_xticks(range(n_cols), [str(c) for c in table.columns])
    ax.set_yticks(range(n_rows), list(table.index))
    for i in range(n_rows):
        for j in range(n_cols):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.1f}", ha="center", va="center", fontsize=8.5)
    if n_cols > 1 and str(table.columns[-1]) == "overall":
        ax.axvline(n_cols - 1.5, color="white", linewidth=4)  # sizes | mean over sizes
    unit = f"training {rows} per class" if per_class else f"training {rows}"
    ax.set_xlabel(f"{unit} (and the mean over sizes)")
    ax.set_title(
        f"Mean rank across datasets by {METRIC_NAMES.get(metric, metric)} (1 = best)", fontsize=10
    )
    fig.colorbar(image, ax=ax, shrink=0.8, label="mean rank")
    return fig


def save_figure(fig: Figure, out_dir: Path, stem: str, dpi: int = 110) -> tuple[Path, Path, bytes]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg`` in ``out_dir``; return both paths and the
    PNG bytes (for embedding)."""
    import io

    import matplotlib

    from littledata.io import atomic_write_bytes

    out_dir.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "littledata"}):
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=dpi)
        fig.set_layout_engine("none")  # the layout is settled: do not compute it again for SVG
        svg = io.BytesIO()
        fig.savefig(svg, format="svg", metadata={"Date": None})
    png_path, svg_path = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    atomic_write_bytes(png_path, png.getvalue())
    atomic_write_bytes(svg_path, svg.getvalue())
    return png_path, svg_path, png.getvalue()


def figure_html(png: bytes, files: Sequence[Path | str], alt: str) -> str:
    """A figure embedded in the page (a ``data:`` PNG), so the HTML file alone is complete; the
    caption names the files written beside the report, without linking to them (a link to a
    sibling file breaks when the page is shared alone)."""
    import base64
    import html

    data = base64.b64encode(png).decode("ascii")
    names = " and ".join(f"<code>{html.escape(Path(f).name)}</code>" for f in files)
    return (
        f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(alt)}'>"
        f"<figcaption>Also written beside this report as {names}.</figcaption></figure>"
    )
