"""How honest is `littledata bench`'s time estimate? The plan and the live ETA vs the run.

Runs a benchmark spec (default: the quick spec) in a data home of its own and reports:

1. the cost model's estimate from the plan (features, trials, total) against the measured time
   of each, as ratios (estimate / measured);
2. the live ETA the progress display showed when 10%, 25% and 50% of the estimated work was done,
   as the finish it predicted (elapsed + ETA) against the actual finish: the error in percent
   (the target is within ±30% from 25% on).

The run records how its ETA moved (``RunSummary.progress``); this script reads it. ``--home``
names the data home: an empty one measures a first run on this machine (the cost model's
defaults; every feature computed), one kept from an earlier run measures a calibrated run
(``cost_model.json`` there holds this machine's measured speeds). Writes
``benchmarks/results/eta.md`` and prints it.

``--spec`` is a packaged spec (``quick``, ``default``) or a spec file; ``--cold`` refuses a data
home that holds anything already, so the figures are those of a first run on this machine (no
feature cache, no stored trials, the cost model's defaults).

Examples
--------
::

    python benchmarks/eta.py --home /tmp/eta-home --mirror ../shared/datasets
    python benchmarks/eta.py --home /tmp/eta-home --mirror ../shared/datasets datasets=trec,sst2
    # the full default benchmark, cold (about half an hour on 2 cores):
    python benchmarks/eta.py --spec default --cold --home /tmp/eta-default \
        --mirror ../shared/datasets --out benchmarks/results/eta-default.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "results" / "eta.md"


def eta_at(progress: list[dict[str, Any]], fraction: float) -> tuple[float, float] | None:
    """``(elapsed, predicted finish)`` at the first point with at least ``fraction`` done."""
    for point in progress:
        if point["fraction"] >= fraction and point["eta"] is not None:
            return point["elapsed"], point["elapsed"] + point["eta"]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="spec overrides KEY=VALUE")
    parser.add_argument(
        "--spec", default="quick", help="packaged spec (quick, default) or a spec file"
    )
    parser.add_argument("--home", required=True, help="the data home to run in")
    parser.add_argument(
        "--cold", action="store_true", help="refuse a data home that is not empty (a first run)"
    )
    parser.add_argument("--mirror", default=os.environ.get("LITTLEDATA_MIRROR"))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    home = Path(args.home).resolve()
    held = sorted(p.name for p in home.iterdir()) if home.is_dir() else []
    if args.cold and held:
        parser.error(f"--cold: {home} is not empty ({', '.join(held[:5])}); name a new folder")
    os.environ["LITTLEDATA_HOME"] = str(home)

    from littledata import progress
    from littledata.experiments.estimate import CostModel
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec, parse_overrides
    from littledata.experiments.store import ResultsStore

    calibrated = sorted(CostModel.load().rates)
    overrides = parse_overrides(args.overrides)
    if Path(args.spec).suffix == ".toml":
        spec = load_spec(args.spec, overrides=overrides)
    else:
        spec = load_spec(overrides=overrides, packaged=args.spec)
    plans: list[Any] = []
    with progress.show_progress(plain=True):
        summary = run_benchmark(
            spec, store=ResultsStore(), mirror=args.mirror, on_plan=plans.append
        )
    (plan,) = plans
    total = summary.total_seconds
    # the display starts after loading the datasets: its clock is the run's minus that part
    offset = total - (summary.progress[-1]["elapsed"] if summary.progress else 0.0)
    lines = [
        f"# `littledata bench` time estimate vs measured ({dt.date.today():%Y-%m-%d})",
        "",
        f"Command: `python benchmarks/eta.py {shlex.join(sys.argv[1:])}`; spec `{spec.name}` "
        f"({summary.planned} trials, {len(summary.datasets)} datasets, {summary.workers} "
        f"workers). Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}. Data home at the start: "
        f"{'empty (a cold run)' if not held else 'held ' + ', '.join(held)}. Cost model "
        f"calibrated before the run for: {', '.join(calibrated) or 'nothing (defaults)'}.",
        "",
        "| part | plan's estimate (s) | measured (s) | estimate / measured |",
        "|---|---:|---:|---:|",
    ]
    for name, est, real in (
        ("features", plan.feature_seconds, summary.feature_seconds),
        ("trials", plan.trial_seconds, summary.trial_seconds),
        ("whole run", plan.seconds, total),
    ):
        ratio = f"{est / real:.2f}" if real > 0 else "–"
        lines.append(f"| {name} | {est:.0f} | {real:.0f} | {ratio} |")
    lines += [
        "",
        "| work done | elapsed (s) | finish predicted then (s) | actual finish (s) | error |",
        "|---:|---:|---:|---:|---:|",
    ]
    for fraction in (0.10, 0.25, 0.50, 0.75):
        point = eta_at(summary.progress, fraction)
        if point is None:
            continue
        elapsed, finish = point[0] + offset, point[1] + offset
        error = 100 * (finish / total - 1)
        lines.append(
            f"| {fraction:.0%} | {elapsed:.0f} | {finish:.0f} | {total:.0f} | {error:+.0f}% |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    Path(args.out).with_suffix(".json").write_text(
        json.dumps({"plan": summary.plan, "progress": summary.progress, "total": total}),
        encoding="utf-8",
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
