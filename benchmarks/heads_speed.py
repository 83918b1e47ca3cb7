"""Fit times of the heads on one CPU thread, written to benchmarks/results/heads_speed.md.

    python benchmarks/heads_speed.py [--repeats 3] [--out benchmarks/results/heads_speed.md]
    python benchmarks/heads_speed.py --threads [--repeats 3]   # -> results/heads_threads.md

Features are synthetic but shaped like the real ones: "minilm-like" 384-d unit-norm rows (class
means plus noise, normalized), "glove-like" 50-d unnormalized rows, and "tfidf-like" sparse rows
(~20 non-zeros of 5000 columns, L2-normalized). Sizes 20 / 100 / 1000 training rows for 2 and 6
classes; 151 classes cannot have fewer rows than classes, so that row uses 151 / 302 / 1000.
Each cell is the median of ``--repeats`` fits. sklearn's ``LogisticRegressionCV`` (same grid and
folds) and ``LogisticRegression()`` run side by side for scale; compare ratios, not absolute
seconds, when the machine is busy (the load average is recorded).

``--threads`` measures what the heads' own thread limit (``blas_threads="auto"``) is worth: each
fit with the BLAS libraries' own thread count (``blas_threads=None``) against the default, the two
alternated, first as the machine is, then with a synthetic load (one busy-loop process per
logical CPU), all in one run.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

CLASSES = (2, 6, 151)
SIZES = {2: (20, 100, 1000), 6: (20, 100, 1000), 151: (151, 302, 1000)}


def features(kind: str, n: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    rng.shuffle(y)
    if kind == "tfidf-like":
        d = 5000
        topic = rng.integers(0, d, size=(k, 8))
        rows, cols = [], []
        for i, c in enumerate(y):
            words = np.r_[rng.choice(topic[c], 6), rng.integers(0, d, 14)]
            rows += [i] * len(words)
            cols += words.tolist()
        X = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, d))
        X.sum_duplicates()
        X.data = 1 + np.log(X.data)
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
        return sp.diags(1 / norms) @ X, y
    d = 384 if kind == "minilm-like" else 50
    means = rng.normal(size=(k, d))
    X = means[y] * 0.6 + rng.normal(size=(n, d))
    if kind == "minilm-like":
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    else:
        X *= 0.4
    return X.astype(np.float32), y


def time_fit(make, X, y, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        est = make()
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _spin() -> None:  # pragma: no cover - runs in a child process
    while True:
        pass


def _cpu_name() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return cpu


THREAD_CASES = (
    # (head, rows, classes, dims; minilm-like features): the first is the case that showed a
    # 20x slowdown of a direct fit on a busy machine
    ("logreg", 384, 6, 384),
    ("logreg", 1000, 151, 384),
    ("svm", 384, 6, 384),
    ("centroid", 384, 6, 384),
    ("knn", 384, 6, 384),
    ("logreg", 8000, 6, 384),
    ("logreg", 12000, 6, 384),
)


def _time_threads(repeats: int, log: list[str], condition: str) -> None:
    from littledata.heads import make_head
    from littledata.threads import auto_threads

    Xq, _ = features("minilm-like", 1000, 6, seed=1)
    for name, n, k, d in THREAD_CASES:
        X, y = features("minilm-like", n, k)
        make_head(name).fit(X, y).predict_proba(Xq)  # warm-up: imports, thread pools
        own: list[float] = []
        auto: list[float] = []
        # alternated, so both see the same load; fast cases repeat until each side has 1 s
        while len(own) < repeats or (min(sum(own), sum(auto)) < 1.0 and len(own) < 200):
            for threads, out in ((None, own), ("auto", auto)):
                est = make_head(name, blas_threads=threads)
                t = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est.fit(X, y).predict_proba(Xq)
                out.append(time.perf_counter() - t)
        a, b = statistics.median(own), statistics.median(auto)
        limit = auto_threads("auto", X)
        log.append(
            f"| {condition} | {name} | {n} x {d}, {k} classes | {limit or 'none'} | {len(own)} "
            f"| {a:.4f} | {b:.4f} | {a / b:.1f}x |"
        )
        print(log[-1], flush=True)


def threads_main(repeats: int) -> None:
    from threadpoolctl import threadpool_info

    from littledata.threads import AUTO_MAX_CELLS

    blas = [
        f"{p['internal_api']} {p.get('version')} ({p['num_threads']} threads)"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    ]
    cpus = os.cpu_count() or 1
    lines = [
        '# Heads\' thread limit: library threads vs `blas_threads="auto"`',
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- machine: {platform.node()} · {_cpu_name()} · {cpus} logical CPUs · load average "
        f"at start {os.getloadavg()[0]:.2f}",
        f"- BLAS: {'; '.join(blas) or 'none found'}; `AUTO_MAX_CELLS` = {AUTO_MAX_CELLS:,}",
        f"- command: `python benchmarks/heads_speed.py --threads --repeats {repeats}`",
        "- each timing: `fit` on the training rows, then `predict_proba` on 1000 rows "
        "(minilm-like features); median over the repeats (at least "
        f"{repeats}, more until each setting has run 1 s), the two settings alternated; "
        f"'loaded': {cpus} busy-loop processes (one per logical CPU) run during the timings",
        "",
        "| machine | head | training rows | auto limit | repeats | library threads s | auto s "
        "| ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    _time_threads(repeats, lines, "as it is")
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(cpus)]
    for proc in spinners:
        proc.start()
    try:
        time.sleep(1.0)
        _time_threads(repeats, lines, "loaded")
    finally:
        for proc in spinners:
            proc.terminate()
        for proc in spinners:
            proc.join()
    out = Path(__file__).parent / "results" / "heads_threads.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "heads_speed.md"))
    parser.add_argument("--skip-sklearn-cv", action="store_true", help="skip LogisticRegressionCV")
    parser.add_argument(
        "--threads", action="store_true", help="measure the heads' thread limit under load"
    )
    args = parser.parse_args()
    if args.threads:
        threads_main(args.repeats)
        return
    from threadpoolctl import threadpool_limits

    _limits = threadpool_limits(limits=1)  # one core, as a benchmark worker gets

    import torch
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

    from littledata.heads import make_head
    from littledata.heads.logreg import DEFAULT_CS

    torch.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpu = _cpu_name()
    lines = [
        "# Head fit times (one CPU thread)",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- machine: {platform.node()} · {cpu} · "
        f"{os.cpu_count()} logical CPUs · load average at start {load:.2f}",
        f"- python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}",
        "- command: `python benchmarks/heads_speed.py"
        f" --repeats {args.repeats}{' --skip-sklearn-cv' if args.skip_sklearn_cv else ''}`",
        f"- median of {args.repeats} fits per cell, seconds; synthetic features (see the script)",
        "",
    ]

    def sk_cv():
        return LogisticRegressionCV(
            Cs=list(DEFAULT_CS),
            cv=3,
            scoring="neg_log_loss",
            l1_ratios=(0.0,),
            use_legacy_attributes=False,
        )

    lines += [
        "## logreg (C by 3-fold inner CV) vs scikit-learn",
        "",
        "| features | classes | rows | logreg | LogisticRegressionCV (same grid, 3 folds) "
        "| LogisticRegression() | chosen C |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in ("minilm-like", "glove-like", "tfidf-like"):
        for k in CLASSES:
            for n in SIZES[k]:
                X, y = features(kind, n, k)
                ours = time_fit(lambda: make_head("logreg"), X, y, args.repeats)
                chosen = make_head("logreg").fit(X, y)
                cv_note = "" if chosen.cv_used_ else " (fallback)"
                if args.skip_sklearn_cv or (k == 151 and kind == "tfidf-like"):
                    skcv = "skipped"
                else:
                    try:
                        skcv = f"{time_fit(sk_cv, X, y, 1):.3f}"
                    except ValueError:  # it needs 3 rows in every class
                        skcv = "cannot (1 row/class)"
                default = time_fit(LogisticRegression, X, y, args.repeats)
                lines.append(
                    f"| {kind} | {k} | {n} | {ours:.3f} | {skcv} | {default:.3f} "
                    f"| {chosen.C_:g}{cv_note} |"
                )
                print(lines[-1], flush=True)

    lines += [
        "",
        "## other heads (minilm-like 384-d)",
        "",
        "| head | classes | rows | fit s | predict 1000 rows s |",
        "|---|---|---|---|---|",
    ]
    Xq, _ = features("minilm-like", 1000, 6, seed=1)
    for name in ("knn", "centroid", "mlp", "svm"):
        for k in CLASSES:
            for n in SIZES[k]:
                X, y = features("minilm-like", n, k)
                # svm with 151 classes takes tens of seconds per fit: timed once
                reps = 1 if (name == "svm" and k == 151) else args.repeats
                fit_s = time_fit(lambda name=name: make_head(name), X, y, reps)
                est = make_head(name).fit(X, y)
                t = time.perf_counter()
                est.predict_proba(Xq)
                pred_s = time.perf_counter() - t
                lines.append(f"| {name} | {k} | {n} | {fit_s:.3f} | {pred_s:.3f} |")
                print(lines[-1], flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
