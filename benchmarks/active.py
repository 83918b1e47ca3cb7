"""Active-learning benchmark: label efficiency on shared datasets, and the speed of one query.

Part 1, label efficiency. For every dataset, ``littledata.active.simulate.simulate`` runs each
strategy with several seeds (init 20 random labels, batches of 10, budget 500 by default) and
stores the curves in the results store (runs already stored are reused, so an interrupted run
resumes). For every dataset the script reports whether the best uncertainty, disagreement or
hybrid strategy reaches random sampling's accuracy at the budget (seed-averaged) with at most half
the budget, and where it does not.

Part 2, speed. On a 20,000-example pool (a dataset's splits pooled and capped) with 500 labeled
rows, it times choosing the next batch of 10 per strategy, including refitting the head on the
500 labels: the median of ``--repeats`` runs, measured side by side in one process. The target
is at most 1 second for the uncertainty strategies.

Writes ``benchmarks/results/active.md`` (machine, date, versions, the command) and prints it.

Examples
--------
Quick check while developing (one small dataset, glove50 features, few seeds)::

    python benchmarks/active.py --quick

The full run (minilm features; see docs/active-learning.md for the time it takes)::

    python benchmarks/active.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = (
    "sst2",
    "subj",
    "trec",
    "clinc150",
    "snips",
    "dbpedia14_subset",
    "sms_spam",
    "r8_reuters",
)
LOW_BUDGET_STRATEGIES = ("typiclust-margin", "typiclust")
"""Strategies that cluster the whole pool; their one-off k-means is timed on its own."""


def _default_strategies() -> tuple[str, ...]:
    """Every strategy that ranks a labeled pool (the registry's ranking categories, what the
    command line's ``all`` means) except ``typiclust``, which this benchmark simulates only as
    typiclust-margin's first phase and times in the speed section (LOW_BUDGET_STRATEGIES)."""
    from littledata.active.strategies import strategy_names

    return tuple(s for s in strategy_names() if s != "typiclust")


DEFAULT_STRATEGIES = _default_strategies()
SPEED_STRATEGIES = (*DEFAULT_STRATEGIES, "cold-start")
CANDIDATE_CATEGORIES = ("uncertainty", "disagreement", "hybrid")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_lines() -> list[str]:
    """Machine, date and library versions, for the header of the results."""
    from littledata.versions import library_versions

    versions = library_versions()
    keep = ("littledata", "numpy", "scikit-learn", "torch", "sentence-transformers")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {_cpu_name()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"- load average at start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)",
        "- versions: " + ", ".join(f"{k} {versions[k]}" for k in keep if k in versions),
    ]


# -- part 1: label efficiency ---------------------------------------------------------------------


def _simulate_one(name: str, args: argparse.Namespace) -> tuple[Any, float]:
    """Simulate every strategy and seed on one dataset (in this process or a worker)."""
    from littledata.active.simulate import simulate
    from littledata.experiments.store import ResultsStore
    from littledata.progress import show_progress

    start = time.perf_counter()
    with show_progress(not args.no_progress):
        res = simulate(
            name,
            args.strategies,
            featurizer=args.featurizer,
            head=args.head,
            init=args.init,
            batch=args.batch,
            budget=args.budget,
            seeds=args.seeds,
            pool_cap=args.pool_cap,
            test_cap=args.test_cap,
            store=ResultsStore(args.db),
            threads=args.threads,
        )
    return res, time.perf_counter() - start


def run_simulations(args: argparse.Namespace) -> dict[str, tuple[Any, float]]:
    """Every dataset's simulation; with ``--jobs N`` the features are computed first, one
    dataset at a time, then N datasets are simulated at once in worker processes."""
    if args.jobs <= 1:
        return {name: _simulate_one(name, args) for name in args.datasets}
    from concurrent.futures import ProcessPoolExecutor

    from littledata.active.simulate import prepare_task

    for name in args.datasets:  # fill the feature cache without two encoders at once
        prepare_task(name, args.featurizer, pool_cap=args.pool_cap, test_cap=args.test_cap)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {name: pool.submit(_simulate_one, name, args) for name in args.datasets}
        return {name: f.result() for name, f in futures.items()}


def _candidates_text(strategies: list[str]) -> str:
    """The strategies the verdict may pick, by category, e.g. "uncertainty, disagreement
    (committee) or hybrid (badge, cluster-margin)"."""
    from littledata.active.strategies import get_strategy

    parts = []
    for category in CANDIDATE_CATEGORIES:
        names = [s for s in strategies if get_strategy(s).category == category]
        if category == "uncertainty" or not names:
            parts.append(category)
        else:
            parts.append(f"{category} ({', '.join(names)})")
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def label_efficiency(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Run the simulations; return (verdict lines, detail lines) of markdown."""
    from littledata.active.simulate import learning_curves
    from littledata.active.strategies import get_strategy

    verdict = [
        "| dataset | classes | pool | random: acc. at budget | best uncertainty/hybrid "
        "| its labels to match random's acc. at budget | ≤ half the budget? |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    details: list[str] = []
    passed = total = 0
    results = run_simulations(args)
    for name in args.datasets:
        res, seconds = results[name]
        s = res.summary.set_index("strategy")
        curves = learning_curves(res.frame)
        n_classes = _n_classes(name)
        pool = int(res.frame["pool_size"].dropna().iloc[0]) if "pool_size" in res.frame else -1
        total += 1
        if "random" not in s.index:
            verdict.append(f"| {name} | {n_classes} | {pool} | (random not run) | | | |")
            continue
        target = float(s.loc["random", "accuracy_at_budget"])
        best_name, best_labels = "", math.inf
        for strategy in s.index:
            if get_strategy(strategy).category not in CANDIDATE_CATEGORIES:
                continue
            c = curves[curves["strategy"] == strategy].sort_values("x")
            hit = c[c["mean"] >= target]
            labels = float(hit["x"].iloc[0]) if len(hit) else math.inf
            if labels < best_labels or (labels == best_labels and not best_name):
                best_name, best_labels = strategy, labels
        ok = best_labels <= args.budget / 2
        passed += ok
        shown = "not reached" if math.isinf(best_labels) else f"{best_labels:.0f}"
        verdict.append(
            f"| {name} | {n_classes} | {pool:,} | {target:.3f} | {best_name or '–'} | {shown} "
            f"| {'yes' if ok else '**no**'} |"
        )
        details += [
            f"### {name}",
            "",
            f"{n_classes} classes, pool {pool:,} (train split, capped at {args.pool_cap:,}), "
            f"test {int(res.frame['test_size'].dropna().iloc[0]):,} rows; reference (head on the "
            f"whole training split, {res.reference_size or pool:,} rows): accuracy "
            f"{float(s['reference_accuracy'].iloc[0]):.3f}; "
            f"{res.ran} runs simulated, {res.skipped} reused from the store, {seconds:.0f} s.",
            "",
            "| strategy | AULC | acc. at budget | macro-F1 AULC | macro-F1 at budget "
            "| labels to 95% of reference | stop at (seeds) | acc. at stop "
            "| highest 3-round kappa | s / batch |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for strategy, r in s.sort_values("aulc", ascending=False).iterrows():
            l95 = "not reached" if math.isnan(r["labels_to_95"]) else f"{r['labels_to_95']:.0f}"
            stop = f"{r['stop_labels']:.0f} ({int(r['stopped'])}/{int(r['seeds'])})"
            if not r["stopped"]:
                stop = f"– (0/{int(r['seeds'])})"
            acc_stop = "–" if math.isnan(r["stop_accuracy"]) else f"{r['stop_accuracy']:.3f}"
            details.append(
                f"| {strategy} | {r['aulc']:.3f} ± {r['aulc_std']:.3f} "
                f"| {r['accuracy_at_budget']:.3f} ± {r['accuracy_at_budget_std']:.3f} "
                f"| {r['macro_f1_aulc']:.3f} | {r['macro_f1_at_budget']:.3f} | {l95} "
                f"| {stop} | {acc_stop} | {r['stop_signal_max']:.3f} "
                f"| {r['seconds_per_query']:.2f} |"
            )
        details.append("")
    verdict += [
        "",
        f"The best uncertainty/disagreement/hybrid strategy needs at most half the budget "
        f"({args.budget // 2} labels) to reach random sampling's accuracy at {args.budget} labels "
        f"on **{passed} of {total}** datasets.",
    ]
    return verdict, details


def _n_classes(name: str) -> int:
    from littledata.datasets.registry import get_spec

    return len(get_spec(name).label_names)


# -- part 2: speed ---------------------------------------------------------------------------------


def speed_pool(
    name: str, featurizer: str, size: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """All splits of a dataset pooled, then a seeded sample of ``size`` rows (features, labels)."""
    from littledata.active.data import load_active_dataset
    from littledata.features import featurize, get_featurizer

    ds = load_active_dataset(name)
    fz = get_featurizer(featurizer)
    X = np.vstack([np.asarray(featurize(split.texts, fz)) for split in ds.splits.values()])
    y = np.concatenate([np.asarray(split.labels) for split in ds.splits.values()])
    if len(y) < size:
        raise SystemExit(f"{name} has only {len(y)} examples, fewer than the {size}-row pool")
    rows = np.sort(np.random.default_rng(seed).choice(len(y), size=size, replace=False))
    return X[rows], y[rows]


def time_strategies(
    X: np.ndarray,
    y: np.ndarray,
    strategies: list[str],
    head: str,
    n_labeled: int,
    batch: int,
    repeats: int,
    threads: int | None = 1,
) -> dict[str, dict[str, float]]:
    """Median seconds to refit the head on ``n_labeled`` rows and choose ``batch`` more.

    ``fit`` is a typical round: the learner searched the head's C at 90% of the labels, so this
    fit reuses it (see ``ActiveLearner(retune_growth=...)``). ``fit_search`` is a round that
    searches C again (about every tenth round of 10 at 500 labels).
    """
    from littledata.active import ActiveLearner

    labeled = np.random.default_rng(0).choice(len(y), size=n_labeled, replace=False)
    earlier = labeled[: int(0.9 * n_labeled)]
    classes = list(range(int(y.max()) + 1))
    out: dict[str, dict[str, float]] = {}
    for name in strategies:
        fits, searches, queries = [], [], []
        for r in range(repeats + 1):  # the first repeat warms caches and is dropped
            learner = ActiveLearner(
                None, head, name, features=X, classes=classes, seed=r, threads=threads
            )
            learner.teach(earlier, y[earlier].tolist())
            learner.fit()  # the search at 90% of the labels
            learner.teach(labeled[len(earlier) :], y[labeled[len(earlier) :]].tolist())
            t0 = time.perf_counter()
            learner.fit()
            t1 = time.perf_counter()
            learner.query(batch)
            t2 = time.perf_counter()
            fresh = ActiveLearner(None, head, name, features=X, classes=classes, threads=threads)
            fresh.teach(labeled, y[labeled].tolist())
            t3 = time.perf_counter()
            fresh.fit()
            t4 = time.perf_counter()
            if r:
                fits.append(t1 - t0)
                queries.append(t2 - t1)
                searches.append(t4 - t3)
        out[name] = {
            "fit": statistics.median(fits),
            "query": statistics.median(queries),
            "total": statistics.median([f + q for f, q in zip(fits, queries, strict=True)]),
            "fit_search": statistics.median(searches),
            "total_search": statistics.median(
                [f + q for f, q in zip(searches, queries, strict=True)]
            ),
        }
    return out


def time_low_budget(
    X: np.ndarray,
    y: np.ndarray,
    strategies: Sequence[str],
    head: str,
    n_labeled: int,
    batch: int,
    repeats: int,
    threads: int | None = 1,
) -> dict[str, dict[str, float]]:
    """Median seconds of the strategies that cluster the whole pool: a session's first query
    at ``n_labeled`` labels (the head already fit; the k-means is in it) and the next round
    (refit plus query, the clustering reused)."""
    from littledata.active import ActiveLearner

    classes = list(range(int(y.max()) + 1))
    out: dict[str, dict[str, float]] = {}
    for name in strategies:
        firsts, nexts = [], []
        for r in range(repeats + 1):  # the first repeat warms caches and is dropped
            labeled = np.random.default_rng(r).choice(len(y), size=n_labeled, replace=False)
            learner = ActiveLearner(
                None, head, name, features=X, classes=classes, seed=r, threads=threads
            )
            learner.teach(labeled, y[labeled].tolist())
            learner.fit()
            t0 = time.perf_counter()
            picked = learner.query(batch)
            t1 = time.perf_counter()
            learner.teach(picked, y[picked].tolist())
            t2 = time.perf_counter()
            learner.fit()
            learner.query(batch)
            t3 = time.perf_counter()
            if r:
                firsts.append(t1 - t0)
                nexts.append(t3 - t2)
        out[name] = {"first": statistics.median(firsts), "next": statistics.median(nexts)}
    return out


def speed(args: argparse.Namespace) -> list[str]:
    from littledata.active.strategies import get_strategy

    lines = []
    for name in args.speed_datasets:
        X, y = speed_pool(name, args.featurizer, args.speed_pool)
        t = time_strategies(
            X,
            y,
            list(args.speed_strategies),
            args.head,
            args.speed_labeled,
            10,
            args.repeats,
            args.threads,
        )
        base = t.get("margin", {}).get("total", math.nan)
        lines += [
            f"### {name}: pool {len(y):,} × {X.shape[1]} features, {len(np.unique(y))} classes, "
            f"{args.speed_labeled} labeled, batch 10",
            "",
            "| strategy | kind | refit head (s) | query (s) | total (s) | × margin | ≤ 1 s? "
            "| refit with C search (s) | total with C search (s) |",
            "|---|---|---:|---:|---:|---:|---|---:|---:|",
        ]
        for strategy, v in sorted(t.items(), key=lambda kv: kv[1]["total"]):
            kind = get_strategy(strategy).category
            ok = "yes" if v["total"] <= 1.0 else "**no**"
            lines.append(
                f"| {strategy} | {kind} | {v['fit']:.3f} | {v['query']:.3f} | {v['total']:.3f} "
                f"| {v['total'] / base:.2f} | {ok} | {v['fit_search']:.3f} "
                f"| {v['total_search']:.3f} |"
            )
        slow = [s for s, v in t.items() if v["total"] > 1.0]
        slow_unc = [s for s in slow if get_strategy(s).category == "uncertainty"]
        lines += [
            "",
            f"Over 1 s: {', '.join(slow) if slow else 'none'}"
            + (f" (uncertainty strategies among them: {', '.join(slow_unc)})" if slow_unc else "")
            + ".",
            "",
        ]
        if args.low_budget_labeled:
            lt = time_low_budget(
                X,
                y,
                LOW_BUDGET_STRATEGIES,
                args.head,
                args.low_budget_labeled,
                10,
                args.repeats,
                args.threads,
            )
            lines += [
                f"Strategies that cluster the whole pool, at {args.low_budget_labeled} labels "
                f"(typiclust-margin is in its typical phase below 2 labels per class, here "
                f"{2 * (int(y.max()) + 1)} labels): a session's first query, k-means included "
                "(the head already fit), and the next round (refit and query, the clustering "
                "reused). Median of the same runs.",
                "",
                "| strategy | first query, k-means included (s) | next round (s) |",
                "|---|---:|---:|",
                *(f"| {name} | {v['first']:.2f} | {v['next']:.3f} |" for name, v in lt.items()),
                "",
            ]
    return lines


# -- main -----------------------------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", type=_csv, default=list(DEFAULT_DATASETS))
    p.add_argument("--strategies", type=_csv, default=list(DEFAULT_STRATEGIES))
    p.add_argument("--featurizer", default="minilm")
    p.add_argument("--head", default="logreg")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--init", type=int, default=20)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--budget", type=int, default=500)
    p.add_argument("--pool-cap", type=int, default=20000)
    p.add_argument("--test-cap", type=int, default=2000)
    p.add_argument("--speed-datasets", type=_csv, default=["clinc150", "davidson_hate"])
    p.add_argument("--speed-strategies", type=_csv, default=list(SPEED_STRATEGIES))
    p.add_argument("--speed-pool", type=int, default=20000)
    p.add_argument("--speed-labeled", type=int, default=500)
    p.add_argument(
        "--low-budget-labeled",
        type=int,
        default=100,
        help="labels for timing the strategies that cluster the pool (0: skip)",
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-efficiency", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads while fitting and querying (0: the libraries' default)",
    )
    p.add_argument(
        "--jobs", type=int, default=1, help="datasets simulated at once (worker processes)"
    )
    p.add_argument("--db", default=None, help="results store URL (default: the data home's)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "active.md")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--note", default="", help="a line for the header (e.g. what this run is)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="development check: sst2 only, glove50, 2 seeds, budget 100, speed on a 5,000 pool",
    )
    args = p.parse_args(argv)
    args.threads = args.threads or None
    if args.quick:
        args.datasets = ["sst2"] if args.datasets == list(DEFAULT_DATASETS) else args.datasets
        args.featurizer = "glove50" if args.featurizer == "minilm" else args.featurizer
        args.seeds, args.budget, args.init = min(args.seeds, 2), min(args.budget, 100), 10
        args.speed_datasets = (
            ["trec"] if args.speed_datasets[0] == "clinc150" else args.speed_datasets
        )
        args.speed_pool = min(args.speed_pool, 5000)
        args.repeats = min(args.repeats, 2)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cli_args = sys.argv[1:] if argv is None else argv
    header = [
        "# Active learning: label efficiency and query speed",
        "",
        *machine_lines(),
        f"- command: `python benchmarks/active.py {shlex.join(cli_args)}`",
        f"- features: {args.featurizer}; head: {args.head}; BLAS threads while fitting and "
        f"querying: {args.threads or 'library default'}; datasets at once: {args.jobs}",
        *([f"- note: {args.note}"] if args.note else []),
        "",
    ]
    started = time.perf_counter()
    body: list[str] = []
    if not args.skip_efficiency:
        verdict, details = label_efficiency(args)
        body += [
            "## Label efficiency",
            "",
            f"Settings: {args.init} random initial labels, batches of {args.batch}, budget "
            f"{args.budget}, seeds 0..{args.seeds - 1}, pool = train split capped at "
            f"{args.pool_cap:,} (seeded), test split capped at {args.test_cap:,} (seeded). "
            "Strategies: " + ", ".join(args.strategies) + ". 'Best uncertainty/hybrid' is "
            f"the {_candidates_text(args.strategies)} strategy whose seed-averaged curve first "
            "reaches random sampling's seed-averaged accuracy at the budget.",
            "",
            *verdict,
            "",
            "Per dataset (AULC: mean accuracy over the label range, trapezoid rule; labels "
            "to 95%: first point where the mean curve reaches 95% of the head trained on the "
            "whole training split; stop: where the stabilizing-predictions criterion fired, "
            "kappa ≥ 0.99 averaged over 3 rounds; s / batch: median seconds to refit and choose "
            "a batch during the simulation):",
            "",
            *details,
        ]
    if not args.skip_speed:
        body += [
            "## Speed: choosing the next batch",
            "",
            f"Median of {args.repeats} runs (after one warm-up) of refitting the {args.head} "
            f"head on {args.speed_labeled} labels plus choosing 10 examples from the rest of "
            f"the pool, all strategies measured side by side in this process (target: ≤ 1 s "
            "for the uncertainty strategies). Pool: all splits of the dataset pooled, then a "
            "seeded sample. 'refit head' is a typical round, which refits at the C the head "
            "chose by cross-validation at 90% of these labels; the last two columns are a round "
            "that searches C again (the learner does so once the labels grew by 25%: about "
            "every tenth round of 10 at 500 labels). The ≤ 1 s verdict is for the typical "
            "round.",
            "",
            *speed(args),
        ]
    body.append(f"Total time: {time.perf_counter() - started:.0f} s.")
    text = "\n".join(header + body) + "\n"
    from littledata.io import atomic_write_text

    atomic_write_text(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
