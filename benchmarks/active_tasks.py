"""Active learning beyond single-label data: multi-label (and sequence labeling, where supported).

For each dataset the pool is a seeded sample of its train split (``--pool-cap``) and the test
set a seeded sample of its test split (``--test-cap``); each strategy variant runs ``--seeds``
seeded loops (``littledata.active.loop.run_trial``: ``--init`` random labels, batches of
``--batch``, up to ``--budget``), the same pool, test set and initial labels for every variant.
A run is scored after every batch by the task's primary metric (multi-label: macro-F1 over the
labels with the model's tuned thresholds; sequence labeling: entity F1, labels counted in
sentences). The variants (:data:`VARIANTS`) are ``random`` and uncertainty strategies with each
aggregation over an example's distributions (multi-label: the mean or the minimum per-label
margin to the tuned threshold; sequence labeling: the mean or the minimum token margin).

Reports per variant: the AULC of the primary metric (mean ± std over seeds), the metric at a few
label counts and at the budget, and the median seconds per round (refit + query). Writes
``benchmarks/results/active_tasks.md`` and prints it.

Examples (the runs recorded in BENCHMARKS.md)::

    python benchmarks/active_tasks.py --datasets goemotions-ekman --featurizer glove50 \
        --strategies random "margin, mean" "margin, min" "entropy, mean" "entropy, max"
    python benchmarks/active_tasks.py --datasets conll2003 --featurizer glove50 \
        --head token-logreg --test-cap 500 --out benchmarks/results/active_tasks_ner.md
    (and with --batch 40 --budget 820 --out benchmarks/results/active_tasks_ner_820.md)
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("random", {}),
    "margin, mean": ("margin", {"aggregate": "mean"}),
    "margin, min": ("margin", {"aggregate": "max"}),
    "entropy, mean": ("entropy", {"aggregate": "mean"}),
    "entropy, max": ("entropy", {"aggregate": "max"}),
}
"""Strategy variants by name: "mean" averages the scores of an example's distributions (its
labels, or its words), "min" takes its smallest margin (aggregate="max": the most uncertain)."""


def run(args: argparse.Namespace) -> str:
    from littledata.active.curves import aulc
    from littledata.active.loop import prepare_task, run_trial
    from littledata.progress import bar
    from littledata.tasks import get_task_type

    lines = [
        "# Active learning on multi-label and sequence-labeling data",
        "",
        f"{dt.date.today().isoformat()}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; measured while other jobs shared the 2 cores.",
        "",
        f"Command: `python benchmarks/active_tasks.py {shlex.join(sys.argv[1:])}`",
        "",
    ]
    variants = {k: v for k, v in VARIANTS.items() if k in args.strategies}
    for name in args.datasets:
        task = prepare_task(
            name, args.featurizer, pool_cap=args.pool_cap, test_cap=args.test_cap, cap_seed=0
        )
        rows = []
        with bar(total=len(variants) * args.seeds, desc=name, unit="run") as pbar:
            for label, (strategy, params) in variants.items():
                curves, rounds, metric = [], [], ""
                for seed in range(args.seeds):
                    res = run_trial(
                        task, strategy, head=args.head, strategy_params=params, seed=seed,
                        init=args.init, batch=args.batch, budget=args.budget,
                        stop_set_size=args.stop_set,
                    )  # fmt: skip
                    metric = res.metric
                    curves.append((res.labels, res.curve, res.scores))
                    pairs = zip(res.fit_seconds[:-1], res.query_seconds[1:], strict=True)
                    rounds += [f + q for f, q in pairs]
                    pbar.update(1)
                rows.append((label, metric, curves, rounds))
        xs = curves[0][0]
        unit = get_task_type(str(task.info.get("task"))).unit
        marks = [x for x in xs if x in (args.init, 100, 200, 400, args.budget)]
        lines += [
            f"## {name}",
            "",
            f"{args.featurizer} features, head {args.head}, pool {len(task.y_pool)} of "
            f"{task.info.get('train_split_size')} train {unit}, test {len(task.y_test)} {unit}, "
            f"{args.seeds} seeds, {args.init} random initial labels, batches of {args.batch}, "
            f"budget {args.budget}. Metric: {rows[0][1]} (mean over seeds).",
            "",
            "| strategy | AULC | " + " | ".join(f"at {x}" for x in marks) + " | s / round |",
            "|---|---|" + "---|" * len(marks) + "---|",
        ]
        for label, _metric, runs, rounds in rows:
            au = [aulc(x, y) for x, y, _ in runs]
            at = [np.mean([y[x_.index(m)] for x_, y, _ in runs]) for m in marks]
            sec = statistics.median(rounds) if rounds else float("nan")
            lines.append(
                f"| {label} | {np.mean(au):.3f} ± {np.std(au):.3f} | "
                + " | ".join(f"{v:.3f}" for v in at)
                + f" | {sec:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["goemotions-ekman"])
    parser.add_argument("--featurizer", default="glove50")
    parser.add_argument("--head", default="logreg")
    parser.add_argument(
        "--strategies", nargs="+", default=["random", "margin, mean", "margin, min"],
        help=f"variants among: {', '.join(VARIANTS)}",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--init", type=int, default=20)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--pool-cap", type=int, default=2000)
    parser.add_argument("--test-cap", type=int, default=1000)
    parser.add_argument("--stop-set", type=int, default=300)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "active_tasks.md"))
    args = parser.parse_args()
    start = time.perf_counter()
    text = run(args)
    text += f"\nTotal: {time.perf_counter() - start:.0f} s wall.\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
