"""The report's HTML tables: the recommendation sentence, the rank table and a dataset's
mean ± std table, each marking the methods whose predictions collapsed onto one class.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from littledata.experiments.results import higher_is_better, method_label, recommended
from littledata.report.figures import METRIC_NAMES

if TYPE_CHECKING:
    import pandas as pd

COLLAPSE_MARK = "⚠"


def fmt(value: float, digits: int = 3) -> str:
    return "–" if value != value else f"{value:.{digits}f}"  # NaN check without numpy


def recommendation_html(
    table: pd.DataFrame, collapses: pd.DataFrame, primary: str, mode: str
) -> str:
    best = recommended(table, collapses)
    unit = " (sizes per class)" if mode == "per_class" else ""
    name = html.escape(METRIC_NAMES.get(primary, primary))
    if best is None:
        parts = [
            f"<p class='recommend'>No recommendation over all sizes{unit}: every method's "
            f"predictions collapsed onto one class in at least one trial ({COLLAPSE_MARK} "
            "below).</p>"
        ]
    else:
        parts = [
            f"<p class='recommend'>Recommended{unit}: <b>{html.escape(best)}</b>, the best mean "
            f"rank by {name} over all sizes among the methods whose predictions never "
            "collapsed.</p>"
        ]
    top = table["overall"].dropna()
    if not top.empty and top.idxmin() != best:
        leader = str(top.idxmin())
        hit = collapses[(collapses["method"] == leader) & (collapses["n_collapsed"] > 0)]
        where = ", ".join(
            f"{int(r.n_collapsed)} at {int(r.size)}" for r in hit.itertuples(index=False)
        )
        parts.append(
            f"<p><b>{html.escape(leader)}</b> has the best mean rank over sizes, but its "
            f"predictions collapsed in some trials (by size: {html.escape(where)}), so it is not "
            "recommended over all sizes; see the recommendation by size.</p>"
        )
    return "".join(parts)


def collapse_lookup(collapses: pd.DataFrame | None) -> dict[tuple[str, int], int]:
    if collapses is None or collapses.empty:
        return {}
    return {
        (str(m), int(s)): int(n)
        for m, s, n in zip(
            collapses["method"], collapses["size"], collapses["n_datasets"], strict=True
        )
        if n > 0
    }


def rank_table_html(
    table: pd.DataFrame,
    n_datasets: pd.Series,
    mode: str,
    collapses: pd.DataFrame | None = None,
    by_accuracy: pd.Series | None = None,
    accuracy_note: str = "",
    rows: str = "rows",
) -> str:
    """The rank table; ``accuracy_note`` says which datasets the accuracy ranks cover when
    some of the family's tasks do not measure accuracy (multi-label, entity tags)."""
    import numpy as np

    unit = f"{rows} per class" if mode == "per_class" else f"training {rows}"
    hits = collapse_lookup(collapses)
    flagged = {m for m, _ in hits}
    cols = list(table.columns)
    best = {}
    for c in cols:  # the best cell of a column is never a collapsed one
        ok = [
            float(table.at[m, c])
            for m in table.index
            if (c == "overall" and m not in flagged) or (c != "overall" and (m, c) not in hits)
        ]
        finite = [v for v in ok if v == v]
        best[c] = min(finite) if finite else np.nan
    head = "".join(
        f"<th>{c}<br><small>{int(n_datasets.get(c, 0))} datasets</small></th>"
        if c != "overall"
        else "<th>mean over sizes</th>"
        for c in cols
    )
    if by_accuracy is not None:
        note = f"<br><small>{html.escape(accuracy_note)}</small>" if accuracy_note else ""
        head += f"<th>mean rank by accuracy{note}</th>"
    body = []
    n_cols = len(cols) + 1 + (by_accuracy is not None)
    for method, row in table.iterrows():
        if method in flagged and len(body) == sum(m not in flagged for m in table.index):
            body.append(
                f"<tr><th class='row' colspan='{n_cols}'>{COLLAPSE_MARK} Methods whose "
                "predictions collapsed in some trial (listed after the others, never "
                "recommended):</th></tr>"
            )
        cells = []
        for c in cols:
            v = float(row[c])
            mark = ""
            if c != "overall" and (str(method), c) in hits:
                mark = f" <span class='collapsed'>{COLLAPSE_MARK}{hits[(str(method), c)]}</span>"
            is_best = v == best[c] and not mark and not (c == "overall" and method in flagged)
            cls = " class='best'" if is_best else ""
            cells.append(f"<td{cls}>{fmt(v, 2)}{mark}</td>")
        if by_accuracy is not None:
            cells.append(f"<td>{fmt(float(by_accuracy.get(method, float('nan'))), 2)}</td>")
        label = html.escape(str(method))
        if method in flagged:
            label += f" <span class='collapsed'>{COLLAPSE_MARK}</span>"
        body.append(f"<tr><th class='row'>{label}</th>{''.join(cells)}</tr>")
    return (
        f"<table class='ranks'><caption>Mean rank ({unit}; bold: best in the column among cells "
        f"without a collapsed trial; {COLLAPSE_MARK}<i>k</i>: collapsed on <i>k</i> datasets)"
        f"</caption><tr><th>featurizer + head</th>{head}</tr>{''.join(body)}</table>"
    )


def mean_std_html(sub: pd.DataFrame, metric: str, flags: pd.DataFrame | None = None) -> str:
    rows = sub[sub["metric"] == metric]
    if rows.empty:
        return "<p>No values.</p>"
    accuracy = sub[sub["metric"] == "accuracy"] if metric != "accuracy" else None
    if accuracy is not None and accuracy.empty:  # a task without accuracy (multi-label, tags)
        accuracy = None
    hits: dict[tuple[str, str, str, Any], tuple[int, int]] = {}
    if flags is not None and not flags.empty:
        for r in flags.itertuples(index=False):
            if r.n_collapsed > 0:
                hits[(r.featurizer, r.head, r.resampling, r.size)] = (
                    int(r.n_collapsed), int(r.n_trials)
                )  # fmt: skip
    sizes = sorted(rows["size"].unique())
    # the winner of each size, in bold: the best mean among cells without a collapsed trial
    better = max if higher_is_better(metric) else min
    best = {}
    for s in sizes:
        ok = [
            float(r.mean)
            for r in rows[rows["size"] == s].itertuples(index=False)
            if (r.featurizer, r.head, r.resampling, s) not in hits and r.mean == r.mean
        ]
        if ok:
            best[s] = better(ok)
    title = html.escape(METRIC_NAMES.get(metric, metric))
    if accuracy is not None:
        title += " <small>(accuracy)</small>"
    out = [f"<table><tr><th>{title}</th>"]
    out += [f"<th>{int(s)}</th>" for s in sizes]
    out.append("</tr>")
    for (feat, head, res), grp in rows.groupby(["featurizer", "head", "resampling"]):
        by = grp.set_index("size")
        acc = None
        if accuracy is not None:
            acc = accuracy[
                (accuracy["featurizer"] == feat)
                & (accuracy["head"] == head)
                & (accuracy["resampling"] == res)
            ].set_index("size")
        cells = []
        for s in sizes:
            if s in by.index:
                r = by.loc[s]
                text = f"{fmt(r['mean'])} ± {fmt(r['std'])}"
                if acc is not None and s in acc.index:
                    text += f" <small>({fmt(acc.loc[s]['mean'])})</small>"
                text += f" <small>n={r['n']}</small>"
                if (feat, head, res, s) in hits:
                    k, n = hits[(feat, head, res, s)]
                    text += f" <span class='collapsed'>{COLLAPSE_MARK} {k}/{n} collapsed</span>"
                won = best.get(s) == float(r["mean"]) and (feat, head, res, s) not in hits
                cells.append(f"<td class='best'>{text}</td>" if won else f"<td>{text}</td>")
            else:
                cells.append("<td>–</td>")
        out.append(f"<tr><th class='row'>{html.escape(method_label(feat, head, res))}</th>")
        out.append("".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)
