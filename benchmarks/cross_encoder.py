"""Cross-encoder vs pair features on sentence pairs (msrp, rte, sick).

    python benchmarks/cross_encoder.py run --sizes 100,500 --seeds 3 --threads 1
    python benchmarks/cross_encoder.py report   # writes benchmarks/results/cross_encoder.md

The data are prepared as the benchmark grid prepares them for `benchmarks/tasks.toml`
(`prepare_dataset`: pools capped at 2000 pairs, test sets at 1000, cap seed 0), and every trial
is the grid's own `run_trial` on the sentence-pair task: the same seeded training pairs for both
methods, scored on the same test pairs. Methods: minilm pair features ``[u, v, |u - v|, u * v]``
+ `logreg` (features from the cache) and the minilm `cross-encoder` head (``threads`` torch
threads: the grid's spec has no head parameters, and on a machine whose cores other jobs keep
busy one thread is several times faster than two, see docs/finetuning.md). Each trial is one
JSON line appended to `benchmarks/results/cross_encoder.jsonl` as soon as it ends (a trial
already there is skipped, so an interrupted run resumes); the loop runs every dataset (in the
order of ``--datasets``) and size for one seed before the next seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "cross_encoder.md"
JSONL = REPO / "benchmarks" / "results" / "cross_encoder.jsonl"
DATASETS = "msrp,rte,sick"


def _done() -> set[tuple[str, int, int, str]]:
    if not JSONL.exists():
        return set()
    rows = [json.loads(line) for line in JSONL.read_text().splitlines() if line.strip()]
    return {(r["dataset"], r["size"], r["seed"], r["head"]) for r in rows}


def run(args: argparse.Namespace) -> None:
    import torch

    from littledata import load_dataset
    from littledata.experiments.prepare import prepare_dataset
    from littledata.experiments.spec import load_spec
    from littledata.experiments.trials import run_trial
    from littledata.features import featurize, get_featurizer
    from littledata.tasks import get_task_type

    torch.set_num_threads(args.threads)
    spec = load_spec(overrides={"train_pool_cap": 2000, "test_cap": args.test_cap, "cap_seed": 0})
    task = get_task_type("sentence-pair")
    fz = get_featurizer("minilm")
    data = {}
    for name in args.datasets.split(","):
        prep = prepare_dataset(name, spec, load_dataset)
        x_pool = task.combine([np.asarray(featurize(side, fz)) for side in prep.pool_sides])
        x_test = task.combine([np.asarray(featurize(side, fz)) for side in prep.test_sides])
        data[name] = (prep, x_pool, x_test)
    variant = {
        key: json.loads(value)
        for key, value in (item.split("=", 1) for item in args.variant.split(",") if item)
    }
    method = f"cross-encoder[{args.variant}]" if variant else "cross-encoder"
    done = _done()
    for seed in range(args.seeds):
        for size in (int(s) for s in args.sizes.split(",")):
            for name, (prep, x_pool, x_test) in data.items():
                for head in ("logreg", method):
                    if (name, size, seed, head) in done:
                        continue
                    if head == "logreg":
                        inputs = {"x_pool": x_pool, "x_test": x_test, "input_kind": "dense"}
                        params = None
                    else:
                        inputs = {
                            "x_pool": prep.pool_examples,
                            "x_test": prep.test_examples,
                            "input_kind": "text",
                        }
                        params = {"encoder": "minilm", "threads": args.threads, **variant}
                    values = run_trial(
                        inputs["x_pool"], prep.y_pool, inputs["x_test"], prep.y_test,
                        head=head.split("[")[0], head_params=params,
                        input_kind=inputs["input_kind"],
                        size=size, seed=seed, resampling="default", task="sentence-pair",
                    )  # fmt: skip
                    row = {
                        "dataset": name, "size": size, "seed": seed, "head": head,
                        "threads": args.threads, "n_test": len(prep.y_test),
                        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        "load_average": os.getloadavg()[0], **values,
                    }  # fmt: skip
                    with JSONL.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(name, size, seed, head, f"macro_f1={values['macro_f1']:.3f}",
                          f"seconds={values['trial_seconds']:.1f}", flush=True)  # fmt: skip


def _cell(values: np.ndarray, digits: int = 3) -> str:
    if len(values) == 0:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def tables() -> str:
    import pandas as pd

    wide = pd.read_json(JSONL, lines=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    tests = ", ".join(f"{d} {n}" for d, n in wide.groupby("dataset")["n_test"].max().items())
    lines = [
        "# Cross-encoder vs pair features on sentence pairs (`benchmarks/cross_encoder.py`)",
        "",
        f"Written by `benchmarks/cross_encoder.py` on {dt.date.today()} at commit {commit} "
        f"({platform.machine()}, {platform.system()}; measured while other jobs shared the 2 "
        f"cores, load average {wide['load_average'].min():.0f}-{wide['load_average'].max():.0f}), "
        f"from {len(wide)} trials, torch threads {sorted(wide['threads'].unique().tolist())}. "
        f"minilm; pools capped at 2000 pairs, test pairs per dataset {tests}. Mean ± std "
        "over the seeds run (n); gain: cross-encoder minus logreg per seed, mean ± standard "
        "error. Seconds: the whole trial (fit and prediction of the test pairs; the pair "
        "features of logreg come from the feature cache).",
        "",
        "| dataset | pairs | head | n | accuracy | macro-F1 | seconds per trial | fit seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    gains = [
        "",
        "| dataset | pairs | method | seeds paired | accuracy gain | macro-F1 gain |",
        "|---|---|---|---|---|---|",
    ]
    for (dataset, size), part in wide.groupby(["dataset", "size"]):
        methods = ["logreg", *sorted(set(part["head"]) - {"logreg"})]
        for head in methods:
            rows = part[part["head"] == head]
            if rows.empty:
                continue
            lines.append(
                f"| {dataset} | {size} | {head} | {len(rows)} | "
                f"{_cell(rows['accuracy'].to_numpy())} | {_cell(rows['macro_f1'].to_numpy())} | "
                f"{_cell(rows['trial_seconds'].to_numpy(), 1)} | "
                f"{_cell(rows['fit_seconds'].to_numpy(), 1)} |"
            )
        paired = part.pivot_table(index="seed", columns="head", values=["accuracy", "macro_f1"])
        for head in methods[1:]:
            both = paired.loc[
                :, [(m, h) for m in ("accuracy", "macro_f1") for h in ("logreg", head)]
            ]
            both = both.dropna()
            if both.empty:
                continue
            cells = []
            for metric in ("accuracy", "macro_f1"):
                diff = (both[(metric, head)] - both[(metric, "logreg")]).to_numpy()
                se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
                cells.append(f"{diff.mean():+.3f}" + (f" ± {se:.3f}" if len(diff) > 1 else ""))
            gains.append(f"| {dataset} | {size} | {head} | {len(both)} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines + gains) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--datasets", default=DATASETS)
    r.add_argument("--sizes", default="100,500")
    r.add_argument("--seeds", type=int, default=3)
    r.add_argument("--test-cap", type=int, default=1000)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument(
        "--variant",
        default="",
        help="cross-encoder parameters as KEY=JSON,... (e.g. gradual_unfreezing=false); its "
        "trials are recorded as cross-encoder[KEY=JSON,...]",
    )
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command == "run":
        run(args)
        return
    text = tables()
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
