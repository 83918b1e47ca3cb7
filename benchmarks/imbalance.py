"""Class imbalance: each head with resampling `none`, `oversample` and `class_weight`.

Reads the trials of the spec `benchmarks/imbalance.toml` (every registry single-label dataset
whose largest class holds more than 60% of its train or test split, r8_reuters, whose smallest
class is 0.7%, and all six tweeteval sets; MiniLM features with logreg, knn, centroid, svm and
mlp, plus tf-idf + logreg; 20-1000 training rows; 5 seeds; the default caps) from a results
store and writes
benchmarks/results/imbalance.md:

- each dataset's class shares and what a majority-class model scores on it;
- per head and resampling option, mean accuracy, macro-F1 and MCC over datasets and seeds at
  each size, and the share of trials whose predictions collapsed onto one class;
- per head, each option paired with `none` (same training rows): cells (dataset x size) won,
  tied and lost by more than one standard error of the paired difference;
- the evidence for the benchmark's primary metric: how often the best method of a cell by each
  metric had collapsed predictions, and how stable each metric's ranking is between two halves
  of the seeds;
- the full tables per dataset.

Usage (from the repository root, project venv active; the first command runs the trials, or
resumes them, the second writes the tables)::

    LITTLEDATA_HOME=/path/to/home nice -n 10 littledata bench --spec benchmarks/imbalance.toml \\
        --db sqlite:///imbalance.sqlite --mirror ../shared/datasets --no-report
    python benchmarks/imbalance.py --db sqlite:///imbalance.sqlite --mirror ../shared/datasets
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "benchmarks" / "imbalance.toml"
OPTIONS = ("none", "oversample", "class_weight")
METRICS = ("macro_f1", "mcc", "accuracy")
SHORT = {"macro_f1": "F1", "mcc": "MCC", "accuracy": "acc"}


def _machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import os

    return f"{cpu}, {len(os.sched_getaffinity(0))} cores"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def _f(value: float, digits: int = 3) -> str:
    return "–" if value != value else f"{value:.{digits}f}"


def load_trials(db: str | None) -> tuple[Any, Any]:
    """The spec and one row per trial of it (metrics as columns, plus ``collapsed``)."""
    from littledata.experiments.plan import PROTOCOL
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    spec = load_spec(SPEC)
    store = ResultsStore(db)
    frame = store.frame(
        "bench",
        dataset=list(spec.datasets),
        protocol=PROTOCOL,
        resampling=list(OPTIONS),
        train_pool_cap=spec.train_pool_cap,
        test_cap=spec.test_cap,
        cap_seed=spec.cap_seed,
        size_mode="total",
        size=list(spec.sizes),
        seed=list(spec.seeds),
    )
    if frame.empty:
        raise SystemExit(f"no trials of {SPEC.name} in {store.url}: run the benchmark first")
    methods = {(f, h) for f in spec.featurizers for h in spec.heads} | {("tfidf", "logreg")}
    keep = [(f, h) in methods for f, h in zip(frame["featurizer"], frame["head"], strict=True)]
    frame = frame[keep]
    frame = frame.assign(method=frame["featurizer"] + " + " + frame["head"])
    wide = frame.pivot_table(
        index=["key", "dataset", "method", "resampling", "size", "seed"],
        columns="metric",
        values="value",
        aggfunc="first",
    ).reset_index()
    flags = frame.drop_duplicates("key").set_index("key")["collapsed"]
    wide["collapsed"] = wide["key"].map(flags).astype("boolean").fillna(False).astype(bool)
    return spec, wide


def dataset_table(spec: Any, wide: Any, mirror: str | None) -> list[str]:
    """Class shares of each dataset (train and test splits) and a majority-class model's scores
    on the test split (accuracy = majority share; macro-F1 = 2p / ((1 + p) k); MCC = 0)."""
    import numpy as np

    from littledata.datasets.loading import load_dataset

    lines = [
        "| dataset | classes | largest class, train | largest, test | smallest, train | "
        "majority-class model on test: accuracy / macro-F1 / MCC | trials |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in spec.datasets:
        ds = load_dataset(name, mirror=mirror)
        train = np.bincount(np.asarray(ds.train.labels)) / len(ds.train.labels)
        test = np.bincount(np.asarray(ds.test.labels), minlength=len(train)) / len(ds.test.labels)
        p = float(test.max())
        k = int(np.sum(test > 0))
        f1 = 2 * p / (1 + p) / k
        n = int((wide["dataset"] == name).sum())
        lines.append(
            f"| {name} | {len(train)} | {train.max():.1%} | {p:.1%} | {train.min():.1%} | "
            f"{p:.3f} / {f1:.3f} / 0 | {n} |"
        )
    return lines


def summary_tables(wide: Any, sizes: list[int]) -> list[str]:
    """Per method: rows = resampling option, cells = mean F1 / MCC / accuracy over datasets and
    seeds, and the share of collapsed trials."""
    out = []
    for method in sorted(wide["method"].unique()):
        sub = wide[wide["method"] == method]
        out += [
            f"#### {method}",
            "",
            "Mean over datasets and seeds: macro-F1 / MCC / accuracy; ⚠ share of trials whose "
            "predictions collapsed.",
            "",
            "| resampling | " + " | ".join(str(s) for s in sizes) + " | all sizes |",
            "|---|" + "---|" * (len(sizes) + 1),
        ]
        for option in OPTIONS:
            part = sub[sub["resampling"] == option]
            if part.empty:
                continue
            cells = []
            for size in [*sizes, None]:
                rows = part if size is None else part[part["size"] == size]
                text = " / ".join(_f(rows[m].mean()) for m in METRICS)
                share = rows["collapsed"].mean()
                text += f" ⚠{share:.0%}" if share > 0 else ""
                cells.append(text)
            out.append(f"| {option} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def paired_table(wide: Any) -> tuple[list[str], Any]:
    """Each option against `none` on the same training rows: win / tie / loss over cells."""
    import numpy as np
    import pandas as pd

    records = []
    for (method, dataset, size), cell in wide.groupby(["method", "dataset", "size"]):
        base = cell[cell["resampling"] == "none"].set_index("seed")
        for option in OPTIONS[1:]:
            other = cell[cell["resampling"] == option].set_index("seed")
            seeds = base.index.intersection(other.index)
            if len(seeds) == 0:
                continue
            rec: dict[str, Any] = {"method": method, "option": option, "dataset": dataset}
            rec["size"] = size
            for metric in METRICS:
                d = other.loc[seeds, metric] - base.loc[seeds, metric]
                sem = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
                mean = float(d.mean())
                band = 0.0 if sem != sem else float(sem)
                rec[metric] = mean
                rec[f"{metric}_verdict"] = (
                    "win" if mean > band else ("loss" if mean < -band else "tie")
                )
            rec["collapsed_none"] = int(base.loc[seeds, "collapsed"].sum())
            rec["collapsed_option"] = int(other.loc[seeds, "collapsed"].sum())
            records.append(rec)
    pairs = pd.DataFrame.from_records(records)
    lines = [
        "| head | option | cells | macro-F1 win / tie / loss | mean Δ macro-F1 | "
        "MCC win / tie / loss | mean Δ MCC | accuracy win / tie / loss | mean Δ accuracy | "
        "collapsed trials: none → option |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, option), grp in pairs.groupby(["method", "option"], sort=True):
        cells = [method, option, str(len(grp))]
        for metric in METRICS:
            counts = grp[f"{metric}_verdict"].value_counts()
            cells.append(
                f"{counts.get('win', 0)} / {counts.get('tie', 0)} / {counts.get('loss', 0)}"
            )
            cells.append(f"{grp[metric].mean():+.3f}")
        cells.append(f"{grp['collapsed_none'].sum()} → {grp['collapsed_option'].sum()}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines, pairs


def rank_table(wide: Any) -> list[str]:
    """Per method, the mean rank of each option within each cell (dataset x size; 1 = best of
    the three) by macro-F1 and by MCC, split into small (20-100 rows) and large (200-1000)."""
    lines = [
        "| head | option | mean rank by macro-F1, 20-100 rows | 200-1000 rows | "
        "mean rank by MCC, 20-100 | 200-1000 | mean accuracy, all sizes | collapsed trials |",
        "|---|---|---|---|---|---|---|---|",
    ]
    means = wide.groupby(["method", "dataset", "size", "resampling"])[list(METRICS)].mean()
    means = means.reset_index()
    for metric in ("macro_f1", "mcc"):
        means[f"rank_{metric}"] = means.groupby(["method", "dataset", "size"])[metric].rank(
            ascending=False, method="average"
        )
    small = means["size"] <= 100
    for method in sorted(means["method"].unique()):
        for option in OPTIONS:
            sel = (means["method"] == method) & (means["resampling"] == option)
            if not sel.any():
                continue
            trials = wide[(wide["method"] == method) & (wide["resampling"] == option)]
            cells = [
                _f(means.loc[sel & small, "rank_macro_f1"].mean(), 2),
                _f(means.loc[sel & ~small, "rank_macro_f1"].mean(), 2),
                _f(means.loc[sel & small, "rank_mcc"].mean(), 2),
                _f(means.loc[sel & ~small, "rank_mcc"].mean(), 2),
                _f(trials["accuracy"].mean()),
                f"{int(trials['collapsed'].sum())} of {len(trials)}",
            ]
            lines.append(f"| {method} | {option} | " + " | ".join(cells) + " |")
    return lines


def primary_metric_table(wide: Any) -> list[str]:
    """For each candidate metric: in how many cells (dataset x size) the best of the 18
    methods (head x option) by that metric had collapsed trials, and the split-half agreement of
    the metric's ranking (Spearman correlation between the ranks from seeds 0-1 and from seeds
    2-4, averaged over cells)."""
    import numpy as np
    from scipy.stats import spearmanr

    combo = wide.assign(combo=wide["method"] + " (" + wide["resampling"] + ")")
    lines = [
        "| metric | cells | best method had a collapsed trial | best method collapsed in "
        "most seeds | split-half rank agreement (Spearman, mean over cells) |",
        "|---|---|---|---|---|",
    ]
    for metric in ("accuracy", "macro_f1", "mcc"):
        hit_any = hit_most = cells = 0
        agreement = []
        for _, cell in combo.groupby(["dataset", "size"]):
            per = cell.groupby("combo").agg(value=(metric, "mean"), collapsed=("collapsed", "mean"))
            if per["value"].isna().all():
                continue
            cells += 1
            best = per["value"].idxmax()
            hit_any += bool(per.loc[best, "collapsed"] > 0)
            hit_most += bool(per.loc[best, "collapsed"] > 0.5)
            a = cell[cell["seed"].isin([0, 1])].groupby("combo")[metric].mean()
            b = cell[cell["seed"].isin([2, 3, 4])].groupby("combo")[metric].mean()
            both = a.index.intersection(b.index)
            if len(both) > 2 and a[both].nunique() > 1 and b[both].nunique() > 1:
                agreement.append(spearmanr(a[both], b[both]).statistic)
        lines.append(
            f"| {metric} | {cells} | {hit_any} | {hit_most} | "
            f"{np.mean(agreement):.3f} ({len(agreement)} cells) |"
        )
    return lines


def dataset_tables(wide: Any, sizes: list[int]) -> list[str]:
    out = []
    for dataset in sorted(wide["dataset"].unique()):
        sub = wide[wide["dataset"] == dataset]
        out += [
            f"### {dataset}",
            "",
            "macro-F1 / MCC / accuracy, mean over seeds; ⚠k: k seeds' predictions collapsed.",
            "",
            "| head | resampling | " + " | ".join(str(s) for s in sizes) + " |",
            "|---|---|" + "---|" * len(sizes),
        ]
        for method in sorted(sub["method"].unique()):
            for option in OPTIONS:
                part = sub[(sub["method"] == method) & (sub["resampling"] == option)]
                if part.empty:
                    continue
                cells = []
                for size in sizes:
                    rows = part[part["size"] == size]
                    if rows.empty:
                        cells.append("–")
                        continue
                    text = " / ".join(_f(rows[m].mean()) for m in METRICS)
                    k = int(rows["collapsed"].sum())
                    cells.append(text + (f" ⚠{k}" if k else ""))
                out.append(f"| {method} | {option} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="results store URL (default: the data home's)")
    parser.add_argument("--mirror", default=None, help="dataset mirror (for the class shares)")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/imbalance.md"))
    args = parser.parse_args()

    spec, wide = load_trials(args.db)
    sizes = sorted(int(s) for s in wide["size"].unique())
    text = [
        "# Class imbalance: resampling options per head",
        "",
        f"Generated by `python benchmarks/imbalance.py` on {dt.date.today().isoformat()}, "
        f"{_machine()}, commit {_commit()}, from {len(wide)} trials of "
        f"`benchmarks/imbalance.toml` (run with `littledata bench --spec "
        "benchmarks/imbalance.toml`): MiniLM features with each head and tf-idf + logreg; "
        f"sizes {', '.join(map(str, sizes))}; {len(spec.seeds)} seeds; train pool cap "
        f"{spec.train_pool_cap}, test cap {spec.test_cap}. Collapsed: one class for at least 95% "
        "of the test predictions while at least 10% of the test rows are of other classes "
        "(`littledata.experiments.collapse`).",
        "",
        "## Datasets",
        "",
        *dataset_table(spec, wide, args.mirror),
        "",
        "## Each option against `none`, paired (cells: dataset x size)",
        "",
        "A cell is won or lost when the mean paired difference over seeds is more than one "
        "standard error from zero. With 5 seeds a cell falls outside one standard error with "
        "probability about 0.37 by chance alone (about 0.19 each way).",
        "",
    ]
    paired, _ = paired_table(wide)
    text += paired
    text += [
        "",
        "## Mean rank of the three options within each cell (1 = best)",
        "",
        *rank_table(wide),
        "",
        "## Which metric should rank the benchmark",
        "",
        *primary_metric_table(wide),
        "",
        "## Mean over datasets, per head",
        "",
        *summary_tables(wide, sizes),
        "## Per dataset",
        "",
        *dataset_tables(wide, sizes),
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(text).rstrip() + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
