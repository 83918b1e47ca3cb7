"""Sentence pairs, multi-label and entities: the tables of the spec `benchmarks/tasks.toml`.

Reads that spec's trials from a results store and writes `benchmarks/results/tasks.md`: per
dataset, the mean ± std over seeds of its task's metrics at each training size (rows for pairs
and multi-label, sentences for conll2003), per featurizer and head, the tf-idf baseline beside.

Usage (repository root, project venv active; the first command runs or resumes the trials)::

    littledata bench --spec benchmarks/tasks.toml --db sqlite:///tasks.sqlite --no-report
    python benchmarks/tasks.py --db sqlite:///tasks.sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "tasks.md"
METRICS = {
    "sentence-pair": ("macro_f1", "accuracy"),
    "multi-label": ("macro_f1", "micro_f1", "subset_accuracy", "average_precision"),
    "sequence-labeling": ("entity_f1", "entity_precision", "entity_recall"),
}


def tables(db: str) -> str:
    from littledata.experiments.results import aggregate
    from littledata.experiments.store import ResultsStore

    frame = ResultsStore(db).frame("bench")
    agg = aggregate(frame)
    tasks = frame.groupby("dataset")["task"].first().to_dict()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    lines = [
        "# Sentence pairs, multi-label and entities (`benchmarks/tasks.toml`)",
        "",
        f"Written by `benchmarks/tasks.py` on {dt.date.today()} at commit {commit} "
        f"({platform.machine()}, {platform.system()}; measured while other jobs shared the 2 "
        f"cores), from {frame['key'].nunique()} trials. Mean ± std over "
        f"{frame['seed'].nunique()} seeds; pools capped at 2000 rows (sentences), test sets at "
        "1000. Heads: logreg (one-vs-rest with tuned thresholds for multi-label), token-logreg "
        "for conll2003; tf-idf + logreg is the baseline.",
    ]
    for dataset in sorted(tasks):
        task = tasks[dataset]
        sub = agg[agg["dataset"] == dataset]
        sizes = sorted(sub["size"].unique())
        unit = "sentences" if task == "sequence-labeling" else "rows"
        lines += ["", f"## {dataset} ({task})", ""]
        for metric in METRICS[task]:
            lines += [
                f"{metric}, by training {unit}:",
                "",
                "| method | " + " | ".join(str(s) for s in sizes) + " |",
                "|---|" + "---|" * len(sizes),
            ]
            rows = sub[sub["metric"] == metric]
            for (fz, head), part in rows.groupby(["featurizer", "head"]):
                by_size = part.set_index("size")
                cells = [
                    f"{by_size.loc[s, 'mean']:.3f} ± {by_size.loc[s, 'std']:.3f}"
                    if s in by_size.index
                    else "–"
                    for s in sizes
                ]
                lines.append(f"| {fz} + {head} | " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    text = tables(args.db)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
