"""littledata's `logreg` head versus scikit-learn's `LogisticRegression()` at default settings.

Runs (or reuses) benchmark trials of the heads `logreg` and `logreg-default` on the same features,
training rows and test rows (default spec: every single-label dataset, minilm / glove50 / tfidf,
sizes 20..1000, 5 seeds, the default caps), then compares them pair by pair
(:func:`littledata.experiments.results.compare_heads`): per dataset, featurizer and size, the mean
paired difference over seeds and its standard error; "loss" means `logreg` is worse by more than
one standard error, "win" better by more than one, "tie" otherwise.

Usage (from the repository root, project venv active)::

    python benchmarks/logreg_vs_default.py --mirror ../shared/datasets
    python benchmarks/logreg_vs_default.py --datasets sst2,trec --seeds 3   # a smaller grid

Trials already in the results store (e.g. `logreg` trials of a `littledata bench` run with the
same data home) are reused, so after `littledata bench` only the `logreg-default` trials run.
Writes benchmarks/results/logreg_vs_default.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
METRICS = ("accuracy", "log_loss")


def _machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import os

    return f"{cpu}, {len(os.sched_getaffinity(0))} cores"


def _p_loss(n: int, k: float = 1.0) -> float:
    """P(mean paired difference < -k SE) with n pairs when the true difference is zero."""
    from scipy.stats import t

    return float(t.cdf(-k, n - 1)) if n > 1 else 0.0


def _chance_losses(table, k: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    return float(sum(_p_loss(int(n), k) for n in table["n"]))


def _counts(table) -> str:  # type: ignore[no-untyped-def]
    c = table["verdict"].value_counts()
    return f"{c.get('win', 0)} / {c.get('tie', 0)} / {c.get('loss', 0)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--db", default=None, help="results store URL (default: the data home's)")
    parser.add_argument("--datasets", default=None, help="comma-separated (default: the spec's)")
    parser.add_argument("--featurizers", default="minilm,glove50,tfidf")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/logreg_vs_default.md"))
    args = parser.parse_args()

    from littledata import progress
    from littledata.experiments.results import compare_heads
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    overrides: dict[str, object] = {
        "heads": ["logreg", "logreg-default"],
        "featurizers": args.featurizers.split(","),
        "baseline": False,
        "n_jobs": args.jobs,
        # The two fitters on the same rows: no imbalance handling for either (logreg's default
        # is class_weight, logreg-default's none; paired trials must share the option).
        "resampling": ["none"],
    }
    if args.datasets:
        overrides["datasets"] = args.datasets.split(",")
    if args.seeds:
        overrides["seeds"] = args.seeds
    spec = load_spec(overrides=overrides)
    store = ResultsStore(args.db)
    t0 = time.perf_counter()
    with progress.show_progress():
        summary = run_benchmark(spec, store=store, mirror=args.mirror)
    seconds = time.perf_counter() - t0

    frame = store.frame(
        "bench",
        head=["logreg", "logreg-default"],
        featurizer=list(spec.featurizers),
        dataset=list(summary.datasets),
        train_pool_cap=spec.train_pool_cap,
        test_cap=spec.test_cap,
        seed=list(spec.seeds),
    )
    lines = [
        "# `logreg` vs scikit-learn `LogisticRegression()` defaults",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {_machine()}",
        "- command: `python benchmarks/logreg_vs_default.py` "
        f"(this run: {summary.run} trials run, {summary.already_stored} reused, {seconds:.0f} s)",
        f"- grid: {len(summary.datasets)} datasets × {', '.join(spec.featurizers)} × sizes "
        f"{', '.join(map(str, spec.sizes))} × {len(spec.seeds)} seeds; train pool cap "
        f"{spec.train_pool_cap}, test cap {spec.test_cap}",
        "- per dataset, featurizer and size: mean over seeds of the paired difference "
        "(`logreg` minus default; for log loss, default minus `logreg`, so positive always means "
        "`logreg` is better) and its standard error; **loss** = worse by more than one standard "
        "error, **win** = better by more than one, else **tie**",
        "",
    ]
    n_seeds = len(spec.seeds)
    for metric in METRICS:
        table = compare_heads(frame, "logreg", "logreg-default", metric=metric)
        lines += [
            f"## {metric}: win / tie / loss over datasets",
            "",
            "| featurizer | " + " | ".join(f"n={s}" for s in spec.sizes) + " | all sizes | "
            "mean diff | losses expected by chance | losses by > 2 SE (expected) |",
            "|---|" + "---|" * (len(spec.sizes) + 4),
        ]
        for fname, part in table.groupby("featurizer"):
            cells = [_counts(part[part["size"] == s]) for s in spec.sizes]
            beyond2 = int((part["diff"] < -2 * part["sem"].fillna(0.0)).sum())
            lines.append(
                f"| {fname} | " + " | ".join(cells) + f" | {_counts(part)} | "
                f"{part['diff'].mean():+.4f} | {_chance_losses(part):.1f} | {beyond2} "
                f"({_chance_losses(part, 2.0):.1f}) |"
            )
        lines += [
            "",
            "*losses expected by chance*: if `logreg` and the default were equally good, a cell's "
            "mean paired difference would still fall more than one standard error below zero "
            f"with probability P(t < -1) for Student's t with n - 1 degrees of freedom ({n_seeds} "
            f"seeds: {_p_loss(n_seeds):.3f}; by more than two: {_p_loss(n_seeds, 2.0):.3f}); the "
            "columns sum those probabilities over the cells. About as many observed losses as "
            "expected is what noise alone gives; many more point to real losses.",
        ]
        losses = table[table["verdict"] == "loss"].sort_values("diff")
        lines += ["", f"Cells where `logreg` loses on {metric} ({len(losses)}):", ""]
        if len(losses):
            lines += [
                "| dataset | featurizer | size | logreg | default | diff ± sem |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {r.dataset} | {r.featurizer} | {r.size} | {r.mean_head:.4f} | "
                f"{r.mean_baseline:.4f} | {r.diff:+.4f} ± {r.sem:.4f} |"
                for r in losses.itertuples()
            ]
        else:
            lines.append("none")
        lines.append("")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
