"""Active learning with a head that fine-tunes its encoder (`finetune`) beside frozen `logreg`.

    python benchmarks/active_tuned.py --dataset trec --pool-cap 500 --test-cap 500 --seeds 0,1

Both heads run the same simulated loop (:func:`littledata.active.loop.run_trial`) on the same
capped pool and test rows: margin sampling, ``--init`` random labels, then batches of
``--batch`` up to ``--budget``. Per labeled size it records the test accuracy, the fit time
(for `finetune`: loading the encoder and fine-tuning it; for `logreg`: the CV-tuned fit) and
the query time (for `finetune`: embedding the pool with the tuned encoder, then scoring). The
stop set is kept small (``--stop-set``): the stopping criterion is not what is measured, and
every stop-set row is embedded again each round with the tuned encoder. No reference head is
trained. Each run is one JSON line in ``benchmarks/results/active_tuned.jsonl``; the table is
printed as markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "active_tuned.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="trec")
    parser.add_argument("--featurizer", default="minilm")
    parser.add_argument("--heads", default="logreg,finetune")
    parser.add_argument("--pool-cap", type=int, default=500)
    parser.add_argument("--test-cap", type=int, default=500)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--init", type=int, default=12)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--budget", type=int, default=48)
    parser.add_argument("--stop-set", type=int, default=50)
    args = parser.parse_args()

    from littledata.active.loop import prepare_task, run_trial

    task = prepare_task(
        args.dataset, args.featurizer, pool_cap=args.pool_cap, test_cap=args.test_cap, texts=True
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for head in args.heads.split(","):
            res = run_trial(
                task, "margin", head=head, seed=seed, init=args.init, batch=args.batch,
                budget=args.budget, stop_set_size=args.stop_set,
            )  # fmt: skip
            row = {
                "dataset": args.dataset, "featurizer": args.featurizer, "head": head,
                "seed": seed, "pool": len(task.y_pool), "test": len(task.y_test),
                "labels": res.labels, "accuracy": res.accuracy,
                "fit_seconds": res.fit_seconds, "query_seconds": res.query_seconds,
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            }  # fmt: skip
            with RESULTS.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            rows.append(row)
            print(json.dumps(row), flush=True)
    sizes = " | ".join(f"acc. @{n}" for n in rows[0]["labels"])
    print(f"\n| head | seed | {sizes} | s/round |")
    print("|---|---|" + "---|" * (len(rows[0]["labels"]) + 1))
    for r in rows:
        # a round: refit on the labels so far, then the query (fit of size i, query of size i+1)
        per_round = np.mean(
            [f + q for f, q in zip(r["fit_seconds"][:-1], r["query_seconds"][1:], strict=True)]
        )
        accs = " | ".join(f"{a:.3f}" for a in r["accuracy"])
        print(f"| {r['head']} | {r['seed']} | {accs} | {per_round:.1f} |")


if __name__ == "__main__":
    main()
