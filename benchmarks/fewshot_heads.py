"""Heads at 2-16 rows per class on registry train splits: `logreg` against its own variants,
`LogisticRegression()` and `centroid`, written to benchmarks/results/fewshot_heads.md.

    python benchmarks/fewshot_heads.py --featurizers minilm,glove50,tfidf [--seeds 10]

Never touches a test split. Per dataset, the train pool is the benchmark's (a seeded, stratified
2000-row sample of the train split, ``cap_indices(..., seed=0)``, so its features are the ones the
benchmark caches); for each size and seed, ``sample_train_indices(per_class=True)`` draws the
training rows from the pool and every other pool row is a dev row that scores them. Heads:

- ``logreg``: as shipped; ``logreg@prior``: no cross-validation, the prior C (scikit-learn's C=1
  on the raw features); ``logreg@C1``: no cross-validation, C = 1 on the scaled features (the
  fallback); ``logreg-default``: ``LogisticRegression()``; ``centroid``.

Per featurizer and size, the mean over datasets of the mean paired accuracy difference over seeds,
and how many datasets win / tie / lose by more than one standard error. ``--json`` keeps every fit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATASETS = (
    "trec,sst2,mr,subj,mpqa,snips,dbpedia14_subset,tweeteval_emotion,airline_sentiment,"
    "r8_reuters,uci_sentiment_sentences,tweeteval_stance,liar"
)
HEADS = {
    "logreg": ("logreg", {}),
    "logreg@prior": ("logreg", {"min_cv_rows": 10**9, "fallback_C": None}),
    "logreg@C1": ("logreg", {"min_cv_rows": 10**9, "fallback_C": 1.0}),
    "logreg-default": ("logreg-default", {}),
    "centroid": ("centroid", {}),
}
COMPARISONS = (
    ("logreg", "logreg-default"),
    ("centroid", "logreg"),
    ("logreg@prior", "logreg"),
    ("logreg@C1", "logreg"),
)


def collect(featurizer: str, datasets: list[str], sizes: list[int], seeds: int) -> list[dict]:
    from littledata import load_dataset
    from littledata.experiments.metrics import compute_metrics
    from littledata.experiments.sampling import cap_indices, sample_train_indices
    from littledata.features import featurize
    from littledata.heads import make_head

    rows = []
    for name in datasets:
        start = time.perf_counter()
        train = load_dataset(name).train
        y_all = np.asarray(train.labels)
        pool = np.arange(len(y_all))
        if len(y_all) > 2000:
            pool = np.sort(np.asarray(cap_indices(y_all, 2000, seed=0)))
        texts = [train.texts[i] for i in pool]
        y = y_all[pool]
        text_input = featurizer == "tfidf"
        if text_input:  # the head's own tf-idf pipeline, fitted on the training rows only
            X = np.array(texts, dtype=object)
        else:
            X = np.asarray(featurize(texts, featurizer))
        for per in sizes:
            for seed in range(seeds):
                idx = sample_train_indices(y, per, seed, per_class=True)
                dev = np.setdiff1d(np.arange(len(y)), idx)
                rec = {"dataset": name, "featurizer": featurizer, "per_class": per, "seed": seed}
                for label, (head, params) in HEADS.items():
                    kind = "text" if text_input else "dense"
                    model = make_head(head, input_kind=kind, random_state=seed, **params)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        model.fit(X[idx], y[idx])
                    m = compute_metrics(y[dev], model.predict_proba(X[dev]), model.classes_)
                    rec[label] = m["accuracy"]
                rows.append(rec)
        print(f"{featurizer} {name}: {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def summarize(rows: list[dict]) -> list[str]:
    import pandas as pd

    df = pd.DataFrame(rows)
    lines: list[str] = []
    for fz, d in df.groupby("featurizer", sort=False):
        lines += [
            "",
            f"## {fz}: {d.dataset.nunique()} datasets, {d.seed.nunique()} seeds",
            "",
            "Accuracy points: mean over datasets of the mean paired difference over seeds "
            "(datasets win / tie / lose by more than one standard error).",
            "",
            "| rows per class | logreg accuracy | "
            + " | ".join(f"{a} − {b}" for a, b in COMPARISONS)
            + " |",
            "|---" * (2 + len(COMPARISONS)) + "|",
        ]
        for per, dp in d.groupby("per_class"):
            cells = []
            for a, b in COMPARISONS:
                g = (dp[a] - dp[b]).groupby(dp.dataset)
                m, se = g.mean(), g.std(ddof=1) / np.sqrt(g.count())
                win, loss = int((m > se).sum()), int((m < -se).sum())
                cells.append(f"{100 * m.mean():+.2f} ({win}/{len(m) - win - loss}/{loss})")
            lines.append(f"| {per} | {100 * dp.logreg.mean():.1f} | " + " | ".join(cells) + " |")
        per_ds = (d.groupby(["dataset", "per_class"])[["centroid", "logreg"]].mean() * 100).round(1)
        diff = (per_ds.centroid - per_ds.logreg).unstack()
        lines += ["", f"centroid − logreg per dataset ({fz}), accuracy points:", ""]
        lines += ["| dataset | " + " | ".join(str(c) for c in diff.columns) + " |"]
        lines += ["|---" * (1 + len(diff.columns)) + "|"]
        for ds, r in diff.iterrows():
            lines.append(f"| {ds} | " + " | ".join(f"{v:+.1f}" for v in r) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--featurizers", default="minilm,glove50,tfidf")
    parser.add_argument("--datasets", default=DATASETS)
    parser.add_argument("--sizes", default="2,3,4,6,8,12,16")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--json", default=None, help="also write every fit's accuracies here")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/fewshot_heads.md"))
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    _limits = threadpool_limits(limits=1)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[dict] = []
    for fz in args.featurizers.split(","):
        rows += collect(fz, args.datasets.split(","), sizes, args.seeds)
        if args.json:
            Path(args.json).write_text(json.dumps(rows), encoding="utf-8")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    lines = [
        "# Heads at 2-16 rows per class (registry train splits, dev rows from train)",
        "",
        f"- date: {dt.date.today()}, commit {commit}, {cpu}, {os.cpu_count()} CPUs",
        f"- command: `python benchmarks/fewshot_heads.py --featurizers {args.featurizers} "
        f"--seeds {args.seeds} --sizes {args.sizes}`",
        f"- datasets: {args.datasets.replace(',', ', ')}",
        *summarize(rows),
    ]
    out = Path(args.out)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
